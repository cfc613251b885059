// Environment settings; see env.h.
#include "core/env.h"

#include <cstdlib>
#include <cstring>
#include <string>

namespace vecsqlite {
namespace {
// VECSQLITE_ARENA_POOL_MB: unset or empty keeps *mb; false for anything but a whole number
// of MiB up to 2^24.
bool pool_mb_from_env(size_t* mb) {
  const char* e = std::getenv("VECSQLITE_ARENA_POOL_MB");
  if (e == nullptr || *e == 0) return true;
  if (*e < '0' || *e > '9') return false;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(e, &end, 10);
  if (end == nullptr || *end != 0 || v > (1ull << 24)) return false;
  *mb = static_cast<size_t>(v);
  return true;
}
}  // namespace

const char* core_env_error() {
  static const std::string err = [] {
    size_t mb = 0;
    if (!pool_mb_from_env(&mb))
      return std::string("vecsqlite: VECSQLITE_ARENA_POOL_MB must be a whole number of MiB (0 turns the pool off), got '") +
             std::getenv("VECSQLITE_ARENA_POOL_MB") + "'";
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

bool env_sketch_enabled() {
  static const bool on = [] {
    const char* e = std::getenv("VECSQLITE_SKETCH");
    return !(e != nullptr && std::strcmp(e, "0") == 0);
  }();
  return on;
}

}  // namespace vecsqlite
