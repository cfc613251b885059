// vec0 writes (xUpdate): every value is validated before anything changes; then the cache is
// updated at once and the shadow-table changes of the row go into the write log (validity,
// rowids and vector bytes, the _rowids row), which reaches the tables at xSync (vec0_txn.cc) or
// earlier once it holds kLogFlushBytes while no savepoint is open. An INSERT appends to the
// log's current run (consecutive slots of a chunk: 8 bytes a row), whose vector bytes the flush
// reads from the arena; an UPDATE or DELETE first has the run holding its slot copy them
// (materialize). Chunk creation and deletion, metadata slots, long texts and aux rows are
// written at once (they live in tables the log does not touch).
#include <algorithm>

#include "core/env.h"
#include "sqlite/vec0/vec0_int.h"

namespace vecsqlite {
namespace vec0 {

Counter g_deferred_rows("vec0_deferred_rows");

bool deferring(const Table* t) {
  if (t->cfg.indexed()) return false;  // graphs link rows from the arena at xSync
  if (t->cache().vectors_missing) return true;
  const size_t min_rows = env_defer_rows();
  return min_rows > 0 && t->txn_inserted >= static_cast<int64_t>(min_rows) && t->txn_inserted >= t->txn_rows_at_start;
}

namespace {

int delete_row(Table* t, int64_t rowid) {
  Cache& c = t->cache_mut();
  auto pit = c.pos_of.find(rowid);
  if (pit == c.pos_of.end()) return SQLITE_OK;
  const int64_t key = pit->second;
  const int64_t chunk = pos_chunk(key);
  const int off = pos_offset(key);
  t->touch(key);
  auto vit = c.validity.find(chunk);
  if (vit == c.validity.end() || !(vit->second[static_cast<size_t>(off / 8)] & (1u << (off % 8)))) {
    set_err(t, string_printf("vec0 deletion error: validity bit is not set for %s.%s.%lld at %d", t->schema.c_str(),
                             t->n_chunks.c_str(), static_cast<long long>(chunk), off));
    return SQLITE_ERROR;
  }
  std::vector<uint8_t>& val = vit->second;
  uint8_t byte = static_cast<uint8_t>(val[static_cast<size_t>(off / 8)] & ~(1u << (off % 8)));
  t->mutated = true;
  if (ChunkCols* cc = chunk_cols_of(c, chunk)) c.hints.drop(static_cast<size_t>(cc->group));  // a slot frees
  t->note_chunk(chunk);
  t->log.delete_rowid(rowid);
  int rc = SQLITE_OK;
  bool empty = byte == 0;
  for (size_t i = 0; empty && i < val.size(); i++) if (i != static_cast<size_t>(off / 8) && val[i] != 0) empty = false;
  rc = cols_delete_row(t, chunk, off, rowid, empty);  
  if (rc != SQLITE_OK) return rc;
  if (empty) {
    std::string sql = string_printf("DELETE FROM \"%w\".\"%w\" WHERE rowid = %lld;", t->schema.c_str(),
                                    t->n_chunks.c_str(), static_cast<long long>(chunk));
    for (size_t i = 0; i < t->cfg.vcols.size(); i++)
      sql += string_printf("DELETE FROM \"%w\".\"%w\" WHERE rowid = %lld;", t->schema.c_str(),
                           t->n_vchunks[i].c_str(), static_cast<long long>(chunk));
    std::string err;
    rc = exec_sql(t->db, sql, &err);
    if (rc != SQLITE_OK) {
      set_err(t, err);
      return rc;
    }
    t->log.drop_chunk(chunk);
  } else {
    t->log.write(kBlobValidity, chunk, static_cast<uint32_t>(off / 8), &byte, 1);
    const int64_t zero = 0;
    t->log.write(kBlobRowids, chunk, static_cast<uint32_t>(off) * 8, &zero, 8);
    for (size_t i = 0; i < t->cfg.vcols.size(); i++) {
      const size_t nb = t->cfg.vcols[i].nbytes();
      static const uint8_t kZeros[8192 * 4] = {};
      t->log.write(kBlobVectors + static_cast<int>(i), chunk, static_cast<uint32_t>(static_cast<size_t>(off) * nb),
                   kZeros, static_cast<uint32_t>(nb));
    }
  }
  // Cache (a pending run holding the row takes its copy before the arena rows go).
  t->log.materialize(chunk, off);
  for (size_t i = 0; i < t->cfg.vcols.size(); i++) arena_for(c, key, i).remove(key);
  if (empty) {
    c.validity_fp ^= chunk_fp(chunk, val.data(), val.size());
    c.validity.erase(vit);
    cols_forget_chunk(c, chunk);  
  } else {
    set_validity_byte(&c.validity_fp, chunk, &val, static_cast<size_t>(off / 8), byte);
  }
  c.rowid_at.erase(key);
  c.pos_of.erase(pit);
  if (t->cfg.text_pk) {
    auto ti = c.text_of.find(rowid);
    if (ti != c.text_of.end()) {
      c.rowid_of_text.erase(ti->second);
      c.text_of.erase(ti);
    }
  }
  return SQLITE_OK;
}

}  // namespace

std::vector<uint8_t>* cache_new_chunk(Table* t, int64_t chunk, std::vector<uint8_t> validity, const std::vector<Value>& part) {
  Cache& c = t->cache_mut();
  std::vector<uint8_t>* valp = &c.validity.emplace(chunk, std::move(validity)).first->second;
  c.validity_fp ^= chunk_fp(chunk, valp->data(), valp->size());
  cols_register_chunk(t, chunk, part);
  return valp;
}

int insert_vector_chunk(Table* t, size_t i, int64_t chunk, const uint8_t* data) {
  sqlite3_stmt* st = nullptr;
  int rc = prepare(t, string_printf("INSERT INTO \"%w\".\"%w\"(_rowid_, rowid, vectors) VALUES (?1, ?1, ?2)",
                                    t->schema.c_str(), t->n_vchunks[i].c_str()), &st);
  if (rc != SQLITE_OK) return rc;
  const sqlite3_uint64 n = static_cast<sqlite3_uint64>(t->cfg.vcols[i].nbytes()) * static_cast<sqlite3_uint64>(t->cfg.chunk_size);
  sqlite3_bind_int64(st, 1, chunk);
  if (data != nullptr)
    sqlite3_bind_blob64(st, 2, data, n, SQLITE_STATIC);
  else
    sqlite3_bind_zeroblob64(st, 2, n);
  rc = step_done(t, st);
  if (rc != SQLITE_OK) set_err(t, string_printf("%sCould not insert a new vector chunk", kInternal));
  return rc;
}

void set_insert_hint(Cache& c, int64_t chunk, int next, std::vector<uint8_t>* val) {
  InsertHint& h = c.hints.at(static_cast<size_t>(chunk_cols_of(c, chunk)->group));
  h.chunk = chunk;
  h.next = next;
  h.val = val;
}

int insert_row(Table* t, sqlite3_value* idv, const std::vector<Vector>& vecs, const RowCols& rcols,
               int64_t* out_rowid) {
  Cache& c = t->cache_mut();
  const int cs = t->cfg.chunk_size;
  // Slot: first free bit of the latest chunk (of this partition tuple), or a new chunk.
  // (Rows whose partition tuple has a NULL share chunks too; 0.1.9 made a chunk per such row.)
  int64_t chunk = 0;
  int off = -1;
  int64_t latest = -1;
  const int group = latest_group(c, rcols.part, &latest);
  std::vector<uint8_t>* valp = nullptr;  // the target chunk's cached validity bitmap
  if (group >= 0) {
    const InsertHint& h = c.hints.at(static_cast<size_t>(group));
    if (h.val != nullptr && h.chunk == latest && h.next < cs &&
        !((*h.val)[static_cast<size_t>(h.next / 8)] & (1u << (h.next % 8)))) {
      chunk = latest;  // the slot after the last insert, with none free below it
      off = h.next;
      valp = h.val;
    } else {
      auto last = c.validity.find(latest);
      const size_t nbits = last != c.validity.end() ? last->second.size() : 0;
      size_t b = 0;
      for (; b + 8 <= nbits; b += 8) {  // full stretches 8 bytes at a time
        uint64_t x;
        std::memcpy(&x, last->second.data() + b, 8);
        if (x != ~uint64_t{0}) break;
      }
      for (; b < nbits; b++) {
        const unsigned byte = last->second[b];
        if (byte != 0xff) {
          off = static_cast<int>(b * 8) + __builtin_ctz(~byte);
          break;
        }
      }
      if (off >= 0) {
        chunk = last->first;
        valp = &last->second;
      }
    }
  }
  // The rowid: the caller's integer id, or the next AUTOINCREMENT value of _rowids (what the
  // original's INSERT with a NULL rowid gets). The _rowids row itself goes into the write log.
  int64_t rowid;
  if (!t->cfg.text_pk && idv != nullptr) {
    rowid = *out_rowid;
  } else {
    if (c.max_rowid == INT64_MAX) {
      set_err(t, "Error inserting id into rowids shadow table: database or disk is full");
      return SQLITE_FULL;
    }
    rowid = c.max_rowid + 1;
  }
  sqlite3_stmt* st = nullptr;
  int rc = SQLITE_OK;
  t->mutated = true;
  if (off < 0) {
    std::string psql, pvals;  // partition values of the new chunk
    for (size_t p = 0; p < t->cfg.pcols.size(); p++) {
      psql += string_printf(", partition%02d", static_cast<int>(p));
      pvals += ", ?";
    }
    rc = prepare(t, string_printf("INSERT INTO \"%w\".\"%w\"(size, validity, rowids%s) VALUES (?, zeroblob(?), zeroblob(?)%s)",
                                  t->schema.c_str(), t->n_chunks.c_str(), psql.c_str(), pvals.c_str()), &st);
    if (rc != SQLITE_OK) return rc;
    sqlite3_bind_int(st, 1, cs);
    sqlite3_bind_int(st, 2, cs / 8);
    sqlite3_bind_int(st, 3, cs * 8);
    for (size_t p = 0; p < rcols.part.size(); p++) bind_value(st, 4 + static_cast<int>(p), rcols.part[p]);
    rc = step_done(t, st);
    if (rc != SQLITE_OK) return rc;
    chunk = sqlite3_last_insert_rowid(t->db);
    off = 0;
    for (size_t i = 0; i < t->cfg.vcols.size(); i++) {
      rc = insert_vector_chunk(t, i, chunk, nullptr);
      if (rc != SQLITE_OK) return rc;
    }
    rc = cols_new_chunk(t, chunk);  
    if (rc != SQLITE_OK) return rc;
    valp = cache_new_chunk(t, chunk, std::vector<uint8_t>(static_cast<size_t>(cs / 8), 0), rcols.part);
  }
  set_insert_hint(c, chunk, off + 1, valp);
  t->note_chunk(chunk);
  if (rowid > c.max_rowid) c.max_rowid = rowid;
  // The vector bytes are copied once, into the arenas; the log's run refers to them there
  // (vec0_writelog.h, RUNS), with the row's _rowids row, validity bit and rowid.
  const int64_t key = pos_key(chunk, off);
  t->touch(key);
  if (deferring(t)) {
    // The cache keeps the row's slot and rowid; its vectors wait in the staging buffers for
    // the log (Staging, vec0_int.h).
    c.vectors_missing = true;
    g_deferred_rows.add();
    Staging::Chunk& sc = t->staged.at(chunk, cs, t->row_bytes);
    for (size_t i = 0; i < vecs.size(); i++)
      std::memcpy(sc.cols[i].data() + static_cast<size_t>(off) * t->row_bytes[i], vecs[i].bytes(), t->row_bytes[i]);
    sc.slots[static_cast<size_t>(off) / 64] |= uint64_t{1} << (off % 64);
  } else {
    for (size_t i = 0; i < vecs.size(); i++) arena_for(c, key, i).upsert(key, vecs[i].bytes());
    // A deferred row that held this slot earlier in the transaction left its bytes staged.
    if (!t->staged.chunks.empty()) t->staged.forget(chunk, off);
  }
  if (t->cfg.text_pk) {
    t->log.append_row(rowid, chunk, static_cast<uint32_t>(off), reinterpret_cast<const char*>(sqlite3_value_text(idv)),
                      static_cast<size_t>(sqlite3_value_bytes(idv)));
  } else {
    t->log.append_row(rowid, chunk, static_cast<uint32_t>(off), nullptr, 0);
  }
  std::vector<uint8_t>& val = *valp;
  const uint8_t byte = static_cast<uint8_t>(val[static_cast<size_t>(off / 8)] | (1u << (off % 8)));
  rc = cols_insert_row(t, chunk, off, rowid, rcols);  
  if (rc != SQLITE_OK) return rc;
  set_validity_byte(&c.validity_fp, chunk, &val, static_cast<size_t>(off / 8), byte);
  c.pos_of[rowid] = key;
  c.rowid_at.set(key, rowid);
  if (t->cfg.text_pk) {
    std::string s(reinterpret_cast<const char*>(sqlite3_value_text(idv)), static_cast<size_t>(sqlite3_value_bytes(idv)));
    c.rowid_of_text[s] = rowid;
    c.text_of[rowid] = std::move(s);
  }
  *out_rowid = rowid;
  return SQLITE_OK;
}

namespace {

// Validates one vector for column i ("Inserted" / "Updated" wording).
int check_vector(Table* t, size_t i, sqlite3_value* v, bool update, Vector* out) {
  const VectorColumn& vc = t->cfg.vcols[i];
  std::string err;
  const int rc = parse_vector(v, ParseMode::by_subtype, out, &err);
  if (rc == SQLITE_NOMEM) return rc;
  if (rc != SQLITE_OK) {
    set_err(t, string_printf("%s vector for the \"%s\" column is invalid: %s", update ? "Updated" : "Inserted",
                             vc.name.c_str(), err.c_str()));
    return SQLITE_ERROR;
  }
  if (out->type() != vc.type) {
    set_err(t, string_printf("%s vector for the \"%s\" column is expected to be of type %s, but a %s vector was provided.",
                             update ? "Updated" : "Inserted", vc.name.c_str(), dtype_name(vc.type),
                             dtype_name(out->type())));
    return SQLITE_ERROR;
  }
  if (static_cast<int>(out->dims()) != vc.dims) {
    set_err(t, string_printf("Dimension mismatch for %s vector for the \"%s\" column. Expected %d dimensions but received %d.",
                             update ? "new updated" : "inserted", vc.name.c_str(), vc.dims, static_cast<int>(out->dims())));
    return SQLITE_ERROR;
  }
  return SQLITE_OK;
}

int update(Table* t, int argc, sqlite3_value** argv, sqlite3_int64* pRowid) {
  int rc = ensure_fresh(t);
  if (rc != SQLITE_OK) return rc;
  if (!t->txn_pre_taken) {  // the table as this write transaction found it (change log)
    t->txn_pre_taken = true;
    t->txn_pre_ok = t->cache().valid && t->cache().has_marker;
    t->txn_pre = t->cache().marker;
    t->txn_pre_fp = t->cache().validity_fp;
    t->txn_rows_at_start = static_cast<int64_t>(t->cache().pos_of.size());
  }
  // From here on the cache is this connection's own (a copy when another connection shares it).
  try {
    t->cache_mut();
  } catch (...) {
    return SQLITE_NOMEM;
  }
  // Indexed tables: INSERT INTO t(t) VALUES ('<command>') (before the graphs are loaded:
  // 'rebuild' is the way out of a damaged one).
  if (argc > 1 && t->col_command() >= 0 && sqlite3_value_type(argv[0]) == SQLITE_NULL &&
      sqlite3_value_type(argv[2 + t->col_command()]) != SQLITE_NULL)
    return ann_command(t, argv[2 + t->col_command()]);
  rc = ann_before_write(t);
  if (rc != SQLITE_OK) return rc;
  const size_t nv = t->cfg.vcols.size();
  if (argc == 1) {  // DELETE
    int64_t rid;
    if (!lookup_rowid(t, argv[0], &rid)) return SQLITE_OK;
    return delete_row(t, rid);
  }
  // argv[2] = rowid/pk column, argv[3..3+nv) vectors, then distance, k.
  sqlite3_value* hidden_d = argv[2 + t->col_distance()];
  sqlite3_value* hidden_k = argv[2 + t->col_k()];
  if (sqlite3_value_type(hidden_d) != SQLITE_NULL) {
    set_err(t, "A value was provided for the hidden \"distance\" column.");
    return SQLITE_ERROR;
  }
  if (sqlite3_value_type(hidden_k) != SQLITE_NULL) {
    set_err(t, "A value was provided for the hidden \"k\" column.");
    return SQLITE_ERROR;
  }
  if (t->col_ef() >= 0) {
    if (sqlite3_value_type(argv[2 + t->col_ef()]) != SQLITE_NULL && !sqlite3_value_nochange(argv[2 + t->col_ef()])) {
      set_err(t, "A value was provided for the hidden \"ef\" column.");
      return SQLITE_ERROR;
    }
  }
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {  // INSERT: validate everything first
    sqlite3_value* idv = t->cfg.has_pk ? argv[2] : argv[1];
    if (!t->cfg.has_pk && sqlite3_value_type(idv) == SQLITE_NULL) idv = argv[2];
    for (size_t i = 0; i < nv; i++) {  // vec_rows(): many rows (vec0_bulk.cc)
      if (const void* rows = rows_argument(argv[t->cfg.argv_of(ColKind::vector, static_cast<int>(i))]))
        return bulk_insert(t, idv, rows, pRowid);
    }
    int64_t rowid = 0;
    bool has_id = false;
    int64_t existing = 0;
    bool exists = false;
    if (t->cfg.text_pk) {
      if (sqlite3_value_type(idv) != SQLITE_TEXT) {
        set_err(t, string_printf("The %s virtual table was declared with a TEXT primary key, but a non-TEXT value was provided in an INSERT.",
                                 t->name.c_str()));
        return SQLITE_ERROR;
      }
      exists = lookup_rowid(t, idv, &existing);
    } else if (sqlite3_value_type(idv) != SQLITE_NULL) {
      if (!integer_id(idv, &rowid)) {
        set_err(t, string_printf("Only integers are allows for primary key values on %s", t->name.c_str()));
        return SQLITE_ERROR;
      }
      has_id = true;
      exists = t->cache_mut().pos_of.count(rowid) != 0;
      existing = rowid;
    }
    std::vector<Vector>& vecs = t->insert_vecs;  // reused: no allocation per row
    vecs.resize(nv);
    for (size_t i = 0; i < nv; i++) {
      rc = check_vector(t, i, argv[t->cfg.argv_of(ColKind::vector, static_cast<int>(i))], false, &vecs[i]);
      if (rc != SQLITE_OK) return rc;
    }
    RowCols rcols;  
    rc = cols_check_insert(t, argv, &rcols);
    if (rc != SQLITE_OK) return rc;
    if (exists) {
      if (sqlite3_vtab_on_conflict(t->db) != SQLITE_REPLACE) {
        set_err(t, string_printf("UNIQUE constraint failed on %s primary key", t->name.c_str()));
        return SQLITE_CONSTRAINT;
      }
      rc = delete_row(t, existing);
      if (rc != SQLITE_OK) return rc;
    }
    rc = insert_row(t, has_id || t->cfg.text_pk ? idv : nullptr, vecs, rcols, &rowid);
    if (rc == SQLITE_OK) {
      *pRowid = rowid;
      t->txn_inserted++;
    }
    return rc;
  }
  // UPDATE
  int64_t rid;
  if (!lookup_rowid(t, argv[0], &rid)) return SQLITE_OK;
  if (t->cfg.has_pk) {
    if (sqlite3_value_type(argv[2]) != sqlite3_value_type(argv[0]) ||
        (t->cfg.text_pk && strcmp(reinterpret_cast<const char*>(sqlite3_value_text(argv[2])),
                                  reinterpret_cast<const char*>(sqlite3_value_text(argv[0]))) != 0) ||
        (!t->cfg.text_pk && sqlite3_value_int64(argv[2]) != sqlite3_value_int64(argv[0]))) {
      set_err(t, "UPDATEs on vec0 primary key values are not allowed.");
      return SQLITE_ERROR;
    }
  } else {
    int64_t newid;
    const bool same = integer_id(argv[1], &newid) && newid == rid &&
                      (sqlite3_value_type(argv[2]) == SQLITE_NULL || (integer_id(argv[2], &newid) && newid == rid));
    if (!same) {
      set_err(t, "UPDATEs on vec0 primary key values are not allowed.");
      return SQLITE_ERROR;
    }
  }
  RowCols rcols;  // partition -> aux -> metadata, then vectors
  rc = cols_check_update(t, argv, &rcols);
  if (rc != SQLITE_OK) return rc;
  std::vector<Vector> vecs(nv);
  std::vector<bool> change(nv, false);
  for (size_t i = 0; i < nv; i++) {
    sqlite3_value* v = argv[t->cfg.argv_of(ColKind::vector, static_cast<int>(i))];
    if (sqlite3_value_nochange(v)) continue;
    if (sqlite3_value_type(v) == SQLITE_NULL) {
      set_err(t, string_printf("Cannot set the vector column \"%s\" to NULL: vec0 vectors are required (delete the row instead).",
                               t->cfg.vcols[i].name.c_str()));
      return SQLITE_ERROR;
    }
    rc = check_vector(t, i, v, true, &vecs[i]);
    if (rc != SQLITE_OK) return rc;
    change[i] = true;
  }
  t->mutated = true;
  const int64_t key = t->cache_mut().pos_of[rid];
  const int64_t chunk = pos_chunk(key);
  const int off = pos_offset(key);
  t->note_chunk(chunk);
  rc = cols_update_row(t, chunk, off, rid, rcols);  
  if (rc != SQLITE_OK) return rc;
  // The row's arena bytes change: a pending run holding it takes its copy first.
  if (std::find(change.begin(), change.end(), true) != change.end()) t->log.materialize(chunk, off);
  if (std::find(change.begin(), change.end(), true) != change.end()) t->touch(key);
  for (size_t i = 0; i < nv; i++) {
    if (!change[i]) continue;
    const size_t nb = t->cfg.vcols[i].nbytes();
    t->log.write(kBlobVectors + static_cast<int>(i), chunk, static_cast<uint32_t>(static_cast<size_t>(off) * nb),
                 vecs[i].bytes(), static_cast<uint32_t>(nb));
    arena_for(t->cache_mut(), key, i).upsert(key, vecs[i].bytes());
  }
  return SQLITE_OK;
}

}  // namespace

int x_update(sqlite3_vtab* p, int argc, sqlite3_value** argv, sqlite3_int64* pRowid) {
  Table* t = reinterpret_cast<Table*>(p);
  int rc;
  struct Depth {
    int& d;
    explicit Depth(int& x) : d(++x) {}
    ~Depth() { d--; }
  } depth(t->update_depth);
  if (t->update_depth > 1) {
    // A write from inside this table's own write: a trigger on one of its shadow tables (which
    // SQLite allows only outside defensive mode) fired by the shadow-table writes of an INSERT.
    // The outer write is half done; refusing keeps the table whole (0.1.9 fails there too).
    set_err(t, string_printf("vec0 table %s cannot be written from inside its own write (a trigger on one of its shadow tables?)",
                             t->name.c_str()));
    return SQLITE_ERROR;
  }
  try {
    t->mutated = false;
    rc = update(t, argc, argv, pRowid);
    if (rc == SQLITE_OK) {
      t->wrote = true;
      // Bound the log: write it out while that cannot cross a savepoint (vec0_writelog.h).
      if (t->log.at_transaction_level() && t->log.pending_bytes() >= kLogFlushBytes) {
        KeepLastRowid keep(t->db);
        rc = flush_log(t);
      }
    }
  } catch (...) {
    rc = SQLITE_NOMEM;
    t->mutated = true;  // wherever it stopped
  }
  // A write that failed after it began changing the table (not a validation error, which
  // comes first) may have left shadow rows and log entries: the cache is reloaded, and the
  // transaction cannot commit until a rollback undoes them (see `broken`).
  if (t->mutated) {
    t->txn_mutated = true;
    t->mutations++;
  }
  if (rc != SQLITE_OK && t->mutated) {
    t->invalidate_cache();
    t->broken_below = t->broken ? std::min(t->broken_below, t->open_levels) : t->open_levels;
    t->broken = true;
  }
  return rc;
}

}  // namespace vec0
}  // namespace vecsqlite
