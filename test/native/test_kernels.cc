// Native kernel test: every ISA available on this machine x every kernel (one-to-one and block)
// against double-precision `_accurate` references computed here (the sketch's bound pass
// against the bound in long double), plus TopK against a full-sort oracle and the VECSQLITE_ISA
// dispatch rules.
//
//   tolerance  f32: |got - ref| <= 1e-5 * scale, scale = sum of |terms| (>= |ref|), so results
//                   that cancel to near zero are judged against the size of what was summed
//              i8 and u1: exact equality (block outputs: exactly float(exact integer))
//   dims       1..1100, 1536, 3072, 4096, 8191, 8192 (+ 8193 and 70000 for int8 overflow checks)
//   pointers   offset by one element (one float / one byte) from the allocation: unaligned
//   seed       VECSQLITE_SEED (default 20241122), printed so a failure can be replayed
//
// Prints skipped ISAs, the worst f32 error seen per ISA (in units of 1e-5 * scale), and ends
// with "N passed, M failed". Exit status is non-zero on any failure.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "core/topk.h"
#include "kernels/kernels.h"
#include "check.h"

using namespace vecsqlite;

namespace {

double g_worst = 0;  // worst f32 |err| / (1e-5 * scale) seen for the current ISA

// ---- RNG (splitmix64) ----
uint64_t g_rng = 0;
uint64_t next_u64() {
  uint64_t z = (g_rng += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
float next_f32() { return float(double(next_u64() >> 11) * (1.0 / 9007199254740992.0) * 2.0 - 1.0); }

// ---- _accurate references (double / exact integer) ----
struct F32Ref {
  double l2sq, dot, l1, aa, bb, dot_abs;  // dot_abs = sum |a_i b_i|
};
F32Ref f32_accurate(const float* a, const float* b, size_t n) {
  F32Ref r{0, 0, 0, 0, 0, 0};
  for (size_t i = 0; i < n; i++) {
    const double x = a[i], y = b[i], d = x - y;
    r.l2sq += d * d;
    r.dot += x * y;
    r.dot_abs += std::fabs(x * y);
    r.l1 += std::fabs(d);
    r.aa += x * x;
    r.bb += y * y;
  }
  return r;
}
struct I8Ref {
  int64_t l2sq, dot, aa, bb;
};
I8Ref i8_accurate(const int8_t* a, const int8_t* b, size_t n) {
  I8Ref r{0, 0, 0, 0};
  for (size_t i = 0; i < n; i++) {
    const int64_t x = a[i], y = b[i];
    r.l2sq += (x - y) * (x - y);
    r.dot += x * y;
    r.aa += x * x;
    r.bb += y * y;
  }
  return r;
}
uint64_t hamming_accurate(const uint8_t* a, const uint8_t* b, size_t n) {
  uint64_t s = 0;
  for (size_t i = 0; i < n; i++)
    for (int bit = 0; bit < 8; bit++) s += ((a[i] ^ b[i]) >> bit) & 1u;
  return s;
}
float cos_from(double dot, double aa, double bb) {
  if (aa == 0.0 || bb == 0.0) return NAN;
  return float(1.0 - dot / std::sqrt(aa * bb));
}

bool near(double got, double ref, double scale) {
  const double tol = 1e-5 * scale;
  const double err = std::fabs(got - ref);
  if (scale > 0) g_worst = std::max(g_worst, err / tol);
  return err <= tol || (scale == 0 && got == 0);
}
// Cosine distance: the similarity's error is bounded by 1e-5 * (sum|ab| / (|a||b|) + 1).
bool near_cos(double got, const F32Ref& r) {
  if (r.aa == 0 || r.bb == 0) return std::isnan(got);
  const double ref = 1.0 - r.dot / std::sqrt(r.aa * r.bb);
  return near(got, ref, r.dot_abs / std::sqrt(r.aa * r.bb) + 1.0);
}

std::vector<size_t> test_dims() {
  std::vector<size_t> d;
  for (size_t i = 1; i <= 1100; i++) d.push_back(i);
  for (size_t i : {1536, 3072, 4096, 8191, 8192}) d.push_back(i);
  return d;
}

constexpr size_t kRows = 7;  // one group of four rows plus a remainder of three

// ---- float32 ----
void test_f32(const KernelTable& t, size_t n) {
  const char* isa = isa_name(t.isa);
  // One extra element in front of every buffer: data starts 4 bytes past the allocation.
  std::vector<float> qbuf(n + 1), bbuf(kRows * n + 1);
  float* q = qbuf.data() + 1;
  float* base = bbuf.data() + 1;
  for (size_t i = 0; i < n; i++) q[i] = next_f32();
  for (size_t i = 0; i < kRows * n; i++) base[i] = next_f32();
  if (n % 97 == 5) std::fill(base + 2 * n, base + 3 * n, 0.0f);  // a zero row: cosine NaN
  if (n % 101 == 7) std::fill(q, q + n, 0.0f);                     // a zero query: all NaN

  for (size_t r = 0; r < kRows; r++) {
    const float* b = base + r * n;
    const F32Ref ref = f32_accurate(q, b, n);
    check(near(t.l2sq_f32(q, b, n), ref.l2sq, ref.l2sq), "l2sq_f32_%s n=%zu row=%zu got=%.9g ref=%.9g", isa, n, r,
          double(t.l2sq_f32(q, b, n)), ref.l2sq);
    check(near(t.dot_f32(q, b, n), ref.dot, ref.dot_abs), "dot_f32_%s n=%zu got=%.9g ref=%.9g", isa, n,
          double(t.dot_f32(q, b, n)), ref.dot);
    check(near(t.l1_f32(q, b, n), ref.l1, ref.l1), "l1_f32_%s n=%zu got=%.9g ref=%.9g", isa, n,
          double(t.l1_f32(q, b, n)), ref.l1);
    const CosParts p = t.cos_parts_f32(q, b, n);
    check(near(p.dot, ref.dot, ref.dot_abs) && near(p.aa, ref.aa, ref.aa) && near(p.bb, ref.bb, ref.bb),
          "cos_parts_f32_%s n=%zu got=(%.9g %.9g %.9g) ref=(%.9g %.9g %.9g)", isa, n, p.dot, p.aa, p.bb, ref.dot,
          ref.aa, ref.bb);
  }

  float out[kRows];
  struct {
    const char* name;
    void (*fn)(const float*, const float*, size_t, size_t, float*);
    int kind;
  } blocks[] = {{"l2sq", t.l2sq_f32_block, 0}, {"dot", t.dot_f32_block, 1}, {"cos", t.cos_f32_block, 2},
                {"l1", t.l1_f32_block, 3}};
  for (const auto& blk : blocks) {
    for (size_t count : {size_t(kRows), size_t(4), size_t(1), size_t(0)}) {
      std::fill(out, out + kRows, -12345.0f);
      blk.fn(q, base, n, count, out);
      for (size_t r = 0; r < count; r++) {
        const float* b = base + r * n;
        const F32Ref ref = f32_accurate(q, b, n);
        bool ok = false, ok_one = false;
        switch (blk.kind) {
          case 0:
            ok = near(out[r], ref.l2sq, ref.l2sq);
            ok_one = near(out[r], t.l2sq_f32(q, b, n), ref.l2sq);
            break;
          case 1:
            ok = near(out[r], -ref.dot, ref.dot_abs);
            ok_one = near(out[r], -t.dot_f32(q, b, n), ref.dot_abs);
            break;
          case 2: {
            ok = near_cos(out[r], ref);
            const CosParts p = t.cos_parts_f32(q, b, n);
            const float one = cos_from(p.dot, p.aa, p.bb);
            ok_one = std::isnan(one) ? std::isnan(out[r]) : near(out[r], one, 2.0);
            break;
          }
          default:
            ok = near(out[r], ref.l1, ref.l1);
            ok_one = near(out[r], t.l1_f32(q, b, n), ref.l1);
        }
        check(ok, "%s_f32_block_%s n=%zu count=%zu row=%zu got=%.9g", blk.name, isa, n, count, r, double(out[r]));
        check(ok_one, "%s_f32_block_%s vs one-to-one n=%zu row=%zu", blk.name, isa, n, r);
      }
      check(count == kRows || out[count] == -12345.0f, "%s_f32_block_%s wrote past count=%zu", blk.name, isa, count);
    }
  }

  // A row's distance has the same bits wherever it sits in a block (4-row passes and the last,
  // partial pass alike): the pre-filtered scans recompute single rows and must agree with the
  // full scan, and equal rows must tie exactly.
  for (const auto& blk : blocks) {
    float all[kRows], part[kRows];
    blk.fn(q, base, n, kRows, all);
    for (size_t s = 1; s < kRows; s += 2) {
      blk.fn(q, base + s * n, n, kRows - s, part);
      for (size_t r = s; r < kRows; r++)
        check(std::memcmp(&part[r - s], &all[r], sizeof(float)) == 0,
              "%s_f32_block_%s n=%zu row %zu at position %zu differs from position %zu", blk.name, isa, n, r,
              r - s, r);
    }
  }

  // block_distance mapping: l2 = sqrt(l2sq), dot = -(a.b), no hamming on f32.
  float l2[kRows], l2sq[kRows];
  check(block_distance(t, Metric::l2, Dtype::f32, q, base, n, kRows, l2), "block_distance l2 f32 %s", isa);
  t.l2sq_f32_block(q, base, n, kRows, l2sq);
  for (size_t r = 0; r < kRows; r++) check(l2[r] == std::sqrt(l2sq[r]), "block_distance l2 = sqrt(l2sq) %s", isa);
  check(!block_distance(t, Metric::hamming, Dtype::f32, q, base, n, kRows, l2), "no hamming on f32 (%s)", isa);
}

// ---- int16 query x int8 rows (sketch pre-filter): exact against an int64 reference ----
// mode 0: random; mode 1: every query element +-kSketchQueryMax, rows all -128 (largest sums).
void test_i16i8(const KernelTable& t, size_t n, int mode) {
  const char* isa = isa_name(t.isa);
  std::vector<int16_t> qbuf(n + 1);
  std::vector<int8_t> bbuf(kRows * n + 1);
  int16_t* q = qbuf.data() + 1;
  int8_t* base = bbuf.data() + 1;
  for (size_t i = 0; i < n; i++) {
    q[i] = mode == 1 ? int16_t(-kSketchQueryMax)
                     : int16_t(int(next_u64() % (2 * kSketchQueryMax + 1)) - kSketchQueryMax);
  }
  for (size_t i = 0; i < kRows * n; i++) base[i] = mode == 1 ? int8_t(-128) : int8_t(next_u64() & 0xff);
  int32_t out[kRows];
  for (size_t count : {size_t(kRows), size_t(5), size_t(4), size_t(1), size_t(0)}) {
    std::fill(out, out + kRows, -12345);
    t.dot_i16i8_block(q, base, n, count, out);
    for (size_t r = 0; r < count; r++) {
      int64_t ref = 0;
      for (size_t i = 0; i < n; i++) ref += int64_t(q[i]) * int64_t(base[r * n + i]);
      check(int64_t(out[r]) == ref, "dot_i16i8_block_%s n=%zu mode=%d count=%zu row=%zu got=%d ref=%lld", isa, n,
            mode, count, r, out[r], static_cast<long long>(ref));
    }
    check(count == kRows || out[count] == -12345, "dot_i16i8_block_%s wrote past count=%zu", isa, count);
  }
  // The batch form (1 to 4 queries at once, through the ISA's kernel or the fallback) against
  // the single-query kernel just checked.
  std::vector<std::vector<int16_t>> qs(4, std::vector<int16_t>(n + 1));
  for (auto& qq : qs)
    for (size_t i = 0; i < n; i++) qq[i] = int16_t(int(next_u64() % (2 * kSketchQueryMax + 1)) - kSketchQueryMax);
  for (size_t nq = 1; nq <= 4; nq++) {
    const int16_t* qp[4];
    int32_t got[4][kRows], want[kRows];
    int32_t* outs[4];
    for (size_t j = 0; j < nq; j++) {
      qp[j] = qs[j].data();
      outs[j] = got[j];
    }
    dot_i16i8_multi(t, qp, nq, base, n, kRows, outs);
    for (size_t j = 0; j < nq; j++) {
      t.dot_i16i8_block(qp[j], base, n, kRows, want);
      for (size_t r = 0; r < kRows; r++)
        check(got[j][r] == want[r], "dot_i16i8_multi_%s n=%zu nq=%zu query=%zu row=%zu got=%d want=%d", isa, n, nq, j, r,
              got[j][r], want[r]);
    }
  }
}

// ---- the sketch's bound pass: keep flags against the bound evaluated here in long double ----
// Rows drawn so that about half of them are excluded, plus rows with an unbounded error, a zero
// norm and a zero scale. A row whose long double margin is within 1e-9 (relative) of the limit
// is not judged (double rounding may decide it either way; the bound's slack covers that).
// finite_f32 against std::isfinite: random finite values, then one NaN / +Inf / -Inf / the
// largest finite float / a denormal at each position of short and long arrays.
void test_finite(const KernelTable& t) {
  std::mt19937 rng(91);
  std::uniform_real_distribution<float> u(-1e30f, 1e30f);
  const float specials[] = {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(), std::numeric_limits<float>::max(),
                            std::numeric_limits<float>::denorm_min(), -0.0f};
  for (size_t n : {size_t(0), size_t(1), size_t(7), size_t(8), size_t(9), size_t(17), size_t(128), size_t(769)}) {
    std::vector<float> x(n);
    for (auto& v : x) v = u(rng);
    check(t.finite_f32(x.data(), n), "%s finite_f32 n=%zu all finite", isa_name(t.isa), n);
    for (size_t at = 0; at < n; at += (n > 64 ? 13 : 1)) {
      for (float sp : specials) {
        const float keep = x[at];
        x[at] = sp;
        const bool want = std::isfinite(sp);
        check(t.finite_f32(x.data(), n) == want, "%s finite_f32 n=%zu value %g at %zu", isa_name(t.isa), n,
              static_cast<double>(sp), at);
        x[at] = keep;
      }
    }
  }
}

void test_sketch_keep(const KernelTable& t, bool cosine) {
  const char* isa = isa_name(t.isa);
  auto unit = [] { return double(next_u64() % 1000001) / 1e6; };
  SketchBound b{};
  b.cosine = cosine;
  b.scale = 0.01;
  b.qt2 = 0.3;
  b.reach = 0.5;
  b.qt = 0.55;
  b.err = 0.01;
  b.qnorm = 0.55;
  b.limit = 0.6;
  const size_t n = 1000;
  std::vector<SketchRowInfo> rows(n);
  std::vector<int32_t> dots(n);
  for (size_t r = 0; r < n; r++) {
    rows[r].scale = float(0.01 * (0.5 + unit()));
    rows[r].codes_sq = uint32_t(1000 + next_u64() % 4000);
    rows[r].err = float((cosine ? 0.05 : 0.5) * unit());
    rows[r].norm = float(0.3 + 0.7 * unit());
    dots[r] = int32_t(next_u64() % 6001) - 3000;
  }
  rows[3].err = INFINITY;
  rows[5].norm = 0;
  rows[7].scale = 0;
  rows[7].err = 0;
  rows[9].norm = 0;
  rows[9].scale = 0;
  rows[9].err = 0;
  size_t kept = 0, excluded = 0, unjudged = 0;
  int unbounded_keep = -1;
  std::vector<uint8_t> keep(n + 1);
  for (size_t count : {n, size_t(512), size_t(9), size_t(8), size_t(7), size_t(1), size_t(0)}) {
    std::fill(keep.begin(), keep.end(), 0xee);
    t.sketch_keep_block(b, dots.data(), rows.data(), count, keep.data());
    for (size_t r = 0; r < count; r++) {
      const SketchRowInfo& m = rows[r];
      const long double ss = (long double)b.scale * m.scale * dots[r];
      bool ex;
      long double gap, size;
      if (!cosine) {
        const long double rb = (long double)m.scale * m.scale * m.codes_sq;
        const long double d2 = b.qt2 + rb - 2 * ss - 1e-12L * (b.qt2 + rb);
        const long double reach = b.reach + (long double)m.err;
        ex = d2 > reach * reach;
        gap = d2 - reach * reach;
        size = std::fabs(d2) + reach * reach;
      } else {
        const long double lb = 1 - (ss + b.qt * (long double)m.err + b.err * (long double)m.norm) / (b.qnorm * (long double)m.norm);
        ex = lb > b.limit;
        gap = lb - b.limit;
        size = 1;
      }
      if (std::isfinite((double)gap) && std::fabs((double)gap) <= 1e-9 * (double)size) {
        unjudged++;
        continue;
      }
      if (count == n) (ex ? excluded : kept)++;
      check(keep[r] == (ex ? 0 : 1), "sketch_keep_block_%s %s count=%zu row=%zu keep=%d expected %d", isa,
            cosine ? "cosine" : "l2", count, r, keep[r], ex ? 0 : 1);
    }
    check(keep[count] == 0xee, "sketch_keep_block_%s wrote past count=%zu", isa, count);
    if (count == n) unbounded_keep = keep[3];
  }
  check(kept > n / 5 && excluded > n / 5, "sketch_keep_block_%s %s: a mix of outcomes (%zu kept, %zu excluded)", isa,
        cosine ? "cosine" : "l2", kept, excluded);
  check(unbounded_keep == 1, "sketch_keep_block_%s: an unbounded row is kept", isa);
  check(unjudged < 3, "sketch_keep_block_%s: %zu rows too close to judge", isa, unjudged);
}

// ---- the sketch's row encoder: codes, scale and bounds against a double-precision check ----
// mode 0: uniform; 1: magnitudes from 1e-30 to 1e30 with one large element; 2: zero row;
// 3: a NaN or inf element. Codes must also equal the scalar table's (same rounding).
void test_sketch_encode(const KernelTable& t, size_t n, int mode) {
  const char* isa = isa_name(t.isa);
  std::vector<float> xb(n + 1);
  float* x = xb.data() + 1;
  static const float scales[] = {1e-30f, 1e-6f, 1.0f, 1e6f, 1e30f};
  const float sc = mode == 1 ? scales[next_u64() % 5] : 1.0f;
  for (size_t i = 0; i < n; i++) x[i] = mode == 2 ? 0.0f : sc * next_f32();
  if (mode == 1) x[next_u64() % n] = sc * 1000.0f;
  if (mode == 3) x[next_u64() % n] = next_u64() % 2 ? __builtin_nanf("") : __builtin_inff();
  std::vector<int8_t> codes(n + 1, 99), ref(n + 1, 99);
  SketchCodeInfo info, rinfo;
  t.sketch_encode_f32(x, n, codes.data(), &info);
  kernels_for(Isa::scalar)->sketch_encode_f32(x, n, ref.data(), &rinfo);
  check(codes[n] == 99, "sketch_encode_%s n=%zu wrote past the row", isa, n);
  check(std::memcmp(codes.data(), ref.data(), n) == 0 && info.scale == rinfo.scale,
        "sketch_encode_%s n=%zu mode=%d codes differ from scalar", isa, n, mode);
  double exact_n2 = 0, amax = 0;
  for (size_t i = 0; i < n; i++) {
    exact_n2 += double(x[i]) * x[i];
    amax = std::max(amax, std::fabs(double(x[i])));
  }
  if (mode == 3) {
    check(!(info.norm2 <= 3.4e38f), "sketch_encode_%s n=%zu: non-finite row reports norm2 %g", isa, n, double(info.norm2));
    return;
  }
  if (exact_n2 > 1e38) {  // beyond float: reported as +inf (the arena gives such rows no bound)
    check(info.norm2 == __builtin_inff(), "sketch_encode_%s n=%zu: huge row norm2 %g", isa, n, double(info.norm2));
    return;
  }
  check(std::fabs(info.norm2 - exact_n2) <= (n + 16) * 6e-8 * exact_n2 + 1e-44,
        "sketch_encode_%s n=%zu mode=%d norm2 %.9g vs %.9g", isa, n, mode, double(info.norm2), exact_n2);
  const bool used = exact_n2 >= 1e-30;  // the arena uses the bounds of rows in [1e-30, 1e30]
  if (info.scale == 0) {
    bool zero = true;
    for (size_t i = 0; i < n; i++) zero = zero && codes[i] == 0;
    check(zero && info.codes_sq == 0 && info.err2 >= float(exact_n2) * 0.999f,
          "sketch_encode_%s n=%zu mode=%d zero scale: codes 0, err2 = |x|^2", isa, n, mode);
    check(mode == 2 || amax / 127 < 1e-38, "sketch_encode_%s n=%zu mode=%d: scale 0 for a non-zero row", isa, n, mode);
    return;
  }
  check(info.scale == float(amax) / 127.0f, "sketch_encode_%s n=%zu scale %.9g", isa, n, double(info.scale));
  double e2 = 0;
  uint64_t csq = 0;
  bool in_range = true;
  for (size_t i = 0; i < n; i++) {
    in_range = in_range && codes[i] >= -127 && codes[i] <= 127;
    const double e = double(x[i]) - double(info.scale) * codes[i];
    e2 += e * e;
    csq += uint64_t(int(codes[i]) * int(codes[i]));
  }
  check(in_range, "sketch_encode_%s n=%zu codes outside +-127", isa, n);
  check(info.codes_sq == csq, "sketch_encode_%s n=%zu codes_sq %u vs %llu", isa, n, info.codes_sq,
        static_cast<unsigned long long>(csq));
  // The bound: never below the exact error, and no looser than the documented ~0.1%.
  check(!used || (double(info.err2) >= e2 && double(info.err2) <= e2 * (1 + (n + 64) * 2.4e-7) + 1e-44),
        "sketch_encode_%s n=%zu mode=%d err2 %.9g vs exact %.9g", isa, n, mode, double(info.err2), e2);
  // Codes are the nearest grid points: each error within half a step (plus rounding).
  double worst = 0;
  for (size_t i = 0; i < n; i++) worst = std::max(worst, std::fabs(double(x[i]) - double(info.scale) * codes[i]));
  check(worst <= 0.5001 * info.scale, "sketch_encode_%s n=%zu worst element error %.3g of a step", isa, n,
        worst / info.scale);
}

// ---- int8 ----
void i8_fill(int8_t* p, size_t n, int mode) {
  for (size_t i = 0; i < n; i++) {
    switch (mode) {
      case 0: p[i] = int8_t(int(next_u64() & 0xff) - 128); break;
      case 1: p[i] = -128; break;
      case 2: p[i] = 127; break;
      default: p[i] = 0;
    }
  }
}

void test_i8(const KernelTable& t, size_t n, int qmode, int bmode) {
  const char* isa = isa_name(t.isa);
  std::vector<int8_t> qbuf(n + 1), bbuf(kRows * n + 1);
  int8_t* q = qbuf.data() + 1;
  int8_t* base = bbuf.data() + 1;
  i8_fill(q, n, qmode);
  i8_fill(base, kRows * n, bmode);
  if (bmode == 0 && n % 89 == 3) std::fill(base + n, base + 2 * n, int8_t(0));  // zero row

  for (size_t r = 0; r < kRows; r++) {
    const int8_t* b = base + r * n;
    const I8Ref ref = i8_accurate(q, b, n);
    check(t.l2sq_i8(q, b, n) == ref.l2sq, "l2sq_i8_%s n=%zu got=%" PRId64 " ref=%" PRId64, isa, n, t.l2sq_i8(q, b, n),
          ref.l2sq);
    check(t.dot_i8(q, b, n) == ref.dot, "dot_i8_%s n=%zu got=%" PRId64 " ref=%" PRId64, isa, n, t.dot_i8(q, b, n),
          ref.dot);
    const CosParts p = t.cos_parts_i8(q, b, n);
    check(p.dot == double(ref.dot) && p.aa == double(ref.aa) && p.bb == double(ref.bb), "cos_parts_i8_%s n=%zu", isa,
          n);
  }
  float out[kRows];
  for (size_t count : {size_t(kRows), size_t(4), size_t(3)}) {
    t.l2sq_i8_block(q, base, n, count, out);
    for (size_t r = 0; r < count; r++)
      check(out[r] == float(i8_accurate(q, base + r * n, n).l2sq), "l2sq_i8_block_%s n=%zu row=%zu", isa, n, r);
    t.dot_i8_block(q, base, n, count, out);
    for (size_t r = 0; r < count; r++)
      check(out[r] == -float(i8_accurate(q, base + r * n, n).dot), "dot_i8_block_%s n=%zu row=%zu", isa, n, r);
    t.cos_i8_block(q, base, n, count, out);
    for (size_t r = 0; r < count; r++) {
      const I8Ref ref = i8_accurate(q, base + r * n, n);
      const float want = cos_from(double(ref.dot), double(ref.aa), double(ref.bb));
      check(std::isnan(want) ? std::isnan(out[r]) : out[r] == want, "cos_i8_block_%s n=%zu row=%zu got=%.9g want=%.9g",
            isa, n, r, double(out[r]), double(want));
    }
  }
  // l1 on int8 (vec0's int8 distance_metric=l1): exact integer sums, computed here directly.
  check(block_distance(t, Metric::l1, Dtype::i8, q, base, n, kRows, out), "l1 on i8 exists (%s)", isa);
  for (size_t r = 0; r < size_t(kRows); r++) {
    int64_t want = 0;
    for (size_t i = 0; i < n; i++) want += std::llabs(int64_t(q[i]) - int64_t(base[r * n + i]));
    check(out[r] == float(want), "l1_i8 block_distance %s n=%zu row=%zu got=%.9g want=%lld", isa, n, r, double(out[r]),
          static_cast<long long>(want));
  }
}

// ---- bits ----
void test_u1(const KernelTable& t, size_t n) {
  const char* isa = isa_name(t.isa);
  std::vector<uint8_t> qbuf(n + 1), bbuf(kRows * n + 1);
  uint8_t* q = qbuf.data() + 1;
  uint8_t* base = bbuf.data() + 1;
  for (size_t i = 0; i < n; i++) q[i] = uint8_t(next_u64());
  for (size_t i = 0; i < kRows * n; i++) base[i] = uint8_t(next_u64());
  if (n % 7 == 0) std::fill(base, base + n, uint8_t(0xff));
  for (size_t r = 0; r < kRows; r++) {
    const uint64_t ref = hamming_accurate(q, base + r * n, n);
    check(t.hamming_u1(q, base + r * n, n) == ref, "hamming_u1_%s n=%zu", isa, n);
  }
  float out[kRows];
  for (size_t count : {size_t(kRows), size_t(5)}) {
    t.hamming_u1_block(q, base, n, count, out);
    for (size_t r = 0; r < count; r++)
      check(out[r] == float(hamming_accurate(q, base + r * n, n)), "hamming_u1_block_%s n=%zu row=%zu", isa, n, r);
  }
  check(block_distance(t, Metric::hamming, Dtype::u1, q, base, n, kRows, out), "hamming u1 mapping (%s)", isa);
  check(!block_distance(t, Metric::l2sq, Dtype::u1, q, base, n, kRows, out), "no l2sq on u1 (%s)", isa);
}

// ---- TopK vs a full sort ----
void topk_case(size_t n, size_t k, int ties, bool with_nan, bool use_block, bool use_ids) {
  std::vector<float> d(n);
  std::vector<int64_t> ids(n);
  for (size_t i = 0; i < n; i++) {
    d[i] = ties ? float(next_u64() % uint64_t(ties)) : next_f32();
    if (with_nan && next_u64() % 5 == 0) d[i] = NAN;
    ids[i] = int64_t(1000 + i);
  }
  if (use_ids) {  // a shuffled, partly negative permutation: distinct ids keep the order total
    for (size_t i = 0; i < n; i++) ids[i] = int64_t(i * 7919 % (n + 1)) - int64_t(n / 2);
    std::vector<int64_t> seen(ids);
    std::sort(seen.begin(), seen.end());
    if (std::adjacent_find(seen.begin(), seen.end()) != seen.end())
      for (size_t i = 0; i < n; i++) ids[i] = int64_t(n - i);
  }
  std::vector<TopK::Item> oracle;
  for (size_t i = 0; i < n; i++)
    if (!std::isnan(d[i])) oracle.push_back({d[i], ids[i]});
  std::sort(oracle.begin(), oracle.end(), [](const TopK::Item& a, const TopK::Item& b) {
    return a.distance < b.distance || (a.distance == b.distance && a.id < b.id);
  });
  if (oracle.size() > k) oracle.resize(k);

  TopK top(k);
  if (use_block) {
    // Feed in uneven slices to exercise the hoisted threshold.
    size_t i = 0, step = 1;
    while (i < n) {
      const size_t m = std::min(step, n - i);
      top.push_block(d.data() + i, use_ids ? ids.data() + i : nullptr, 1000 + int64_t(i), m);
      i += m;
      step = step * 3 % 1000 + 1;
    }
  } else {
    for (size_t i = 0; i < n; i++) top.push(d[i], ids[i]);
  }
  const float want_threshold = k == 0 ? INFINITY : oracle.size() < k ? INFINITY : oracle.back().distance;
  check(top.threshold() == want_threshold, "topk threshold n=%zu k=%zu", n, k);
  check(top.size() == oracle.size() && top.capacity() == k, "topk size n=%zu k=%zu got=%zu want=%zu", n, k, top.size(),
        oracle.size());
  std::vector<TopK::Item> got(top.size() + 1);
  const size_t m = top.take_sorted(got.data());
  bool same = m == oracle.size();
  for (size_t i = 0; same && i < m; i++) same = got[i].distance == oracle[i].distance && got[i].id == oracle[i].id;
  check(same, "topk order n=%zu k=%zu ties=%d nan=%d block=%d ids=%d", n, k, ties, int(with_nan), int(use_block),
        int(use_ids));
  check(top.size() == 0, "topk empty after take_sorted");
}

void test_topk() {
  for (bool block : {false, true})
    for (bool ids : {false, true})
      for (bool nan : {false, true})
        for (int ties : {0, 3, 50})
          for (size_t n : {size_t(0), size_t(1), size_t(10), size_t(1000), size_t(5000)})
            for (size_t k : {size_t(0), size_t(1), size_t(5), size_t(64), size_t(65), size_t(999), size_t(1000),
                             size_t(1001), size_t(20000)})
              topk_case(n, k, ties, nan, block, ids);
  // Large k: storage grows with what is kept, not with k.
  topk_case(1500000, 1000000, 0, false, true, false);
  topk_case(1000, size_t(1) << 40, 7, true, true, false);
  {
    TopK huge(~size_t(0));
    huge.push(1.0f, 1);
    TopK::Item it;
    check(huge.take_sorted(&it) == 1 && it.id == 1, "topk k=SIZE_MAX");
  }
  {
    TopK zero(0);
    zero.push(0.0f, 1);
    float d = 0.0f;
    zero.push_block(&d, nullptr, 5, 1);
    check(zero.size() == 0 && zero.threshold() == INFINITY, "topk k=0 admits nothing");
  }
  {
    TopK t(3);
    const float d[] = {NAN, NAN, 1.0f, -INFINITY, INFINITY, NAN};
    t.push_block(d, nullptr, 0, 6);
    TopK::Item it[3];
    const size_t m = t.take_sorted(it);
    check(m == 3 && it[0].id == 3 && it[1].id == 2 && it[2].id == 4, "topk NaN never admitted, infinities are");
  }
}

// ---- dispatch ----
// Runs kernels_init in a child with VECSQLITE_ISA=value (the choice is once per process).
// Returns 1 when init succeeded with table `expect`, 0 when it failed with a message that
// contains `needle`, -1 otherwise.
int init_in_child(const char* value, Isa expect, const char* needle) {
  std::fflush(stdout);
  const pid_t pid = fork();
  if (pid == 0) {
    setenv("VECSQLITE_ISA", value, 1);
    const char* err = nullptr;
    if (kernels_init(&err)) _exit(kernels().isa == expect ? 1 : 3);
    _exit(err != nullptr && std::strstr(err, needle) != nullptr && std::strncmp(err, "vecsqlite: ", 11) == 0 ? 0 : 4);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status)) return -1;
  const int code = WEXITSTATUS(status);
  return code == 1 ? 1 : code == 0 ? 0 : -1;
}

void test_dispatch() {
  Isa isa;
  for (int i = 0; i < kIsaCount; i++) {
    check(isa_from_name(isa_name(Isa(i)), &isa) && isa == Isa(i), "isa_from_name(isa_name(%d))", i);
  }
  check(!isa_from_name("foo", &isa) && !isa_from_name("AVX2", &isa) && !isa_from_name("", &isa) &&
            !isa_from_name("avx", &isa),
        "isa_from_name rejects unknown tokens");
  check(kernels_for(Isa::scalar) != nullptr, "scalar always available");
#if defined(__x86_64__)
  check(kernels_for(Isa::neon) == nullptr, "no neon on x86-64");
  check(init_in_child("neon", Isa::neon, "VECSQLITE_ISA=neon is not available") == 0,
        "VECSQLITE_ISA=neon is an error on x86-64");
#endif
  check(init_in_child("foo", Isa::scalar, "unknown VECSQLITE_ISA value 'foo'") == 0, "VECSQLITE_ISA=foo is an error");
  check(init_in_child("Avx2", Isa::scalar, "unknown VECSQLITE_ISA value") == 0, "VECSQLITE_ISA is case-sensitive");
  for (int i = 0; i < kIsaCount; i++) {
    const int r = init_in_child(isa_name(Isa(i)), Isa(i), "not available");
    check(kernels_for(Isa(i)) != nullptr ? r == 1 : r == 0, "VECSQLITE_ISA=%s selects it iff available", isa_name(Isa(i)));
  }
  // Empty = automatic = the best available.
  Isa best = Isa::scalar;
  for (Isa c : {Isa::neon, Isa::avx2, Isa::avx512})
    if (kernels_for(c) != nullptr) best = c;
  check(init_in_child("", best, "") == 1, "empty VECSQLITE_ISA picks the best (%s)", isa_name(best));
}

}  // namespace

int main() {
  const char* seed_env = std::getenv("VECSQLITE_SEED");
  const uint64_t seed = seed_env != nullptr && *seed_env ? std::strtoull(seed_env, nullptr, 10) : 20241122ull;
  g_rng = seed;
  std::printf("test_kernels: seed %" PRIu64 " (VECSQLITE_SEED)\n", seed);

  test_dispatch();  // forks: before this process picks its own table

  const char* err = nullptr;
  if (!kernels_init(&err)) {
    std::printf("kernels_init failed: %s\n", err);
    check(false, "kernels_init");
  } else {
    std::printf("active ISA: %s\n", isa_name(kernels().isa));
  }

  const std::vector<size_t> dims = test_dims();
  for (int i = 0; i < kIsaCount; i++) {
    const KernelTable* t = kernels_for(Isa(i));
    if (t == nullptr) {
      std::printf("skipped ISA %s (not compiled in or not supported by this CPU)\n", isa_name(Isa(i)));
      continue;
    }
    const int before_fail = g_failed, before_pass = g_passed;
    g_worst = 0;
    check(t->isa == Isa(i), "table isa tag %s", isa_name(Isa(i)));
    for (size_t n : dims) {
      test_f32(*t, n);
      test_i8(*t, n, 0, 0);
      test_u1(*t, n);
      if (n <= kSketchMaxDim) test_i16i8(*t, n, 0);
      if (n <= kSketchMaxDim) for (int mode = 0; mode < 4; mode++) test_sketch_encode(*t, n, mode);
    }
    test_i16i8(*t, kSketchMaxDim, 1);
    test_sketch_keep(*t, false);
    test_sketch_keep(*t, true);
    test_finite(*t);
    // Extreme int8 values at lengths that cross the int32 drain interval.
    for (size_t n : {size_t(8192), size_t(8193), size_t(16384 + 17), size_t(70000)}) {
      test_i8(*t, n, 1, 1);
      test_i8(*t, n, 1, 2);
      test_i8(*t, n, 2, 2);
    }
    for (size_t n : {size_t(1), size_t(33), size_t(768)}) test_i8(*t, n, 3, 0);  // zero query

    std::printf("ISA %-6s %6d checks, %d failed; worst f32 error %.3f of tolerance\n", isa_name(Isa(i)),
                g_passed + g_failed - before_pass - before_fail, g_failed - before_fail, g_worst);
  }

  test_topk();

  std::printf("%d passed, %d failed\n", g_passed, g_failed);
  return g_failed == 0 ? 0 : 1;
}
