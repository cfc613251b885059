// The dataset-aware `vec` virtual table: internal declarations shared by the files of
// native/sqlite/vec/. docs/ARCHITECTURE.md ("The dataset-aware table") describes the design;
// docs/vec.md the SQL surface.
//
//   CREATE VIRTUAL TABLE <t> USING vec([<idcol>][, key=value ...])
//   declared: CREATE TABLE x(dataset_id TEXT, <idcol> TEXT, match_score REAL HIDDEN)
//
// One file per concern, all under this header:
//   vec_module.cc     module entry, xCreate / xConnect / xDisconnect, the registry of live
//                     instances, registration of the module and its functions
//   vec_config.cc     CREATE arguments -> Config (a table of options and accepted values)
//   vec_storage.cc    every SQL statement on the data table, vector_storage(_gen) and triggers
//   vec_cache.cc      the per-connection in-memory index of each dataset and its freshness
//   vec_plan.cc       xBestIndex and the plan (idxNum / idxStr): encoded and decoded there only
//   vec_cursor.cc     xOpen / xFilter / xNext / xEof / xColumn / xRowid, the dataset scan
//   vec_query.cc      MATCH queries, through the core search entry (core/search.h)
//   vec_admin.cc      the `vec_admin` table: manual rebuilds
//   vec_index.*       the persisted index blob formats (legacy read, VSQ1 / HNS1 written)
//   vec_graph.cc      index=hnsw: the per-dataset graph (core/hnsw.h), its build, load,
//                     incremental maintenance, persistence and graph searches
//   vec_functions.cc  vec_cosine, vec_l2, vec_invalidate, vec_stats
//
// STORAGE, in the schema of the virtual table:
//   _vec_<t>(dataset_id TEXT NOT NULL, id TEXT NOT NULL, content TEXT, meta TEXT, embedding BLOB,
//     embedding_model TEXT, scn INTEGER NOT NULL DEFAULT 0, archived INTEGER NOT NULL DEFAULT 0,
//     PRIMARY KEY(dataset_id, id))
//       the data table, written by users; only rowid, dataset_id, id and embedding are read.
//       Its qualified name "<schema>._vec_<t>" (the "shadow" name) keys the two tables below.
//   vector_storage(shadow_table_name, dataset_id, "index" BLOB)   a saved index per dataset
//   vector_storage_gen(shadow_table_name, dataset_id, token)      a random token per dataset,
//       replaced by every write to it (and rolled back with it)
//   triggers trg_vec_<schema>__vec_<t>_ins / _upd / _del on the data table. Each one, per
//       affected dataset: deletes the vector_storage row, calls vec_invalidate(shadow, dataset,
//       rowid, <token before>, id), replaces the token with random(), then calls
//       vec_invalidate(shadow, dataset, NULL, <token after>, NULL). Triggers without the
//       "vecsqlite trigger v2" mark (older versions, or the original Go module) are replaced.
//
// FRESHNESS: each table instance (one per connection) caches one Arena per dataset, keyed by
// data-table rowid. The cache is trusted for a query only when the dataset's current token
// equals the token the cache is synced to, or the token after this connection's own recorded
// writes (the trigger calls form an unbroken chain); those rows are then re-read by rowid and
// applied one by one. Anything else (a commit by another connection or process, a rollback, a
// broken chain) rebuilds that one dataset: from a VSQ1 / HNS1 blob whose token is current, else from a
// legacy blob, else from the data table.
//
// TRANSACTIONS: all internal SQL runs on the calling connection, so :memory:, attached schemas,
// open transactions (own uncommitted writes are seen) and rollback-journal mode work. Writing
// the blob back is best effort (errors ignored) and happens after full builds, and after
// incremental updates only for datasets of at most kRepersistBytes of vectors.
//
// COMPATIBILITY with the original module: its messages for missing dataset constraints and bad
// MATCH arguments, score = cosine similarity, zero-magnitude rows never returned, rows without
// an embedding skipped, archived rows returned. Changed: `>` is strict; LIMIT is pushed down; a
// row with a bad blob length, another dimension or a NaN/Inf element fails the MATCH naming the
// row; index=cover/auto run the exact SIMD scan; dbpath= is rejected; COV1 blobs are rebuilt,
// not decoded.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/arena.h"
#include "core/hnsw.h"
#include "core/idmap.h"
#include "core/stats.h"
#include "core/topk.h"
#include "sqlite/ext.h"
#include "sqlite/stmt.h"

namespace vecsqlite {
namespace vec {

constexpr int kColDataset = 0, kColId = 1, kColScore = 2;
// Incremental updates write the saved index back only for datasets up to this many bytes.
constexpr size_t kRepersistBytes = 4u << 20;

// Counters reported by vec_stats() (defined in vec_cache.cc / vec_storage.cc).
extern Counter g_full_builds, g_blob_loads, g_incremental_rows, g_blob_writes;
// index=hnsw (vec_graph.cc): graphs built from rows (first build, upgrade of a blob without
// a graph), graphs loaded from a blob, stored graphs that were damaged or did not match the
// rows (rebuilt), graph searches, graph searches that reached too few rows (exact scan run).
extern Counter g_graph_builds, g_graph_loads, g_graph_rebuilds, g_graph_searches, g_graph_fallbacks;

// ---------------------------------------------------------------- config (vec_config.cc)
struct Config {
  std::string idcol = "doc_id";     // id column name, unquoted
  std::string index_kind = "auto";  // auto | brute | cover (exact scan) | hnsw (graph)
  HnswParams hnsw;                  // m=, ef_construction= (index=hnsw)
  uint32_t ef_search = 64;          // ef_search= (index=hnsw): default search effort
  bool ann_always = false;          // ann=always: use the graph whenever a query has a k
};
// Parses argv[3..] of xCreate / xConnect. `strict` (xCreate) rejects unknown options, invalid
// values and stray arguments; xConnect is lenient so an existing table keeps opening. Returns
// SQLITE_OK or SQLITE_ERROR with *err set.
int parse_config(int argc, const char* const* argv, bool strict, Config* out, std::string* err);

// ---------------------------------------------------------------- in-memory index (vec_cache.cc)
// rowid -> document id of one dataset. A MATCH looks up the id of every row it returns; a
// node-based map costs a chain of cache (and TLB) misses per lookup, which at a few microseconds
// a query was a tenth of a graph search. Here the ids live in one array, found through a flat
// IdMap, and a query can prefetch the entries of all its rows before reading them.
class DocIds {
 public:
  const std::string* find(int64_t rowid) const {
    auto it = index_.find(rowid);
    return it == index_.end() ? nullptr : &strs_[it->second];
  }
  void prefetch(int64_t rowid) const { index_.prefetch(rowid); }
  void set(int64_t rowid, const std::string& id) {
    auto it = index_.find(rowid);
    if (it != index_.end()) {
      strs_[it->second] = id;
      return;
    }
    uint32_t at;
    if (!free_.empty()) {
      at = free_.back();
      free_.pop_back();
      strs_[at] = id;
    } else {
      at = static_cast<uint32_t>(strs_.size());
      strs_.push_back(id);
    }
    index_.emplace(rowid, at);
  }
  void erase(int64_t rowid) {
    auto it = index_.find(rowid);
    if (it == index_.end()) return;
    const uint32_t at = it->second;
    std::string().swap(strs_[at]);
    free_.push_back(at);
    index_.erase(rowid);
  }
  void clear() {
    index_.clear();
    strs_.clear();
    free_.clear();
  }
  void reserve(size_t n) {
    index_.reserve(n);
    strs_.reserve(n);
  }

 private:
  IdMap<uint32_t> index_;
  std::vector<std::string> strs_;
  std::vector<uint32_t> free_;
};

// One dataset's rows in memory: what a MATCH reads. Shared, read-only, by every connection of
// the process that sees the dataset at the same token (vec_shared.cc); a connection changes its
// DatasetData only after own_data() (a copy while another connection holds it).
struct DatasetData {
  size_t dim = 0;                                  // 0 while the dataset has no vectors
  std::unique_ptr<Arena> arena;                    // rows by data-table rowid
  DocIds id_of;                                    // rowid -> id
  std::unordered_map<std::string, int64_t> rowid_of;
  // index=hnsw: the graph over the arena's rows (ids = rowids), maintained with every change
  // of the arena once attached; `outside` holds rows the graph cannot place (scanned).
  std::unique_ptr<HnswIndex> graph;
  std::unordered_set<int64_t> outside;
  bool graph_wanted = false;  // a graph is attached (created with the first row if none yet)
  HnswParams graph_params;
  DatasetData() = default;
  DatasetData(const DatasetData& o);  // a deep copy (the graph cloned)
  DatasetData& operator=(const DatasetData&) = delete;
};

// One dataset's index on one connection: its rows (data) and what this connection knows about
// their freshness.
struct DatasetIndex {
  bool loaded = false;                             // data reflects `token`
  int64_t token = 0;                               // token the data is synced to
  std::vector<std::pair<int64_t, std::string>> pending;  // (rowid, id) written by this connection since
  int64_t pending_token = 0;                       // token after the last recorded write
  bool broken = false;                             // chain of recorded writes has a gap
  bool revalidate = false;                         // vec_invalidate(shadow, dataset) was called
  std::shared_ptr<DatasetData> data = std::make_shared<DatasetData>();  // never null
  bool listed = false;                             // data may be in the process registry

  const DatasetData& d() const { return *data; }
  // The data, this connection's own (copied first while another connection holds it).
  DatasetData& own_data();
  // Forgets everything (data replaced by an empty one; others keep what they hold).
  void reset();
};

struct Table {
  sqlite3_vtab base;       // Base class. Must be first.
  sqlite3* db;             // the connection this instance belongs to; all SQL runs here
  std::string schema;      // argv[1]
  std::string name;        // virtual table name
  std::string idcol;       // id column name
  std::string data_table;  // _vec_<name>
  std::string shadow;      // "<schema>._vec_<name>": key in vector_storage(_gen)
  std::string index_kind;  // Config::index_kind
  bool hnsw = false;       // index=hnsw: every dataset gets a graph
  HnswParams hnsw_params;
  uint32_t ef_search = 64;
  bool ann_always = false;
  bool ensured = false;    // triggers / tables checked on this connection
  std::mutex mu;           // guards cache (vec_invalidate may run on another thread)
  std::map<std::string, DatasetIndex> cache;
  StmtCache stmts;         // prepared statements of the query path (t->mu held)
};

// Makes t->cache[dataset] current (t->mu held). Returns an rc with *err set on failure.
int acquire(Table* t, const std::string& dataset, DatasetIndex** out, std::string* err);
// Rebuilds the index of (schema.table, dataset) from the data table, saves it to
// vector_storage and drops every cached copy in the process (vec_admin).
int reindex(sqlite3* db, const std::string& schema, const std::string& table, const std::string& dataset,
            int64_t* count, std::string* err);

// ---------------------------------------------------------------- graphs (vec_graph.cc)
// Row maintenance of an attached graph (no-ops without one): called by the cache for every
// row it adds (after the arena holds it) and removes (before the arena drops it).
void graph_add(DatasetData* ix, int64_t rowid);
void graph_remove(DatasetData* ix, int64_t rowid);
// Builds ix->graph over every arena row, on every core (counter graph_builds).
void graph_build(const Table* t, DatasetData* ix);
// Attaches the graph stored in an HNS1 blob's graph part to a loaded arena. False when the
// part is damaged or does not match the rows (the caller rebuilds; counter graph_rebuilds).
bool graph_load(const Table* t, DatasetData* ix, const uint8_t* part, size_t n);
// Appends the graph part of an HNS1 blob (see vec_index.h).
void graph_encode(const HnswIndex& g, std::vector<uint8_t>* out);
// The k nearest rows through the graph, rescored exactly; false when the graph is not to be
// used (the cost policy prefers the scan, the query cannot be placed, or the graph reached
// fewer than k rows): the caller scans.
bool graph_search(const Table* t, const DatasetData* ix, const float* q, size_t k, std::vector<TopK::Item>* out);

// ---------------------------------------------------------------- sharing (vec_shared.cc)
// The process-wide registry of DatasetData, keyed by database file (device, inode), table,
// dataset and token (a random value every write moves). share_adopt: takes the data another
// connection published for (dataset, token), if any. share_publish: offers ix's data (loaded
// at ix.token) to the others, or takes an equal one already there. share_forget: drops every
// entry of a dataset (its rows changed behind the triggers' back: the token proves nothing).
// No-ops for in-memory and temporary databases and inside transactions that wrote the table.
bool share_adopt(Table* t, const std::string& dataset, int64_t token, DatasetIndex* ix);
void share_publish(Table* t, const std::string& dataset, DatasetIndex* ix);
void share_forget(sqlite3* db, const std::string& schema, const std::string& table, const std::string& dataset);
void share_unlist(DatasetIndex* ix);

// ---------------------------------------------------------------- registry (vec_module.cc)
// Every live instance in the process; vec_invalidate and reindex walk it under registry_mu().
std::mutex& registry_mu();
std::vector<Table*>& registry();
// The instance whose mutex this thread holds while it runs internal SQL: a trigger a user put on
// vector_storage could call vec_invalidate from inside; it must not lock it again.
extern thread_local Table* tl_locked;
// Locks t->mu unless this thread already holds it.
struct InstanceLock {
  Table* t;
  bool owned;
  explicit InstanceLock(Table* table) : t(table), owned(tl_locked != table) {
    if (owned) t->mu.lock();
  }
  ~InstanceLock() {
    if (owned) t->mu.unlock();
  }
};

// Sets vtab->zErrMsg from a printf-style format; returns SQLITE_ERROR (SQLITE_NOMEM on OOM).
int set_error(sqlite3_vtab* vtab, const char* fmt, ...);

// ---------------------------------------------------------------- storage (vec_storage.cc)
int ensure_storage_tables(sqlite3* db, const std::string& schema, std::string* err);
// Creates the data table, storage tables and triggers (replacing foreign triggers).
int ensure_schema(Table* t, std::string* err);
// True when the three triggers of this version are installed on the data table.
bool triggers_present(Table* t);
// Current token of (shadow, dataset): 0 when no write was ever recorded. Returns an rc.
int read_token(sqlite3* db, const std::string& schema, const std::string& shadow, const std::string& dataset,
               int64_t* out);
// The same through the instance's statement cache (the query path: once per MATCH).
int read_token(Table* t, const std::string& dataset, int64_t* out);
// Replaces the saved index of (shadow, dataset); best effort (a busy or read-only database
// keeps serving from memory).
void store_blob(sqlite3* db, const std::string& schema, const std::string& shadow, const std::string& dataset,
                const std::vector<uint8_t>& blob);
// Calls fn(bytes, n) with the saved index blob of (shadow, dataset) while it is readable; returns
// fn's result, or false when there is no BLOB.
template <typename Fn>
bool with_stored_blob(sqlite3* db, const std::string& schema, const std::string& shadow, const std::string& dataset,
                      Fn fn);
// One data-table row as the index reads it.
struct DataRow {
  int64_t rowid;
  std::string id;
  const void* blob;  // embedding bytes, valid during the callback
  int nbytes;
};
// Rows of `dataset` with a non-NULL embedding; fn returns false to stop (the rc is then
// SQLITE_ERROR, *err left to fn).
template <typename Fn>
int for_each_embedding(sqlite3* db, const std::string& schema, const std::string& table, const std::string& dataset,
                       Fn fn, std::string* err);
// Rows of `dataset` with a non-NULL embedding whose rowid is `rowid` or whose id is `id`.
template <typename Fn>
int for_each_written_row(Stmt* st, const std::string& dataset, int64_t rowid, const std::string& id, Fn fn,
                         std::string* err);
std::string written_rows_sql(const Table* t);
// id -> rowid of every row of `dataset` (for legacy blobs, which carry no rowids).
bool rowids_by_id(sqlite3* db, const std::string& schema, const std::string& table, const std::string& dataset,
                  std::unordered_map<std::string, int64_t>* out);
// The scan plan's statement: rowid, id (and dataset_id) of the dataset's rows in rowid order.
// `collation` empty = binary comparison of dataset_id.
std::string scan_sql(const Table* t, bool by_id, const std::string& collation);

// ---------------------------------------------------------------- plans (vec_plan.cc)
struct Plan {
  bool match = false;       // MATCH plan (else: scan of the dataset)
  bool score_bound = false; // match_score >= ? or > ?
  bool score_strict = false;
  bool limit = false;
  bool offset = false;
  bool by_id = false;       // scan plan: <idcol> = ?
  std::string collation;    // dataset_id comparison; empty = binary
  bool valid = false;       // an idxNum best_index can produce
  int args = 0;             // the xFilter arguments the plan consumes
};
int best_index(sqlite3_vtab* vtab, sqlite3_index_info* info);
Plan decode_plan(int idxNum, const char* idxStr);

// ---------------------------------------------------------------- cursor and query
struct Hit {
  int64_t rowid;
  double score;
  std::string id;
};

struct Cursor {
  sqlite3_vtab_cursor base;  // Base class. Must be first.
  std::string dataset;       // constraint value, echoed in column 0
  bool scan = false;
  bool scan_echo_row = false;  // scan plan with a collation: column 0 comes from the row
  std::unique_ptr<Stmt> stmt;  // scan plan
  bool eof = true;
  std::vector<Hit> hits;       // match plan, best first
  size_t pos = 0;
};

// Dataset argument as text; on failure sets the error and returns false.
bool dataset_arg(sqlite3_vtab* vtab, sqlite3_value* v, std::string* out);
// Runs a MATCH plan into c->hits (vec_query.cc).
int match_filter(Cursor* c, Table* t, const Plan& plan, int argc, sqlite3_value** argv);

int cursor_open(sqlite3_vtab*, sqlite3_vtab_cursor** pp);
int cursor_close(sqlite3_vtab_cursor* cur);
int cursor_filter(sqlite3_vtab_cursor* cur, int idxNum, const char* idxStr, int argc, sqlite3_value** argv);
int cursor_next(sqlite3_vtab_cursor* cur);
int cursor_eof(sqlite3_vtab_cursor* cur);
int cursor_column(sqlite3_vtab_cursor* cur, sqlite3_context* ctx, int col);
int cursor_rowid(sqlite3_vtab_cursor* cur, sqlite3_int64* out);

// ---------------------------------------------------------------- functions (vec_functions.cc)
int register_vec_table_functions(sqlite3* db);  // vec_invalidate (2 and 5 args), vec_stats

// ---------------------------------------------------------------- template definitions
template <typename Fn>
bool with_stored_blob(sqlite3* db, const std::string& schema, const std::string& shadow, const std::string& dataset,
                      Fn fn) {
  Stmt st(db, string_printf("SELECT \"index\" FROM \"%w\".vector_storage WHERE shadow_table_name=?1 AND dataset_id=?2",
                            schema.c_str()));
  if (!st.ok()) return false;
  sqlite3_bind_text(st, 1, shadow.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, dataset.c_str(), int(dataset.size()), SQLITE_TRANSIENT);
  if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_type(st, 0) != SQLITE_BLOB) return false;
  return fn(static_cast<const uint8_t*>(sqlite3_column_blob(st, 0)), size_t(sqlite3_column_bytes(st, 0)));
}

inline std::string column_string(sqlite3_stmt* st, int col) {
  const unsigned char* p = sqlite3_column_text(st, col);
  return p ? std::string(reinterpret_cast<const char*>(p), size_t(sqlite3_column_bytes(st, col))) : std::string();
}

template <typename Fn>
int for_each_embedding(sqlite3* db, const std::string& schema, const std::string& table, const std::string& dataset,
                       Fn fn, std::string* err) {
  Stmt st(db, string_printf("SELECT rowid, id, embedding FROM \"%w\".\"%w\" WHERE dataset_id = ?1 AND embedding IS NOT NULL",
                            schema.c_str(), table.c_str()));
  if (!st.ok()) {
    *err = sqlite3_errmsg(db);
    return st.rc();
  }
  sqlite3_bind_text(st, 1, dataset.c_str(), int(dataset.size()), SQLITE_TRANSIENT);
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const DataRow row{sqlite3_column_int64(st, 0), column_string(st, 1), sqlite3_column_blob(st, 2),
                      sqlite3_column_bytes(st, 2)};
    if (!fn(row)) return SQLITE_ERROR;
  }
  if (rc != SQLITE_DONE) {
    *err = sqlite3_errmsg(db);
    return rc;
  }
  return SQLITE_OK;
}

template <typename Fn>
int for_each_written_row(Stmt* st, const std::string& dataset, int64_t rowid, const std::string& id, Fn fn,
                         std::string* err) {
  sqlite3_bind_int64(*st, 1, rowid);
  sqlite3_bind_text(*st, 2, dataset.c_str(), int(dataset.size()), SQLITE_TRANSIENT);
  sqlite3_bind_text(*st, 3, id.c_str(), int(id.size()), SQLITE_TRANSIENT);
  int rc = SQLITE_OK, s;
  while ((s = sqlite3_step(*st)) == SQLITE_ROW) {
    const DataRow row{sqlite3_column_int64(*st, 0), column_string(*st, 1), sqlite3_column_blob(*st, 2),
                      sqlite3_column_bytes(*st, 2)};
    if (!fn(row)) {
      rc = SQLITE_ERROR;
      break;
    }
  }
  if (rc == SQLITE_OK && s != SQLITE_DONE) {
    rc = s;
    *err = sqlite3_errmsg(sqlite3_db_handle(*st));
  }
  sqlite3_reset(*st);
  return rc;
}

}  // namespace vec
}  // namespace vecsqlite
