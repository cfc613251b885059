// vec0 cursors: xFilter runs the decoded plan (a full scan in chunk and slot order, a point
// lookup, or a KNN through vec0_knn.cc) into a list of position keys; xColumn reads the
// cached row (vectors with their subtype, partition and metadata values) or, for auxiliary
// columns, one statement per row.
#include <new>

#include "sqlite/vec0/vec0_int.h"

namespace vecsqlite {
namespace vec0 {

// Resolves a user id (integer rowid or text pk) to the internal rowid; false when absent.
bool lookup_rowid(Table* t, sqlite3_value* v, int64_t* rowid) {
  if (t->cfg.text_pk) {
    if (sqlite3_value_type(v) != SQLITE_TEXT) return false;
    const char* s = reinterpret_cast<const char*>(sqlite3_value_text(v));
    auto it = t->cache().rowid_of_text.find(std::string(s, static_cast<size_t>(sqlite3_value_bytes(v))));
    if (it == t->cache().rowid_of_text.end()) return false;
    *rowid = it->second;
    return t->cache().pos_of.count(*rowid) != 0;
  }
  return integer_id(v, rowid) && t->cache().pos_of.count(*rowid) != 0;
}

int x_open(sqlite3_vtab*, sqlite3_vtab_cursor** pp) {
  Cursor* c = new (std::nothrow) Cursor();
  if (c == nullptr) return SQLITE_NOMEM;
  std::memset(&c->base, 0, sizeof(c->base));
  *pp = &c->base;
  return SQLITE_OK;
}

int x_close(sqlite3_vtab_cursor* p) {
  delete reinterpret_cast<Cursor*>(p);
  return SQLITE_OK;
}

namespace {

int filter(Table* t, Cursor* cur, int idxNum, const char* idxStr, int argc, sqlite3_value** argv) {
  cur->keys.clear();
  cur->dists.clear();
  cur->aux_key = -1;
  cur->at = 0;
  cur->knn = false;
  Plan plan;
  int rc = decode_plan(t, idxNum, idxStr, argc, argv, &plan);
  if (rc != SQLITE_OK) return rc;
  if (plan.kind == Plan::Kind::knn) {
    cur->knn = true;
    return knn_filter(t, cur, plan);
  }
  rc = ensure_readable(t);
  if (rc != SQLITE_OK) return rc;
  if (plan.kind == Plan::Kind::point) {
    int64_t rid;
    if (lookup_rowid(t, plan.id, &rid)) cur->keys.push_back(t->cache().pos_of.find(rid)->second);
    return SQLITE_OK;
  }
  // Chunk order, then slot order (sqlite-vec's ORDER BY chunk_id, chunk_offset).
  cur->keys.reserve(t->cache().rowid_at.size());
  t->cache().rowid_at.each([cur](int64_t key, int64_t) { cur->keys.push_back(key); });
  return SQLITE_OK;
}


int column(sqlite3_vtab_cursor* p, sqlite3_context* ctx, int col) {
  Cursor* c = reinterpret_cast<Cursor*>(p);
  Table* t = table_of(p);
  if (c->at >= c->keys.size()) return SQLITE_OK;
  const int64_t key = c->keys[c->at];
  if (col == t->col_distance()) {
    if (c->knn) sqlite3_result_double(ctx, static_cast<double>(c->dists[c->at]));
    return SQLITE_OK;
  }
  if (col == t->col_k()) {
    if (c->knn) sqlite3_result_int64(ctx, c->k);
    return SQLITE_OK;
  }
  int64_t rowid;
  if (!t->cache().rowid_at.find(key, &rowid)) return SQLITE_OK;  // deleted meanwhile
  if (col == 0) {
    if (t->cfg.text_pk) {
      auto ti = t->cache().text_of.find(rowid);
      if (ti != t->cache().text_of.end())
        sqlite3_result_text(ctx, ti->second.data(), static_cast<int>(ti->second.size()), SQLITE_TRANSIENT);
    } else {
      sqlite3_result_int64(ctx, rowid);
    }
    return SQLITE_OK;
  }
  const ColRef* ref = t->col_ref(col);
  if (ref == nullptr) return SQLITE_OK;
  if (ref->kind != ColKind::vector) {  
    if (sqlite3_vtab_nochange(ctx)) return SQLITE_OK;  // UPDATE leaves it: sqlite3_value_nochange
    return cols_column(t, c, ctx, *ref, key, rowid);
  }
  // An UPDATE that does not set this vector leaves it alone (sqlite3_value_nochange): re-reading
  // an int8/bit vector without its subtype made `SET other = ...` fail the type check.
  if (sqlite3_vtab_nochange(ctx)) return SQLITE_OK;
  const Arena* arena = arena_ptr(t->cache(), key, static_cast<size_t>(ref->idx));
  const void* row = arena != nullptr ? arena->find(key) : nullptr;
  // With its subtype, as 0.1.9: vec_type() / vec_to_json() / vec_distance_*() see int8 and bit.
  if (row != nullptr) result_vector(ctx, t->cfg.vcols[static_cast<size_t>(ref->idx)].type, row, arena->row_bytes());
  return SQLITE_OK;
}

}  // namespace

int x_filter(sqlite3_vtab_cursor* p, int idxNum, const char* idxStr, int argc, sqlite3_value** argv) {
  try {
    return filter(table_of(p), reinterpret_cast<Cursor*>(p), idxNum, idxStr, argc, argv);
  } catch (...) {
    return SQLITE_NOMEM;
  }
}

int x_next(sqlite3_vtab_cursor* p) {
  Cursor* c = reinterpret_cast<Cursor*>(p);
  c->aux_key = -1;
  c->at++;
  return SQLITE_OK;
}

int x_eof(sqlite3_vtab_cursor* p) {
  Cursor* c = reinterpret_cast<Cursor*>(p);
  return c->at >= c->keys.size();
}

int x_column(sqlite3_vtab_cursor* p, sqlite3_context* ctx, int col) {
  try {
    return column(p, ctx, col);
  } catch (...) {  // the aux / metadata paths allocate
    sqlite3_result_error_nomem(ctx);
    return SQLITE_NOMEM;
  }
}

int x_rowid(sqlite3_vtab_cursor* p, sqlite3_int64* out) {
  Cursor* c = reinterpret_cast<Cursor*>(p);
  Table* t = table_of(p);
  int64_t rowid;
  if (c->at >= c->keys.size() || !t->cache().rowid_at.find(c->keys[c->at], &rowid)) {
    set_err(t, string_printf("%srow is no longer present", kInternal));
    return SQLITE_ERROR;
  }
  *out = rowid;
  return SQLITE_OK;
}

}  // namespace vec0
}  // namespace vecsqlite
