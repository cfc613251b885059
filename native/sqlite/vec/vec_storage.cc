// Every SQL statement the `vec` table runs on its tables: the data table, vector_storage,
// vector_storage_gen and the triggers (layouts in vec_int.h). All of it runs on the calling
// connection; names are quoted with %w, values are bound.
#include <cstring>
#include <string>

#include "sqlite/vec/vec_int.h"

namespace vecsqlite {
namespace vec {

Counter g_blob_writes("blob_writes");

namespace {

std::string trigger_base(const std::string& shadow) {
  std::string b = "trg_vec_" + shadow;
  for (auto& c : b) {
    if (c == '.' || c == '-' || c == ' ') c = '_';
  }
  return b;
}

// The body of one trigger: for each of its rows (NEW and/or OLD), drop the saved index, record
// the write (token before), move the token, record the token after.
std::string trigger_body(const std::string& shadow, const char* const rows[2]) {
  std::string body;
  for (int i = 0; i < 2; i++) {
    const char* r = rows[i];
    if (r == nullptr) continue;
    const char* s = shadow.c_str();
    body += string_printf(
        "  DELETE FROM vector_storage WHERE shadow_table_name = %Q AND dataset_id = %s.dataset_id;\n"
        "  SELECT vec_invalidate(%Q, %s.dataset_id, %s.rowid, (SELECT token FROM vector_storage_gen "
        "WHERE shadow_table_name = %Q AND dataset_id = %s.dataset_id), %s.id);\n"
        "  INSERT INTO vector_storage_gen(shadow_table_name, dataset_id, token) VALUES (%Q, %s.dataset_id, random()) "
        "ON CONFLICT(shadow_table_name, dataset_id) DO UPDATE SET token = excluded.token;\n"
        "  SELECT vec_invalidate(%Q, %s.dataset_id, NULL, (SELECT token FROM vector_storage_gen "
        "WHERE shadow_table_name = %Q AND dataset_id = %s.dataset_id), NULL);\n",
        s, r, s, r, r, s, r, r, s, r, s, r, s, r);
  }
  return body;
}

}  // namespace

int ensure_storage_tables(sqlite3* db, const std::string& schema, std::string* err) {
  return exec_sql(db, string_printf(
      "CREATE TABLE IF NOT EXISTS \"%w\".vector_storage (shadow_table_name TEXT NOT NULL, "
      "dataset_id TEXT NOT NULL DEFAULT '', \"index\" BLOB, PRIMARY KEY (shadow_table_name, dataset_id));"
      "CREATE TABLE IF NOT EXISTS \"%w\".vector_storage_gen (shadow_table_name TEXT NOT NULL, "
      "dataset_id TEXT NOT NULL DEFAULT '', token INTEGER NOT NULL, PRIMARY KEY (shadow_table_name, dataset_id));",
      schema.c_str(), schema.c_str()), err);
}

int ensure_schema(Table* t, std::string* err) {
  int rc = exec_sql(t->db, string_printf(
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
    bool present = false, ours = false;
    {
      Stmt st(t->db, string_printf("SELECT sql FROM \"%w\".sqlite_schema WHERE type='trigger' AND name=?1",
                                   t->schema.c_str()));
      rc = st.rc();
      if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, tname.c_str(), -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) == SQLITE_ROW) {
          present = true;
          const unsigned char* sql = sqlite3_column_text(st, 0);
          ours = sql && std::strstr(reinterpret_cast<const char*>(sql), "vecsqlite trigger v2") != nullptr;
        }
      }
    }
    if (rc == SQLITE_OK && present && !ours) {
      rc = exec_sql(t->db, string_printf("DROP TRIGGER \"%w\".\"%w\"", t->schema.c_str(), tname.c_str()), err);
    }
    if (rc != SQLITE_OK || (present && ours)) continue;
    rc = exec_sql(t->db, string_printf(
        "CREATE TRIGGER IF NOT EXISTS \"%w\".\"%w\" AFTER %s ON \"%w\"\nBEGIN\n  -- vecsqlite trigger v2\n%sEND",
        t->schema.c_str(), tname.c_str(), s.event, t->data_table.c_str(), trigger_body(t->shadow, s.rows).c_str()), err);
  }
  return rc;
}

bool triggers_present(Table* t) {
  Stmt st(t->db, string_printf(
      "SELECT count(*) FROM \"%w\".sqlite_schema WHERE type = 'trigger' AND tbl_name = ?1 "
      "AND name IN (?2 || '_ins', ?2 || '_upd', ?2 || '_del') AND sql LIKE '%%vecsqlite trigger v2%%'",
      t->schema.c_str()));
  if (!st.ok()) return false;
  const std::string base = trigger_base(t->shadow);
  sqlite3_bind_text(st, 1, t->data_table.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, base.c_str(), -1, SQLITE_TRANSIENT);
  return sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 3;
}

namespace {
int read_token_with(sqlite3_stmt* st, const std::string& shadow, const std::string& dataset, int64_t* out) {
  sqlite3_bind_text(st, 1, shadow.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, dataset.c_str(), int(dataset.size()), SQLITE_TRANSIENT);
  const int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    *out = sqlite3_column_int64(st, 0);
    return SQLITE_OK;
  }
  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}
std::string token_sql(const std::string& schema) {
  return string_printf("SELECT token FROM \"%w\".vector_storage_gen WHERE shadow_table_name=?1 AND dataset_id=?2",
                       schema.c_str());
}
}  // namespace

int read_token(sqlite3* db, const std::string& schema, const std::string& shadow, const std::string& dataset,
               int64_t* out) {
  *out = 0;
  Stmt st(db, token_sql(schema));
  if (!st.ok()) return st.rc();
  return read_token_with(st, shadow, dataset, out);
}

int read_token(Table* t, const std::string& dataset, int64_t* out) {
  *out = 0;
  sqlite3_stmt* st = nullptr;
  int rc = t->stmts.get(t->db, token_sql(t->schema), &st);
  if (rc != SQLITE_OK) return rc;
  rc = read_token_with(st, t->shadow, dataset, out);
  sqlite3_reset(st);  // never left active: it would hold the read transaction open
  return rc;
}

void store_blob(sqlite3* db, const std::string& schema, const std::string& shadow, const std::string& dataset,
                const std::vector<uint8_t>& blob) {
  Stmt st(db, string_printf(
      "INSERT OR REPLACE INTO \"%w\".vector_storage(shadow_table_name, dataset_id, \"index\") VALUES (?1, ?2, ?3)",
      schema.c_str()));
  if (!st.ok()) return;
  sqlite3_bind_text(st, 1, shadow.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, dataset.c_str(), int(dataset.size()), SQLITE_TRANSIENT);
  sqlite3_bind_blob64(st, 3, blob.data(), blob.size(), SQLITE_STATIC);
  if (sqlite3_step(st) == SQLITE_DONE) g_blob_writes.add();
}

std::string written_rows_sql(const Table* t) {
  return string_printf(
      "SELECT rowid, id, embedding FROM \"%w\".\"%w\" WHERE dataset_id = ?2 AND (rowid = ?1 OR id = ?3) "
      "AND embedding IS NOT NULL",
      t->schema.c_str(), t->data_table.c_str());
}

bool rowids_by_id(sqlite3* db, const std::string& schema, const std::string& table, const std::string& dataset,
                  std::unordered_map<std::string, int64_t>* out) {
  Stmt q(db, string_printf("SELECT rowid, id FROM \"%w\".\"%w\" WHERE dataset_id=?1", schema.c_str(), table.c_str()));
  if (!q.ok()) return false;
  sqlite3_bind_text(q, 1, dataset.c_str(), int(dataset.size()), SQLITE_TRANSIENT);
  while (sqlite3_step(q) == SQLITE_ROW) {
    if (sqlite3_column_type(q, 1) != SQLITE_NULL) (*out)[column_string(q, 1)] = sqlite3_column_int64(q, 0);
  }
  return true;
}

std::string scan_sql(const Table* t, bool by_id, const std::string& collation) {
  if (collation.empty()) {
    return string_printf("SELECT rowid, id FROM \"%w\".\"%w\" WHERE dataset_id = ?1%s ORDER BY rowid",
                         t->schema.c_str(), t->data_table.c_str(), by_id ? " AND id = ?2" : "");
  }
  return string_printf("SELECT rowid, id, dataset_id FROM \"%w\".\"%w\" WHERE dataset_id = ?1 COLLATE \"%w\"%s ORDER BY rowid",
                       t->schema.c_str(), t->data_table.c_str(), collation.c_str(), by_id ? " AND id = ?2" : "");
}

}  // namespace vec
}  // namespace vecsqlite
