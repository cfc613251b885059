// vec0 module entry and lifecycle: registration, xCreate / xConnect (the configuration, the
// declared columns, the shadow tables on CREATE), xDisconnect, xDestroy (drops the shadow
// tables), xRename (renames them) and xShadowName (which lets defensive mode protect them).
#include <algorithm>
#include <memory>
#include <mutex>
#include <new>
#include <vector>

#include "sqlite/vec0/vec0_int.h"

namespace vecsqlite {
namespace vec0 {

void set_err(Table* t, const std::string& msg) {
  sqlite3_free(t->base.zErrMsg);
  t->base.zErrMsg = sqlite3_mprintf("%s", msg.c_str());
}

// ---- the registry of live tables (what vec_knn_batch finds a table by) ----------------------
namespace {
std::mutex& registry_mu() {
  static std::mutex mu;
  return mu;
}
std::vector<Table*>& registry() {
  static std::vector<Table*> tables;
  return tables;
}
void registry_add(Table* t) {
  std::lock_guard<std::mutex> g(registry_mu());
  registry().push_back(t);
}
void registry_remove(Table* t) {
  std::lock_guard<std::mutex> g(registry_mu());
  auto& r = registry();
  r.erase(std::remove(r.begin(), r.end(), t), r.end());
}
}  // namespace

Table* find_table(sqlite3* db, const char* schema, const char* name) {
  std::lock_guard<std::mutex> g(registry_mu());
  for (Table* t : registry()) {
    if (t->db != db || sqlite3_stricmp(t->name.c_str(), name) != 0) continue;
    if (schema == nullptr || sqlite3_stricmp(t->schema.c_str(), schema) == 0) return t;
  }
  return nullptr;
}

namespace {

int init_table(sqlite3* db, int argc, const char* const* argv, sqlite3_vtab** ppVtab, char** pzErr, bool create) {
  std::unique_ptr<Table> t(new (std::nothrow) Table());
  if (!t) return SQLITE_NOMEM;
  std::memset(&t->base, 0, sizeof(t->base));
  t->db = db;
  t->schema = argv[1];
  t->name = argv[2];
  Table* self = t.get();
  t->log.set_source([self](int blob, int64_t chunk, int slot, uint32_t count) {
    return vector_rows(self, blob, chunk, slot, count);
  });
  std::string err;
  if (parse_config(argc, argv, &t->cfg, &err) != SQLITE_OK) {
    *pzErr = sqlite3_mprintf("%s", err.c_str());
    return SQLITE_ERROR;
  }
  t->log.set_layout(log_layout(t->cfg));
  for (const VectorColumn& vc : t->cfg.vcols) t->row_bytes.push_back(vc.nbytes());
  int rc = sqlite3_declare_vtab(db, declare_sql(t->cfg, t->name).c_str());
  if (rc != SQLITE_OK) {
    *pzErr = sqlite3_mprintf("%scould not declare virtual table, '%s'", kCtorPrefix, sqlite3_errmsg(db));
    return SQLITE_ERROR;
  }
  if (create && create_shadow_tables(t.get(), &err) != SQLITE_OK) {
    *pzErr = sqlite3_mprintf("%s", err.c_str());
    return SQLITE_ERROR;
  }
  set_names(t.get());
  rc = t->probe.open(db, t->schema);
  if (rc != SQLITE_OK) {
    *pzErr = sqlite3_mprintf("%s", sqlite3_errmsg(db));
    return rc;
  }
  rc = ann_init(t.get());
  if (rc != SQLITE_OK) {
    *pzErr = sqlite3_mprintf("%s", t->base.zErrMsg != nullptr ? t->base.zErrMsg : sqlite3_errmsg(db));
    return rc;
  }
  registry_add(t.get());
  *ppVtab = &t.release()->base;
  return SQLITE_OK;
}

int x_create(sqlite3* db, void*, int argc, const char* const* argv, sqlite3_vtab** pp, char** pzErr) {
  try {
    return init_table(db, argc, argv, pp, pzErr, true);
  } catch (...) {
    return SQLITE_NOMEM;
  }
}

int x_connect(sqlite3* db, void*, int argc, const char* const* argv, sqlite3_vtab** pp, char** pzErr) {
  try {
    return init_table(db, argc, argv, pp, pzErr, false);
  } catch (...) {
    return SQLITE_NOMEM;
  }
}

int x_disconnect(sqlite3_vtab* p) {
  registry_remove(table_of(p));
  delete table_of(p);
  return SQLITE_OK;
}

int x_destroy(sqlite3_vtab* p) {
  Table* t = table_of(p);
  t->finalize_all();
  try {
    std::string err;
    const int rc = exec_sql(t->db, drop_shadow_sql(t), &err);
    if (rc != SQLITE_OK) {
      set_err(t, err);
      return rc;
    }
  } catch (...) {
    return SQLITE_NOMEM;
  }
  registry_remove(t);
  delete t;
  return SQLITE_OK;
}

int x_best_index(sqlite3_vtab* p, sqlite3_index_info* info) {
  try {
    return best_index(table_of(p), info);
  } catch (...) {
    return SQLITE_NOMEM;
  }
}

int x_rename(sqlite3_vtab* p, const char* zNew) {
  Table* t = table_of(p);
  t->finalize_all();
  try {
    std::string err;
    const int rc = exec_sql(t->db, rename_shadow_sql(t, zNew), &err);
    if (rc != SQLITE_OK) {
      set_err(t, err);
      return rc;
    }
    t->name = zNew;
    set_names(t);
    t->invalidate_cache();
  } catch (...) {
    return SQLITE_NOMEM;
  }
  return SQLITE_OK;
}

int x_shadow_name(const char* name) {
  static const char* kNames[] = {"rowids", "chunks", "auxiliary", "info"};
  for (const char* n : kNames)
    if (sqlite3_stricmp(name, n) == 0) return 1;
  for (int i = 0; i < 16; i++) {
    char buf[32];
    snprintf(buf, sizeof buf, "metadatachunks%02d", i);
    if (sqlite3_stricmp(name, buf) == 0) return 1;
    snprintf(buf, sizeof buf, "metadatatext%02d", i);
    if (sqlite3_stricmp(name, buf) == 0) return 1;
    snprintf(buf, sizeof buf, "hnsw%02d", i);
    if (sqlite3_stricmp(name, buf) == 0) return 1;
  }
  return 0;
}

sqlite3_module make_module() {
  sqlite3_module m;
  std::memset(&m, 0, sizeof m);
  m.iVersion = 3;
  m.xCreate = x_create;
  m.xConnect = x_connect;
  m.xBestIndex = x_best_index;
  m.xDisconnect = x_disconnect;
  m.xDestroy = x_destroy;
  m.xOpen = x_open;
  m.xClose = x_close;
  m.xFilter = x_filter;
  m.xNext = x_next;
  m.xEof = x_eof;
  m.xColumn = x_column;
  m.xRowid = x_rowid;
  m.xUpdate = x_update;
  m.xBegin = x_begin;
  m.xSync = x_sync;
  m.xCommit = x_commit;
  m.xRollback = x_rollback;
  m.xRename = x_rename;
  m.xSavepoint = x_savepoint;
  m.xRelease = x_release;
  m.xRollbackTo = x_rollback_to;
  m.xShadowName = x_shadow_name;
  return m;
}

const sqlite3_module kModule = make_module();

}  // namespace
}  // namespace vec0

int register_vec0_module(sqlite3* db, char** pzErr) {
  const int rc = sqlite3_create_module_v2(db, "vec0", &vec0::kModule, nullptr, nullptr);
  if (rc != SQLITE_OK) *pzErr = sqlite3_mprintf("vecsqlite: cannot register vec0: %s", sqlite3_errmsg(db));
  return rc;
}

}  // namespace vecsqlite

