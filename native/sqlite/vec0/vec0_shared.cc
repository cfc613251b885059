// One vec0 cache for every connection of the process that sees the same table in the same state.
//
// A server opens one connection per worker thread; each would otherwise load its own copy of
// every cache (the vectors, their sketch, the row maps), paying the load on its first query and
// the memory once per connection. Instead a connection that has a current cache of a table in a
// committed state publishes it here (outside write transactions), and every other connection
// that needs that table in that state adopts it: no load, no second copy. A writer may adopt
// too, inside its write transaction until its first change to the table.
//
// KEY: the database file (device and inode, so two paths to one file meet and an in-memory or
// temporary database never does), the table name, and the table's change marker with its
// validity fingerprint (vec0_changes.cc). The marker holds the write token that every vecsqlite
// commit to the table replaces with a random value, so equal keys mean the same committed rows.
// Tables whose marker has no token (never written by vecsqlite) are not shared.
//
// A published cache is never changed again. A connection that must change its cache (its own
// write, a refresh after another connection's commit) takes it out of the registry and, when
// another connection still holds it, works on a copy (cache_mut): a shallow one, whose groups
// (vec0_int.h) stay shared until each is written (group_mut), so a commit that touched one chunk
// costs the copy of the row maps and of one group. Everyone keeps reading the
// state they adopted until their own change check moves them on, so a reader in an older
// snapshot still sees its snapshot's rows. The registry holds weak references: a cache lives
// as long as some connection uses it.
//
// Threads: the registry is guarded by one mutex. A shared cache is only read, and nothing in it
// changes on a read (RowidSlots::find keeps no memo; the sketches were built before it was
// published; queries that would build one on a private cache skip a shared one).
#include <sys/stat.h>

#include <map>
#include <mutex>
#include <tuple>

#include "core/env.h"
#include "core/stats.h"
#include "sqlite/vec0/vec0_int.h"

namespace vecsqlite {
namespace vec0 {

Counter g_cache_adopted("vec0_cache_adopted");
Counter g_cache_copies("vec0_cache_copies");
Counter g_group_copies("vec0_group_copies");

namespace {

struct Key {
  uint64_t dev = 0, ino = 0;
  std::string table;
  Marker marker;
  uint64_t fp = 0;
  bool operator<(const Key& o) const {
    return std::tie(dev, ino, table, marker.token, marker.seq_rowids, marker.seq_chunks, fp) <
           std::tie(o.dev, o.ino, o.table, o.marker.token, o.marker.seq_rowids, o.marker.seq_chunks, o.fp);
  }
};

std::mutex g_mu;
std::map<Key, std::weak_ptr<Cache>>* g_registry = nullptr;  // created on first use, never freed

std::map<Key, std::weak_ptr<Cache>>& registry() {
  if (g_registry == nullptr) g_registry = new std::map<Key, std::weak_ptr<Cache>>();
  return *g_registry;
}

// The key of table t at (m, fp); false where sharing does not apply. A connection publishes
// only outside write transactions (what it holds is then committed); it may adopt inside one
// until its first change to the table (the copy it then makes is its own).
bool key_of(Table* t, const Marker& m, uint64_t fp, Key* out, bool adopting) {
  if (!m.has_token || !t->log.empty() || !env_shared_cache_enabled()) return false;
  if (t->in_write_txn && (!adopting || t->txn_mutated)) return false;
  const char* file = sqlite3_db_filename(t->db, t->schema.c_str());
  if (file == nullptr || file[0] == '\0') return false;  // in-memory or temporary
  struct stat st;
  if (stat(file, &st) != 0) return false;  // not a file of this file system (memdb and the like)
  out->dev = static_cast<uint64_t>(st.st_dev);
  out->ino = static_cast<uint64_t>(st.st_ino);
  out->table = t->name;
  out->marker = m;
  out->fp = fp;
  return true;
}

// Drops entries whose cache is gone (called under g_mu, now and then).
void sweep(std::map<Key, std::weak_ptr<Cache>>& reg) {
  for (auto it = reg.begin(); it != reg.end();) it = it->second.expired() ? reg.erase(it) : std::next(it);
}

// Takes t's cache out of the registry (called under g_mu).
void unlist_locked(Table* t) {
  if (!t->cache_listed) return;
  t->cache_listed = false;
  auto& reg = registry();
  for (auto it = reg.begin(); it != reg.end(); ++it) {
    std::shared_ptr<Cache> c = it->second.lock();
    if (c.get() == t->cache_sp.get()) {
      reg.erase(it);
      return;
    }
  }
}

// Before a cache is published: every arena that qualifies gets its sketch (no reader of a shared
// cache may build one). Groups it shares with older caches have theirs already.
void prepare_all(Cache& c) {
  for (size_t gi = 0; gi < c.groups.size(); gi++)
    for (size_t col = 0; col < c.groups[gi]->arenas.size(); col++) {
      const size_t min_rows = sketch_min_rows(c, col);
      if (c.groups[gi]->arenas[col].sketch_due(min_rows)) group_mut(c, gi).arenas[col].prepare_sketch(min_rows);
    }
}

}  // namespace

Cache& Table::cache_mut() {
  if (cache_listed) {
    std::lock_guard<std::mutex> lock(g_mu);
    unlist_locked(this);
  }
  // No one can take it from the registry any more; others may still hold it.
  if (cache_sp.use_count() > 1) {
    cache_sp = std::make_shared<Cache>(*cache_sp);
    g_cache_copies.add();
  }
  return *cache_sp;
}

Cache& Table::fresh_cache() {
  if (cache_listed) {
    std::lock_guard<std::mutex> lock(g_mu);
    unlist_locked(this);
  }
  if (cache_sp.use_count() > 1)
    cache_sp = std::make_shared<Cache>();
  else
    *cache_sp = Cache();
  return *cache_sp;
}

void Table::invalidate_cache() {
  if (!cache_sp->valid) return;
  if (cache_listed || cache_sp.use_count() > 1) {
    std::lock_guard<std::mutex> lock(g_mu);
    unlist_locked(this);
    // Others keep the state they hold; this connection starts over. (A private cache may
    // still be read by the write log's pending runs: it stays as it is, marked invalid.)
    if (cache_sp.use_count() > 1) {
      cache_sp = std::make_shared<Cache>();
      return;
    }
  }
  cache_sp->valid = false;
}

bool cache_try_adopt(Table* t, const Marker& m, uint64_t fp) {
  Key k;
  if (!key_of(t, m, fp, &k, true)) return false;
  std::shared_ptr<Cache> found;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    auto& reg = registry();
    auto it = reg.find(k);
    if (it == reg.end()) return false;
    found = it->second.lock();
    if (!found) {
      reg.erase(it);
      return false;
    }
    if (found.get() == t->cache_sp.get()) return true;
    unlist_locked(t);
    t->cache_sp = std::move(found);
    t->cache_listed = true;
  }
  g_cache_adopted.add();
  return true;
}

void cache_publish(Table* t) {
  const Cache& c = t->cache();
  Key k;
  if (!c.valid || !c.has_marker || !key_of(t, c.marker, c.validity_fp, &k, false)) return;
  if (!t->cache_listed && t->cache_sp.use_count() == 1) prepare_all(*t->cache_sp);
  std::lock_guard<std::mutex> lock(g_mu);
  auto& reg = registry();
  auto it = reg.find(k);
  if (it != reg.end()) {
    std::shared_ptr<Cache> there = it->second.lock();
    if (there) {
      // Someone published this state first: share theirs and let this copy go.
      if (there.get() != t->cache_sp.get()) {
        unlist_locked(t);
        t->cache_sp = std::move(there);
        t->cache_listed = true;
        g_cache_adopted.add();
      }
      return;
    }
    reg.erase(it);
  }
  if (t->cache_listed) unlist_locked(t);  // listed under an older key
  if (reg.size() >= 64) sweep(reg);
  reg.emplace(k, t->cache_sp);
  t->cache_listed = true;
}

void cache_prepare_sketch(Table* t, size_t gi, size_t col) {
  if (t->cache_listed || t->cache_sp.use_count() > 1) return;
  const Arena& a = t->cache().groups[gi]->arenas[col];
  const size_t min_rows = sketch_min_rows(t->cache(), col);
  if (a.sketch_due(min_rows)) group_mut(*t->cache_sp, gi).arenas[col].prepare_sketch(min_rows);
}

// ---- graphs --------------------------------------------------------------------------------------
namespace {

struct GraphKey {
  Key cache;
  size_t col = 0;
  bool operator<(const GraphKey& o) const {
    if (col != o.col) return col < o.col;
    return cache < o.cache;
  }
};

std::map<GraphKey, std::weak_ptr<AnnGraph>>* g_graphs = nullptr;  // under g_mu; never freed

std::map<GraphKey, std::weak_ptr<AnnGraph>>& graphs() {
  if (g_graphs == nullptr) g_graphs = new std::map<GraphKey, std::weak_ptr<AnnGraph>>();
  return *g_graphs;
}

bool graph_key(Table* t, size_t col, GraphKey* out, bool adopting) {
  const Cache& c = t->cache();
  if (!c.valid || !c.has_marker || !t->touched.empty()) return false;
  out->col = col;
  return key_of(t, c.marker, c.validity_fp, &out->cache, adopting);
}

void graph_unlist_locked(Table* t, size_t col) {
  Ann& a = t->ann[col];
  if (!a.listed) return;
  a.listed = false;
  auto& reg = graphs();
  for (auto it = reg.begin(); it != reg.end(); ++it) {
    std::shared_ptr<AnnGraph> g = it->second.lock();
    if (g.get() == a.st.get()) {
      reg.erase(it);
      return;
    }
  }
}

}  // namespace

Counter g_graph_adopted("hnsw_adopted");

bool ann_try_adopt(Table* t, size_t col) {
  GraphKey k;
  if (!graph_key(t, col, &k, true)) return false;
  Ann& a = t->ann[col];
  {
    std::lock_guard<std::mutex> lock(g_mu);
    auto& reg = graphs();
    auto it = reg.find(k);
    if (it == reg.end()) return false;
    std::shared_ptr<AnnGraph> found = it->second.lock();
    if (!found) {
      reg.erase(it);
      return false;
    }
    if (found.get() != a.st.get()) {
      graph_unlist_locked(t, col);
      a.st = std::move(found);
    }
    a.listed = true;
  }
  g_graph_adopted.add();
  return true;
}

void ann_publish(Table* t, size_t col) {
  GraphKey k;
  Ann& a = t->ann[col];
  if (!a.loaded || !graph_key(t, col, &k, false)) return;
  std::lock_guard<std::mutex> lock(g_mu);
  auto& reg = graphs();
  auto it = reg.find(k);
  if (it != reg.end()) {
    std::shared_ptr<AnnGraph> there = it->second.lock();
    if (there) {
      if (there.get() != a.st.get()) {
        graph_unlist_locked(t, col);
        a.st = std::move(there);
        a.listed = true;
        g_graph_adopted.add();
      }
      return;
    }
    reg.erase(it);
  }
  if (a.listed) graph_unlist_locked(t, col);
  if (reg.size() >= 64)
    for (auto i = reg.begin(); i != reg.end();) i = i->second.expired() ? reg.erase(i) : std::next(i);
  reg.emplace(k, a.st);
  a.listed = true;
}

void ann_unlist(Table* t, size_t col) {
  if (!t->ann[col].listed) return;
  std::lock_guard<std::mutex> lock(g_mu);
  graph_unlist_locked(t, col);
}

}  // namespace vec0
}  // namespace vecsqlite
