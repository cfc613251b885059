// vec_rows(): many rows in one INSERT.
//
//   insert into t(rowid, embedding) values (:first, vec_rows(:vectors))
//
// vec_rows(blob) hands the blob to the table as an SQLite pointer value (type "vecsqlite-rows"):
// anything but a vec0 INSERT sees NULL. The blob holds m vectors of the column's type back to
// back (float32: 4 x dims bytes each); the rows get rowids first .. first + m - 1 (a NULL
// rowid: the next AUTOINCREMENT values). It is for tables with one vector column and no
// partition key, metadata, auxiliary column, text primary key or graph index.
//
// WHY: an INSERT per row costs a statement step, an xUpdate and a copy of the vector into the
// write log's staging buffers before the bytes reach SQLite. Here every run of chunk_size rows
// that starts a chunk is written as that chunk at once: its _chunks row (validity and rowids
// complete), its vector blob straight from the argument, its _rowids rows in batches. Rows that
// fill up the latest chunk, and the last rows that do not fill one, go the ordinary way
// (insert_row), so the files are byte for byte what sqlite-vec 0.1.9 writes row by row.
//
// The chunk writes happen at once, at the statement's level, like the other writes xUpdate
// makes itself (chunk creation): the write log must hold no _rowids delete that such a write
// could collide with, so a pending log is flushed first, and when it cannot be (a savepoint is
// open) every row goes the ordinary way. Every row is validated before anything is written.
#include <cstring>
#include <memory>

#include "sqlite/vec0/vec0_int.h"

namespace vecsqlite {
namespace vec0 {

namespace {

constexpr const char* kRowsType = "vecsqlite-rows";

struct RowsArg {
  std::vector<uint8_t> bytes;
};

void vec_rows_fn(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (argc != 1 || sqlite3_value_type(argv[0]) != SQLITE_BLOB) {
    sqlite3_result_error(ctx, "vec_rows(): expected one BLOB of vectors back to back", -1);
    return;
  }
  auto* arg = new (std::nothrow) RowsArg();
  if (arg == nullptr) {
    sqlite3_result_error_nomem(ctx);
    return;
  }
  try {
    const auto* p = static_cast<const uint8_t*>(sqlite3_value_blob(argv[0]));
    arg->bytes.assign(p, p + sqlite3_value_bytes(argv[0]));
  } catch (...) {
    delete arg;
    sqlite3_result_error_nomem(ctx);
    return;
  }
  sqlite3_result_pointer(ctx, arg, kRowsType, [](void* x) { delete static_cast<RowsArg*>(x); });
}

// True when the latest chunk is full (or there is none): the next row starts a chunk.
bool at_chunk_start(Table* t) {
  const Cache& c = t->cache();
  int64_t latest = -1;
  if (latest_group(c, {}, &latest) < 0) return true;
  auto it = c.validity.find(latest);
  if (it == c.validity.end()) return true;
  for (uint8_t b : it->second)
    if (b != 0xff) return false;
  return true;
}

// Rows first .. first + cs - 1 (their vectors at `data`) as one new chunk.
int write_chunk(Table* t, int64_t first, const uint8_t* data) {
  Cache& c = t->cache_mut();
  const int cs = t->cfg.chunk_size;
  const size_t nb = t->row_bytes[0];
  std::vector<uint8_t> validity(static_cast<size_t>(cs / 8), 0xff);
  std::vector<int64_t> rowids(static_cast<size_t>(cs));
  for (int j = 0; j < cs; j++) rowids[static_cast<size_t>(j)] = first + j;
  t->mutated = true;
  sqlite3_stmt* st = nullptr;
  int rc = prepare(t, string_printf("INSERT INTO \"%w\".\"%w\"(size, validity, rowids) VALUES (?, ?, ?)", t->schema.c_str(),
                                    t->n_chunks.c_str()), &st);
  if (rc != SQLITE_OK) return rc;
  sqlite3_bind_int(st, 1, cs);
  sqlite3_bind_blob(st, 2, validity.data(), static_cast<int>(validity.size()), SQLITE_STATIC);
  sqlite3_bind_blob(st, 3, rowids.data(), static_cast<int>(rowids.size() * 8), SQLITE_STATIC);
  rc = step_done(t, st);
  if (rc != SQLITE_OK) return rc;
  const int64_t chunk = sqlite3_last_insert_rowid(t->db);
  rc = insert_vector_chunk(t, 0, chunk, data);
  if (rc != SQLITE_OK) return rc;
  rc = cols_new_chunk(t, chunk);
  if (rc != SQLITE_OK) return rc;
  std::vector<Vec0WriteLog::RowidRow> rows(static_cast<size_t>(cs));
  for (int j = 0; j < cs; j++) rows[static_cast<size_t>(j)] = {first + j, chunk, j, false, nullptr, 0};
  rc = apply_rowids(t, {}, rows, true, first + cs - 1);
  if (rc != SQLITE_OK) return rc;
  // The cache: the chunk and its rows; the vectors unless the transaction defers them (they
  // are in SQLite already, so a deferred chunk needs nothing staged).
  set_insert_hint(c, chunk, cs, cache_new_chunk(t, chunk, std::move(validity), {}));
  t->note_chunk(chunk);
  const bool defer = deferring(t);
  if (defer) {
    c.vectors_missing = true;
    g_deferred_rows.add(static_cast<uint64_t>(cs));
  }
  for (int j = 0; j < cs; j++) {
    const int64_t key = pos_key(chunk, j);
    c.pos_of[first + j] = key;
    c.rowid_at.set(key, first + j);
    if (!defer) arena_for(c, key, 0).upsert(key, data + static_cast<size_t>(j) * nb);
  }
  if (first + cs - 1 > c.max_rowid) c.max_rowid = first + cs - 1;
  t->txn_inserted += cs;
  return SQLITE_OK;
}

}  // namespace

const void* rows_argument(sqlite3_value* v) { return sqlite3_value_pointer(v, kRowsType); }

int bulk_insert(Table* t, sqlite3_value* idv, const void* rows_arg, sqlite3_int64* pRowid) {
  const RowsArg& arg = *static_cast<const RowsArg*>(rows_arg);
  const Config& cfg = t->cfg;
  if (cfg.vcols.size() != 1 || !cfg.pcols.empty() || !cfg.mcols.empty() || !cfg.acols.empty() || cfg.text_pk ||
      cfg.indexed()) {
    set_err(t, string_printf("vec_rows(): vec0 table %s must have one vector column and no partition key, metadata, "
                             "auxiliary column, text primary key or graph index",
                             t->name.c_str()));
    return SQLITE_ERROR;
  }
  const VectorColumn& vc = cfg.vcols[0];
  const size_t nb = vc.nbytes();
  if (arg.bytes.empty() || arg.bytes.size() % nb != 0) {
    // (string_printf is SQLite's printf: %lld, not %zu.)
    set_err(t, string_printf("vec_rows(): %lld bytes are not a whole number of %s[%d] vectors for the \"%s\" column (%lld bytes each)",
                             static_cast<long long>(arg.bytes.size()), dtype_name(vc.type), vc.dims, vc.name.c_str(),
                             static_cast<long long>(nb)));
    return SQLITE_ERROR;
  }
  const int64_t m = static_cast<int64_t>(arg.bytes.size() / nb);
  Cache& c = t->cache_mut();
  int64_t first;
  if (sqlite3_value_type(idv) == SQLITE_NULL) {
    first = c.max_rowid + 1;
  } else if (!integer_id(idv, &first)) {
    set_err(t, string_printf("Only integers are allows for primary key values on %s", t->name.c_str()));
    return SQLITE_ERROR;
  }
  if (first > INT64_MAX - (m - 1) || (sqlite3_value_type(idv) == SQLITE_NULL && c.max_rowid == INT64_MAX)) {
    set_err(t, "Error inserting id into rowids shadow table: database or disk is full");
    return SQLITE_FULL;
  }
  for (int64_t i = 0; i < m; i++) {
    if (c.pos_of.count(first + i) != 0) {
      set_err(t, string_printf("UNIQUE constraint failed on %s primary key", t->name.c_str()));
      return SQLITE_CONSTRAINT;
    }
  }
  // Whole chunks go in directly only with nothing pending in the log (see the top).
  bool direct = true;
  if (!t->log.empty()) {
    if (t->log.at_transaction_level()) {
      KeepLastRowid keep(t->db);
      const int rc = flush_log(t);
      if (rc != SQLITE_OK) return rc;
    } else {
      direct = false;
    }
  }
  const int cs = cfg.chunk_size;
  std::vector<Vector> vecs(1);
  const RowCols none;
  for (int64_t i = 0; i < m;) {
    const uint8_t* row = arg.bytes.data() + static_cast<size_t>(i) * nb;
    if (direct && m - i >= cs && at_chunk_start(t)) {
      const int rc = write_chunk(t, first + i, row);
      if (rc != SQLITE_OK) return rc;
      i += cs;
      continue;
    }
    vecs[0].borrow(vc.type, row, nb, static_cast<size_t>(vc.dims));
    int64_t rowid = first + i;
    const int rc = insert_row(t, idv, vecs, none, &rowid);
    if (rc != SQLITE_OK) return rc;
    t->txn_inserted++;
    i++;
  }
  *pRowid = first + m - 1;
  return SQLITE_OK;
}

}  // namespace vec0

int register_vec_rows(sqlite3* db, char** pzErr) {
  const int rc = sqlite3_create_function_v2(db, "vec_rows", 1, SQLITE_UTF8 | SQLITE_INNOCUOUS, nullptr, vec0::vec_rows_fn,
                                            nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) *pzErr = sqlite3_mprintf("vecsqlite: cannot register vec_rows: %s", sqlite3_errmsg(db));
  return rc;
}

}  // namespace vecsqlite
