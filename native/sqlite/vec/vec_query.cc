// MATCH queries of the `vec` table: argument checks, then one cosine search over the dataset's
// in-memory index through the core search entry (core/search.h), which owns the thread policy,
// the int8 sketch and the top-k: the exact scan, or with index=hnsw the dataset's graph with
// exact rescoring when vec_graph.cc chooses it.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include "core/search.h"
#include "kernels/kernels.h"
#include "sqlite/codec.h"
#include "sqlite/vec/vec_int.h"

namespace vecsqlite {
namespace vec {
namespace {

// The match_score bound (match_score >= ? / > ?). False with the error set on a bad value.
bool score_arg(sqlite3_vtab* vtab, sqlite3_value* v, double* out) {
  switch (sqlite3_value_type(v)) {
    case SQLITE_FLOAT:
    case SQLITE_INTEGER:
      *out = sqlite3_value_double(v);
      return true;
    case SQLITE_TEXT:
    case SQLITE_BLOB: {
      const std::string s = trim_space(value_text(v));
      char* end = nullptr;
      *out = std::strtod(s.c_str(), &end);
      if (s.empty() || end != s.c_str() + s.size()) {
        set_error(vtab, "vec: cannot parse score \"%s\": strconv.ParseFloat: parsing \"%s\": invalid syntax",
                  s.c_str(), s.c_str());
        return false;
      }
      return true;
    }
    default:
      set_error(vtab, "vec: unsupported score type %s", value_go_type(v));
      return false;
  }
}

}  // namespace

int match_filter(Cursor* c, Table* t, const Plan& plan, int argc, sqlite3_value** argv) {
  sqlite3_vtab* vtab = &t->base;
  if (argc < 2 || sqlite3_value_type(argv[0]) == SQLITE_NULL || sqlite3_value_type(argv[1]) == SQLITE_NULL) {
    return set_error(vtab, "vec: dataset_id and MATCH arguments are required");
  }
  if (!dataset_arg(vtab, argv[0], &c->dataset)) return SQLITE_ERROR;
  std::vector<float> q;
  std::string err;
  if (!parse_match_vector(argv[1], &q, &err)) return set_error(vtab, "%s", err.c_str());
  // A NaN or Inf element makes every score NaN: refuse it rather than return no rows.
  for (size_t i = 0; i < q.size(); i++) {
    if (!std::isfinite(q[i])) {
      return set_error(vtab, "vec: MATCH vector element %d is %s", int(i), std::isnan(q[i]) ? "NaN" : "Inf");
    }
  }
  int a = 2;
  double bound = 0;
  if (plan.score_bound && !score_arg(vtab, argv[a++], &bound)) return SQLITE_ERROR;
  int64_t k = -1;
  if (plan.limit) {
    k = sqlite3_value_int64(argv[a++]);
    if (plan.offset) {
      const int64_t off = sqlite3_value_int64(argv[a++]);
      if (k >= 0 && off > 0) k = off > INT64_MAX - k ? INT64_MAX : k + off;  // rows to rank: LIMIT + OFFSET
    }
  }
  if (trim_space(c->dataset).empty()) return set_error(vtab, "vec: dataset_id is required for ensureIndex");

  std::lock_guard<std::mutex> lock(t->mu);
  DatasetIndex* ix = nullptr;
  tl_locked = t;
  const int rc = acquire(t, c->dataset, &ix, &err);
  tl_locked = nullptr;
  if (rc != SQLITE_OK) return set_error(vtab, "%s", err.c_str());
  // The sketch is built once, for large arenas (core/arena.h); shared data has it already.
  if (!ix->listed && ix->data.use_count() == 1 && ix->d().arena) ix->own_data().arena->prepare_sketch();
  const DatasetData& d = ix->d();
  const size_t n = d.arena ? d.arena->size() : 0;
  if (n == 0) return SQLITE_OK;
  if (q.size() != d.dim) return set_error(vtab, "bruteforce: query dim %d != index dim %d", int(q.size()), int(d.dim));
  const KernelTable& kt = kernels();
  double qq = 0;
  for (float x : q) qq += double(x) * x;
  if (qq == 0) return SQLITE_OK;  // zero query: no rows, as the original
  const size_t kk = (k < 0 || uint64_t(k) > n) ? n : size_t(k);
  if (kk == 0) return SQLITE_OK;
  std::vector<TopK::Item> items;
  // index=hnsw: a query with a k and no score bound may be answered by the dataset's graph
  // (vec_graph.cc); anything it does not answer runs the exact scan.
  const bool graph = t->hnsw && k >= 0 && !plan.score_bound && graph_search(t, &d, q.data(), kk, &items);
  if (!graph) {
    std::vector<SearchSource> sources(1);
    sources[0].rows = d.arena->view();
    SearchRequest req;
    req.metric = Metric::cos;
    req.query = q.data();
    req.k = kk;
    search(kt, req, sources, &items);
  }
  c->hits.reserve(items.size());
  for (const TopK::Item& it : items) d.id_of.prefetch(it.id);
  for (const TopK::Item& it : items) {
    const float* v = static_cast<const float*>(d.arena->find(it.id));
    const CosParts p = kt.cos_parts_f32(q.data(), v, d.dim);
    const double s = p.dot / (std::sqrt(p.aa) * std::sqrt(p.bb));
    if (std::isnan(s)) continue;
    const std::string* id = d.id_of.find(it.id);
    c->hits.push_back({it.id, s, id == nullptr ? std::string() : *id});
  }
  // Scores are recomputed in float64: keep the emitted order exactly by them.
  std::stable_sort(c->hits.begin(), c->hits.end(), [](const Hit& x, const Hit& y) {
    return x.score > y.score || (x.score == y.score && x.rowid < y.rowid);
  });
  if (plan.score_bound) {
    size_t keep = 0;
    while (keep < c->hits.size() && (plan.score_strict ? c->hits[keep].score > bound : c->hits[keep].score >= bound)) {
      keep++;
    }
    c->hits.resize(keep);
  }
  return SQLITE_OK;
}

}  // namespace vec
}  // namespace vecsqlite
