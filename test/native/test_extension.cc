// Native extension test (ctest), linked with the real SQLite amalgamation that better-sqlite3
// ships: two distinct routine tables (as two SQLite libraries in one process would hand over)
// both load the extension, and each connection's functions and virtual tables call back through
// the table of the library that registered them.
#include <sqlite3.h>

#include <cstdio>
#include <cstring>

extern "C" int sqlite3_vecsqlite_init(sqlite3*, char**, const sqlite3_api_routines*);
// A distinct copy of a routine table whose malloc counts its calls (defined at the end, where
// sqlite3ext.h is included).
static const sqlite3_api_routines* copy_of(const sqlite3_api_routines* api);
static int g_copy_calls = 0;
// A copy that reports SQLite 3.37.0.
static const sqlite3_api_routines* old_copy_of(const sqlite3_api_routines* api);

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

static double scalar(sqlite3* db, const char* sql) {
  sqlite3_stmt* st = nullptr;
  double v = -1;
  if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_double(st, 0);
  else std::printf("  %s: %s\n", sql, sqlite3_errmsg(db));
  sqlite3_finalize(st);
  return v;
}

static bool exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) std::printf("  %s: %s\n", sql, err ? err : "?");
  sqlite3_free(err);
  return rc == SQLITE_OK;
}

int main() {
  sqlite3_auto_extension(reinterpret_cast<void (*)(void)>(capture));
  sqlite3* a = nullptr;
  sqlite3* b = nullptr;
  check(sqlite3_open(":memory:", &a) == SQLITE_OK, "open a");
  check(sqlite3_open(":memory:", &b) == SQLITE_OK, "open b");
  sqlite3_reset_auto_extension();
  check(g_api != nullptr, "captured the routine table");

  char* err = nullptr;
  check(sqlite3_vecsqlite_init(a, &err, g_api) == SQLITE_OK, "load through the library's table");
  check(scalar(a, "select vec_l2(X'0000000000000000', X'0000404000008040')") == 5.0, "vec_l2 = 5 on a");

  // A different routine table (a second SQLite library in the process) is served too.
  const sqlite3_api_routines* other = copy_of(g_api);
  err = nullptr;
  check(sqlite3_vecsqlite_init(b, &err, other) == SQLITE_OK, "second library loads");
  check(err == nullptr, "no error message");
  const int before = g_copy_calls;
  check(exec(b, "create virtual table t using vec0(v float[2])"), "vec0 on b");
  check(exec(b, "insert into t(rowid, v) values (1, '[0, 0]'), (2, '[3, 4]')"), "insert on b");
  check(scalar(b, "select sum(distance) from (select distance from t where v match '[0, 0]' and k = 2)") == 5.0, "vec0 KNN on b");
  check(g_copy_calls > before, "b's callbacks call through b's table");
  // a still works, and calls through its own table only.
  const int mid = g_copy_calls;
  check(exec(a, "create virtual table t using vec0(v float[2])"), "vec0 on a");
  check(exec(a, "insert into t(rowid, v) values (1, '[1, 1]')"), "insert on a");
  check(scalar(a, "select distance from t where v match '[1, 1]' and k = 1") == 0.0, "vec0 KNN on a");
  check(scalar(a, "select vec_l2(X'0000000000000000', X'0000404000008040')") == 5.0, "vec_l2 on a after b");
  check(g_copy_calls == mid, "a never calls through b's table");

  // A library older than 3.38 is refused with a clear message.
  sqlite3* c = nullptr;
  check(sqlite3_open(":memory:", &c) == SQLITE_OK, "open c");
  err = nullptr;
  check(sqlite3_vecsqlite_init(c, &err, old_copy_of(g_api)) == SQLITE_ERROR, "3.37 refused");
  check(err != nullptr && std::strcmp(err, "vecsqlite: SQLite 3.37.0 is too old (3.38.0 or newer is required)") == 0,
        "clear message for an old library");
  sqlite3_free(err);
  sqlite3_close(c);

  // The same library again is fine.
  err = nullptr;
  check(sqlite3_vecsqlite_init(a, &err, g_api) == SQLITE_OK, "loading again from the same library");
  sqlite3_close(a);
  sqlite3_close(b);

  std::printf("%d passed, %d failed\n", g_pass, g_fail);
  return g_fail == 0 ? 0 : 1;
}

// Last in the file: sqlite3ext.h turns sqlite3_* calls into routine-table calls from here on.
#include <sqlite3ext.h>
static const sqlite3_api_routines* g_real = nullptr;
static void* counting_malloc(int n) {
  g_copy_calls++;
  return g_real->malloc(n);
}
static void* counting_malloc64(sqlite3_uint64 n) {
  g_copy_calls++;
  return g_real->malloc64(n);
}
static int counting_prepare_v2(sqlite3* db, const char* sql, int n, sqlite3_stmt** st, const char** tail) {
  g_copy_calls++;
  return g_real->prepare_v2(db, sql, n, st, tail);
}
static int counting_prepare_v3(sqlite3* db, const char* sql, int n, unsigned flags, sqlite3_stmt** st, const char** tail) {
  g_copy_calls++;
  return g_real->prepare_v3(db, sql, n, flags, st, tail);
}
static int counting_declare_vtab(sqlite3* db, const char* sql) {
  g_copy_calls++;
  return g_real->declare_vtab(db, sql);
}
static const sqlite3_api_routines* copy_of(const sqlite3_api_routines* api) {
  static sqlite3_api_routines other;
  std::memcpy(&other, api, sizeof other);
  g_real = api;
  other.malloc = counting_malloc;
  other.malloc64 = counting_malloc64;
  other.prepare_v2 = counting_prepare_v2;
  other.prepare_v3 = counting_prepare_v3;
  other.declare_vtab = counting_declare_vtab;
  return &other;
}
static int old_version_number() { return 3037000; }
static const char* old_version() { return "3.37.0"; }
static const sqlite3_api_routines* old_copy_of(const sqlite3_api_routines* api) {
  static sqlite3_api_routines old;
  std::memcpy(&old, api, sizeof old);
  old.libversion_number = old_version_number;
  old.libversion = old_version;
  return &old;
}
