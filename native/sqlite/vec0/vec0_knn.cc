// vec0 KNN queries: `WHERE v MATCH ? AND k = ?` (or ORDER BY distance LIMIT n), with rowid IN,
// distance bounds, partition keys and metadata filters. The query vector is checked against
// the column, the partitions to search are picked, each becomes a search source (its arena,
// and, when filtered, the rows that pass, computed on the search's threads), and the core
// search entry (core/search.h) does the rest: threads, sketch, scans, top-k. Filters apply
// before the top-k, so a query returns the k nearest rows that pass them (fewer only when
// fewer exist). No cap on k: it is limited by the rows only, and TopK allocates for what it
// keeps. Columns with a graph index (vec0_ann.cc) may be answered from the graph instead,
// with the same filters and exact distances.
#include <algorithm>
#include <cmath>

#include "sqlite/vec0/vec0_int.h"

namespace vecsqlite {
namespace vec0 {
namespace {

// Distance constraints (targets cast to f32, as sqlite-vec): the tightest lower and upper
// bound; on equal targets the strict comparison is the tighter one. False when a target is NaN
// (no distance compares true with it: no rows).
bool distance_bounds(const Plan& plan, DistanceBounds* out) {
  for (const auto& dc : plan.distance) {
    const float target = static_cast<float>(dc.second);
    const bool lower = dc.first == 'a' || dc.first == 'b';
    const bool strict = dc.first == 'a' || dc.first == 'c';
    float& bound = lower ? out->lo : out->hi;
    bool& has = lower ? out->has_lo : out->has_hi;
    bool& is_strict = lower ? out->lo_strict : out->hi_strict;
    if (!has || (lower ? target > bound : target < bound)) {
      bound = target;
      is_strict = strict;
    } else if (target == bound) {
      is_strict = is_strict || strict;
    }
    has = true;
    if (std::isnan(target)) return false;
  }
  return true;
}

size_t admitted_rows(const RowFilter& f, size_t rows) {
  switch (f.kind) {
    case RowFilter::Kind::all: return rows;
    case RowFilter::Kind::slots: return f.slots.size();
    case RowFilter::Kind::bitmap: {
      size_t n = 0;
      for (uint64_t w : f.bits) n += static_cast<size_t>(__builtin_popcountll(w));
      return n;
    }
  }
  return 0;
}

// Checks the query vector against column `vc`; the error names the column, as sqlite-vec.
int check_query(Table* t, const VectorColumn& vc, sqlite3_value* qv, Vector* q) {
  std::string err;
  const int rc = parse_vector(qv, ParseMode::by_subtype, q, &err);
  if (rc != SQLITE_OK) {
    if (rc == SQLITE_NOMEM) return rc;
    set_err(t, string_printf("Query vector on the \"%s\" column is invalid: %s", vc.name.c_str(), err.c_str()));
    return SQLITE_ERROR;
  }
  if (q->type() != vc.type) {
    set_err(t, string_printf("Query vector for the \"%s\" column is expected to be of type %s, but a %s vector was provided.",
                             vc.name.c_str(), dtype_name(vc.type), dtype_name(q->type())));
    return SQLITE_ERROR;
  }
  if (static_cast<int>(q->dims()) != vc.dims) {
    set_err(t, string_printf("Dimension mismatch for query vector for the \"%s\" column. Expected %d dimensions but received %d.",
                             vc.name.c_str(), vc.dims, static_cast<int>(q->dims())));
    return SQLITE_ERROR;
  }
  return SQLITE_OK;
}

}  // namespace

int knn_filter(Table* t, Cursor* cur, const Plan& plan) {
  const size_t col = static_cast<size_t>(plan.column);
  const VectorColumn& vc = t->cfg.vcols[col];
  Vector q;
  int rc = check_query(t, vc, plan.query, &q);
  if (rc != SQLITE_OK) return rc;
  int64_t k = 0;
  if (!integer_id(plan.k, &k)) k = sqlite3_value_int64(plan.k);
  if (k < 0) {
    set_err(t, "k value in knn queries must be greater than or equal to 0.");
    return SQLITE_ERROR;
  }
  cur->k = k;
  rc = ensure_readable(t);
  if (rc != SQLITE_OK) return rc;
  // Partition filters pick the groups (only their arenas are searched); metadata filters and
  // rowid IN decide the rows within them.
  std::vector<PartFilter> pfilters;
  std::vector<MetaFilter> mfilters;
  rc = build_filters(t, plan, &pfilters, &mfilters);
  if (rc != SQLITE_OK) return rc;
  std::vector<const Group*> groups;  // the selected partitions with rows
  auto take = [&](size_t gi) {
    const Group& g = *t->cache().groups[gi];
    if (!g.arenas[col].empty()) {
      cache_prepare_sketch(t, gi, col);  // built once, for large float arenas
      groups.push_back(&g);
    }
  };
  std::vector<Value> exact;  // one `=` per partition key: a direct lookup
  const int exact_kind = pfilters.empty() ? 0 : exact_tuple(t, pfilters, &exact);
  if (exact_kind == 1) {
    auto git = t->cache().group_of.find(exact);
    if (git != t->cache().group_of.end())
      for (int gi : git->second) take(static_cast<size_t>(gi));
  } else if (exact_kind == 0) {
    for (size_t gi = 0; gi < t->cache().groups.size(); gi++) {
      bool ok = true;
      const Group& g = *t->cache().groups[gi];
      for (const auto& pf : pfilters) ok = ok && part_match(pf, g.tuple[static_cast<size_t>(pf.col)]);
      if (ok) take(gi);
    }
  }
  if (k == 0 || groups.empty()) return SQLITE_OK;
  // rowid IN (...): the set of allowed position keys. Unknown ids are skipped (sqlite-vec
  // returned nothing at all for a text-key list with one unknown id).
  std::unordered_set<int64_t> allowed;
  const bool use_in = plan.rowid_in != nullptr;
  if (use_in) {
    sqlite3_value* v = nullptr;
    for (rc = sqlite3_vtab_in_first(plan.rowid_in, &v); rc == SQLITE_OK && v != nullptr;
         rc = sqlite3_vtab_in_next(plan.rowid_in, &v)) {
      int64_t rid;
      if (lookup_rowid(t, v, &rid)) allowed.insert(t->cache().pos_of.find(rid)->second);
    }
    if (rc != SQLITE_OK && rc != SQLITE_DONE) return rc;
    if (allowed.empty()) return SQLITE_OK;
  }
  DistanceBounds bounds;
  if (!distance_bounds(plan, &bounds)) return SQLITE_OK;
  const bool filtered = use_in || !mfilters.empty();
  std::vector<TopK::Item> items;
  // A graph column answers from its graph when that costs less than the exact scan of the rows
  // that pass the filters (ann_search decides; rowid IN lists and lower distance bounds, which
  // page through results, always take the exact scan).
  std::vector<RowFilter> filters;
  bool answered = false;
  const bool graph = !t->ann.empty() && t->ann[col].indexed();
  if (graph && !use_in && !bounds.has_lo) {
    uint32_t ef_default = 0;
    rc = ann_default_ef(t, col, &ef_default);
    if (rc != SQLITE_OK) return rc;
    int64_t ef = ef_default;
    if (plan.ef != nullptr && (!integer_id(plan.ef, &ef) || ef < 0 || ef > 10000)) {
      set_err(t, "ef value in knn queries must be an integer from 0 (exact search) to 10000.");
      return SQLITE_ERROR;
    }
    AnnQuery aq;
    aq.col = col;
    aq.k = static_cast<size_t>(k);
    aq.ef = static_cast<size_t>(ef);
    aq.query = &q;
    aq.bounds = bounds;
    aq.groups = groups;
    aq.all_groups = pfilters.empty();
    aq.force = plan.ef != nullptr && mfilters.empty() && pfilters.empty();
    if (!mfilters.empty()) {
      filters.resize(groups.size());
      for (size_t i = 0; i < groups.size(); i++) allowed_rows(t, *groups[i], col, mfilters, nullptr, &filters[i], 1);
      aq.filters = &filters;
    }
    for (size_t i = 0; i < groups.size(); i++) aq.admitted += filters.empty() ? groups[i]->arenas[col].size() : admitted_rows(filters[i], groups[i]->arenas[col].size());
    if (aq.ef > 0) {
      rc = ann_search(t, aq, &items, &answered);
      if (rc != SQLITE_OK) return rc;
    }
  }
  if (!answered) {
    SearchRequest req;
    req.metric = vc.metric;
    req.query = q.bytes();
    req.k = static_cast<size_t>(k);
    req.bounds = bounds;
    std::vector<SearchSource> sources(groups.size());
    for (size_t i = 0; i < groups.size(); i++) {
      const Group* g = groups[i];
      sources[i].rows = g->arenas[col].view();
      if (!filters.empty()) {
        sources[i].filter = std::move(filters[i]);
      } else if (filtered) {
        sources[i].resolve = [t, g, col, &mfilters, use_in, &allowed](RowFilter* f, size_t threads) {
          allowed_rows(t, *g, col, mfilters, use_in ? &allowed : nullptr, f, threads);
        };
      }
    }
    if (!search(kernels(), req, sources, &items)) {
      set_err(t, string_printf("%sno distance kernel for the \"%s\" column", kInternal, vc.name.c_str()));
      return SQLITE_ERROR;
    }
  }
  cur->keys.reserve(items.size());
  cur->dists.reserve(items.size());
  for (const TopK::Item& it : items) {
    cur->keys.push_back(it.id);
    cur->dists.push_back(it.distance);
  }
  return SQLITE_OK;
}

}  // namespace vec0
}  // namespace vecsqlite
