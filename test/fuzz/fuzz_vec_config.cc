// Fuzz target: the `vec` CREATE VIRTUAL TABLE argument parser, through SQLite (the module's
// arguments are parsed in its xCreate / xConnect), then one query on the table it made.
// Properties: no crash; the statement succeeds or fails with an error message.
#include "fuzz_common.h"

namespace {
sqlite3* g_db = nullptr;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  g_db = fuzz::open();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 2048) return 0;
  std::string args(reinterpret_cast<const char*>(data), size);
  if (args.find('\0') != std::string::npos) return 0;
  sqlite3* db = g_db;
  const std::string sql = "create virtual table v using vec(" + args + ")";
  sqlite3_stmt* st = nullptr;
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &st, &tail);
  if (rc == SQLITE_OK && st != nullptr) {
    rc = fuzz::drain(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE) {
      FUZZ_CHECK(fuzz::run(db, "select * from v where dataset_id = 'A'") != SQLITE_MISUSE, "misuse");
      fuzz::run(db, "insert into _vec_v(dataset_id, id, embedding) values ('A', 'a', vec_f32('[1, 0]'))");
      fuzz::run(db, "select * from v where dataset_id = 'A'");
      fuzz::exec(db, "drop table v");
    }
  } else {
    FUZZ_CHECK(rc != SQLITE_OK || st == nullptr, "prepare");
    FUZZ_CHECK(rc == SQLITE_OK || sqlite3_errmsg(db)[0] != '\0', "error without message");
  }
  // Back to an empty schema for the next input.
  fuzz::exec(db, "drop table if exists v; drop table if exists _vec_v; drop table if exists vector_storage; "
                 "drop table if exists vector_storage_gen");
  sqlite3_stmt* left = nullptr;
  sqlite3_prepare_v2(db, "select group_concat(name) from sqlite_schema", -1, &left, nullptr);
  if (sqlite3_step(left) == SQLITE_ROW && sqlite3_column_type(left, 0) != SQLITE_NULL) {
    // Something else was left behind: start over on a new connection.
    sqlite3_finalize(left);
    sqlite3_close(g_db);
    g_db = fuzz::open();
    return 0;
  }
  sqlite3_finalize(left);
  return 0;
}
