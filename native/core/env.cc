// Environment settings; see env.h.
#include "core/env.h"

#include <cstdlib>
#include <cstring>
#include <string>

namespace vecsqlite {
namespace {
// A whole-number setting up to 2^24: unset or empty keeps *out; false for anything else.
bool whole_from_env(const char* name, size_t* out) {
  const char* e = std::getenv(name);
  if (e == nullptr || *e == 0) return true;
  if (*e < '0' || *e > '9') return false;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(e, &end, 10);
  if (end == nullptr || *end != 0 || v > (1ull << 24)) return false;
  *out = static_cast<size_t>(v);
  return true;
}
// VECSQLITE_ARENA_POOL_MB, in MiB.
bool pool_mb_from_env(size_t* mb) { return whole_from_env("VECSQLITE_ARENA_POOL_MB", mb); }
}  // namespace

const char* core_env_error() {
  static const std::string err = [] {
    size_t mb = 0;
    if (!pool_mb_from_env(&mb))
      return std::string("vecsqlite: VECSQLITE_ARENA_POOL_MB must be a whole number of MiB (0 turns the pool off), got '") +
             std::getenv("VECSQLITE_ARENA_POOL_MB") + "'";
    size_t rows = 0;
    if (!whole_from_env("VECSQLITE_DEFER_ROWS", &rows))
      return std::string("vecsqlite: VECSQLITE_DEFER_ROWS must be a whole number of rows (0 never defers), got '") +
             std::getenv("VECSQLITE_DEFER_ROWS") + "'";
    const char* sk = std::getenv("VECSQLITE_SKETCH");
    if (sk != nullptr && std::strcmp(sk, "0") != 0 && std::strcmp(sk, "1") != 0)
      return std::string("vecsqlite: VECSQLITE_SKETCH must be 0 or 1, got '") + sk + "'";
    const char* sh = std::getenv("VECSQLITE_SHARED_CACHE");
    if (sh != nullptr && std::strcmp(sh, "0") != 0 && std::strcmp(sh, "1") != 0)
      return std::string("vecsqlite: VECSQLITE_SHARED_CACHE must be 0 or 1, got '") + sh + "'";
    return std::string();
  }();
  return err.empty() ? nullptr : err.c_str();
}

size_t env_pool_bytes() {
  static const size_t cap = [] {
    size_t mb = 1024;
    pool_mb_from_env(&mb);  // a bad value is refused at load (core_env_error)
    return mb << 20;
  }();
  return cap;
}

bool env_shared_cache_enabled() {
  static const bool on = [] {
    const char* e = std::getenv("VECSQLITE_SHARED_CACHE");
    return !(e != nullptr && std::strcmp(e, "0") == 0);
  }();
  return on;
}

size_t env_defer_rows() {
  static const size_t rows = [] {
    size_t n = 4096;
    whole_from_env("VECSQLITE_DEFER_ROWS", &n);  // a bad value is refused at load
    return n;
  }();
  return rows;
}

bool env_sketch_enabled() {
  static const bool on = [] {
    const char* e = std::getenv("VECSQLITE_SKETCH");
    return !(e != nullptr && std::strcmp(e, "0") == 0);
  }();
  return on;
}

}  // namespace vecsqlite
