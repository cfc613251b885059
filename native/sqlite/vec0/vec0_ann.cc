// vec0 graph indexes: the HNSW graph (core/hnsw.h) of each `indexed by hnsw(...)` column (and
// of `ivf(...)` / `diskann(...)` declarations, which map to it), kept beside the cache.
//
// STORAGE. "<t>_hnswNN"(rowid INTEGER PRIMARY KEY, data BLOB NOT NULL): rowid -1 holds the
// graph's state (HnswIndex::encode_meta), rowid b >= 0 the nodes of block b (encode_block:
// 16 nodes with their ids, levels and links, CRC-sealed). Traversal rows are not stored: they
// are rebuilt from the vectors when the graph is loaded. "<t>_info" key
// 'vecsqlite_ef_search' holds the default search effort set by the 'ef_search=N' command.
//
// LIFECYCLE. A graph is loaded on first use (a KNN on its column, or the first write of a
// transaction) and shared by every statement of the connection. It reflects the COMMITTED
// table: a write transaction records the position keys it writes in Table::touched; queries
// inside it take those rows from an exact scan and never from the graph; xSync removes and
// re-inserts them (several threads when many) and writes the blocks that changed, in the same
// transaction as the rows, so a crash leaves both or neither. A ROLLBACK after the graph
// changed reloads it; another connection's commit changes the table's marker, and the graph
// is reloaded from its shadow table at next use. A stored graph whose nodes do not match the
// rows is rebuilt in memory (counter hnsw_rebuilds) and written back at the next write; a
// damaged blob is an error naming the table and the 'rebuild' command.
#include <algorithm>
#include <cstdlib>
#include <thread>

#include "core/stats.h"
#include "sqlite/vec0/vec0_int.h"

namespace vecsqlite {
namespace vec0 {
namespace {

Counter g_loads("hnsw_loads");
Counter g_builds("hnsw_builds");
Counter g_rebuilds("hnsw_rebuilds");
Counter g_searches("hnsw_searches");
Counter g_fallbacks("hnsw_exact_fallbacks");
Counter g_copies("hnsw_copies");

constexpr const char* kEfKey = "vecsqlite_ef_search";
constexpr uint32_t kMaxEf = 10000;

size_t build_threads() { return std::max<size_t>(1, std::thread::hardware_concurrency()); }

const void* row_of(Table* t, size_t col, int64_t key) {
  const Arena* a = arena_ptr(t->cache(), key, col);
  return a != nullptr ? a->find(key) : nullptr;
}

std::string way_out(const Table* t) {
  return string_printf("rebuild it with INSERT INTO \"%s\"(\"%s\") VALUES ('rebuild')", t->name.c_str(), t->name.c_str());
}

// The column's graph made this connection's own before a change (a copy while another
// connection shares it), or replaced by an empty one before a load or build.
AnnGraph& own_graph(Table* t, size_t col) {
  Ann& a = t->ann[col];
  ann_unlist(t, col);
  if (a.st.use_count() > 1) {
    auto g = std::make_shared<AnnGraph>();
    g->index = a.st->index->clone();
    g->outside = a.st->outside;
    a.st = std::move(g);
    g_copies.add();
  }
  return *a.st;
}

AnnGraph& fresh_graph(Table* t, size_t col) {
  Ann& a = t->ann[col];
  ann_unlist(t, col);
  if (a.st.use_count() > 1) {
    const HnswIndex& old = *a.st->index;
    auto g = std::make_shared<AnnGraph>();
    g->index.reset(new HnswIndex(old.dtype(), old.dim(), old.metric(), old.params()));
    a.st = std::move(g);
  } else {
    a.st->index->clear();
    a.st->outside.clear();
  }
  return *a.st;
}

// Builds the graph of column `col` from the cache's rows (every row, on every core).
void build(Table* t, size_t col) {
  Ann& a = t->ann[col];
  AnnGraph& ag = fresh_graph(t, col);
  std::vector<int64_t> ids;
  std::vector<const void*> rows;
  for (const Group& g : each_group(t->cache())) {
    const Arena& ar = g.arenas[col];
    for (size_t s = 0; s < ar.size(); s++) {
      const void* row = ar.row_at(s);
      if (ag.index->accepts(row)) {
        ids.push_back(ar.id_at(s));
        rows.push_back(row);
      } else {
        ag.outside.insert(ar.id_at(s));
      }
    }
  }
  ag.index->insert_many(ids.data(), rows.data(), ids.size(), build_threads());
  ag.index->mark_all_dirty();
  a.persist_all = true;
  a.loaded = true;
  a.has_marker = t->cache().has_marker;
  a.marker = t->cache().marker;
  g_builds.add();
}

int read_ef_default(Table* t) {
  Stmt st(t->db, string_printf("SELECT value FROM \"%w\".\"%w\" WHERE key = '%s'", t->schema.c_str(),
                               t->n_info.c_str(), kEfKey));
  if (!st.ok()) return st.rc();
  const int rc = sqlite3_step(st.get());
  if (rc == SQLITE_ROW) {
    const int64_t ef = sqlite3_column_int64(st.get(), 0);
    if (ef >= 1 && ef <= kMaxEf)
      for (size_t i = 0; i < t->ann.size(); i++) t->ann[i].ef_search = static_cast<uint32_t>(ef);
    return SQLITE_OK;
  }
  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

// Loads the stored graph of column `col`. SQLITE_OK with *consistent false when the stored
// nodes do not match the rows (the caller rebuilds); an error for a damaged blob.
int load(Table* t, size_t col, bool* consistent) {
  Ann& a = t->ann[col];
  const VectorColumn& vc = t->cfg.vcols[col];
  *consistent = false;
  AnnGraph& ag = fresh_graph(t, col);
  a.loaded = false;
  int rc = read_ef_default(t);
  if (rc != SQLITE_OK) return rc;
  Stmt st(t->db, string_printf("SELECT rowid, data FROM \"%w\".\"%w\" ORDER BY rowid", t->schema.c_str(),
                               t->n_hnsw[col].c_str()));
  rc = st.rc();
  if (rc != SQLITE_OK) {
    set_err(t, string_printf("vec0 table \"%s\": cannot read the index of column \"%s\": %s", t->name.c_str(),
                             vc.name.c_str(), sqlite3_errmsg(t->db)));
    return rc;
  }
  std::string err;
  bool has_meta = false;
  size_t next_block = 0;
  auto damaged = [&](const std::string& why) {
    ag.index->clear();
    set_err(t, string_printf("vec0 table \"%s\": the hnsw index of column \"%s\" is damaged (%s); %s", t->name.c_str(),
                             vc.name.c_str(), why.c_str(), way_out(t).c_str()));
    return SQLITE_CORRUPT_VTAB;
  };
  while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
    const int64_t rowid = sqlite3_column_int64(st.get(), 0);
    const void* data = sqlite3_column_blob(st.get(), 1);
    const size_t n = static_cast<size_t>(sqlite3_column_bytes(st.get(), 1));
    if (!has_meta) {
      if (rowid != -1) return damaged("its state row is missing");
      if (!ag.index->decode_meta(data, n, &err)) return damaged(err);
      has_meta = true;
      continue;
    }
    if (rowid < 0 || static_cast<size_t>(rowid) != next_block || next_block >= ag.index->blocks())
      return damaged(string_printf("unexpected block %lld", static_cast<long long>(rowid)));
    if (!ag.index->decode_block(next_block, data, n, &err)) return damaged(err);
    next_block++;
  }
  if (rc != SQLITE_DONE) {
    set_err(t, string_printf("vec0 table \"%s\": cannot read the index of column \"%s\": %s", t->name.c_str(),
                             vc.name.c_str(), sqlite3_errmsg(t->db)));
    return rc;
  }
  if (!has_meta) {  // never written: consistent only with no rows
    size_t rows = 0;
    for (const Group& g : each_group(t->cache())) rows += g.arenas[col].size();
    *consistent = rows == 0;
    if (*consistent) a.loaded = true;
    return SQLITE_OK;
  }
  if (next_block != ag.index->blocks()) return damaged(string_printf("block %lld is missing", static_cast<long long>(next_block)));
  if (!ag.index->finish_load([&](int64_t id) { return row_of(t, col, id); }, &err)) {
    ag.index->clear();
    return SQLITE_OK;  // nodes without rows: inconsistent, rebuilt by the caller
  }
  // Every row must be a node, or one the graph cannot place.
  for (const Group& g : each_group(t->cache())) {
    const Arena& ar = g.arenas[col];
    for (size_t s = 0; s < ar.size(); s++) {
      const int64_t id = ar.id_at(s);
      if (ag.index->contains(id)) continue;
      if (ag.index->accepts(ar.row_at(s))) {
        ag.index->clear();
        ag.outside.clear();
        return SQLITE_OK;
      }
      ag.outside.insert(id);
    }
  }
  a.loaded = true;
  *consistent = true;
  g_loads.add();
  return SQLITE_OK;
}

// Writes the graph's changed blocks (all of them after a build) and its state row.
int persist(Table* t, size_t col) {
  Ann& a = t->ann[col];
  const char* sc = t->schema.c_str();
  const char* tn = t->n_hnsw[col].c_str();
  std::string err;
  AnnGraph& ag = own_graph(t, col);
  std::vector<size_t> blocks = ag.index->take_dirty_blocks();
  if (a.persist_all) {
    int rc = exec_sql(t->db, string_printf("DELETE FROM \"%w\".\"%w\"", sc, tn), &err);
    if (rc != SQLITE_OK) {
      set_err(t, err);
      return rc;
    }
    blocks.clear();
    for (size_t b = 0; b < ag.index->blocks(); b++) blocks.push_back(b);
  }
  sqlite3_stmt* put = nullptr;
  int rc = prepare(t, string_printf("INSERT OR REPLACE INTO \"%w\".\"%w\"(rowid, data) VALUES (?, ?)", sc, tn), &put);
  if (rc != SQLITE_OK) return rc;
  auto write = [&](int64_t rowid, const std::string& bytes) {
    sqlite3_bind_int64(put, 1, rowid);
    sqlite3_bind_blob(put, 2, bytes.data(), static_cast<int>(bytes.size()), SQLITE_STATIC);
    return step_done(t, put);
  };
  for (size_t b : blocks) {
    if (b >= ag.index->blocks()) continue;
    rc = write(static_cast<int64_t>(b), ag.index->encode_block(b));
    if (rc != SQLITE_OK) return rc;
  }
  rc = write(-1, ag.index->encode_meta());
  if (rc != SQLITE_OK) return rc;
  sqlite3_stmt* trim = nullptr;
  rc = prepare(t, string_printf("DELETE FROM \"%w\".\"%w\" WHERE rowid >= ?", sc, tn), &trim);
  if (rc != SQLITE_OK) return rc;
  sqlite3_bind_int64(trim, 1, static_cast<int64_t>(ag.index->blocks()));
  rc = step_done(t, trim);
  if (rc == SQLITE_OK) a.persist_all = false;
  return rc;
}

// Ids a graph search may return: not written by the open transaction, and (when a filter
// applies) set in a bitmap over the position keys [lo, lo + 64 * bits.size()).
class Admit : public IdFilter {
 public:
  const std::unordered_set<int64_t>* touched = nullptr;
  bool use_bits = false;
  int64_t lo = 0;
  std::vector<uint64_t> bits;
  bool admits(int64_t id) const override {
    if (use_bits) {
      if (id < lo) return false;
      const uint64_t off = static_cast<uint64_t>(id - lo);
      if (off / 64 >= bits.size() || !((bits[off / 64] >> (off % 64)) & 1)) return false;
    }
    return touched == nullptr || touched->count(id) == 0;
  }
  void set(int64_t id) {
    const uint64_t off = static_cast<uint64_t>(id - lo);
    bits[off / 64] |= 1ULL << (off % 64);
  }
};

bool filter_has(const RowFilter& f, size_t slot, std::unordered_set<size_t>* slot_set) {
  switch (f.kind) {
    case RowFilter::Kind::all: return true;
    case RowFilter::Kind::bitmap: return slot / 64 < f.bits.size() && ((f.bits[slot / 64] >> (slot % 64)) & 1);
    case RowFilter::Kind::slots:
      if (slot_set->empty() && !f.slots.empty()) slot_set->insert(f.slots.begin(), f.slots.end());
      return slot_set->count(slot) != 0;
  }
  return false;
}

// Largest bitmap over position keys a filtered graph search builds (bits).
constexpr uint64_t kMaxAdmitBits = uint64_t{1} << 27;

}  // namespace

int ann_init(Table* t) {
  if (!t->cfg.any_graph()) return SQLITE_OK;
  t->ann.resize(t->cfg.vcols.size());
  for (size_t i = 0; i < t->cfg.vcols.size(); i++) {
    const VectorColumn& vc = t->cfg.vcols[i];
    if (!vc.index.graph()) continue;
    HnswParams p;
    p.m = vc.index.m;
    p.ef_construction = vc.index.ef_construction;
    t->ann[i].st = std::make_shared<AnnGraph>();
    t->ann[i].st->index.reset(new HnswIndex(vc.type, static_cast<size_t>(vc.dims), vc.metric, p));
    t->ann[i].ef_search = vc.index.ef_search;
  }
  const int rc = read_ef_default(t);
  if (rc != SQLITE_OK) set_err(t, string_printf("vec0 table \"%s\": %s", t->name.c_str(), sqlite3_errmsg(t->db)));
  return rc;
}

int ann_default_ef(Table* t, size_t col, uint32_t* ef) {
  if (t->ef_reread) {  // a rolled-back 'ef_search=N': back to the declared or stored default
    for (size_t i = 0; i < t->ann.size(); i++) t->ann[i].ef_search = t->cfg.vcols[i].index.ef_search;
    const int rc = read_ef_default(t);
    if (rc != SQLITE_OK) return rc;
    t->ef_reread = false;
  }
  *ef = t->ann[col].ef_search;
  return SQLITE_OK;
}

int ann_ensure(Table* t, size_t col) {
  Ann& a = t->ann[col];
  const bool current = a.loaded && a.has_marker && t->cache().has_marker && a.marker == t->cache().marker;
  if (current) return SQLITE_OK;
  if (a.loaded && !t->touched.empty()) return SQLITE_OK;  // no commit can intervene mid-transaction
  // Another connection of the process may hold the graph of this committed state already.
  if (t->touched.empty() && ann_try_adopt(t, col)) {
    a.loaded = true;
    a.has_marker = true;
    a.marker = t->cache().marker;
    return SQLITE_OK;
  }
  bool consistent = false;
  if (t->touched.empty()) {
    const int rc = load(t, col, &consistent);
    if (rc != SQLITE_OK) return rc;
    if (!consistent) g_rebuilds.add();  // the stored graph is missing nodes or has extra ones
  }
  if (!consistent) {
    build(t, col);  // from the rows as this connection sees them (see the invariant at Ann)
    if (!t->touched.empty()) t->ann_changed = true;
  }
  a.has_marker = t->cache().has_marker;
  a.marker = t->cache().marker;
  if (t->touched.empty()) ann_publish(t, col);
  return SQLITE_OK;
}

int ann_before_write(Table* t) {
  for (size_t i = 0; i < t->ann.size(); i++) {
    if (!t->ann[i].indexed()) continue;
    const int rc = ann_ensure(t, i);
    if (rc != SQLITE_OK) return rc;
  }
  return SQLITE_OK;
}

int ann_command(Table* t, sqlite3_value* cmd) {
  if (sqlite3_value_type(cmd) != SQLITE_TEXT) {
    set_err(t, string_printf("vec0 table \"%s\": a command must be TEXT", t->name.c_str()));
    return SQLITE_ERROR;
  }
  const std::string c = reinterpret_cast<const char*>(sqlite3_value_text(cmd));
  const size_t eq = c.find('=');
  const std::string key = eq == std::string::npos ? c : c.substr(0, eq);
  const bool has_graph = !t->ann.empty();
  auto no_graph = [&]() {
    set_err(t, string_printf("vec0 table \"%s\" has no graph index (declare a column with indexed by hnsw(...))",
                             t->name.c_str()));
    return SQLITE_ERROR;
  };
  if (c == "rebuild" || c == "compute-centroids" || c.rfind("compute-centroids:", 0) == 0) {
    if (!has_graph) return no_graph();
    for (size_t i = 0; i < t->ann.size(); i++) {
      if (!t->ann[i].indexed()) continue;
      t->ann_changed = true;
      build(t, i);
    }
    return SQLITE_OK;
  }
  if (c == "optimize") {
    if (!has_graph) return no_graph();
    for (size_t i = 0; i < t->ann.size(); i++) {
      if (!t->ann[i].indexed()) continue;
      const int rc = ann_ensure(t, i);
      if (rc != SQLITE_OK) return rc;
      t->ann_changed = true;
      own_graph(t, i).index->optimize();
      t->ann[i].persist_all = true;
    }
    return SQLITE_OK;
  }
  if (eq != std::string::npos) {
    const std::string val = c.substr(eq + 1);
    char* end = nullptr;
    const long long n = val.empty() ? -1 : std::strtoll(val.c_str(), &end, 10);
    const bool number = end != nullptr && *end == 0 && n >= 1;
    if (key == "oversample" || key == "search_list_size_insert") {  // exact rescoring already; fixed build effort
      if (!number) {
        set_err(t, string_printf("%s must be >= 1", key.c_str()));
        return SQLITE_ERROR;
      }
      return SQLITE_OK;
    }
    if (key == "ef_search" || key == "nprobe" || key == "search_list_size" || key == "search_list_size_search") {
      if (!has_graph) return no_graph();
      if (!number || n > kMaxEf) {
        set_err(t, string_printf("%s must be an integer from 1 to %u", key.c_str(), kMaxEf));
        return SQLITE_ERROR;
      }
      const uint32_t ef = static_cast<uint32_t>(key == "nprobe" ? std::min<long long>(kMaxEf, std::max<long long>(64, 8 * n)) : n);
      sqlite3_stmt* st = nullptr;
      int rc = prepare(t, string_printf("INSERT OR REPLACE INTO \"%w\".\"%w\"(key, value) VALUES ('%s', ?)", t->schema.c_str(),
                                        t->n_info.c_str(), kEfKey),
                       &st);
      if (rc != SQLITE_OK) return rc;
      sqlite3_bind_int64(st, 1, ef);
      rc = step_done(t, st);
      if (rc != SQLITE_OK) return rc;
      for (Ann& a : t->ann) a.ef_search = ef;
      t->ef_changed = true;
      return SQLITE_OK;
    }
  }
  set_err(t, string_printf("unknown vec0 command: '%s'", c.c_str()));
  return SQLITE_ERROR;
}

int ann_sync(Table* t) {
  if (t->ann.empty()) return SQLITE_OK;
  bool work = !t->touched.empty();
  for (const Ann& a : t->ann) work = work || a.persist_all;
  if (!work) return SQLITE_OK;
  // The rows come from the cache, which a ROLLBACK TO may have left to be reloaded.
  int rc = ensure_readable(t);
  if (rc != SQLITE_OK) return rc;
  for (size_t col = 0; col < t->ann.size(); col++) {
    Ann& a = t->ann[col];
    if (!a.indexed() || (t->touched.empty() && !a.persist_all)) continue;
    if (!a.loaded) {
      rc = ann_ensure(t, col);
      if (rc != SQLITE_OK) return rc;
    }
    t->ann_changed = true;
    AnnGraph& ag = own_graph(t, col);
    std::vector<int64_t> ids;
    std::vector<const void*> rows;
    for (int64_t key : t->touched) {
      ag.index->remove(key);
      ag.outside.erase(key);
      const void* row = row_of(t, col, key);
      if (row == nullptr) continue;
      if (ag.index->accepts(row)) {
        ids.push_back(key);
        rows.push_back(row);
      } else {
        ag.outside.insert(key);
      }
    }
    if (ids.size() == 1) ag.index->insert(ids[0], rows[0]);
    else ag.index->insert_many(ids.data(), rows.data(), ids.size(), ids.size() >= 256 ? build_threads() : 1);
    rc = persist(t, col);
    if (rc != SQLITE_OK) return rc;
  }
  return SQLITE_OK;
}

void ann_end_txn(Table* t, bool committed) {
  // clear() would keep (and zero, at every later transaction boundary) the bucket array a bulk
  // transaction grew: megabytes of memset per single-row insert into a large table.
  if (t->touched.bucket_count() > 1024) std::unordered_set<int64_t>().swap(t->touched);
  else t->touched.clear();
  if (!committed && t->ef_changed) t->ef_reread = true;
  t->ef_changed = false;
  if (!committed && t->ann_changed)
    for (Ann& a : t->ann) a.loaded = false;
  // This commit's graphs are the committed state: they take the marker xSync read back.
  if (committed && t->ann_changed && t->cache().valid && t->cache().has_marker) {
    for (Ann& a : t->ann) {
      if (!a.loaded) continue;
      a.has_marker = true;
      a.marker = t->cache().marker;
    }
  }
  t->ann_changed = false;
}

int ann_search(Table* t, const AnnQuery& q, std::vector<TopK::Item>* out, bool* answered) {
  *answered = false;
  if (t->ann.empty() || !t->ann[q.col].indexed() || q.ef == 0) return SQLITE_OK;
  Ann& a = t->ann[q.col];
  int rc = ann_ensure(t, q.col);
  if (rc != SQLITE_OK) return rc;
  if (!q.force && !ann_preferred(a.graph(), q.admitted, q.k, q.ef)) return SQLITE_OK;
  Admit admit;
  if (!t->touched.empty()) admit.touched = &t->touched;
  const bool filtered = q.filters != nullptr || !q.all_groups;
  if (filtered) {  // the admitted rows' position keys, as a bitmap
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (const Group* g : q.groups) {
      if (g->chunks.empty()) continue;
      lo = std::min(lo, pos_key(*g->chunks.begin(), kMaxChunkSize - 1));
      hi = std::max(hi, pos_key(*g->chunks.rbegin(), 0));
    }
    if (lo > hi) return SQLITE_OK;
    const uint64_t span = static_cast<uint64_t>(hi - lo) + 1;
    if (span > kMaxAdmitBits) return SQLITE_OK;
    admit.use_bits = true;
    admit.lo = lo;
    admit.bits.assign((span + 63) / 64, 0);
    for (size_t gi = 0; gi < q.groups.size(); gi++) {
      const Arena& ar = q.groups[gi]->arenas[q.col];
      const RowFilter* f = q.filters != nullptr ? &(*q.filters)[gi] : nullptr;
      if (f == nullptr || f->kind == RowFilter::Kind::all) {
        for (size_t s = 0; s < ar.size(); s++) admit.set(ar.id_at(s));
      } else if (f->kind == RowFilter::Kind::slots) {
        for (size_t s : f->slots) admit.set(ar.id_at(s));
      } else {
        for (size_t w = 0; w < f->bits.size(); w++)
          for (uint64_t x = f->bits[w]; x != 0; x &= x - 1) {
            const size_t s = w * 64 + static_cast<size_t>(__builtin_ctzll(x));
            if (s < ar.size()) admit.set(ar.id_at(s));
          }
      }
    }
  }
  // Rows the graph does not answer for: written by this transaction, or outside the graph.
  std::vector<SearchSource> sources;
  for (size_t gi = 0; gi < q.groups.size(); gi++) {
    const Arena& ar = q.groups[gi]->arenas[q.col];
    const RowFilter* f = q.filters != nullptr ? &(*q.filters)[gi] : nullptr;
    std::unordered_set<size_t> slot_set;
    RowFilter extra;
    extra.kind = RowFilter::Kind::slots;
    auto consider = [&](int64_t key) {
      size_t slot;
      if (!ar.slot_of(key, &slot)) return;
      if (f != nullptr && !filter_has(*f, slot, &slot_set)) return;
      extra.slots.push_back(slot);
    };
    for (int64_t key : t->touched) consider(key);
    for (int64_t key : a.outside())
      if (t->touched.count(key) == 0) consider(key);
    if (extra.slots.empty()) continue;
    SearchSource src;
    src.rows = ar.view();
    src.filter = std::move(extra);
    sources.push_back(std::move(src));
  }
  AnnPlan plan;
  plan.index = &a.graph();
  plan.ef = q.ef;
  plan.admit = admit.use_bits || admit.touched != nullptr ? &admit : nullptr;
  plan.row_of = [t, &q](int64_t id) { return row_of(t, q.col, id); };
  SearchRequest req;
  req.metric = t->cfg.vcols[q.col].metric;
  req.query = q.query->bytes();
  req.k = q.k;
  req.bounds = q.bounds;
  req.ann = &plan;
  g_searches.add();
  if (!search(kernels(), req, sources, out)) {
    out->clear();
    return SQLITE_OK;
  }
  if (out->size() < std::min(q.k, q.admitted)) {  // the graph could not reach enough rows
    g_fallbacks.add();
    out->clear();
    return SQLITE_OK;
  }
  *answered = true;
  return SQLITE_OK;
}

}  // namespace vec0
}  // namespace vecsqlite
