// Fuzz target: sequences of vec0 writes, reads, transactions, savepoints and reopenings,
// checked step by step against a simple in-memory model (a map from rowid to row).
// Table: vec0(p integer partition key, e float[3], m integer, +a text, chunk_size=8) in an
// in-memory database (reopening makes a new connection load it from its shadow tables).
// Properties: every statement the model says is valid succeeds and every duplicate insert
// fails; count(*), point lookups, full scans and KNN (distances and filters, against brute
// force) agree with the model after every step, before and after commits, rollbacks and reopens.
#include <algorithm>
#include <cmath>
#include <map>

#include "fuzz_common.h"

namespace {

struct Row {
  float v[3];
  int64_t p, m;
  std::string a;
  bool operator==(const Row& o) const {
    return std::memcmp(v, o.v, sizeof v) == 0 && p == o.p && m == o.m && a == o.a;
  }
};
using Model = std::map<int64_t, Row>;

// Each input starts from the image of a database holding the empty table (built once, see
// LLVMFuzzerInitialize) deserialized into a fresh in-memory connection; rarely (see
// fresh_table) the table is created and dropped in the connection instead, so xCreate and
// xDestroy stay covered. "Reopening" serializes the database, deserializes it into a new
// connection (which loads the table from its shadow tables) and closes the old one. Every
// connection is closed by the end of the input: nothing of the extension outlives an input.
const char* const kCreate =
    "create virtual table t using vec0(p integer partition key, e float[3], m integer, +a text, chunk_size=8)";
std::vector<unsigned char> g_image;  // the database with the empty table
sqlite3* g_db = nullptr;

// The statements this harness runs repeatedly, prepared once per connection and reset after
// each use (what is checked is the same; only SQLite's parse of identical SQL is saved).
std::vector<std::pair<std::string, sqlite3_stmt*>> g_stmts;

void must(int rc, const char* what) {
  FUZZ_CHECK(rc == SQLITE_DONE || rc == SQLITE_OK, "%s: %s", what, sqlite3_errmsg(g_db));
}

// A new connection on a private in-memory copy of `image` (handed over to SQLite).
sqlite3* open_image(unsigned char* image, sqlite3_int64 n) {
  sqlite3* db = fuzz::open();
  FUZZ_CHECK(sqlite3_deserialize(db, "main", image, n, n, SQLITE_DESERIALIZE_FREEONCLOSE | SQLITE_DESERIALIZE_RESIZEABLE) ==
                 SQLITE_OK,
             "deserialize: %s", sqlite3_errmsg(db));
  return db;
}

void close_db() {
  for (auto& s : g_stmts) sqlite3_finalize(s.second);
  g_stmts.clear();
  FUZZ_CHECK(sqlite3_close(g_db) == SQLITE_OK, "close: %s", sqlite3_errmsg(g_db));
  g_db = nullptr;
}

// Closes the connection and reopens the database it leaves behind.
void reopen() {
  sqlite3_int64 n = 0;
  unsigned char* image = sqlite3_serialize(g_db, "main", &n, 0);
  FUZZ_CHECK(image != nullptr, "serialize: %s", sqlite3_errmsg(g_db));
  sqlite3* next = open_image(image, n);
  close_db();
  g_db = next;
}

// The cached statement for `sql`, reset and without bindings. Callers call done() after use.
sqlite3_stmt* prep(const std::string& sql) {
  for (auto& s : g_stmts) {
    if (s.first == sql) return s.second;
  }
  sqlite3_stmt* st = nullptr;
  FUZZ_CHECK(sqlite3_prepare_v2(g_db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK, "prepare %s: %s", sql.c_str(),
             sqlite3_errmsg(g_db));
  g_stmts.emplace_back(sql, st);
  return st;
}

void done(sqlite3_stmt* st) {
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
}

// Runs a statement without parameters (transaction control) through the statement cache.
void ctl(const std::string& sql, const char* what) {
  sqlite3_stmt* st = prep(sql);
  const int rc = sqlite3_step(st);
  sqlite3_reset(st);
  must(rc, what);
}

float l2(const float* a, const float* b) {
  float s = 0;
  for (int j = 0; j < 3; j++) s += (a[j] - b[j]) * (a[j] - b[j]);
  return std::sqrt(s);
}

void check_all(const Model& model, const char* when) {
  sqlite3_stmt* st = prep("select count(*) from t");
  FUZZ_CHECK(sqlite3_step(st) == SQLITE_ROW, "count %s: %s", when, sqlite3_errmsg(g_db));
  FUZZ_CHECK(sqlite3_column_int64(st, 0) == static_cast<int64_t>(model.size()), "count %s: %lld, model %zu", when,
             static_cast<long long>(sqlite3_column_int64(st, 0)), model.size());
  done(st);
  st = prep("select rowid, p, m, a, e from t order by rowid");
  auto it = model.begin();
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    FUZZ_CHECK(it != model.end(), "scan %s: extra row %lld", when, static_cast<long long>(sqlite3_column_int64(st, 0)));
    Row r;
    r.p = sqlite3_column_int64(st, 1);
    r.m = sqlite3_column_int64(st, 2);
    r.a = reinterpret_cast<const char*>(sqlite3_column_text(st, 3));
    FUZZ_CHECK(sqlite3_column_bytes(st, 4) == 12, "vector bytes");
    std::memcpy(r.v, sqlite3_column_blob(st, 4), 12);
    FUZZ_CHECK(sqlite3_column_int64(st, 0) == it->first && r == it->second, "scan %s: row %lld differs", when,
               static_cast<long long>(it->first));
    ++it;
  }
  FUZZ_CHECK(rc == SQLITE_DONE && it == model.end(), "scan %s: %s, %s", when, sqlite3_errmsg(g_db),
             it == model.end() ? "complete" : "rows missing");
  done(st);
}

void check_knn(const Model& model, const float* q, int k, int filter, int64_t x) {
  static const char* const kFilter[] = {"", " and p = ?3", " and m >= ?3", " and m != ?3"};
  sqlite3_stmt* st = prep(std::string("select rowid, distance from t where e match ?1 and k = ?2") + kFilter[filter]);
  sqlite3_bind_blob(st, 1, q, 12, SQLITE_TRANSIENT);
  sqlite3_bind_int(st, 2, k);
  if (filter) sqlite3_bind_int64(st, 3, x);
  auto keep = [&](const Row& r) {
    return filter == 0 || (filter == 1 && r.p == x) || (filter == 2 && r.m >= x) || (filter == 3 && r.m != x);
  };
  std::vector<float> want;
  for (const auto& e : model)
    if (keep(e.second)) want.push_back(l2(e.second.v, q));
  std::sort(want.begin(), want.end());
  if (want.size() > static_cast<size_t>(k)) want.resize(static_cast<size_t>(k));
  size_t i = 0;
  int rc;
  double last = -1;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const int64_t id = sqlite3_column_int64(st, 0);
    const double d = sqlite3_column_double(st, 1);
    auto it = model.find(id);
    FUZZ_CHECK(it != model.end(), "knn returned absent rowid %lld", static_cast<long long>(id));
    FUZZ_CHECK(keep(it->second), "knn row %lld fails filter %d", static_cast<long long>(id), filter);
    const double tol = 1e-4 * std::max(1.0, d);
    FUZZ_CHECK(std::fabs(d - l2(it->second.v, q)) <= tol, "knn distance of %lld: %g, expected %g", static_cast<long long>(id),
               d, l2(it->second.v, q));
    FUZZ_CHECK(d + tol >= last, "knn order");
    FUZZ_CHECK(i < want.size() && std::fabs(d - want[i]) <= tol, "knn rank %zu: %g, brute force %g", i, d,
               i < want.size() ? want[i] : -1.0f);
    last = d;
    i++;
  }
  FUZZ_CHECK(rc == SQLITE_DONE, "knn: %s", sqlite3_errmsg(g_db));
  FUZZ_CHECK(i == want.size(), "knn returned %zu rows, brute force %zu", i, want.size());
  done(st);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // A transaction that has inserted 3 rows, and at least as many as the table held, defers
  // its further rows' vectors (the cache is rebuilt at the next read): small enough that
  // inputs take both paths and every mix of them with deletes, updates and savepoints.
  setenv("VECSQLITE_DEFER_ROWS", "3", 1);
  sqlite3* db = fuzz::open();
  if (fuzz::exec(db, kCreate) != SQLITE_OK) {
    std::fprintf(stderr, "setup: %s\n", sqlite3_errmsg(db));
    std::abort();
  }
  sqlite3_int64 n = 0;
  unsigned char* img = sqlite3_serialize(db, "main", &n, 0);
  g_image.assign(img, img + n);
  sqlite3_free(img);
  sqlite3_close(db);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 600) return 0;
  fuzz::Input in{data, size};
  // One input in 16 (by length, so the op stream is unchanged) creates the table in a new
  // connection, drops it and creates it again, as every input once did.
  const bool fresh_table = size % 16 == 0;
  if (fresh_table) {
    g_db = fuzz::open();
    must(fuzz::exec(g_db, kCreate), "create");
    must(fuzz::exec(g_db, "drop table t"), "drop");
    must(fuzz::exec(g_db, kCreate), "create");
  } else {
    unsigned char* img = static_cast<unsigned char*>(sqlite3_malloc64(g_image.size()));
    FUZZ_CHECK(img != nullptr, "out of memory");
    std::memcpy(img, g_image.data(), g_image.size());
    g_db = open_image(img, static_cast<sqlite3_int64>(g_image.size()));
  }
  Model model;
  std::vector<Model> stack;  // [0]: at BEGIN; then one per open savepoint
  bool in_txn = false;
  while (!in.empty()) {
    const int op = in.u8() % 14;
    switch (op) {
      case 0:
      case 1: {
        const int64_t id = in.u8() % 40 + 1;
        Row r;
        r.p = in.u8() % 3;
        for (float& f : r.v) f = static_cast<int8_t>(in.u8()) / 8.0f;
        r.m = in.u8() % 7;
        r.a = "a" + std::to_string(in.u8() % 5);
        sqlite3_stmt* st = prep("insert into t(rowid, p, e, m, a) values (?, ?, ?, ?, ?)");
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, r.p);
        sqlite3_bind_blob(st, 3, r.v, 12, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 4, r.m);
        sqlite3_bind_text(st, 5, r.a.c_str(), -1, SQLITE_TRANSIENT);
        const int rc = sqlite3_step(st);
        done(st);
        if (model.count(id)) {
          FUZZ_CHECK(rc != SQLITE_DONE, "duplicate rowid %lld accepted", static_cast<long long>(id));
        } else {
          must(rc, "insert");
          model[id] = r;
        }
        break;
      }
      case 2: {
        const int64_t id = in.u8() % 40 + 1;
        sqlite3_stmt* st = prep("delete from t where rowid = ?");
        sqlite3_bind_int64(st, 1, id);
        must(sqlite3_step(st), "delete");
        done(st);
        model.erase(id);
        break;
      }
      case 3: {
        const int64_t id = in.u8() % 40 + 1;
        float v[3];
        for (float& f : v) f = static_cast<int8_t>(in.u8()) / 8.0f;
        sqlite3_stmt* st = prep("update t set e = ? where rowid = ?");
        sqlite3_bind_blob(st, 1, v, 12, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, id);
        must(sqlite3_step(st), "update e");
        done(st);
        auto it = model.find(id);
        if (it != model.end()) std::memcpy(it->second.v, v, sizeof v);
        break;
      }
      case 4: {
        const int64_t id = in.u8() % 40 + 1, m = in.u8() % 7;
        const std::string a = "b" + std::to_string(in.u8() % 5);
        sqlite3_stmt* st = prep("update t set m = ?, a = ? where rowid = ?");
        sqlite3_bind_int64(st, 1, m);
        sqlite3_bind_text(st, 2, a.c_str(), -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 3, id);
        must(sqlite3_step(st), "update m, a");
        done(st);
        auto it = model.find(id);
        if (it != model.end()) {
          it->second.m = m;
          it->second.a = a;
        }
        break;
      }
      case 5:
      case 6: {
        float q[3];
        for (float& f : q) f = static_cast<int8_t>(in.u8()) / 8.0f;
        const int k = in.u8() % 12 + 1, filter = in.u8() % 4;
        check_knn(model, q, k, filter, in.u8() % 7);
        break;
      }
      case 7:
        check_all(model, "after a step");
        break;
      case 8: {
        const int64_t id = in.u8() % 40 + 1;
        sqlite3_stmt* st = prep("select p, m, a, e from t where rowid = ?");
        sqlite3_bind_int64(st, 1, id);
        const int rc = sqlite3_step(st);
        auto it = model.find(id);
        if (it == model.end()) {
          FUZZ_CHECK(rc == SQLITE_DONE, "point lookup of absent %lld: %s", static_cast<long long>(id), sqlite3_errmsg(g_db));
        } else {
          FUZZ_CHECK(rc == SQLITE_ROW, "point lookup of %lld: %s", static_cast<long long>(id), sqlite3_errmsg(g_db));
          FUZZ_CHECK(sqlite3_column_int64(st, 0) == it->second.p && sqlite3_column_int64(st, 1) == it->second.m &&
                         it->second.a == reinterpret_cast<const char*>(sqlite3_column_text(st, 2)) &&
                         std::memcmp(sqlite3_column_blob(st, 3), it->second.v, 12) == 0,
                     "point lookup of %lld differs", static_cast<long long>(id));
        }
        done(st);
        break;
      }
      case 9:
        if (!in_txn) {
          ctl("begin", "begin");
          stack.assign(1, model);
          in_txn = true;
        } else if (in.u8() & 1) {
          ctl("commit", "commit");
          stack.clear();
          in_txn = false;
        } else {
          ctl("rollback", "rollback");
          model = stack[0];
          stack.clear();
          in_txn = false;
        }
        break;
      case 10:
        if (in_txn && stack.size() < 6) {
          ctl("savepoint s" + std::to_string(stack.size()), "savepoint");
          stack.push_back(model);
        }
        break;
      case 11:
        if (stack.size() > 1) {
          const std::string name = "s" + std::to_string(stack.size() - 1);
          if (in.u8() & 1) {
            ctl("rollback to " + name, "rollback to");
            model = stack.back();  // the savepoint stays open
          } else {
            ctl("release " + name, "release");
            stack.pop_back();
          }
        }
        break;
      case 12:
        if (!in_txn) reopen();
        break;
      case 13:
        check_all(model, "in a step");
        break;
    }
  }
  if (in_txn) ctl("commit", "final commit");
  check_all(model, "at the end");
  reopen();
  check_all(model, "after reopening");
  close_db();
  return 0;
}
