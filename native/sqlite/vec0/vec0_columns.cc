// vec0 partition keys, metadata and auxiliary columns in the table: partition groups, the
// metadata chunks in the cache (loaded, written, read back), auxiliary rows, and the checks of
// their values on INSERT and UPDATE. Byte layouts and predicates: vec0_metadata.h.
#include <stdexcept>

#include "sqlite/vec0/vec0_int.h"

namespace vecsqlite {
namespace vec0 {

// Partition values of a chunks-table row (columns first .. first+npartitions-1 of `st`).
std::vector<Value> partition_tuple_of(Table* t, sqlite3_stmt* st, int first) {
  std::vector<Value> out;
  for (size_t p = 0; p < t->cfg.pcols.size(); p++)
    out.push_back(value_of(sqlite3_column_value(st, first + static_cast<int>(p))));
  return out;
}

int seg_chunks_for(const Config& cfg) {
  size_t row = 0;
  for (const VectorColumn& vc : cfg.vcols) row += vc.nbytes();
  const size_t cs = static_cast<size_t>(cfg.chunk_size);
  const size_t by_rows = (kSegmentMinRows + cs - 1) / cs;
  const size_t by_bytes = row == 0 ? 1 : kSegmentBytes / (cs * row);
  return static_cast<int>(std::max<size_t>(1, std::max(by_rows, by_bytes)));
}

// The group a new chunk of a partition tuple joins: the tuple's newest group while it has room,
// else a new one (with empty arenas).
int group_for(Table* t, const std::vector<Value>& tuple) {
  Cache& c = t->cache_mut();
  std::vector<int>& gs = c.group_of[tuple];
  if (!gs.empty() && c.groups[static_cast<size_t>(gs.back())]->chunks.size() < static_cast<size_t>(c.seg_chunks))
    return gs.back();
  auto g = std::make_shared<Group>();
  g->tuple = tuple;
  for (const VectorColumn& vc : t->cfg.vcols) g->arenas.emplace_back(vc.type, static_cast<size_t>(vc.dims));
  c.groups.push_back(std::move(g));
  const int gi = static_cast<int>(c.groups.size()) - 1;
  gs.push_back(gi);
  return gi;
}

int latest_group(const Cache& c, const std::vector<Value>& tuple, int64_t* latest) {
  auto it = c.group_of.find(tuple);
  if (it == c.group_of.end()) return -1;
  int best = -1;
  for (int gi : it->second) {
    const Group& g = *c.groups[static_cast<size_t>(gi)];
    if (!g.chunks.empty() && (best < 0 || *g.chunks.rbegin() > *latest)) {
      best = gi;
      *latest = *g.chunks.rbegin();
    }
  }
  return best;
}

// Records a chunk (loaded or just created) in its group, with zeroed metadata.
void cols_register_chunk(Table* t, int64_t chunk, const std::vector<Value>& tuple, int group) {
  const int g = group >= 0 ? group : group_for(t, tuple);
  ChunkCols cc;
  cc.group = g;
  const int cs = t->cfg.chunk_size;
  for (const auto& mc : t->cfg.mcols) {
    std::vector<uint8_t> zeros(meta_base_bytes(mc.type, cs), 0);
    MetaChunk m;
    decode_meta_chunk(mc.type, cs, zeros.data(), zeros.size(), &m);
    cc.meta.push_back(std::move(m));
  }
  t->cache_mut().chunk_cols[chunk] = std::move(cc);
  group_mut(t->cache_mut(), static_cast<size_t>(g)).chunks.insert(chunk);
}

ChunkCols* chunk_cols_of(Cache& c, int64_t chunk) {
  auto it = c.chunk_cols.find(chunk);
  return it == c.chunk_cols.end() ? nullptr : &it->second;
}
const ChunkCols* chunk_cols_of(const Cache& c, int64_t chunk) {
  auto it = c.chunk_cols.find(chunk);
  return it == c.chunk_cols.end() ? nullptr : &it->second;
}

// The arena of vector column i that holds (or will hold) position key `key`; nullptr when the
// key's chunk is unknown.
Arena* arena_ptr(Cache& c, int64_t key, size_t i) {
  ChunkCols* cc = chunk_cols_of(c, pos_chunk(key));
  return cc != nullptr ? &group_mut(c, static_cast<size_t>(cc->group)).arenas[i] : nullptr;
}
const Arena* arena_ptr(const Cache& c, int64_t key, size_t i) {
  const ChunkCols* cc = chunk_cols_of(c, pos_chunk(key));
  return cc != nullptr ? &c.groups[static_cast<size_t>(cc->group)]->arenas[i] : nullptr;
}

// The same for write paths, where the chunk is always registered (cols_register_chunk runs
// before any row of a chunk reaches an arena).
Arena& arena_for(Cache& c, int64_t key, size_t i) {
  Arena* a = arena_ptr(c, key, i);
  if (a == nullptr) throw std::logic_error("vec0: position key outside every known chunk");
  return *a;
}

// Loads the metadata chunks and long texts into the cache (after the chunks are registered).
// A text metadata value of slot `slot` from column `col` of `st` (a _metadatatext row): only
// texts longer than 12 bytes live there; the metadata chunk holds the shorter ones whole.
void set_long_text(ChunkCols* cc, size_t i, int slot, sqlite3_stmt* st, int col) {
  const unsigned char* txt = sqlite3_column_text(st, col);
  const int n = sqlite3_column_bytes(st, col);
  if (txt != nullptr && n > 12)
    cc->meta[i].s[static_cast<size_t>(slot)].assign(reinterpret_cast<const char*>(txt), static_cast<size_t>(n));
}

int cols_load(Table* t) {
  Cache& c = t->cache_mut();
  const int cs = t->cfg.chunk_size;
  for (size_t i = 0; i < t->cfg.mcols.size(); i++) {
    const MetadataColumn& mcol = t->cfg.mcols[i];
    sqlite3_stmt* st = nullptr;
    std::string sql = string_printf("SELECT rowid, data FROM \"%w\".\"%w\"", t->schema.c_str(), t->n_mchunks[i].c_str());
    int rc = sqlite3_prepare_v2(t->db, sql.c_str(), -1, &st, nullptr);
    if (rc != SQLITE_OK) {
      set_err(t, sqlite3_errmsg(t->db));
      return rc;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      ChunkCols* cc = chunk_cols_of(c, sqlite3_column_int64(st, 0));
      if (cc == nullptr) continue;  // a metadata row without its chunk: not reachable
      const uint8_t* data = static_cast<const uint8_t*>(sqlite3_column_blob(st, 1));
      const size_t n = static_cast<size_t>(sqlite3_column_bytes(st, 1));
      std::vector<uint8_t> patched;  // with this transaction's writes still in the log
      const int64_t mchunk = sqlite3_column_int64(st, 0);
      if (t->log.touches(kBlobMeta + static_cast<int>(i), mchunk)) {
        patched.assign(data, data + n);
        t->log.overlay(kBlobMeta + static_cast<int>(i), mchunk, patched.data(), n);
        data = patched.data();
      }
      if (!decode_meta_chunk(mcol.type, cs, data, n, &cc->meta[i])) {
        set_err(t, string_printf("metadata chunk size doesn't match for column %s at chunk %lld - expected %d, found %d",
                                 mcol.name.c_str(), static_cast<long long>(sqlite3_column_int64(st, 0)),
                                 static_cast<int>(meta_base_bytes(mcol.type, cs)), static_cast<int>(n)));
        sqlite3_finalize(st);
        return SQLITE_ERROR;
      }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
      set_err(t, sqlite3_errmsg(t->db));
      return rc;
    }
    if (mcol.type != MetaType::text) continue;
    sql = string_printf("SELECT rowid, data FROM \"%w\".\"%w\"", t->schema.c_str(), t->n_mtext[i].c_str());
    rc = sqlite3_prepare_v2(t->db, sql.c_str(), -1, &st, nullptr);
    if (rc != SQLITE_OK) {
      set_err(t, sqlite3_errmsg(t->db));
      return rc;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      auto pit = c.pos_of.find(sqlite3_column_int64(st, 0));
      if (pit == c.pos_of.end()) continue;
      ChunkCols* cc = chunk_cols_of(c, pos_chunk(pit->second));
      if (cc == nullptr) continue;
      set_long_text(cc, i, pos_offset(pit->second), st, 1);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
      set_err(t, sqlite3_errmsg(t->db));
      return rc;
    }
  }
  return SQLITE_OK;
}

// The metadata of one chunk (registered, rows known) from its metadata chunks and long texts,
// for a refresh from the change log (the write log is empty then: no overlay).
int cols_load_chunk(Table* t, int64_t chunk) {
  Cache& c = t->cache_mut();
  ChunkCols* cc = chunk_cols_of(c, chunk);
  if (cc == nullptr || t->cfg.mcols.empty()) return SQLITE_OK;
  const int cs = t->cfg.chunk_size;
  for (size_t i = 0; i < t->cfg.mcols.size(); i++) {
    const MetadataColumn& mcol = t->cfg.mcols[i];
    sqlite3_stmt* st = nullptr;
    std::string sql = string_printf("SELECT data FROM \"%w\".\"%w\" WHERE rowid = ?", t->schema.c_str(), t->n_mchunks[i].c_str());
    int rc = sqlite3_prepare_v2(t->db, sql.c_str(), -1, &st, nullptr);
    if (rc != SQLITE_OK) return rc;
    sqlite3_bind_int64(st, 1, chunk);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW &&
        !decode_meta_chunk(mcol.type, cs, static_cast<const uint8_t*>(sqlite3_column_blob(st, 0)),
                                     static_cast<size_t>(sqlite3_column_bytes(st, 0)), &cc->meta[i]))
      rc = SQLITE_ERROR;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return rc;
    if (mcol.type != MetaType::text) continue;
    sql = string_printf("SELECT data FROM \"%w\".\"%w\" WHERE rowid = ?", t->schema.c_str(), t->n_mtext[i].c_str());
    rc = sqlite3_prepare_v2(t->db, sql.c_str(), -1, &st, nullptr);
    if (rc != SQLITE_OK) return rc;
    for (int j = 0; j < cs; j++) {
      int64_t rid;
      if (!c.rowid_at.find(pos_key(chunk, j), &rid)) continue;
      sqlite3_reset(st);
      sqlite3_bind_int64(st, 1, rid);
      if (sqlite3_step(st) != SQLITE_ROW) continue;
      set_long_text(cc, i, j, st, 0);
    }
    sqlite3_finalize(st);
  }
  return SQLITE_OK;
}

// INSERT: checks partition, aux and metadata values (argv as in xUpdate).
int cols_check_insert(Table* t, sqlite3_value** argv, RowCols* rc) {
  const Config& cfg = t->cfg;
  std::string err;
  rc->part.resize(cfg.pcols.size());
  for (size_t i = 0; i < cfg.pcols.size(); i++)
    if (!check_partition_value(cfg.pcols[i], argv[cfg.argv_of(ColKind::partition, static_cast<int>(i))], &rc->part[i], &err)) {
      set_err(t, err);
      return SQLITE_ERROR;
    }
  rc->aux.resize(cfg.acols.size());
  rc->aux_set.assign(cfg.acols.size(), true);
  for (size_t i = 0; i < cfg.acols.size(); i++)
    if (!check_aux_value(cfg.acols[i], argv[cfg.argv_of(ColKind::aux, static_cast<int>(i))], &rc->aux[i], &err)) {
      set_err(t, err);
      return SQLITE_ERROR;
    }
  rc->meta.resize(cfg.mcols.size());
  rc->meta_set.assign(cfg.mcols.size(), true);
  for (size_t i = 0; i < cfg.mcols.size(); i++)
    if (!check_metadata_value(cfg.mcols[i], argv[cfg.argv_of(ColKind::metadata, static_cast<int>(i))], &rc->meta[i], &err)) {
      set_err(t, err);
      return SQLITE_ERROR;
    }
  return SQLITE_OK;
}

// UPDATE: partition keys cannot change; aux (type-checked, unlike 0.1.9) and metadata may.
int cols_check_update(Table* t, sqlite3_value** argv, RowCols* rc) {
  const Config& cfg = t->cfg;
  std::string err;
  for (size_t i = 0; i < cfg.pcols.size(); i++)
    if (!sqlite3_value_nochange(argv[cfg.argv_of(ColKind::partition, static_cast<int>(i))])) {
      set_err(t, "UPDATE on partition key columns are not supported yet. ");
      return SQLITE_ERROR;
    }
  rc->aux.resize(cfg.acols.size());
  rc->aux_set.assign(cfg.acols.size(), false);
  for (size_t i = 0; i < cfg.acols.size(); i++) {
    sqlite3_value* v = argv[cfg.argv_of(ColKind::aux, static_cast<int>(i))];
    if (sqlite3_value_nochange(v)) continue;
    if (!check_aux_value(cfg.acols[i], v, &rc->aux[i], &err)) {
      set_err(t, err);
      return SQLITE_ERROR;
    }
    rc->aux_set[i] = true;
  }
  rc->meta.resize(cfg.mcols.size());
  rc->meta_set.assign(cfg.mcols.size(), false);
  for (size_t i = 0; i < cfg.mcols.size(); i++) {
    sqlite3_value* v = argv[cfg.argv_of(ColKind::metadata, static_cast<int>(i))];
    if (sqlite3_value_nochange(v)) continue;
    if (!check_metadata_value(cfg.mcols[i], v, &rc->meta[i], &err)) {
      set_err(t, err);
      return SQLITE_ERROR;
    }
    rc->meta_set[i] = true;
  }
  return SQLITE_OK;
}

// Writes metadata column i of slot (chunk, off) for user row `rowid`: chunk blob bytes, the
// null tail, the long-text side table; and the cache.
int cols_write_meta(Table* t, size_t i, int64_t chunk, int off, int64_t rowid, const Value& v) {
  ChunkCols* cc = chunk_cols_of(t->cache_mut(), chunk);
  if (cc == nullptr) {
    set_err(t, string_printf("%smissing chunk %lld", kInternal, static_cast<long long>(chunk)));
    return SQLITE_ERROR;
  }
  const MetadataColumn& mcol = t->cfg.mcols[i];
  MetaChunk& mc = cc->meta[i];
  const int cs = t->cfg.chunk_size;
  const int base = static_cast<int>(meta_base_bytes(mcol.type, cs));
  const bool null = v.type == SQLITE_NULL;
  int rc;
  if (mcol.type == MetaType::text) {
    const bool was_long = !mc.is_null(off) && mc.s[static_cast<size_t>(off)].size() > 12;
    const bool is_long = !null && v.s.size() > 12;
    const char* sql = nullptr;
    if (is_long && was_long) sql = "UPDATE \"%w\".\"%w\" SET data = ?2 WHERE rowid = ?1";
    else if (is_long) sql = "INSERT INTO \"%w\".\"%w\" (rowid, data) VALUES (?1, ?2)";
    else if (was_long) sql = "DELETE FROM \"%w\".\"%w\" WHERE rowid = ?1";
    if (sql != nullptr) {
      sqlite3_stmt* st = nullptr;
      rc = prepare(t, string_printf(sql, t->schema.c_str(), t->n_mtext[i].c_str()), &st);
      if (rc != SQLITE_OK) return rc;
      sqlite3_bind_int64(st, 1, rowid);
      if (is_long) sqlite3_bind_text(st, 2, v.s.data(), static_cast<int>(v.s.size()), SQLITE_TRANSIENT);
      rc = step_done(t, st);
      if (rc != SQLITE_OK) return rc;
    }
  }
  if (null && mc.nulls.empty()) {  // first NULL of this chunk: append the null bitmap
    sqlite3_stmt* st = nullptr;
    rc = prepare(t, string_printf("SELECT data FROM \"%w\".\"%w\" WHERE rowid = ?", t->schema.c_str(), t->n_mchunks[i].c_str()), &st);
    if (rc != SQLITE_OK) return rc;
    sqlite3_bind_int64(st, 1, chunk);
    std::vector<uint8_t> bytes;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
      const uint8_t* d = static_cast<const uint8_t*>(sqlite3_column_blob(st, 0));
      const int n = sqlite3_column_bytes(st, 0);
      if (d != nullptr && n > 0) bytes.assign(d, d + n);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW || bytes.size() != static_cast<size_t>(base)) {
      set_err(t, string_printf("Could not extract metadata value for column %s at rowid %lld", mcol.name.c_str(),
                               static_cast<long long>(rowid)));
      return SQLITE_ERROR;
    }
    bytes.resize(bytes.size() + static_cast<size_t>(cs / 8), 0);
    rc = prepare(t, string_printf("UPDATE \"%w\".\"%w\" SET data = ?2 WHERE rowid = ?1", t->schema.c_str(), t->n_mchunks[i].c_str()), &st);
    if (rc != SQLITE_OK) return rc;
    sqlite3_bind_int64(st, 1, chunk);
    sqlite3_bind_blob(st, 2, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
    rc = step_done(t, st);
    if (rc != SQLITE_OK) return rc;
    mc.nulls.assign(static_cast<size_t>(cs / 8), 0);
  }
  set_meta_slot(mcol.type, &mc, off, v);
  uint8_t buf[16];
  int len = 0, at = 0;
  slot_bytes(mcol.type, mc, off, buf, &len, &at);
  rc = write_meta_bytes(t, i, chunk, buf, len, at);
  if (rc != SQLITE_OK) return rc;
  if (!mc.nulls.empty()) {
    uint8_t nb = mc.nulls[static_cast<size_t>(off / 8)];
    rc = write_meta_bytes(t, i, chunk, &nb, 1, base + off / 8);
    if (rc != SQLITE_OK) return rc;
  }
  return SQLITE_OK;
}

// Creates the metadata chunk rows of a new chunk.
int cols_new_chunk(Table* t, int64_t chunk) {
  for (size_t i = 0; i < t->cfg.mcols.size(); i++) {
    sqlite3_stmt* st = nullptr;
    int rc = prepare(t, string_printf("INSERT INTO \"%w\".\"%w\"(_rowid_, rowid, data) VALUES (?1, ?1, zeroblob(?2))",
                                      t->schema.c_str(), t->n_mchunks[i].c_str()), &st);
    if (rc != SQLITE_OK) return rc;
    sqlite3_bind_int64(st, 1, chunk);
    sqlite3_bind_int64(st, 2, static_cast<sqlite3_int64>(meta_base_bytes(t->cfg.mcols[i].type, t->cfg.chunk_size)));
    rc = step_done(t, st);
    if (rc != SQLITE_OK) return rc;
  }
  return SQLITE_OK;
}

// INSERT of a row at (chunk, off): aux row and metadata slots.
int cols_insert_row(Table* t, int64_t chunk, int off, int64_t rowid, const RowCols& rcols) {
  int rc;
  if (!t->cfg.acols.empty()) {
    std::string sql = string_printf("INSERT INTO \"%w\".\"%w\"(rowid", t->schema.c_str(), t->n_aux.c_str());
    std::string vals = "?";
    for (size_t i = 0; i < t->cfg.acols.size(); i++) {
      sql += string_printf(", value%02d", static_cast<int>(i));
      vals += ", ?";
    }
    sql += ") VALUES (" + vals + ")";
    sqlite3_stmt* st = nullptr;
    rc = prepare(t, sql, &st);
    if (rc != SQLITE_OK) return rc;
    sqlite3_bind_int64(st, 1, rowid);
    for (size_t i = 0; i < rcols.aux.size(); i++) bind_value(st, 2 + static_cast<int>(i), rcols.aux[i]);
    rc = step_done(t, st);
    if (rc != SQLITE_OK) return rc;
  }
  for (size_t i = 0; i < t->cfg.mcols.size(); i++) {
    rc = cols_write_meta(t, i, chunk, off, rowid, rcols.meta[i]);
    if (rc != SQLITE_OK) return rc;
  }
  return SQLITE_OK;
}

// UPDATE of the aux and metadata columns of a row.
int cols_update_row(Table* t, int64_t chunk, int off, int64_t rowid, const RowCols& rcols) {
  int rc;
  for (size_t i = 0; i < rcols.aux.size(); i++) {
    if (!rcols.aux_set[i]) continue;
    sqlite3_stmt* st = nullptr;
    rc = prepare(t, string_printf("UPDATE \"%w\".\"%w\" SET value%02d = ? WHERE rowid = ?", t->schema.c_str(),
                                  t->n_aux.c_str(), static_cast<int>(i)), &st);
    if (rc != SQLITE_OK) return rc;
    bind_value(st, 1, rcols.aux[i]);
    sqlite3_bind_int64(st, 2, rowid);
    rc = step_done(t, st);
    if (rc != SQLITE_OK) return rc;
  }
  for (size_t i = 0; i < rcols.meta.size(); i++) {
    if (!rcols.meta_set[i]) continue;
    rc = cols_write_meta(t, i, chunk, off, rowid, rcols.meta[i]);
    if (rc != SQLITE_OK) return rc;
  }
  return SQLITE_OK;
}

// DELETE of the row at (chunk, off): aux row, long texts, metadata slots (zeroed as 0.1.9 does),
// or the metadata chunk
// rows when the chunk goes away (`chunk_empty`). Cache: the chunk is dropped from its group.
int cols_delete_row(Table* t, int64_t chunk, int off, int64_t rowid, bool chunk_empty) {
  int rc;
  sqlite3_stmt* st = nullptr;
  if (!t->cfg.acols.empty()) {
    rc = prepare(t, string_printf("DELETE FROM \"%w\".\"%w\" WHERE rowid = ?", t->schema.c_str(), t->n_aux.c_str()), &st);
    if (rc != SQLITE_OK) return rc;
    sqlite3_bind_int64(st, 1, rowid);
    rc = step_done(t, st);
    if (rc != SQLITE_OK) return rc;
  }
  ChunkCols* cc = chunk_cols_of(t->cache_mut(), chunk);
  for (size_t i = 0; i < t->cfg.mcols.size(); i++) {
    const MetadataColumn& mcol = t->cfg.mcols[i];
    if (mcol.type == MetaType::text) {
      rc = prepare(t, string_printf("DELETE FROM \"%w\".\"%w\" WHERE rowid = ?", t->schema.c_str(), t->n_mtext[i].c_str()), &st);
      if (rc != SQLITE_OK) return rc;
      sqlite3_bind_int64(st, 1, rowid);
      rc = step_done(t, st);
      if (rc != SQLITE_OK) return rc;
    }
    if (chunk_empty) {
      rc = prepare(t, string_printf("DELETE FROM \"%w\".\"%w\" WHERE rowid = ?", t->schema.c_str(), t->n_mchunks[i].c_str()), &st);
      if (rc != SQLITE_OK) return rc;
      sqlite3_bind_int64(st, 1, chunk);
      rc = step_done(t, st);
      if (rc != SQLITE_OK) return rc;
    } else if (cc != nullptr) {
      MetaChunk& mc = cc->meta[i];
      const int base = static_cast<int>(meta_base_bytes(mcol.type, t->cfg.chunk_size));
      {
        set_meta_slot(mcol.type, &mc, off, Value());
        if (!mc.nulls.empty()) mc.nulls[static_cast<size_t>(off / 8)] = static_cast<uint8_t>(mc.nulls[static_cast<size_t>(off / 8)] & ~(1u << (off % 8)));
        uint8_t buf[16];
        int len = 0, at = 0;
        slot_bytes(mcol.type, mc, off, buf, &len, &at);
        rc = write_meta_bytes(t, i, chunk, buf, len, at);
        if (rc != SQLITE_OK) return rc;
      }
      if (!mc.nulls.empty()) {
        uint8_t nb = mc.nulls[static_cast<size_t>(off / 8)];
        rc = write_meta_bytes(t, i, chunk, &nb, 1, base + off / 8);
        if (rc != SQLITE_OK) return rc;
      }
    }
  }
  return SQLITE_OK;
}

// Cache side of a chunk deletion (after its arenas rows are gone).
void cols_forget_chunk(Cache& c, int64_t chunk) {
  ChunkCols* cc = chunk_cols_of(c, chunk);
  if (cc == nullptr) return;
  group_mut(c, static_cast<size_t>(cc->group)).chunks.erase(chunk);
  c.chunk_cols.erase(chunk);
  c.rowid_at.drop_chunk(chunk);
}

// Partition, metadata and aux values of the row at position `key` (internal rowid
// `rowid`). Partition and metadata come from the cache; aux values with one statement per row.
// The cursor caches the current row's aux values (aux_key / aux_vals).
int cols_column(Table* t, Cursor* cur, sqlite3_context* ctx,
                const ColRef& ref, int64_t key, int64_t rowid) {
  const ChunkCols* cc = chunk_cols_of(t->cache(), pos_chunk(key));
  if (ref.kind == ColKind::partition) {
    if (cc != nullptr)
      result_value(ctx, t->cache().groups[static_cast<size_t>(cc->group)]->tuple[static_cast<size_t>(ref.idx)]);
    return SQLITE_OK;
  }
  if (ref.kind == ColKind::metadata) {
    if (cc != nullptr)
      result_meta(ctx, t->cfg.mcols[static_cast<size_t>(ref.idx)].type, cc->meta[static_cast<size_t>(ref.idx)], pos_offset(key));
    return SQLITE_OK;
  }
  if (cur->aux_key != key) {
    sqlite3_stmt* st = nullptr;
    int rc = prepare(t, t->sql_aux_select, &st);
    if (rc != SQLITE_OK) {
      sqlite3_result_error(ctx, t->base.zErrMsg != nullptr ? t->base.zErrMsg : "vec0: aux read failed", -1);
      return rc;
    }
    sqlite3_bind_int64(st, 1, rowid);
    cur->aux_vals.assign(t->cfg.acols.size(), Value());
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
      for (size_t i = 0; i < t->cfg.acols.size(); i++) cur->aux_vals[i] = value_of(sqlite3_column_value(st, static_cast<int>(i)));
    } else if (rc != SQLITE_DONE) {
      sqlite3_result_error(ctx, sqlite3_errmsg(t->db), -1);
      sqlite3_reset(st);
      return rc;
    }
    sqlite3_reset(st);
    cur->aux_key = key;
  }
  result_value(ctx, cur->aux_vals[static_cast<size_t>(ref.idx)]);
  return SQLITE_OK;
}

}  // namespace vec0
}  // namespace vecsqlite
