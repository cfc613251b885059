// Native kernel test (ctest): every ISA available on this machine, every kernel, against a
// float64 reference computed here (f32: relative error <= 1e-5 of the sum of |terms|; int8 and
// bits: exact), for every dimension 1..1100 and several up to 8192, with unaligned inputs;
// block kernels against one-to-one; TopK against a full sort. Seed: VECSQLITE_SEED.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/kernels.h"

using namespace vecsqlite;

static int g_pass = 0, g_fail = 0;

static void check(bool ok, const char* what, const char* isa, size_t n, double got, double want) {
  if (ok) {
    g_pass++;
    return;
  }
  if (g_fail++ < 20) std::printf("FAIL %s [%s] n=%zu got=%.9g want=%.9g\n", what, isa, n, got, want);
}

static bool close_f32(double got, double want, double scale) {
  return std::fabs(got - want) <= 1e-5 * std::max(std::fabs(want), scale) + 1e-30;
}

int main() {
  const char* seed_env = std::getenv("VECSQLITE_SEED");
  const unsigned seed = seed_env ? unsigned(std::strtoul(seed_env, nullptr, 10)) : 20261122u;
  std::printf("seed %u\n", seed);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uf(-1.0f, 1.0f);
  std::uniform_int_distribution<int> ui(-128, 127);

  std::vector<size_t> dims;
  for (size_t d = 1; d <= 1100; d++) dims.push_back(d);
  for (size_t d : {1536, 3072, 4096, 8191, 8192}) dims.push_back(d);

  for (int i = 0; i < kIsaCount; i++) {
    const KernelTable* t = kernels_for(Isa(i));
    const char* name = isa_name(Isa(i));
    if (t == nullptr) {
      std::printf("skipped ISA %s (not compiled in or not supported by this CPU)\n", name);
      continue;
    }
    std::printf("testing ISA %s\n", name);
    for (size_t n : dims) {
      // +1 element so that a, b start at an odd float offset / odd byte address.
      std::vector<float> fa(n + 1), fb(n + 1);
      for (auto& x : fa) x = uf(rng);
      for (auto& x : fb) x = uf(rng);
      const float* a = fa.data() + 1;
      const float* b = fb.data() + 1;
      double l2 = 0, l1 = 0, dot = 0, aa = 0, bb = 0, sabs = 0;
      for (size_t k = 0; k < n; k++) {
        const double d = double(a[k]) - double(b[k]);
        l2 += d * d;
        l1 += std::fabs(d);
        dot += double(a[k]) * b[k];
        sabs += std::fabs(double(a[k]) * b[k]);
        aa += double(a[k]) * a[k];
        bb += double(b[k]) * b[k];
      }
      check(close_f32(t->l2sq_f32(a, b, n), l2, 0), "l2sq_f32", name, n, t->l2sq_f32(a, b, n), l2);
      check(close_f32(t->l1_f32(a, b, n), l1, 0), "l1_f32", name, n, t->l1_f32(a, b, n), l1);
      check(close_f32(t->dot_f32(a, b, n), dot, sabs), "dot_f32", name, n, t->dot_f32(a, b, n), dot);
      const CosParts cp = t->cos_parts_f32(a, b, n);
      check(close_f32(cp.dot, dot, sabs) && close_f32(cp.aa, aa, 0) && close_f32(cp.bb, bb, 0), "cos_parts_f32", name, n, cp.dot, dot);

      // Block kernels over 5 rows (row r = b shifted) must equal the one-to-one kernels.
      const size_t rows = 5;
      std::vector<float> block(rows * n + 1);
      for (auto& x : block) x = uf(rng);
      const float* base = block.data() + 1;
      float out[rows];
      t->l2sq_f32_block(a, base, n, rows, out);
      for (size_t r = 0; r < rows; r++) check(close_f32(out[r], t->l2sq_f32(a, base + r * n, n), 0), "l2sq_f32_block", name, n, out[r], 0);
      t->dot_f32_block(a, base, n, rows, out);
      for (size_t r = 0; r < rows; r++) check(close_f32(out[r], -t->dot_f32(a, base + r * n, n), 1e-3 * n), "dot_f32_block", name, n, out[r], 0);
      t->l1_f32_block(a, base, n, rows, out);
      for (size_t r = 0; r < rows; r++) check(close_f32(out[r], t->l1_f32(a, base + r * n, n), 0), "l1_f32_block", name, n, out[r], 0);
      t->cos_f32_block(a, base, n, rows, out);
      for (size_t r = 0; r < rows; r++) {
        double d2 = 0, q2 = 0, r2 = 0;
        for (size_t k = 0; k < n; k++) {
          d2 += double(a[k]) * base[r * n + k];
          q2 += double(a[k]) * a[k];
          r2 += double(base[r * n + k]) * base[r * n + k];
        }
        const double want = 1.0 - d2 / std::sqrt(q2 * r2);
        check(std::fabs(out[r] - want) <= 1e-5, "cos_f32_block", name, n, out[r], want);
      }

      // int8 and bits: exact.
      std::vector<int8_t> ia(n + 1), ib(n + 1), iblock(rows * n + 1);
      for (auto& x : ia) x = int8_t(ui(rng));
      for (auto& x : ib) x = int8_t(ui(rng));
      for (auto& x : iblock) x = int8_t(ui(rng));
      const int8_t* pa = ia.data() + 1;
      const int8_t* pb = ib.data() + 1;
      int64_t il2 = 0, idot = 0, iaa = 0, ibb = 0;
      for (size_t k = 0; k < n; k++) {
        il2 += (int64_t(pa[k]) - pb[k]) * (int64_t(pa[k]) - pb[k]);
        idot += int64_t(pa[k]) * pb[k];
        iaa += int64_t(pa[k]) * pa[k];
        ibb += int64_t(pb[k]) * pb[k];
      }
      check(t->l2sq_i8(pa, pb, n) == il2, "l2sq_i8", name, n, double(t->l2sq_i8(pa, pb, n)), double(il2));
      check(t->dot_i8(pa, pb, n) == idot, "dot_i8", name, n, double(t->dot_i8(pa, pb, n)), double(idot));
      const CosParts ic = t->cos_parts_i8(pa, pb, n);
      check(ic.dot == double(idot) && ic.aa == double(iaa) && ic.bb == double(ibb), "cos_parts_i8", name, n, ic.dot, double(idot));
      t->l2sq_i8_block(pa, iblock.data() + 1, n, rows, out);
      for (size_t r = 0; r < rows; r++) check(out[r] == float(t->l2sq_i8(pa, iblock.data() + 1 + r * n, n)), "l2sq_i8_block", name, n, out[r], 0);
      t->dot_i8_block(pa, iblock.data() + 1, n, rows, out);
      for (size_t r = 0; r < rows; r++) check(out[r] == -float(t->dot_i8(pa, iblock.data() + 1 + r * n, n)), "dot_i8_block", name, n, out[r], 0);

      const uint8_t* ua = reinterpret_cast<const uint8_t*>(pa);
      const uint8_t* ub = reinterpret_cast<const uint8_t*>(pb);
      uint64_t ham = 0;
      for (size_t k = 0; k < n; k++) ham += uint64_t(__builtin_popcount(unsigned(ua[k] ^ ub[k])));
      check(t->hamming_u1(ua, ub, n) == ham, "hamming_u1", name, n, double(t->hamming_u1(ua, ub, n)), double(ham));
      t->hamming_u1_block(ua, reinterpret_cast<const uint8_t*>(iblock.data() + 1), n, rows, out);
      for (size_t r = 0; r < rows; r++)
        check(out[r] == float(t->hamming_u1(ua, reinterpret_cast<const uint8_t*>(iblock.data() + 1 + r * n), n)), "hamming_u1_block", name, n, out[r], 0);
    }
  }

  // TopK against a full sort, with many ties and NaN.
  std::uniform_int_distribution<int> small(0, 20);
  for (size_t n : {0, 1, 7, 100, 5000}) {
    for (size_t k : {0, 1, 3, 64, 6000}) {
      std::vector<float> d(n);
      for (size_t i = 0; i < n; i++) d[i] = (i % 17 == 5) ? NAN : float(small(rng));
      TopK top(k);
      top.push_block(d.data(), nullptr, 100, n);
      std::vector<TopK::Item> got(top.size());
      got.resize(top.take_sorted(got.data()));
      std::vector<TopK::Item> want;
      for (size_t i = 0; i < n; i++)
        if (!std::isnan(d[i])) want.push_back({d[i], int64_t(100 + i)});
      std::sort(want.begin(), want.end(), [](const TopK::Item& x, const TopK::Item& y) {
        return x.distance < y.distance || (x.distance == y.distance && x.id < y.id);
      });
      if (want.size() > k) want.resize(k);
      bool same = got.size() == want.size();
      for (size_t i = 0; same && i < got.size(); i++) same = got[i].distance == want[i].distance && got[i].id == want[i].id;
      check(same, "topk", "-", n * 10000 + k, double(got.size()), double(want.size()));
      check(top.size() == 0, "topk empty after take", "-", n, double(top.size()), 0);
    }
  }

  Isa parsed;
  check(isa_from_name("avx512", &parsed) && parsed == Isa::avx512, "isa_from_name", "-", 0, 0, 0);
  check(!isa_from_name("sse9", &parsed), "isa_from_name rejects", "-", 0, 0, 0);
  check(kernels_for(Isa::scalar) != nullptr, "scalar always available", "-", 0, 0, 0);

  std::printf("%d passed, %d failed\n", g_pass, g_fail);
  return g_fail == 0 ? 0 : 1;
}
