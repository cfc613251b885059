// `vec`: the dataset-aware, read-only vector table (dataset-vec-design.md §4-§5), and the SQL
// functions vec_invalidate (§3.2) and vec_stats (ours, for observability).
//
//   CREATE VIRTUAL TABLE <t> USING vec([<idcol>][, key=value ...])
//   declared: CREATE TABLE x(dataset_id TEXT, <idcol> TEXT, match_score REAL HIDDEN)
//
// ---- Storage, in the schema of the virtual table ------------------------------------------
// Data table (a plain table written by users; created IF NOT EXISTS in xCreate):
//   CREATE TABLE _vec_<t> (dataset_id TEXT NOT NULL, id TEXT NOT NULL, content TEXT, meta TEXT,
//     embedding BLOB, embedding_model TEXT, scn INTEGER NOT NULL DEFAULT 0,
//     archived INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(dataset_id, id))
//   Only rowid, dataset_id, id and embedding are read. The qualified name "<schema>._vec_<t>"
//   is the key used in vector_storage and vector_storage_gen.
// CREATE TABLE vector_storage (shadow_table_name TEXT NOT NULL, dataset_id TEXT NOT NULL
//   DEFAULT '', "index" BLOB, PRIMARY KEY (shadow_table_name, dataset_id))   -- §5.1; blob
//   formats in vec_index.h (legacy read, VSQ1 written).
// CREATE TABLE vector_storage_gen (shadow_table_name TEXT NOT NULL, dataset_id TEXT NOT NULL
//   DEFAULT '', token INTEGER NOT NULL, PRIMARY KEY (shadow_table_name, dataset_id))   -- ours:
//   a random token replaced by every write to the dataset (rolled back with it).
// Triggers trg_vec_<schema>__vec_<t>_ins/_upd/_del (names and events of §5.6). Each one, per
// affected dataset: deletes the vector_storage row, calls
//   vec_invalidate(shadow, dataset, rowid, <token before>, id), replaces the token with
//   random(), calls vec_invalidate(shadow, dataset, NULL, <token after>, NULL).
// Triggers from the original (bodies without vector_storage_gen) are dropped and recreated.
//
// ---- Freshness (replaces the original's process-global cache, W3/W5/P1) --------------------
// Each table instance (one per connection) caches one in-memory Arena per dataset, with the
// data-table rowid as the arena id. The cache is trusted for a query only when the dataset's
// current token equals the token the cache is synced to, or equals the token after this
// connection's own recorded writes (the trigger calls above form an unbroken chain); those
// rows are then re-read by rowid and applied incrementally. Anything else (a commit by another
// connection or process, a rollback, a broken chain) rebuilds the one dataset: from a VSQ1 blob
// whose token is current, else from a legacy blob, else from the data table.
//
// ---- Plans (xBestIndex) ---------------------------------------------------------------------
// idxNum bits, argv in this order:
//   VEC_BI_DATASET 0x01  dataset_id = ?      VEC_BI_MATCH 0x02  <idcol> MATCH ?
//   VEC_BI_SCORE_GE 0x04 match_score >= ?    VEC_BI_SCORE_GT 0x08  match_score > ? (strict)
//   VEC_BI_LIMIT 0x10    LIMIT ?             VEC_BI_OFFSET 0x20  OFFSET ?
//   VEC_BI_ID 0x40       <idcol> = ? (scan plan only)
// Plans: scan (DATASET [ID]) -> rows of the dataset in rowid order, match_score 0.0;
//        match (DATASET MATCH [SCORE_*] [LIMIT [OFFSET]]) -> top-(limit+offset) or all rows by
//        cosine similarity, highest first (ties: smaller rowid first); ORDER BY match_score
//        DESC is consumed.
// A dataset constraint that exists but is not usable gives SQLITE_CONSTRAINT (joins, IN);
// none at all gives the original's messages.
//
// ---- Transactions --------------------------------------------------------------------------
// All internal SQL runs on the calling connection, so :memory:, attached schemas, open
// transactions (own uncommitted writes are seen) and rollback-journal mode work. Writing the
// blob back is best effort (errors ignored) and happens after full builds, and after
// incremental updates only for datasets of at most 4 MiB of vectors.
//
// ---- Compatibility notes ------------------------------------------------------------------
// Kept: messages of §4.4-§4.6, score = cosine similarity, zero-magnitude rows never returned,
// rows without embedding skipped, archived rows returned (the original ignores `archived`).
// Changed: `>` is strict; LIMIT pushed down; a row with a bad blob length or another dimension
// fails the MATCH naming the row; index=cover/auto run the exact SIMD scan (see README);
// dbpath= is rejected; COV1 blobs are rebuilt, not decoded.
#include "sqlite/vtab_vec.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <thread>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/arena.h"
#include "kernels/kernels.h"
#include "core/search.h"
#include "core/stats.h"
#include "sqlite/codec.h"
#include "sqlite/vec_index.h"

namespace vecsqlite {
namespace {

enum : int {
  VEC_BI_DATASET = 0x01,
  VEC_BI_MATCH = 0x02,
  VEC_BI_SCORE_GE = 0x04,
  VEC_BI_SCORE_GT = 0x08,
  VEC_BI_LIMIT = 0x10,
  VEC_BI_OFFSET = 0x20,
  VEC_BI_ID = 0x40,
};

constexpr int kColDataset = 0, kColId = 1, kColScore = 2;
constexpr size_t kRepersistBytes = 4u << 20;

Counter g_full_builds("full_builds"), g_blob_loads("blob_loads"), g_incremental_rows("incremental_rows"),
    g_blob_writes("blob_writes");

// One dataset's in-memory index.
struct DatasetIndex {
  bool loaded = false;                            // arena/maps reflect `token`
  size_t dim = 0;                                 // 0 while the dataset has no vectors
  std::unique_ptr<Arena> arena;                   // rows by data-table rowid
  std::unordered_map<int64_t, std::string> id_of; // rowid -> id
  std::unordered_map<std::string, int64_t> rowid_of;
  int64_t token = 0;                              // token the arena is synced to
  std::vector<std::pair<int64_t, std::string>> pending;  // (rowid, id) written by this connection since
  int64_t pending_token = 0;                      // token after the last recorded write
  bool broken = false;                            // chain of recorded writes has a gap
  bool revalidate = false;                        // vec_invalidate(shadow, dataset) was called

  void reset() {
    loaded = false;
    dim = 0;
    arena.reset();
    id_of.clear();
    rowid_of.clear();
    pending.clear();
    broken = false;
    revalidate = false;
  }
};

struct VecTable {
  sqlite3_vtab base;       // Base class. Must be first.
  sqlite3* db;             // the connection this instance belongs to; all SQL runs here
  std::string schema;      // argv[1]
  std::string name;        // virtual table name
  std::string idcol;       // id column name
  std::string data_table;  // _vec_<name>
  std::string shadow;      // "<schema>._vec_<name>": key in vector_storage(_gen)
  std::string index_kind;  // auto | brute | cover (all run the exact scan)
  bool ensured = false;    // triggers / tables checked on this connection
  std::mutex mu;           // guards cache (vec_invalidate may run on another thread)
  std::map<std::string, DatasetIndex> cache;
};

struct Hit {
  int64_t rowid;
  double score;
  std::string id;
};

struct VecCursor {
  sqlite3_vtab_cursor base;  // Base class. Must be first.
  std::string dataset;       // constraint value, echoed in column 0
  bool scan = false;
  sqlite3_stmt* stmt = nullptr;  // scan plan
  bool eof = true;
  std::vector<Hit> hits;     // match plan, best first
  size_t pos = 0;
};

// ---------------------------------------------------------------- registry of live instances
std::mutex g_registry_mu;
// The instance whose mutex this thread holds while it runs internal SQL (acquire): a trigger a
// user put on vector_storage could call vec_invalidate from inside; it must not lock it again.
thread_local VecTable* tl_locked = nullptr;

// Locks t->mu unless this thread already holds it.
struct InstanceLock {
  VecTable* t;
  bool owned;
  explicit InstanceLock(VecTable* table) : t(table), owned(tl_locked != table) {
    if (owned) t->mu.lock();
  }
  ~InstanceLock() {
    if (owned) t->mu.unlock();
  }
};
std::vector<VecTable*>& registry() {
  static auto* r = new std::vector<VecTable*>();  // never destroyed: safe at process exit
  return *r;
}

// ---------------------------------------------------------------- small helpers

std::string lower(std::string s) {
  for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}



int set_error(sqlite3_vtab* vtab, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char* msg = sqlite3_vmprintf(fmt, ap);
  va_end(ap);
  sqlite3_free(vtab->zErrMsg);
  vtab->zErrMsg = msg;
  return msg ? SQLITE_ERROR : SQLITE_NOMEM;
}

// Runs `sql` (from sqlite3_mprintf; freed here) with sqlite3_exec.
int exec_owned(sqlite3* db, char* sql, std::string* err) {
  if (sql == nullptr) return SQLITE_NOMEM;
  char* e = nullptr;
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &e);
  sqlite3_free(sql);
  if (rc != SQLITE_OK && err) *err = e ? e : sqlite3_errstr(rc);
  sqlite3_free(e);
  return rc;
}

int prepare_owned(sqlite3* db, char* sql, sqlite3_stmt** out) {
  if (sql == nullptr) return SQLITE_NOMEM;
  const int rc = sqlite3_prepare_v2(db, sql, -1, out, nullptr);
  sqlite3_free(sql);
  return rc;
}

std::string trigger_base(const std::string& shadow) {
  std::string b = "trg_vec_" + shadow;
  for (auto& c : b) {
    if (c == '.' || c == '-' || c == ' ') c = '_';
  }
  return b;
}

// ---------------------------------------------------------------- schema
int ensure_storage_tables(sqlite3* db, const std::string& schema, std::string* err) {
  int rc = exec_owned(db, sqlite3_mprintf(
      "CREATE TABLE IF NOT EXISTS \"%w\".vector_storage (shadow_table_name TEXT NOT NULL, "
      "dataset_id TEXT NOT NULL DEFAULT '', \"index\" BLOB, PRIMARY KEY (shadow_table_name, dataset_id));"
      "CREATE TABLE IF NOT EXISTS \"%w\".vector_storage_gen (shadow_table_name TEXT NOT NULL, "
      "dataset_id TEXT NOT NULL DEFAULT '', token INTEGER NOT NULL, PRIMARY KEY (shadow_table_name, dataset_id));",
      schema.c_str(), schema.c_str()), err);
  return rc;
}

// Creates the data table, storage tables and triggers (replacing triggers of the original).
int ensure_schema(VecTable* t, std::string* err) {
  int rc = exec_owned(t->db, sqlite3_mprintf(
      "CREATE TABLE IF NOT EXISTS \"%w\".\"%w\" (dataset_id TEXT NOT NULL, id TEXT NOT NULL, "
      "content TEXT, meta TEXT, embedding BLOB, embedding_model TEXT, scn INTEGER NOT NULL DEFAULT 0, "
      "archived INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(dataset_id, id))",
      t->schema.c_str(), t->data_table.c_str()), err);
  if (rc == SQLITE_OK) rc = ensure_storage_tables(t->db, t->schema, err);
  const std::string base = trigger_base(t->shadow);
  struct Spec { const char* suffix; const char* event; const char* rows[2]; };
  const Spec specs[3] = {{"_ins", "INSERT", {"NEW", nullptr}},
                         {"_upd", "UPDATE", {"NEW", "OLD"}},
                         {"_del", "DELETE", {"OLD", nullptr}}};
  for (const Spec& s : specs) {
    if (rc != SQLITE_OK) break;
    const std::string tname = base + s.suffix;
    // Drop a trigger of the original or of an older vecsqlite (no "vecsqlite trigger v2" mark).
    sqlite3_stmt* st = nullptr;
    rc = prepare_owned(t->db, sqlite3_mprintf(
        "SELECT sql FROM \"%w\".sqlite_schema WHERE type='trigger' AND name=?1", t->schema.c_str()), &st);
    bool present = false, ours = false;
    if (rc == SQLITE_OK) {
      sqlite3_bind_text(st, 1, tname.c_str(), -1, SQLITE_TRANSIENT);
      if (sqlite3_step(st) == SQLITE_ROW) {
        present = true;
        const unsigned char* sql = sqlite3_column_text(st, 0);
        ours = sql && std::strstr(reinterpret_cast<const char*>(sql), "vecsqlite trigger v2") != nullptr;
      }
      rc = sqlite3_finalize(st);
    }
    if (rc == SQLITE_OK && present && !ours) {
      rc = exec_owned(t->db, sqlite3_mprintf("DROP TRIGGER \"%w\".\"%w\"", t->schema.c_str(), tname.c_str()), err);
    }
    if (rc != SQLITE_OK || (present && ours)) continue;
    std::string body;
    for (const char* r : s.rows) {
      if (r == nullptr) continue;
      char* part = sqlite3_mprintf(
          "  DELETE FROM vector_storage WHERE shadow_table_name = %Q AND dataset_id = %s.dataset_id;\n"
          "  SELECT vec_invalidate(%Q, %s.dataset_id, %s.rowid, (SELECT token FROM vector_storage_gen "
          "WHERE shadow_table_name = %Q AND dataset_id = %s.dataset_id), %s.id);\n"
          "  INSERT INTO vector_storage_gen(shadow_table_name, dataset_id, token) VALUES (%Q, %s.dataset_id, random()) "
          "ON CONFLICT(shadow_table_name, dataset_id) DO UPDATE SET token = excluded.token;\n"
          "  SELECT vec_invalidate(%Q, %s.dataset_id, NULL, (SELECT token FROM vector_storage_gen "
          "WHERE shadow_table_name = %Q AND dataset_id = %s.dataset_id), NULL);\n",
          t->shadow.c_str(), r, t->shadow.c_str(), r, r, t->shadow.c_str(), r, r, t->shadow.c_str(), r,
          t->shadow.c_str(), r, t->shadow.c_str(), r);
      if (part == nullptr) return SQLITE_NOMEM;
      body += part;
      sqlite3_free(part);
    }
    rc = exec_owned(t->db, sqlite3_mprintf(
        "CREATE TRIGGER IF NOT EXISTS \"%w\".\"%w\" AFTER %s ON \"%w\"\nBEGIN\n  -- vecsqlite trigger v2\n%sEND",
        t->schema.c_str(), tname.c_str(), s.event, t->data_table.c_str(), body.c_str()), err);
  }
  return rc;
}

// True when the three triggers of this version are installed on the data table (then every
// write moves the token, and a token check alone proves the cache current).
bool triggers_present(VecTable* t) {
  sqlite3_stmt* st = nullptr;
  const std::string base = trigger_base(t->shadow);
  int n = 0;
  if (prepare_owned(t->db, sqlite3_mprintf(
          "SELECT count(*) FROM \"%w\".sqlite_schema WHERE type = 'trigger' AND tbl_name = ?1 "
          "AND name IN (?2 || '_ins', ?2 || '_upd', ?2 || '_del') AND sql LIKE '%%vecsqlite trigger v2%%'",
          t->schema.c_str()), &st) == SQLITE_OK) {
    sqlite3_bind_text(st, 1, t->data_table.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, base.c_str(), -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int(st, 0);
  }
  sqlite3_finalize(st);
  return n == 3;
}

// ---------------------------------------------------------------- tokens, blobs
// Current token of (shadow, dataset): 0 when no write was ever recorded. Returns an rc.
int read_token(sqlite3* db, const std::string& schema, const std::string& shadow,
               const std::string& dataset, int64_t* out) {
  sqlite3_stmt* st = nullptr;
  int rc = prepare_owned(db, sqlite3_mprintf(
      "SELECT token FROM \"%w\".vector_storage_gen WHERE shadow_table_name=?1 AND dataset_id=?2",
      schema.c_str()), &st);
  *out = 0;
  if (rc == SQLITE_OK) {
    sqlite3_bind_text(st, 1, shadow.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, dataset.c_str(), int(dataset.size()), SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW) *out = sqlite3_column_int64(st, 0);
    rc = sqlite3_finalize(st);
  }
  return rc;
}

void write_blob(sqlite3* db, const std::string& schema, const std::string& shadow,
                const std::string& dataset, const DatasetIndex& ix) {
  std::vector<uint8_t> blob;
  vsq1_begin(&blob, uint32_t(ix.dim), ix.token);
  uint32_t n = 0;
  if (ix.arena) {
    const size_t limit = size_t(sqlite3_limit(db, SQLITE_LIMIT_LENGTH, -1));
    const size_t est = 28 + ix.arena->size() * (ix.arena->row_bytes() + 12 + 16);
    if (est > limit) return;
    for (size_t s = 0; s < ix.arena->size(); s++) {
      const int64_t rid = ix.arena->id_at(s);
      auto it = ix.id_of.find(rid);
      vsq1_add_row(&blob, rid, it == ix.id_of.end() ? std::string() : it->second,
                   static_cast<const float*>(ix.arena->row_at(s)), uint32_t(ix.dim));
      n++;
    }
  }
  vsq1_finish(&blob, n);
  if (blob.size() > size_t(sqlite3_limit(db, SQLITE_LIMIT_LENGTH, -1))) return;
  sqlite3_stmt* st = nullptr;
  if (prepare_owned(db, sqlite3_mprintf(
          "INSERT OR REPLACE INTO \"%w\".vector_storage(shadow_table_name, dataset_id, \"index\") VALUES (?1, ?2, ?3)",
          schema.c_str()), &st) != SQLITE_OK) {
    sqlite3_finalize(st);
    return;
  }
  sqlite3_bind_text(st, 1, shadow.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, dataset.c_str(), int(dataset.size()), SQLITE_TRANSIENT);
  sqlite3_bind_blob64(st, 3, blob.data(), blob.size(), SQLITE_STATIC);
  if (sqlite3_step(st) == SQLITE_DONE) g_blob_writes.add();
  sqlite3_finalize(st);  // best effort: a busy or read-only database keeps serving from memory
}

void add_row(DatasetIndex* ix, int64_t rowid, const std::string& id, const float* v) {
  auto old = ix->rowid_of.find(id);
  if (old != ix->rowid_of.end() && old->second != rowid) {  // INSERT OR REPLACE moved the id
    ix->arena->remove(old->second);
    ix->id_of.erase(old->second);
  }
  auto prev = ix->id_of.find(rowid);
  if (prev != ix->id_of.end() && prev->second != id) ix->rowid_of.erase(prev->second);
  ix->arena->upsert(rowid, v);
  ix->id_of[rowid] = id;
  ix->rowid_of[id] = rowid;
}

void remove_row(DatasetIndex* ix, int64_t rowid) {
  auto it = ix->id_of.find(rowid);
  if (it == ix->id_of.end()) return;
  if (ix->arena) ix->arena->remove(rowid);
  auto r = ix->rowid_of.find(it->second);
  if (r != ix->rowid_of.end() && r->second == rowid) ix->rowid_of.erase(r);
  ix->id_of.erase(it);
}

// Checks one data-table embedding and adds it. Returns false with *err naming the row.
bool take_embedding(DatasetIndex* ix, const std::string& dataset, int64_t rowid, const std::string& id,
                    const void* blob, int nbytes, std::vector<float>* scratch, std::string* err) {
  const float* v = nullptr;
  size_t dim = 0;
  switch (decode_f32_le(blob, size_t(nbytes), scratch, &v, &dim)) {
    case DecodeStatus::empty:
      remove_row(ix, rowid);  // no vector: not searchable
      return true;
    case DecodeStatus::bad_length: {
      char* m = sqlite3_mprintf("vec: dataset %Q row %lld (id %Q): invalid embedding blob length %d",
                                dataset.c_str(), (long long)rowid, id.c_str(), nbytes);
      *err = m ? m : "out of memory";
      sqlite3_free(m);
      return false;
    }
    case DecodeStatus::ok:
      break;
  }
  if (ix->dim == 0 && ix->arena == nullptr) {
    ix->dim = dim;
    ix->arena.reset(new Arena(Dtype::f32, dim));
  }
  if (dim != ix->dim) {
    char* m = sqlite3_mprintf("vec: dataset %Q row %lld (id %Q): embedding dimension %d differs from the dataset's %d",
                              dataset.c_str(), (long long)rowid, id.c_str(), int(dim), int(ix->dim));
    *err = m ? m : "out of memory";
    sqlite3_free(m);
    return false;
  }
  add_row(ix, rowid, id, v);
  return true;
}

// Full build of one dataset from the data table.
int build_from_table(sqlite3* db, const std::string& schema, const std::string& table,
                     const std::string& dataset, DatasetIndex* ix, std::string* err) {
  ix->reset();
  sqlite3_stmt* st = nullptr;
  int rc = prepare_owned(db, sqlite3_mprintf(
      "SELECT rowid, id, embedding FROM \"%w\".\"%w\" WHERE dataset_id = ?1 AND embedding IS NOT NULL",
      schema.c_str(), table.c_str()), &st);
  if (rc != SQLITE_OK) {
    *err = sqlite3_errmsg(db);
    sqlite3_finalize(st);
    return rc;
  }
  sqlite3_bind_text(st, 1, dataset.c_str(), int(dataset.size()), SQLITE_TRANSIENT);
  std::vector<float> scratch;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const int64_t rowid = sqlite3_column_int64(st, 0);
    const unsigned char* idp = sqlite3_column_text(st, 1);
    std::string id = idp ? std::string(reinterpret_cast<const char*>(idp), size_t(sqlite3_column_bytes(st, 1))) : "";
    const void* blob = sqlite3_column_blob(st, 2);
    const int nb = sqlite3_column_bytes(st, 2);
    if (!take_embedding(ix, dataset, rowid, id, blob, nb, &scratch, err)) {
      sqlite3_finalize(st);
      ix->reset();
      return SQLITE_ERROR;
    }
  }
  if (rc != SQLITE_DONE) {
    *err = sqlite3_errmsg(db);
    sqlite3_finalize(st);
    ix->reset();
    return rc;
  }
  sqlite3_finalize(st);
  ix->loaded = true;
  g_full_builds.add();
  return SQLITE_OK;
}

// Loads a stored blob when it can be trusted. Returns true when `ix` is loaded from it.
bool load_from_blob(sqlite3* db, const std::string& schema, const std::string& table,
                    const std::string& shadow, const std::string& dataset, int64_t token, DatasetIndex* ix) {
  sqlite3_stmt* st = nullptr;
  if (prepare_owned(db, sqlite3_mprintf(
          "SELECT \"index\" FROM \"%w\".vector_storage WHERE shadow_table_name=?1 AND dataset_id=?2",
          schema.c_str()), &st) != SQLITE_OK) {
    sqlite3_finalize(st);
    return false;
  }
  sqlite3_bind_text(st, 1, shadow.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, dataset.c_str(), int(dataset.size()), SQLITE_TRANSIENT);
  bool ok = false;
  if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_BLOB) {
    const DecodedIndex d = decode_index_blob(static_cast<const uint8_t*>(sqlite3_column_blob(st, 0)),
                                             size_t(sqlite3_column_bytes(st, 0)));
    if ((d.kind == BlobKind::vsq1 && d.token == token) || d.kind == BlobKind::legacy) {
      ix->reset();
      ix->dim = d.dim;
      if (d.dim > 0) {
        ix->arena.reset(new Arena(Dtype::f32, d.dim));
        ix->arena->reserve(d.rows.size());
        ix->id_of.reserve(d.rows.size());
        ix->rowid_of.reserve(d.rows.size());
      }
      std::unordered_map<std::string, int64_t> rowids;
      bool good = d.dim > 0 || d.rows.empty();
      if (good && d.kind == BlobKind::legacy) {
        // The legacy format has no rowids: resolve them (a missing id means the blob is stale).
        sqlite3_stmt* q = nullptr;
        if (prepare_owned(db, sqlite3_mprintf("SELECT rowid, id FROM \"%w\".\"%w\" WHERE dataset_id=?1",
                                              schema.c_str(), table.c_str()), &q) == SQLITE_OK) {
          sqlite3_bind_text(q, 1, dataset.c_str(), int(dataset.size()), SQLITE_TRANSIENT);
          while (sqlite3_step(q) == SQLITE_ROW) {
            const unsigned char* idp = sqlite3_column_text(q, 1);
            if (idp) rowids[std::string(reinterpret_cast<const char*>(idp), size_t(sqlite3_column_bytes(q, 1)))] = sqlite3_column_int64(q, 0);
          }
        } else {
          good = false;
        }
        sqlite3_finalize(q);
      }
      std::vector<float> row(d.dim);
      for (const IndexRow& r : d.rows) {
        if (!good) break;
        int64_t rid = r.rowid;
        if (d.kind == BlobKind::legacy) {
          auto it = rowids.find(r.id);
          if (it == rowids.end()) { good = false; break; }
          rid = it->second;
        }
        std::memcpy(row.data(), r.vec, d.dim * 4);  // little-endian hosts (codec.h notes BE)
        add_row(ix, rid, r.id, row.data());
      }
      if (good) {
        ix->loaded = true;
        ix->token = token;
        ok = true;
        g_blob_loads.add();
      } else {
        ix->reset();
      }
    }
  }
  sqlite3_finalize(st);
  return ok;
}

// Re-reads the rows this connection wrote since the cache was synced. Each recorded write names
// a rowid and an id: both are dropped from the index, then whatever the table now holds under
// that rowid or under (dataset, id) is added back. Naming the id catches rows that INSERT OR
// REPLACE deleted without firing the delete trigger.
int apply_pending(VecTable* t, const std::string& dataset, DatasetIndex* ix, std::string* err) {
  std::vector<std::pair<int64_t, std::string>> rows;
  rows.swap(ix->pending);
  std::sort(rows.begin(), rows.end());
  rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
  for (const auto& r : rows) {
    remove_row(ix, r.first);
    auto it = ix->rowid_of.find(r.second);
    if (it != ix->rowid_of.end()) remove_row(ix, it->second);
  }
  sqlite3_stmt* st = nullptr;
  int rc = prepare_owned(t->db, sqlite3_mprintf(
      "SELECT rowid, id, embedding FROM \"%w\".\"%w\" WHERE dataset_id = ?2 AND (rowid = ?1 OR id = ?3) "
      "AND embedding IS NOT NULL",
      t->schema.c_str(), t->data_table.c_str()), &st);
  if (rc != SQLITE_OK) *err = sqlite3_errmsg(t->db);
  std::vector<float> scratch;
  for (size_t i = 0; rc == SQLITE_OK && i < rows.size(); i++) {
    sqlite3_bind_int64(st, 1, rows[i].first);
    sqlite3_bind_text(st, 2, dataset.c_str(), int(dataset.size()), SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, rows[i].second.c_str(), int(rows[i].second.size()), SQLITE_TRANSIENT);
    int s;
    while (rc == SQLITE_OK && (s = sqlite3_step(st)) == SQLITE_ROW) {
      const int64_t rowid = sqlite3_column_int64(st, 0);
      const unsigned char* idp = sqlite3_column_text(st, 1);
      std::string id = idp ? std::string(reinterpret_cast<const char*>(idp), size_t(sqlite3_column_bytes(st, 1))) : "";
      if (!take_embedding(ix, dataset, rowid, id, sqlite3_column_blob(st, 2), sqlite3_column_bytes(st, 2), &scratch, err)) {
        rc = SQLITE_ERROR;
      }
    }
    if (rc == SQLITE_OK && s != SQLITE_DONE) {
      rc = s;
      *err = sqlite3_errmsg(t->db);
    }
    sqlite3_reset(st);
  }
  sqlite3_finalize(st);
  g_incremental_rows.add(int64_t(rows.size()));
  return rc;
}

// Makes cache[dataset] current. Returns an rc with *err set on failure.
int acquire(VecTable* t, const std::string& dataset, DatasetIndex** out, std::string* err) {
  if (!t->ensured) {
    std::string ignored;
    // Best effort (a read-only database cannot get triggers; it cannot be written either).
    ensure_schema(t, &ignored);
    t->ensured = true;
  }
  int64_t token = 0;
  int rc = read_token(t->db, t->schema, t->shadow, dataset, &token);
  const bool token_known = rc == SQLITE_OK;
  DatasetIndex& ix = t->cache[dataset];
  bool skip_blob = false;
  if (ix.revalidate) {
    // Explicit invalidation: keep the cache only when the triggers (hence the token) cover
    // every write; a table written behind their back is rebuilt from the table itself (its
    // stored blob carries the same, unmoved token).
    if (triggers_present(t)) {
      ix.revalidate = false;
    } else {
      ix.reset();
      skip_blob = true;
    }
  }
  if (ix.loaded && token_known && !ix.broken) {
    if (ix.pending.empty() && ix.token == token) {
      *out = &ix;
      return SQLITE_OK;
    }
    const size_t size = ix.arena ? ix.arena->size() : 0;
    if (!ix.pending.empty() && ix.pending_token == token && ix.pending.size() <= size / 2 + 64) {
      rc = apply_pending(t, dataset, &ix, err);
      if (rc != SQLITE_OK) {
        ix.reset();
        return rc;
      }
      ix.token = token;
      if (ix.arena && ix.arena->size() * ix.arena->row_bytes() <= kRepersistBytes) {
        write_blob(t->db, t->schema, t->shadow, dataset, ix);
      }
      *out = &ix;
      return SQLITE_OK;
    }
  }
  ix.reset();
  if (token_known && !skip_blob && load_from_blob(t->db, t->schema, t->data_table, t->shadow, dataset, token, &ix)) {
    *out = &ix;
    return SQLITE_OK;
  }
  rc = build_from_table(t->db, t->schema, t->data_table, dataset, &ix, err);
  if (rc != SQLITE_OK) return rc;
  ix.token = token;
  write_blob(t->db, t->schema, t->shadow, dataset, ix);
  if (!token_known) ix.loaded = false;  // cannot be validated later: rebuild every time
  *out = &ix;
  return SQLITE_OK;
}

// ---------------------------------------------------------------- module methods
int vecInit(sqlite3* db, void*, int argc, const char* const* argv, sqlite3_vtab** ppVtab, char** pzErr,
            bool create) {
  if (argc < 3) {
    *pzErr = sqlite3_mprintf("vec: %s expects at least 3 args, got %d", create ? "CREATE" : "CONNECT", argc);
    return SQLITE_ERROR;
  }
  int rc = sqlite3_vtab_config(db, SQLITE_VTAB_CONSTRAINT_SUPPORT, 1);
  if (rc != SQLITE_OK) {
    *pzErr = sqlite3_mprintf("vec: EnableConstraintSupport failed: %s", sqlite3_errstr(rc));
    return rc;
  }
  std::string idcol = "doc_id", index_kind = "auto";
  int first_opt = 3;
  if (argc > 3) {
    const std::string a = trim_space(argv[3]);
    if (!a.empty() && a.find('=') == std::string::npos) {
      idcol = a;
      first_opt = 4;
    }
  }
  for (int i = first_opt; i < argc; i++) {
    const std::string a = trim_space(argv[i]);
    const size_t eq = a.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = lower(trim_space(a.substr(0, eq))), val = lower(trim_space(a.substr(eq + 1)));
    if (key == "dbpath") {
      *pzErr = sqlite3_mprintf("vec: the dbpath option is not supported: tables always use the connection that queries them");
      return SQLITE_ERROR;
    }
    if (key == "index" && (val == "auto" || val == "brute" || val == "cover")) index_kind = val;
    // cover_base, cover_bound, cover_distance, cover_parallel: accepted and ignored (exact scan).
  }
  // Unquote an id column written as "name", [name] or `name`.
  if (idcol.size() >= 2 && ((idcol.front() == '"' && idcol.back() == '"') || (idcol.front() == '`' && idcol.back() == '`') ||
                            (idcol.front() == '[' && idcol.back() == ']'))) {
    idcol = idcol.substr(1, idcol.size() - 2);
  }
  std::unique_ptr<VecTable> t(new (std::nothrow) VecTable());
  if (!t) return SQLITE_NOMEM;
  std::memset(&t->base, 0, sizeof(t->base));
  t->db = db;
  t->schema = argv[1];
  t->name = argv[2];
  t->idcol = idcol;
  t->index_kind = index_kind;
  t->data_table = "_vec_" + t->name;
  t->shadow = t->schema.empty() ? t->data_table : t->schema + "." + t->data_table;
  rc = SQLITE_OK;
  {
    char* decl = sqlite3_mprintf("CREATE TABLE x(dataset_id TEXT, \"%w\" TEXT, match_score REAL HIDDEN)", idcol.c_str());
    if (decl == nullptr) return SQLITE_NOMEM;
    rc = sqlite3_declare_vtab(db, decl);
    sqlite3_free(decl);
    if (rc != SQLITE_OK) {
      *pzErr = sqlite3_mprintf("vec: declare_vtab failed: %s", sqlite3_errmsg(db));
      return rc;
    }
  }
  if (create) {
    std::string err;
    rc = ensure_schema(t.get(), &err);
    if (rc != SQLITE_OK) {
      *pzErr = sqlite3_mprintf("vec: cannot create %s: %s", t->shadow.c_str(), err.c_str());
      return rc;
    }
    t->ensured = true;
  }
  {
    std::lock_guard<std::mutex> lock(g_registry_mu);
    registry().push_back(t.get());
  }
  *ppVtab = &t.release()->base;
  return SQLITE_OK;
}

int vecCreate(sqlite3* db, void* aux, int argc, const char* const* argv, sqlite3_vtab** pp, char** e) {
  try { return vecInit(db, aux, argc, argv, pp, e, true); } catch (...) { return SQLITE_NOMEM; }
}
int vecConnect(sqlite3* db, void* aux, int argc, const char* const* argv, sqlite3_vtab** pp, char** e) {
  try { return vecInit(db, aux, argc, argv, pp, e, false); } catch (...) { return SQLITE_NOMEM; }
}

int vecDisconnect(sqlite3_vtab* vtab) {
  VecTable* t = reinterpret_cast<VecTable*>(vtab);
  {
    std::lock_guard<std::mutex> lock(g_registry_mu);
    auto& r = registry();
    r.erase(std::remove(r.begin(), r.end(), t), r.end());
  }
  sqlite3_free(t->base.zErrMsg);
  delete t;
  return SQLITE_OK;
}

int vecBestIndex(sqlite3_vtab* vtab, sqlite3_index_info* info) {
  int dataset = -1, match = -1, score = -1, limit = -1, offset = -1, idEq = -1;
  bool datasetUnusable = false, matchSeen = false;
  for (int i = 0; i < info->nConstraint; i++) {
    const auto& c = info->aConstraint[i];
    if (c.iColumn == kColDataset && c.op == SQLITE_INDEX_CONSTRAINT_EQ) {
      if (c.usable) dataset = i; else datasetUnusable = true;
    } else if (c.iColumn == kColId && c.op == SQLITE_INDEX_CONSTRAINT_MATCH) {
      matchSeen = true;
      if (c.usable) match = i;
    } else if (c.iColumn == kColId && c.op == SQLITE_INDEX_CONSTRAINT_EQ && c.usable) {
      idEq = i;
    } else if (c.iColumn == kColScore && c.usable && score < 0 &&
               (c.op == SQLITE_INDEX_CONSTRAINT_GE || c.op == SQLITE_INDEX_CONSTRAINT_GT)) {
      score = i;
    } else if (c.op == SQLITE_INDEX_CONSTRAINT_LIMIT && c.usable) {
      limit = i;
    } else if (c.op == SQLITE_INDEX_CONSTRAINT_OFFSET && c.usable) {
      offset = i;
    }
  }
  if (dataset < 0) {
    if (datasetUnusable || (matchSeen && match < 0)) return SQLITE_CONSTRAINT;
    return set_error(vtab, matchSeen ? "vec: dataset_id constraint is required with MATCH"
                                     : "vec: dataset_id constraint required");
  }
  if (matchSeen && match < 0) return SQLITE_CONSTRAINT;  // MATCH must be consumed
  int idxNum = VEC_BI_DATASET, argv = 1;
  info->aConstraintUsage[dataset].argvIndex = argv++;
  info->aConstraintUsage[dataset].omit = 1;
  if (match >= 0) {
    idxNum |= VEC_BI_MATCH;
    info->aConstraintUsage[match].argvIndex = argv++;
    info->aConstraintUsage[match].omit = 1;
    if (score >= 0) {
      idxNum |= info->aConstraint[score].op == SQLITE_INDEX_CONSTRAINT_GT ? VEC_BI_SCORE_GT : VEC_BI_SCORE_GE;
      info->aConstraintUsage[score].argvIndex = argv++;
      info->aConstraintUsage[score].omit = 1;
    }
    const bool orderOk = info->nOrderBy == 0 ||
                         (info->nOrderBy == 1 && info->aOrderBy[0].iColumn == kColScore && info->aOrderBy[0].desc);
    if (info->nOrderBy == 1 && info->aOrderBy[0].iColumn == kColScore && info->aOrderBy[0].desc) {
      info->orderByConsumed = 1;
    }
    if (orderOk && limit >= 0) {
      idxNum |= VEC_BI_LIMIT;
      info->aConstraintUsage[limit].argvIndex = argv++;
      if (offset >= 0) {
        idxNum |= VEC_BI_OFFSET;
        info->aConstraintUsage[offset].argvIndex = argv++;
      }
    }
    info->estimatedCost = 10.0;
    info->estimatedRows = 10;
  } else {
    if (idEq >= 0) {
      idxNum |= VEC_BI_ID;
      info->aConstraintUsage[idEq].argvIndex = argv++;
      info->aConstraintUsage[idEq].omit = 1;
      info->estimatedCost = 2.0;
      info->estimatedRows = 1;
      info->idxFlags |= SQLITE_INDEX_SCAN_UNIQUE;
    } else {
      info->estimatedCost = 1000.0;
      info->estimatedRows = 1000;
    }
  }
  info->idxNum = idxNum;
  return SQLITE_OK;
}

int vecOpen(sqlite3_vtab*, sqlite3_vtab_cursor** pp) {
  VecCursor* c = new (std::nothrow) VecCursor();
  if (!c) return SQLITE_NOMEM;
  std::memset(&c->base, 0, sizeof(c->base));
  *pp = &c->base;
  return SQLITE_OK;
}

int vecClose(sqlite3_vtab_cursor* cur) {
  VecCursor* c = reinterpret_cast<VecCursor*>(cur);
  sqlite3_finalize(c->stmt);
  delete c;
  return SQLITE_OK;
}

int scanStep(VecCursor* c, sqlite3_vtab* vtab) {
  const int rc = sqlite3_step(c->stmt);
  if (rc == SQLITE_ROW) { c->eof = false; return SQLITE_OK; }
  c->eof = true;
  if (rc == SQLITE_DONE) return SQLITE_OK;
  return set_error(vtab, "%s", sqlite3_errmsg(reinterpret_cast<VecTable*>(vtab)->db));
}

// Dataset argument as text; on failure sets the error and returns false.
bool dataset_arg(sqlite3_vtab* vtab, sqlite3_value* v, std::string* out) {
  const int type = sqlite3_value_type(v);
  if (type == SQLITE_TEXT || type == SQLITE_BLOB) {
    *out = type == SQLITE_TEXT ? value_text(v)
                               : std::string(static_cast<const char*>(sqlite3_value_blob(v)) ? static_cast<const char*>(sqlite3_value_blob(v)) : "",
                                             size_t(sqlite3_value_bytes(v)));
    return true;
  }
  set_error(vtab, "vec: unsupported dataset_id type %s", value_go_type(v));
  return false;
}

int matchFilter(VecCursor* c, VecTable* t, int idxNum, int argc, sqlite3_value** argv) {
  sqlite3_vtab* vtab = &t->base;
  if (argc < 2 || sqlite3_value_type(argv[0]) == SQLITE_NULL || sqlite3_value_type(argv[1]) == SQLITE_NULL) {
    return set_error(vtab, "vec: dataset_id and MATCH arguments are required");
  }
  if (!dataset_arg(vtab, argv[0], &c->dataset)) return SQLITE_ERROR;
  std::vector<float> q;
  std::string err;
  if (!parse_match_vector(argv[1], &q, &err)) return set_error(vtab, "%s", err.c_str());
  int a = 2;
  bool hasBound = false, strict = false;
  double bound = 0;
  if (idxNum & (VEC_BI_SCORE_GE | VEC_BI_SCORE_GT)) {
    sqlite3_value* v = argv[a++];
    hasBound = true;
    strict = (idxNum & VEC_BI_SCORE_GT) != 0;
    switch (sqlite3_value_type(v)) {
      case SQLITE_FLOAT:
      case SQLITE_INTEGER: bound = sqlite3_value_double(v); break;
      case SQLITE_TEXT:
      case SQLITE_BLOB: {
        const std::string s = trim_space(value_text(v));
        char* end = nullptr;
        bound = std::strtod(s.c_str(), &end);
        if (s.empty() || end != s.c_str() + s.size()) {
          return set_error(vtab, "vec: cannot parse score \"%s\": strconv.ParseFloat: parsing \"%s\": invalid syntax",
                           s.c_str(), s.c_str());
        }
        break;
      }
      default: return set_error(vtab, "vec: unsupported score type %s", value_go_type(v));
    }
  }
  int64_t k = -1;
  if (idxNum & VEC_BI_LIMIT) {
    k = sqlite3_value_int64(argv[a++]);
    if (idxNum & VEC_BI_OFFSET) {
      const int64_t off = sqlite3_value_int64(argv[a++]);
      if (k >= 0 && off > 0) k += off;
    }
  }
  if (trim_space(c->dataset).empty()) return set_error(vtab, "vec: dataset_id is required for ensureIndex");

  std::lock_guard<std::mutex> lock(t->mu);
  DatasetIndex* ix = nullptr;
  tl_locked = t;
  const int rc = acquire(t, c->dataset, &ix, &err);
  tl_locked = nullptr;
  if (rc != SQLITE_OK) return set_error(vtab, "%s", err.c_str());
  const size_t n = ix->arena ? ix->arena->size() : 0;
  if (n == 0) return SQLITE_OK;
  if (q.size() != ix->dim) return set_error(vtab, "bruteforce: query dim %d != index dim %d", int(q.size()), int(ix->dim));
  const KernelTable& kt = kernels();
  double qq = 0;
  for (float x : q) qq += double(x) * x;
  if (qq == 0) return SQLITE_OK;  // zero query: no rows, as the original
  size_t kk = (k < 0 || uint64_t(k) > n) ? n : size_t(k);
  if (kk == 0) return SQLITE_OK;
  ix->arena->prepare_sketch();  // built once, for large arenas (core/arena.h)
  std::vector<SearchSource> sources(1);
  sources[0].rows = ix->arena->view();
  SearchRequest req;
  req.metric = Metric::cos;
  req.query = q.data();
  req.k = kk;
  std::vector<TopK::Item> items;
  search(kt, req, sources, &items);
  const size_t got = items.size();
  c->hits.reserve(got);
  for (size_t i = 0; i < got; i++) {
    const float* v = static_cast<const float*>(ix->arena->find(items[i].id));
    const CosParts p = kt.cos_parts_f32(q.data(), v, ix->dim);
    const double s = p.dot / (std::sqrt(p.aa) * std::sqrt(p.bb));
    if (std::isnan(s)) continue;
    c->hits.push_back({items[i].id, s, ix->id_of[items[i].id]});
  }
  // Scores are recomputed in float64: keep the emitted order exactly by them.
  std::stable_sort(c->hits.begin(), c->hits.end(), [](const Hit& x, const Hit& y) {
    return x.score > y.score || (x.score == y.score && x.rowid < y.rowid);
  });
  if (hasBound) {
    size_t keep = 0;
    while (keep < c->hits.size() && (strict ? c->hits[keep].score > bound : c->hits[keep].score >= bound)) keep++;
    c->hits.resize(keep);
  }
  return SQLITE_OK;
}

int vecFilter(sqlite3_vtab_cursor* cur, int idxNum, const char*, int argc, sqlite3_value** argv) {
  VecCursor* c = reinterpret_cast<VecCursor*>(cur);
  VecTable* t = reinterpret_cast<VecTable*>(cur->pVtab);
  sqlite3_finalize(c->stmt);
  c->stmt = nullptr;
  c->hits.clear();
  c->pos = 0;
  c->eof = true;
  try {
    if (idxNum & VEC_BI_MATCH) {
      c->scan = false;
      return matchFilter(c, t, idxNum, argc, argv);
    }
    c->scan = true;
    if (argc < 1 || sqlite3_value_type(argv[0]) == SQLITE_NULL) {
      return set_error(cur->pVtab, "vec: dataset_id argument is required");
    }
    if (!dataset_arg(cur->pVtab, argv[0], &c->dataset)) return SQLITE_ERROR;
    const bool byId = (idxNum & VEC_BI_ID) != 0;
    int rc = prepare_owned(t->db, sqlite3_mprintf(
        "SELECT rowid, id FROM \"%w\".\"%w\" WHERE dataset_id = ?1%s ORDER BY rowid",
        t->schema.c_str(), t->data_table.c_str(), byId ? " AND id = ?2" : ""), &c->stmt);
    if (rc != SQLITE_OK) return set_error(cur->pVtab, "%s", sqlite3_errmsg(t->db));
    sqlite3_bind_text(c->stmt, 1, c->dataset.c_str(), int(c->dataset.size()), SQLITE_TRANSIENT);
    if (byId) sqlite3_bind_value(c->stmt, 2, argv[1]);
    return scanStep(c, cur->pVtab);
  } catch (const std::bad_alloc&) {
    return SQLITE_NOMEM;
  } catch (...) {
    return set_error(cur->pVtab, "vec: internal error");
  }
}

int vecNext(sqlite3_vtab_cursor* cur) {
  VecCursor* c = reinterpret_cast<VecCursor*>(cur);
  if (c->scan) return scanStep(c, cur->pVtab);
  c->pos++;
  return SQLITE_OK;
}

int vecEof(sqlite3_vtab_cursor* cur) {
  VecCursor* c = reinterpret_cast<VecCursor*>(cur);
  return c->scan ? c->eof : c->pos >= c->hits.size();
}

int vecColumn(sqlite3_vtab_cursor* cur, sqlite3_context* ctx, int col) {
  VecCursor* c = reinterpret_cast<VecCursor*>(cur);
  switch (col) {
    case kColDataset:
      sqlite3_result_text(ctx, c->dataset.c_str(), int(c->dataset.size()), SQLITE_TRANSIENT);
      break;
    case kColId:
      if (c->scan) sqlite3_result_value(ctx, sqlite3_column_value(c->stmt, 1));
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

int vecRowid(sqlite3_vtab_cursor* cur, sqlite3_int64* out) {
  VecCursor* c = reinterpret_cast<VecCursor*>(cur);
  *out = c->scan ? sqlite3_column_int64(c->stmt, 0) : c->hits[c->pos].rowid;
  return SQLITE_OK;
}

sqlite3_module vecModule = {
    /* iVersion    */ 2,
    /* xCreate     */ vecCreate,
    /* xConnect    */ vecConnect,
    /* xBestIndex  */ vecBestIndex,
    /* xDisconnect */ vecDisconnect,
    /* xDestroy    */ vecDisconnect,  // DROP leaves the data table (it is the user's table)
    /* xOpen       */ vecOpen,
    /* xClose      */ vecClose,
    /* xFilter     */ vecFilter,
    /* xNext       */ vecNext,
    /* xEof        */ vecEof,
    /* xColumn     */ vecColumn,
    /* xRowid      */ vecRowid,
    /* xUpdate     */ nullptr,        // read-only: write the data table
    /* xBegin      */ nullptr,
    /* xSync       */ nullptr,
    /* xCommit     */ nullptr,
    /* xRollback   */ nullptr,
    /* xFindFunction */ nullptr,
    /* xRename     */ nullptr,
    /* xSavepoint  */ nullptr,
    /* xRelease    */ nullptr,
    /* xRollbackTo */ nullptr,
    /* xShadowName */ nullptr,        // _vec_<t> stays an ordinary, writable table
    /* xIntegrity  */ nullptr,
};

// ---------------------------------------------------------------- vec_invalidate, vec_stats
// Table name from vec_invalidate's first argument (§3.2).
std::string invalidate_table(const std::string& a) {
  const size_t p = a.find("._vec_");
  if (p != std::string::npos) return a.substr(p + 6);
  if (a.rfind("_vec_", 0) == 0) return a.substr(5);
  return a;
}

bool text_arg(sqlite3_value* v, std::string* out) {
  const int type = sqlite3_value_type(v);
  if (type != SQLITE_TEXT && type != SQLITE_BLOB) return false;
  *out = value_text(v);
  return true;
}

// vec_invalidate(shadow, dataset): marks every matching cached index in the process (returns the
// count of matching (table, dataset) entries). A marked index is dropped at its next use unless
// this version's triggers are installed on the data table: then the token already proves it
// current, so a replicator calling vec_invalidate after each batch keeps incremental updates. vec_invalidate(shadow, dataset, rowid,
// token, id) is the trigger form: it records one write of this connection (see file header).
void vecInvalidateFn(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  std::string shadow, dataset;
  if (!text_arg(argv[0], &shadow) || !text_arg(argv[1], &dataset)) {
    sqlite3_result_int64(ctx, 0);
    return;
  }
  int64_t count = 0;
  try {
    std::lock_guard<std::mutex> lock(g_registry_mu);
    if (argc == 2) {
      const std::string table = invalidate_table(shadow);
      for (VecTable* t : registry()) {
        if (t->name != table) continue;
        InstanceLock tl(t);
        for (auto& e : t->cache) {
          if (dataset.empty() || e.first == dataset) {
            e.second.revalidate = true;
            count++;
          }
        }
      }
    } else {
      sqlite3* db = sqlite3_context_db_handle(ctx);
      const bool before = sqlite3_value_type(argv[2]) != SQLITE_NULL;
      const int64_t rowid = sqlite3_value_int64(argv[2]);
      const int64_t token = sqlite3_value_int64(argv[3]);  // NULL (no row yet) reads as 0
      const std::string id = before ? value_text(argv[4]) : std::string();
      for (VecTable* t : registry()) {
        if (t->db != db || t->shadow != shadow) continue;
        InstanceLock tl(t);
        auto it = t->cache.find(dataset);
        if (it == t->cache.end() || !it->second.loaded) continue;
        DatasetIndex& ix = it->second;
        if (before) {
          const int64_t expect = ix.pending.empty() ? ix.token : ix.pending_token;
          if (token != expect) ix.broken = true;
          ix.pending.emplace_back(rowid, id);
        } else {
          ix.pending_token = token;
        }
        count++;
      }
    }
  } catch (...) {
    sqlite3_result_error_nomem(ctx);
    return;
  }
  sqlite3_result_int64(ctx, count);
}

void vecStatsFn(sqlite3_context* ctx, int, sqlite3_value**) {
  std::map<std::string, int64_t> counters;  // by name: the same order whatever the link order
  for_each_counter([&counters](const char* name, int64_t v) { counters[name] += v; });
  std::string json = "{";
  for (const auto& kv : counters)
    json += string_printf("%s\"%s\":%lld", json.size() > 1 ? "," : "", kv.first.c_str(), static_cast<long long>(kv.second));
  json += "}";
  sqlite3_result_text(ctx, json.c_str(), static_cast<int>(json.size()), SQLITE_TRANSIENT);
}

}  // namespace

int vec_reindex(sqlite3* db, const std::string& schema, const std::string& table, const std::string& dataset,
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
    rc = build_from_table(db, schema, table, dataset, &ix, err);
    if (rc != SQLITE_OK) return rc;
    ix.token = token;
    write_blob(db, schema, shadow, dataset, ix);
    *count = ix.arena ? int64_t(ix.arena->size()) : 0;
    std::lock_guard<std::mutex> lock(g_registry_mu);
    for (VecTable* t : registry()) {
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

int register_vec_module(sqlite3* db, char** pzErr) {
  int rc = sqlite3_create_module_v2(db, "vec", &vecModule, nullptr, nullptr);
  // vec_invalidate only drops caches (at worst forcing a rebuild), so it is safe in triggers
  // and schema (INNOCUOUS); it is not deterministic.
  if (rc == SQLITE_OK) {
    rc = sqlite3_create_function_v2(db, "vec_invalidate", 2, SQLITE_UTF8 | SQLITE_INNOCUOUS, nullptr,
                                    vecInvalidateFn, nullptr, nullptr, nullptr);
  }
  if (rc == SQLITE_OK) {
    rc = sqlite3_create_function_v2(db, "vec_invalidate", 5, SQLITE_UTF8 | SQLITE_INNOCUOUS, nullptr,
                                    vecInvalidateFn, nullptr, nullptr, nullptr);
  }
  if (rc == SQLITE_OK) {
    rc = sqlite3_create_function_v2(db, "vec_stats", 0, SQLITE_UTF8, nullptr, vecStatsFn, nullptr, nullptr, nullptr);
  }
  if (rc != SQLITE_OK) *pzErr = sqlite3_mprintf("vecsqlite: cannot register the vec module: %s", sqlite3_errmsg(db));
  return rc;
}

}  // namespace vecsqlite
