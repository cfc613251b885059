// Fuzz target: the vec0 CREATE VIRTUAL TABLE argument parser (parse_config, declare_sql), fed
// the arguments directly (one per line of the input), and for arguments it accepts, the whole
// CREATE through SQLite followed by an insert, a KNN query and DROP.
// Properties: no crash; an accepted configuration declares a schema SQLite accepts.
#include "fuzz_common.h"
#include "sqlite/vec0/vec0_int.h"

namespace {
sqlite3* g_db = nullptr;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  g_db = fuzz::open();  // also binds the extension's routine table
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;
  std::vector<std::string> args = {"vec0", "main", "t"};
  std::string cur;
  for (size_t i = 0; i < size; i++) {
    if (data[i] == '\n') {
      args.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(static_cast<char>(data[i]));
    }
  }
  args.push_back(cur);
  if (args.size() > 40) return 0;
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());  // stops at an embedded NUL, as SQLite's would
  vecsqlite::vec0::Config cfg;
  std::string err;
  const int rc = vecsqlite::vec0::parse_config(static_cast<int>(argv.size()), argv.data(), &cfg, &err);
  if (rc != SQLITE_OK) {
    FUZZ_CHECK(!err.empty(), "parse_config failed without a message");
    return 0;
  }
  const std::string decl = vecsqlite::vec0::declare_sql(cfg, "t");
  FUZZ_CHECK(!decl.empty(), "empty declaration");

  // The same arguments through SQLite: module arguments are separated by commas, so only
  // argument lists without commas, NULs or parentheses round-trip; others stop here.
  std::string joined;
  for (size_t i = 3; i < args.size(); i++) {
    if (args[i].find_first_of(std::string(",()\0;", 5)) != std::string::npos) return 0;
    joined += (i > 3 ? "," : "") + args[i];
  }
  if (fuzz::exec(g_db, "create virtual table t using vec0(" + joined + ")") == SQLITE_OK) {
    if (!cfg.vcols.empty()) {
      const auto& v = cfg.vcols[0];
      std::string vec = v.type == vecsqlite::Dtype::u1 ? "vec_bit(zeroblob(" + std::to_string(v.nbytes()) + "))"
                        : v.type == vecsqlite::Dtype::i8 ? "vec_int8(zeroblob(" + std::to_string(v.dims) + "))"
                                                          : "zeroblob(" + std::to_string(v.nbytes()) + ")";
      fuzz::run(g_db, "insert into t(rowid, \"" + v.name + "\") values (1, " + vec + ")");
      fuzz::run(g_db, "select * from t where \"" + v.name + "\" match " + vec + " and k = 3");
      fuzz::run(g_db, "select * from t");
    }
    fuzz::exec(g_db, "drop table t");
  }
  // Whatever happened, no table t may be left behind.
  fuzz::exec(g_db, "drop table if exists t");
  return 0;
}
