// Prepared-statement helpers shared by every module of the SQLite layer. All internal SQL runs
// on the connection a table or function was called with (so attached schemas, temp tables and
// the caller's open transaction are seen).
#pragma once

#include <string>
#include <unordered_map>

#include "sqlite/ext.h"

namespace vecsqlite {

// Runs `sql` (one or more statements, no results) with sqlite3_exec. On failure returns the rc
// and, when err is not null, sets *err to SQLite's message.
int exec_sql(sqlite3* db, const std::string& sql, std::string* err);

// Steps `st` once (a statement that returns no rows, or whose first row is ignored), then resets
// it. SQLITE_OK, or the error rc (SQLITE_ERROR for an unexpected SQLITE_OK).
int step_reset(sqlite3_stmt* st);

// A statement for one use, finalized with the object.
//   Stmt st(db, string_printf("SELECT ... FROM \"%w\".\"%w\"", schema, table));
//   if (st.rc() != SQLITE_OK) ...; while (sqlite3_step(st) == SQLITE_ROW) ...
class Stmt {
 public:
  Stmt(sqlite3* db, const std::string& sql) { rc_ = sqlite3_prepare_v2(db, sql.c_str(), -1, &st_, nullptr); }
  ~Stmt() { sqlite3_finalize(st_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  int rc() const { return rc_; }
  bool ok() const { return rc_ == SQLITE_OK; }
  sqlite3_stmt* get() const { return st_; }
  operator sqlite3_stmt*() const { return st_; }

 private:
  sqlite3_stmt* st_ = nullptr;
  int rc_ = SQLITE_OK;
};

// Statements kept for the life of their owner (a table instance), keyed by SQL text and
// prepared with SQLITE_PREPARE_PERSISTENT. get() hands out a reset statement with cleared
// bindings. The owner clears the cache before its connection could go (disconnect, rename,
// drop).
class StmtCache {
 public:
  StmtCache() = default;
  ~StmtCache() { clear(); }
  StmtCache(const StmtCache&) = delete;
  StmtCache& operator=(const StmtCache&) = delete;
  // SQLITE_OK with *st set, or SQLite's rc (its message: sqlite3_errmsg(db)).
  int get(sqlite3* db, const std::string& sql, sqlite3_stmt** st);
  void clear();

 private:
  std::unordered_map<std::string, sqlite3_stmt*> stmts_;
};

}  // namespace vecsqlite
