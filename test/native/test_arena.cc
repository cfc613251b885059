// Native Arena test: the row block (malloc while small, a reserved 2 MiB-aligned mapping with
// huge pages from 4 MiB on) through growth, copy, move, remove and clear, checked against a std::map model; and scan_topk
// (threaded from 16 MiB on) with slot bitmaps and distance bounds against a brute-force sort
// computed here in double precision. Ends with "N passed, M failed".
#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <utility>
#include <vector>

#include "core/arena.h"
#include "core/search.h"
#include "kernels/kernels.h"
#include "check.h"

using namespace vecsqlite;

namespace {

// The filter these tests describe (a slot bitmap and distance bounds), run through the search
// entry (core/search.h) over one arena.
struct ScanFilter {
  const uint64_t* allowed = nullptr;
  bool has_lo = false, lo_strict = false;
  float lo = 0;
  bool has_hi = false, hi_strict = false;
  float hi = 0;
};

bool scan_topk(const KernelTable& kt, const Arena& a, Metric m, const float* q, const ScanFilter* f, TopK* top) {
  std::vector<SearchSource> sources(1);
  sources[0].rows = a.view();
  SearchRequest req;
  req.metric = m;
  req.query = q;
  req.k = top->capacity();
  if (f != nullptr) {
    if (f->allowed != nullptr) {
      sources[0].filter.kind = RowFilter::Kind::bitmap;
      sources[0].filter.bits.assign(f->allowed, f->allowed + (a.size() + 63) / 64);
    }
    req.bounds.has_lo = f->has_lo;
    req.bounds.lo_strict = f->lo_strict;
    req.bounds.lo = f->lo;
    req.bounds.has_hi = f->has_hi;
    req.bounds.hi_strict = f->hi_strict;
    req.bounds.hi = f->hi;
  }
  std::vector<TopK::Item> items;
  const bool ok = search(kt, req, sources, &items);
  for (const auto& it : items) top->push(it.distance, it.id);
  return ok;
}


uint64_t g_state = 12345;
uint32_t rnd() {
  g_state = g_state * 6364136223846793005ULL + 1442695040888963407ULL;
  return static_cast<uint32_t>(g_state >> 33);
}
float rndf() { return static_cast<float>(rnd() % 20001) / 10000.0f - 1.0f; }

// Every id of the model is in the arena with the same bytes, and nothing else is.
void same(const Arena& a, const std::map<int64_t, std::vector<float>>& model, const char* when) {
  check(a.size() == model.size(), "%s: size %zu vs %zu", when, a.size(), model.size());
  size_t bad = 0;
  for (const auto& kv : model) {
    const void* row = a.find(kv.first);
    if (row == nullptr || std::memcmp(row, kv.second.data(), a.row_bytes()) != 0) bad++;
  }
  check(bad == 0, "%s: %zu rows differ", when, bad);
  for (size_t s = 0; s < a.size(); s++) {
    if (model.count(a.id_at(s)) == 0) bad++;
  }
  check(bad == 0, "%s: %zu stray ids", when, bad);
}

// `steps` random upserts (new ids and overwrites) and removes (one in `remove_every`) of ids
// below `ids`, applied to the arena and to the model alike.
void random_writes(Arena* a, std::map<int64_t, std::vector<float>>* model, int steps, uint64_t ids, uint64_t remove_every) {
  std::vector<float> row(a->dim());
  for (int step = 0; step < steps; step++) {
    const int64_t id = static_cast<int64_t>(rnd() % ids);
    if (rnd() % remove_every == 0) {
      check(a->remove(id) == (model->erase(id) == 1), "dim %zu: remove %lld", a->dim(), static_cast<long long>(id));
    } else {
      for (float& x : row) x = rndf();
      a->upsert(id, row.data());
      (*model)[id] = row;
    }
  }
}

void test_storage() {
  const size_t dim = 64;  // 256-byte rows: the 4 MiB mapping starts at 16384 rows
  Arena a(Dtype::f32, dim);
  std::map<int64_t, std::vector<float>> model;
  std::vector<float> row(dim);
  random_writes(&a, &model, 60000, 40000, 5);
  same(a, model, "after random upserts/removes");
  check(a.memory_bytes() >= a.size() * a.row_bytes(), "memory_bytes covers the rows");
  Arena copy(a);
  same(copy, model, "copy");
  Arena moved(std::move(copy));
  same(moved, model, "moved");
  check(copy.size() == 0, "moved-from arena is empty");  // NOLINT(bugprone-use-after-move)
  Arena assigned(Dtype::f32, dim);
  assigned = moved;
  same(assigned, model, "copy-assigned");
  a.clear();
  check(a.size() == 0 && a.find(1) == nullptr, "clear");
  for (float& x : row) x = 0.5f;
  a.upsert(7, row.data());
  check(a.size() == 1 && std::memcmp(a.find(7), row.data(), a.row_bytes()) == 0, "reuse after clear");
  // A small arena (malloc path) grown into the mapped path and shrunk again by removes.
  Arena b(Dtype::i8, 8);
  int8_t r8[8];
  for (int64_t i = 0; i < 700000; i++) {
    for (int j = 0; j < 8; j++) r8[j] = static_cast<int8_t>(i * 7 + j);
    b.upsert(i, r8);
  }
  bool ok = true;
  for (int64_t i = 0; i < 700000 && ok; i += 997) {
    const int8_t* got = static_cast<const int8_t*>(b.find(i));
    for (int j = 0; j < 8; j++) ok = ok && got != nullptr && got[j] == static_cast<int8_t>(i * 7 + j);
  }
  check(ok, "int8 rows intact across growth past 4 MiB");
  for (int64_t i = 0; i < 700000; i++) b.remove(i);
  check(b.empty(), "all removed");
}

// Rows of 2 KiB and more are stored with non-temporal stores (arena.cc, store_new_row): 768
// float32 (3 KiB) rows, and rows of a size that is not a multiple of 16 (the memcpy path),
// against a model under random upserts (new and overwritten), removes and reads.
void test_wide_rows(size_t dim) {
  Arena a(Dtype::f32, dim);
  std::map<int64_t, std::vector<float>> model;
  random_writes(&a, &model, 6000, 3000, 6);
  size_t bad = 0;
  for (const auto& kv : model) {
    const void* got = a.find(kv.first);
    if (got == nullptr || std::memcmp(got, kv.second.data(), dim * 4) != 0) bad++;
  }
  check(bad == 0 && a.size() == model.size(), "wide %zu: %zu rows differ from the model", dim, bad);
}

// The mapped row block is reserved 16x past its first 4 MiB and grows in place; past the
// reservation its pages move to a larger one. 1 KiB rows: the mapping starts at 4096 rows, the
// first reservation (64 MiB) ends at 65536 rows, so 100000 rows cross it. Rows must survive the
// move, and the block starts on a 2 MiB boundary (huge pages) before and after.
void test_reservation() {
  const size_t dim = 256;
  Arena a(Dtype::f32, dim);
  std::vector<float> row(dim);
  auto fill = [&row](int64_t id) {
    for (size_t j = 0; j < row.size(); j++) row[j] = static_cast<float>(id) * 0.5f + static_cast<float>(j);
  };
  bool aligned_small = true, aligned_big = true;
  for (int64_t id = 1; id <= 100000; id++) {
    fill(id);
    a.upsert(id, row.data());
    const uintptr_t base = reinterpret_cast<uintptr_t>(a.find(a.id_at(0)));
#if defined(__linux__)
    if (id == 5000) aligned_small = base % (2u << 20) == 0;
    if (id == 100000) aligned_big = base % (2u << 20) == 0;
#endif
    (void)base;
  }
  size_t bad = 0;
  for (int64_t id = 1; id <= 100000; id++) {
    fill(id);
    const void* got = a.find(id);
    if (got == nullptr || std::memcmp(got, row.data(), a.row_bytes()) != 0) bad++;
  }
  check(bad == 0, "reservation: %zu of 100000 rows differ after growing past it", bad);
  check(aligned_small && aligned_big, "reservation: mapped block on a 2 MiB boundary (%d, %d)", aligned_small, aligned_big);
  Arena copy(a);
  check(copy.size() == a.size() && std::memcmp(copy.find(777), a.find(777), a.row_bytes()) == 0, "reservation: copy");
  a.clear();
  fill(3);
  a.upsert(3, row.data());
  check(a.size() == 1 && std::memcmp(a.find(3), row.data(), a.row_bytes()) == 0, "reservation: reuse after clear");
}

// A freed mapped row block goes to the process-wide pool (arena.cc, POOL) and the next arena
// that starts a mapping takes it (run first, on an empty pool): same address, and its rows are its own (the pooled pages
// hold stale bytes or zeros, never read before written).
void test_pool() {
#if defined(__linux__)
  const size_t dim = 256;
  std::vector<float> row(dim);
  const void* first = nullptr;
  {
    Arena a(Dtype::f32, dim);
    for (int64_t id = 1; id <= 20000; id++) {
      std::fill(row.begin(), row.end(), static_cast<float>(id));
      a.upsert(id, row.data());
    }
    first = a.find(a.id_at(0));
  }
  Arena b(Dtype::f32, dim);
  size_t bad = 0;
  for (int64_t id = 1; id <= 9000; id++) {
    std::fill(row.begin(), row.end(), -static_cast<float>(id));
    b.upsert(id, row.data());
  }
  for (int64_t id = 1; id <= 9000; id++) {
    std::fill(row.begin(), row.end(), -static_cast<float>(id));
    if (std::memcmp(b.find(id), row.data(), b.row_bytes()) != 0) bad++;
  }
  const char* env = std::getenv("VECSQLITE_ARENA_POOL_MB");
  const bool pooled = env == nullptr || std::strcmp(env, "0") != 0;
  check(!pooled || b.find(b.id_at(0)) == first, "pool: the second arena reuses the freed block");
  check(bad == 0, "pool: %zu rows differ in the reused block", bad);
#endif
}

struct Ref {
  double d;
  int64_t id;
};

void test_scan(size_t n, size_t dim, const char* label) {
  Arena a(Dtype::f32, dim);
  std::vector<float> data(n * dim);
  for (float& x : data) x = rndf();
  for (size_t i = 0; i < n; i++) a.upsert(static_cast<int64_t>(i * 3 + 1), &data[i * dim]);
  std::vector<float> q(dim);
  for (float& x : q) x = rndf();
  std::vector<Ref> ref(n);
  for (size_t i = 0; i < n; i++) {
    double s = 0;
    for (size_t j = 0; j < dim; j++) {
      const double d = static_cast<double>(q[j]) - data[i * dim + j];
      s += d * d;
    }
    ref[i] = {std::sqrt(s), static_cast<int64_t>(i * 3 + 1)};
  }
  std::vector<Ref> sorted = ref;
  std::sort(sorted.begin(), sorted.end(), [](const Ref& x, const Ref& y) { return x.d < y.d || (x.d == y.d && x.id < y.id); });
  const KernelTable& kt = kernels();
  auto run = [&](const ScanFilter* f, size_t k, std::vector<TopK::Item>* out) {
    TopK top(k);
    const bool ok = scan_topk(kt, a, Metric::l2, q.data(), f, &top);
    out->resize(top.size());
    out->resize(top.take_sorted(out->data()));
    return ok;
  };
  // Unfiltered.
  std::vector<TopK::Item> got;
  check(run(nullptr, 50, &got), "%s: scan ok", label);
  bool same_ids = got.size() == 50;
  for (size_t i = 0; i < got.size() && same_ids; i++) same_ids = got[i].id == sorted[i].id;
  check(same_ids, "%s: k=50 ids match the brute-force order", label);
  // Bitmap: every third slot.
  std::vector<uint64_t> bits((n + 63) / 64, 0);
  std::vector<Ref> want;
  for (size_t s = 0; s < a.size(); s++) {
    if (s % 3 == 0) {
      bits[s / 64] |= uint64_t{1} << (s % 64);
    }
  }
  for (const Ref& r : sorted) {
    size_t slot = 0;
    a.slot_of(r.id, &slot);
    if (slot % 3 == 0) want.push_back(r);
  }
  ScanFilter f;
  f.allowed = bits.data();
  run(&f, 40, &got);
  same_ids = got.size() == 40;
  for (size_t i = 0; i < got.size() && same_ids; i++) same_ids = got[i].id == want[i].id;
  check(same_ids, "%s: bitmap filter", label);
  // Bounds: lo < d <= hi, taken from the reference order.
  ScanFilter g;
  g.has_lo = true;
  g.lo_strict = true;
  g.lo = static_cast<float>(sorted[n / 10].d);
  g.has_hi = true;
  g.hi = static_cast<float>(sorted[n / 2].d);
  std::vector<TopK::Item> all;
  run(nullptr, n, &all);  // exact f32 distances as the kernels compute them
  std::vector<TopK::Item> in_window;
  for (const auto& it : all)
    if (it.distance > g.lo && it.distance <= g.hi) in_window.push_back(it);
  run(&g, 30, &got);
  same_ids = got.size() == std::min<size_t>(30, in_window.size());
  for (size_t i = 0; i < got.size() && same_ids; i++) same_ids = got[i].id == in_window[i].id;
  check(same_ids, "%s: distance bounds", label);
  // k larger than the rows: everything, sorted.
  run(nullptr, n * 4, &got);
  check(got.size() == n, "%s: k > n returns n rows", label);
}


// ---- the int8 sketch: a pre-filtered scan returns exactly what a full scan returns ----------
//
// Two arenas hold the same rows; only one calls prepare_sketch(). For every query the two
// scan_topk results must agree in ids, order and distance bits. Data kinds, chosen to stress
// the bounds: uniform, clustered (many near ties), duplicated rows (exact ties, distance 0),
// integer-valued rows (zero quantization error), rows of very different magnitudes
// (1e-30 .. 1e30, subnormals, zeros), and rows with NaN / inf elements.
enum DataKind { kUniform, kClustered, kDuplicates, kIntegers, kMagnitudes, kNonFinite };

void fill_row(DataKind kind, size_t dim, size_t r, const std::vector<float>& centers, float* x) {
  switch (kind) {
    case kUniform:
      for (size_t i = 0; i < dim; i++) x[i] = rndf();
      break;
    case kClustered: {
      const float* c = centers.data() + (rnd() % 8) * dim;
      for (size_t i = 0; i < dim; i++) x[i] = c[i] + 1e-3f * rndf();
      break;
    }
    case kDuplicates: {
      const float* c = centers.data() + (r % 8) * dim;  // eight distinct rows, repeated
      std::memcpy(x, c, dim * sizeof(float));
      break;
    }
    case kIntegers:
      for (size_t i = 0; i < dim; i++) x[i] = static_cast<float>(static_cast<int>(rnd() % 255) - 127);
      break;
    case kMagnitudes: {
      static const float scales[] = {1e-30f, 1e-6f, 1.0f, 3.0f, 1e6f, 1e30f, 1e-40f, 0.0f};
      const float sc = scales[rnd() % 8];
      for (size_t i = 0; i < dim; i++) x[i] = sc * rndf();
      if (r % 5 == 0) x[rnd() % dim] = 1e4f;  // one large element among small ones
      break;
    }
    case kNonFinite:
      for (size_t i = 0; i < dim; i++) x[i] = rndf();
      if (r % 7 == 0) x[rnd() % dim] = std::numeric_limits<float>::infinity();
      if (r % 11 == 0) x[rnd() % dim] = std::numeric_limits<float>::quiet_NaN();
      break;
  }
}

bool same_items(const std::vector<TopK::Item>& a, const std::vector<TopK::Item>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); i++)
    if (a[i].id != b[i].id || std::memcmp(&a[i].distance, &b[i].distance, sizeof(float)) != 0) {
      if (std::getenv("VERBOSE"))
        std::printf("  item %zu: want id %lld d %.9g, got id %lld d %.9g\n", i, (long long)a[i].id,
                    double(a[i].distance), (long long)b[i].id, double(b[i].distance));
      return false;
    }
  return true;
}

void knn(const Arena& a, Metric m, const float* q, size_t k, const ScanFilter* f, std::vector<TopK::Item>* out) {
  TopK top(k);
  scan_topk(kernels(), a, m, q, f, &top);
  out->resize(top.size());
  out->resize(top.take_sorted(out->data()));
}

void test_sketch(DataKind kind, size_t n, size_t dim, const char* label) {
  std::vector<float> centers(8 * dim);
  for (float& c : centers) c = rndf();
  Arena plain(Dtype::f32, dim), sk(Dtype::f32, dim);
  std::vector<float> x(dim);
  for (size_t r = 0; r < n; r++) {
    fill_row(kind, dim, r, centers, x.data());
    plain.upsert(static_cast<int64_t>(r) * 3 + 1, x.data());
    sk.upsert(static_cast<int64_t>(r) * 3 + 1, x.data());
  }
  sk.prepare_sketch();
  check(sk.has_sketch(), "%s: sketch built", label);
  // `plain` must scan without a sketch: rebuild it row by row into a fresh arena that never
  // calls prepare_sketch().
  Arena ref(Dtype::f32, dim);
  for (size_t s = 0; s < plain.size(); s++) ref.upsert(plain.id_at(s), plain.row_at(s));
  check(!ref.has_sketch(), "%s: reference arena has no sketch", label);

  auto compare = [&](const char* what) {
    for (Metric m : {Metric::l2, Metric::cos}) {
      for (size_t qi = 0; qi < 12; qi++) {
        std::vector<float> q(dim);
        if (qi < 4) {
          const size_t slot = rnd() % ref.size();  // a stored row: distance 0 and its ties
          std::memcpy(q.data(), ref.row_at(slot), dim * sizeof(float));
        } else if (qi == 4) {
          std::fill(q.begin(), q.end(), 0.0f);  // zero query (cosine: no rows)
        } else if (qi == 5) {
          for (float& v : q) v = 1e20f * rndf();
        } else {
          fill_row(kind == kNonFinite ? kUniform : kind, dim, qi, centers, q.data());
          if (qi % 3 == 0) for (float& v : q) v += 1e-4f * rndf();
        }
        for (size_t k : {size_t(1), size_t(10), size_t(100)}) {
          std::vector<TopK::Item> want, got;
          knn(ref, m, q.data(), k, nullptr, &want);
          knn(sk, m, q.data(), k, nullptr, &got);
          check(same_items(want, got), "%s %s: %s query %zu k=%zu (%zu vs %zu rows%s)", label, what,
                m == Metric::l2 ? "l2" : "cos", qi, k, want.size(), got.size(),
                !want.empty() && !got.empty() && want[0].id != got[0].id ? ", first id differs" : "");
        }
        // A slot bitmap and distance bounds, applied inside the pre-filtered scan.
        std::vector<uint64_t> bits((ref.size() + 63) / 64, 0);
        for (size_t s = 0; s < ref.size(); s++)
          if (ref.id_at(s) % 2 == 1) bits[s / 64] |= uint64_t{1} << (s % 64);
        std::vector<uint64_t> bits_sk((sk.size() + 63) / 64, 0);
        for (size_t s = 0; s < sk.size(); s++)
          if (sk.id_at(s) % 2 == 1) bits_sk[s / 64] |= uint64_t{1} << (s % 64);
        std::vector<TopK::Item> all;
        knn(ref, m, q.data(), 50, nullptr, &all);
        ScanFilter f, fs;
        f.allowed = bits.data();
        fs.allowed = bits_sk.data();
        if (all.size() > 20) {
          f.has_lo = fs.has_lo = true;
          f.lo = fs.lo = all[5].distance;
          f.has_hi = fs.has_hi = true;
          f.hi_strict = fs.hi_strict = true;
          f.hi = fs.hi = all[all.size() - 1].distance;
        }
        std::vector<TopK::Item> want, got;
        knn(ref, m, q.data(), 10, &f, &want);
        knn(sk, m, q.data(), 10, &fs, &got);
        check(same_items(want, got), "%s %s: %s query %zu with bitmap and bounds", label, what,
              m == Metric::l2 ? "l2" : "cos", qi);
      }
    }
  };
  compare("after build");
  // Writes after the build keep the sketch current: overwrite, insert and remove rows.
  for (size_t i = 0; i < n / 4; i++) {
    const int64_t id = static_cast<int64_t>(rnd() % n) * 3 + 1;
    if (i % 3 == 0) {
      ref.remove(id);
      sk.remove(id);
    } else {
      fill_row(kind, dim, i, centers, x.data());
      const int64_t nid = i % 3 == 1 ? id : static_cast<int64_t>(n + i) * 3 + 2;
      ref.upsert(nid, x.data());
      sk.upsert(nid, x.data());
    }
  }
  check(sk.has_sketch() && sk.size() == ref.size(), "%s: sketch kept through writes", label);
  compare("after writes");
  // Copies and moves carry the sketch along.
  Arena copy(sk);
  Arena moved(std::move(copy));
  check(moved.has_sketch(), "%s: copy + move keep the sketch", label);
  std::vector<float> q(dim);
  fill_row(kUniform, dim, 0, centers, q.data());
  std::vector<TopK::Item> want, got;
  knn(ref, Metric::l2, q.data(), 10, nullptr, &want);
  knn(moved, Metric::l2, q.data(), 10, nullptr, &got);
  check(same_items(want, got), "%s: moved copy scans the same", label);
}

}  // namespace

int main() {
  const char* err = nullptr;
  if (!kernels_init(&err)) {
    std::printf("%s\n", err);
    return 1;
  }
  if (const char* seed = std::getenv("VECSQLITE_SEED")) g_state = std::strtoull(seed, nullptr, 10);
  std::printf("test_arena: seed %llu (VECSQLITE_SEED)\n", static_cast<unsigned long long>(g_state));
  test_pool();  // first: the pool is empty
  test_storage();
  test_wide_rows(768);
  test_wide_rows(515);
  test_reservation();
  test_scan(3000, 16, "small (one thread)");
  test_scan(70000, 96, "26 MiB (threaded)");
  test_sketch(kUniform, 3000, 64, "sketch uniform");
  test_sketch(kClustered, 4000, 128, "sketch clustered");
  test_sketch(kDuplicates, 2500, 48, "sketch duplicates");
  test_sketch(kIntegers, 3000, 17, "sketch integers");
  test_sketch(kMagnitudes, 3000, 40, "sketch magnitudes");
  test_sketch(kNonFinite, 2100, 33, "sketch non-finite");
  test_sketch(kUniform, 3000, 8192, "sketch 8192 dims");
  test_sketch(kClustered, 40000, 128, "sketch 20 MiB (threaded)");
  std::printf("%d passed, %d failed\n", g_passed, g_failed);
  return g_failed == 0 ? 0 : 1;
}
