// `vec_admin`: manual rebuilds of a `vec` index. (The original module's vec_admin could never
// run: its xBestIndex asks for argv slot 2 and does not omit MATCH.)
//
//   CREATE VIRTUAL TABLE vec_admin USING vec_admin(op);
//   SELECT op FROM vec_admin WHERE op MATCH '<schema>._vec_<t>:<dataset>';   -- 'reindexed:<n>'
//
// Declared: CREATE TABLE x(op). Plans: idxNum 1 = `op MATCH ?` (argv 1, omitted); 0 = no MATCH
// (no rows). The target is split on the first ':' (both halves trimmed); the shadow part on the
// first '.' into schema and table (no '.' means main). The schema must be attached, the table
// must exist in it and be named _vec_<t>; nothing from the MATCH text is ever interpolated
// into SQL unquoted. The rebuild runs on the calling connection (reindex in vec_cache.cc),
// writes a VSQ1 blob and drops every cached copy of that index.
//
// Messages:
//   vec_admin: need at least 3 args
//   vec_admin: MATCH expects shadow table name as TEXT
//   vec_admin: MATCH expects 'shadow:dataset', got "<arg>"
//   vec_admin: unknown schema "<schema>"
//   vec_admin: no such table <schema>.<table>
//   vec_admin: <schema>.<table> is not a vec data table (its name must start with _vec_)
#include <new>
#include <string>

#include "sqlite/codec.h"
#include "sqlite/stmt.h"
#include "sqlite/vec/vec_int.h"

namespace vecsqlite {
namespace vec {
namespace {

struct AdminTable {
  sqlite3_vtab base;  // Base class. Must be first.
  sqlite3* db;        // calling connection
};

struct AdminCursor {
  sqlite3_vtab_cursor base;  // Base class. Must be first.
  std::string result;        // the one row, when has_row
  bool has_row = false;
  bool done = true;
};

int adminConnect(sqlite3* db, void*, int argc, const char* const*, sqlite3_vtab** pp, char** pzErr) {
  if (argc < 3) {
    *pzErr = sqlite3_mprintf("vec_admin: need at least 3 args");
    return SQLITE_ERROR;
  }
  sqlite3_vtab_config(db, SQLITE_VTAB_CONSTRAINT_SUPPORT, 1);
  int rc = sqlite3_declare_vtab(db, "CREATE TABLE x(op)");
  if (rc != SQLITE_OK) return rc;
  AdminTable* t = new (std::nothrow) AdminTable();
  if (!t) return SQLITE_NOMEM;
  t->db = db;
  *pp = &t->base;
  return SQLITE_OK;
}

int adminDisconnect(sqlite3_vtab* vtab) {
  sqlite3_free(vtab->zErrMsg);
  delete reinterpret_cast<AdminTable*>(vtab);
  return SQLITE_OK;
}

int adminBestIndex(sqlite3_vtab*, sqlite3_index_info* info) {
  info->idxNum = 0;
  info->estimatedCost = 1e6;
  for (int i = 0; i < info->nConstraint; i++) {
    const auto& c = info->aConstraint[i];
    if (c.iColumn == 0 && c.op == SQLITE_INDEX_CONSTRAINT_MATCH) {
      if (!c.usable) return SQLITE_CONSTRAINT;
      info->aConstraintUsage[i].argvIndex = 1;
      info->aConstraintUsage[i].omit = 1;
      info->idxNum = 1;
      info->estimatedCost = 1.0;
      info->estimatedRows = 1;
      break;
    }
  }
  return SQLITE_OK;
}

int adminOpen(sqlite3_vtab*, sqlite3_vtab_cursor** pp) {
  AdminCursor* c = new (std::nothrow) AdminCursor();
  if (!c) return SQLITE_NOMEM;
  *pp = &c->base;
  return SQLITE_OK;
}

int adminClose(sqlite3_vtab_cursor* cur) {
  delete reinterpret_cast<AdminCursor*>(cur);
  return SQLITE_OK;
}

// True when `name` is an attached schema of db.
bool schema_exists(sqlite3* db, const std::string& name) {
  Stmt st(db, "SELECT 1 FROM pragma_database_list WHERE name = ?1");
  if (!st.ok()) return false;
  sqlite3_bind_text(st, 1, name.c_str(), int(name.size()), SQLITE_TRANSIENT);
  return sqlite3_step(st) == SQLITE_ROW;
}

bool table_exists(sqlite3* db, const std::string& schema, const std::string& table) {
  Stmt st(db, string_printf("SELECT 1 FROM \"%w\".sqlite_schema WHERE type = 'table' AND name = ?1", schema.c_str()));
  if (!st.ok()) return false;
  sqlite3_bind_text(st, 1, table.c_str(), int(table.size()), SQLITE_TRANSIENT);
  return sqlite3_step(st) == SQLITE_ROW;
}

int adminFilterImpl(AdminCursor* c, AdminTable* t, int idxNum, int argc, sqlite3_value** argv) {
  sqlite3_vtab* vtab = &t->base;
  if (idxNum != 1 || argc < 1 || sqlite3_value_type(argv[0]) == SQLITE_NULL) return SQLITE_OK;
  if (sqlite3_value_type(argv[0]) != SQLITE_TEXT) {
    return set_error(vtab, "vec_admin: MATCH expects shadow table name as TEXT");
  }
  const std::string arg(reinterpret_cast<const char*>(sqlite3_value_text(argv[0])), size_t(sqlite3_value_bytes(argv[0])));
  const size_t colon = arg.find(':');
  const std::string shadow = colon == std::string::npos ? std::string() : trim_space(arg.substr(0, colon));
  const std::string dataset = colon == std::string::npos ? std::string() : trim_space(arg.substr(colon + 1));
  if (shadow.empty() || dataset.empty()) {
    return set_error(vtab, "vec_admin: MATCH expects 'shadow:dataset', got \"%s\"", arg.c_str());
  }
  const size_t dot = shadow.find('.');
  const std::string schema = dot == std::string::npos ? std::string("main") : shadow.substr(0, dot);
  const std::string table = dot == std::string::npos ? shadow : shadow.substr(dot + 1);
  if (!schema_exists(t->db, schema)) return set_error(vtab, "vec_admin: unknown schema \"%s\"", schema.c_str());
  if (!table_exists(t->db, schema, table)) {
    return set_error(vtab, "vec_admin: no such table %s.%s", schema.c_str(), table.c_str());
  }
  if (table.rfind("_vec_", 0) != 0 || table.size() == 5) {
    return set_error(vtab, "vec_admin: %s.%s is not a vec data table (its name must start with _vec_)",
                       schema.c_str(), table.c_str());
  }
  int64_t count = 0;
  std::string err;
  const int rc = reindex(t->db, schema, table, dataset, &count, &err);
  if (rc != SQLITE_OK) return set_error(vtab, "%s", err.c_str());
  c->result = "reindexed:" + std::to_string(count);
  c->has_row = true;
  c->done = false;
  return SQLITE_OK;
}

int adminFilter(sqlite3_vtab_cursor* cur, int idxNum, const char*, int argc, sqlite3_value** argv) {
  AdminCursor* c = reinterpret_cast<AdminCursor*>(cur);
  c->has_row = false;
  c->done = true;
  try {
    return adminFilterImpl(c, reinterpret_cast<AdminTable*>(cur->pVtab), idxNum, argc, argv);
  } catch (...) {
    return SQLITE_NOMEM;
  }
}

int adminNext(sqlite3_vtab_cursor* cur) {
  reinterpret_cast<AdminCursor*>(cur)->done = true;
  return SQLITE_OK;
}

int adminEof(sqlite3_vtab_cursor* cur) { return reinterpret_cast<AdminCursor*>(cur)->done; }

int adminColumn(sqlite3_vtab_cursor* cur, sqlite3_context* ctx, int col) {
  AdminCursor* c = reinterpret_cast<AdminCursor*>(cur);
  if (col != 0) {
    sqlite3_result_null(ctx);
    return SQLITE_OK;
  }
  sqlite3_result_text(ctx, c->result.c_str(), int(c->result.size()), SQLITE_TRANSIENT);
  return SQLITE_OK;
}

int adminRowid(sqlite3_vtab_cursor*, sqlite3_int64* out) {
  *out = 1;
  return SQLITE_OK;
}

sqlite3_module adminModule = {
    /* iVersion    */ 0,
    /* xCreate     */ adminConnect,
    /* xConnect    */ adminConnect,
    /* xBestIndex  */ adminBestIndex,
    /* xDisconnect */ adminDisconnect,
    /* xDestroy    */ adminDisconnect,
    /* xOpen       */ adminOpen,
    /* xClose      */ adminClose,
    /* xFilter     */ adminFilter,
    /* xNext       */ adminNext,
    /* xEof        */ adminEof,
    /* xColumn     */ adminColumn,
    /* xRowid      */ adminRowid,
    /* xUpdate     */ nullptr,
    /* xBegin      */ nullptr,
    /* xSync       */ nullptr,
    /* xCommit     */ nullptr,
    /* xRollback   */ nullptr,
    /* xFindFunction */ nullptr,
    /* xRename     */ nullptr,
    /* xSavepoint  */ nullptr,
    /* xRelease    */ nullptr,
    /* xRollbackTo */ nullptr,
    /* xShadowName */ nullptr,
    /* xIntegrity  */ nullptr,
};

}  // namespace
}  // namespace vec

int register_vec_admin_module(sqlite3* db, char** pzErr) {
  const int rc = sqlite3_create_module_v2(db, "vec_admin", &vec::adminModule, nullptr, nullptr);
  if (rc != SQLITE_OK) *pzErr = sqlite3_mprintf("vecsqlite: cannot register vec_admin: %s", sqlite3_errmsg(db));
  return rc;
}

}  // namespace vecsqlite
