// Scalar reference kernels: plain loops, the yardstick every SIMD variant is tested against.
// float32 sums are accumulated in double, so the scalar variant is the accurate yardstick the
// float-lane SIMD variants are measured against; int8 and bit results are exact integers.
#include <cmath>
#include <limits>

#include "kernels/internal.h"

namespace vecsqlite {

float cos_distance_from_parts(double dot, double aa, double bb) { return cos_distance_inline(dot, aa, bb); }

namespace {

float l2sq_f32_scalar(const float* a, const float* b, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++) {
    const double d = double(a[i]) - double(b[i]);
    s += d * d;
  }
  return float(s);
}

float dot_f32_scalar(const float* a, const float* b, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++) s += double(a[i]) * double(b[i]);
  return float(s);
}

float l1_f32_scalar(const float* a, const float* b, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++) s += std::fabs(double(a[i]) - double(b[i]));
  return float(s);
}

CosParts cos_parts_f32_scalar(const float* a, const float* b, size_t n) {
  double dot = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < n; i++) {
    dot += double(a[i]) * double(b[i]);
    aa += double(a[i]) * double(a[i]);
    bb += double(b[i]) * double(b[i]);
  }
  return CosParts{dot, aa, bb};
}

int64_t l2sq_i8_scalar(const int8_t* a, const int8_t* b, size_t n) {
  int64_t s = 0;
  for (size_t i = 0; i < n; i++) {
    const int32_t d = int32_t(a[i]) - int32_t(b[i]);
    s += d * d;
  }
  return s;
}

int64_t dot_i8_scalar(const int8_t* a, const int8_t* b, size_t n) {
  int64_t s = 0;
  for (size_t i = 0; i < n; i++) s += int32_t(a[i]) * int32_t(b[i]);
  return s;
}

CosParts cos_parts_i8_scalar(const int8_t* a, const int8_t* b, size_t n) {
  int64_t dot = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < n; i++) {
    dot += int32_t(a[i]) * int32_t(b[i]);
    aa += int32_t(a[i]) * int32_t(a[i]);
    bb += int32_t(b[i]) * int32_t(b[i]);
  }
  return CosParts{double(dot), double(aa), double(bb)};
}

uint64_t hamming_u1_scalar(const uint8_t* a, const uint8_t* b, size_t nbytes) {
  uint64_t s = 0;
  for (size_t i = 0; i < nbytes; i++) s += uint64_t(__builtin_popcount(unsigned(a[i] ^ b[i])));
  return s;
}

void l2sq_f32_block_scalar(const float* q, const float* base, size_t dim, size_t count, float* out) {
  for (size_t r = 0; r < count; r++) out[r] = l2sq_f32_scalar(q, base + r * dim, dim);
}
void dot_f32_block_scalar(const float* q, const float* base, size_t dim, size_t count, float* out) {
  for (size_t r = 0; r < count; r++) out[r] = -dot_f32_scalar(q, base + r * dim, dim);
}
void cos_f32_block_scalar(const float* q, const float* base, size_t dim, size_t count, float* out) {
  for (size_t r = 0; r < count; r++) {
    const CosParts p = cos_parts_f32_scalar(q, base + r * dim, dim);
    out[r] = cos_distance_from_parts(p.dot, p.aa, p.bb);
  }
}
void l1_f32_block_scalar(const float* q, const float* base, size_t dim, size_t count, float* out) {
  for (size_t r = 0; r < count; r++) out[r] = l1_f32_scalar(q, base + r * dim, dim);
}
void l2sq_i8_block_scalar(const int8_t* q, const int8_t* base, size_t dim, size_t count, float* out) {
  for (size_t r = 0; r < count; r++) out[r] = float(l2sq_i8_scalar(q, base + r * dim, dim));
}
void dot_i8_block_scalar(const int8_t* q, const int8_t* base, size_t dim, size_t count, float* out) {
  for (size_t r = 0; r < count; r++) out[r] = -float(dot_i8_scalar(q, base + r * dim, dim));
}
void cos_i8_block_scalar(const int8_t* q, const int8_t* base, size_t dim, size_t count, float* out) {
  for (size_t r = 0; r < count; r++) {
    const CosParts p = cos_parts_i8_scalar(q, base + r * dim, dim);
    out[r] = cos_distance_from_parts(p.dot, p.aa, p.bb);
  }
}
void dot_i16i8_block_scalar(const int16_t* q, const int8_t* base, size_t dim, size_t count, int32_t* out) {
  for (size_t r = 0; r < count; r++) {
    const int8_t* row = base + r * dim;
    int32_t s = 0;
    for (size_t i = 0; i < dim; i++) s += int32_t(q[i]) * int32_t(row[i]);
    out[r] = s;
  }
}

void hamming_u1_block_scalar(const uint8_t* q, const uint8_t* base, size_t nbytes, size_t count, float* out) {
  for (size_t r = 0; r < count; r++) out[r] = float(hamming_u1_scalar(q, base + r * nbytes, nbytes));
}

#include "kernels/sketch_encode.inc"
#include "kernels/sketch_keep.inc"
#include "kernels/finite.inc"

const KernelTable kTable = {
    Isa::scalar,
    l2sq_f32_scalar, dot_f32_scalar, l1_f32_scalar, cos_parts_f32_scalar,
    l2sq_i8_scalar, dot_i8_scalar, cos_parts_i8_scalar,
    hamming_u1_scalar,
    l2sq_f32_block_scalar, dot_f32_block_scalar, cos_f32_block_scalar, l1_f32_block_scalar,
    l2sq_i8_block_scalar, dot_i8_block_scalar, cos_i8_block_scalar,
    hamming_u1_block_scalar,
    dot_i16i8_block_scalar,
    sketch_encode_f32_portable,
    sketch_keep_block_portable,
    finite_f32_portable,
    nullptr,  // dot_i16i8_block4: dot_i16i8_multi() runs dot_i16i8_block per query
};

}  // namespace

const KernelTable* kernels_scalar_table() { return &kTable; }

}  // namespace vecsqlite
