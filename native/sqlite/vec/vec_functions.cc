// The SQL functions of the dataset-aware module:
//   vec_cosine(a, b), vec_l2(a, b)   scalar distances over two embeddings (SIMD kernels)
//   vec_invalidate(...)              cache invalidation for `vec` tables (2 and 5 arguments)
//   vec_stats()                      the process's counters as JSON
//   vec_ef_search(table, ef)         graph search effort of an index=hnsw table, per connection
//
// vec_cosine / vec_l2:
//
// Arguments, each:  NULL or X'' -> "no vector" (the result is then NULL);
//                   BLOB -> little-endian float32 array (codec.h), length must be a multiple of 4;
//                   TEXT / INTEGER / REAL -> error, named with the original's Go type names.
// vec_cosine returns the cosine similarity a.b / (|a| |b|) (REAL, highest = most similar);
// vec_l2 returns the Euclidean distance sqrt(sum (a_i - b_i)^2).
//
// Messages (byte-identical to the original):
//   vec: invalid embedding blob length <n>
//   vec: unsupported argument type string|int64|float64 for embedding; want BLOB
//   vec: cosine dim mismatch <la> vs <lb>          vec: L2 dim mismatch <la> vs <lb>
//   vec: cosine with zero-magnitude vector
// Divergence: where the original would return NaN (an input holding NaN or Inf), SQLite would
// turn the result into NULL silently; we raise "vec: <fn> result is not a number (an embedding
// holds NaN or Inf)" instead.
#include <cmath>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "core/stats.h"
#include "kernels/kernels.h"
#include "sqlite/codec.h"
#include "sqlite/ext.h"
#include "sqlite/vec/vec_int.h"

namespace vecsqlite {
namespace {

// One decoded argument. `v == nullptr` means "no vector".
struct Arg {
  const float* v = nullptr;
  size_t dim = 0;
  std::vector<float> scratch;
};

// Decodes one argument; on error sets the context error and returns false.
bool read_arg(sqlite3_context* ctx, sqlite3_value* value, Arg* arg) {
  switch (sqlite3_value_type(value)) {
    case SQLITE_NULL:
      return true;
    case SQLITE_BLOB: {
      const int n = sqlite3_value_bytes(value);
      const void* p = sqlite3_value_blob(value);
      switch (decode_f32_le(p, size_t(n), &arg->scratch, &arg->v, &arg->dim)) {
        case DecodeStatus::ok:
        case DecodeStatus::empty:
          return true;
        case DecodeStatus::bad_length:
          result_errorf(ctx, "vec: invalid embedding blob length %d", n);
          return false;
      }
      return false;
    }
    case SQLITE_TEXT:
      sqlite3_result_error(ctx, "vec: unsupported argument type string for embedding; want BLOB", -1);
      return false;
    case SQLITE_INTEGER:
      sqlite3_result_error(ctx, "vec: unsupported argument type int64 for embedding; want BLOB", -1);
      return false;
    default:
      sqlite3_result_error(ctx, "vec: unsupported argument type float64 for embedding; want BLOB", -1);
      return false;
  }
}

// Decodes both arguments. Returns false when the result is already set: an error, or NULL
// because either side is "no vector". `what` names the function in the mismatch message.
bool read_pair(sqlite3_context* ctx, sqlite3_value** argv, const char* what, Arg* a, Arg* b) {
  if (!read_arg(ctx, argv[0], a) || !read_arg(ctx, argv[1], b)) return false;
  if (a->v == nullptr || b->v == nullptr) {
    sqlite3_result_null(ctx);
    return false;
  }
  if (a->dim != b->dim) {
    result_errorf(ctx, "vec: %s dim mismatch %d vs %d", what, int(a->dim), int(b->dim));
    return false;
  }
  return true;
}

void vec_cosine_fn(sqlite3_context* ctx, int, sqlite3_value** argv) {
  Arg a, b;
  if (!read_pair(ctx, argv, "cosine", &a, &b)) return;
  const CosParts p = kernels().cos_parts_f32(a.v, b.v, a.dim);
  if (p.aa == 0.0 || p.bb == 0.0) {
    sqlite3_result_error(ctx, "vec: cosine with zero-magnitude vector", -1);
    return;
  }
  const double sim = p.dot / (std::sqrt(p.aa) * std::sqrt(p.bb));
  if (std::isnan(sim)) {
    sqlite3_result_error(ctx, "vec: cosine result is not a number (an embedding holds NaN or Inf)", -1);
    return;
  }
  sqlite3_result_double(ctx, sim);
}

void vec_l2_fn(sqlite3_context* ctx, int, sqlite3_value** argv) {
  Arg a, b;
  if (!read_pair(ctx, argv, "L2", &a, &b)) return;
  const double d = std::sqrt(double(kernels().l2sq_f32(a.v, b.v, a.dim)));
  if (std::isnan(d)) {
    sqlite3_result_error(ctx, "vec: L2 result is not a number (an embedding holds NaN or Inf)", -1);
    return;
  }
  sqlite3_result_double(ctx, d);
}

// The table name in vec_invalidate's first argument: "<schema>._vec_<t>", "_vec_<t>" or "<t>".
std::string invalidate_table(const std::string& a) {
  const size_t p = a.find("._vec_");
  if (p != std::string::npos) return a.substr(p + 6);
  if (a.rfind("_vec_", 0) == 0) return a.substr(5);
  return a;
}

bool text_arg(sqlite3_value* v, std::string* out) {
  const int type = sqlite3_value_type(v);
  if (type != SQLITE_TEXT && type != SQLITE_BLOB) return false;
  *out = value_text(v);
  return true;
}

// vec_invalidate(shadow, dataset): marks every matching cached index in the process (returns the
// count of matching (table, dataset) entries). A marked index is dropped at its next use unless
// this version's triggers are installed on the data table: then the token already proves it
// current, so a replicator calling vec_invalidate after each batch keeps incremental updates.
// vec_invalidate(shadow, dataset, rowid, token, id) is the form the triggers call: it records
// one write of this connection (FRESHNESS in vec/vec_int.h).
void vec_invalidate_fn(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  using vec::Table;
  std::string shadow, dataset;
  if (!text_arg(argv[0], &shadow) || !text_arg(argv[1], &dataset)) {
    sqlite3_result_int64(ctx, 0);
    return;
  }
  int64_t count = 0;
  try {
    std::lock_guard<std::mutex> lock(vec::registry_mu());
    if (argc == 2) {
      const std::string table = invalidate_table(shadow);
      for (Table* t : vec::registry()) {
        if (t->name != table) continue;
        vec::InstanceLock tl(t);
        for (auto& e : t->cache) {
          if (dataset.empty() || e.first == dataset) {
            e.second.revalidate = true;
            count++;
          }
        }
      }
    } else {
      sqlite3* db = sqlite3_context_db_handle(ctx);
      const bool before = sqlite3_value_type(argv[2]) != SQLITE_NULL;
      const int64_t rowid = sqlite3_value_int64(argv[2]);
      const int64_t token = sqlite3_value_int64(argv[3]);  // NULL (no row yet) reads as 0
      const std::string id = before ? value_text(argv[4]) : std::string();
      for (Table* t : vec::registry()) {
        if (t->db != db || t->shadow != shadow) continue;
        vec::InstanceLock tl(t);
        auto it = t->cache.find(dataset);
        if (it == t->cache.end() || !it->second.loaded) continue;
        vec::DatasetIndex& ix = it->second;
        if (before) {
          const int64_t expect = ix.pending.empty() ? ix.token : ix.pending_token;
          if (token != expect) ix.broken = true;
          ix.pending.emplace_back(rowid, id);
        } else {
          ix.pending_token = token;
        }
        count++;
      }
    }
  } catch (...) {
    sqlite3_result_error_nomem(ctx);
    return;
  }
  sqlite3_result_int64(ctx, count);
}

// vec_ef_search(table, ef): sets the graph search effort of the index=hnsw table `table` (its
// name in any schema) for this connection, until it closes; returns the previous value.
void vec_ef_search_fn(sqlite3_context* ctx, int, sqlite3_value** argv) {
  const int et = sqlite3_value_type(argv[1]);
  if (sqlite3_value_type(argv[0]) != SQLITE_TEXT || (et != SQLITE_INTEGER && et != SQLITE_FLOAT)) {
    sqlite3_result_error(ctx, "vec_ef_search: expects (table name TEXT, ef INTEGER)", -1);
    return;
  }
  const std::string table = value_text(argv[0]);
  const double efd = sqlite3_value_double(argv[1]);  // a whole REAL (as JavaScript numbers bind) is accepted
  const int64_t ef = efd >= 1 && efd <= 10000 && efd == double(int64_t(efd)) ? int64_t(efd) : 0;
  if (ef < 1 || ef > 10000) {
    sqlite3_result_error(ctx, "vec_ef_search: ef must be an integer from 1 to 10000", -1);
    return;
  }
  sqlite3* db = sqlite3_context_db_handle(ctx);
  int64_t previous = -1;
  bool plain = false;
  {
    std::lock_guard<std::mutex> lock(vec::registry_mu());
    for (vec::Table* t : vec::registry()) {
      if (t->db != db || sqlite3_stricmp(t->name.c_str(), table.c_str()) != 0) continue;
      if (!t->hnsw) {
        plain = true;
        continue;
      }
      vec::InstanceLock tl(t);
      previous = t->ef_search;
      t->ef_search = uint32_t(ef);
    }
  }
  if (previous < 0) {
    const std::string m = plain ? string_printf("vec_ef_search: table %s has no graph (create it with index=hnsw)", table.c_str())
                                : string_printf("vec_ef_search: no vec table %s is open on this connection", table.c_str());
    sqlite3_result_error(ctx, m.c_str(), -1);
    return;
  }
  sqlite3_result_int64(ctx, previous);
}

// vec_stats(): every counter of the core counter registry (core/stats.h), by name.
void vec_stats_fn(sqlite3_context* ctx, int, sqlite3_value**) {
  std::map<std::string, int64_t> counters;  // by name: the same order whatever the link order
  for_each_counter([&counters](const char* name, int64_t v) { counters[name] += v; });
  std::string json = "{";
  for (const auto& kv : counters)
    json += string_printf("%s\"%s\":%lld", json.size() > 1 ? "," : "", kv.first.c_str(), static_cast<long long>(kv.second));
  json += "}";
  sqlite3_result_text(ctx, json.c_str(), static_cast<int>(json.size()), SQLITE_TRANSIENT);
}

}  // namespace

namespace vec {

int register_vec_table_functions(sqlite3* db) {
  // vec_invalidate only drops caches (at worst forcing a rebuild), so it is safe in triggers
  // and schema (INNOCUOUS); it is not deterministic.
  int rc = sqlite3_create_function_v2(db, "vec_invalidate", 2, SQLITE_UTF8 | SQLITE_INNOCUOUS, nullptr,
                                      vec_invalidate_fn, nullptr, nullptr, nullptr);
  if (rc == SQLITE_OK) {
    rc = sqlite3_create_function_v2(db, "vec_invalidate", 5, SQLITE_UTF8 | SQLITE_INNOCUOUS, nullptr,
                                    vec_invalidate_fn, nullptr, nullptr, nullptr);
  }
  if (rc == SQLITE_OK) {
    rc = sqlite3_create_function_v2(db, "vec_stats", 0, SQLITE_UTF8, nullptr, vec_stats_fn, nullptr, nullptr, nullptr);
  }
  if (rc == SQLITE_OK) {
    rc = sqlite3_create_function_v2(db, "vec_ef_search", 2, SQLITE_UTF8 | SQLITE_DIRECTONLY, nullptr, vec_ef_search_fn,
                                    nullptr, nullptr, nullptr);
  }
  return rc;
}

}  // namespace vec

int register_dataset_functions(sqlite3* db, char** pzErr) {
  int rc = sqlite3_create_function_v2(db, "vec_cosine", 2, kPureFunction, nullptr, vec_cosine_fn,
                                      nullptr, nullptr, nullptr);
  if (rc == SQLITE_OK) {
    rc = sqlite3_create_function_v2(db, "vec_l2", 2, kPureFunction, nullptr, vec_l2_fn, nullptr,
                                    nullptr, nullptr);
  }
  if (rc != SQLITE_OK) *pzErr = sqlite3_mprintf("vecsqlite: cannot register vec_cosine/vec_l2: %s", sqlite3_errmsg(db));
  return rc;
}

}  // namespace vecsqlite
