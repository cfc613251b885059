// vec_each(vector): table-valued function listing a vector's elements, as sqlite-vec 0.1.9's.
//
// Declared schema:  CREATE TABLE x(value, vector hidden)
//   rowid   element index 0..n-1
//   value   REAL for float32, INTEGER for int8, INTEGER 0/1 for bit
// Bit order is MSB-first within each byte (element i = bit 7 - i%8 of byte i/8), the original's
// order here (the opposite of vec_to_json, which is LSB-first); kept for compatibility.
//
// Plan: the `vector = ?` constraint is required (argvIndex 1, omitted); without it xBestIndex
// returns SQLITE_CONSTRAINT, which SQLite reports as "no query solution", as the original.
// Cost 100000, 100000 rows (the original's numbers).
//
// Difference: where the original fails xFilter on an invalid vector with no message ("SQL logic
// error"), we report the parser's message (e.g. "JSON parsing error").
//
// Eponymous-only module (xCreate = NULL): `CREATE VIRTUAL TABLE ... USING vec_each` is refused.
#include <new>
#include <string>

#include "sqlite/ext.h"
#include "sqlite/codec.h"

namespace vecsqlite {
namespace {


constexpr int kColValue = 0;
constexpr int kColVector = 1;

struct EachCursor {
  sqlite3_vtab_cursor base;  // Base class. Must be first.
  Vector vector;             // the vector being listed (owned copy)
  sqlite3_int64 row = 0;     // current element index
};

int eachConnect(sqlite3* db, void*, int, const char* const*, sqlite3_vtab** ppVtab, char** pzErr) {
  int rc = sqlite3_declare_vtab(db, "CREATE TABLE x(value, vector hidden)");
  if (rc != SQLITE_OK) return rc;
  sqlite3_vtab* vtab = static_cast<sqlite3_vtab*>(sqlite3_malloc(sizeof(sqlite3_vtab)));
  if (vtab == nullptr) return SQLITE_NOMEM;
  *vtab = sqlite3_vtab{};
  sqlite3_vtab_config(db, SQLITE_VTAB_INNOCUOUS);
  *ppVtab = vtab;
  (void)pzErr;
  return SQLITE_OK;
}

int eachDisconnect(sqlite3_vtab* vtab) {
  sqlite3_free(vtab);
  return SQLITE_OK;
}

int eachBestIndex(sqlite3_vtab*, sqlite3_index_info* info) {
  int vector_arg = -1;
  for (int i = 0; i < info->nConstraint; i++) {
    const auto& c = info->aConstraint[i];
    if (c.iColumn == kColVector && c.op == SQLITE_INDEX_CONSTRAINT_EQ) {
      if (!c.usable) return SQLITE_CONSTRAINT;
      vector_arg = i;
    }
  }
  if (vector_arg < 0) return SQLITE_CONSTRAINT;
  info->aConstraintUsage[vector_arg].argvIndex = 1;
  info->aConstraintUsage[vector_arg].omit = 1;
  info->estimatedCost = 100000;
  info->estimatedRows = 100000;
  return SQLITE_OK;
}

int eachOpen(sqlite3_vtab*, sqlite3_vtab_cursor** ppCursor) {
  EachCursor* cur = new (std::nothrow) EachCursor();
  if (cur == nullptr) return SQLITE_NOMEM;
  *ppCursor = &cur->base;
  return SQLITE_OK;
}

int eachClose(sqlite3_vtab_cursor* cursor) {
  delete reinterpret_cast<EachCursor*>(cursor);
  return SQLITE_OK;
}

int eachFilter(sqlite3_vtab_cursor* cursor, int, const char*, int argc, sqlite3_value** argv) {
  EachCursor* cur = reinterpret_cast<EachCursor*>(cursor);
  cur->row = 0;
  cur->vector = Vector();
  if (argc != 1) return SQLITE_ERROR;
  try {
    std::string err;
    const int rc = parse_vector(argv[0], ParseMode::by_subtype, &cur->vector, &err);
    if (rc != SQLITE_OK) {
      if (rc == SQLITE_ERROR) {
        sqlite3_free(cursor->pVtab->zErrMsg);
        cursor->pVtab->zErrMsg = sqlite3_mprintf("%s", err.c_str());
      }
      cur->vector = Vector();
      return rc;
    }
    cur->vector.make_owned();
  } catch (const std::bad_alloc&) {
    cur->vector = Vector();
    return SQLITE_NOMEM;
  }
  return SQLITE_OK;
}

int eachNext(sqlite3_vtab_cursor* cursor) {
  reinterpret_cast<EachCursor*>(cursor)->row++;
  return SQLITE_OK;
}

int eachEof(sqlite3_vtab_cursor* cursor) {
  const EachCursor* cur = reinterpret_cast<EachCursor*>(cursor);
  return size_t(cur->row) >= cur->vector.dims();
}

int eachColumn(sqlite3_vtab_cursor* cursor, sqlite3_context* ctx, int col) {
  const EachCursor* cur = reinterpret_cast<EachCursor*>(cursor);
  if (col != kColValue) {
    sqlite3_result_null(ctx);  // the hidden input column is not echoed back
    return SQLITE_OK;
  }
  const size_t i = size_t(cur->row);
  switch (cur->vector.type()) {
    case Dtype::f32:
      sqlite3_result_double(ctx, cur->vector.f32()[i]);
      break;
    case Dtype::i8:
      sqlite3_result_int(ctx, cur->vector.i8()[i]);
      break;
    case Dtype::u1:
      sqlite3_result_int(ctx, (cur->vector.bits()[i / 8] >> (7 - i % 8)) & 1);
      break;
  }
  return SQLITE_OK;
}

int eachRowid(sqlite3_vtab_cursor* cursor, sqlite3_int64* pRowid) {
  *pRowid = reinterpret_cast<EachCursor*>(cursor)->row;
  return SQLITE_OK;
}

sqlite3_module makeEachModule() {
  sqlite3_module m{};
  m.iVersion = 0;
  m.xCreate = nullptr;  // eponymous-only
  m.xConnect = eachConnect;
  m.xBestIndex = eachBestIndex;
  m.xDisconnect = eachDisconnect;
  m.xDestroy = nullptr;
  m.xOpen = eachOpen;
  m.xClose = eachClose;
  m.xFilter = eachFilter;
  m.xNext = eachNext;
  m.xEof = eachEof;
  m.xColumn = eachColumn;
  m.xRowid = eachRowid;
  return m;
}

const sqlite3_module kEachModule = makeEachModule();

}  // namespace

int register_vec_each_module(sqlite3* db, char** pzErr) {
  const int rc = sqlite3_create_module_v2(db, "vec_each", &kEachModule, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    *pzErr = sqlite3_mprintf("vecsqlite: cannot register vec_each: %s", sqlite3_errmsg(db));
  }
  return rc;
}

}  // namespace vecsqlite
