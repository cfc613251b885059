// Native Arena test: the row block (malloc while small, mmap + huge pages from 4 MiB on) through
// growth, copy, move, remove and clear, checked against a std::map model; and scan_topk
// (threaded from 16 MiB on) with slot bitmaps and distance bounds against a brute-force sort
// computed here in double precision. Ends with "N passed, M failed".
#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <utility>
#include <vector>

#include "core/arena.h"
#include "kernels/kernels.h"

using namespace vecsqlite;

namespace {

int g_passed = 0, g_failed = 0;

void check(bool ok, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void check(bool ok, const char* fmt, ...) {
  if (ok) {
    g_passed++;
    return;
  }
  g_failed++;
  if (g_failed <= 20) {
    va_list ap;
    va_start(ap, fmt);
    std::printf("FAIL: ");
    std::vprintf(fmt, ap);
    std::printf("\n");
    va_end(ap);
  }
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

void test_storage() {
  const size_t dim = 64;  // 256-byte rows: the 4 MiB mapping starts at 16384 rows
  Arena a(Dtype::f32, dim);
  std::map<int64_t, std::vector<float>> model;
  std::vector<float> row(dim);
  for (int step = 0; step < 60000; step++) {
    const int64_t id = static_cast<int64_t>(rnd() % 40000);
    if (rnd() % 5 == 0) {
      check(a.remove(id) == (model.erase(id) == 1), "remove %lld", static_cast<long long>(id));
    } else {
      for (float& x : row) x = rndf();
      a.upsert(id, row.data());
      model[id] = row;
    }
  }
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

}  // namespace

int main() {
  const char* err = nullptr;
  if (!kernels_init(&err)) {
    std::printf("%s\n", err);
    return 1;
  }
  test_storage();
  test_scan(3000, 16, "small (one thread)");
  test_scan(70000, 96, "26 MiB (threaded)");
  std::printf("%d passed, %d failed\n", g_passed, g_failed);
  return g_failed == 0 ? 0 : 1;
}
