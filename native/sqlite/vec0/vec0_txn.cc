// vec0 transactions. The write log (vec0_writelog.h) follows SQLite's savepoints exactly:
// xSavepoint marks it, ROLLBACK TO truncates it to the mark, ROLLBACK drops it; both mark the
// cache stale when the transaction changed the table (a later reload overlays what the log
// still holds). xSync writes the log into the shadow tables, then the write token and the
// change log entry that let other connections keep or refresh their caches (vec0_changes.cc).
// Graph indexes follow the same rule (vec0_ann.cc): xSync brings them up to date with the
// rows this transaction wrote; a ROLLBACK after that reloads them.
#include <algorithm>

#include "sqlite/vec0/vec0_int.h"

namespace vecsqlite {
namespace vec0 {

int x_begin(sqlite3_vtab* p) {
  Table* t = table_of(p);
  t->log.clear();
  t->staged.clear();
  t->txn_inserted = 0;
  t->wrote = false;
  t->in_write_txn = true;
  t->txn_checked = false;
  t->txn_mutated = false;
  t->reset_txn_changes();
  ann_end_txn(t, false);
  return SQLITE_OK;
}

int x_sync(sqlite3_vtab* p) {
  Table* t = table_of(p);
  if (t->broken) {
    set_err(t, string_printf("vec0 table %s: a write to it failed part-way in this transaction; "
                             "roll the transaction back (or back to a savepoint from before that write)",
                             t->name.c_str()));
    return SQLITE_ERROR;
  }
  KeepLastRowid keep(t->db);
  try {
    int rc = flush_log(t);
    if (rc != SQLITE_OK) return rc;
    rc = ann_sync(t);  // the graphs take this transaction's rows, in the same transaction
    if (rc != SQLITE_OK) return rc;
    if (!t->wrote) return SQLITE_OK;
    t->wrote = false;
    int64_t token = 0;
    rc = write_token(t, &token);
    if (rc != SQLITE_OK) return rc;
    if (t->cache().valid) {
      Cache& c = t->cache_mut();  // this connection's own: it wrote the table
      c.has_marker = read_marker(t, &c.marker) == SQLITE_OK;
    }
    return write_change_log(t, token);
  } catch (...) {
    return SQLITE_NOMEM;
  }
}

int x_commit(sqlite3_vtab* p) {
  Table* t = table_of(p);
  if (!t->log.empty()) t->invalidate_cache();  // not reached: xSync flushed it
  t->log.clear();
  t->staged.clear();
  t->wrote = false;
  t->in_write_txn = t->txn_checked = false;
  t->reset_txn_changes();
  ann_end_txn(t, true);
  return SQLITE_OK;
}

int x_rollback(sqlite3_vtab* p) {
  Table* t = table_of(p);
  t->log.clear();
  t->staged.clear();
  t->wrote = false;
  t->in_write_txn = t->txn_checked = false;
  // Nothing to undo in the cache when this transaction never changed the table (for example a
  // single statement that failed validation).
  if (t->txn_mutated) t->invalidate_cache();
  t->txn_mutated = false;
  t->reset_txn_changes();
  ann_end_txn(t, false);
  return SQLITE_OK;
}

int x_savepoint(sqlite3_vtab* p, int level) {
  Table* t = table_of(p);
  if (t->flushing) return SQLITE_OK;  // a statement of the flush itself (see flush_log)
  // SQLite opens the savepoint (or statement journal) only after this returns, so a flush now
  // still lands at the level the log's entries belong to (as fts5 flushes in xSavepoint). This
  // bounds the log of a run of multi-row statements (INSERT ... SELECT), which each write
  // inside a statement savepoint where x_update cannot flush.
  if (t->log.at_transaction_level() && !t->broken && t->log.pending_bytes() >= kLogFlushBytes) {
    KeepLastRowid keep(t->db);
    const int rc = flush_log(t);
    if (rc != SQLITE_OK) return rc;
  }
  try {
    t->log.savepoint(level);
    t->level_mutations.resize(static_cast<size_t>(level) + 1, Table::kUnknownLevel);
  } catch (...) {
    return SQLITE_NOMEM;
  }
  t->open_levels = level + 1;
  t->level_mutations[static_cast<size_t>(level)] = t->mutations;
  return SQLITE_OK;
}

int x_release(sqlite3_vtab* p, int level) {
  Table* t = table_of(p);
  if (t->flushing) return SQLITE_OK;
  t->log.release(level);
  // Levels from `level` on are gone; one opened later was opened after a failed write.
  t->open_levels = level;
  t->broken_below = std::min(t->broken_below, level);
  if (t->level_mutations.size() > static_cast<size_t>(level)) t->level_mutations.resize(static_cast<size_t>(level));
  return SQLITE_OK;
}

int x_rollback_to(sqlite3_vtab* p, int level) {
  Table* t = table_of(p);
  if (t->flushing) return SQLITE_OK;  // the flush fails and says so
  if (level < t->broken_below) t->broken = false;  // the failed write is undone too
  t->open_levels = level + 1;
  const size_t lv = static_cast<size_t>(level);
  // Nothing this table holds changed since `level` began (a failed statement that wrote
  // nothing, a savepoint of the application's around other tables): log and cache stay.
  const bool unchanged = lv < t->level_mutations.size() && t->level_mutations[lv] == t->mutations;
  int rc = SQLITE_OK;
  try {
    t->log.rollback_to(level);  // copies the kept runs' vector bytes when it drops any
    t->level_mutations.resize(lv + 1, Table::kUnknownLevel);  // later levels are gone
    if (!unchanged) t->level_mutations[lv] = t->mutations;  // the state is the savepoint's again
  } catch (...) {
    // The log may now miss bytes of rows it still has to write: it refuses to flush, so this
    // transaction cannot commit them; the cache is rebuilt from the tables either way.
    t->log.mark_lost();
    t->level_mutations.clear();  // every level unknown: the next ROLLBACK TO reloads
    rc = SQLITE_NOMEM;
  }
  // Reloaded from the rolled-back tables plus what the log still holds.
  if ((!unchanged || rc != SQLITE_OK) && t->txn_mutated) t->invalidate_cache();
  return rc;
}

}  // namespace vec0
}  // namespace vecsqlite
