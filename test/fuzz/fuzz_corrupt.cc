// Fuzz target: databases whose vec0 shadow tables and `vec` index blobs are damaged. Three
// tables make three families: `t` (plain vec0), `u` (vec0 with a text key, a partition key,
// metadata and an auxiliary column) and `v` (a `vec` table with a saved index, and vec_admin).
// Each family's database is built once, and a database holding all three. An input picks one
// (bits 1-3 of its first byte: 7 means all three, otherwise the value modulo 3 names the
// family), deserializes a copy, damages it (replaces, truncates, bit-flips or deletes shadow
// values and rows, or flips bytes of the file image itself), then reads and writes the chosen
// tables on the damaged copy, twice. One family per input costs about a third of all three
// (SQLite's parse of the schema and of every statement dominates an input), and the families
// share nothing but the connection.
// Property: errors, never a crash, hang or sanitizer report.
#include <algorithm>

#include "fuzz_common.h"

namespace {

constexpr int kFamilies = 3;  // t, u, v; index kFamilies is "all three"
std::vector<unsigned char> g_image[kFamilies + 1];
// Each input's copy of the image lives in this one buffer, reused from input to input (a fresh
// sqlite3_malloc of the image per input, over ASan's 128 KB size-class limit, was mapped,
// page-faulted and unmapped every time: about a tenth of an input). It is kSlack larger than
// the image so the copy can grow as a resizeable one would; no input gets near that
// (SQLITE_LIMIT_LENGTH is 1 MB and an input makes a bounded number of writes), and if one did
// it would get SQLITE_FULL, an error like any other here.
constexpr size_t kSlack = size_t(32) << 20;
unsigned char* g_buf = nullptr;

struct Target {
  const char* table;
  const char* column;
};
// The family of a shadow table or query: its first letter names it ('t', 'u'; the rest is `v`).
int family_of(const char* name) { return name[0] == 't' ? 0 : name[0] == 'u' ? 1 : 2; }
const Target kTargets[] = {
    {"t_chunks", "validity"},          {"t_chunks", "rowids"},           {"t_chunks", "chunk_id"},
    {"t_chunks", "size"},              {"t_vector_chunks00", "vectors"}, {"t_vector_chunks00", "rowid"},
    {"t_rowids", "chunk_id"},          {"t_rowids", "chunk_offset"},     {"t_rowids", "id"},
    {"t_rowids", "rowid"},             {"t_info", "value"},              {"u_chunks", "validity"},
    {"u_chunks", "rowids"},            {"u_chunks", "partition00"},      {"u_rowids", "id"},
    {"u_rowids", "chunk_offset"},      {"u_vector_chunks00", "vectors"}, {"u_metadatachunks00", "data"},
    {"u_metadatachunks01", "data"},    {"u_metadatatext01", "data"},     {"u_auxiliary", "value00"},
    {"vector_storage", "\"index\""},   {"vector_storage_gen", "token"},  {"_vec_v", "embedding"},
    {"_vec_v", "dataset_id"},          {"u_metadatachunks02", "data"},   {"t_vector_chunks01", "vectors"},
};
constexpr size_t kNT = sizeof(kTargets) / sizeof(kTargets[0]);

const char* const kQueries[] = {
    "select count(*) from t",
    "select rowid, vec_to_json(a), vec_to_json(b) from t",
    "select rowid, distance from t where a match '[0.5, 0.5, 0.5, 0.5]' and k = 5",
    "select rowid, distance from t where b match vec_int8('[1, -1]') and k = 3",
    "select * from t where rowid = 7",
    "insert into t(rowid, a, b) values (1000, '[1, 1, 1, 1]', vec_int8('[2, 2]'))",
    "delete from t where rowid in (3, 4)",
    "update t set a = '[9, 9, 9, 9]' where rowid = 5",
    "select count(*) from u",
    "select id, p, m0, m1, m2, x from u",
    "select id, distance from u where e match '[1, 0]' and k = 4 and p = 'p1'",
    "select id, distance from u where e match '[1, 0]' and k = 4 and m0 >= 2 and m1 != 'text-1'",
    "select id, distance from u where e match '[1, 0]' and k = 4 and m2 = 1",
    "select * from u where id = 'k3'",
    "insert into u(id, p, e, m0, m1, m2, x) values ('new', 'p1', '[0, 1]', 5, 'a much longer text value here', 1, 'x')",
    "delete from u where id = 'k5'",
    "update u set m1 = 'changed', x = 'y' where id = 'k6'",
    "select doc_id, match_score from v where dataset_id = 'A' and doc_id match '[1, 0, 0]' limit 5",
    "select doc_id from v where dataset_id = 'A'",
    "insert into _vec_v(dataset_id, id, embedding) values ('A', 'zz', vec_f32('[0, 0, 1]'))",
    "select op from vec_admin where op match 'main._vec_v:A'",
    "select doc_id, match_score from v where dataset_id = 'A' and doc_id match '[0, 1, 0]' limit 3",
};

constexpr size_t kNQ = sizeof(kQueries) / sizeof(kQueries[0]);

// The family a query reads or writes: the first letter of the table it names.
int query_family(const char* q) {
  for (const char* kw : {" from ", "insert into ", "update "}) {
    if (const char* at = std::strstr(q, kw)) return family_of(at + std::strlen(kw));
  }
  return 2;
}

// The database of family f (kFamilies: all three): its tables, filled with 20 rows each.
std::vector<unsigned char> build_image(int f) {
  const bool all = f == kFamilies;
  sqlite3* db = fuzz::open();
  std::string sql;
  if (all || f == 0) sql += "create virtual table t using vec0(a float[4], b int8[2], chunk_size=8);";
  if (all || f == 1)
    sql += "create virtual table u using vec0(id text primary key, p text partition key, e float[2], m0 integer, "
           "m1 text, m2 boolean, +x text, chunk_size=8);";
  if (all || f == 2) sql += "create virtual table v using vec(doc_id);create virtual table vec_admin using vec_admin(op);";
  for (int i = 1; i <= 20; i++) {
    if (all || f == 0)
      sql += "insert into t(rowid, a, b) values (" + std::to_string(i) + ", '[" + std::to_string(i) + ", 1, 0, " +
             std::to_string(i % 3) + "]', vec_int8('[" + std::to_string(i % 5) + ", -1]'));";
    if (all || f == 1)
      sql += "insert into u(id, p, e, m0, m1, m2, x) values ('k" + std::to_string(i) + "', 'p" + std::to_string(i % 2) +
             "', '[" + std::to_string(i) + ", 1]', " + std::to_string(i % 4) + ", '" +
             (i % 3 ? "text-" + std::to_string(i % 3) : std::string("a text longer than twelve bytes")) + "', " +
             std::to_string(i % 2) + ", 'aux');";
    if (all || f == 2)
      sql += "insert into _vec_v(dataset_id, id, embedding) values ('A', 'd" + std::to_string(i) + "', vec_f32('[" +
             std::to_string(i) + ", 1, " + std::to_string(i % 4) + "]'));";
  }
  if (all || f == 2) sql += "select op from vec_admin where op match 'main._vec_v:A';";
  if (fuzz::exec(db, sql) != SQLITE_OK) {
    std::fprintf(stderr, "setup: %s\n", sqlite3_errmsg(db));
    std::abort();
  }
  if (all || f == 2) fuzz::run(db, "select doc_id from v where dataset_id = 'A' and doc_id match '[1, 0, 0]' limit 1");
  sqlite3_int64 n = 0;
  unsigned char* img = sqlite3_serialize(db, "main", &n, 0);
  std::vector<unsigned char> out(img, img + n);
  sqlite3_free(img);
  sqlite3_close(db);
  return out;
}

// Per family: the damage targets and the queries that belong to it.
std::vector<const Target*> g_targets[kFamilies + 1];
std::vector<const char*> g_queries[kFamilies + 1];

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  size_t largest = 0;
  for (int f = 0; f <= kFamilies; f++) {
    g_image[f] = build_image(f);
    largest = std::max(largest, g_image[f].size());
    for (const Target& t : kTargets)
      if (f == kFamilies || family_of(t.table) == f) g_targets[f].push_back(&t);
    for (const char* q : kQueries)
      if (f == kFamilies || query_family(q) == f) g_queries[f].push_back(q);
  }
  // Every query and target belongs to exactly one family.
  FUZZ_CHECK(g_targets[0].size() + g_targets[1].size() + g_targets[2].size() == kNT, "targets by family");
  FUZZ_CHECK(g_queries[0].size() + g_queries[1].size() + g_queries[2].size() == kNQ, "queries by family");
  g_buf = new unsigned char[largest + kSlack];
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 2000) return 0;
  fuzz::Input in{data, size};
  const uint8_t mode = in.u8();
  const int pick = (mode >> 1) & 7;
  const int fam = pick == 7 ? kFamilies : pick % kFamilies;
  const std::vector<const Target*>& targets = g_targets[fam];
  const size_t n = g_image[fam].size();
  unsigned char* img = g_buf;
  std::memcpy(img, g_image[fam].data(), n);
  if (mode & 1) {  // flip bytes of the file image (pages past the header)
    for (int i = 0; i < 8 && !in.empty(); i++) {
      const size_t at = 100 + (static_cast<size_t>(in.u16()) * 131 + in.u8()) % (n - 100);
      img[at] ^= in.u8();
    }
  }
  // A new connection each time (deserializing into a used connection leaves SQLite's
  // eponymous tables pointing at the replaced schema).
  sqlite3* db = fuzz::open();
  int rc = sqlite3_deserialize(db, "main", img, static_cast<sqlite3_int64>(n), static_cast<sqlite3_int64>(n + kSlack), 0);
  if (rc != SQLITE_OK) {
    sqlite3_close(db);
    return 0;
  }
  sqlite3_limit(db, SQLITE_LIMIT_LENGTH, 1 << 20);
  // Another test's cached `vec` index for the same names must not hide this copy's blobs.
  if (fam >= 2) fuzz::run(db, "select vec_invalidate('main._vec_v', '')");
  // Damage (plain SQLite connection: shadow tables are writable outside defensive mode).
  while (!in.empty()) {
    const Target& t = *targets[in.u8() % targets.size()];
    const uint8_t how = in.u8();
    const std::string where = (how & 0x80) ? "" : " where rowid = " + std::to_string(in.u8() % 24 + 1);
    std::string sql;
    sqlite3_stmt* st = nullptr;
    switch (how & 7) {
      case 0: sql = std::string("update ") + t.table + " set " + t.column + " = ?" + where; break;
      case 1: sql = std::string("update ") + t.table + " set " + t.column + " = substr(" + t.column + ", 1, ?)" + where; break;
      case 2: sql = std::string("delete from ") + t.table + where; break;
      case 3: sql = std::string("update ") + t.table + " set " + t.column + " = NULL" + where; break;
      case 4: sql = std::string("update ") + t.table + " set " + t.column + " = " + t.column + " + ?" + where; break;
      default: {  // flip one byte of the value
        sql = std::string("update ") + t.table + " set " + t.column + " = ?2" + where;
        sqlite3_stmt* rd = nullptr;
        const std::string q = std::string("select ") + t.column + " from " + t.table + where;
        if (sqlite3_prepare_v2(db, q.c_str(), -1, &rd, nullptr) == SQLITE_OK && sqlite3_step(rd) == SQLITE_ROW) {
          std::string b(static_cast<const char*>(sqlite3_column_blob(rd, 0)) ? static_cast<const char*>(sqlite3_column_blob(rd, 0)) : "",
                        static_cast<size_t>(sqlite3_column_bytes(rd, 0)));
          if (!b.empty()) b[in.u16() % b.size()] ^= static_cast<char>(in.u8() | 1);
          sqlite3_finalize(rd);
          if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK) {
            sqlite3_bind_blob(st, 2, b.data(), static_cast<int>(b.size()), SQLITE_TRANSIENT);
            fuzz::drain(st);
          }
          sqlite3_finalize(st);
        } else {
          sqlite3_finalize(rd);
        }
        continue;
      }
    }
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK) {
      const uint8_t len = in.u8();
      if (sqlite3_bind_parameter_count(st) >= 1) {
        if ((how & 7) == 0) {
          if (len & 1) sqlite3_bind_int64(st, 1, static_cast<int8_t>(in.u8()));
          else sqlite3_bind_blob(st, 1, in.p, static_cast<int>(std::min<size_t>(len >> 1, in.n)), SQLITE_TRANSIENT);
          in.bytes(len >> 1);
        } else {
          sqlite3_bind_int(st, 1, static_cast<int8_t>(len));
        }
      }
      fuzz::drain(st);
    }
    sqlite3_finalize(st);
  }
  for (const char* q : g_queries[fam]) fuzz::run(db, q);
  for (const char* q : g_queries[fam]) fuzz::run(db, q);  // again, after whatever the first round changed
  // Closed for good (every statement is finalized): the next input reuses the buffer.
  FUZZ_CHECK(sqlite3_close(db) == SQLITE_OK, "close: %s", sqlite3_errmsg(db));
  return 0;
}
