// vec0 change detection: is the cache still what the tables hold?
//
// PRAGMA data_version moves when another connection or process committed to the file. The
// table's change marker then says whether that commit touched this table: the key
// vecsqlite_write_token in "<t>_info" (a random int64 that every vecsqlite transaction writing
// the table replaces at xSync), the AUTOINCREMENT sequences of _rowids and _chunks (moved by
// any implementation's inserts), and a fingerprint of the validity bitmaps (XOR of a hash per
// chunk, kept current by every write; moved by any implementation's inserts and deletes).
// Unchanged marker: the cache is kept. Changed by vecsqlite commits only: the change log
// (vec0_changelog.h: per commit the chunks it touched and the marker before and after) names
// the chunks to re-read, and only those are (refresh_from_log; the validity fingerprint must
// then match the tables'). Otherwise, or when the chain of logged commits is broken (a commit
// by sqlite-vec itself in between, more commits than the log keeps), the cache is reloaded
// whole, lazily. A table whose marker has no token (never written by vecsqlite) reloads on every
// data_version change. sqlite-vec's own in-place UPDATEs move none of these (docs/vec0.md).
#include "core/stats.h"
#include "sqlite/vec0/vec0_int.h"

namespace vecsqlite {
namespace vec0 {

Counter g_refreshes("vec0_refreshes");

namespace {
constexpr const char* kTokenKey = "vecsqlite_write_token";
constexpr const char* kChangeHeadKey = "vecsqlite_change_head";
}  // namespace

int read_marker(Table* t, Marker* out) {
  sqlite3_stmt* st = nullptr;
  int rc = prepare(t, string_printf("SELECT (SELECT value FROM \"%w\".\"%w\" WHERE key = '%s'), "
                                    "(SELECT seq FROM \"%w\".sqlite_sequence WHERE name = '%q'), "
                                    "(SELECT seq FROM \"%w\".sqlite_sequence WHERE name = '%q')",
                                    t->schema.c_str(), t->n_info.c_str(), kTokenKey, t->schema.c_str(),
                                    t->n_rowids.c_str(), t->schema.c_str(), t->n_chunks.c_str()),
                   &st);
  if (rc != SQLITE_OK) return rc;
  rc = sqlite3_step(st);
  if (rc != SQLITE_ROW) {
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_ERROR : rc;
  }
  Marker m;
  m.has_token = sqlite3_column_type(st, 0) == SQLITE_INTEGER;
  m.token = m.has_token ? sqlite3_column_int64(st, 0) : 0;
  m.seq_rowids = sqlite3_column_type(st, 1) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 1);
  m.seq_chunks = sqlite3_column_type(st, 2) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 2);
  sqlite3_reset(st);
  *out = m;
  return SQLITE_OK;
}

// The validity fingerprint of the chunk tables as this connection sees them (a pass over
// _chunks that reads only the small validity column).
int read_validity_fp(Table* t, uint64_t* out) {
  sqlite3_stmt* st = nullptr;
  int rc = prepare(t, string_printf("SELECT chunk_id, validity FROM \"%w\".\"%w\"", t->schema.c_str(), t->n_chunks.c_str()), &st);
  if (rc != SQLITE_OK) return rc;
  uint64_t fp = 0;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const uint8_t* v = static_cast<const uint8_t*>(sqlite3_column_blob(st, 1));
    fp ^= chunk_fp(sqlite3_column_int64(st, 0), v, static_cast<size_t>(sqlite3_column_bytes(st, 1)));
  }
  sqlite3_reset(st);
  if (rc != SQLITE_DONE) return rc;
  *out = fp;
  return SQLITE_OK;
}

int write_token(Table* t, int64_t* written) {
  sqlite3_stmt* st = nullptr;
  int rc = prepare(t, string_printf("INSERT INTO \"%w\".\"%w\"(key, value) VALUES ('%s', ?) "
                                    "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                                    t->schema.c_str(), t->n_info.c_str(), kTokenKey),
                   &st);
  if (rc != SQLITE_OK) return rc;
  int64_t token = 0;
  sqlite3_randomness(sizeof token, &token);
  sqlite3_bind_int64(st, 1, token);
  *written = token;
  return step_done(t, st);
}

// All entries of the ring (vec0_changelog.h); rows that do not decode are left out.
int read_change_log(Table* t, Vec0ChangeLog* out) {
  sqlite3_stmt* st = nullptr;
  int rc = prepare(t, string_printf("SELECT value FROM \"%w\".\"%w\" WHERE key BETWEEN 'vecsqlite_change_00' AND "
                                    "'vecsqlite_change_99'", t->schema.c_str(), t->n_info.c_str()),
                   &st);
  if (rc != SQLITE_OK) return rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (sqlite3_column_type(st, 0) != SQLITE_BLOB) continue;
    int64_t seq = 0;
    Vec0Change c;
    if (Vec0ChangeLog::decode_entry(sqlite3_column_blob(st, 0), static_cast<size_t>(sqlite3_column_bytes(st, 0)), &seq, &c))
      out->add(std::move(c));
  }
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

// At xSync, after the write token: writes this commit (the chunks it touched, the marker
// before and after) into the next slot of the table's change log ring, and moves the head.
int write_change_log(Table* t, int64_t token) {
  Vec0Change ch;
  ch.token = token;
  ch.prev_token = t->txn_pre.token;
  ch.pre = Vec0MarkerState{t->txn_pre.seq_rowids, t->txn_pre.seq_chunks, t->txn_pre_fp};
  const Cache& c = t->cache();
  ch.recorded = t->txn_pre_ok && t->txn_pre.has_token && c.valid && c.has_marker && c.marker.token == token &&
                t->txn_chunks.size() <= Vec0ChangeLog::kMaxChunks;
  if (ch.recorded) {
    ch.post = Vec0MarkerState{c.marker.seq_rowids, c.marker.seq_chunks, c.validity_fp};
    ch.chunks.assign(t->txn_chunks.begin(), t->txn_chunks.end());
  }
  const std::string& info = t->n_info;
  sqlite3_stmt* st = nullptr;
  int rc = prepare(t, string_printf("SELECT value FROM \"%w\".\"%w\" WHERE key = '%s'", t->schema.c_str(), info.c_str(),
                                    kChangeHeadKey),
                   &st);
  if (rc != SQLITE_OK) return rc;
  int64_t seq = 0;
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_INTEGER && sqlite3_column_int64(st, 0) >= 0 &&
      sqlite3_column_int64(st, 0) < INT64_MAX)
    seq = sqlite3_column_int64(st, 0) + 1;
  sqlite3_reset(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return rc;
  const std::string blob = Vec0ChangeLog::encode_entry(seq, ch);
  rc = prepare(t, string_printf("INSERT INTO \"%w\".\"%w\"(key, value) VALUES (?1, ?2), ('%s', ?3) "
                                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                                t->schema.c_str(), info.c_str(), kChangeHeadKey),
               &st);
  if (rc != SQLITE_OK) return rc;
  const std::string key = Vec0ChangeLog::slot_key(seq);
  sqlite3_bind_text(st, 1, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
  sqlite3_bind_blob(st, 2, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT);
  sqlite3_bind_int64(st, 3, seq);
  return step_done(t, st);
}

// Brings a cache that is a few vecsqlite commits behind up to the table at marker `now` by
// re-reading only the chunks those commits touched (the change log). Returns SQLITE_OK when
// the cache is current; anything else means: reload it whole.
int refresh_from_log(Table* t, const Marker& now) {
  const Cache& seen = t->cache();
  if (!seen.has_marker || !seen.marker.has_token || !now.has_token || !t->log.empty()) return SQLITE_ERROR;
  uint64_t fp = 0;
  int rc = read_validity_fp(t, &fp);
  if (rc != SQLITE_OK) return rc;
  Vec0ChangeLog log;
  rc = read_change_log(t, &log);
  if (rc != SQLITE_OK) return rc;
  std::set<int64_t> chunks;
  if (!log.plan(seen.marker.token, Vec0MarkerState{seen.marker.seq_rowids, seen.marker.seq_chunks, seen.validity_fp},
                now.token, Vec0MarkerState{now.seq_rowids, now.seq_chunks, fp}, &chunks))
    return SQLITE_ERROR;
  Cache* cp = nullptr;
  try {
    cp = &t->cache_mut();  // a copy when another connection holds it
    rc = refresh_chunks(t, chunks);
  } catch (...) {
    rc = SQLITE_NOMEM;
  }
  if (rc != SQLITE_OK) return rc;
  Cache& c = *cp;
  if (c.validity_fp != fp) return SQLITE_ERROR;
  rc = read_max_rowid(t, &c.max_rowid);
  if (rc != SQLITE_OK) return rc;
  c.marker = now;
  g_refreshes.add();
  return SQLITE_OK;
}

// Makes sure the cache reflects the database as this connection sees it. data_version moves
// when another connection committed to the file; the table's marker then says whether that
// commit touched this table.
int ensure_fresh(Table* t) {
  const bool check = !(t->in_write_txn && t->txn_checked);
  if (t->in_write_txn) t->txn_checked = true;
  if (check && t->probe.changed() && t->cache().valid) {
    const Cache& c = t->cache();
    Marker now;
    uint64_t fp = 0;
    const bool got = c.has_marker && c.marker.has_token && read_marker(t, &now) == SQLITE_OK;
    const bool got_fp = got && read_validity_fp(t, &fp) == SQLITE_OK;
    const bool same = got_fp && now == c.marker && fp == c.validity_fp;
    if (!same) {
      // Another connection of this process may hold the new state already; otherwise re-read
      // the chunks the change log names (and offer the result to the others).
      if (got_fp && cache_try_adopt(t, now, fp)) return SQLITE_OK;
      if (got && refresh_from_log(t, now) == SQLITE_OK)
        cache_publish(t);
      else
        t->invalidate_cache();
    }
  }
  if (t->cache().valid) return SQLITE_OK;
  Marker now;
  uint64_t fp = 0;
  if (read_marker(t, &now) == SQLITE_OK && now.has_token && read_validity_fp(t, &fp) == SQLITE_OK &&
      cache_try_adopt(t, now, fp))
    return SQLITE_OK;
  const int rc = load_cache(t);
  if (rc != SQLITE_OK) return rc;
  Cache& c = t->cache_mut();
  c.has_marker = read_marker(t, &c.marker) == SQLITE_OK;
  cache_publish(t);
  return SQLITE_OK;
}

int ensure_readable(Table* t) {
  const int rc = ensure_fresh(t);
  if (rc != SQLITE_OK || !t->cache().vectors_missing) return rc;
  // Rebuilt from the tables plus whatever the write log still holds (load_cache).
  t->invalidate_cache();
  return ensure_fresh(t);
}

}  // namespace vec0
}  // namespace vecsqlite
