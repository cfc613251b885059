// Fuzz target: vec0 plan decoding (decode_plan), the string xBestIndex hands to xFilter,
// against tables of several shapes, with arguments of every SQLite type.
// Properties: no crash or out-of-bounds read on any idxNum / idxStr / argc; an accepted KNN
// plan has its query vector and k, and every filter names an existing column.
#include "fuzz_common.h"
#include "sqlite/vec0/vec0_int.h"

namespace {
sqlite3* g_db = nullptr;
sqlite3_value* g_values[7];  // protected values of each type (a plain array: alive until exit)
constexpr size_t kNValues = 7;

const char* const kConfigs[][6] = {
    {"a float[2]", nullptr},
    {"a float[2]", "b int8[4]", "p integer partition key", "m text", "+x text", nullptr},
    {"id text primary key", "q text partition key", "v bit[8]", "m1 integer", "m2 float", "m3 boolean"},
};
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  g_db = fuzz::open();
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(g_db, "select null, 7, -3.5, 'text', x'00010203', 1e308, '[1, 2]'", -1, &st, nullptr);
  sqlite3_step(st);
  for (size_t i = 0; i < kNValues; i++) g_values[i] = sqlite3_value_dup(sqlite3_column_value(st, static_cast<int>(i)));
  sqlite3_finalize(st);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Input in{data, size};
  const size_t which = in.u8() % 3;
  std::vector<const char*> argv = {"vec0", "main", "t"};
  for (const char* c : kConfigs[which]) {
    if (c == nullptr) break;
    argv.push_back(c);
  }
  vecsqlite::vec0::Table t;
  t.base = sqlite3_vtab();  // as SQLite hands it over: zeroed
  std::string err;
  if (vecsqlite::vec0::parse_config(static_cast<int>(argv.size()), argv.data(), &t.cfg, &err) != SQLITE_OK) {
    std::fprintf(stderr, "config %zu: %s\n", which, err.c_str());
    std::abort();
  }
  const int idxNum = static_cast<int8_t>(in.u8());
  const int argc = in.u8() % 12;
  std::vector<sqlite3_value*> argv_v;
  for (int i = 0; i < argc; i++) argv_v.push_back(g_values[in.u8() % kNValues]);
  const bool null_str = (in.u8() & 15) == 0;
  std::string idx = in.rest();
  vecsqlite::vec0::Plan plan;
  const int rc = vecsqlite::vec0::decode_plan(&t, idxNum, null_str ? nullptr : idx.c_str(), argc, argv_v.data(), &plan);
  sqlite3_free(t.base.zErrMsg);
  t.base.zErrMsg = nullptr;
  if (rc == SQLITE_OK && plan.kind == vecsqlite::vec0::Plan::Kind::knn) {
    FUZZ_CHECK(plan.query != nullptr && plan.k != nullptr, "KNN plan without query or k");
    FUZZ_CHECK(plan.column >= 0 && plan.column < static_cast<int>(t.cfg.vcols.size()), "column %d", plan.column);
    for (const auto& f : plan.filters) {
      const size_t n = f.partition ? t.cfg.pcols.size() : t.cfg.mcols.size();
      FUZZ_CHECK(f.col >= 0 && static_cast<size_t>(f.col) < n, "filter column %d of %zu", f.col, n);
    }
  }
  return 0;
}
