// AVX2 + FMA kernels: 8 float lanes, four accumulators in flight, scalar loops for tails.
// int8 widens 16 bytes to int16 and uses vpmaddwd into int32 lanes, reduced to int64 every
// 8192 elements. Bits: 64-bit popcount.
// ODR note: only intrinsics and our own headers are included; everything is file-local.
#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include "kernels/internal.h"

namespace vecsqlite {
namespace {

inline float hsum(__m256 v) {
  const __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
  __m128 s = _mm_add_ps(lo, hi);
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline int32_t hsum_epi32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}

inline float fabs_f(float x) { return x < 0 ? -x : x; }

inline float l2sq_f32(const float* a, const float* b, size_t n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
    const __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));
    const __m256 d2 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16));
    const __m256 d3 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24));
    s0 = _mm256_fmadd_ps(d0, d0, s0);
    s1 = _mm256_fmadd_ps(d1, d1, s1);
    s2 = _mm256_fmadd_ps(d2, d2, s2);
    s3 = _mm256_fmadd_ps(d3, d3, s3);
  }
  for (; i + 8 <= n; i += 8) {
    const __m256 d = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
    s0 = _mm256_fmadd_ps(d, d, s0);
  }
  float s = hsum(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
  for (; i < n; i++) {
    const float d = a[i] - b[i];
    s += d * d;
  }
  return s;
}

inline float dot_f32(const float* a, const float* b, size_t n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
    s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), s2);
    s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), s3);
  }
  for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
  float s = hsum(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
  for (; i < n; i++) s += a[i] * b[i];
  return s;
}

inline float l1_f32(const float* a, const float* b, size_t n) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    s0 = _mm256_add_ps(s0, _mm256_andnot_ps(sign, _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i))));
    s1 = _mm256_add_ps(s1, _mm256_andnot_ps(sign, _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8))));
  }
  for (; i + 8 <= n; i += 8) s0 = _mm256_add_ps(s0, _mm256_andnot_ps(sign, _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i))));
  float s = hsum(_mm256_add_ps(s0, s1));
  for (; i < n; i++) s += fabs_f(a[i] - b[i]);
  return s;
}

inline void cos_parts(const float* a, const float* b, size_t n, bool want_aa, float* dot, float* aa, float* bb) {
  __m256 d0 = _mm256_setzero_ps(), d1 = _mm256_setzero_ps();
  __m256 b0 = _mm256_setzero_ps(), b1 = _mm256_setzero_ps();
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 x0 = _mm256_loadu_ps(a + i), y0 = _mm256_loadu_ps(b + i);
    const __m256 x1 = _mm256_loadu_ps(a + i + 8), y1 = _mm256_loadu_ps(b + i + 8);
    d0 = _mm256_fmadd_ps(x0, y0, d0);
    d1 = _mm256_fmadd_ps(x1, y1, d1);
    b0 = _mm256_fmadd_ps(y0, y0, b0);
    b1 = _mm256_fmadd_ps(y1, y1, b1);
    if (want_aa) {
      a0 = _mm256_fmadd_ps(x0, x0, a0);
      a1 = _mm256_fmadd_ps(x1, x1, a1);
    }
  }
  float sd = hsum(_mm256_add_ps(d0, d1)), sb = hsum(_mm256_add_ps(b0, b1)), sa = hsum(_mm256_add_ps(a0, a1));
  for (; i < n; i++) {
    sd += a[i] * b[i];
    sb += b[i] * b[i];
    sa += a[i] * a[i];
  }
  *dot = sd;
  *bb = sb;
  if (want_aa) *aa = sa;
}

CosParts cos_parts_f32(const float* a, const float* b, size_t n) {
  float dot, aa, bb;
  cos_parts(a, b, n, true, &dot, &aa, &bb);
  return CosParts{dot, aa, bb};
}

constexpr size_t kI8Chunk = 8192;

inline __m256i load_i8x16(const int8_t* p) {
  return _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

inline int64_t l2sq_i8(const int8_t* a, const int8_t* b, size_t n) {
  int64_t total = 0;
  size_t i = 0;
  while (i + 16 <= n) {
    const size_t end = n - i < kI8Chunk ? n : i + kI8Chunk;
    __m256i acc = _mm256_setzero_si256();
    for (; i + 16 <= end; i += 16) {
      const __m256i d = _mm256_sub_epi16(load_i8x16(a + i), load_i8x16(b + i));
      acc = _mm256_add_epi32(acc, _mm256_madd_epi16(d, d));
    }
    total += hsum_epi32(acc);
  }
  for (; i < n; i++) {
    const int32_t d = int32_t(a[i]) - int32_t(b[i]);
    total += d * d;
  }
  return total;
}

inline int64_t dot_i8(const int8_t* a, const int8_t* b, size_t n) {
  int64_t total = 0;
  size_t i = 0;
  while (i + 16 <= n) {
    const size_t end = n - i < kI8Chunk ? n : i + kI8Chunk;
    __m256i acc = _mm256_setzero_si256();
    for (; i + 16 <= end; i += 16) acc = _mm256_add_epi32(acc, _mm256_madd_epi16(load_i8x16(a + i), load_i8x16(b + i)));
    total += hsum_epi32(acc);
  }
  for (; i < n; i++) total += int32_t(a[i]) * int32_t(b[i]);
  return total;
}

CosParts cos_parts_i8(const int8_t* a, const int8_t* b, size_t n) {
  int64_t dot = 0, aa = 0, bb = 0;
  size_t i = 0;
  while (i + 16 <= n) {
    const size_t end = n - i < kI8Chunk ? n : i + kI8Chunk;
    __m256i sd = _mm256_setzero_si256(), sa = _mm256_setzero_si256(), sb = _mm256_setzero_si256();
    for (; i + 16 <= end; i += 16) {
      const __m256i x = load_i8x16(a + i), y = load_i8x16(b + i);
      sd = _mm256_add_epi32(sd, _mm256_madd_epi16(x, y));
      sa = _mm256_add_epi32(sa, _mm256_madd_epi16(x, x));
      sb = _mm256_add_epi32(sb, _mm256_madd_epi16(y, y));
    }
    dot += hsum_epi32(sd);
    aa += hsum_epi32(sa);
    bb += hsum_epi32(sb);
  }
  for (; i < n; i++) {
    dot += int32_t(a[i]) * int32_t(b[i]);
    aa += int32_t(a[i]) * int32_t(a[i]);
    bb += int32_t(b[i]) * int32_t(b[i]);
  }
  return CosParts{double(dot), double(aa), double(bb)};
}

inline uint64_t hamming_u1(const uint8_t* a, const uint8_t* b, size_t nbytes) {
  uint64_t s = 0;
  size_t i = 0;
  for (; i + 8 <= nbytes; i += 8) {
    uint64_t x, y;
    __builtin_memcpy(&x, a + i, 8);
    __builtin_memcpy(&y, b + i, 8);
    s += uint64_t(__builtin_popcountll(x ^ y));
  }
  for (; i < nbytes; i++) s += uint64_t(__builtin_popcount(unsigned(a[i] ^ b[i])));
  return s;
}

float l2sq_f32_fn(const float* a, const float* b, size_t n) { return l2sq_f32(a, b, n); }
float dot_f32_fn(const float* a, const float* b, size_t n) { return dot_f32(a, b, n); }
float l1_f32_fn(const float* a, const float* b, size_t n) { return l1_f32(a, b, n); }
int64_t l2sq_i8_fn(const int8_t* a, const int8_t* b, size_t n) { return l2sq_i8(a, b, n); }
int64_t dot_i8_fn(const int8_t* a, const int8_t* b, size_t n) { return dot_i8(a, b, n); }
uint64_t hamming_u1_fn(const uint8_t* a, const uint8_t* b, size_t n) { return hamming_u1(a, b, n); }

void l2sq_f32_block(const float* q, const float* base, size_t dim, size_t count, float* out) {
  for (size_t r = 0; r < count; r++) out[r] = l2sq_f32(q, base + r * dim, dim);
}
void dot_f32_block(const float* q, const float* base, size_t dim, size_t count, float* out) {
  for (size_t r = 0; r < count; r++) out[r] = -dot_f32(q, base + r * dim, dim);
}
void cos_f32_block(const float* q, const float* base, size_t dim, size_t count, float* out) {
  const float qq = dot_f32(q, q, dim);
  for (size_t r = 0; r < count; r++) {
    float dot, bb;
    cos_parts(q, base + r * dim, dim, false, &dot, nullptr, &bb);
    out[r] = cos_distance_from_parts(dot, qq, bb);
  }
}
void l1_f32_block(const float* q, const float* base, size_t dim, size_t count, float* out) {
  for (size_t r = 0; r < count; r++) out[r] = l1_f32(q, base + r * dim, dim);
}
void l2sq_i8_block(const int8_t* q, const int8_t* base, size_t dim, size_t count, float* out) {
  for (size_t r = 0; r < count; r++) out[r] = float(l2sq_i8(q, base + r * dim, dim));
}
void dot_i8_block(const int8_t* q, const int8_t* base, size_t dim, size_t count, float* out) {
  for (size_t r = 0; r < count; r++) out[r] = -float(dot_i8(q, base + r * dim, dim));
}
void cos_i8_block(const int8_t* q, const int8_t* base, size_t dim, size_t count, float* out) {
  for (size_t r = 0; r < count; r++) {
    const CosParts p = cos_parts_i8(q, base + r * dim, dim);
    out[r] = cos_distance_from_parts(p.dot, p.aa, p.bb);
  }
}
void hamming_u1_block(const uint8_t* q, const uint8_t* base, size_t nbytes, size_t count, float* out) {
  for (size_t r = 0; r < count; r++) out[r] = float(hamming_u1(q, base + r * nbytes, nbytes));
}

const KernelTable kTable = {
    Isa::avx2,
    l2sq_f32_fn, dot_f32_fn, l1_f32_fn, cos_parts_f32,
    l2sq_i8_fn, dot_i8_fn, cos_parts_i8,
    hamming_u1_fn,
    l2sq_f32_block, dot_f32_block, cos_f32_block, l1_f32_block,
    l2sq_i8_block, dot_i8_block, cos_i8_block,
    hamming_u1_block,
};

}  // namespace

const KernelTable* kernels_avx2_table() { return &kTable; }

}  // namespace vecsqlite
#endif
