// vec0 shadow tables: their names, DDL (create, drop, rename), the kept statements, and the
// write log's flush into them (chunk blobs written once per touched chunk, _rowids rows in
// multi-row INSERTs).
#include <algorithm>

#include "sqlite/vec0/vec0_int.h"

namespace vecsqlite {
namespace vec0 {

namespace {
std::string shadow(const Table* t, const char* suffix) { return t->name + "_" + suffix; }
std::string vchunks_name(const std::string& table, size_t i) {
  return table + string_printf("_vector_chunks%02d", static_cast<int>(i));
}
}  // namespace

void set_names(Table* t) {
  t->n_info = shadow(t, "info");
  t->n_chunks = shadow(t, "chunks");
  t->n_rowids = shadow(t, "rowids");
  t->n_vchunks.clear();
  for (size_t i = 0; i < t->cfg.vcols.size(); i++) t->n_vchunks.push_back(vchunks_name(t->name, i));
  t->n_mchunks.clear();
  t->n_mtext.clear();
  for (size_t i = 0; i < t->cfg.mcols.size(); i++) {
    t->n_mchunks.push_back(t->name + string_printf("_metadatachunks%02d", static_cast<int>(i)));
    t->n_mtext.push_back(t->cfg.mcols[i].type == MetaType::text
                             ? t->name + string_printf("_metadatatext%02d", static_cast<int>(i))
                             : std::string());
  }
  t->n_hnsw.clear();
  for (size_t i = 0; i < t->cfg.vcols.size(); i++)
    t->n_hnsw.push_back(t->cfg.vcols[i].index.graph() ? t->name + string_printf("_hnsw%02d", static_cast<int>(i))
                                                      : std::string());
  t->n_aux = shadow(t, "auxiliary");
  t->sql_aux_select = "SELECT ";
  for (size_t i = 0; i < t->cfg.acols.size(); i++)
    t->sql_aux_select += string_printf("%svalue%02d", i ? ", " : "", static_cast<int>(i));
  t->sql_aux_select += string_printf(" FROM \"%w\".\"%w\" WHERE rowid = ?", t->schema.c_str(), t->n_aux.c_str());
  t->sql_insert_rowid = string_printf("INSERT INTO \"%w\".\"%w\"(rowid, id, chunk_id, chunk_offset) VALUES (?, ?, ?, ?)",
                                      t->schema.c_str(), t->n_rowids.c_str());
  t->sql_insert_rowid_auto = string_printf("INSERT INTO \"%w\".\"%w\"(id, chunk_id, chunk_offset) VALUES (?, ?, ?)",
                                           t->schema.c_str(), t->n_rowids.c_str());
  t->sql_next_rowid = string_printf("SELECT max(0, coalesce((SELECT max(rowid) FROM \"%w\".\"%w\"), 0), "
                                    "coalesce((SELECT seq FROM \"%w\".sqlite_sequence WHERE name = '%q'), 0))",
                                    t->schema.c_str(), t->n_rowids.c_str(), t->schema.c_str(), t->n_rowids.c_str());
  t->sql_delete_rowid = string_printf("DELETE FROM \"%w\".\"%w\" WHERE rowid = ?", t->schema.c_str(), t->n_rowids.c_str());
}

int create_shadow_tables(Table* t, std::string* err) {
  const char* sc = t->schema.c_str();
  std::string e;
  auto run = [&](const std::string& sql, const std::string& what) {
    if (exec_sql(t->db, sql, &e) == SQLITE_OK) return true;
    *err = what + e;
    return false;
  };
  const std::string info = shadow(t, "info");
  if (!run(string_printf("CREATE TABLE \"%w\".\"%w\" (key text primary key, value any)", sc, info.c_str()),
           "Could not create '_info' shadow table: ") ||
      !run(string_printf("INSERT INTO \"%w\".\"%w\"(key, value) VALUES ('CREATE_VERSION', 'v0.1.9'), "
                         "('CREATE_VERSION_MAJOR', 0), ('CREATE_VERSION_MINOR', 1), ('CREATE_VERSION_PATCH', 9)",
                         sc, info.c_str()),
           "Could not create '_info' shadow table: "))
    return SQLITE_ERROR;
  std::string sql;
  if (t->cfg.pcols.empty()) {
    sql = string_printf(
        "CREATE TABLE \"%w\".\"%w\"(chunk_id INTEGER PRIMARY KEY AUTOINCREMENT,size INTEGER NOT "
        "NULL,validity BLOB NOT NULL,rowids BLOB NOT NULL)",
        sc, shadow(t, "chunks").c_str());
  } else {  // sqlite-vec's DDL with partition columns
    sql = string_printf(
        "CREATE TABLE \"%w\".\"%w\"(chunk_id INTEGER PRIMARY KEY AUTOINCREMENT,size INTEGER NOT NULL,sequence_id integer,", sc,
        shadow(t, "chunks").c_str());
    for (size_t p = 0; p < t->cfg.pcols.size(); p++) sql += string_printf("partition%02d,", static_cast<int>(p));
    sql += "validity BLOB NOT NULL, rowids BLOB NOT NULL)";
  }
  if (!run(sql, "Could not create '_chunks' shadow table: ")) return SQLITE_ERROR;
  sql = string_printf(
      "CREATE TABLE \"%w\".\"%w\"(rowid INTEGER PRIMARY KEY AUTOINCREMENT,%s,chunk_id "
      "INTEGER,chunk_offset INTEGER)",
      sc, shadow(t, "rowids").c_str(), t->cfg.text_pk ? "id TEXT UNIQUE NOT NULL" : "id");
  if (!run(sql, "Could not create '_rowids' shadow table: ")) return SQLITE_ERROR;
  for (size_t i = 0; i < t->cfg.vcols.size(); i++) {
    sql = string_printf("CREATE TABLE \"%w\".\"%w\"(rowid PRIMARY KEY,vectors BLOB NOT NULL)", sc,
                        vchunks_name(t->name, i).c_str());
    if (!run(sql, string_printf("Could not create '_vector_chunks%02d' shadow table: ", static_cast<int>(i))))
      return SQLITE_ERROR;
  }
  // Metadata chunk (+ long text) tables, then the aux table.
  for (size_t i = 0; i < t->cfg.mcols.size(); i++) {
    sql = string_printf("CREATE TABLE \"%w\".\"%w_metadatachunks%02d\"(rowid PRIMARY KEY, data BLOB NOT NULL);", sc,
                        t->name.c_str(), static_cast<int>(i));
    if (!run(sql, string_printf("Could not create '_metata_chunks%02d' shadow table: ", static_cast<int>(i))))
      return SQLITE_ERROR;
    if (t->cfg.mcols[i].type != MetaType::text) continue;
    sql = string_printf("CREATE TABLE \"%w\".\"%w_metadatatext%02d\"(rowid PRIMARY KEY, data TEXT);", sc, t->name.c_str(),
                        static_cast<int>(i));
    if (!run(sql, string_printf("Could not create '_metadatatext%02d' shadow table: ", static_cast<int>(i))))
      return SQLITE_ERROR;
  }
  // Graph indexes: one row per block of nodes (rowid >= 0) and the graph's state (rowid -1).
  for (size_t i = 0; i < t->cfg.vcols.size(); i++) {
    if (!t->cfg.vcols[i].index.graph()) continue;
    sql = string_printf("CREATE TABLE \"%w\".\"%w_hnsw%02d\"(rowid INTEGER PRIMARY KEY, data BLOB NOT NULL)", sc,
                        t->name.c_str(), static_cast<int>(i));
    if (!run(sql, string_printf("Could not create '_hnsw%02d' shadow table: ", static_cast<int>(i)))) return SQLITE_ERROR;
  }
  if (!t->cfg.acols.empty()) {
    sql = string_printf("CREATE TABLE \"%w\".\"%w_auxiliary\"( rowid integer PRIMARY KEY ", sc, t->name.c_str());
    for (size_t i = 0; i < t->cfg.acols.size(); i++) sql += string_printf(", value%02d", static_cast<int>(i));
    sql += ")";
    if (!run(sql, "Could not create auxiliary shadow table: ")) return SQLITE_ERROR;
  }
  return SQLITE_OK;
}

std::string drop_shadow_sql(const Table* t) {
  const char* sc = t->schema.c_str();
  std::string sql;
  auto drop = [&](const std::string& n) { sql += string_printf("DROP TABLE IF EXISTS \"%w\".\"%w\";", sc, n.c_str()); };
  drop(t->n_info);
  drop(t->n_chunks);
  drop(t->n_rowids);
  for (const std::string& n : t->n_vchunks) drop(n);
  for (size_t i = 0; i < t->n_mchunks.size(); i++) {
    drop(t->n_mchunks[i]);
    if (!t->n_mtext[i].empty()) drop(t->n_mtext[i]);
  }
  if (!t->cfg.acols.empty()) drop(t->n_aux);
  for (const std::string& n : t->n_hnsw)
    if (!n.empty()) drop(n);
  return sql;
}

std::string rename_shadow_sql(const Table* t, const char* to) {
  const char* sc = t->schema.c_str();
  std::string sql;
  auto rename = [&](const std::string& from, const std::string& suffix) {
    sql += string_printf("ALTER TABLE \"%w\".\"%w\" RENAME TO \"%w_%s\";", sc, from.c_str(), to, suffix.c_str());
  };
  rename(t->n_info, "info");
  rename(t->n_chunks, "chunks");
  rename(t->n_rowids, "rowids");
  for (size_t i = 0; i < t->n_vchunks.size(); i++) rename(t->n_vchunks[i], string_printf("vector_chunks%02d", static_cast<int>(i)));
  for (size_t i = 0; i < t->n_mchunks.size(); i++) {
    rename(t->n_mchunks[i], string_printf("metadatachunks%02d", static_cast<int>(i)));
    if (!t->n_mtext[i].empty()) rename(t->n_mtext[i], string_printf("metadatatext%02d", static_cast<int>(i)));
  }
  if (!t->cfg.acols.empty()) rename(t->n_aux, "auxiliary");
  for (size_t i = 0; i < t->n_hnsw.size(); i++)
    if (!t->n_hnsw[i].empty()) rename(t->n_hnsw[i], string_printf("hnsw%02d", static_cast<int>(i)));
  return sql;
}

int step_done(Table* t, sqlite3_stmt* st) {
  const int rc = step_reset(st);
  if (rc != SQLITE_OK) set_err(t, sqlite3_errmsg(t->db));
  return rc;
}

int prepare(Table* t, const std::string& sql, sqlite3_stmt** st) {
  const int rc = t->stmts.get(t->db, sql, st);
  if (rc != SQLITE_OK) set_err(t, sqlite3_errmsg(t->db));
  return rc;
}

// max(0, largest rowid in _rowids, its sqlite_sequence value): see Cache::max_rowid. One less
// than the rowid SQLite gives a _rowids row inserted without one.
int read_max_rowid(Table* t, int64_t* out) {
  sqlite3_stmt* st = nullptr;
  int rc = prepare(t, t->sql_next_rowid, &st);
  if (rc != SQLITE_OK) return rc;
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    *out = sqlite3_column_int64(st, 0);
    rc = SQLITE_OK;
  } else if (rc == SQLITE_DONE) {
    rc = SQLITE_ERROR;
  }
  sqlite3_reset(st);
  return rc;
}

// Applies the log's net _rowids changes: deletes, then inserts in statements of up to
// kRowsPerInsert rows (fewer where the library allows fewer than 4 parameters a row).
constexpr size_t kRowsPerInsert = 256;
constexpr size_t kAutoRowidsMin = 64;  // rows a flush inserts before it looks for the next rowid
int apply_rowids(Table* t, const std::vector<int64_t>& deletes, const std::vector<Vec0WriteLog::RowidRow>& inserts,
                 bool any_insert, int64_t max_inserted) {
  sqlite3_stmt* st = nullptr;
  int rc;
  for (int64_t rowid : deletes) {
    rc = prepare(t, t->sql_delete_rowid, &st);
    if (rc != SQLITE_OK) return rc;
    sqlite3_bind_int64(st, 1, rowid);
    rc = step_done(t, st);
    if (rc != SQLITE_OK) return rc;
  }
  const size_t per = std::max<size_t>(
      1, std::min<size_t>(kRowsPerInsert, static_cast<size_t>(sqlite3_limit(t->db, SQLITE_LIMIT_VARIABLE_NUMBER, -1)) / 4));
  // The rowid SQLite gives a row inserted without one (AUTOINCREMENT: one past the largest of
  // the table's rowids and its sqlite_sequence value). A batch whose rowids are exactly the next
  // ones (a bulk insert of ascending ids, or of no ids) goes in without them: SQLite then appends
  // each row instead of searching the table for its rowid first (about 0.16 instead of 0.28 us
  // a row). Small flushes skip the query this needs.
  int64_t next = 0;
  bool know_next = false;
  if (inserts.size() >= kAutoRowidsMin) {
    int64_t m = 0;
    rc = read_max_rowid(t, &m);
    if (rc != SQLITE_OK) return rc;
    know_next = m < INT64_MAX - static_cast<int64_t>(inserts.size());
    if (know_next) next = m + 1;  // (m may be INT64_MAX: no overflow)
  }
  for (size_t i = 0; i < inserts.size();) {
    const size_t n = std::min(per, inserts.size() - i);
    bool in_order = know_next;
    for (size_t j = 0; in_order && j < n; j++) in_order = inserts[i + j].rowid == next + static_cast<int64_t>(j);
    Table::KeptInsert& kept = in_order ? t->ins_rowids_auto : t->ins_rowids;
    const std::string& head = in_order ? t->sql_insert_rowid_auto : t->sql_insert_rowid;
    const char* more = in_order ? ", (?, ?, ?)" : ", (?, ?, ?, ?)";
    if (n == per && kept.st != nullptr && kept.rows == per) {
      st = kept.st;  // the full-size statement, kept apart: no SQL text to build and look up
    } else {
      std::string sql = head;
      for (size_t j = 1; j < n; j++) sql += more;
      if (n == per) {
        sqlite3_finalize(kept.st);
        kept = Table::KeptInsert();
        rc = sqlite3_prepare_v3(t->db, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &kept.st, nullptr);
        if (rc != SQLITE_OK) {
          set_err(t, sqlite3_errmsg(t->db));
          return rc;
        }
        kept.rows = per;
        st = kept.st;
      } else {
        rc = prepare(t, sql, &st);
        if (rc != SQLITE_OK) return rc;
      }
    }
    // Every parameter is bound each time (the id as NULL for integer keys): no clearing needed.
    const int cols = in_order ? 3 : 4;
    int64_t batch_max = INT64_MIN;
    for (size_t j = 0; j < n; j++) {
      const Vec0WriteLog::RowidRow& r = inserts[i + j];
      int p = cols * static_cast<int>(j);
      if (!in_order) sqlite3_bind_int64(st, ++p, r.rowid);
      if (r.has_text) sqlite3_bind_text(st, ++p, r.text, static_cast<int>(r.text_len), SQLITE_STATIC);
      else sqlite3_bind_null(st, ++p);
      sqlite3_bind_int64(st, ++p, r.chunk);
      sqlite3_bind_int(st, ++p, r.offset);
      batch_max = std::max(batch_max, r.rowid);
    }
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
      set_err(t, string_printf("Error inserting id into rowids shadow table: %s", sqlite3_errmsg(t->db)));
      return rc == SQLITE_ROW || rc == SQLITE_OK ? SQLITE_ERROR : rc;
    }
    if (in_order) {
      // SQLite chose the rowids: they must be the ones the log holds (checked on the last).
      if (sqlite3_last_insert_rowid(t->db) != batch_max) {
        set_err(t, string_printf("%s_rowids rows got other rowids than expected (%lld, not %lld)", kInternal,
                                 static_cast<long long>(sqlite3_last_insert_rowid(t->db)), static_cast<long long>(batch_max)));
        return SQLITE_INTERNAL;
      }
      next += static_cast<int64_t>(n);
    } else if (know_next && batch_max >= next) {
      know_next = batch_max < INT64_MAX - static_cast<int64_t>(inserts.size());
      if (know_next) next = batch_max + 1;
    }
    i += n;
  }
  // Rows inserted and deleted again inside the transaction never reached _rowids, but their
  // rowids count for AUTOINCREMENT, as they do in the original.
  if (any_insert && max_inserted > 0) {
    rc = prepare(t, string_printf("UPDATE \"%w\".sqlite_sequence SET seq = ?1 WHERE name = '%q' AND seq < ?1",
                                  t->schema.c_str(), t->n_rowids.c_str()), &st);
    if (rc != SQLITE_OK) return rc;
    sqlite3_bind_int64(st, 1, max_inserted);
    rc = step_done(t, st);
    if (rc != SQLITE_OK) return rc;
    if (sqlite3_changes(t->db) == 0) {
      rc = prepare(t, string_printf("INSERT INTO \"%w\".sqlite_sequence(name, seq) SELECT '%q', ?1 WHERE NOT EXISTS "
                                    "(SELECT 1 FROM \"%w\".sqlite_sequence WHERE name = '%q')",
                                    t->schema.c_str(), t->n_rowids.c_str(), t->schema.c_str(), t->n_rowids.c_str()), &st);
      if (rc != SQLITE_OK) return rc;
      sqlite3_bind_int64(st, 1, max_inserted);
      rc = step_done(t, st);
      if (rc != SQLITE_OK) return rc;
    }
  }
  return SQLITE_OK;
}

int flush_log(Table* t) {
  std::string err;
  // The flush's own statements may open statement savepoints, which SQLite reports to every
  // virtual table of the transaction, this one included: x_savepoint and friends ignore them.
  struct Flushing {
    bool& f;
    explicit Flushing(bool& x) : f(x) { f = true; }
    ~Flushing() { f = false; }
  } flushing(t->flushing);
  const int rc = t->log.flush(
      t->db, t->schema,
      [t](int blob) -> Vec0WriteLog::Target {
        if (blob == kBlobValidity) return {t->n_chunks, "validity"};
        if (blob == kBlobRowids) return {t->n_chunks, "rowids"};
        if (blob >= kBlobMeta) return {t->n_mchunks[static_cast<size_t>(blob - kBlobMeta)], "data"};
        return {t->n_vchunks[static_cast<size_t>(blob - kBlobVectors)], "vectors"};
      },
      [t](const std::vector<int64_t>& deletes, const std::vector<Vec0WriteLog::RowidRow>& inserts, bool any,
          int64_t max_inserted) { return apply_rowids(t, deletes, inserts, any, max_inserted); },
      &err);
  t->staged.clear();  // the log is empty now, written or not
  if (rc != SQLITE_OK && !err.empty()) set_err(t, err);
  return rc;
}

// A metadata slot write (len bytes at offset `at` of _metadatachunks<i>.data of `chunk`),
// deferred in the write log like the vector bytes.
int write_meta_bytes(Table* t, size_t i, int64_t chunk, const void* buf, int len, int at) {
  t->log.write(kBlobMeta + static_cast<int>(i), chunk, static_cast<uint32_t>(at), buf, static_cast<uint32_t>(len));
  return SQLITE_OK;
}

// Where the write log's runs find their vector bytes (Vec0WriteLog::Source): the staged bytes
// of deferred rows, else the arena rows of `count` consecutive slots from `slot` on, when they
// lie back to back.
const uint8_t* vector_rows(Table* t, int blob, int64_t chunk, int slot, uint32_t count) {
  if (blob < kBlobVectors || blob >= kBlobMeta || count == 0) return nullptr;
  const size_t col = static_cast<size_t>(blob - kBlobVectors);
  if (const Staging::Chunk* sc = t->staged.find(chunk)) {
    uint32_t staged = 0;
    for (uint32_t k = 0; k < count; k++) staged += Staging::has(*sc, slot + static_cast<int>(k)) ? 1 : 0;
    if (staged == count) return sc->cols[col].data() + static_cast<size_t>(slot) * t->cfg.vcols[col].nbytes();
    if (staged != 0) return nullptr;  // mixed: the log asks slot by slot
  }
  const int64_t first = pos_key(chunk, slot);
  const Arena* a = arena_ptr(t->cache(), first, col);
  size_t s0 = 0;
  if (a == nullptr || !a->slot_of(first, &s0) || s0 + count > a->size()) return nullptr;
  const int64_t* ids = a->ids() + s0;
  for (uint32_t k = 1; k < count; k++)
    if (ids[k] != pos_key(chunk, slot + static_cast<int>(k))) return nullptr;
  return static_cast<const uint8_t*>(a->row_at(s0));
}

// The write log's run layout (vec0_writelog.h, RUNS): validity, rowids and the vector blobs.
Vec0WriteLog::Layout log_layout(const Config& cfg) {
  Vec0WriteLog::Layout l;
  l.validity_blob = kBlobValidity;
  l.rowids_blob = kBlobRowids;
  for (size_t i = 0; i < cfg.vcols.size(); i++)
    l.vectors.push_back({kBlobVectors + static_cast<int>(i), static_cast<uint32_t>(cfg.vcols[i].nbytes())});
  return l;
}

}  // namespace vec0
}  // namespace vecsqlite
