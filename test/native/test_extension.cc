// Native extension test (ctest), linked with the real SQLite amalgamation that better-sqlite3
// ships: the entry point binds to one SQLite library per process and refuses a second,
// different routine table with a clear error, while loading again from the same one works.
#include <sqlite3.h>

#include <cstdio>
#include <cstring>

extern "C" int sqlite3_vecsqlite_init(sqlite3*, char**, const sqlite3_api_routines*);
// A distinct copy of a routine table (defined at the end, where sqlite3ext.h is included).
static const sqlite3_api_routines* copy_of(const sqlite3_api_routines* api);

static const sqlite3_api_routines* g_api = nullptr;
static int capture(sqlite3*, char**, const sqlite3_api_routines* api) {
  g_api = api;
  return SQLITE_OK;
}

static int g_pass = 0, g_fail = 0;
static void check(bool ok, const char* what) {
  if (ok) {
    g_pass++;
  } else {
    g_fail++;
    std::printf("FAIL %s\n", what);
  }
}

int main() {
  sqlite3_auto_extension(reinterpret_cast<void (*)(void)>(capture));
  sqlite3* db = nullptr;
  check(sqlite3_open(":memory:", &db) == SQLITE_OK, "open");
  sqlite3_reset_auto_extension();
  check(g_api != nullptr, "captured the routine table");

  char* err = nullptr;
  check(sqlite3_vecsqlite_init(db, &err, g_api) == SQLITE_OK, "first load");
  sqlite3_stmt* st = nullptr;
  check(sqlite3_prepare_v2(db, "select vec_l2(X'0000000000000000', X'0000404000008040')", -1, &st, nullptr) == SQLITE_OK, "prepare vec_l2");
  check(sqlite3_step(st) == SQLITE_ROW && sqlite3_column_double(st, 0) == 5.0, "vec_l2 = 5");
  sqlite3_finalize(st);

  // A different routine table (a second SQLite copy in the process) is refused.
  const sqlite3_api_routines* other = copy_of(g_api);
  err = nullptr;
  check(sqlite3_vecsqlite_init(db, &err, other) == SQLITE_ERROR, "second library refused");
  check(err != nullptr && std::strcmp(err, "vecsqlite: already bound to a different SQLite library in this process") == 0,
        "clear message for the second library");
  sqlite3_free(err);

  // The same library again is fine.
  err = nullptr;
  check(sqlite3_vecsqlite_init(db, &err, g_api) == SQLITE_OK, "loading again from the same library");
  sqlite3_close(db);

  std::printf("%d passed, %d failed\n", g_pass, g_fail);
  return g_fail == 0 ? 0 : 1;
}

// Last in the file: sqlite3ext.h turns sqlite3_* calls into routine-table calls from here on.
#include <sqlite3ext.h>
static const sqlite3_api_routines* copy_of(const sqlite3_api_routines* api) {
  static sqlite3_api_routines other;
  std::memcpy(&other, api, sizeof other);
  return &other;
}
