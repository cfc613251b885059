// vecsqlite distance kernels: pure math, no SQLite and no Node includes.
//
// Names follow <metric>_<dtype>_<isa>: l2sq_f32_avx512, dot_i8_avx2, hamming_u1_scalar.
//
//   dtype  element        accumulator          exactness vs. scalar reference
//   f32    float          float lanes, summed   relative error <= 1e-5
//   i8     int8_t         int32                 exact
//   u1     packed bits    popcount (uint32)     exact (bit i of a vector is bit i%8 of byte i/8)
//
// ISA tokens (VECSQLITE_ISA, vecsqlite_isa(), isa()): "scalar", "avx2" (AVX2 + FMA), "avx512"
// (AVX-512 F/BW/DQ/VL; int8 widens to int16, no VNNI: out-of-cache scans are memory-bound),
// "neon" (arm64 only).
//
// Every kernel takes unaligned pointers and handles any length (tails inside the kernel).
// One table of function pointers per ISA; `kernels()` returns the active one, chosen once per
// process (std::call_once) from the CPU, capped by the environment variable VECSQLITE_ISA.
// An override naming an ISA that is not compiled in or not supported by the CPU is an error,
// never a silent fallback: `kernels_init()` reports it and `kernels()` must not be called.
//
// Block kernels compute one query against `count` rows stored contiguously, row r starting at
// base + r*dim elements (u1: base + r*nbytes bytes), writing one float distance per row to out.
//
// Distances produced by the block kernels (what vtabs rank by):
//   l2sq   sum (a_i-b_i)^2                  l2   sqrt(l2sq)
//   l1     sum |a_i-b_i|                    dot  negative inner product  -(a.b)   (smaller = closer)
//   cos    1 - a.b / (|a| |b|); if |a| or |b| is zero the result is NaN (callers decide the error)
//   hamming  number of differing bits
#pragma once

#include <cstddef>
#include <cstdint>

namespace vecsqlite {

enum class Isa : int { scalar = 0, avx2 = 1, avx512 = 2, neon = 3 };
constexpr int kIsaCount = 4;

// The one vocabulary of element types and metrics, used from the kernels up to SQL and JS.
//
//   Dtype  name      bytes per row           Metric   name      distance (smaller = closer)
//   f32    float32   4 * dim                 l2sq     l2sq      sum (a_i - b_i)^2
//   i8     int8      dim                     l2       l2        sqrt(l2sq)
//   u1     bit       dim / 8 (dim in bits)   dot      dot       -(a.b)
//                                            cos      cosine    1 - a.b / (|a| |b|)
//                                            l1       l1        sum |a_i - b_i|
//                                            hamming  hamming   differing bits (u1 only)
// SQL-side encodings of the element types (BLOB subtypes) live in sqlite/codec.h.
enum class Metric : int { l2sq = 0, l2 = 1, dot = 2, cos = 3, l1 = 4, hamming = 5 };
enum class Dtype : int { f32 = 0, i8 = 1, u1 = 2 };

const char* isa_name(Isa isa);                       // "scalar", "avx2", "avx512", "neon"
bool isa_from_name(const char* name, Isa* out);      // false for unknown names
const char* dtype_name(Dtype t);                     // "float32", "int8", "bit"
const char* metric_name(Metric m);                   // "l2sq", "l2", "dot", "cosine", "l1", "hamming"
bool metric_from_name(const char* name, Metric* out);  // exact names above; false otherwise
// True when the kernels define `m` for element type `t` (f32: all but hamming; i8: l2sq, l2,
// dot, cos, l1; u1: hamming).
bool metric_supports(Metric m, Dtype t);
// Bytes of one row of `dim` elements (u1: `dim` bits, a multiple of 8).
inline size_t dtype_row_bytes(Dtype t, size_t dim) {
  return t == Dtype::f32 ? dim * 4 : t == Dtype::i8 ? dim : dim / 8;
}

// Parts of a cosine computation, for callers that need to tell a zero-magnitude vector apart.
struct CosParts {
  double dot;   // a.b
  double aa;    // |a|^2
  double bb;    // |b|^2
};

// What sketch_encode_f32 reports of one float32 row x (see core/arena.h for its use).
struct SketchCodeInfo {
  float scale;        // s (0 for a zero, underflowing or non-finite row)
  float err2;         // >= sum (x_i - s c_i)^2, the exact value (in reals), by at most ~0.1%
  float norm2;        // sum x_i^2 in float32 (relative error <= (dim + 16) * 2^-24)
  uint32_t codes_sq;  // sum c_i^2, exact
};

// One row's bounds in the int8 sketch (core/arena.h keeps one per arena slot).
struct SketchRowInfo {
  float scale;        // s
  float err;          // |x - s*c|, rounded up; +inf for a row with non-finite values
  float norm;         // |x|
  uint32_t codes_sq;  // sum c_i^2
};
// What the sketch's bound needs of one query and of the current admission limit t (see
// sketch_row_excluded).
struct SketchBound {
  bool cosine;   // else l2
  double scale;  // the query's code scale
  double qt2;    // l2: |q~|^2
  double reach;  // l2: t (1 + margin) + 1e-15 + err (1e-15: underflow)
  double qt;     // cosine: |q~|, rounded up
  double err;    // cosine: |q - q~|, rounded up
  double qnorm;  // cosine: |q|
  double limit;  // cosine: t + margin
};
// True when the sketch proves that a row is farther than the admission limit, from `dot`, the
// inner product of the row's codes with the query's (dot_i16i8_block), and the row's bounds:
//   l2:     |q - x| >= |q~ - x~| - e_q - e_x; excluded when that exceeds t (1 + margin)
//   cosine: q.x <= q~.x~ + |q~| e_x + e_q |x|; excluded when 1 - that / (|q| |x|) > t + margin
// Never true for NaN (a zero or unbounded row is always rechecked). Shared by the block kernel
// and the per-row callers; `static` so that each per-ISA unit has its own copy (internal.h).
static inline bool sketch_row_excluded(const SketchBound& b, int32_t dot, const SketchRowInfo& m) {
  const double ss = b.scale * m.scale * dot;
  if (!b.cosine) {
    const double rb = static_cast<double>(m.scale) * m.scale * m.codes_sq;
    const double d2 = b.qt2 + rb - 2 * ss - 1e-12 * (b.qt2 + rb);  // 1e-12: double rounding
    const double reach = b.reach + m.err;
    return d2 > reach * reach;
  }
  const double lb = 1 - (ss + b.qt * m.err + b.err * m.norm) / (b.qnorm * m.norm);
  return lb > b.limit;
}

struct KernelTable {
  Isa isa;

  // ---- one-to-one, float32 ----
  float (*l2sq_f32)(const float* a, const float* b, size_t n);
  float (*dot_f32)(const float* a, const float* b, size_t n);        // a.b (plain inner product)
  float (*l1_f32)(const float* a, const float* b, size_t n);
  CosParts (*cos_parts_f32)(const float* a, const float* b, size_t n);

  // ---- one-to-one, int8 (exact integer results) ----
  int64_t (*l2sq_i8)(const int8_t* a, const int8_t* b, size_t n);
  int64_t (*dot_i8)(const int8_t* a, const int8_t* b, size_t n);
  CosParts (*cos_parts_i8)(const int8_t* a, const int8_t* b, size_t n);

  // ---- one-to-one, bits ----
  uint64_t (*hamming_u1)(const uint8_t* a, const uint8_t* b, size_t nbytes);

  // ---- one query against a contiguous block of rows (distances as documented above) ----
  void (*l2sq_f32_block)(const float* q, const float* base, size_t dim, size_t count, float* out);
  void (*dot_f32_block)(const float* q, const float* base, size_t dim, size_t count, float* out);
  void (*cos_f32_block)(const float* q, const float* base, size_t dim, size_t count, float* out);
  void (*l1_f32_block)(const float* q, const float* base, size_t dim, size_t count, float* out);
  void (*l2sq_i8_block)(const int8_t* q, const int8_t* base, size_t dim, size_t count, float* out);
  void (*dot_i8_block)(const int8_t* q, const int8_t* base, size_t dim, size_t count, float* out);
  void (*cos_i8_block)(const int8_t* q, const int8_t* base, size_t dim, size_t count, float* out);
  void (*hamming_u1_block)(const uint8_t* q, const uint8_t* base, size_t nbytes, size_t count,
                           float* out);

  // ---- the int8 sketch's pre-filter (core/arena.h): exact integer inner products ----
  // out[r] = sum_i q[i] * row_r[i] for an int16 query against int8 rows. Precondition, which
  // keeps every partial sum inside int32 on every ISA: |q[i]| <= kSketchQueryMax and
  // dim <= kSketchMaxDim (128 * 2047 * 8192 < 2^31).
  void (*dot_i16i8_block)(const int16_t* q, const int8_t* base, size_t dim, size_t count,
                          int32_t* out);
  // The sketch's row encoder: codes c_i = round(x_i / s) clamped to +-127, s = max|x_i| / 127,
  // and the row's bounds (SketchCodeInfo). Zero, underflowing or non-finite rows get s = 0
  // and all-zero codes, as do rows whose float32 norm2 overflows (norm2 is then +inf or NaN).
  void (*sketch_encode_f32)(const float* x, size_t dim, int8_t* codes, SketchCodeInfo* out);
  // The sketch's bound over a block: keep[r] = 0 when sketch_row_excluded(b, dots[r], rows[r]),
  // else 1 (the same decisions on every ISA, up to the last bit of the double arithmetic,
  // which the bound's slack covers).
  void (*sketch_keep_block)(const SketchBound& b, const int32_t* dots, const SketchRowInfo* rows, size_t count,
                            uint8_t* keep);

  // ---- validation ----
  // True when no element of x[0..n) is NaN or infinite.
  bool (*finite_f32)(const float* x, size_t n);

  // ---- batches (optional: null where an ISA has none; dot_i16i8_multi() falls back) ----
  // dot_i16i8_block for nq <= 4 queries at once: out[j][r] = sum_i q[j][i] * row_r[i]. Each
  // row is read (and widened) once for all of them.
  void (*dot_i16i8_block4)(const int16_t* const* q, size_t nq, const int8_t* base, size_t dim, size_t count,
                           int32_t* const* out);
};

// dot_i16i8_block for up to 4 queries, through the ISA's batch kernel when it has one.
inline void dot_i16i8_multi(const KernelTable& kt, const int16_t* const* q, size_t nq, const int8_t* base, size_t dim,
                            size_t count, int32_t* const* out) {
  if (kt.dot_i16i8_block4 != nullptr) {
    kt.dot_i16i8_block4(q, nq, base, dim, count, out);
    return;
  }
  for (size_t j = 0; j < nq; j++) kt.dot_i16i8_block(q[j], base, dim, count, out[j]);
}
constexpr int kSketchQueryMax = 2047;
constexpr size_t kSketchMaxDim = 8192;

// Table for one ISA, or nullptr when it is not compiled in or the CPU (and OS) lacks it.
const KernelTable* kernels_for(Isa isa);

// Chooses the active table once per process. Returns true on success; on failure (bad or
// unavailable VECSQLITE_ISA) returns false and, if err is non-null, points it at a static,
// human-readable message such as
//   "vecsqlite: VECSQLITE_ISA=avx512 is not available on this CPU (available: scalar, avx2)".
// Thread-safe; every call after the first returns the same answer.
bool kernels_init(const char** err);

// The active table. Precondition: kernels_init() returned true.
const KernelTable& kernels();

// Block distance for (metric, dtype) with the active or a given table. Returns false for a
// combination that does not exist (e.g. hamming on f32). `dim` is elements (u1: bytes).
// l2 is l2sq followed by sqrt. `base`/`q` point at rows of the given dtype.
bool block_distance(const KernelTable& t, Metric metric, Dtype dtype, const void* q,
                    const void* base, size_t dim, size_t count, float* out);

}  // namespace vecsqlite
