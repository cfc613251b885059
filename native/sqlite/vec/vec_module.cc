// The `vec` module: xCreate / xConnect / xDisconnect, the registry of live instances, and
// registration of the module with its functions. The file layout is listed in vec_int.h.
#include <algorithm>
#include <cstdarg>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <vector>

#include "sqlite/vec/vec_int.h"

namespace vecsqlite {
namespace vec {

std::mutex& registry_mu() {
  static auto* mu = new std::mutex();  // never destroyed: safe at process exit
  return *mu;
}

std::vector<Table*>& registry() {
  static auto* r = new std::vector<Table*>();  // never destroyed: safe at process exit
  return *r;
}

thread_local Table* tl_locked = nullptr;

int set_error(sqlite3_vtab* vtab, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char* msg = sqlite3_vmprintf(fmt, ap);
  va_end(ap);
  sqlite3_free(vtab->zErrMsg);
  vtab->zErrMsg = msg;
  return msg ? SQLITE_ERROR : SQLITE_NOMEM;
}

namespace {

int init(sqlite3* db, int argc, const char* const* argv, sqlite3_vtab** ppVtab, char** pzErr, bool create) {
  if (argc < 3) {
    *pzErr = sqlite3_mprintf("vec: %s expects at least 3 args, got %d", create ? "CREATE" : "CONNECT", argc);
    return SQLITE_ERROR;
  }
  int rc = sqlite3_vtab_config(db, SQLITE_VTAB_CONSTRAINT_SUPPORT, 1);
  if (rc != SQLITE_OK) {
    *pzErr = sqlite3_mprintf("vec: EnableConstraintSupport failed: %s", sqlite3_errstr(rc));
    return rc;
  }
  Config cfg;
  std::string err;
  if (parse_config(argc, argv, create, &cfg, &err) != SQLITE_OK) {
    *pzErr = sqlite3_mprintf("%s", err.c_str());
    return SQLITE_ERROR;
  }
  std::unique_ptr<Table> t(new (std::nothrow) Table());
  if (!t) return SQLITE_NOMEM;
  t->db = db;
  t->schema = argv[1];
  t->name = argv[2];
  t->idcol = cfg.idcol;
  t->index_kind = cfg.index_kind;
  t->hnsw = cfg.index_kind == "hnsw";
  t->hnsw_params = cfg.hnsw;
  t->ef_search = cfg.ef_search;
  t->ann_always = cfg.ann_always;
  t->data_table = "_vec_" + t->name;
  t->shadow = t->schema.empty() ? t->data_table : t->schema + "." + t->data_table;
  rc = sqlite3_declare_vtab(
      db, string_printf("CREATE TABLE x(dataset_id TEXT, \"%w\" TEXT, match_score REAL HIDDEN)", cfg.idcol.c_str()).c_str());
  if (rc != SQLITE_OK) {
    *pzErr = sqlite3_mprintf("vec: declare_vtab failed: %s", sqlite3_errmsg(db));
    return rc;
  }
  if (create) {
    rc = ensure_schema(t.get(), &err);
    if (rc != SQLITE_OK) {
      *pzErr = sqlite3_mprintf("vec: cannot create %s: %s", t->shadow.c_str(), err.c_str());
      return rc;
    }
    t->ensured = true;
  }
  {
    std::lock_guard<std::mutex> lock(registry_mu());
    registry().push_back(t.get());
  }
  *ppVtab = &t.release()->base;
  return SQLITE_OK;
}

int xCreate(sqlite3* db, void*, int argc, const char* const* argv, sqlite3_vtab** pp, char** e) {
  try { return init(db, argc, argv, pp, e, true); } catch (...) { return SQLITE_NOMEM; }
}
int xConnect(sqlite3* db, void*, int argc, const char* const* argv, sqlite3_vtab** pp, char** e) {
  try { return init(db, argc, argv, pp, e, false); } catch (...) { return SQLITE_NOMEM; }
}

int xDisconnect(sqlite3_vtab* vtab) {
  Table* t = reinterpret_cast<Table*>(vtab);
  {
    std::lock_guard<std::mutex> lock(registry_mu());
    auto& r = registry();
    r.erase(std::remove(r.begin(), r.end(), t), r.end());
  }
  sqlite3_free(t->base.zErrMsg);
  delete t;
  return SQLITE_OK;
}

sqlite3_module module = {
    /* iVersion    */ 2,
    /* xCreate     */ xCreate,
    /* xConnect    */ xConnect,
    /* xBestIndex  */ best_index,
    /* xDisconnect */ xDisconnect,
    /* xDestroy    */ xDisconnect,  // DROP leaves the data table (it is the user's table)
    /* xOpen       */ cursor_open,
    /* xClose      */ cursor_close,
    /* xFilter     */ cursor_filter,
    /* xNext       */ cursor_next,
    /* xEof        */ cursor_eof,
    /* xColumn     */ cursor_column,
    /* xRowid      */ cursor_rowid,
    /* xUpdate     */ nullptr,      // read-only: write the data table
    /* xBegin      */ nullptr,
    /* xSync       */ nullptr,
    /* xCommit     */ nullptr,
    /* xRollback   */ nullptr,
    /* xFindFunction */ nullptr,
    /* xRename     */ nullptr,
    /* xSavepoint  */ nullptr,
    /* xRelease    */ nullptr,
    /* xRollbackTo */ nullptr,
    /* xShadowName */ nullptr,      // _vec_<t> stays an ordinary, writable table
    /* xIntegrity  */ nullptr,
};

}  // namespace
}  // namespace vec

int register_vec_module(sqlite3* db, char** pzErr) {
  int rc = sqlite3_create_module_v2(db, "vec", &vec::module, nullptr, nullptr);
  if (rc == SQLITE_OK) rc = vec::register_vec_table_functions(db);
  if (rc != SQLITE_OK) *pzErr = sqlite3_mprintf("vecsqlite: cannot register the vec module: %s", sqlite3_errmsg(db));
  return rc;
}

}  // namespace vecsqlite
