// DataVersionProbe; see freshness.h.
#include "sqlite/freshness.h"

#include <sys/stat.h>

#include "core/env.h"

namespace vecsqlite {

bool shareable_file(sqlite3* db, const char* schema, uint64_t* dev, uint64_t* ino) {
  if (!env_shared_cache_enabled()) return false;
  const char* file = sqlite3_db_filename(db, schema);
  if (file == nullptr || file[0] == '\0') return false;
  struct stat st;
  if (stat(file, &st) != 0) return false;
  *dev = static_cast<uint64_t>(st.st_dev);
  *ino = static_cast<uint64_t>(st.st_ino);
  return true;
}

DataVersionProbe::~DataVersionProbe() { sqlite3_finalize(stmt_); }

int DataVersionProbe::open(sqlite3* db, const std::string& schema) {
  sqlite3_finalize(stmt_);
  stmt_ = nullptr;
  seen_ = false;
  char* sql = sqlite3_mprintf("PRAGMA \"%w\".data_version", schema.c_str());
  if (sql == nullptr) return SQLITE_NOMEM;
  const int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
  sqlite3_free(sql);
  return rc;
}

int DataVersionProbe::read(int64_t* out) {
  if (stmt_ == nullptr) return SQLITE_MISUSE;
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) {
    *out = sqlite3_column_int64(stmt_, 0);
    rc = SQLITE_OK;
  }
  sqlite3_reset(stmt_);
  return rc;
}

bool DataVersionProbe::changed() {
  int64_t v = 0;
  if (read(&v) != SQLITE_OK) return true;
  const bool result = !seen_ || v != last_;
  seen_ = true;
  last_ = v;
  return result;
}

}  // namespace vecsqlite
