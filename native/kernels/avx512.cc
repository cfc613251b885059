// AVX-512 kernels (F + BW + DQ + VL; token "avx512").
//
//   dtype  lanes                        accumulator                 key instructions
//   f32    16 x f32 per zmm             f32 lanes, 2-4 in flight    vfmadd231ps, vsubps, masked vmovups
//   i8     32 x i8 -> 32 x i16 per zmm  i32 lanes, drained to i64   vpmovsxbw, vpsubw, vpmaddwd
//                                       every kI8Chunk elements
//   u1     64 bytes per zmm             u64 lanes                   vpxorq, vpshufb nibble LUT, vpsadbw
//
// Tails use masked loads (no scalar epilogue). Block kernels take four rows at a time: the query
// chunk is loaded once per four rows, each row has its own accumulators, and the four sums are
// reduced together by a transpose-add (reduce4) and stored with one 128-bit store.
// ODR: only intrinsics and our own headers are included; everything is file-local (see
// internal.h). The only exported symbol is kernels_avx512_table().
#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include "kernels/internal.h"

namespace vecsqlite {
namespace {

enum Kind { kL2 = 0, kDot = 1, kL1 = 2 };

// Lanes per chunk before the int32 lanes are drained: a lane gains at most 2 * 255^2 per
// 32 elements, and the whole-vector sum of one chunk is at most 8192 * 255^2 < 2^31.
constexpr size_t kI8Chunk = 8192;

inline __mmask16 mask16(size_t r) { return __mmask16((1u << r) - 1u); }            // r < 16
inline __mmask32 mask32(size_t r) { return __mmask32((1u << r) - 1u); }            // r < 32
inline __mmask64 mask64(size_t r) { return __mmask64((1ull << r) - 1ull); }        // r < 64

// Sums of four vectors as one __m128 {sum(a), sum(b), sum(c), sum(d)}.
inline __m128 reduce4_f32x16(__m512 a, __m512 b, __m512 c, __m512 d) {
  const __m512 ab = _mm512_add_ps(_mm512_unpacklo_ps(a, b), _mm512_unpackhi_ps(a, b));
  const __m512 cd = _mm512_add_ps(_mm512_unpacklo_ps(c, d), _mm512_unpackhi_ps(c, d));
  const __m512 abcd = _mm512_add_ps(_mm512_shuffle_ps(ab, cd, _MM_SHUFFLE(1, 0, 1, 0)),
                                    _mm512_shuffle_ps(ab, cd, _MM_SHUFFLE(3, 2, 3, 2)));
  const __m256 h = _mm256_add_ps(_mm512_castps512_ps256(abcd), _mm512_extractf32x8_ps(abcd, 1));
  return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

inline __m128i reduce4_i32x16(__m512i a, __m512i b, __m512i c, __m512i d) {
  const __m512i ab = _mm512_add_epi32(_mm512_unpacklo_epi32(a, b), _mm512_unpackhi_epi32(a, b));
  const __m512i cd = _mm512_add_epi32(_mm512_unpacklo_epi32(c, d), _mm512_unpackhi_epi32(c, d));
  const __m512i lo = _mm512_castps_si512(
      _mm512_shuffle_ps(_mm512_castsi512_ps(ab), _mm512_castsi512_ps(cd), _MM_SHUFFLE(1, 0, 1, 0)));
  const __m512i hi = _mm512_castps_si512(
      _mm512_shuffle_ps(_mm512_castsi512_ps(ab), _mm512_castsi512_ps(cd), _MM_SHUFFLE(3, 2, 3, 2)));
  const __m512i abcd = _mm512_add_epi32(lo, hi);
  const __m256i h = _mm256_add_epi32(_mm512_castsi512_si256(abcd), _mm512_extracti32x8_epi32(abcd, 1));
  return _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
}

inline float reduce_f32x16(__m512 v) {
  const __m256 h = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// ---- float32 ------------------------------------------------------------------------------

template <int K>
inline __m512 step_f32x16(__m512 acc, __m512 x, __m512 y) {
  if (K == kL2) {
    const __m512 d = _mm512_sub_ps(x, y);
    return _mm512_fmadd_ps(d, d, acc);
  }
  if (K == kDot) return _mm512_fmadd_ps(x, y, acc);
  return _mm512_add_ps(acc, _mm512_abs_ps(_mm512_sub_ps(x, y)));
}

template <int K>
inline float one_f32(const float* a, const float* b, size_t n) {
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps(), s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    s0 = step_f32x16<K>(s0, _mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
    s1 = step_f32x16<K>(s1, _mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16));
    s2 = step_f32x16<K>(s2, _mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32));
    s3 = step_f32x16<K>(s3, _mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48));
  }
  for (; i + 16 <= n; i += 16) s0 = step_f32x16<K>(s0, _mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
  if (i < n) {
    const __mmask16 m = mask16(n - i);
    s1 = step_f32x16<K>(s1, _mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i));
  }
  return reduce_f32x16(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

float l2sq_f32_avx512(const float* a, const float* b, size_t n) { return one_f32<kL2>(a, b, n); }
float dot_f32_avx512(const float* a, const float* b, size_t n) { return one_f32<kDot>(a, b, n); }
float l1_f32_avx512(const float* a, const float* b, size_t n) { return one_f32<kL1>(a, b, n); }

CosParts cos_parts_f32_avx512(const float* a, const float* b, size_t n) {
  __m512 d0 = _mm512_setzero_ps(), d1 = _mm512_setzero_ps();
  __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
  __m512 b0 = _mm512_setzero_ps(), b1 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m512 x0 = _mm512_loadu_ps(a + i), y0 = _mm512_loadu_ps(b + i);
    const __m512 x1 = _mm512_loadu_ps(a + i + 16), y1 = _mm512_loadu_ps(b + i + 16);
    d0 = _mm512_fmadd_ps(x0, y0, d0);
    d1 = _mm512_fmadd_ps(x1, y1, d1);
    a0 = _mm512_fmadd_ps(x0, x0, a0);
    a1 = _mm512_fmadd_ps(x1, x1, a1);
    b0 = _mm512_fmadd_ps(y0, y0, b0);
    b1 = _mm512_fmadd_ps(y1, y1, b1);
  }
  for (; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? __mmask16(0xffff) : mask16(n - i);
    const __m512 x = _mm512_maskz_loadu_ps(m, a + i), y = _mm512_maskz_loadu_ps(m, b + i);
    d0 = _mm512_fmadd_ps(x, y, d0);
    a0 = _mm512_fmadd_ps(x, x, a0);
    b0 = _mm512_fmadd_ps(y, y, b0);
  }
  return CosParts{reduce_f32x16(_mm512_add_ps(d0, d1)), reduce_f32x16(_mm512_add_ps(a0, a1)),
                  reduce_f32x16(_mm512_add_ps(b0, b1))};
}

#include "kernels/x86_rows.inc"

// One query against rows of `dim` floats: four rows per pass, two accumulators per row.
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
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps(), s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
    __m512 t0 = _mm512_setzero_ps(), t1 = _mm512_setzero_ps(), t2 = _mm512_setzero_ps(), t3 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= dim; i += 32) {
      const __m512 qa = _mm512_loadu_ps(q + i), qb = _mm512_loadu_ps(q + i + 16);
      s0 = step_f32x16<K>(s0, qa, _mm512_loadu_ps(x0 + i));
      t0 = step_f32x16<K>(t0, qb, _mm512_loadu_ps(x0 + i + 16));
      s1 = step_f32x16<K>(s1, qa, _mm512_loadu_ps(x1 + i));
      t1 = step_f32x16<K>(t1, qb, _mm512_loadu_ps(x1 + i + 16));
      s2 = step_f32x16<K>(s2, qa, _mm512_loadu_ps(x2 + i));
      t2 = step_f32x16<K>(t2, qb, _mm512_loadu_ps(x2 + i + 16));
      s3 = step_f32x16<K>(s3, qa, _mm512_loadu_ps(x3 + i));
      t3 = step_f32x16<K>(t3, qb, _mm512_loadu_ps(x3 + i + 16));
    }
    for (; i < dim; i += 16) {
      const __mmask16 m = dim - i >= 16 ? __mmask16(0xffff) : mask16(dim - i);
      const __m512 qa = _mm512_maskz_loadu_ps(m, q + i);
      s0 = step_f32x16<K>(s0, qa, _mm512_maskz_loadu_ps(m, x0 + i));
      s1 = step_f32x16<K>(s1, qa, _mm512_maskz_loadu_ps(m, x1 + i));
      s2 = step_f32x16<K>(s2, qa, _mm512_maskz_loadu_ps(m, x2 + i));
      s3 = step_f32x16<K>(s3, qa, _mm512_maskz_loadu_ps(m, x3 + i));
    }
    __m128 v = reduce4_f32x16(_mm512_add_ps(s0, t0), _mm512_add_ps(s1, t1), _mm512_add_ps(s2, t2),
                              _mm512_add_ps(s3, t3));
    if (K == kDot) v = _mm_xor_ps(v, _mm_set1_ps(-0.0f));
    store_rows(out + r, v, left);
  }
}

void l2sq_f32_block_avx512(const float* q, const float* base, size_t dim, size_t count, float* out) {
  block_f32<kL2>(q, base, dim, count, out);
}
void dot_f32_block_avx512(const float* q, const float* base, size_t dim, size_t count, float* out) {
  block_f32<kDot>(q, base, dim, count, out);
}
void l1_f32_block_avx512(const float* q, const float* base, size_t dim, size_t count, float* out) {
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

// Cosine block: |q|^2 once, then a.b and |b|^2 for four rows per pass.
void cos_f32_block_avx512(const float* q, const float* base, size_t dim, size_t count, float* out) {
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
    __m512 d0 = _mm512_setzero_ps(), d1 = _mm512_setzero_ps(), d2 = _mm512_setzero_ps(), d3 = _mm512_setzero_ps();
    __m512 n0 = _mm512_setzero_ps(), n1 = _mm512_setzero_ps(), n2 = _mm512_setzero_ps(), n3 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= dim; i += 16) {
      const __m512 qa = _mm512_loadu_ps(q + i);
      const __m512 y0 = _mm512_loadu_ps(x0 + i), y1 = _mm512_loadu_ps(x1 + i);
      const __m512 y2 = _mm512_loadu_ps(x2 + i), y3 = _mm512_loadu_ps(x3 + i);
      d0 = _mm512_fmadd_ps(qa, y0, d0);
      n0 = _mm512_fmadd_ps(y0, y0, n0);
      d1 = _mm512_fmadd_ps(qa, y1, d1);
      n1 = _mm512_fmadd_ps(y1, y1, n1);
      d2 = _mm512_fmadd_ps(qa, y2, d2);
      n2 = _mm512_fmadd_ps(y2, y2, n2);
      d3 = _mm512_fmadd_ps(qa, y3, d3);
      n3 = _mm512_fmadd_ps(y3, y3, n3);
    }
    if (i < dim) {
      const __mmask16 m = mask16(dim - i);
      const __m512 qa = _mm512_maskz_loadu_ps(m, q + i);
      const __m512 y0 = _mm512_maskz_loadu_ps(m, x0 + i), y1 = _mm512_maskz_loadu_ps(m, x1 + i);
      const __m512 y2 = _mm512_maskz_loadu_ps(m, x2 + i), y3 = _mm512_maskz_loadu_ps(m, x3 + i);
      d0 = _mm512_fmadd_ps(qa, y0, d0);
      n0 = _mm512_fmadd_ps(y0, y0, n0);
      d1 = _mm512_fmadd_ps(qa, y1, d1);
      n1 = _mm512_fmadd_ps(y1, y1, n1);
      d2 = _mm512_fmadd_ps(qa, y2, d2);
      n2 = _mm512_fmadd_ps(y2, y2, n2);
      d3 = _mm512_fmadd_ps(qa, y3, d3);
      n3 = _mm512_fmadd_ps(y3, y3, n3);
    }
    store_rows(out + r, cos4(reduce4_f32x16(d0, d1, d2, d3), qq, reduce4_f32x16(n0, n1, n2, n3)), left);
  }
}

// ---- int8 ---------------------------------------------------------------------------------

inline __m512i load_i16x32(const int8_t* p) {
  return _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}
inline __m512i load_i16x32(const int8_t* p, __mmask32 m) { return _mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8(m, p)); }

template <int K>
inline __m512i step_i16x32(__m512i acc, __m512i x, __m512i y) {
  if (K == kL2) {
    const __m512i d = _mm512_sub_epi16(x, y);
    return _mm512_add_epi32(acc, _mm512_madd_epi16(d, d));
  }
  return _mm512_add_epi32(acc, _mm512_madd_epi16(x, y));
}

template <int K>
inline int64_t one_i8(const int8_t* a, const int8_t* b, size_t n) {
  int64_t total = 0;
  for (size_t c = 0; c < n; c += kI8Chunk) {
    const size_t end = n - c < kI8Chunk ? n : c + kI8Chunk;
    __m512i s0 = _mm512_setzero_si512(), s1 = _mm512_setzero_si512();
    size_t i = c;
    for (; i + 64 <= end; i += 64) {
      s0 = step_i16x32<K>(s0, load_i16x32(a + i), load_i16x32(b + i));
      s1 = step_i16x32<K>(s1, load_i16x32(a + i + 32), load_i16x32(b + i + 32));
    }
    for (; i < end; i += 32) {
      const __mmask32 m = end - i >= 32 ? __mmask32(0xffffffffu) : mask32(end - i);
      s0 = step_i16x32<K>(s0, load_i16x32(a + i, m), load_i16x32(b + i, m));
    }
    total += _mm512_reduce_add_epi32(_mm512_add_epi32(s0, s1));
  }
  return total;
}

int64_t l2sq_i8_avx512(const int8_t* a, const int8_t* b, size_t n) { return one_i8<kL2>(a, b, n); }
int64_t dot_i8_avx512(const int8_t* a, const int8_t* b, size_t n) { return one_i8<kDot>(a, b, n); }

CosParts cos_parts_i8_avx512(const int8_t* a, const int8_t* b, size_t n) {
  int64_t dot = 0, aa = 0, bb = 0;
  for (size_t c = 0; c < n; c += kI8Chunk) {
    const size_t end = n - c < kI8Chunk ? n : c + kI8Chunk;
    __m512i sd = _mm512_setzero_si512(), sa = _mm512_setzero_si512(), sb = _mm512_setzero_si512();
    for (size_t i = c; i < end; i += 32) {
      const __mmask32 m = end - i >= 32 ? __mmask32(0xffffffffu) : mask32(end - i);
      const __m512i x = load_i16x32(a + i, m), y = load_i16x32(b + i, m);
      sd = _mm512_add_epi32(sd, _mm512_madd_epi16(x, y));
      sa = _mm512_add_epi32(sa, _mm512_madd_epi16(x, x));
      sb = _mm512_add_epi32(sb, _mm512_madd_epi16(y, y));
    }
    dot += _mm512_reduce_add_epi32(sd);
    aa += _mm512_reduce_add_epi32(sa);
    bb += _mm512_reduce_add_epi32(sb);
  }
  return CosParts{double(dot), double(aa), double(bb)};
}

// Four rows per pass; per chunk the query is widened once and shared by the four rows.
// K == kL2 or kDot fill `tot` with the four exact sums; used by the l2sq and dot blocks.
template <int K>
inline void four_i8(const int8_t* q, const int8_t* x0, size_t dim, int64_t tot[4]) {
  const int8_t* x1 = x0 + dim;
  const int8_t* x2 = x1 + dim;
  const int8_t* x3 = x2 + dim;
  const size_t pf = 4 * dim < 1024 ? 1024 : 4 * dim;  // prefetch distance in bytes (>= 4 rows)
  tot[0] = tot[1] = tot[2] = tot[3] = 0;
  for (size_t c = 0; c < dim; c += kI8Chunk) {
    const size_t end = dim - c < kI8Chunk ? dim : c + kI8Chunk;
    __m512i s0 = _mm512_setzero_si512(), s1 = _mm512_setzero_si512(), s2 = _mm512_setzero_si512(),
            s3 = _mm512_setzero_si512();
    size_t i = c;
    for (; i + 64 <= end; i += 64) {
      // Prefetch the same line of the next four rows: with int8 a row line lasts only one
      // iteration, and the hardware prefetcher alone leaves too few misses in flight to reach
      // the streaming bandwidth (7 -> 11+ GB/s measured on a 256 MiB block).
      _mm_prefetch(reinterpret_cast<const char*>(x0 + i + pf), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(x1 + i + pf), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(x2 + i + pf), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(x3 + i + pf), _MM_HINT_T0);
      const __m512i qa = load_i16x32(q + i), qb = load_i16x32(q + i + 32);
      s0 = step_i16x32<K>(s0, qa, load_i16x32(x0 + i));
      s1 = step_i16x32<K>(s1, qa, load_i16x32(x1 + i));
      s2 = step_i16x32<K>(s2, qa, load_i16x32(x2 + i));
      s3 = step_i16x32<K>(s3, qa, load_i16x32(x3 + i));
      s0 = step_i16x32<K>(s0, qb, load_i16x32(x0 + i + 32));
      s1 = step_i16x32<K>(s1, qb, load_i16x32(x1 + i + 32));
      s2 = step_i16x32<K>(s2, qb, load_i16x32(x2 + i + 32));
      s3 = step_i16x32<K>(s3, qb, load_i16x32(x3 + i + 32));
    }
    for (; i + 32 <= end; i += 32) {
      const __m512i qa = load_i16x32(q + i);
      s0 = step_i16x32<K>(s0, qa, load_i16x32(x0 + i));
      s1 = step_i16x32<K>(s1, qa, load_i16x32(x1 + i));
      s2 = step_i16x32<K>(s2, qa, load_i16x32(x2 + i));
      s3 = step_i16x32<K>(s3, qa, load_i16x32(x3 + i));
    }
    if (i < end) {
      const __mmask32 m = mask32(end - i);
      const __m512i qa = load_i16x32(q + i, m);
      s0 = step_i16x32<K>(s0, qa, load_i16x32(x0 + i, m));
      s1 = step_i16x32<K>(s1, qa, load_i16x32(x1 + i, m));
      s2 = step_i16x32<K>(s2, qa, load_i16x32(x2 + i, m));
      s3 = step_i16x32<K>(s3, qa, load_i16x32(x3 + i, m));
    }
    int32_t part[4];
    _mm_storeu_si128(reinterpret_cast<__m128i*>(part), reduce4_i32x16(s0, s1, s2, s3));
    for (int j = 0; j < 4; j++) tot[j] += part[j];
  }
}

void l2sq_i8_block_avx512(const int8_t* q, const int8_t* base, size_t dim, size_t count, float* out) {
  size_t r = 0;
  for (; r + 4 <= count; r += 4) {
    int64_t tot[4];
    four_i8<kL2>(q, base + r * dim, dim, tot);
    for (int j = 0; j < 4; j++) out[r + j] = float(tot[j]);
  }
  for (; r < count; r++) out[r] = float(one_i8<kL2>(q, base + r * dim, dim));
}

void dot_i8_block_avx512(const int8_t* q, const int8_t* base, size_t dim, size_t count, float* out) {
  size_t r = 0;
  for (; r + 4 <= count; r += 4) {
    int64_t tot[4];
    four_i8<kDot>(q, base + r * dim, dim, tot);
    for (int j = 0; j < 4; j++) out[r + j] = -float(tot[j]);
  }
  for (; r < count; r++) out[r] = -float(one_i8<kDot>(q, base + r * dim, dim));
}

void cos_i8_block_avx512(const int8_t* q, const int8_t* base, size_t dim, size_t count, float* out) {
  const double qq = double(one_i8<kDot>(q, q, dim));
  size_t r = 0;
  for (; r + 4 <= count; r += 4) {
    const int8_t* x0 = base + r * dim;
    int64_t dots[4], norms[4];
    four_i8<kDot>(q, x0, dim, dots);
    // |row|^2 for the four rows: the same pass with each row against itself.
    for (int j = 0; j < 4; j++) norms[j] = one_i8<kDot>(x0 + j * dim, x0 + j * dim, dim);
    for (int j = 0; j < 4; j++) out[r + j] = cos_distance_inline(double(dots[j]), qq, double(norms[j]));
  }
  for (; r < count; r++) {
    const CosParts p = cos_parts_i8_avx512(q, base + r * dim, dim);
    out[r] = cos_distance_inline(p.dot, qq, p.bb);
  }
}

// ---- int16 query x int8 rows (the sketch pre-filter) ----------------------------------------
// Exact: |q| <= 2047 and dim <= 8192 keep every lane and total inside int32 (kernels.h).
void dot_i16i8_block_avx512(const int16_t* q, const int8_t* base, size_t dim, size_t count, int32_t* out) {
  // One row at a time, front to back (a single sequential stream; see the avx2 kernel).
  for (size_t r = 0; r < count; r++) {
    const int8_t* x = base + r * dim;
    __m512i s0 = _mm512_setzero_si512(), s1 = _mm512_setzero_si512();
    size_t i = 0;
    for (; i + 64 <= dim; i += 64) {
      s0 = _mm512_add_epi32(s0, _mm512_madd_epi16(_mm512_loadu_si512(q + i), load_i16x32(x + i)));
      s1 = _mm512_add_epi32(s1, _mm512_madd_epi16(_mm512_loadu_si512(q + i + 32), load_i16x32(x + i + 32)));
    }
    for (; i < dim; i += 32) {
      const __mmask32 m = dim - i >= 32 ? __mmask32(0xffffffffu) : __mmask32((1u << (dim - i)) - 1);
      s0 = _mm512_add_epi32(s0, _mm512_madd_epi16(_mm512_maskz_loadu_epi16(m, q + i), load_i16x32(x + i, m)));
    }
    out[r] = _mm512_reduce_add_epi32(_mm512_add_epi32(s0, s1));
  }
}

// NQ queries against each row: the row is loaded and widened once, and the NQ independent sums
// keep the multiply-add units busy (one query's sum is a chain of dependent adds).
template <size_t NQ>
void dot_i16i8_rows_n(const int16_t* const* q, const int8_t* base, size_t dim, size_t count, int32_t* const* out) {
  for (size_t r = 0; r < count; r++) {
    const int8_t* x = base + r * dim;
    __m512i s[NQ];
    for (size_t j = 0; j < NQ; j++) s[j] = _mm512_setzero_si512();
    size_t i = 0;
    for (; i + 32 <= dim; i += 32) {
      const __m512i xv = load_i16x32(x + i);
      for (size_t j = 0; j < NQ; j++) s[j] = _mm512_add_epi32(s[j], _mm512_madd_epi16(_mm512_loadu_si512(q[j] + i), xv));
    }
    if (i < dim) {
      const __mmask32 m = __mmask32((1u << (dim - i)) - 1);
      const __m512i xv = load_i16x32(x + i, m);
      for (size_t j = 0; j < NQ; j++)
        s[j] = _mm512_add_epi32(s[j], _mm512_madd_epi16(_mm512_maskz_loadu_epi16(m, q[j] + i), xv));
    }
    for (size_t j = 0; j < NQ; j++) out[j][r] = _mm512_reduce_add_epi32(s[j]);
  }
}

void dot_i16i8_block4_avx512(const int16_t* const* q, size_t nq, const int8_t* base, size_t dim, size_t count,
                             int32_t* const* out) {
  switch (nq) {
    case 1: dot_i16i8_block_avx512(q[0], base, dim, count, out[0]); break;
    case 2: dot_i16i8_rows_n<2>(q, base, dim, count, out); break;
    case 3: dot_i16i8_rows_n<3>(q, base, dim, count, out); break;
    case 4: dot_i16i8_rows_n<4>(q, base, dim, count, out); break;
    default:
      for (size_t j = 0; j < nq; j++) dot_i16i8_block_avx512(q[j], base, dim, count, out[j]);
  }
}

// ---- bits -----------------------------------------------------------------------------------

// Popcount of every byte by a nibble lookup (vpshufb), summed into 8 u64 lanes by vpsadbw.
inline __m512i popcnt_u64x8(__m512i v) {
  const __m512i lut = _mm512_broadcast_i32x4(_mm_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4));
  const __m512i low = _mm512_set1_epi8(0x0f);
  const __m512i lo = _mm512_shuffle_epi8(lut, _mm512_and_si512(v, low));
  const __m512i hi = _mm512_shuffle_epi8(lut, _mm512_and_si512(_mm512_srli_epi16(v, 4), low));
  return _mm512_sad_epu8(_mm512_add_epi8(lo, hi), _mm512_setzero_si512());
}

uint64_t hamming_u1_avx512(const uint8_t* a, const uint8_t* b, size_t nbytes) {
  __m512i s0 = _mm512_setzero_si512(), s1 = _mm512_setzero_si512();
  size_t i = 0;
  for (; i + 128 <= nbytes; i += 128) {
    s0 = _mm512_add_epi64(s0, popcnt_u64x8(_mm512_xor_si512(_mm512_loadu_si512(a + i), _mm512_loadu_si512(b + i))));
    s1 = _mm512_add_epi64(
        s1, popcnt_u64x8(_mm512_xor_si512(_mm512_loadu_si512(a + i + 64), _mm512_loadu_si512(b + i + 64))));
  }
  for (; i < nbytes; i += 64) {
    const __mmask64 m = nbytes - i >= 64 ? ~__mmask64(0) : mask64(nbytes - i);
    s0 = _mm512_add_epi64(
        s0, popcnt_u64x8(_mm512_xor_si512(_mm512_maskz_loadu_epi8(m, a + i), _mm512_maskz_loadu_epi8(m, b + i))));
  }
  return uint64_t(_mm512_reduce_add_epi64(_mm512_add_epi64(s0, s1)));
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

void hamming_u1_block_avx512(const uint8_t* q, const uint8_t* base, size_t nbytes, size_t count, float* out) {
  size_t r = 0;
  for (; r + 4 <= count; r += 4) {
    prefetch_next_group(base + r * nbytes, 4 * nbytes);
    if (nbytes < kWideHamming) {
      hamming4_words(q, base + r * nbytes, nbytes, out + r);
      continue;
    }
    const uint8_t* x0 = base + r * nbytes;
    const uint8_t* x1 = x0 + nbytes;
    const uint8_t* x2 = x1 + nbytes;
    const uint8_t* x3 = x2 + nbytes;
    __m512i s0 = _mm512_setzero_si512(), s1 = _mm512_setzero_si512(), s2 = _mm512_setzero_si512(),
            s3 = _mm512_setzero_si512();
    for (size_t i = 0; i < nbytes; i += 64) {
      const __mmask64 m = nbytes - i >= 64 ? ~__mmask64(0) : mask64(nbytes - i);
      const __m512i qa = _mm512_maskz_loadu_epi8(m, q + i);
      s0 = _mm512_add_epi64(s0, popcnt_u64x8(_mm512_xor_si512(qa, _mm512_maskz_loadu_epi8(m, x0 + i))));
      s1 = _mm512_add_epi64(s1, popcnt_u64x8(_mm512_xor_si512(qa, _mm512_maskz_loadu_epi8(m, x1 + i))));
      s2 = _mm512_add_epi64(s2, popcnt_u64x8(_mm512_xor_si512(qa, _mm512_maskz_loadu_epi8(m, x2 + i))));
      s3 = _mm512_add_epi64(s3, popcnt_u64x8(_mm512_xor_si512(qa, _mm512_maskz_loadu_epi8(m, x3 + i))));
    }
    out[r] = float(_mm512_reduce_add_epi64(s0));
    out[r + 1] = float(_mm512_reduce_add_epi64(s1));
    out[r + 2] = float(_mm512_reduce_add_epi64(s2));
    out[r + 3] = float(_mm512_reduce_add_epi64(s3));
  }
  for (; r < count; r++) out[r] = float(hamming_u1_avx512(q, base + r * nbytes, nbytes));
}

#include "kernels/sketch_encode_avx2.inc"

// The sketch encoder at 16 lanes: the AVX2 version's steps (kernels/sketch_encode_avx2.inc),
// hence the same codes; only the order of the float sums differs, which the bounds allow for.
void sketch_encode_f32_avx512(const float* x, size_t dim, int8_t* codes, SketchCodeInfo* out) {
  if (dim < 64) {  // short rows: the AVX2 loops waste less on tails
    sketch_encode_f32_avx2(x, dim, codes, out);
    return;
  }
  __m512 m0 = _mm512_setzero_ps(), m1 = _mm512_setzero_ps();
  __m512 n0 = _mm512_setzero_ps(), n1 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= dim; i += 32) {
    const __m512 a = _mm512_loadu_ps(x + i), b = _mm512_loadu_ps(x + i + 16);
    m0 = _mm512_max_ps(m0, _mm512_abs_ps(a));
    m1 = _mm512_max_ps(m1, _mm512_abs_ps(b));
    n0 = _mm512_fmadd_ps(a, a, n0);
    n1 = _mm512_fmadd_ps(b, b, n1);
  }
  float amax = _mm512_reduce_max_ps(_mm512_max_ps(m0, m1));
  float n2 = _mm512_reduce_add_ps(_mm512_add_ps(n0, n1));
  for (; i < dim; i++) {
    const float a = __builtin_fabsf(x[i]);
    amax = a > amax ? a : amax;
    n2 += x[i] * x[i];
  }
  // max_ps returns its second operand when either is NaN: a NaN element can hide from amax,
  // never from n2.
  out->norm2 = n2;
  const float s = amax / 127.0f;
  if (!(s > 0) || !(n2 <= 3.40282347e38f)) {
    for (size_t k = 0; k < dim; k++) codes[k] = 0;
    out->scale = 0;
    out->err2 = n2;
    out->codes_sq = 0;
    return;
  }
  const float inv = 1.0f / s;
  const __m512 vinv = _mm512_set1_ps(inv), vs = _mm512_set1_ps(s);
  const __m512i lim = _mm512_set1_epi32(127), nlim = _mm512_set1_epi32(-127);
  __m512 e0 = _mm512_setzero_ps();
  __m512i q0 = _mm512_setzero_si512();
  for (i = 0; i + 16 <= dim; i += 16) {
    const __m512 v = _mm512_loadu_ps(x + i);
    __m512i c = _mm512_cvtps_epi32(_mm512_mul_ps(v, vinv));  // nearest, ties to even
    c = _mm512_max_epi32(_mm512_min_epi32(c, lim), nlim);
    const __m512 e = _mm512_fnmadd_ps(vs, _mm512_cvtepi32_ps(c), v);  // v - s * c, one rounding
    e0 = _mm512_fmadd_ps(e, e, e0);
    q0 = _mm512_add_epi32(q0, _mm512_mullo_epi32(c, c));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(codes + i), _mm512_cvtsepi32_epi8(c));
  }
  float e2 = _mm512_reduce_add_ps(e0);
  uint32_t cc = uint32_t(_mm512_reduce_add_epi32(q0));
  for (; i < dim; i++) {
    float c = sketch_round(x[i] * inv);
    c = c > 127.0f ? 127.0f : c < -127.0f ? -127.0f : c;
    codes[i] = int8_t(c);
    const float e = __builtin_fmaf(-s, c, x[i]);
    e2 += e * e;
    cc += uint32_t(int32_t(c) * int32_t(c));
  }
  out->scale = s;
  out->err2 = sketch_err_up(e2, dim);
  out->codes_sq = cc;
}
#include "kernels/sketch_keep.inc"
#include "kernels/finite.inc"

const KernelTable kTable = {
    Isa::avx512,
    l2sq_f32_avx512, dot_f32_avx512, l1_f32_avx512, cos_parts_f32_avx512,
    l2sq_i8_avx512, dot_i8_avx512, cos_parts_i8_avx512,
    hamming_u1_avx512,
    l2sq_f32_block_avx512, dot_f32_block_avx512, cos_f32_block_avx512, l1_f32_block_avx512,
    l2sq_i8_block_avx512, dot_i8_block_avx512, cos_i8_block_avx512,
    hamming_u1_block_avx512,
    dot_i16i8_block_avx512,
    sketch_encode_f32_avx512,
    sketch_keep_block_portable,
    finite_f32_portable,
    dot_i16i8_block4_avx512,
};

}  // namespace

const KernelTable* kernels_avx512_table() { return &kTable; }

}  // namespace vecsqlite
#endif
