// The `vec0` virtual table: internal declarations shared by the files of native/sqlite/vec0/.
// A drop-in for sqlite-vec 0.1.9: same SQL, results, error messages and database files.
//
// One file per concern, all under this header (the way SQLite's fts5 is split):
//   vec0_module.cc     module entry, xCreate / xConnect / xDisconnect / xDestroy / xRename,
//                      the registry of live tables (find_table)
//   vec0_config.cc     CREATE arguments -> Config, the declared columns
//   vec0_storage.cc    shadow tables: names, DDL, the write log's flush into them
//   vec0_cache.cc      the in-memory cache: full load and per-chunk refresh
//   vec0_changes.cc    change detection: the marker, the write token, the change log
//   vec0_plan.cc       xBestIndex and the plan string (idxStr): encoded and decoded there only
//   vec0_cursor.cc     xFilter / xNext / xColumn / xRowid: full scans and point lookups
//   vec0_knn.cc        KNN queries, through the core search entry (core/search.h)
//   vec0_batch.cc      vec_knn_batch: many query vectors in one pass (core search_batch)
//   vec0_filter.cc     KNN row filters: partitions, metadata predicates, rowid IN
//   vec0_write.cc      xUpdate: INSERT, UPDATE, DELETE
//   vec0_bulk.cc       vec_rows(): many rows in one INSERT, whole chunks at once
//   vec0_txn.cc        xBegin / xSync / xCommit / xRollback and savepoints
//   vec0_columns.cc    partition keys, metadata and auxiliary columns in the table
//   vec0_ann.cc        the graph index of `indexed by hnsw(...)` columns: load, upkeep, commands
//   vec0_metadata.*    column value types, metadata chunk layouts, filter predicates
//   vec0_rowslots.h    position key -> rowid map
//   vec0_writelog.*    the per-transaction log of blob writes
//   vec0_changelog.*   the ring of recent commits in "<t>_info"
// docs/ARCHITECTURE.md describes the storage format, the cache, the plans, the write log and
// the transaction rules this code implements.
//
// STORAGE (the source of truth; byte-identical to sqlite-vec 0.1.9, so files interoperate):
//   "<t>_info"(key text primary key, value any)   CREATE_VERSION 'v0.1.9', _MAJOR 0, _MINOR 1, _PATCH 9
//       plus keys sqlite-vec never reads: vecsqlite_write_token (int64, vec0_changes.cc), and the
//       change log ring vecsqlite_change_head (int64) and vecsqlite_change_00 .. _63
//   "<t>_chunks"(chunk_id INTEGER PRIMARY KEY AUTOINCREMENT,size INTEGER NOT NULL,
//               [sequence_id integer,partition00,...,]validity BLOB NOT NULL,rowids BLOB NOT NULL)
//       validity: chunk_size/8 bytes, bit j (LSB-first) = slot j occupied
//       rowids:   chunk_size x int64 LE (0 in free slots); size = chunk_size
//   "<t>_rowids"(rowid INTEGER PRIMARY KEY AUTOINCREMENT,id,chunk_id INTEGER,chunk_offset INTEGER)
//       (id TEXT UNIQUE NOT NULL with a text primary key; NULL otherwise)
//   "<t>_vector_chunksNN"(rowid PRIMARY KEY,vectors BLOB NOT NULL)  one row per chunk (rowid =
//       chunk_id), chunk_size x vector bytes, slot j at j * vector bytes, zeroed when free
//   "<t>_metadatachunksNN", "<t>_metadatatextNN", "<t>_auxiliary": vec0_metadata.h
//   Inserts go to the first free slot of the latest chunk of the row's partition (a new zeroblob
//   chunk when full); free slots of older chunks are never reused; a chunk whose last row is
//   deleted is deleted.
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/arena.h"
#include "core/hnsw.h"
#include "core/idmap.h"
#include "core/search.h"
#include "core/stats.h"
#include "kernels/kernels.h"
#include "sqlite/codec.h"
#include "sqlite/ext.h"
#include "sqlite/freshness.h"
#include "sqlite/stmt.h"
#include "sqlite/vec0/vec0_changelog.h"
#include "sqlite/vec0/vec0_metadata.h"
#include "sqlite/vec0/vec0_rowslots.h"
#include "sqlite/vec0/vec0_writelog.h"

namespace vecsqlite {
namespace vec0 {

constexpr int kMaxVectorColumns = 16;
constexpr int kMaxDims = 8192;
constexpr int kDefaultChunkSize = 1024;

// Message prefixes of sqlite-vec's error catalogue (spellings kept).
constexpr const char* kCtorPrefix = "vec0 constructor error: ";
constexpr const char* kInternal = "Internal sqlite-vec error: ";

// ---- configuration (vec0_config.cc) ----------------------------------------------------------
// The index a vector column declares (`indexed by ...`). `flat` and `rescore` are searched by
// the exact scan (with the int8 sketch pre-filter); `hnsw`, `ivf` and `diskann` by a graph
// (core/hnsw.h) whose parameters come from the declaration (docs/vec0.md, "Indexes").
enum class IndexKind { flat, hnsw, rescore, ivf, diskann };
struct IndexSpec {
  IndexKind kind = IndexKind::flat;
  uint32_t m = 16;
  uint32_t ef_construction = 200;
  uint32_t ef_search = 64;  // the default search effort (a command can change it)
  bool graph() const { return kind == IndexKind::hnsw || kind == IndexKind::ivf || kind == IndexKind::diskann; }
};
const char* index_kind_name(IndexKind k);

struct VectorColumn {
  std::string name;
  Dtype type = Dtype::f32;
  int dims = 0;
  Metric metric = Metric::l2;  // l2, l1, cos; hamming for bit columns
  IndexSpec index;
  size_t nbytes() const { return dtype_row_bytes(type, static_cast<size_t>(dims)); }
  // The `dim` the kernels take (bit: bytes).
  size_t kernel_dim() const { return type == Dtype::u1 ? nbytes() : static_cast<size_t>(dims); }
};

// Declared user columns in declaration order (vectors, partition keys, metadata and auxiliary
// columns may be interleaved). Column c of the vtab (1-based) is order[c - 1].
enum class ColKind { vector, partition, metadata, aux };
struct ColRef {
  ColKind kind;
  int idx;  // index within its kind
};

struct Config {
  bool has_pk = false;
  bool text_pk = false;
  std::string pk_name;
  std::vector<VectorColumn> vcols;
  std::vector<PartitionColumn> pcols;
  std::vector<MetadataColumn> mcols;
  std::vector<AuxColumn> acols;
  std::vector<ColRef> order;
  int chunk_size = kDefaultChunkSize;
  int ncols() const { return static_cast<int>(order.size()); }
  // A column declares an index other than flat(): the table has the hidden `ef` column and the
  // command column named after the table.
  bool indexed() const {
    for (const VectorColumn& v : vcols)
      if (v.index.kind != IndexKind::flat) return true;
    return false;
  }
  bool any_graph() const {
    for (const VectorColumn& v : vcols)
      if (v.index.graph()) return true;
    return false;
  }
  // argv index (xUpdate) of user column `idx` of kind k.
  int argv_of(ColKind k, int idx) const {
    for (size_t j = 0; j < order.size(); j++)
      if (order[j].kind == k && order[j].idx == idx) return 3 + static_cast<int>(j);
    return -1;
  }
};

// Parses the CREATE VIRTUAL TABLE arguments (argv[3..]); SQLITE_OK or SQLITE_ERROR with *err.
int parse_config(int argc, const char* const* argv, Config* cfg, std::string* err);
// The CREATE TABLE statement for sqlite3_declare_vtab: rowid or the primary key, the user
// columns, then the hidden `distance` and `k` (and, on indexed tables, the hidden `ef` and
// the command column named after the table).
std::string declare_sql(const Config& cfg, const std::string& table);

// ---- validity fingerprints (change detection) --------------------------------------------------
// A 64-bit fingerprint of one chunk's validity bitmap: the XOR over its 8-byte words (the last
// one zero-padded) of a hash of (chunk id, word index, word). A write that flips one bit
// updates it from that word alone (fp_word before and after).
inline uint64_t fp_word(int64_t chunk, size_t w, uint64_t word) {
  uint64_t z = word ^ (static_cast<uint64_t>(chunk) * 0x9e3779b97f4a7c15ULL) ^ ((w + 1) * 0xc2b2ae3d27d4eb4fULL);
  z ^= z >> 30;
  z *= 0xbf58476d1ce4e5b9ULL;
  z ^= z >> 27;
  z *= 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
inline uint64_t validity_word(const uint8_t* v, size_t n, size_t w) {
  uint64_t x = 0;
  std::memcpy(&x, v + 8 * w, std::min<size_t>(8, n - 8 * w));
  return x;
}
inline uint64_t chunk_fp(int64_t chunk, const uint8_t* v, size_t n) {
  uint64_t h = 0;
  for (size_t w = 0; 8 * w < n; w++) h ^= fp_word(chunk, w, validity_word(v, n, w));
  return h;
}
// Sets byte `at` of a chunk's cached validity bitmap, keeping the table fingerprint current.
inline void set_validity_byte(uint64_t* fp, int64_t chunk, std::vector<uint8_t>* val, size_t at, uint8_t byte) {
  const size_t w = at / 8;
  const uint64_t before = validity_word(val->data(), val->size(), w);
  (*val)[at] = byte;
  *fp ^= fp_word(chunk, w, before) ^ fp_word(chunk, w, validity_word(val->data(), val->size(), w));
}
inline bool validity_bit(const std::vector<uint8_t>& v, int slot) {
  return (v[static_cast<size_t>(slot / 8)] >> (slot % 8)) & 1;
}

// ---- the cache ---------------------------------------------------------------------------------
// Queries never re-read chunk blobs. Rows are grouped by partition-key tuple (one tuple without
// partition keys), and each tuple's chunks by SEGMENT: a group holds up to Cache::seg_chunks
// consecutive chunks of one tuple (about 16 MiB of vectors, at least 8192 rows) with one Arena
// per vector column whose ids are position keys (vec0_rowslots.h), so the search's tie-break
// by id reproduces sqlite-vec's tie order however the rows are grouped.
//
// Groups are shared between copies of a cache (copy on write, vec0_shared.cc): a connection
// that changes a few chunks of a cache another connection also reads copies only their groups.
// Read a group through Cache::groups; change it only through group_mut().
struct Group {
  std::vector<Value> tuple;
  std::vector<Arena> arenas;  // per vector column, ids = position keys
  std::set<int64_t> chunks;   // chunk ids in this group (the tuple's latest is the insert target)
};

// Where the next insert into a group looks first: slot `next` of chunk `chunk`, whose cached
// validity bitmap is *val. Every slot below it is taken: a delete in the chunk drops the hint.
// Hints point into their cache's bitmaps, so a copy of the cache starts without any.
struct InsertHint {
  int64_t chunk = -1;
  int next = 0;
  std::vector<uint8_t>* val = nullptr;
};
struct InsertHints {
  std::vector<InsertHint> by_group;
  InsertHints() = default;
  InsertHints(const InsertHints&) {}
  InsertHints(InsertHints&&) noexcept = default;
  InsertHints& operator=(const InsertHints&) {
    by_group.clear();
    return *this;
  }
  InsertHints& operator=(InsertHints&&) noexcept = default;
  InsertHint& at(size_t g) {
    if (by_group.size() <= g) by_group.resize(g + 1);
    return by_group[g];
  }
  void drop(size_t g) {
    if (g < by_group.size()) by_group[g] = InsertHint();
  }
  void drop_all() { by_group.clear(); }
};

// Per chunk: its group and the decoded metadata columns (columnar, indexed by slot).
struct ChunkCols {
  int group = 0;
  std::vector<MetaChunk> meta;
};
struct TupleLess {
  bool operator()(const std::vector<Value>& a, const std::vector<Value>& b) const { return tuple_less(a, b); }
};

// The change marker: whether a table changed since the cache was loaded (vec0_changes.cc).
struct Marker {
  bool has_token = false;
  int64_t token = 0, seq_rowids = -1, seq_chunks = -1;
  bool operator==(const Marker& o) const {
    return has_token == o.has_token && token == o.token && seq_rowids == o.seq_rowids && seq_chunks == o.seq_chunks;
  }
};

struct Cache {
  bool valid = false;
  std::vector<std::shared_ptr<Group>> groups;  // never null
  std::map<std::vector<Value>, std::vector<int>, TupleLess> group_of;  // tuple -> its groups, oldest first
  int seg_chunks = 1;  // chunks per group (set at load from the table's layout)
  InsertHints hints;
  std::unordered_map<int64_t, ChunkCols> chunk_cols;  // chunk_id -> group, metadata
  IdMap<int64_t> pos_of;                               // rowid -> position key
  RowidSlots rowid_at;                                 // position key -> rowid
  std::unordered_map<int64_t, std::string> text_of;        // rowid -> text id (text pk)
  std::unordered_map<std::string, int64_t> rowid_of_text;  // text id -> rowid
  std::map<int64_t, std::vector<uint8_t>> validity;        // chunk_id -> validity bitmap
  // max(0, largest rowid in _rowids, its sqlite_sequence value): the AUTOINCREMENT state, so
  // that an insert without an id gets the rowid sqlite-vec would give it.
  int64_t max_rowid = 0;
  // XOR over chunks of chunk_fp(chunk_id, validity): kept up to date by every write, compared
  // with the tables' when another connection committed (part of the change marker).
  uint64_t validity_fp = 0;
  bool has_marker = false;  // `marker` was read when the cache was last known to be current
  Marker marker;
  // Rows were inserted while the table deferred its vectors (see Staging): the maps above are
  // whole, the arenas lack those rows. Writes go on using the cache; a read rebuilds it first
  // (ensure_readable), and it is never shared.
  bool vectors_missing = false;
};

// The least rows for which a group's arena of column col keeps a sketch: the usual threshold,
// unless the column as a whole has that many rows (a KNN scans all groups of a tuple together,
// and a group without a sketch would be read in full).
inline size_t sketch_min_rows(const Cache& c, size_t col) {
  size_t total = 0;
  for (const auto& g : c.groups) total += g->arenas[col].size();
  return total >= kSketchMinRows ? 1 : kSketchMinRows;
}

// A cache's groups as `const Group&` (for range-for).
struct GroupRange {
  const std::vector<std::shared_ptr<Group>>& v;
  struct It {
    std::vector<std::shared_ptr<Group>>::const_iterator i;
    const Group& operator*() const { return **i; }
    It& operator++() {
      ++i;
      return *this;
    }
    bool operator!=(const It& o) const { return i != o.i; }
  };
  It begin() const { return {v.begin()}; }
  It end() const { return {v.end()}; }
};
inline GroupRange each_group(const Cache& c) { return {c.groups}; }

// Group gi of a cache this connection may change, made its own first (a copy while another
// cache shares it).
extern Counter g_group_copies;  // vec0_shared.cc
inline Group& group_mut(Cache& c, size_t gi) {
  std::shared_ptr<Group>& g = c.groups[gi];
  if (g.use_count() > 1) {
    g = std::make_shared<Group>(*g);
    g_group_copies.add();
  }
  return *g;
}

// ---- the table ---------------------------------------------------------------------------------
// Blob numbers in the write log (vec0_writelog.h).
constexpr int kBlobValidity = 0;
constexpr int kBlobRowids = 1;
constexpr int kBlobVectors = 2;                               // + vector column index
constexpr int kBlobMeta = kBlobVectors + kMaxVectorColumns;   // + metadata column index

// Log writes reach SQLite early, while no savepoint is open, once this many bytes are pending.
constexpr size_t kLogFlushBytes = 16u << 20;

// DEFERRED VECTORS. A large import into a table pays twice for every vector: once into the
// cache's arena (fresh memory, page-faulted row by row) and once into SQLite's pages. Once a
// write transaction has inserted VECSQLITE_DEFER_ROWS rows into a table without a graph
// index, and at least as many as the table held when it began, its further inserts keep the
// cache's maps (slots, rowids, validity) but put their vector bytes here instead of the
// arena, marking the cache vectors_missing. The write log's runs read them from here
// (vector_rows); the buffers are reused once the log has written them, so an import of any
// size touches a bounded amount of memory besides SQLite's. The next read rebuilds the cache
// from the tables (as a new connection would); later transactions keep deferring until then.
struct Staging {
  struct Chunk {
    std::vector<std::vector<uint8_t>> cols;  // per vector column: chunk_size rows
    std::vector<uint64_t> slots;             // the slots that hold bytes
  };
  std::unordered_map<int64_t, Chunk> chunks;
  std::vector<Chunk> spare;  // emptied chunks, buffers kept
  // The chunk's buffers (sized for cs slots of each column's row bytes).
  Chunk& at(int64_t chunk, int cs, const std::vector<size_t>& row_bytes) {
    auto it = chunks.find(chunk);
    if (it != chunks.end()) return it->second;
    Chunk c;
    if (!spare.empty()) {
      c = std::move(spare.back());
      spare.pop_back();
    }
    c.cols.resize(row_bytes.size());
    for (size_t i = 0; i < row_bytes.size(); i++) c.cols[i].resize(row_bytes[i] * static_cast<size_t>(cs));
    c.slots.assign((static_cast<size_t>(cs) + 63) / 64, 0);
    return chunks.emplace(chunk, std::move(c)).first->second;
  }
  const Chunk* find(int64_t chunk) const {
    if (chunks.empty()) return nullptr;
    auto it = chunks.find(chunk);
    return it == chunks.end() ? nullptr : &it->second;
  }
  static bool has(const Chunk& c, int slot) { return (c.slots[static_cast<size_t>(slot) / 64] >> (slot % 64)) & 1; }
  // The slot's bytes are no longer the ones to write (its row went, and a row kept in the
  // arena took the slot).
  void forget(int64_t chunk, int slot) {
    auto it = chunks.find(chunk);
    if (it != chunks.end()) it->second.slots[static_cast<size_t>(slot) / 64] &= ~(uint64_t{1} << (slot % 64));
  }
  // Called whenever the write log is emptied or its runs took copies of their bytes
  // (materialize_all): nothing reads the staged bytes any more.
  void clear() {
    for (auto& kv : chunks) spare.push_back(std::move(kv.second));
    chunks.clear();
    if (spare.size() > 8) spare.resize(8);
  }
};

// The graph of one `indexed by hnsw(...)` column, shared by every statement of the connection.
// INVARIANT: for every position key NOT in Table::touched, the key is a node of `graph` (with
// the row the cache holds) exactly when the cache holds a row for it that the graph accepts,
// and is in `outside` exactly when the cache holds a row the graph cannot place. Keys in
// `touched` (written by the open transaction) may be anything in the graph: queries never
// return them from it and scan them exactly instead; xSync brings them up to date.
//
// The graph and its `outside` set (an AnnGraph) may be shared, read-only, with the other
// connections of the process that see the same committed state, like the cache: graph() and
// outside() read it; vec0_ann.cc changes it only after own_graph() / fresh_graph().
struct AnnGraph {
  std::unique_ptr<HnswIndex> index;
  std::unordered_set<int64_t> outside;
};
struct Ann {
  std::shared_ptr<AnnGraph> st;  // null unless the column declares a graph
  bool listed = false;           // st may be listed in the process registry (vec0_shared.cc)
  bool indexed() const { return st != nullptr; }
  const HnswIndex& graph() const { return *st->index; }
  const std::unordered_set<int64_t>& outside() const { return st->outside; }
  bool loaded = false;
  bool has_marker = false;
  Marker marker;            // the committed state the graph reflects (the cache's marker)
  bool persist_all = false; // rebuilt in memory: every block is written at the next xSync
  uint32_t ef_search = 64;  // this connection's default search effort
};

struct Table {
  sqlite3_vtab base;  // must be first
  sqlite3* db = nullptr;
  std::string schema;
  std::string name;
  Config cfg;
  // The cache. Once this connection has loaded or refreshed it outside a write transaction it
  // may be shared, read-only, with every other connection of the process that sees the same
  // committed state of the same table in the same file (vec0_shared.cc). cache() reads it;
  // every change goes through cache_mut(), which first makes it this connection's own (a copy
  // when another connection holds it too), or replaces it (fresh_cache, invalidate_cache).
  std::shared_ptr<Cache> cache_sp = std::make_shared<Cache>();
  bool cache_listed = false;  // cache_sp may be listed in the process registry
  const Cache& cache() const { return *cache_sp; }
  Cache& cache_mut();
  // An empty cache to load into (the current one is kept for whoever else holds it).
  Cache& fresh_cache();
  // Forces a reload at next use (the shared copy, if any, stays valid for the others).
  void invalidate_cache();
  DataVersionProbe probe;
  StmtCache stmts;  // write statements, keyed by SQL text
  // Shadow-table names and the hot statements' SQL (set_names(): at connect and rename).
  std::string n_info, n_chunks, n_rowids;
  std::vector<std::string> n_vchunks;
  std::vector<std::string> n_mchunks, n_mtext;  // per metadata column (n_mtext: "" unless TEXT)
  std::vector<std::string> n_hnsw;               // per vector column ("" unless it has a graph)
  std::string n_aux, sql_aux_select;
  std::string sql_insert_rowid, sql_delete_rowid;
  std::string sql_insert_rowid_auto, sql_next_rowid;  // apply_rowids: rows without their rowid
  // Blob writes of the open write transaction not yet in the chunk tables.
  Vec0WriteLog log;
  Staging staged;                // deferred rows' vector bytes the log still has to write
  std::vector<size_t> row_bytes; // per vector column: bytes of one row (set at connect)
  int64_t txn_inserted = 0;      // rows this write transaction inserted
  int64_t txn_rows_at_start = 0; // rows the table held at its first write
  std::vector<Vector> insert_vecs;  // an INSERT's parsed vectors (valid during the xUpdate)
  int update_depth = 0;             // xUpdate calls in progress (see xUpdate)
  bool flushing = false;            // flush_log is running
  // The full-size _rowids inserts of apply_rowids (with and without the rowid), prepared on
  // first use for `rows` rows.
  struct KeptInsert {
    sqlite3_stmt* st = nullptr;
    size_t rows = 0;
  } ins_rowids, ins_rowids_auto;
  bool wrote = false;  // this transaction changed the table: xSync stores a new write token
  // Between xBegin and commit/rollback no other connection can commit (this one holds the
  // write lock), so data_version is checked once per write transaction.
  bool in_write_txn = false, txn_checked = false;
  bool mutated = false;      // the current xUpdate has started changing tables, log or cache
  bool txn_mutated = false;  // some xUpdate of this transaction did
  // A write that failed after it began changing the table leaves shadow rows or log entries
  // behind that only a rollback removes: SQLite undoes a failed statement only when it took a
  // statement savepoint (multi-row statements), not for a single-row INSERT / UPDATE / DELETE
  // inside a transaction. Until a rollback reaches back past it (a ROLLBACK, or ROLLBACK TO a
  // savepoint opened before it, levels < broken_below), xSync refuses to commit.
  bool broken = false;
  int broken_below = 0;
  int open_levels = 0;  // savepoint levels SQLite has opened on this table (xSavepoint / xRelease)
  // xUpdate calls that changed something, and their count when each open savepoint level
  // began (kUnknownLevel: SQLite opened that level before this table joined the transaction).
  // A ROLLBACK TO a level nothing changed since keeps the cache (xRollbackTo).
  uint64_t mutations = 0;
  std::vector<uint64_t> level_mutations;
  static constexpr uint64_t kUnknownLevel = UINT64_MAX;
  // For the change log: the chunks this transaction's writes touched, and the table's marker
  // and validity fingerprint when it first wrote (txn_pre_ok: known).
  std::set<int64_t> txn_chunks;
  bool txn_pre_taken = false, txn_pre_ok = false;
  Marker txn_pre;
  uint64_t txn_pre_fp = 0;
  int64_t last_noted = -1;  // the chunk note_chunk() saw last (runs of inserts share one)
  // Graph indexes (vec0_ann.cc): one per vector column (graph null unless it declares one),
  // the position keys this transaction wrote, and whether a graph changed in this transaction
  // (then a ROLLBACK reloads it from its shadow table).
  std::vector<Ann> ann;
  std::unordered_set<int64_t> touched;
  bool ann_changed = false;
  bool ef_changed = false;  // an 'ef_search=N' command ran in this transaction
  bool ef_reread = false;   // ... and was rolled back: read the stored default again
  void touch(int64_t key) {
    if (!ann.empty()) touched.insert(key);
  }
  void note_chunk(int64_t chunk) {
    if (chunk == last_noted) return;
    txn_chunks.insert(chunk);
    last_noted = chunk;
  }
  // At each transaction boundary (xBegin, xCommit, xRollback).
  void reset_txn_changes() {
    txn_chunks.clear();
    last_noted = -1;
    txn_pre_taken = txn_pre_ok = false;
    broken = false;
    open_levels = 0;
    level_mutations.clear();
  }
  void finalize_all() {
    stmts.clear();
    for (KeptInsert* k : {&ins_rowids, &ins_rowids_auto}) {
      sqlite3_finalize(k->st);
      *k = KeptInsert();
    }
  }
  ~Table() { finalize_all(); }
  // Column layout: 0 = rowid/pk, 1..n = user columns (cfg.order), n+1 = distance, n+2 = k;
  // indexed tables add n+3 = ef and n+4 = the command column (-1 when absent).
  int col_distance() const { return 1 + cfg.ncols(); }
  int col_k() const { return 2 + cfg.ncols(); }
  int col_ef() const { return cfg.indexed() ? 3 + cfg.ncols() : -1; }
  int col_command() const { return cfg.indexed() ? 4 + cfg.ncols() : -1; }
  const ColRef* col_ref(int col) const {
    return col >= 1 && col <= cfg.ncols() ? &cfg.order[static_cast<size_t>(col - 1)] : nullptr;
  }
};

struct Cursor {
  sqlite3_vtab_cursor base;  // must be first
  int64_t aux_key = -1;      // the position key whose aux row aux_vals holds
  std::vector<Value> aux_vals;
  bool knn = false;
  std::vector<int64_t> keys;  // position keys, in output order
  std::vector<float> dists;   // knn only
  int64_t k = 0;
  size_t at = 0;
};

inline Table* table_of(sqlite3_vtab* p) { return reinterpret_cast<Table*>(p); }
inline Table* table_of(sqlite3_vtab_cursor* c) { return reinterpret_cast<Table*>(c->pVtab); }

// The shadow-table writes this table makes on its own (the write log's flush, the token and
// change log at xSync) must not show through sqlite3_last_insert_rowid(): the user's last
// INSERT is what that reports, as with sqlite-vec (which writes the same rows in xUpdate,
// before SQLite sets the rowid of the INSERT).
struct KeepLastRowid {
  sqlite3* db;
  sqlite3_int64 saved;
  explicit KeepLastRowid(sqlite3* d) : db(d), saved(sqlite3_last_insert_rowid(d)) {}
  ~KeepLastRowid() { sqlite3_set_last_insert_rowid(db, saved); }
};

// ---- vec0_module.cc ------------------------------------------------------------------------------
void set_err(Table* t, const std::string& msg);

// ---- vec0_storage.cc ---------------------------------------------------------------------------
void set_names(Table* t);
int create_shadow_tables(Table* t, std::string* err);  // *err: the whole message
std::string drop_shadow_sql(const Table* t);
std::string rename_shadow_sql(const Table* t, const char* new_name);
// A kept statement (reset, bindings cleared); on failure the table's error is set.
int prepare(Table* t, const std::string& sql, sqlite3_stmt** st);
// step_reset(), setting the table's error on failure.
int step_done(Table* t, sqlite3_stmt* st);
int read_max_rowid(Table* t, int64_t* out);
int flush_log(Table* t);
// Inserts _rowids rows (after deleting `deletes`); max_inserted: the largest rowid inserted.
int apply_rowids(Table* t, const std::vector<int64_t>& deletes, const std::vector<Vec0WriteLog::RowidRow>& inserts,
                 bool any_insert, int64_t max_inserted);
// The write log's layout and vector source for this table.
Vec0WriteLog::Layout log_layout(const Config& cfg);
const uint8_t* vector_rows(Table* t, int blob, int64_t chunk, int slot, uint32_t count);
// A metadata slot write (len bytes at offset `at` of _metadatachunks<i>.data of `chunk`),
// deferred in the write log like the vector bytes.
int write_meta_bytes(Table* t, size_t i, int64_t chunk, const void* buf, int len, int at);

// ---- vec0_cache.cc -----------------------------------------------------------------------------
// Rebuilds the cache from the chunk tables (plus the write log's pending writes).
int load_cache(Table* t);
// Re-reads the listed chunks into the cache; any failure leaves it half-updated (reload).
int refresh_chunks(Table* t, const std::set<int64_t>& chunks);
// The vectors of column i of one chunk (`data`: its whole vectors blob) into the arenas.
void upsert_chunk_vectors(Cache& c, int64_t chunk, size_t i, const std::vector<uint8_t>& validity, const uint8_t* data,
                          size_t nb, int cs);

// ---- vec0_changes.cc ---------------------------------------------------------------------------
// Makes sure the cache reflects the database as this connection sees it.
int ensure_fresh(Table* t);
// ensure_fresh, and then a cache that holds every row's vectors (see Staging): what reads use.
int ensure_readable(Table* t);
int read_marker(Table* t, Marker* out);
int read_validity_fp(Table* t, uint64_t* out);
// The process-wide registry of shared caches (vec0_shared.cc). try_adopt: takes the cache another
// connection published for this table at (marker, fp), if any. publish: offers this
// connection's cache (current, committed state) to the others, or adopts an equal one already
// there. Both are no-ops where sharing does not apply (in-memory and temporary databases,
// tables no vecsqlite commit has marked, open write transactions).
bool cache_try_adopt(Table* t, const Marker& m, uint64_t fp);
void cache_publish(Table* t);
// Builds the sketch of column `col` of group g (of t's cache) when it qualifies and the cache is
// this connection's alone (a shared cache had its sketches built before it was published).
void cache_prepare_sketch(Table* t, size_t gi, size_t col);
// The same registry for graphs (key: the cache's, and the column). ann_try_adopt takes the
// graph another connection published for the cache's committed state; ann_publish offers this
// connection's (loaded or built for that state); ann_unlist takes it out before a change.
bool ann_try_adopt(Table* t, size_t col);
void ann_publish(Table* t, size_t col);
void ann_unlist(Table* t, size_t col);
// At xSync: a new write token, then this commit's change log entry.
int write_token(Table* t, int64_t* written);
int write_change_log(Table* t, int64_t token);

// ---- vec0_module.cc: the live tables of the process -------------------------------------------
// The table `name` (any schema when `schema` is null) connected on `db`, or null.
Table* find_table(sqlite3* db, const char* schema, const char* name);

// ---- vec0_plan.cc ------------------------------------------------------------------------------
int best_index(Table* t, sqlite3_index_info* info);
// A KNN plan's partition (`]`) or metadata (`&`) constraint as xFilter receives it.
struct FilterArg {
  bool partition;  // else metadata
  int col;         // index within its kind
  char op;         // a = EQ, b GT, c LE, d LT, e GE, f NE, g IN, n IS NULL, m IS NOT NULL
  sqlite3_value* value;
};
// A decoded plan (idxNum, idxStr and argv of xFilter).
struct Plan {
  enum class Kind { fullscan, point, knn } kind = Kind::fullscan;
  sqlite3_value* id = nullptr;        // point: the rowid / primary key value
  int column = 0;                     // knn: the vector column
  sqlite3_value* query = nullptr;     // knn: the query vector
  sqlite3_value* k = nullptr;         // knn: k = ? or LIMIT
  sqlite3_value* rowid_in = nullptr;  // knn: rowid IN (...) list (sqlite3_vtab_in_first)
  sqlite3_value* ef = nullptr;        // knn: ef = ? (graph search effort; 0 = exact scan)
  std::vector<std::pair<char, double>> distance;  // knn: a >, b >=, c <, d <= target
  std::vector<FilterArg> filters;                 // knn: partition and metadata constraints
};
int decode_plan(Table* t, int idxNum, const char* idxStr, int argc, sqlite3_value** argv, Plan* out);

// ---- vec0_cursor.cc ----------------------------------------------------------------------------
// An integer id from a value: INTEGER, or a REAL holding a whole number (better-sqlite3 binds
// JS numbers as REAL). False otherwise.
inline bool integer_id(sqlite3_value* v, int64_t* out) { return whole_integer(v, out); }
// Resolves a user id (integer rowid or text pk) to the internal rowid; false when absent.
bool lookup_rowid(Table* t, sqlite3_value* v, int64_t* rowid);

// ---- vec0_knn.cc -------------------------------------------------------------------------------
int knn_filter(Table* t, Cursor* cur, const Plan& plan);

// ---- vec0_filter.cc ----------------------------------------------------------------------------
// The partition and metadata filters of a KNN plan.
int build_filters(Table* t, const Plan& plan, std::vector<PartFilter>* pf, std::vector<MetaFilter>* mf);
// When the partition filters are exactly one `=` per partition key, the tuple they select.
// 0: not that case; 1: *out is the tuple; 2: a value can equal no stored key.
int exact_tuple(Table* t, const std::vector<PartFilter>& pf, std::vector<Value>* out);
// The rows of group g's arena for vector column `col` that pass the metadata filters and the
// rowid IN set (`in`: position keys, or null), as a search RowFilter (a slot list when few
// pass, else a bitmap). `threads`: how many threads it may use.
void allowed_rows(Table* t, const Group& g, size_t col, const std::vector<MetaFilter>& mf,
                  const std::unordered_set<int64_t>* in, RowFilter* out, size_t threads);

// ---- vec0_ann.cc ----------------------------------------------------------------------------------
// Creates the (unloaded) graphs of the table's graph columns and reads the persisted default
// search effort; at xConnect / xCreate.
int ann_init(Table* t);
// Makes the graph of column `col` reflect the table (loading it from its shadow table, or
// rebuilding it in memory when the stored one does not match the rows). The cache must be
// fresh. Errors name the table and the way out.
int ann_ensure(Table* t, size_t col);
// The default search effort of column `col` (the declared one, or the stored 'ef_search=N').
int ann_default_ef(Table* t, size_t col, uint32_t* ef);
// Every graph, before a write changes the table.
int ann_before_write(Table* t);
// A command inserted into the command column ('rebuild', 'optimize', 'ef_search=N', ...).
int ann_command(Table* t, sqlite3_value* cmd);
// xSync: brings the graphs up to date with the keys this transaction wrote and writes their
// changed blocks. After xCommit / xRollback: ann_end_txn.
int ann_sync(Table* t);
void ann_end_txn(Table* t, bool committed);
// The KNN of a graph column (vec0_knn.cc decides when; see there).
struct AnnQuery {
  size_t col = 0;
  size_t k = 0;
  size_t ef = 0;
  const Vector* query = nullptr;
  DistanceBounds bounds;
  std::vector<const Group*> groups;          // the selected partitions
  std::vector<RowFilter>* filters = nullptr;  // per group: the rows that pass (null: all)
  size_t admitted = 0;                 // rows that pass, over the selected groups
  bool all_groups = false;             // every partition is selected
  bool force = false;                  // `ef = N` without filters: the graph, whatever it costs
};
// *answered: the graph answered into *out; false: the exact scan must answer instead (the
// graph would cost more, could not place the query, or reached fewer than min(k, admitted)
// rows). Returns an SQLite code (errors: a damaged stored graph).
int ann_search(Table* t, const AnnQuery& q, std::vector<TopK::Item>* out, bool* answered);

// ---- vec0_write.cc ------------------------------------------------------------------------------
int x_update(sqlite3_vtab* p, int argc, sqlite3_value** argv, sqlite3_int64* pRowid);
struct RowCols;
// Inserts one validated row (its rowid in *out_rowid unless the table has a text key or idv is
// null: then the next AUTOINCREMENT value, returned there).
int insert_row(Table* t, sqlite3_value* idv, const std::vector<Vector>& vecs, const RowCols& rcols,
               int64_t* out_rowid);
// Whether an INSERT now skips the cache's arena (Staging above).
bool deferring(const Table* t);
// A chunk just created in the tables, into the cache (its validity bitmap, in the group of its
// partition tuple); returns the cache's bitmap.
std::vector<uint8_t>* cache_new_chunk(Table* t, int64_t chunk, std::vector<uint8_t> validity, const std::vector<Value>& part);
// The _vector_chunks<i> row of a new chunk: chunk_size rows of `data`, or zeros when null.
int insert_vector_chunk(Table* t, size_t i, int64_t chunk, const uint8_t* data);
// The next insert into the chunk's group tries slot `next` of `chunk` first.
void set_insert_hint(Cache& c, int64_t chunk, int next, std::vector<uint8_t>* val);
extern Counter g_deferred_rows;

// ---- vec0_bulk.cc -------------------------------------------------------------------------------
// The RowsArg a vec_rows() call passed as this value, or null.
const void* rows_argument(sqlite3_value* v);
// INSERT of every row of a vec_rows() argument; idv is the first rowid (or NULL).
int bulk_insert(Table* t, sqlite3_value* idv, const void* rows_arg, sqlite3_int64* pRowid);

// ---- vec0_txn.cc --------------------------------------------------------------------------------
int x_begin(sqlite3_vtab* p);
int x_sync(sqlite3_vtab* p);
int x_commit(sqlite3_vtab* p);
int x_rollback(sqlite3_vtab* p);
int x_savepoint(sqlite3_vtab* p, int level);
int x_release(sqlite3_vtab* p, int level);
int x_rollback_to(sqlite3_vtab* p, int level);

// ---- vec0_cursor.cc -----------------------------------------------------------------------------
int x_open(sqlite3_vtab* p, sqlite3_vtab_cursor** pp);
int x_close(sqlite3_vtab_cursor* p);
int x_filter(sqlite3_vtab_cursor* p, int idxNum, const char* idxStr, int argc, sqlite3_value** argv);
int x_next(sqlite3_vtab_cursor* p);
int x_eof(sqlite3_vtab_cursor* p);
int x_column(sqlite3_vtab_cursor* p, sqlite3_context* ctx, int col);
int x_rowid(sqlite3_vtab_cursor* p, sqlite3_int64* out);

// ---- vec0_columns.cc ------------------------------------------------------------------------------
// The values of one row's non-vector columns, validated before anything is written.
struct RowCols {
  std::vector<Value> part;
  std::vector<Value> meta;
  std::vector<Value> aux;
  std::vector<bool> meta_set, aux_set;  // UPDATE: which columns change
};
// Partition values of a chunks-table row (columns first .. first+npartitions-1 of `st`).
std::vector<Value> partition_tuple_of(Table* t, sqlite3_stmt* st, int first);
// The group a new chunk of a partition tuple joins (a new group when the newest is full).
int group_for(Table* t, const std::vector<Value>& tuple);
// The group holding the tuple's latest chunk (its id in *latest), or -1 when it has none.
int latest_group(const Cache& c, const std::vector<Value>& tuple, int64_t* latest);
// Chunks per group for a table's layout (Cache::seg_chunks): about kSegmentBytes of vectors and
// at least kSegmentMinRows rows, so that a copy made to change a group stays small and every
// group is large enough for the sketch and the block kernels.
constexpr size_t kSegmentBytes = 16u << 20;
constexpr size_t kSegmentMinRows = 8192;
int seg_chunks_for(const Config& cfg);
// Records a chunk (loaded or just created) in its group, with zeroed metadata.
// group >= 0: into that group of the tuple (a re-read chunk stays where it was).
void cols_register_chunk(Table* t, int64_t chunk, const std::vector<Value>& tuple, int group = -1);
ChunkCols* chunk_cols_of(Cache& c, int64_t chunk);
const ChunkCols* chunk_cols_of(const Cache& c, int64_t chunk);
// The arena of vector column i that holds (or will hold) position key `key`; nullptr when the
// key's chunk is unknown. arena_for: the same where the chunk must be known (throws otherwise).
Arena* arena_ptr(Cache& c, int64_t key, size_t i);
const Arena* arena_ptr(const Cache& c, int64_t key, size_t i);
Arena& arena_for(Cache& c, int64_t key, size_t i);
int cols_load(Table* t);
int cols_load_chunk(Table* t, int64_t chunk);
int cols_check_insert(Table* t, sqlite3_value** argv, RowCols* rc);
int cols_check_update(Table* t, sqlite3_value** argv, RowCols* rc);
int cols_new_chunk(Table* t, int64_t chunk);
int cols_insert_row(Table* t, int64_t chunk, int off, int64_t rowid, const RowCols& rc);
int cols_update_row(Table* t, int64_t chunk, int off, int64_t rowid, const RowCols& rc);
int cols_delete_row(Table* t, int64_t chunk, int off, int64_t rowid, bool chunk_empty);
// Cache side of a chunk deletion (after its arena rows are gone).
void cols_forget_chunk(Cache& c, int64_t chunk);
// Partition, metadata and aux values of the row at position `key` (internal rowid `rowid`).
int cols_column(Table* t, Cursor* cur, sqlite3_context* ctx, const ColRef& ref, int64_t key, int64_t rowid);

}  // namespace vec0
}  // namespace vecsqlite
