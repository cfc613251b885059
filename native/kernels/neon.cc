// NEON kernels (arm64): 4 float lanes, two accumulators, scalar tails. int8 widens with
// vmull_s8 / vmlal into int32 lanes. Compiled only on arm64 builds.
// ODR note: only intrinsics and our own headers are included; everything is file-local.
#if defined(__aarch64__)
#include <arm_neon.h>

#include "kernels/internal.h"

namespace vecsqlite {
namespace {

inline float fabs_f(float x) { return x < 0 ? -x : x; }

inline float l2sq_f32(const float* a, const float* b, size_t n) {
  float32x4_t s0 = vdupq_n_f32(0), s1 = vdupq_n_f32(0);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const float32x4_t d0 = vsubq_f32(vld1q_f32(a + i), vld1q_f32(b + i));
    const float32x4_t d1 = vsubq_f32(vld1q_f32(a + i + 4), vld1q_f32(b + i + 4));
    s0 = vfmaq_f32(s0, d0, d0);
    s1 = vfmaq_f32(s1, d1, d1);
  }
  float s = vaddvq_f32(vaddq_f32(s0, s1));
  for (; i < n; i++) {
    const float d = a[i] - b[i];
    s += d * d;
  }
  return s;
}

inline float dot_f32(const float* a, const float* b, size_t n) {
  float32x4_t s0 = vdupq_n_f32(0), s1 = vdupq_n_f32(0);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    s0 = vfmaq_f32(s0, vld1q_f32(a + i), vld1q_f32(b + i));
    s1 = vfmaq_f32(s1, vld1q_f32(a + i + 4), vld1q_f32(b + i + 4));
  }
  float s = vaddvq_f32(vaddq_f32(s0, s1));
  for (; i < n; i++) s += a[i] * b[i];
  return s;
}

inline float l1_f32(const float* a, const float* b, size_t n) {
  float32x4_t s0 = vdupq_n_f32(0);
  size_t i = 0;
  for (; i + 4 <= n; i += 4) s0 = vaddq_f32(s0, vabdq_f32(vld1q_f32(a + i), vld1q_f32(b + i)));
  float s = vaddvq_f32(s0);
  for (; i < n; i++) s += fabs_f(a[i] - b[i]);
  return s;
}

CosParts cos_parts_f32(const float* a, const float* b, size_t n) {
  float32x4_t d = vdupq_n_f32(0), x2 = vdupq_n_f32(0), y2 = vdupq_n_f32(0);
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const float32x4_t x = vld1q_f32(a + i), y = vld1q_f32(b + i);
    d = vfmaq_f32(d, x, y);
    x2 = vfmaq_f32(x2, x, x);
    y2 = vfmaq_f32(y2, y, y);
  }
  float sd = vaddvq_f32(d), sa = vaddvq_f32(x2), sb = vaddvq_f32(y2);
  for (; i < n; i++) {
    sd += a[i] * b[i];
    sa += a[i] * a[i];
    sb += b[i] * b[i];
  }
  return CosParts{sd, sa, sb};
}

inline int64_t l2sq_i8(const int8_t* a, const int8_t* b, size_t n) {
  int64_t total = 0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const int16x8_t d = vsubl_s8(vld1_s8(a + i), vld1_s8(b + i));
    int32x4_t s = vmull_s16(vget_low_s16(d), vget_low_s16(d));
    s = vmlal_s16(s, vget_high_s16(d), vget_high_s16(d));
    total += vaddvq_s32(s);
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
  for (; i + 8 <= n; i += 8) {
    const int16x8_t p = vmull_s8(vld1_s8(a + i), vld1_s8(b + i));
    total += vaddlvq_s16(p);
  }
  for (; i < n; i++) total += int32_t(a[i]) * int32_t(b[i]);
  return total;
}

CosParts cos_parts_i8(const int8_t* a, const int8_t* b, size_t n) {
  return CosParts{double(dot_i8(a, b, n)), double(dot_i8(a, a, n)), double(dot_i8(b, b, n))};
}

inline uint64_t hamming_u1(const uint8_t* a, const uint8_t* b, size_t nbytes) {
  uint64_t s = 0;
  size_t i = 0;
  for (; i + 16 <= nbytes; i += 16) s += vaddlvq_u8(vcntq_u8(veorq_u8(vld1q_u8(a + i), vld1q_u8(b + i))));
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
  for (size_t r = 0; r < count; r++) {
    const CosParts p = cos_parts_f32(q, base + r * dim, dim);
    out[r] = cos_distance_from_parts(p.dot, p.aa, p.bb);
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
    Isa::neon,
    l2sq_f32_fn, dot_f32_fn, l1_f32_fn, cos_parts_f32,
    l2sq_i8_fn, dot_i8_fn, cos_parts_i8,
    hamming_u1_fn,
    l2sq_f32_block, dot_f32_block, cos_f32_block, l1_f32_block,
    l2sq_i8_block, dot_i8_block, cos_i8_block,
    hamming_u1_block,
};

}  // namespace

const KernelTable* kernels_neon_table() { return &kTable; }

}  // namespace vecsqlite
#endif
