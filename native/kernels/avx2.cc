// AVX2 + FMA kernels (token "avx2").
//
//   dtype  lanes                        accumulator                 key instructions
//   f32    8 x f32 per ymm              f32 lanes, 2-4 in flight    vfmadd231ps, vsubps, vmaskmovps (tails)
//   i8     16 x i8 -> 16 x i16 per ymm  i32 lanes, drained to i64   vpmovsxbw, vpsubw, vpmaddwd
//                                       every kI8Chunk elements; scalar tail
//   u1     32 bytes per ymm             u64 lanes                   vpxor, vpshufb nibble LUT, vpsadbw;
//                                                                   popcnt tail
//
// Float block kernels take four rows at a time: the query chunk is loaded once per four rows,
// each row has its own accumulators, and the four sums are reduced together (reduce4). The
// int8 block kernels and the sketch's int16 x int8 kernel go one row at a time, front to back
// (memory-bound: one sequential stream measured faster than four interleaved ones).
// ODR: only intrinsics and our own headers are included; everything is file-local (see
// internal.h). The only exported symbol is kernels_avx2_table().
#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include "kernels/internal.h"

namespace vecsqlite {
namespace {

enum Kind { kL2 = 0, kDot = 1, kL1 = 2 };

// A lane gains at most 2 * 255^2 per 16 elements; one chunk's total is < 8192 * 255^2 < 2^31.
constexpr size_t kI8Chunk = 8192;

// vmaskmovps masks for a tail of r < 8 floats: load 8 ints starting at kTailMask + 8 - r.
alignas(64) const int32_t kTailMask[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
inline __m256i tail_mask(size_t r) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kTailMask + 8 - r));
}

inline __m128 reduce4_f32x8(__m256 a, __m256 b, __m256 c, __m256 d) {
  const __m256 abcd = _mm256_hadd_ps(_mm256_hadd_ps(a, b), _mm256_hadd_ps(c, d));
  return _mm_add_ps(_mm256_castps256_ps128(abcd), _mm256_extractf128_ps(abcd, 1));
}

inline __m128i reduce4_i32x8(__m256i a, __m256i b, __m256i c, __m256i d) {
  const __m256i abcd = _mm256_hadd_epi32(_mm256_hadd_epi32(a, b), _mm256_hadd_epi32(c, d));
  return _mm_add_epi32(_mm256_castsi256_si128(abcd), _mm256_extracti128_si256(abcd, 1));
}

inline float reduce_f32x8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline int32_t reduce_i32x8(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}

// ---- float32 ------------------------------------------------------------------------------

template <int K>
inline __m256 step_f32x8(__m256 acc, __m256 x, __m256 y) {
  if (K == kL2) {
    const __m256 d = _mm256_sub_ps(x, y);
    return _mm256_fmadd_ps(d, d, acc);
  }
  if (K == kDot) return _mm256_fmadd_ps(x, y, acc);
  return _mm256_add_ps(acc, _mm256_andnot_ps(_mm256_set1_ps(-0.0f), _mm256_sub_ps(x, y)));
}

template <int K>
inline float one_f32(const float* a, const float* b, size_t n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 = step_f32x8<K>(s0, _mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
    s1 = step_f32x8<K>(s1, _mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));
    s2 = step_f32x8<K>(s2, _mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16));
    s3 = step_f32x8<K>(s3, _mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24));
  }
  for (; i + 8 <= n; i += 8) s0 = step_f32x8<K>(s0, _mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
  if (i < n) {
    const __m256i m = tail_mask(n - i);
    s1 = step_f32x8<K>(s1, _mm256_maskload_ps(a + i, m), _mm256_maskload_ps(b + i, m));
  }
  return reduce_f32x8(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

float l2sq_f32_avx2(const float* a, const float* b, size_t n) { return one_f32<kL2>(a, b, n); }
float dot_f32_avx2(const float* a, const float* b, size_t n) { return one_f32<kDot>(a, b, n); }
float l1_f32_avx2(const float* a, const float* b, size_t n) { return one_f32<kL1>(a, b, n); }

CosParts cos_parts_f32_avx2(const float* a, const float* b, size_t n) {
  __m256 d0 = _mm256_setzero_ps(), d1 = _mm256_setzero_ps();
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  __m256 b0 = _mm256_setzero_ps(), b1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 x0 = _mm256_loadu_ps(a + i), y0 = _mm256_loadu_ps(b + i);
    const __m256 x1 = _mm256_loadu_ps(a + i + 8), y1 = _mm256_loadu_ps(b + i + 8);
    d0 = _mm256_fmadd_ps(x0, y0, d0);
    d1 = _mm256_fmadd_ps(x1, y1, d1);
    a0 = _mm256_fmadd_ps(x0, x0, a0);
    a1 = _mm256_fmadd_ps(x1, x1, a1);
    b0 = _mm256_fmadd_ps(y0, y0, b0);
    b1 = _mm256_fmadd_ps(y1, y1, b1);
  }
  for (; i < n; i += 8) {
    const __m256i m = n - i >= 8 ? _mm256_set1_epi32(-1) : tail_mask(n - i);
    const __m256 x = _mm256_maskload_ps(a + i, m), y = _mm256_maskload_ps(b + i, m);
    d0 = _mm256_fmadd_ps(x, y, d0);
    a0 = _mm256_fmadd_ps(x, x, a0);
    b0 = _mm256_fmadd_ps(y, y, b0);
  }
  return CosParts{reduce_f32x8(_mm256_add_ps(d0, d1)), reduce_f32x8(_mm256_add_ps(a0, a1)),
                  reduce_f32x8(_mm256_add_ps(b0, b1))};
}

#include "kernels/x86_rows.inc"

template <int K>
inline void block_f32(const float* q, const float* base, size_t dim, size_t count, float* out) {
  size_t r = 0;
  for (; r < count; r += 4) {
    // The last pass repeats row r where rows are missing, so a row's distance never depends
    // on its position in the block (the same bits in every pass, tail or not).
    const size_t left = count - r;
    const float* x0 = base + r * dim;
    const float* x1 = left > 1 ? x0 + dim : x0;
    const float* x2 = left > 2 ? x0 + 2 * dim : x0;
    const float* x3 = left > 3 ? x0 + 3 * dim : x0;
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
    __m256 t0 = _mm256_setzero_ps(), t1 = _mm256_setzero_ps(), t2 = _mm256_setzero_ps(), t3 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= dim; i += 16) {
      const __m256 qa = _mm256_loadu_ps(q + i), qb = _mm256_loadu_ps(q + i + 8);
      s0 = step_f32x8<K>(s0, qa, _mm256_loadu_ps(x0 + i));
      t0 = step_f32x8<K>(t0, qb, _mm256_loadu_ps(x0 + i + 8));
      s1 = step_f32x8<K>(s1, qa, _mm256_loadu_ps(x1 + i));
      t1 = step_f32x8<K>(t1, qb, _mm256_loadu_ps(x1 + i + 8));
      s2 = step_f32x8<K>(s2, qa, _mm256_loadu_ps(x2 + i));
      t2 = step_f32x8<K>(t2, qb, _mm256_loadu_ps(x2 + i + 8));
      s3 = step_f32x8<K>(s3, qa, _mm256_loadu_ps(x3 + i));
      t3 = step_f32x8<K>(t3, qb, _mm256_loadu_ps(x3 + i + 8));
    }
    for (; i < dim; i += 8) {
      const __m256i m = dim - i >= 8 ? _mm256_set1_epi32(-1) : tail_mask(dim - i);
      const __m256 qa = _mm256_maskload_ps(q + i, m);
      s0 = step_f32x8<K>(s0, qa, _mm256_maskload_ps(x0 + i, m));
      s1 = step_f32x8<K>(s1, qa, _mm256_maskload_ps(x1 + i, m));
      s2 = step_f32x8<K>(s2, qa, _mm256_maskload_ps(x2 + i, m));
      s3 = step_f32x8<K>(s3, qa, _mm256_maskload_ps(x3 + i, m));
    }
    __m128 v = reduce4_f32x8(_mm256_add_ps(s0, t0), _mm256_add_ps(s1, t1), _mm256_add_ps(s2, t2),
                             _mm256_add_ps(s3, t3));
    if (K == kDot) v = _mm_xor_ps(v, _mm_set1_ps(-0.0f));
    store_rows(out + r, v, left);
  }
}

void l2sq_f32_block_avx2(const float* q, const float* base, size_t dim, size_t count, float* out) {
  block_f32<kL2>(q, base, dim, count, out);
}
void dot_f32_block_avx2(const float* q, const float* base, size_t dim, size_t count, float* out) {
  block_f32<kDot>(q, base, dim, count, out);
}
void l1_f32_block_avx2(const float* q, const float* base, size_t dim, size_t count, float* out) {
  block_f32<kL1>(q, base, dim, count, out);
}

// 1 - dot / sqrt(qq * nn) for four rows in double, as cos_distance_inline (IEEE sqrt and
// division are correctly rounded, so the results are identical); NaN where nn == 0. The
// caller handles qq == 0.
inline __m128 cos4(__m128 dots, double qq, __m128 norms) {
  const __m256d n = _mm256_cvtps_pd(norms);
  const __m256d r = _mm256_sub_pd(_mm256_set1_pd(1.0),
                                  _mm256_div_pd(_mm256_cvtps_pd(dots), _mm256_sqrt_pd(_mm256_mul_pd(_mm256_set1_pd(qq), n))));
  const __m256d zero = _mm256_cmp_pd(n, _mm256_setzero_pd(), _CMP_EQ_OQ);
  return _mm256_cvtpd_ps(_mm256_blendv_pd(r, _mm256_set1_pd(__builtin_nan("")), zero));
}

void cos_f32_block_avx2(const float* q, const float* base, size_t dim, size_t count, float* out) {
  const double qq = one_f32<kDot>(q, q, dim);
  if (qq == 0.0) {  // zero query: every distance is NaN
    for (size_t r = 0; r < count; r++) out[r] = __builtin_nanf("");
    return;
  }
  size_t r = 0;
  for (; r < count; r += 4) {
    // The last pass repeats row r where rows are missing, so a row's distance never depends
    // on its position in the block (the same bits in every pass, tail or not).
    const size_t left = count - r;
    const float* x0 = base + r * dim;
    const float* x1 = left > 1 ? x0 + dim : x0;
    const float* x2 = left > 2 ? x0 + 2 * dim : x0;
    const float* x3 = left > 3 ? x0 + 3 * dim : x0;
    __m256 d0 = _mm256_setzero_ps(), d1 = _mm256_setzero_ps(), d2 = _mm256_setzero_ps(), d3 = _mm256_setzero_ps();
    __m256 n0 = _mm256_setzero_ps(), n1 = _mm256_setzero_ps(), n2 = _mm256_setzero_ps(), n3 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 8 <= dim; i += 8) {
      const __m256 qa = _mm256_loadu_ps(q + i);
      const __m256 y0 = _mm256_loadu_ps(x0 + i), y1 = _mm256_loadu_ps(x1 + i);
      const __m256 y2 = _mm256_loadu_ps(x2 + i), y3 = _mm256_loadu_ps(x3 + i);
      d0 = _mm256_fmadd_ps(qa, y0, d0);
      n0 = _mm256_fmadd_ps(y0, y0, n0);
      d1 = _mm256_fmadd_ps(qa, y1, d1);
      n1 = _mm256_fmadd_ps(y1, y1, n1);
      d2 = _mm256_fmadd_ps(qa, y2, d2);
      n2 = _mm256_fmadd_ps(y2, y2, n2);
      d3 = _mm256_fmadd_ps(qa, y3, d3);
      n3 = _mm256_fmadd_ps(y3, y3, n3);
    }
    if (i < dim) {
      const __m256i m = tail_mask(dim - i);
      const __m256 qa = _mm256_maskload_ps(q + i, m);
      const __m256 y0 = _mm256_maskload_ps(x0 + i, m), y1 = _mm256_maskload_ps(x1 + i, m);
      const __m256 y2 = _mm256_maskload_ps(x2 + i, m), y3 = _mm256_maskload_ps(x3 + i, m);
      d0 = _mm256_fmadd_ps(qa, y0, d0);
      n0 = _mm256_fmadd_ps(y0, y0, n0);
      d1 = _mm256_fmadd_ps(qa, y1, d1);
      n1 = _mm256_fmadd_ps(y1, y1, n1);
      d2 = _mm256_fmadd_ps(qa, y2, d2);
      n2 = _mm256_fmadd_ps(y2, y2, n2);
      d3 = _mm256_fmadd_ps(qa, y3, d3);
      n3 = _mm256_fmadd_ps(y3, y3, n3);
    }
    store_rows(out + r, cos4(reduce4_f32x8(d0, d1, d2, d3), qq, reduce4_f32x8(n0, n1, n2, n3)), left);
  }
}

// ---- int8 ---------------------------------------------------------------------------------

inline __m256i load_i16x16(const int8_t* p) {
  return _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

template <int K>
inline __m256i step_i16x16(__m256i acc, __m256i x, __m256i y) {
  if (K == kL2) {
    const __m256i d = _mm256_sub_epi16(x, y);
    return _mm256_add_epi32(acc, _mm256_madd_epi16(d, d));
  }
  return _mm256_add_epi32(acc, _mm256_madd_epi16(x, y));
}

template <int K>
inline int64_t tail_i8(const int8_t* a, const int8_t* b, size_t i, size_t n) {
  int64_t s = 0;
  for (; i < n; i++) {
    const int32_t x = a[i], y = b[i];
    s += K == kL2 ? (x - y) * (x - y) : x * y;
  }
  return s;
}

template <int K>
inline int64_t one_i8(const int8_t* a, const int8_t* b, size_t n) {
  int64_t total = 0;
  size_t i = 0;
  while (i + 16 <= n) {
    const size_t end = n - i < kI8Chunk ? n : i + kI8Chunk;
    __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
    for (; i + 32 <= end; i += 32) {
      s0 = step_i16x16<K>(s0, load_i16x16(a + i), load_i16x16(b + i));
      s1 = step_i16x16<K>(s1, load_i16x16(a + i + 16), load_i16x16(b + i + 16));
    }
    for (; i + 16 <= end; i += 16) s0 = step_i16x16<K>(s0, load_i16x16(a + i), load_i16x16(b + i));
    total += reduce_i32x8(_mm256_add_epi32(s0, s1));
  }
  return total + tail_i8<K>(a, b, i, n);
}

int64_t l2sq_i8_avx2(const int8_t* a, const int8_t* b, size_t n) { return one_i8<kL2>(a, b, n); }
int64_t dot_i8_avx2(const int8_t* a, const int8_t* b, size_t n) { return one_i8<kDot>(a, b, n); }

CosParts cos_parts_i8_avx2(const int8_t* a, const int8_t* b, size_t n) {
  int64_t dot = 0, aa = 0, bb = 0;
  size_t i = 0;
  while (i + 16 <= n) {
    const size_t end = n - i < kI8Chunk ? n : i + kI8Chunk;
    __m256i sd = _mm256_setzero_si256(), sa = _mm256_setzero_si256(), sb = _mm256_setzero_si256();
    for (; i + 16 <= end; i += 16) {
      const __m256i x = load_i16x16(a + i), y = load_i16x16(b + i);
      sd = _mm256_add_epi32(sd, _mm256_madd_epi16(x, y));
      sa = _mm256_add_epi32(sa, _mm256_madd_epi16(x, x));
      sb = _mm256_add_epi32(sb, _mm256_madd_epi16(y, y));
    }
    dot += reduce_i32x8(sd);
    aa += reduce_i32x8(sa);
    bb += reduce_i32x8(sb);
  }
  for (; i < n; i++) {
    const int32_t x = a[i], y = b[i];
    dot += x * y;
    aa += x * x;
    bb += y * y;
  }
  return CosParts{double(dot), double(aa), double(bb)};
}

// Block kernels: one row at a time, front to back, against the query widened to int16 once
// (a single sequential stream measured 1.25x faster at 768 dims than four interleaved rows).
// Up to kI8Chunk elements no lane can overflow (see kI8Chunk), so rows that long need no
// draining; longer rows go through one_i8.
template <int K>
inline void block_i8(const int8_t* q, const int8_t* base, size_t dim, size_t count, float* out) {
  if (dim > kI8Chunk) {
    for (size_t r = 0; r < count; r++) {
      const float v = float(one_i8<K>(q, base + r * dim, dim));
      out[r] = K == kDot ? -v : v;
    }
    return;
  }
  alignas(32) int16_t q16[kI8Chunk];
  for (size_t i = 0; i < dim; i++) q16[i] = q[i];
  const size_t body = dim & ~size_t(15);
  for (size_t r = 0; r < count; r++) {
    const int8_t* x = base + r * dim;
    __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
    size_t i = 0;
    for (; i + 32 <= body; i += 32) {
      s0 = step_i16x16<K>(s0, _mm256_load_si256(reinterpret_cast<const __m256i*>(q16 + i)), load_i16x16(x + i));
      s1 = step_i16x16<K>(s1, _mm256_load_si256(reinterpret_cast<const __m256i*>(q16 + i + 16)),
                          load_i16x16(x + i + 16));
    }
    if (i < body) {
      s0 = step_i16x16<K>(s0, _mm256_load_si256(reinterpret_cast<const __m256i*>(q16 + i)), load_i16x16(x + i));
      i += 16;
    }
    const float v = float(int64_t(reduce_i32x8(_mm256_add_epi32(s0, s1))) + tail_i8<K>(q, x, i, dim));
    out[r] = K == kDot ? -v : v;
  }
}

void l2sq_i8_block_avx2(const int8_t* q, const int8_t* base, size_t dim, size_t count, float* out) {
  block_i8<kL2>(q, base, dim, count, out);
}

void dot_i8_block_avx2(const int8_t* q, const int8_t* base, size_t dim, size_t count, float* out) {
  block_i8<kDot>(q, base, dim, count, out);
}

void cos_i8_block_avx2(const int8_t* q, const int8_t* base, size_t dim, size_t count, float* out) {
  const double qq = double(one_i8<kDot>(q, q, dim));
  for (size_t r = 0; r < count; r++) {
    const CosParts p = cos_parts_i8_avx2(q, base + r * dim, dim);
    out[r] = cos_distance_inline(p.dot, qq, p.bb);
  }
}

// ---- int16 query x int8 rows (the sketch pre-filter) ----------------------------------------
// Exact: |q| <= 2047 and dim <= 8192 keep every lane and total inside int32 (kernels.h).
void dot_i16i8_block_avx2(const int16_t* q, const int8_t* base, size_t dim, size_t count, int32_t* out) {
  // One row at a time, front to back: a single sequential stream (interleaving four rows, as
  // the float kernels do, measured 1.8x slower at 768 dims: this kernel is memory-bound).
  for (size_t r = 0; r < count; r++) {
    const int8_t* x = base + r * dim;
    __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
    size_t i = 0;
    for (; i + 32 <= dim; i += 32) {
      s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + i)),
                                                  load_i16x16(x + i)));
      s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + i + 16)),
                                                  load_i16x16(x + i + 16)));
    }
    if (i + 16 <= dim) {
      s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + i)),
                                                  load_i16x16(x + i)));
      i += 16;
    }
    int32_t t = reduce_i32x8(_mm256_add_epi32(s0, s1));
    for (; i < dim; i++) t += int32_t(q[i]) * int32_t(x[i]);
    out[r] = t;
  }
}

// ---- bits -----------------------------------------------------------------------------------

inline __m256i popcnt_u64x4(__m256i v) {
  const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,  //
                                       0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
  const __m256i low = _mm256_set1_epi8(0x0f);
  const __m256i lo = _mm256_shuffle_epi8(lut, _mm256_and_si256(v, low));
  const __m256i hi = _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(v, 4), low));
  return _mm256_sad_epu8(_mm256_add_epi8(lo, hi), _mm256_setzero_si256());
}

inline uint64_t reduce_u64x4(__m256i v) {
  const __m128i s = _mm_add_epi64(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  return uint64_t(_mm_cvtsi128_si64(s)) + uint64_t(_mm_extract_epi64(s, 1));
}

inline uint64_t hamming_tail(const uint8_t* a, const uint8_t* b, size_t i, size_t n) {
  uint64_t s = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t x, y;
    __builtin_memcpy(&x, a + i, 8);
    __builtin_memcpy(&y, b + i, 8);
    s += uint64_t(__builtin_popcountll(x ^ y));
  }
  for (; i < n; i++) s += uint64_t(__builtin_popcount(unsigned(a[i] ^ b[i])));
  return s;
}

inline __m256i load_u8x32(const uint8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }

uint64_t hamming_u1_avx2(const uint8_t* a, const uint8_t* b, size_t nbytes) {
  __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
  size_t i = 0;
  for (; i + 64 <= nbytes; i += 64) {
    s0 = _mm256_add_epi64(s0, popcnt_u64x4(_mm256_xor_si256(load_u8x32(a + i), load_u8x32(b + i))));
    s1 = _mm256_add_epi64(s1, popcnt_u64x4(_mm256_xor_si256(load_u8x32(a + i + 32), load_u8x32(b + i + 32))));
  }
  for (; i + 32 <= nbytes; i += 32) {
    s0 = _mm256_add_epi64(s0, popcnt_u64x4(_mm256_xor_si256(load_u8x32(a + i), load_u8x32(b + i))));
  }
  return reduce_u64x4(_mm256_add_epi64(s0, s1)) + hamming_tail(a, b, i, nbytes);
}

// Short rows (< kWideHamming bytes): 64-bit popcnt per word beats the vector path, whose
// per-row reduction would dominate. Four rows at a time, like the vector path.
constexpr size_t kWideHamming = 256;

inline uint64_t load_u64(const uint8_t* p) {
  uint64_t v;
  __builtin_memcpy(&v, p, 8);
  return v;
}

inline void hamming4_words(const uint8_t* q, const uint8_t* x0, size_t nbytes, float* out) {
  const uint8_t* x1 = x0 + nbytes;
  const uint8_t* x2 = x1 + nbytes;
  const uint8_t* x3 = x2 + nbytes;
  uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 8 <= nbytes; i += 8) {
    const uint64_t qw = load_u64(q + i);
    s0 += uint64_t(__builtin_popcountll(qw ^ load_u64(x0 + i)));
    s1 += uint64_t(__builtin_popcountll(qw ^ load_u64(x1 + i)));
    s2 += uint64_t(__builtin_popcountll(qw ^ load_u64(x2 + i)));
    s3 += uint64_t(__builtin_popcountll(qw ^ load_u64(x3 + i)));
  }
  for (; i < nbytes; i++) {
    s0 += uint64_t(__builtin_popcount(unsigned(q[i] ^ x0[i])));
    s1 += uint64_t(__builtin_popcount(unsigned(q[i] ^ x1[i])));
    s2 += uint64_t(__builtin_popcount(unsigned(q[i] ^ x2[i])));
    s3 += uint64_t(__builtin_popcount(unsigned(q[i] ^ x3[i])));
  }
  out[0] = float(s0);
  out[1] = float(s1);
  out[2] = float(s2);
  out[3] = float(s3);
}

// Prefetches the four rows after the group starting at x0 (software prefetch keeps enough
// misses in flight when a row is only a few lines long).
inline void prefetch_next_group(const uint8_t* x0, size_t group_bytes) {
  const size_t pf = group_bytes < 1024 ? 1024 : group_bytes;
  for (size_t o = 0; o < group_bytes; o += 64)
    _mm_prefetch(reinterpret_cast<const char*>(x0 + pf + o), _MM_HINT_T0);
}

void hamming_u1_block_avx2(const uint8_t* q, const uint8_t* base, size_t nbytes, size_t count, float* out) {
  size_t r = 0;
  for (; r + 4 <= count; r += 4) {
    prefetch_next_group(base + r * nbytes, 4 * nbytes);
    if (nbytes < kWideHamming) {
      hamming4_words(q, base + r * nbytes, nbytes, out + r);
      continue;
    }
    const uint8_t* x[4] = {base + r * nbytes, base + (r + 1) * nbytes, base + (r + 2) * nbytes,
                           base + (r + 3) * nbytes};
    __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256(), s2 = _mm256_setzero_si256(),
            s3 = _mm256_setzero_si256();
    size_t i = 0;
    for (; i + 32 <= nbytes; i += 32) {
      const __m256i qa = load_u8x32(q + i);
      s0 = _mm256_add_epi64(s0, popcnt_u64x4(_mm256_xor_si256(qa, load_u8x32(x[0] + i))));
      s1 = _mm256_add_epi64(s1, popcnt_u64x4(_mm256_xor_si256(qa, load_u8x32(x[1] + i))));
      s2 = _mm256_add_epi64(s2, popcnt_u64x4(_mm256_xor_si256(qa, load_u8x32(x[2] + i))));
      s3 = _mm256_add_epi64(s3, popcnt_u64x4(_mm256_xor_si256(qa, load_u8x32(x[3] + i))));
    }
    out[r] = float(reduce_u64x4(s0) + hamming_tail(q, x[0], i, nbytes));
    out[r + 1] = float(reduce_u64x4(s1) + hamming_tail(q, x[1], i, nbytes));
    out[r + 2] = float(reduce_u64x4(s2) + hamming_tail(q, x[2], i, nbytes));
    out[r + 3] = float(reduce_u64x4(s3) + hamming_tail(q, x[3], i, nbytes));
  }
  for (; r < count; r++) out[r] = float(hamming_u1_avx2(q, base + r * nbytes, nbytes));
}

#include "kernels/sketch_encode_avx2.inc"
#include "kernels/sketch_keep.inc"
#include "kernels/finite.inc"

const KernelTable kTable = {
    Isa::avx2,
    l2sq_f32_avx2, dot_f32_avx2, l1_f32_avx2, cos_parts_f32_avx2,
    l2sq_i8_avx2, dot_i8_avx2, cos_parts_i8_avx2,
    hamming_u1_avx2,
    l2sq_f32_block_avx2, dot_f32_block_avx2, cos_f32_block_avx2, l1_f32_block_avx2,
    l2sq_i8_block_avx2, dot_i8_block_avx2, cos_i8_block_avx2,
    hamming_u1_block_avx2,
    dot_i16i8_block_avx2,
    sketch_encode_f32_avx2,
    sketch_keep_block_portable,
    finite_f32_portable,
    nullptr,  // dot_i16i8_block4: dot_i16i8_multi() runs dot_i16i8_block per query
};

}  // namespace

const KernelTable* kernels_avx2_table() { return &kTable; }

}  // namespace vecsqlite
#endif
