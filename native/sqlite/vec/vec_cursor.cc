// `vec` cursors: xOpen / xFilter / xNext / xEof / xColumn / xRowid. The scan plan steps a
// statement on the data table; the match plan (vec_query.cc) fills a list of hits.
#include <new>
#include <string>

#include "sqlite/codec.h"
#include "sqlite/vec/vec_int.h"

namespace vecsqlite {
namespace vec {
namespace {

int scan_step(Cursor* c, sqlite3_vtab* vtab) {
  const int rc = sqlite3_step(*c->stmt);
  if (rc == SQLITE_ROW) {
    c->eof = false;
    return SQLITE_OK;
  }
  c->eof = true;
  if (rc == SQLITE_DONE) return SQLITE_OK;
  return set_error(vtab, "%s", sqlite3_errmsg(reinterpret_cast<Table*>(vtab)->db));
}

int scan_filter(Cursor* c, Table* t, const Plan& plan, int argc, sqlite3_value** argv) {
  sqlite3_vtab* vtab = &t->base;
  c->scan = true;
  if (argc < 1 || sqlite3_value_type(argv[0]) == SQLITE_NULL) {
    return set_error(vtab, "vec: dataset_id argument is required");
  }
  if (!dataset_arg(vtab, argv[0], &c->dataset)) return SQLITE_ERROR;
  c->scan_echo_row = !plan.collation.empty();
  c->stmt.reset(new Stmt(t->db, scan_sql(t, plan.by_id, plan.collation)));
  if (!c->stmt->ok()) return set_error(vtab, "%s", sqlite3_errmsg(t->db));
  sqlite3_bind_text(*c->stmt, 1, c->dataset.c_str(), int(c->dataset.size()), SQLITE_TRANSIENT);
  if (plan.by_id) sqlite3_bind_value(*c->stmt, 2, argv[1]);
  return scan_step(c, vtab);
}

}  // namespace

bool dataset_arg(sqlite3_vtab* vtab, sqlite3_value* v, std::string* out) {
  const int type = sqlite3_value_type(v);
  if (type == SQLITE_TEXT) {
    *out = value_text(v);
    return true;
  }
  if (type == SQLITE_BLOB) {
    const char* p = static_cast<const char*>(sqlite3_value_blob(v));
    *out = std::string(p ? p : "", size_t(sqlite3_value_bytes(v)));
    return true;
  }
  set_error(vtab, "vec: unsupported dataset_id type %s", value_go_type(v));
  return false;
}

int cursor_open(sqlite3_vtab*, sqlite3_vtab_cursor** pp) {
  Cursor* c = new (std::nothrow) Cursor();
  if (!c) return SQLITE_NOMEM;
  *pp = &c->base;
  return SQLITE_OK;
}

int cursor_close(sqlite3_vtab_cursor* cur) {
  delete reinterpret_cast<Cursor*>(cur);
  return SQLITE_OK;
}

int cursor_filter(sqlite3_vtab_cursor* cur, int idxNum, const char* idxStr, int argc, sqlite3_value** argv) {
  Cursor* c = reinterpret_cast<Cursor*>(cur);
  Table* t = reinterpret_cast<Table*>(cur->pVtab);
  c->stmt.reset();
  c->hits.clear();
  c->pos = 0;
  c->eof = true;
  c->scan_echo_row = false;
  try {
    const Plan plan = decode_plan(idxNum, idxStr);
    if (!plan.valid || argc != plan.args)
      return set_error(cur->pVtab, "vec: malformed query plan (idxNum %d with %d arguments)", idxNum, argc);
    if (plan.match) {
      c->scan = false;
      return match_filter(c, t, plan, argc, argv);
    }
    return scan_filter(c, t, plan, argc, argv);
  } catch (const std::bad_alloc&) {
    return SQLITE_NOMEM;
  } catch (...) {
    return set_error(cur->pVtab, "vec: internal error");
  }
}

int cursor_next(sqlite3_vtab_cursor* cur) {
  Cursor* c = reinterpret_cast<Cursor*>(cur);
  if (c->scan) return scan_step(c, cur->pVtab);
  c->pos++;
  return SQLITE_OK;
}

int cursor_eof(sqlite3_vtab_cursor* cur) {
  Cursor* c = reinterpret_cast<Cursor*>(cur);
  return c->scan ? c->eof : c->pos >= c->hits.size();
}

int cursor_column(sqlite3_vtab_cursor* cur, sqlite3_context* ctx, int col) {
  Cursor* c = reinterpret_cast<Cursor*>(cur);
  switch (col) {
    case kColDataset:
      if (c->scan && c->scan_echo_row) sqlite3_result_value(ctx, sqlite3_column_value(*c->stmt, 2));
      else sqlite3_result_text(ctx, c->dataset.c_str(), int(c->dataset.size()), SQLITE_TRANSIENT);
      break;
    case kColId:
      if (c->scan) sqlite3_result_value(ctx, sqlite3_column_value(*c->stmt, 1));
      else sqlite3_result_text(ctx, c->hits[c->pos].id.c_str(), int(c->hits[c->pos].id.size()), SQLITE_TRANSIENT);
      break;
    case kColScore:
      sqlite3_result_double(ctx, c->scan ? 0.0 : c->hits[c->pos].score);
      break;
    default:
      break;
  }
  return SQLITE_OK;
}

int cursor_rowid(sqlite3_vtab_cursor* cur, sqlite3_int64* out) {
  Cursor* c = reinterpret_cast<Cursor*>(cur);
  *out = c->scan ? sqlite3_column_int64(*c->stmt, 0) : c->hits[c->pos].rowid;
  return SQLITE_OK;
}

}  // namespace vec
}  // namespace vecsqlite
