// NEON kernels (arm64, token "neon"; NEON is baseline on AArch64, so no run-time check).
//
//   dtype  lanes                       accumulator                   key instructions
//   f32    4 x f32 per q register      f32 lanes, 4 in flight        fmla, fsub, fabd, faddp
//   i8     16 x i8 per q register      i32 lanes via i16 products,   smull/smull2 + sadalp (dot),
//                                      drained to i64 per kI8Chunk   ssubl + smlal/smlal2 (l2sq)
//   u1     16 bytes per q register     u32 lanes                     eor, cnt, uaddlp, uadalp
//
// Tails are scalar loops. Block kernels take four rows at a time, sharing the query loads, and
// reduce the four sums together with pairwise adds (reduce4).
// ODR: only intrinsics and our own headers are included; everything is file-local (see
// internal.h). The only exported symbol is kernels_neon_table(). Compiled on arm64 only.
#if defined(__aarch64__)
#include <arm_neon.h>

#include "kernels/internal.h"

namespace vecsqlite {
namespace {

enum Kind { kL2 = 0, kDot = 1, kL1 = 2 };

// Per chunk: a lane gains at most 4 * 255^2 per 16 elements and the chunk total is at most
// 8192 * 255^2 < 2^31, so the int32 lanes never overflow.
constexpr size_t kI8Chunk = 8192;

inline float32x4_t reduce4_f32x4(float32x4_t a, float32x4_t b, float32x4_t c, float32x4_t d) {
  return vpaddq_f32(vpaddq_f32(a, b), vpaddq_f32(c, d));
}

template <int K>
inline float32x4_t step_f32x4(float32x4_t acc, float32x4_t x, float32x4_t y) {
  if (K == kL2) {
    const float32x4_t d = vsubq_f32(x, y);
    return vfmaq_f32(acc, d, d);
  }
  if (K == kDot) return vfmaq_f32(acc, x, y);
  return vaddq_f32(acc, vabdq_f32(x, y));
}

template <int K>
inline float tail_f32(const float* a, const float* b, size_t i, size_t n) {
  float s = 0;
  for (; i < n; i++) {
    const float d = a[i] - b[i];
    s += K == kL2 ? d * d : K == kDot ? a[i] * b[i] : (d < 0 ? -d : d);
  }
  return s;
}

template <int K>
inline float one_f32(const float* a, const float* b, size_t n) {
  float32x4_t s0 = vdupq_n_f32(0), s1 = vdupq_n_f32(0), s2 = vdupq_n_f32(0), s3 = vdupq_n_f32(0);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    s0 = step_f32x4<K>(s0, vld1q_f32(a + i), vld1q_f32(b + i));
    s1 = step_f32x4<K>(s1, vld1q_f32(a + i + 4), vld1q_f32(b + i + 4));
    s2 = step_f32x4<K>(s2, vld1q_f32(a + i + 8), vld1q_f32(b + i + 8));
    s3 = step_f32x4<K>(s3, vld1q_f32(a + i + 12), vld1q_f32(b + i + 12));
  }
  for (; i + 4 <= n; i += 4) s0 = step_f32x4<K>(s0, vld1q_f32(a + i), vld1q_f32(b + i));
  return vaddvq_f32(vaddq_f32(vaddq_f32(s0, s1), vaddq_f32(s2, s3))) + tail_f32<K>(a, b, i, n);
}

float l2sq_f32_neon(const float* a, const float* b, size_t n) { return one_f32<kL2>(a, b, n); }
float dot_f32_neon(const float* a, const float* b, size_t n) { return one_f32<kDot>(a, b, n); }
float l1_f32_neon(const float* a, const float* b, size_t n) { return one_f32<kL1>(a, b, n); }

CosParts cos_parts_f32_neon(const float* a, const float* b, size_t n) {
  float32x4_t d0 = vdupq_n_f32(0), d1 = vdupq_n_f32(0);
  float32x4_t a0 = vdupq_n_f32(0), a1 = vdupq_n_f32(0);
  float32x4_t b0 = vdupq_n_f32(0), b1 = vdupq_n_f32(0);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const float32x4_t x0 = vld1q_f32(a + i), y0 = vld1q_f32(b + i);
    const float32x4_t x1 = vld1q_f32(a + i + 4), y1 = vld1q_f32(b + i + 4);
    d0 = vfmaq_f32(d0, x0, y0);
    d1 = vfmaq_f32(d1, x1, y1);
    a0 = vfmaq_f32(a0, x0, x0);
    a1 = vfmaq_f32(a1, x1, x1);
    b0 = vfmaq_f32(b0, y0, y0);
    b1 = vfmaq_f32(b1, y1, y1);
  }
  float sd = vaddvq_f32(vaddq_f32(d0, d1)), sa = vaddvq_f32(vaddq_f32(a0, a1)), sb = vaddvq_f32(vaddq_f32(b0, b1));
  for (; i < n; i++) {
    sd += a[i] * b[i];
    sa += a[i] * a[i];
    sb += b[i] * b[i];
  }
  return CosParts{sd, sa, sb};
}

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
    float32x4_t s0 = vdupq_n_f32(0), s1 = vdupq_n_f32(0), s2 = vdupq_n_f32(0), s3 = vdupq_n_f32(0);
    float32x4_t t0 = vdupq_n_f32(0), t1 = vdupq_n_f32(0), t2 = vdupq_n_f32(0), t3 = vdupq_n_f32(0);
    size_t i = 0;
    for (; i + 8 <= dim; i += 8) {
      const float32x4_t qa = vld1q_f32(q + i), qb = vld1q_f32(q + i + 4);
      s0 = step_f32x4<K>(s0, qa, vld1q_f32(x0 + i));
      t0 = step_f32x4<K>(t0, qb, vld1q_f32(x0 + i + 4));
      s1 = step_f32x4<K>(s1, qa, vld1q_f32(x1 + i));
      t1 = step_f32x4<K>(t1, qb, vld1q_f32(x1 + i + 4));
      s2 = step_f32x4<K>(s2, qa, vld1q_f32(x2 + i));
      t2 = step_f32x4<K>(t2, qb, vld1q_f32(x2 + i + 4));
      s3 = step_f32x4<K>(s3, qa, vld1q_f32(x3 + i));
      t3 = step_f32x4<K>(t3, qb, vld1q_f32(x3 + i + 4));
    }
    for (; i + 4 <= dim; i += 4) {
      const float32x4_t qa = vld1q_f32(q + i);
      s0 = step_f32x4<K>(s0, qa, vld1q_f32(x0 + i));
      s1 = step_f32x4<K>(s1, qa, vld1q_f32(x1 + i));
      s2 = step_f32x4<K>(s2, qa, vld1q_f32(x2 + i));
      s3 = step_f32x4<K>(s3, qa, vld1q_f32(x3 + i));
    }
    float sums[4];
    vst1q_f32(sums, reduce4_f32x4(vaddq_f32(s0, t0), vaddq_f32(s1, t1), vaddq_f32(s2, t2), vaddq_f32(s3, t3)));
    const float* xs[4] = {x0, x1, x2, x3};
    for (size_t j = 0; j < left && j < 4; j++) {
      const float v = sums[j] + tail_f32<K>(q, xs[j], i, dim);
      out[r + j] = K == kDot ? -v : v;
    }
  }
}

void l2sq_f32_block_neon(const float* q, const float* base, size_t dim, size_t count, float* out) {
  block_f32<kL2>(q, base, dim, count, out);
}
void dot_f32_block_neon(const float* q, const float* base, size_t dim, size_t count, float* out) {
  block_f32<kDot>(q, base, dim, count, out);
}
void l1_f32_block_neon(const float* q, const float* base, size_t dim, size_t count, float* out) {
  block_f32<kL1>(q, base, dim, count, out);
}

void cos_f32_block_neon(const float* q, const float* base, size_t dim, size_t count, float* out) {
  const double qq = one_f32<kDot>(q, q, dim);
  size_t r = 0;
  for (; r < count; r += 4) {
    // The last pass repeats row r where rows are missing, so a row's distance never depends
    // on its position in the block (the same bits in every pass, tail or not).
    const size_t left = count - r;
    const float* x0 = base + r * dim;
    const float* xs[4] = {x0, left > 1 ? x0 + dim : x0, left > 2 ? x0 + 2 * dim : x0, left > 3 ? x0 + 3 * dim : x0};
    float32x4_t d0 = vdupq_n_f32(0), d1 = vdupq_n_f32(0), d2 = vdupq_n_f32(0), d3 = vdupq_n_f32(0);
    float32x4_t n0 = vdupq_n_f32(0), n1 = vdupq_n_f32(0), n2 = vdupq_n_f32(0), n3 = vdupq_n_f32(0);
    size_t i = 0;
    for (; i + 4 <= dim; i += 4) {
      const float32x4_t qa = vld1q_f32(q + i);
      const float32x4_t y0 = vld1q_f32(xs[0] + i), y1 = vld1q_f32(xs[1] + i);
      const float32x4_t y2 = vld1q_f32(xs[2] + i), y3 = vld1q_f32(xs[3] + i);
      d0 = vfmaq_f32(d0, qa, y0);
      n0 = vfmaq_f32(n0, y0, y0);
      d1 = vfmaq_f32(d1, qa, y1);
      n1 = vfmaq_f32(n1, y1, y1);
      d2 = vfmaq_f32(d2, qa, y2);
      n2 = vfmaq_f32(n2, y2, y2);
      d3 = vfmaq_f32(d3, qa, y3);
      n3 = vfmaq_f32(n3, y3, y3);
    }
    float dots[4], norms[4];
    vst1q_f32(dots, reduce4_f32x4(d0, d1, d2, d3));
    vst1q_f32(norms, reduce4_f32x4(n0, n1, n2, n3));
    for (size_t j = 0; j < left && j < 4; j++) {
      float dd = dots[j], nn = norms[j];
      for (size_t k = i; k < dim; k++) {
        dd += q[k] * xs[j][k];
        nn += xs[j][k] * xs[j][k];
      }
      out[r + j] = cos_distance_inline(dd, qq, nn);
    }
  }
}

// ---- int8 ---------------------------------------------------------------------------------

// acc += products of 16 int8 pairs: dot via smull/smull2 (|q*r| <= 16384 fits int16) and
// sadalp into int32 lanes; l2sq via ssubl (differences in int16) and smlal into int32 lanes.
template <int K>
inline int32x4_t step_i8x16(int32x4_t acc, int8x16_t x, int8x16_t y) {
  if (K == kL2) {
    const int16x8_t lo = vsubl_s8(vget_low_s8(x), vget_low_s8(y));
    const int16x8_t hi = vsubl_high_s8(x, y);
    acc = vmlal_s16(acc, vget_low_s16(lo), vget_low_s16(lo));
    acc = vmlal_high_s16(acc, lo, lo);
    acc = vmlal_s16(acc, vget_low_s16(hi), vget_low_s16(hi));
    return vmlal_high_s16(acc, hi, hi);
  }
  acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(x), vget_low_s8(y)));
  return vpadalq_s16(acc, vmull_high_s8(x, y));
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
    int32x4_t s0 = vdupq_n_s32(0), s1 = vdupq_n_s32(0);
    for (; i + 32 <= end; i += 32) {
      s0 = step_i8x16<K>(s0, vld1q_s8(a + i), vld1q_s8(b + i));
      s1 = step_i8x16<K>(s1, vld1q_s8(a + i + 16), vld1q_s8(b + i + 16));
    }
    for (; i + 16 <= end; i += 16) s0 = step_i8x16<K>(s0, vld1q_s8(a + i), vld1q_s8(b + i));
    total += vaddlvq_s32(vaddq_s32(s0, s1));
  }
  return total + tail_i8<K>(a, b, i, n);
}

int64_t l2sq_i8_neon(const int8_t* a, const int8_t* b, size_t n) { return one_i8<kL2>(a, b, n); }
int64_t dot_i8_neon(const int8_t* a, const int8_t* b, size_t n) { return one_i8<kDot>(a, b, n); }

CosParts cos_parts_i8_neon(const int8_t* a, const int8_t* b, size_t n) {
  return CosParts{double(one_i8<kDot>(a, b, n)), double(one_i8<kDot>(a, a, n)), double(one_i8<kDot>(b, b, n))};
}

template <int K>
inline void four_i8(const int8_t* q, const int8_t* x0, size_t dim, int64_t tot[4]) {
  const int8_t* x[4] = {x0, x0 + dim, x0 + 2 * dim, x0 + 3 * dim};
  tot[0] = tot[1] = tot[2] = tot[3] = 0;
  size_t i = 0;
  while (i + 16 <= dim) {
    const size_t end = dim - i < kI8Chunk ? dim : i + kI8Chunk;
    int32x4_t s0 = vdupq_n_s32(0), s1 = vdupq_n_s32(0), s2 = vdupq_n_s32(0), s3 = vdupq_n_s32(0);
    for (; i + 16 <= end; i += 16) {
      const int8x16_t qa = vld1q_s8(q + i);
      s0 = step_i8x16<K>(s0, qa, vld1q_s8(x[0] + i));
      s1 = step_i8x16<K>(s1, qa, vld1q_s8(x[1] + i));
      s2 = step_i8x16<K>(s2, qa, vld1q_s8(x[2] + i));
      s3 = step_i8x16<K>(s3, qa, vld1q_s8(x[3] + i));
    }
    tot[0] += vaddlvq_s32(s0);
    tot[1] += vaddlvq_s32(s1);
    tot[2] += vaddlvq_s32(s2);
    tot[3] += vaddlvq_s32(s3);
  }
  for (int j = 0; j < 4; j++) tot[j] += tail_i8<K>(q, x[j], i, dim);
}

void l2sq_i8_block_neon(const int8_t* q, const int8_t* base, size_t dim, size_t count, float* out) {
  size_t r = 0;
  for (; r + 4 <= count; r += 4) {
    int64_t tot[4];
    four_i8<kL2>(q, base + r * dim, dim, tot);
    for (int j = 0; j < 4; j++) out[r + j] = float(tot[j]);
  }
  for (; r < count; r++) out[r] = float(one_i8<kL2>(q, base + r * dim, dim));
}

void dot_i8_block_neon(const int8_t* q, const int8_t* base, size_t dim, size_t count, float* out) {
  size_t r = 0;
  for (; r + 4 <= count; r += 4) {
    int64_t tot[4];
    four_i8<kDot>(q, base + r * dim, dim, tot);
    for (int j = 0; j < 4; j++) out[r + j] = -float(tot[j]);
  }
  for (; r < count; r++) out[r] = -float(one_i8<kDot>(q, base + r * dim, dim));
}

void cos_i8_block_neon(const int8_t* q, const int8_t* base, size_t dim, size_t count, float* out) {
  const double qq = double(one_i8<kDot>(q, q, dim));
  size_t r = 0;
  for (; r + 4 <= count; r += 4) {
    const int8_t* x0 = base + r * dim;
    int64_t dots[4];
    four_i8<kDot>(q, x0, dim, dots);
    for (int j = 0; j < 4; j++) {
      const int8_t* x = x0 + j * dim;
      out[r + j] = cos_distance_inline(double(dots[j]), qq, double(one_i8<kDot>(x, x, dim)));
    }
  }
  for (; r < count; r++) {
    const int8_t* x = base + r * dim;
    out[r] = cos_distance_inline(double(one_i8<kDot>(q, x, dim)), qq, double(one_i8<kDot>(x, x, dim)));
  }
}

// ---- int16 query x int8 rows (the sketch pre-filter) ----------------------------------------
// Exact: |q| <= 2047 and dim <= 8192 keep every lane and total inside int32 (kernels.h).
void dot_i16i8_block_neon(const int16_t* q, const int8_t* base, size_t dim, size_t count, int32_t* out) {
  for (size_t r = 0; r < count; r++) {
    const int8_t* x = base + r * dim;
    int32x4_t s0 = vdupq_n_s32(0), s1 = vdupq_n_s32(0);
    size_t i = 0;
    for (; i + 8 <= dim; i += 8) {
      const int16x8_t qa = vld1q_s16(q + i);
      const int16x8_t xa = vmovl_s8(vld1_s8(x + i));
      s0 = vmlal_s16(s0, vget_low_s16(qa), vget_low_s16(xa));
      s1 = vmlal_high_s16(s1, qa, xa);
    }
    int32_t t = vaddvq_s32(vaddq_s32(s0, s1));
    for (; i < dim; i++) t += int32_t(q[i]) * int32_t(x[i]);
    out[r] = t;
  }
}

// ---- bits -----------------------------------------------------------------------------------

inline uint32x4_t step_u8x16(uint32x4_t acc, uint8x16_t x, uint8x16_t y) {
  return vpadalq_u16(acc, vpaddlq_u8(vcntq_u8(veorq_u8(x, y))));
}

inline uint64_t tail_u1(const uint8_t* a, const uint8_t* b, size_t i, size_t n) {
  uint64_t s = 0;
  for (; i < n; i++) s += uint64_t(__builtin_popcount(unsigned(a[i] ^ b[i])));
  return s;
}

uint64_t hamming_u1_neon(const uint8_t* a, const uint8_t* b, size_t nbytes) {
  uint32x4_t s0 = vdupq_n_u32(0), s1 = vdupq_n_u32(0);
  size_t i = 0;
  for (; i + 32 <= nbytes; i += 32) {
    s0 = step_u8x16(s0, vld1q_u8(a + i), vld1q_u8(b + i));
    s1 = step_u8x16(s1, vld1q_u8(a + i + 16), vld1q_u8(b + i + 16));
  }
  for (; i + 16 <= nbytes; i += 16) s0 = step_u8x16(s0, vld1q_u8(a + i), vld1q_u8(b + i));
  // u32 lanes: each gains at most 32 bits per 16 bytes, so 2^27 bytes per lane before overflow;
  // rows that long are not vectors, but sum in 64 bits anyway.
  return vaddlvq_u32(s0) + vaddlvq_u32(s1) + tail_u1(a, b, i, nbytes);
}

void hamming_u1_block_neon(const uint8_t* q, const uint8_t* base, size_t nbytes, size_t count, float* out) {
  size_t r = 0;
  for (; r + 4 <= count; r += 4) {
    const uint8_t* x[4] = {base + r * nbytes, base + (r + 1) * nbytes, base + (r + 2) * nbytes,
                           base + (r + 3) * nbytes};
    uint32x4_t s0 = vdupq_n_u32(0), s1 = vdupq_n_u32(0), s2 = vdupq_n_u32(0), s3 = vdupq_n_u32(0);
    size_t i = 0;
    for (; i + 16 <= nbytes; i += 16) {
      const uint8x16_t qa = vld1q_u8(q + i);
      s0 = step_u8x16(s0, qa, vld1q_u8(x[0] + i));
      s1 = step_u8x16(s1, qa, vld1q_u8(x[1] + i));
      s2 = step_u8x16(s2, qa, vld1q_u8(x[2] + i));
      s3 = step_u8x16(s3, qa, vld1q_u8(x[3] + i));
    }
    out[r] = float(vaddlvq_u32(s0) + tail_u1(q, x[0], i, nbytes));
    out[r + 1] = float(vaddlvq_u32(s1) + tail_u1(q, x[1], i, nbytes));
    out[r + 2] = float(vaddlvq_u32(s2) + tail_u1(q, x[2], i, nbytes));
    out[r + 3] = float(vaddlvq_u32(s3) + tail_u1(q, x[3], i, nbytes));
  }
  for (; r < count; r++) out[r] = float(hamming_u1_neon(q, base + r * nbytes, nbytes));
}

#include "kernels/sketch_encode.inc"
#include "kernels/sketch_keep.inc"
#include "kernels/finite.inc"

const KernelTable kTable = {
    Isa::neon,
    l2sq_f32_neon, dot_f32_neon, l1_f32_neon, cos_parts_f32_neon,
    l2sq_i8_neon, dot_i8_neon, cos_parts_i8_neon,
    hamming_u1_neon,
    l2sq_f32_block_neon, dot_f32_block_neon, cos_f32_block_neon, l1_f32_block_neon,
    l2sq_i8_block_neon, dot_i8_block_neon, cos_i8_block_neon,
    hamming_u1_block_neon,
    dot_i16i8_block_neon,
    sketch_encode_f32_portable,
    sketch_keep_block_portable,
    finite_f32_portable,
    nullptr,  // dot_i16i8_block4: dot_i16i8_multi() runs dot_i16i8_block per query
};

}  // namespace

const KernelTable* kernels_neon_table() { return &kTable; }

}  // namespace vecsqlite
#endif
