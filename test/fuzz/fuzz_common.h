// Shared helpers of the libFuzzer targets: an in-process SQLite (the amalgamation) with the
// extension registered on every connection through its entry point, and small SQL helpers.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

extern "C" int sqlite3_vecsqlite_init(sqlite3*, char**, const sqlite3_api_routines*);

namespace fuzz {

// A fuzz-found property violation: print and abort (libFuzzer saves the input).
#define FUZZ_CHECK(cond, ...)                                     \
  do {                                                            \
    if (!(cond)) {                                                \
      std::fprintf(stderr, "FUZZ_CHECK failed: %s: ", #cond);     \
      std::fprintf(stderr, __VA_ARGS__);                          \
      std::fprintf(stderr, "\n");                                 \
      std::abort();                                               \
    }                                                             \
  } while (0)

inline void register_extension() {
  static const bool once = [] {
    sqlite3_auto_extension(reinterpret_cast<void (*)(void)>(sqlite3_vecsqlite_init));
    return true;
  }();
  (void)once;
}

inline sqlite3* open(const char* path = ":memory:") {
  register_extension();
  sqlite3* db = nullptr;
  if (sqlite3_open(path, &db) != SQLITE_OK) {
    std::fprintf(stderr, "cannot open %s\n", path);
    std::abort();
  }
  return db;
}

// Runs every statement of `sql`; returns the first error code (SQLITE_OK when none).
inline int exec(sqlite3* db, const std::string& sql) { return sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr); }

// Steps a prepared statement to the end, reading every column of every row (so column
// decoders run too). Returns SQLITE_DONE or the error code.
inline int drain(sqlite3_stmt* st) {
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    for (int i = 0; i < sqlite3_column_count(st); i++) {
      (void)sqlite3_column_blob(st, i);
      (void)sqlite3_column_bytes(st, i);
    }
  }
  return rc;
}

// Prepares `sql` (first statement only), runs it to the end; returns SQLITE_DONE or an error.
inline int run(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* st = nullptr;
  int rc = sqlite3_prepare_v2(db, sql.c_str(), static_cast<int>(sql.size()), &st, nullptr);
  if (rc != SQLITE_OK || st == nullptr) return rc == SQLITE_OK ? SQLITE_DONE : rc;
  rc = drain(st);
  sqlite3_finalize(st);
  return rc;
}

// Reads bytes off a fuzz input.
struct Input {
  const uint8_t* p;
  size_t n;
  bool empty() const { return n == 0; }
  uint8_t u8() {
    if (n == 0) return 0;
    n--;
    return *p++;
  }
  uint16_t u16() { return static_cast<uint16_t>(u8() | (u8() << 8)); }
  std::string bytes(size_t len) {
    len = len < n ? len : n;
    std::string s(reinterpret_cast<const char*>(p), len);
    p += len;
    n -= len;
    return s;
  }
  std::string rest() { return bytes(n); }
};

}  // namespace fuzz
