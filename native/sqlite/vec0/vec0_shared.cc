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
// Threads: each registry (core/registry.h) is guarded by its mutex. A shared cache is only read, and nothing in it
// changes on a read (RowidSlots::find keeps no memo; the sketches were built before it was
// published; queries that would build one on a private cache skip a shared one).
#include <tuple>

#include "core/registry.h"
#include "core/stats.h"
#include "sqlite/vec0/vec0_int.h"

namespace vecsqlite {
namespace vec0 {

Counter g_cache_adopted("vec0_cache_adopted");
Counter g_cache_copies("vec0_cache_copies");
Counter g_group_copies("vec0_group_copies");
Counter g_graph_adopted("hnsw_adopted");

namespace {

struct Key {
  uint64_t dev = 0, ino = 0;
  std::string table;
  Marker marker;
  uint64_t fp = 0;
  size_t col = 0;  // graphs: the vector column (0 for caches)
  bool operator<(const Key& o) const {
    return std::tie(dev, ino, table, marker.token, marker.seq_rowids, marker.seq_chunks, fp, col) <
           std::tie(o.dev, o.ino, o.table, o.marker.token, o.marker.seq_rowids, o.marker.seq_chunks, o.fp, o.col);
  }
};

// Created on first use and never destroyed (threads may still use them at exit).
SharedRegistry<Key, Cache>& caches() {
  static auto* r = new SharedRegistry<Key, Cache>();
  return *r;
}
SharedRegistry<Key, AnnGraph>& graphs() {
  static auto* r = new SharedRegistry<Key, AnnGraph>();
  return *r;
}

// The key of table t at (m, fp); false where sharing does not apply. A connection publishes
// only outside write transactions (what it holds is then committed); it may adopt inside one
// until its first change to the table (the copy it then makes is its own).
bool key_of(Table* t, const Marker& m, uint64_t fp, Key* out, bool adopting) {
  if (!m.has_token || !t->log.empty()) return false;
  if (t->in_write_txn && (!adopting || t->txn_mutated)) return false;
  if (!shareable_file(t->db, t->schema.c_str(), &out->dev, &out->ino)) return false;
  out->table = t->name;
  out->marker = m;
  out->fp = fp;
  return true;
}

// The key of column col's graph: the cache's, when the graph reflects the committed state.
bool graph_key(Table* t, size_t col, Key* out, bool adopting) {
  const Cache& c = t->cache();
  if (!c.valid || !c.has_marker || !t->touched.empty()) return false;
  out->col = col;
  return key_of(t, c.marker, c.validity_fp, out, adopting);
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
  caches().unlist(cache_sp, &cache_listed);
  // No one can take it from the registry any more; others may still hold it.
  if (cache_sp.use_count() > 1) {
    cache_sp = std::make_shared<Cache>(*cache_sp);
    g_cache_copies.add();
  }
  return *cache_sp;
}

Cache& Table::fresh_cache() {
  caches().unlist(cache_sp, &cache_listed);
  if (cache_sp.use_count() > 1)
    cache_sp = std::make_shared<Cache>();
  else
    *cache_sp = Cache();
  return *cache_sp;
}

void Table::invalidate_cache() {
  if (!cache_sp->valid) return;
  caches().unlist(cache_sp, &cache_listed);
  // Others keep the state they hold; this connection starts over. (A private cache may still be
  // read by the write log's pending runs: it stays as it is, marked invalid.)
  if (cache_sp.use_count() > 1)
    cache_sp = std::make_shared<Cache>();
  else
    cache_sp->valid = false;
}

bool cache_try_adopt(Table* t, const Marker& m, uint64_t fp) {
  Key k;
  if (!key_of(t, m, fp, &k, true) || !caches().adopt(k, &t->cache_sp, &t->cache_listed)) return false;
  g_cache_adopted.add();
  return true;
}

void cache_publish(Table* t) {
  const Cache& c = t->cache();
  Key k;
  if (!c.valid || c.vectors_missing || !c.has_marker || !key_of(t, c.marker, c.validity_fp, &k, false)) return;
  if (!t->cache_listed && t->cache_sp.use_count() == 1) prepare_all(*t->cache_sp);
  if (caches().publish(k, &t->cache_sp, &t->cache_listed)) g_cache_adopted.add();
}

void cache_prepare_sketch(Table* t, size_t gi, size_t col) {
  if (t->cache_listed || t->cache_sp.use_count() > 1) return;
  const Arena& a = t->cache().groups[gi]->arenas[col];
  const size_t min_rows = sketch_min_rows(t->cache(), col);
  if (a.sketch_due(min_rows)) group_mut(*t->cache_sp, gi).arenas[col].prepare_sketch(min_rows);
}

bool ann_try_adopt(Table* t, size_t col) {
  Key k;
  Ann& a = t->ann[col];
  if (!graph_key(t, col, &k, true) || !graphs().adopt(k, &a.st, &a.listed)) return false;
  g_graph_adopted.add();
  return true;
}

void ann_publish(Table* t, size_t col) {
  Key k;
  Ann& a = t->ann[col];
  if (!a.loaded || !graph_key(t, col, &k, false)) return;
  if (graphs().publish(k, &a.st, &a.listed)) g_graph_adopted.add();
}

void ann_unlist(Table* t, size_t col) { graphs().unlist(t->ann[col].st, &t->ann[col].listed); }

}  // namespace vec0
}  // namespace vecsqlite
