// Fuzz target: the dataset-aware `vec` table's plan decoding and xFilter (decode_plan, then the
// scan or MATCH path that consumes argv by the plan's bits), called with any idxNum, idxStr and
// arguments of every SQLite type, on a table holding two datasets (one with a graph index).
// Properties: no crash or out-of-bounds read whatever the plan and arguments; an accepted MATCH
// returns rows of the named dataset only, best first, at most LIMIT + OFFSET of them.
#include "fuzz_common.h"
#include "sqlite/vec/vec_int.h"

namespace {
sqlite3* g_db = nullptr;
vecsqlite::vec::Table* g_plain = nullptr;  // v: exact scans
vecsqlite::vec::Table* g_graph = nullptr;  // g: index=hnsw, ann=always
constexpr size_t kNValues = 11;
sqlite3_value* g_values[kNValues];

vecsqlite::vec::Table* find(const char* name) {
  std::lock_guard<std::mutex> lock(vecsqlite::vec::registry_mu());
  for (vecsqlite::vec::Table* t : vecsqlite::vec::registry())
    if (t->db == g_db && t->name == name) return t;
  return nullptr;
}
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  g_db = fuzz::open();
  fuzz::exec(g_db,
             "create virtual table v using vec(doc_id);"
             "create virtual table g using vec(doc_id, index=hnsw, m=4, ef_construction=16, ann=always);");
  std::string rows;
  for (int i = 0; i < 40; i++) {
    const char* ds = i % 3 == 0 ? "B" : "A";
    char buf[200];
    std::snprintf(buf, sizeof buf, "('%s', 'd%d', vec_f32('[%d, %d, %d]')),", ds, i, i % 5, (i * 7) % 11 - 5, i % 2 + 1);
    rows += buf;
  }
  rows.pop_back();
  fuzz::exec(g_db, "insert into _vec_v(dataset_id, id, embedding) values " + rows);
  fuzz::exec(g_db, "insert into _vec_g(dataset_id, id, embedding) values " + rows);
  // Connect both tables (and build their indexes) through ordinary queries.
  fuzz::run(g_db, "select * from v where dataset_id = 'A' and doc_id match vec_f32('[1, 0, 0]') limit 3");
  fuzz::run(g_db, "select * from g where dataset_id = 'A' and doc_id match vec_f32('[1, 0, 0]') limit 3");
  g_plain = find("v");
  g_graph = find("g");
  if (g_plain == nullptr || g_graph == nullptr) {
    std::fprintf(stderr, "the vec tables are not connected\n");
    std::abort();
  }
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(g_db,
                     "select null, 'A', 'B', 3, -1, 2.5, vec_f32('[1, 0, 0]'), vec_f32('[1, 0]'), x'0000c07f0000803f00000000', "
                     "'[0.5, 0.5, 1]', 1e308",
                     -1, &st, nullptr);
  sqlite3_step(st);
  for (size_t i = 0; i < kNValues; i++) g_values[i] = sqlite3_value_dup(sqlite3_column_value(st, static_cast<int>(i)));
  sqlite3_finalize(st);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Input in{data, size};
  vecsqlite::vec::Table* t = (in.u8() & 1) ? g_graph : g_plain;
  const int idxNum = static_cast<int>(in.u8()) | (static_cast<int>(in.u8() & 3) << 8);
  const int argc = in.u8() % 9;
  std::vector<sqlite3_value*> argv;
  for (int i = 0; i < argc; i++) argv.push_back(g_values[in.u8() % kNValues]);
  const bool null_str = (in.u8() & 3) != 0;
  const std::string idx = in.rest();
  sqlite3_vtab_cursor* cur = nullptr;
  if (vecsqlite::vec::cursor_open(&t->base, &cur) != SQLITE_OK) return 0;
  cur->pVtab = &t->base;
  const int rc = vecsqlite::vec::cursor_filter(cur, idxNum, null_str ? nullptr : idx.c_str(), argc, argv.data());
  if (rc == SQLITE_OK) {
    const vecsqlite::vec::Plan plan = vecsqlite::vec::decode_plan(idxNum, null_str ? nullptr : idx.c_str());
    size_t rows = 0;
    double last = 2;
    while (!vecsqlite::vec::cursor_eof(cur) && rows < 100) {
      sqlite3_int64 rowid = 0;
      vecsqlite::vec::cursor_rowid(cur, &rowid);
      if (plan.match) {
        const auto* c = reinterpret_cast<const vecsqlite::vec::Cursor*>(cur);
        const vecsqlite::vec::Hit& h = c->hits[c->pos];
        FUZZ_CHECK(h.score <= last, "MATCH rows out of order: %f after %f", h.score, last);
        last = h.score;
        FUZZ_CHECK(!h.id.empty() && h.id[0] == 'd', "MATCH row without its id");
        const int n = std::atoi(h.id.c_str() + 1);
        FUZZ_CHECK((n % 3 == 0) == (c->dataset == "B"), "row %s is not of dataset %s", h.id.c_str(), c->dataset.c_str());
      }
      if (vecsqlite::vec::cursor_next(cur) != SQLITE_OK) break;
      rows++;
    }
  }
  sqlite3_free(t->base.zErrMsg);
  t->base.zErrMsg = nullptr;
  vecsqlite::vec::cursor_close(cur);
  return 0;
}
