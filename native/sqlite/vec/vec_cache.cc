// The per-connection in-memory index of each dataset (DatasetIndex) and the rules that decide
// when it can be trusted (see FRESHNESS in vec_int.h): incremental application of this
// connection's own writes, loading a saved blob, or a full build from the data table.
#include <algorithm>
#include <cmath>
#include <string>
#include <unordered_map>
#include <vector>

#include "sqlite/codec.h"
#include "sqlite/vec/vec_index.h"
#include "sqlite/vec/vec_int.h"

namespace vecsqlite {
namespace vec {

Counter g_full_builds("full_builds"), g_blob_loads("blob_loads"), g_incremental_rows("incremental_rows");

Counter g_data_copies("vec_data_copies");

DatasetData::DatasetData(const DatasetData& o)
    : dim(o.dim),
      arena(o.arena ? new Arena(*o.arena) : nullptr),
      id_of(o.id_of),
      rowid_of(o.rowid_of),
      graph(o.graph ? o.graph->clone() : nullptr),
      outside(o.outside),
      graph_wanted(o.graph_wanted),
      graph_params(o.graph_params) {}

DatasetData& DatasetIndex::own_data() {
  share_unlist(this);
  if (data.use_count() > 1) {
    data = std::make_shared<DatasetData>(*data);
    g_data_copies.add();
  }
  return *data;
}

void DatasetIndex::reset() {
  loaded = false;
  pending.clear();
  broken = false;
  revalidate = false;
  share_unlist(this);
  data = std::make_shared<DatasetData>();
}

namespace {

// Encodes `ix` as a VSQ1 blob (HNS1 when it has a graph) and saves it (skipped when it would
// exceed SQLite's length limit).
void write_blob(sqlite3* db, const std::string& schema, const std::string& shadow, const std::string& dataset,
                const DatasetIndex& dix) {
  const size_t limit = size_t(sqlite3_limit(db, SQLITE_LIMIT_LENGTH, -1));
  const DatasetData& ix = dix.d();
  std::vector<uint8_t> blob;
  vsq1_begin(&blob, uint32_t(ix.dim), dix.token);
  uint32_t n = 0;
  if (ix.arena) {
    const size_t est = 28 + ix.arena->size() * (ix.arena->row_bytes() + 12 + 16);
    if (est > limit) return;
    for (size_t s = 0; s < ix.arena->size(); s++) {
      const int64_t rid = ix.arena->id_at(s);
      const std::string* id = ix.id_of.find(rid);
      vsq1_add_row(&blob, rid, id == nullptr ? std::string() : *id,
                   static_cast<const float*>(ix.arena->row_at(s)), uint32_t(ix.dim));
      n++;
    }
  }
  vsq1_finish(&blob, n);
  if (ix.graph) {
    std::vector<uint8_t> part;
    graph_encode(*ix.graph, &part);
    std::vector<uint8_t> vsq;
    vsq.swap(blob);
    hns1_encode(&blob, vsq, part);
  }
  if (blob.size() > limit) return;
  store_blob(db, schema, shadow, dataset, blob);
}

// Index of the first NaN or Inf element of v[0..dim), or dim when every element is finite.
size_t first_non_finite(const float* v, size_t dim) {
  for (size_t i = 0; i < dim; i++) {
    if (!std::isfinite(v[i])) return i;
  }
  return dim;
}

void add_row(DatasetData* ix, int64_t rowid, const std::string& id, const float* v) {
  auto old = ix->rowid_of.find(id);
  if (old != ix->rowid_of.end() && old->second != rowid) {  // INSERT OR REPLACE moved the id
    graph_remove(ix, old->second);
    ix->arena->remove(old->second);
    ix->id_of.erase(old->second);
  }
  const std::string* prev = ix->id_of.find(rowid);
  if (prev != nullptr && *prev != id) ix->rowid_of.erase(*prev);
  graph_remove(ix, rowid);  // an update re-links the node
  ix->arena->upsert(rowid, v);
  graph_add(ix, rowid);
  ix->id_of.set(rowid, id);
  ix->rowid_of[id] = rowid;
}

void remove_row(DatasetData* ix, int64_t rowid) {
  const std::string* id = ix->id_of.find(rowid);
  if (id == nullptr) return;
  graph_remove(ix, rowid);
  if (ix->arena) ix->arena->remove(rowid);
  auto r = ix->rowid_of.find(*id);
  if (r != ix->rowid_of.end() && r->second == rowid) ix->rowid_of.erase(r);
  ix->id_of.erase(rowid);
}

// Checks one data-table embedding and adds it. Returns false with *err naming the row.
bool take_embedding(DatasetData* ix, const std::string& dataset, const DataRow& row, std::vector<float>* scratch,
                    std::string* err) {
  const float* v = nullptr;
  size_t dim = 0;
  switch (decode_f32_le(row.blob, size_t(row.nbytes), scratch, &v, &dim)) {
    case DecodeStatus::empty:
      remove_row(ix, row.rowid);  // no vector: not searchable
      return true;
    case DecodeStatus::bad_length:
      *err = string_printf("vec: dataset %Q row %lld (id %Q): invalid embedding blob length %d", dataset.c_str(),
                           (long long)row.rowid, row.id.c_str(), row.nbytes);
      return false;
    case DecodeStatus::ok:
      break;
  }
  if (ix->dim == 0 && ix->arena == nullptr) {
    ix->dim = dim;
    ix->arena.reset(new Arena(Dtype::f32, dim));
  }
  if (dim != ix->dim) {
    *err = string_printf("vec: dataset %Q row %lld (id %Q): embedding dimension %d differs from the dataset's %d",
                         dataset.c_str(), (long long)row.rowid, row.id.c_str(), int(dim), int(ix->dim));
    return false;
  }
  const size_t bad = first_non_finite(v, dim);
  if (bad < dim) {
    *err = string_printf("vec: dataset %Q row %lld (id %Q): embedding element %d is %s", dataset.c_str(),
                         (long long)row.rowid, row.id.c_str(), int(bad), std::isnan(v[bad]) ? "NaN" : "Inf");
    return false;
  }
  add_row(ix, row.rowid, row.id, v);
  return true;
}

// Full build of one dataset from the data table (with its graph when `t` asks for one).
int build_from_table(const Table* t, sqlite3* db, const std::string& schema, const std::string& table,
                     const std::string& dataset, DatasetIndex* ix, std::string* err) {
  ix->reset();
  DatasetData& d = ix->own_data();
  std::vector<float> scratch;
  const int rc = for_each_embedding(
      db, schema, table, dataset,
      [&](const DataRow& row) { return take_embedding(&d, dataset, row, &scratch, err); }, err);
  if (rc != SQLITE_OK) {
    ix->reset();
    return rc;
  }
  if (t != nullptr && t->hnsw) graph_build(t, &d);
  ix->loaded = true;
  g_full_builds.add();
  return SQLITE_OK;
}

// Fills `ix` from a decoded blob. False (and `ix` reset) when the blob cannot be trusted.
bool load_decoded(sqlite3* db, const std::string& schema, const std::string& table, const std::string& dataset,
                  const DecodedIndex& d, DatasetIndex* dix) {
  dix->reset();
  DatasetData* ix = &dix->own_data();
  ix->dim = d.dim;
  if (d.dim > 0) {
    ix->arena.reset(new Arena(Dtype::f32, d.dim));
    ix->arena->reserve(d.rows.size());
    ix->id_of.reserve(d.rows.size());
    ix->rowid_of.reserve(d.rows.size());
  }
  std::unordered_map<std::string, int64_t> rowids;
  bool good = d.dim > 0 || d.rows.empty();
  // The legacy format has no rowids: resolve them (a missing id means the blob is stale).
  if (good && d.kind == BlobKind::legacy) good = rowids_by_id(db, schema, table, dataset, &rowids);
  std::vector<float> scratch;
  for (const IndexRow& r : d.rows) {
    if (!good) break;
    int64_t rid = r.rowid;
    if (d.kind == BlobKind::legacy) {
      auto it = rowids.find(r.id);
      if (it == rowids.end()) {
        good = false;
        break;
      }
      rid = it->second;
    }
    const float* v = nullptr;
    size_t dim = 0;
    // Saved by a version that accepted NaN/Inf: not trusted; the rebuild from the table names
    // the row.
    if (decode_f32_le(r.vec, size_t(d.dim) * 4, &scratch, &v, &dim) != DecodeStatus::ok ||
        first_non_finite(v, dim) < dim) {
      good = false;
      break;
    }
    add_row(ix, rid, r.id, v);
  }
  if (!good) dix->reset();
  return good;
}

// Loads a stored blob when it can be trusted. Returns true when `ix` is loaded from it. With
// index=hnsw the graph comes from an HNS1 blob's graph part, or is built from the loaded rows
// (a blob without a graph, or a damaged one) and the blob is rewritten with it.
bool load_from_blob(Table* t, const std::string& dataset, int64_t token, DatasetIndex* ix) {
  bool rewrite = false;
  const bool ok = with_stored_blob(t->db, t->schema, t->shadow, dataset, [&](const uint8_t* bytes, size_t n) {
    const DecodedIndex d = decode_index_blob(bytes, n);
    const bool versioned = d.kind == BlobKind::vsq1 || d.kind == BlobKind::hns1;
    if (!((versioned && d.token == token) || d.kind == BlobKind::legacy)) return false;
    if (!load_decoded(t->db, t->schema, t->data_table, dataset, d, ix)) return false;
    if (!t->hnsw) return true;
    DatasetData& data = ix->own_data();
    if (d.kind == BlobKind::hns1 && d.graph_crc_ok && graph_load(t, &data, d.graph, d.graph_bytes)) return true;
    if (d.kind == BlobKind::hns1) g_graph_rebuilds.add();  // damaged, or not matching the rows
    graph_build(t, &data);
    rewrite = data.graph != nullptr;  // an empty dataset has no graph to save
    return true;
  });
  if (ok) {
    ix->loaded = true;
    ix->token = token;
    g_blob_loads.add();
    if (rewrite) write_blob(t->db, t->schema, t->shadow, dataset, *ix);
  }
  return ok;
}

// Re-reads the rows this connection wrote since the cache was synced. Each recorded write names
// a rowid and an id: both are dropped from the index, then whatever the table now holds under
// that rowid or under (dataset, id) is added back. Naming the id catches rows that INSERT OR
// REPLACE deleted without firing the delete trigger.
int apply_pending(Table* t, const std::string& dataset, DatasetIndex* ix, std::string* err) {
  std::vector<std::pair<int64_t, std::string>> rows;
  rows.swap(ix->pending);
  std::sort(rows.begin(), rows.end());
  rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
  DatasetData* d = &ix->own_data();
  for (const auto& r : rows) {
    remove_row(d, r.first);
    auto it = d->rowid_of.find(r.second);
    if (it != d->rowid_of.end()) remove_row(d, it->second);
  }
  Stmt st(t->db, written_rows_sql(t));
  int rc = st.rc();
  if (rc != SQLITE_OK) *err = sqlite3_errmsg(t->db);
  std::vector<float> scratch;
  for (size_t i = 0; rc == SQLITE_OK && i < rows.size(); i++) {
    rc = for_each_written_row(
        &st, dataset, rows[i].first, rows[i].second,
        [&](const DataRow& row) { return take_embedding(d, dataset, row, &scratch, err); }, err);
  }
  g_incremental_rows.add(int64_t(rows.size()));
  return rc;
}

}  // namespace

int acquire(Table* t, const std::string& dataset, DatasetIndex** out, std::string* err) {
  if (!t->ensured) {
    std::string ignored;
    // Best effort (a read-only database cannot get triggers; it cannot be written either).
    ensure_schema(t, &ignored);
    t->ensured = true;
  }
  int64_t token = 0;
  int rc = read_token(t, dataset, &token);
  const bool token_known = rc == SQLITE_OK;
  DatasetIndex& ix = t->cache[dataset];
  bool skip_blob = false;
  if (ix.revalidate) {
    // Explicit invalidation: keep the cache only when the triggers (hence the token) cover
    // every write; a table written behind their back is rebuilt from the table itself (its
    // stored blob, and any copy another connection shares, carry the same, unmoved token).
    if (triggers_present(t)) {
      ix.revalidate = false;
    } else {
      ix.reset();
      skip_blob = true;
      share_forget(t->db, t->schema, t->data_table, dataset);
    }
  }
  if (ix.loaded && token_known && !ix.broken) {
    if (ix.pending.empty() && ix.token == token) {
      *out = &ix;
      return SQLITE_OK;
    }
    const size_t size = ix.d().arena ? ix.d().arena->size() : 0;
    if (!ix.pending.empty() && ix.pending_token == token && ix.pending.size() <= size / 2 + 64) {
      rc = apply_pending(t, dataset, &ix, err);
      if (rc != SQLITE_OK) {
        ix.reset();
        return rc;
      }
      ix.token = token;
      const Arena* a = ix.d().arena.get();
      if (a && a->size() * a->row_bytes() <= kRepersistBytes) write_blob(t->db, t->schema, t->shadow, dataset, ix);
      share_publish(t, dataset, &ix);
      *out = &ix;
      return SQLITE_OK;
    }
  }
  // Another connection of the process may hold this dataset at this token already.
  if (token_known && !skip_blob && share_adopt(t, dataset, token, &ix)) {
    *out = &ix;
    return SQLITE_OK;
  }
  ix.reset();
  if (token_known && !skip_blob && load_from_blob(t, dataset, token, &ix)) {
    share_publish(t, dataset, &ix);
    *out = &ix;
    return SQLITE_OK;
  }
  rc = build_from_table(t, t->db, t->schema, t->data_table, dataset, &ix, err);
  if (rc != SQLITE_OK) return rc;
  ix.token = token;
  write_blob(t->db, t->schema, t->shadow, dataset, ix);
  if (!token_known) ix.loaded = false;  // cannot be validated later: rebuild every time
  else share_publish(t, dataset, &ix);
  *out = &ix;
  return SQLITE_OK;
}

int reindex(sqlite3* db, const std::string& schema, const std::string& table, const std::string& dataset,
            int64_t* count, std::string* err) {
  try {
    const std::string shadow = schema + "." + table;
    int rc = ensure_storage_tables(db, schema, err);
    int64_t token = 0;
    if (rc == SQLITE_OK) rc = read_token(db, schema, shadow, dataset, &token);
    if (rc != SQLITE_OK) {
      if (err->empty()) *err = sqlite3_errmsg(db);
      return rc;
    }
    DatasetIndex ix;
    rc = build_from_table(nullptr, db, schema, table, dataset, &ix, err);
    if (rc != SQLITE_OK) return rc;
    ix.token = token;
    write_blob(db, schema, shadow, dataset, ix);
    *count = ix.d().arena ? int64_t(ix.d().arena->size()) : 0;
    share_forget(db, schema, table, dataset);
    std::lock_guard<std::mutex> lock(registry_mu());
    for (Table* t : registry()) {
      if (t->shadow != shadow) continue;
      InstanceLock tl(t);
      auto it = t->cache.find(dataset);
      if (it != t->cache.end()) it->second.reset();
    }
    return SQLITE_OK;
  } catch (...) {
    *err = "vec_admin: out of memory";
    return SQLITE_NOMEM;
  }
}

}  // namespace vec
}  // namespace vecsqlite
