// The vec0 cache: everything a query reads, kept in memory and rebuilt from the chunk tables
// (the source of truth). load_cache() reads them whole; refresh_chunks() re-reads only the
// chunks another connection's commits touched (vec0_changes.cc decides which way).
//
// Per partition group and vector column an Arena (ids = position keys); per chunk its validity
// bitmap, group and decoded metadata; the row maps rowid <-> position key and, for text keys,
// text id <-> rowid. A reload in the middle of a write transaction overlays what the write log
// still holds, so the cache always shows this connection's own pending writes.
#include <functional>
#include <thread>

#include "core/stats.h"
#include "sqlite/vec0/vec0_int.h"

namespace vecsqlite {
namespace vec0 {

Counter g_cache_loads("vec0_loads");

// The vectors of column i of one chunk (`data`: its whole vectors blob) into the arenas, for
// the slots the chunk's validity bitmap marks (load_cache and refresh_chunks).
void upsert_chunk_vectors(Cache& c, int64_t chunk, size_t i, const std::vector<uint8_t>& validity, const uint8_t* data,
                          size_t nb, int cs) {
  for (int j = 0; j < cs; j++) {
    if (!(validity[static_cast<size_t>(j / 8)] & (1u << (j % 8)))) continue;
    const int64_t key = pos_key(chunk, j);
    arena_for(c, key, i).upsert(key, data + static_cast<size_t>(j) * nb);
  }
}

// The end of every "is inconsistent" error.
const char* const kCorruptAdvice =
    "; the table cannot be read until its shadow tables agree again (restore it from a backup or recreate it)";

// _rowids lists exactly the rows the chunks' validity bitmaps mark (every write changes both in
// one transaction). A mismatch means the shadow tables were changed behind the table's back, or
// damaged; reading on would silently answer from part of the rows, so it is an error that names
// the table, the shadow tables and the first row that points at a missing chunk. Checked only
// when no writes of this connection are pending (then the stored tables are the whole state).
int check_rowids_match(Table* t, int64_t n_stored) {
  if (!t->log.empty()) return SQLITE_OK;
  const char* sc = t->schema.c_str();
  sqlite3_stmt* st = nullptr;
  std::string sql = string_printf("SELECT count(*) FROM \"%w\".\"%w\"", sc, t->n_rowids.c_str());
  int rc = sqlite3_prepare_v2(t->db, sql.c_str(), -1, &st, nullptr);
  if (rc != SQLITE_OK) {
    set_err(t, sqlite3_errmsg(t->db));
    return rc;
  }
  rc = sqlite3_step(st);
  const int64_t n_listed = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
  sqlite3_finalize(st);
  if (rc != SQLITE_ROW) {
    set_err(t, sqlite3_errmsg(t->db));
    return SQLITE_ERROR;
  }
  if (n_listed == n_stored) return SQLITE_OK;
  std::string msg = string_printf(
      "vec0 table \"%s\" is inconsistent: its shadow table \"%s\" lists %lld rows but the validity bitmaps of \"%s\" "
      "mark %lld",
      t->name.c_str(), t->n_rowids.c_str(), static_cast<long long>(n_listed), t->n_chunks.c_str(),
      static_cast<long long>(n_stored));
  sql = string_printf("SELECT rowid, chunk_id FROM \"%w\".\"%w\" WHERE chunk_id IS NULL OR chunk_id NOT IN "
                      "(SELECT chunk_id FROM \"%w\".\"%w\") ORDER BY rowid LIMIT 1",
                      sc, t->n_rowids.c_str(), sc, t->n_chunks.c_str());
  if (sqlite3_prepare_v2(t->db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
    if (sqlite3_column_type(st, 1) == SQLITE_NULL)
      msg += string_printf(" (rowid %lld has no chunk)", static_cast<long long>(sqlite3_column_int64(st, 0)));
    else
      msg += string_printf(" (rowid %lld points at chunk %lld, which \"%s\" does not have)",
                           static_cast<long long>(sqlite3_column_int64(st, 0)),
                           static_cast<long long>(sqlite3_column_int64(st, 1)), t->n_chunks.c_str());
  }
  sqlite3_finalize(st);
  set_err(t, msg + kCorruptAdvice);
  return SQLITE_CORRUPT_VTAB;
}

// Rebuilds the cache from the chunk tables (they are the source of truth).
int load_cache(Table* t) {
  g_cache_loads.add();
  t->log.materialize_all();  // the arenas pending runs read from go now
  t->staged.clear();         // ... and the staged bytes are in the log's own buffers
  Cache& c = t->fresh_cache();
  c.seg_chunks = seg_chunks_for(t->cfg);
  const int cs = t->cfg.chunk_size;
  const size_t vbytes = static_cast<size_t>(cs / 8);
  const size_t rbytes = static_cast<size_t>(cs) * 8;
  sqlite3_stmt* st = nullptr;
  std::string sql = "SELECT chunk_id, validity, rowids";
  for (size_t p = 0; p < t->cfg.pcols.size(); p++) sql += string_printf(", partition%02d", static_cast<int>(p));
  sql += string_printf(" FROM \"%w\".\"%w\"", t->schema.c_str(), t->n_chunks.c_str());
  int rc = sqlite3_prepare_v2(t->db, sql.c_str(), -1, &st, nullptr);
  if (rc != SQLITE_OK) {
    set_err(t, string_printf("Error preparing stmtChunk: %s", sqlite3_errmsg(t->db)));
    return rc;
  }
  std::vector<std::pair<int64_t, std::vector<int64_t>>> chunk_rows;  // chunk -> rowid per slot (-1 free)
  size_t n_rows = 0;
  int64_t n_stored = 0;  // valid slots as stored (before the write log's overlay)
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const int64_t chunk_id = sqlite3_column_int64(st, 0);
    const uint8_t* val = static_cast<const uint8_t*>(sqlite3_column_blob(st, 1));
    const size_t nval = static_cast<size_t>(sqlite3_column_bytes(st, 1));
    const uint8_t* rows = static_cast<const uint8_t*>(sqlite3_column_blob(st, 2));
    const size_t nrows = static_cast<size_t>(sqlite3_column_bytes(st, 2));
    if (nval != vbytes) {
      set_err(t, string_printf("chunk validity size doesn't match - expected %d, found %d",
                               static_cast<int>(vbytes), static_cast<int>(nval)));
      rc = SQLITE_ERROR;
      break;
    }
    if (nrows != rbytes) {
      set_err(t, string_printf("chunk rowids size doesn't match - expected %d, found %d",
                               static_cast<int>(rbytes), static_cast<int>(nrows)));
      rc = SQLITE_ERROR;
      break;
    }
    std::vector<uint8_t> v(val, val + nval);
    for (size_t b = 0; b < nval; b++) n_stored += __builtin_popcount(val[b]);
    t->log.overlay(kBlobValidity, chunk_id, v.data(), v.size());
    std::vector<uint8_t> rows_copy;
    if (t->log.touches(kBlobRowids, chunk_id)) {
      rows_copy.assign(rows, rows + nrows);
      t->log.overlay(kBlobRowids, chunk_id, rows_copy.data(), rows_copy.size());
      rows = rows_copy.data();
    }
    std::vector<int64_t> slots(static_cast<size_t>(cs), -1);
    for (int j = 0; j < cs; j++) {
      if (v[static_cast<size_t>(j / 8)] & (1u << (j % 8))) {
        std::memcpy(&slots[static_cast<size_t>(j)], rows + static_cast<size_t>(j) * 8, 8);
        n_rows++;
      }
    }
    c.validity_fp ^= chunk_fp(chunk_id, v.data(), v.size());
    c.validity.emplace(chunk_id, std::move(v));
    chunk_rows.emplace_back(chunk_id, std::move(slots));
    cols_register_chunk(t, chunk_id, partition_tuple_of(t, st, 3));  
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) {
    if (rc == SQLITE_ROW || rc == SQLITE_OK) rc = SQLITE_ERROR;
    if (t->base.zErrMsg == nullptr) set_err(t, sqlite3_errmsg(t->db));
    c = Cache();
    return rc;
  }
  rc = check_rowids_match(t, n_stored);
  if (rc != SQLITE_OK) {
    c = Cache();
    return rc;
  }
  // The row maps, sized once; then every arena reserved for the rows it gets, and their fresh
  // pages faulted in on a helper thread while this one reads the vector blobs (on a VM, the
  // kernel zeroing those pages is a third of a cold load).
  c.pos_of.reserve(n_rows);
  std::unordered_map<Arena*, size_t> arena_rows;
  for (const auto& cr : chunk_rows) {
    size_t used = 0;
    const std::vector<uint8_t>& val = c.validity[cr.first];
    for (int j = 0; j < cs; j++) {
      const int64_t id = cr.second[static_cast<size_t>(j)];
      if (id == -1 && !(val[static_cast<size_t>(j / 8)] & (1u << (j % 8)))) continue;
      const int64_t key = pos_key(cr.first, j);
      if (!c.pos_of.emplace(id, key).second) {
        const int64_t other = c.pos_of.find(id)->second;
        set_err(t, string_printf("vec0 table \"%s\" is inconsistent: rowid %lld is in two slots of \"%s\" (chunk %lld "
                                 "offset %d, chunk %lld offset %d)%s",
                                 t->name.c_str(), static_cast<long long>(id), t->n_chunks.c_str(),
                                 static_cast<long long>(pos_chunk(other)), pos_offset(other),
                                 static_cast<long long>(cr.first), j, kCorruptAdvice));
        c = Cache();
        return SQLITE_CORRUPT_VTAB;
      }
      c.rowid_at.set(key, id);
      used++;
    }
    if (used == 0) continue;
    for (size_t i = 0; i < t->cfg.vcols.size(); i++) arena_rows[&arena_for(c, pos_key(cr.first, 0), i)] += used;
  }
  std::vector<std::function<void()>> prefault;
  for (auto& ar : arena_rows) {
    ar.first->reserve(ar.first->size() + ar.second);
    if (auto f = ar.first->prefaulter(ar.first->size() + ar.second)) prefault.push_back(std::move(f));
  }
  // Joined before the arenas could go (every `c = Cache()` below), and on any other way out.
  struct Helper {
    std::thread th;
    void join() {
      if (th.joinable()) th.join();
    }
    ~Helper() { join(); }
  } helper;
  if (!prefault.empty()) {
    try {
      helper.th = std::thread([fs = std::move(prefault)] {
        for (const auto& f : fs) f();
      });
    } catch (...) {
      // no thread: the pages fault in as the rows arrive
    }
  }
  for (size_t i = 0; i < t->cfg.vcols.size(); i++) {
    const size_t nb = t->cfg.vcols[i].nbytes();
    sql = string_printf("SELECT vectors FROM \"%w\".\"%w\" WHERE rowid = ?", t->schema.c_str(),
                        t->n_vchunks[i].c_str());
    rc = sqlite3_prepare_v2(t->db, sql.c_str(), -1, &st, nullptr);
    if (rc != SQLITE_OK) {
      set_err(t, sqlite3_errmsg(t->db));
      helper.join();
      c = Cache();
      return rc;
    }
    for (const auto& cr : chunk_rows) {
      sqlite3_bind_int64(st, 1, cr.first);
      rc = sqlite3_step(st);
      if (rc != SQLITE_ROW) {
        set_err(t, string_printf("%scould not open vectors blob on %s.%s.%lld", kInternal, t->schema.c_str(),
                                 t->n_vchunks[i].c_str(), static_cast<long long>(cr.first)));
        sqlite3_finalize(st);
        helper.join();
        c = Cache();
        return SQLITE_ERROR;
      }
      const uint8_t* data = static_cast<const uint8_t*>(sqlite3_column_blob(st, 0));
      const size_t n = static_cast<size_t>(sqlite3_column_bytes(st, 0));
      std::vector<uint8_t> patched;
      if (n == nb * static_cast<size_t>(cs) && t->log.touches(kBlobVectors + static_cast<int>(i), cr.first)) {
        patched.assign(data, data + n);
        t->log.overlay(kBlobVectors + static_cast<int>(i), cr.first, patched.data(), n);
        data = patched.data();
      }
      if (n != nb * static_cast<size_t>(cs)) {
        set_err(t, string_printf("vectors blob size doesn't match - expected %d, found %d",
                                 static_cast<int>(nb * static_cast<size_t>(cs)), static_cast<int>(n)));
        sqlite3_finalize(st);
        helper.join();
        c = Cache();
        return SQLITE_ERROR;
      }
      upsert_chunk_vectors(c, cr.first, i, c.validity[cr.first], data, nb, cs);
      sqlite3_reset(st);
    }
    sqlite3_finalize(st);
  }
  helper.join();
  if (t->cfg.text_pk) {
    sql = string_printf("SELECT rowid, id FROM \"%w\".\"%w\"", t->schema.c_str(), t->n_rowids.c_str());
    rc = sqlite3_prepare_v2(t->db, sql.c_str(), -1, &st, nullptr);
    if (rc != SQLITE_OK) {
      set_err(t, sqlite3_errmsg(t->db));
      c = Cache();
      return rc;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
      const int64_t rid = sqlite3_column_int64(st, 0);
      const char* s = reinterpret_cast<const char*>(sqlite3_column_text(st, 1));
      std::string id = s != nullptr ? std::string(s, static_cast<size_t>(sqlite3_column_bytes(st, 1))) : std::string();
      c.rowid_of_text[id] = rid;
      c.text_of[rid] = std::move(id);
    }
    sqlite3_finalize(st);
    // Rows of this transaction still in the write log.
    t->log.each_rowid_op([&c](bool insert, int64_t rid, const std::string* text) {
      auto old = c.text_of.find(rid);
      if (old != c.text_of.end()) {
        c.rowid_of_text.erase(old->second);
        c.text_of.erase(old);
      }
      if (insert && text != nullptr) {
        c.rowid_of_text[*text] = rid;
        c.text_of[rid] = *text;
      }
    });
    // Every id names a row of the chunks (the counts agreeing does not make the sets agree).
    for (const auto& kv : c.text_of) {
      if (c.pos_of.count(kv.first) != 0) continue;
      set_err(t, string_printf("vec0 table \"%s\" is inconsistent: its shadow table \"%s\" lists rowid %lld (id '%s') "
                               "but no chunk of \"%s\" holds it%s",
                               t->name.c_str(), t->n_rowids.c_str(), static_cast<long long>(kv.first),
                               kv.second.c_str(), t->n_chunks.c_str(), kCorruptAdvice));
      c = Cache();
      return SQLITE_CORRUPT_VTAB;
    }
  }
  // AUTOINCREMENT state of _rowids, including rows still in the write log.
  rc = read_max_rowid(t, &c.max_rowid);
  if (rc != SQLITE_OK) {
    set_err(t, sqlite3_errmsg(t->db));
    c = Cache();
    return rc;
  }
  t->log.each_rowid_op([&c](bool insert, int64_t rid, const std::string*) {
    if (insert && rid > c.max_rowid) c.max_rowid = rid;
  });
  rc = cols_load(t);  
  if (rc != SQLITE_OK) {
    c = Cache();
    return rc;
  }
  c.valid = true;
  return SQLITE_OK;
}

// Re-reads the listed chunks into the cache (rows, vectors, metadata, text ids); chunks that
// no longer exist are dropped. Any failure leaves the cache half-updated: the caller then
// reloads it whole.
int refresh_chunks(Table* t, const std::set<int64_t>& chunks) {
  Cache& c = t->cache_mut();
  c.hints.drop_all();  // bitmaps change or go
  const int cs = t->cfg.chunk_size;
  const size_t nv = t->cfg.vcols.size();
  std::map<int64_t, int> was_in;  // chunk -> its group (a chunk's partition tuple never changes)
  for (int64_t chunk : chunks) {
    auto vit = c.validity.find(chunk);
    if (vit == c.validity.end()) continue;
    if (const ChunkCols* cc = chunk_cols_of(c, chunk)) was_in[chunk] = cc->group;
    for (int j = 0; j < cs; j++) {
      if (!(vit->second[static_cast<size_t>(j / 8)] & (1u << (j % 8)))) continue;
      const int64_t key = pos_key(chunk, j);
      for (size_t i = 0; i < nv; i++) {
        Arena* a = arena_ptr(c, key, i);
        if (a != nullptr) a->remove(key);
      }
      int64_t rid;
      if (!c.rowid_at.find(key, &rid)) continue;
      auto pit = c.pos_of.find(rid);
      if (pit != c.pos_of.end() && pit->second == key) {
        c.pos_of.erase(pit);
        auto ti = c.text_of.find(rid);
        if (ti != c.text_of.end()) {
          c.rowid_of_text.erase(ti->second);
          c.text_of.erase(ti);
        }
      }
      c.rowid_at.erase(key);
    }
    c.validity_fp ^= chunk_fp(chunk, vit->second.data(), vit->second.size());
    c.validity.erase(vit);
    cols_forget_chunk(c, chunk);
  }
  std::string sql = "SELECT validity, rowids";
  for (size_t p = 0; p < t->cfg.pcols.size(); p++) sql += string_printf(", partition%02d", static_cast<int>(p));
  sql += string_printf(" FROM \"%w\".\"%w\" WHERE chunk_id = ?", t->schema.c_str(), t->n_chunks.c_str());
  std::vector<sqlite3_stmt*> stmts;
  auto done = [&stmts](int rc) {
    for (sqlite3_stmt* s : stmts) sqlite3_finalize(s);
    return rc;
  };
  auto add = [&](const std::string& q) -> sqlite3_stmt* {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(t->db, q.c_str(), -1, &s, nullptr) != SQLITE_OK) {
      sqlite3_finalize(s);
      return nullptr;
    }
    stmts.push_back(s);
    return s;
  };
  sqlite3_stmt* sc = add(sql);
  if (sc == nullptr) return done(SQLITE_ERROR);
  std::vector<sqlite3_stmt*> sv;
  for (size_t i = 0; i < nv; i++) {
    sqlite3_stmt* s = add(string_printf("SELECT vectors FROM \"%w\".\"%w\" WHERE rowid = ?", t->schema.c_str(),
                                        t->n_vchunks[i].c_str()));
    if (s == nullptr) return done(SQLITE_ERROR);
    sv.push_back(s);
  }
  sqlite3_stmt* stext = nullptr;
  if (t->cfg.text_pk) {
    stext = add(string_printf("SELECT id FROM \"%w\".\"%w\" WHERE rowid = ?", t->schema.c_str(), t->n_rowids.c_str()));
    if (stext == nullptr) return done(SQLITE_ERROR);
  }
  const size_t vbytes = static_cast<size_t>(cs / 8), rbytes = static_cast<size_t>(cs) * 8;
  for (int64_t chunk : chunks) {
    sqlite3_reset(sc);
    sqlite3_bind_int64(sc, 1, chunk);
    int rc = sqlite3_step(sc);
    if (rc == SQLITE_DONE) continue;  // deleted
    if (rc != SQLITE_ROW) return done(rc);
    if (static_cast<size_t>(sqlite3_column_bytes(sc, 0)) != vbytes || static_cast<size_t>(sqlite3_column_bytes(sc, 1)) != rbytes)
      return done(SQLITE_ERROR);
    const uint8_t* vb = static_cast<const uint8_t*>(sqlite3_column_blob(sc, 0));
    std::vector<uint8_t> v(vb, vb + vbytes);
    std::vector<int64_t> ids(static_cast<size_t>(cs));
    std::memcpy(ids.data(), sqlite3_column_blob(sc, 1), rbytes);
    auto wit = was_in.find(chunk);
    cols_register_chunk(t, chunk, partition_tuple_of(t, sc, 2), wit == was_in.end() ? -1 : wit->second);
    for (int j = 0; j < cs; j++) {
      if (!(v[static_cast<size_t>(j / 8)] & (1u << (j % 8)))) continue;
      const int64_t id = ids[static_cast<size_t>(j)];
      const int64_t key = pos_key(chunk, j);
      if (!c.pos_of.emplace(id, key).second) return done(SQLITE_ERROR);  // also in an unchanged chunk
      c.rowid_at.set(key, id);
      if (stext != nullptr) {
        sqlite3_reset(stext);
        sqlite3_bind_int64(stext, 1, id);
        if (sqlite3_step(stext) == SQLITE_ROW && sqlite3_column_type(stext, 0) == SQLITE_TEXT) {
          std::string s(reinterpret_cast<const char*>(sqlite3_column_text(stext, 0)),
                        static_cast<size_t>(sqlite3_column_bytes(stext, 0)));
          c.rowid_of_text[s] = id;
          c.text_of[id] = std::move(s);
        }
      }
    }
    c.validity_fp ^= chunk_fp(chunk, v.data(), v.size());
    for (size_t i = 0; i < nv; i++) {
      const size_t nb = t->cfg.vcols[i].nbytes();
      sqlite3_reset(sv[i]);
      sqlite3_bind_int64(sv[i], 1, chunk);
      if (sqlite3_step(sv[i]) != SQLITE_ROW || static_cast<size_t>(sqlite3_column_bytes(sv[i], 0)) != nb * static_cast<size_t>(cs))
        return done(SQLITE_ERROR);
      upsert_chunk_vectors(c, chunk, i, v, static_cast<const uint8_t*>(sqlite3_column_blob(sv[i], 0)), nb, cs);
    }
    c.validity.emplace(chunk, std::move(v));
    rc = cols_load_chunk(t, chunk);  
    if (rc != SQLITE_OK) return done(rc);
  }
  return done(SQLITE_OK);
}

}  // namespace vec0
}  // namespace vecsqlite
