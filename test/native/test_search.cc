// Native test of the search entry (core/search.h) over several sources at once: every result
// list equals a brute-force oracle computed here (each admitted row's distance from a one-row
// kernel call, sorted by (distance, id), the first k kept), for row filters of every kind (all,
// bitmap, slot list, deferred through a resolver), distance bounds (strict and not), ties
// (broken by the smaller id, across sources), float32 / int8 / bit rows, with the sketch on and
// off, and with the work split across threads (sources past kParallelMinBytes) or not. The
// oracle runs on the scalar kernel table, and search() is run on that table (bit-exact) and on
// the active one (against an oracle of the active table). Ends with "N passed, M failed".
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <thread>
#include <vector>

#include "core/arena.h"
#include "core/parallel.h"
#include "core/search.h"
#include "core/sketch.h"
#include "kernels/kernels.h"
#include "check.h"

using namespace vecsqlite;

namespace {

uint64_t g_state = 20261206;
uint32_t rnd() {
  g_state = g_state * 6364136223846793005ULL + 1442695040888963407ULL;
  return static_cast<uint32_t>(g_state >> 33);
}
float rndf() { return static_cast<float>(rnd() % 20001) / 10000.0f - 1.0f; }

const char* mname(Metric m) { return metric_name(m); }

// Which slots of each source take part (the oracle's view of a RowFilter).
using Admitted = std::vector<std::vector<bool>>;

// A set of sources: arenas with unique ids drawn at random over all of them.
struct Sources {
  Dtype dtype;
  size_t dim;
  std::vector<Arena> arenas;
  Sources(Dtype t, size_t d) : dtype(t), dim(d) {}
};

void random_row(Dtype t, size_t dim, uint8_t* out) {
  if (t == Dtype::f32) {
    float* f = reinterpret_cast<float*>(out);
    for (size_t i = 0; i < dim; i++) f[i] = rndf();
  } else if (t == Dtype::i8) {
    for (size_t i = 0; i < dim; i++) out[i] = static_cast<uint8_t>(static_cast<int8_t>(static_cast<int>(rnd() % 255) - 127));
  } else {
    for (size_t i = 0; i < dim / 8; i++) out[i] = static_cast<uint8_t>(rnd());
  }
}

// Sources of the given sizes; `copies` rows are then overwritten with the bytes of another row
// (in any source), so that exact ties occur between ids of different sources and slots.
Sources make_sources(Dtype t, size_t dim, const std::vector<size_t>& sizes, size_t copies) {
  Sources s(t, dim);
  const size_t rb = dtype_row_bytes(t, dim);
  std::vector<uint8_t> row(rb);
  std::set<int64_t> used;
  for (size_t n : sizes) {
    s.arenas.emplace_back(t, dim);
    Arena& a = s.arenas.back();
    a.reserve(n);
    for (size_t r = 0; r < n; r++) {
      int64_t id;
      do {
        id = static_cast<int64_t>((uint64_t(rnd()) << 8) ^ rnd()) % (int64_t{1} << 38);
      } while (!used.insert(id).second);
      random_row(t, dim, row.data());
      a.upsert(id, row.data());
    }
  }
  size_t total = 0;
  for (size_t n : sizes) total += n;
  for (size_t c = 0; c < copies && total > 1; c++) {
    auto pick = [&](size_t* src, size_t* slot) {
      size_t at = rnd() % total;
      for (size_t i = 0; i < sizes.size(); i++) {
        if (at < sizes[i]) {
          *src = i;
          *slot = at;
          return;
        }
        at -= sizes[i];
      }
    };
    size_t fs, fslot, ts, tslot;
    pick(&fs, &fslot);
    pick(&ts, &tslot);
    std::memcpy(row.data(), s.arenas[fs].row_at(fslot), rb);
    s.arenas[ts].upsert(s.arenas[ts].id_at(tslot), row.data());
  }
  return s;
}

// The oracle: every admitted row's distance from a one-row call of `kt`'s block kernel.
std::vector<TopK::Item> oracle(const KernelTable& kt, Metric m, const std::vector<RowView>& views, const Admitted& adm,
                               const void* q, size_t k, const DistanceBounds& b) {
  std::vector<TopK::Item> all;
  for (size_t s = 0; s < views.size(); s++) {
    const RowView& v = views[s];
    for (size_t slot = 0; slot < v.rows; slot++) {
      if (!adm[s][slot]) continue;
      float d;
      if (!block_distance(kt, m, v.dtype, q, v.row(slot), v.kernel_dim(), 1, &d)) return {};
      if (d != d || !b.contains(d)) continue;
      all.push_back(TopK::Item{d, v.id(slot)});
    }
  }
  std::sort(all.begin(), all.end(), [](const TopK::Item& x, const TopK::Item& y) {
    return x.distance < y.distance || (x.distance == y.distance && x.id < y.id);
  });
  if (all.size() > k) all.resize(k);
  return all;
}

bool same_items(const std::vector<TopK::Item>& a, const std::vector<TopK::Item>& b, size_t* first_diff) {
  *first_diff = 0;
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; i++) {
    if (a[i].id != b[i].id || std::memcmp(&a[i].distance, &b[i].distance, sizeof(float)) != 0) {
      *first_diff = i;
      return false;
    }
  }
  *first_diff = n;
  return a.size() == b.size();
}

enum class FilterKind { all, bitmap, slots, mixed };

// A RowFilter for one source from its admitted slots.
RowFilter to_filter(FilterKind kind, const std::vector<bool>& adm, size_t src) {
  RowFilter f;
  FilterKind k = kind;
  if (k == FilterKind::mixed) k = src % 3 == 0 ? FilterKind::all : src % 3 == 1 ? FilterKind::bitmap : FilterKind::slots;
  if (k == FilterKind::all) return f;
  if (k == FilterKind::bitmap) {
    f.kind = RowFilter::Kind::bitmap;
    f.bits.assign((adm.size() + 63) / 64, 0);
    for (size_t s = 0; s < adm.size(); s++)
      if (adm[s]) f.bits[s / 64] |= uint64_t{1} << (s % 64);
    return f;
  }
  f.kind = RowFilter::Kind::slots;
  for (size_t s = 0; s < adm.size(); s++)
    if (adm[s]) f.slots.push_back(s);
  for (size_t i = f.slots.size(); i > 1; i--) std::swap(f.slots[i - 1], f.slots[rnd() % i]);  // any order
  return f;
}

// Admitted slots: all for FilterKind::all and for the sources `mixed` leaves unfiltered; else
// about `percent`% of them.
Admitted make_admitted(const std::vector<RowView>& views, FilterKind kind, unsigned percent) {
  Admitted adm(views.size());
  for (size_t s = 0; s < views.size(); s++) {
    const bool all = kind == FilterKind::all || (kind == FilterKind::mixed && s % 3 == 0);
    adm[s].resize(views[s].rows);
    for (size_t r = 0; r < views[s].rows; r++) adm[s][r] = all || rnd() % 100 < percent;
  }
  return adm;
}

const char* kind_name(FilterKind k) {
  return k == FilterKind::all ? "all" : k == FilterKind::bitmap ? "bitmap" : k == FilterKind::slots ? "slots" : "mixed";
}

std::vector<RowView> views_of(const Sources& s, bool sketch) {
  std::vector<RowView> v;
  for (const Arena& a : s.arenas) {
    RowView rv = a.view();
    if (!sketch) {
      rv.codes = nullptr;
      rv.sketch = nullptr;
    }
    v.push_back(rv);
  }
  return v;
}

// search() over `views` with `kind` filters built from `adm`, against the oracle of the same
// kernel table. Returns the result (for callers that compare further).
std::vector<TopK::Item> run_case(const KernelTable& kt, const char* label, Metric m, const std::vector<RowView>& views,
                                 FilterKind kind, const Admitted& adm, const void* q, size_t k,
                                 const DistanceBounds& b, bool deferred = false) {
  std::vector<SearchSource> sources(views.size());
  std::vector<int> resolved(views.size(), 0);
  std::vector<size_t> resolver_threads(views.size(), 0);
  for (size_t s = 0; s < views.size(); s++) {
    sources[s].rows = views[s];
    if (!deferred) {
      sources[s].filter = to_filter(kind, adm[s], s);
    } else {
      const RowFilter f = to_filter(kind, adm[s], s);
      sources[s].resolve = [f, s, &resolved, &resolver_threads](RowFilter* out, size_t threads) {
        *out = f;
        resolved[s]++;
        resolver_threads[s] = threads;
      };
    }
  }
  SearchRequest req;
  req.metric = m;
  req.query = q;
  req.k = k;
  req.bounds = b;
  std::vector<TopK::Item> got;
  const bool ok = search(kt, req, sources, &got);
  const std::vector<TopK::Item> want = oracle(kt, m, views, adm, q, k, b);
  size_t at;
  const bool same = same_items(want, got, &at);
  check(ok && same, "%s: %s %s k=%zu%s%s: %zu vs %zu items, first difference at %zu (want id %lld d %.9g, got id %lld d %.9g)",
        label, mname(m), kind_name(kind), k, b.any() ? " bounded" : "", deferred ? " deferred" : "", want.size(),
        got.size(), at, at < want.size() ? static_cast<long long>(want[at].id) : -1LL,
        at < want.size() ? want[at].distance : 0.0, at < got.size() ? static_cast<long long>(got[at].id) : -1LL,
        at < got.size() ? got[at].distance : 0.0);
  if (!deferred) {
    // search_batch: five copies of the query (a group of four and one alone) give search()'s
    // result each.
    const void* qs[5] = {q, q, q, q, q};
    std::vector<std::vector<TopK::Item>> outs;
    const bool bok = search_batch(kt, req, qs, 5, sources, &outs);
    bool bsame = bok && outs.size() == 5;
    for (size_t i = 0; bsame && i < outs.size(); i++) bsame = same_items(got, outs[i], &at);
    check(bsame, "%s: %s %s k=%zu%s: search_batch differs from search", label, mname(m), kind_name(kind), k,
          b.any() ? " bounded" : "");
  }
  if (deferred) {
    size_t rows = 0;
    for (const RowView& v : views) rows += v.rows;
    bool once = true, threads_ok = true;
    for (size_t s = 0; s < views.size(); s++) {
      // search() skips resolving when it returns early (k == 0 or no rows at all).
      if (k > 0 && rows > 0) once = once && resolved[s] == 1;
      if (resolved[s] > 0) threads_ok = threads_ok && resolver_threads[s] >= 1;
    }
    check(once && threads_ok, "%s: every resolver ran once with threads >= 1", label);
  }
  return got;
}

// A query near a stored row (so that ties among copies of it show up), or a fresh random one.
std::vector<uint8_t> make_query(const Sources& s, bool near_row) {
  const size_t rb = dtype_row_bytes(s.dtype, s.dim);
  std::vector<uint8_t> q(rb);
  if (near_row) {
    const Arena& a = s.arenas[rnd() % s.arenas.size()];
    if (a.size() > 0) {
      std::memcpy(q.data(), a.row_at(rnd() % a.size()), rb);
      return q;
    }
  }
  random_row(s.dtype, s.dim, q.data());
  return q;
}

// Bounds around the distances of a real result: lo at the 3rd distance, hi at the 40th, so
// that rows lying exactly on each bound exist and strictness matters.
std::vector<DistanceBounds> bounds_for(const KernelTable& kt, Metric m, const std::vector<RowView>& views,
                                       const Admitted& adm, const void* q) {
  std::vector<DistanceBounds> out(1);  // none
  const std::vector<TopK::Item> ref = oracle(kt, m, views, adm, q, 60, DistanceBounds());
  if (ref.size() < 41) return out;
  for (int strict = 0; strict < 2; strict++) {
    DistanceBounds b;
    b.has_lo = true;
    b.lo_strict = strict != 0;
    b.lo = ref[2].distance;
    b.has_hi = true;
    b.hi_strict = strict == 0;
    b.hi = ref[40].distance;
    out.push_back(b);
    DistanceBounds hi_only;
    hi_only.has_hi = true;
    hi_only.hi_strict = strict != 0;
    hi_only.hi = ref[10].distance;
    out.push_back(hi_only);
  }
  return out;
}

// The cases over one set of sources: every metric of its element type, every filter kind,
// several k, bounds, sketch on and off, direct and deferred filters.
void test_sources(const char* label, Sources& s, const std::vector<Metric>& metrics) {
  const KernelTable* scalar = kernels_for(Isa::scalar);
  const KernelTable& active = kernels();
  for (Arena& a : s.arenas) a.prepare_sketch();
  bool any_sketch = false;
  for (const Arena& a : s.arenas) any_sketch = any_sketch || a.has_sketch();
  size_t total = 0;
  for (const Arena& a : s.arenas) total += a.size();
  size_t sketch_runs = 0;
  for (Metric m : metrics) {
    for (FilterKind kind : {FilterKind::all, FilterKind::bitmap, FilterKind::slots, FilterKind::mixed}) {
      for (int qi = 0; qi < 3; qi++) {
        const std::vector<uint8_t> q = make_query(s, qi < 2);
        const std::vector<RowView> on = views_of(s, true), off = views_of(s, false);
        const Admitted adm = make_admitted(on, kind, kind == FilterKind::slots ? 8 : 45);
        for (const DistanceBounds& b : bounds_for(*scalar, m, on, adm, q.data())) {
          for (size_t k : {size_t(1), size_t(10), size_t(100), total + 5}) {
            if (k == total + 5 && b.any()) continue;
            const int64_t scans0 = g_sketch_scans.get();
            const auto with = run_case(*scalar, label, m, on, kind, adm, q.data(), k, b);
            const bool used = g_sketch_scans.get() != scans0;
            const auto without = run_case(*scalar, label, m, off, kind, adm, q.data(), k, b);
            size_t at;
            check(same_items(with, without, &at), "%s: %s k=%zu: sketch on and off differ at %zu", label, mname(m), k, at);
            check(!used || any_sketch, "%s: the sketch counter moved without a sketch", label);
            sketch_runs += used ? 1 : 0;
            run_case(active, label, m, on, kind, adm, q.data(), k, b);
            if (qi == 0) run_case(active, label, m, on, kind, adm, q.data(), k, b, true);
          }
        }
      }
    }
  }
  // Where a sketch exists (float32, l2 / cosine, large sources) the comparisons above ran through it.
  if (any_sketch) check(sketch_runs > 0, "%s: %zu searches used the sketch", label, sketch_runs);
  std::printf("  %s: %zu searches through the sketch\n", label, sketch_runs);
}

// Exact ties by hand: one vector stored under ids 50, 7 and 1000 in three different sources
// (and slots), the query equal to it: the first three results are 7, 50, 1000 at distance 0.
void test_ties_by_hand() {
  const size_t dim = 16;
  std::vector<Arena> arenas;
  for (int i = 0; i < 3; i++) arenas.emplace_back(Dtype::f32, dim);
  std::vector<float> x(dim), same(dim);
  for (float& v : same) v = rndf();
  int64_t next = 2000;
  for (int i = 0; i < 3; i++) {
    for (int r = 0; r < 30; r++) {
      for (float& v : x) v = rndf() + 3.0f;  // far from `same`
      arenas[static_cast<size_t>(i)].upsert(next++, x.data());
    }
  }
  arenas[2].upsert(50, same.data());
  arenas[0].upsert(1000, same.data());
  arenas[1].upsert(7, same.data());
  for (Metric m : {Metric::l2, Metric::l2sq, Metric::l1}) {
    std::vector<SearchSource> sources(3);
    for (size_t i = 0; i < 3; i++) sources[i].rows = arenas[i].view();
    SearchRequest req;
    req.metric = m;
    req.query = same.data();
    req.k = 4;
    std::vector<TopK::Item> got;
    check(search(kernels(), req, sources, &got) && got.size() == 4, "ties by hand %s: 4 results", mname(m));
    if (got.size() == 4) {
      check(got[0].id == 7 && got[1].id == 50 && got[2].id == 1000 && got[0].distance == 0 && got[2].distance == 0 &&
                got[3].distance > 0,
            "ties by hand %s: got %lld %lld %lld", mname(m), static_cast<long long>(got[0].id),
            static_cast<long long>(got[1].id), static_cast<long long>(got[2].id));
    }
    // k = 2 keeps the two smaller ids of the three tied rows.
    req.k = 2;
    check(search(kernels(), req, sources, &got) && got.size() == 2 && got[0].id == 7 && got[1].id == 50,
          "ties by hand %s: k=2 keeps ids 7 and 50", mname(m));
  }
}

// The split across threads: sources past kParallelMinBytes in total are searched by several
// threads (when the machine has them); the result equals the oracle and the merge of separate
// searches of each source (each below the threshold, so on one thread).
void test_threads() {
  const size_t dim = 64, per = 20000;  // 4 x 5.1 MB = 20.5 MB of rows: past 16 MiB
  Sources s = make_sources(Dtype::f32, dim, {per, per, per, per}, 3000);
  for (Arena& a : s.arenas) a.prepare_sketch();
  const size_t bytes = 4 * per * dim * sizeof(float);
  const size_t parts = work_parts(bytes);
  const unsigned hc = std::thread::hardware_concurrency();
  check(bytes >= kParallelMinBytes && (parts > 1 || hc < 2), "threads: %zu bytes give %zu parts on %u hardware threads",
        bytes, parts, hc);
  check(work_parts(per * dim * sizeof(float)) == 1, "threads: one source alone stays on one thread");
  if (parts == 1) std::printf("note: one hardware thread: the threaded split is not exercised\n");
  const KernelTable& kt = kernels();
  for (Metric m : {Metric::l2, Metric::cos, Metric::dot}) {
    for (FilterKind kind : {FilterKind::all, FilterKind::bitmap, FilterKind::slots, FilterKind::mixed}) {
      for (bool sketch : {true, false}) {
        const std::vector<RowView> views = views_of(s, sketch);
        const Admitted adm = make_admitted(views, kind, kind == FilterKind::slots ? 70 : 50);
        const std::vector<uint8_t> q = make_query(s, true);
        for (size_t k : {size_t(1), size_t(10), size_t(1000)}) {
          const auto whole = run_case(kt, sketch ? "threads (sketch)" : "threads", m, views, kind, adm, q.data(), k,
                                      DistanceBounds());
          // The same request one source at a time, merged.
          TopK top(k);
          for (size_t i = 0; i < views.size(); i++) {
            std::vector<SearchSource> one(1);
            one[0].rows = views[i];
            one[0].filter = to_filter(kind, adm[i], i);
            SearchRequest req;
            req.metric = m;
            req.query = q.data();
            req.k = k;
            std::vector<TopK::Item> part;
            search(kt, req, one, &part);
            for (const TopK::Item& it : part) top.push(it.distance, it.id);
          }
          std::vector<TopK::Item> merged(top.size());
          merged.resize(top.take_sorted(merged.data()));
          size_t at;
          check(same_items(whole, merged, &at), "threads %s %s k=%zu sketch=%d: split and unsplit differ at %zu",
                mname(m), kind_name(kind), k, sketch ? 1 : 0, at);
        }
      }
    }
  }
  // Several deferred resolvers at once (shared out between threads), and one large one.
  const std::vector<RowView> views = views_of(s, true);
  const Admitted adm = make_admitted(views, FilterKind::bitmap, 30);
  const std::vector<uint8_t> q = make_query(s, false);
  run_case(kt, "threads deferred", Metric::l2, views, FilterKind::bitmap, adm, q.data(), 10, DistanceBounds(), true);
  const std::vector<RowView> first(views.begin(), views.begin() + 1);
  const Admitted adm1(adm.begin(), adm.begin() + 1);
  run_case(kt, "one deferred", Metric::l2, first, FilterKind::slots, adm1, q.data(), 10, DistanceBounds(), true);
}

void test_edges() {
  Sources s = make_sources(Dtype::f32, 24, {100, 50}, 0);
  std::vector<SearchSource> sources(2);
  for (size_t i = 0; i < 2; i++) sources[i].rows = s.arenas[i].view();
  std::vector<float> q(24, 0.25f);
  SearchRequest req;
  req.metric = Metric::l2;
  req.query = q.data();
  std::vector<TopK::Item> out(3, TopK::Item{1, 1});
  req.k = 0;
  check(search(kernels(), req, sources, &out) && out.empty(), "k = 0: no results");
  req.k = 5;
  req.metric = Metric::hamming;  // not defined for float32
  out.assign(3, TopK::Item{1, 1});
  check(!search(kernels(), req, sources, &out) && out.empty(), "hamming on float32: false, nothing out");
  req.metric = Metric::l2;
  std::vector<SearchSource> none;
  check(search(kernels(), req, none, &out) && out.empty(), "no sources: no results");
  // Every source filtered down to nothing.
  for (auto& src : sources) {
    src.filter.kind = RowFilter::Kind::slots;
    src.filter.slots.clear();
  }
  check(search(kernels(), req, sources, &out) && out.empty(), "empty slot lists: no results");
  // Cosine with a zero query: every distance is NaN, nothing is returned.
  for (auto& src : sources) src.filter = RowFilter();
  std::vector<float> zero(24, 0.0f);
  req.metric = Metric::cos;
  req.query = zero.data();
  check(search(kernels(), req, sources, &out) && out.empty(), "cosine, zero query: no results");
}

}  // namespace

int main() {
  const char* err = nullptr;
  if (!kernels_init(&err)) {
    std::printf("%s\n", err);
    return 1;
  }
  if (kernels_for(Isa::scalar) == nullptr) {
    std::printf("no scalar kernel table\n");
    return 1;
  }
  if (const char* seed = std::getenv("VECSQLITE_SEED")) g_state = std::strtoull(seed, nullptr, 10);
  std::printf("test_search: seed %llu (VECSQLITE_SEED), kernels %s\n", static_cast<unsigned long long>(g_state),
              isa_name(kernels().isa));
  {
    // Float32 sources of uneven sizes (one empty; two large enough for a sketch).
    Sources s = make_sources(Dtype::f32, 48, {3000, 0, 700, 2600}, 400);
    test_sources("f32", s, {Metric::l2, Metric::l2sq, Metric::cos, Metric::dot, Metric::l1});
  }
  {
    Sources s = make_sources(Dtype::i8, 40, {900, 1300, 5}, 200);
    test_sources("i8", s, {Metric::l2, Metric::l2sq, Metric::cos, Metric::dot, Metric::l1});
  }
  {
    Sources s = make_sources(Dtype::u1, 128, {1500, 800}, 100);  // hamming: ties everywhere
    test_sources("bit", s, {Metric::hamming});
  }
  test_ties_by_hand();
  test_threads();
  test_edges();
  std::printf("%d passed, %d failed\n", g_passed, g_failed);
  return g_failed == 0 ? 0 : 1;
}
