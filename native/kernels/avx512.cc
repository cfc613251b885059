// AVX-512 kernels (F + BW + DQ + VL): 16 float lanes, four accumulators in flight, masked loads
// for tails (no scalar epilogue). int8 widens 32 bytes to int16 and uses vpmaddwd into int32
// lanes, reduced to int64 every 8192 elements so no lane can overflow. Bits: 64-bit popcount.
// ODR note: only intrinsics and our own headers are included; everything is file-local.
#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include "kernels/internal.h"

namespace vecsqlite {
namespace {

inline __mmask16 tail_mask16(size_t r) { return __mmask16((1u << r) - 1u); }
inline __mmask32 tail_mask32(size_t r) { return r >= 32 ? __mmask32(0xffffffffu) : __mmask32((1u << r) - 1u); }

inline float l2sq_f32(const float* a, const float* b, size_t n) {
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps(), s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    const __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
    const __m512 d1 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16));
    const __m512 d2 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32));
    const __m512 d3 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48));
    s0 = _mm512_fmadd_ps(d0, d0, s0);
    s1 = _mm512_fmadd_ps(d1, d1, s1);
    s2 = _mm512_fmadd_ps(d2, d2, s2);
    s3 = _mm512_fmadd_ps(d3, d3, s3);
  }
  for (; i + 16 <= n; i += 16) {
    const __m512 d = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
    s0 = _mm512_fmadd_ps(d, d, s0);
  }
  if (i < n) {
    const __mmask16 m = tail_mask16(n - i);
    const __m512 d = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i));
    s1 = _mm512_fmadd_ps(d, d, s1);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

inline float dot_f32(const float* a, const float* b, size_t n) {
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps(), s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
    s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
    s2 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32), s2);
    s3 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48), s3);
  }
  for (; i + 16 <= n; i += 16) s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
  if (i < n) {
    const __mmask16 m = tail_mask16(n - i);
    s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), s1);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

inline float l1_f32(const float* a, const float* b, size_t n) {
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 = _mm512_add_ps(s0, _mm512_abs_ps(_mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i))));
    s1 = _mm512_add_ps(s1, _mm512_abs_ps(_mm512_sub_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16))));
  }
  for (; i + 16 <= n; i += 16) s0 = _mm512_add_ps(s0, _mm512_abs_ps(_mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i))));
  if (i < n) {
    const __mmask16 m = tail_mask16(n - i);
    s1 = _mm512_add_ps(s1, _mm512_abs_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i))));
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

// dot and |b|^2 in one pass (|a|^2 too when want_aa).
inline void cos_parts(const float* a, const float* b, size_t n, bool want_aa, float* dot, float* aa, float* bb) {
  __m512 d0 = _mm512_setzero_ps(), d1 = _mm512_setzero_ps();
  __m512 b0 = _mm512_setzero_ps(), b1 = _mm512_setzero_ps();
  __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m512 x0 = _mm512_loadu_ps(a + i), y0 = _mm512_loadu_ps(b + i);
    const __m512 x1 = _mm512_loadu_ps(a + i + 16), y1 = _mm512_loadu_ps(b + i + 16);
    d0 = _mm512_fmadd_ps(x0, y0, d0);
    d1 = _mm512_fmadd_ps(x1, y1, d1);
    b0 = _mm512_fmadd_ps(y0, y0, b0);
    b1 = _mm512_fmadd_ps(y1, y1, b1);
    if (want_aa) {
      a0 = _mm512_fmadd_ps(x0, x0, a0);
      a1 = _mm512_fmadd_ps(x1, x1, a1);
    }
  }
  for (; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? __mmask16(0xffff) : tail_mask16(n - i);
    const __m512 x = _mm512_maskz_loadu_ps(m, a + i), y = _mm512_maskz_loadu_ps(m, b + i);
    d0 = _mm512_fmadd_ps(x, y, d0);
    b0 = _mm512_fmadd_ps(y, y, b0);
    if (want_aa) a0 = _mm512_fmadd_ps(x, x, a0);
  }
  *dot = _mm512_reduce_add_ps(_mm512_add_ps(d0, d1));
  *bb = _mm512_reduce_add_ps(_mm512_add_ps(b0, b1));
  if (want_aa) *aa = _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
}

CosParts cos_parts_f32(const float* a, const float* b, size_t n) {
  float dot, aa, bb;
  cos_parts(a, b, n, true, &dot, &aa, &bb);
  return CosParts{dot, aa, bb};
}

// ---- int8: 32 elements per step, widened to int16; madd pairs into int32 lanes ----
constexpr size_t kI8Chunk = 8192;  // per chunk a lane holds at most 256 * 2 * 255^2 < 2^31

inline __m512i load_i8x32(const int8_t* p, __mmask32 m) {
  return _mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8(m, p));
}

inline int64_t l2sq_i8(const int8_t* a, const int8_t* b, size_t n) {
  int64_t total = 0;
  for (size_t c = 0; c < n; c += kI8Chunk) {
    const size_t end = n - c < kI8Chunk ? n : c + kI8Chunk;
    __m512i acc = _mm512_setzero_si512();
    for (size_t i = c; i < end; i += 32) {
      const __mmask32 m = tail_mask32(end - i);
      const __m512i d = _mm512_sub_epi16(load_i8x32(a + i, m), load_i8x32(b + i, m));
      acc = _mm512_add_epi32(acc, _mm512_madd_epi16(d, d));
    }
    total += _mm512_reduce_add_epi32(acc);
  }
  return total;
}

inline int64_t dot_i8(const int8_t* a, const int8_t* b, size_t n) {
  int64_t total = 0;
  for (size_t c = 0; c < n; c += kI8Chunk) {
    const size_t end = n - c < kI8Chunk ? n : c + kI8Chunk;
    __m512i acc = _mm512_setzero_si512();
    for (size_t i = c; i < end; i += 32) {
      const __mmask32 m = tail_mask32(end - i);
      acc = _mm512_add_epi32(acc, _mm512_madd_epi16(load_i8x32(a + i, m), load_i8x32(b + i, m)));
    }
    total += _mm512_reduce_add_epi32(acc);
  }
  return total;
}

CosParts cos_parts_i8(const int8_t* a, const int8_t* b, size_t n) {
  int64_t dot = 0, aa = 0, bb = 0;
  for (size_t c = 0; c < n; c += kI8Chunk) {
    const size_t end = n - c < kI8Chunk ? n : c + kI8Chunk;
    __m512i sd = _mm512_setzero_si512(), sa = _mm512_setzero_si512(), sb = _mm512_setzero_si512();
    for (size_t i = c; i < end; i += 32) {
      const __mmask32 m = tail_mask32(end - i);
      const __m512i x = load_i8x32(a + i, m), y = load_i8x32(b + i, m);
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
    Isa::avx512,
    l2sq_f32_fn, dot_f32_fn, l1_f32_fn, cos_parts_f32,
    l2sq_i8_fn, dot_i8_fn, cos_parts_i8,
    hamming_u1_fn,
    l2sq_f32_block, dot_f32_block, cos_f32_block, l1_f32_block,
    l2sq_i8_block, dot_i8_block, cos_i8_block,
    hamming_u1_block,
};

}  // namespace

const KernelTable* kernels_avx512_table() { return &kTable; }

}  // namespace vecsqlite
#endif
