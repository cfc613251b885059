// Statement helpers; see stmt.h.
#include "sqlite/stmt.h"

namespace vecsqlite {

int exec_sql(sqlite3* db, const std::string& sql, std::string* err) {
  char* e = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &e);
  if (rc != SQLITE_OK && err != nullptr) *err = e != nullptr ? e : sqlite3_errmsg(db);
  sqlite3_free(e);
  return rc;
}

int step_reset(sqlite3_stmt* st) {
  const int rc = sqlite3_step(st);
  sqlite3_reset(st);
  if (rc == SQLITE_DONE || rc == SQLITE_ROW) return SQLITE_OK;
  return rc == SQLITE_OK ? SQLITE_ERROR : rc;
}

int StmtCache::get(sqlite3* db, const std::string& sql, sqlite3_stmt** st) {
  auto it = stmts_.find(sql);
  if (it != stmts_.end()) {
    sqlite3_reset(it->second);
    sqlite3_clear_bindings(it->second);
    *st = it->second;
    return SQLITE_OK;
  }
  const int rc = sqlite3_prepare_v3(db, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, st, nullptr);
  if (rc != SQLITE_OK) return rc;
  stmts_.emplace(sql, *st);
  return SQLITE_OK;
}

void StmtCache::clear() {
  for (auto& kv : stmts_) sqlite3_finalize(kv.second);
  stmts_.clear();
}

}  // namespace vecsqlite
