// The int8 sketch; see sketch.h.
#include "core/sketch.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/parallel.h"

namespace vecsqlite {

Counter g_sketch_builds("sketch_builds");
Counter g_sketch_scans("sketch_scans");
Counter g_sketch_rows("sketch_rows");
Counter g_sketch_rechecked("sketch_rechecked");

namespace {

// A float no smaller than v (v >= 0, finite or +inf).
float round_up(double v) {
  float f = static_cast<float>(v);
  if (static_cast<double>(f) < v) f = std::nextafter(f, std::numeric_limits<float>::infinity());
  return f;
}

// The bounds hold for the true distances; the scan compares them with float32 distances, which
// are within the margin of the true ones only while no square or sum overflows and the squared
// norms stay far above the subnormal range. Vectors with |v|^2 outside [1e-30, 1e30] (zero and
// non-finite vectors included) therefore get no bound: such rows are always rechecked, such a
// query scans without the sketch.
inline bool in_float_range(double norm2) { return norm2 >= 1e-30 && norm2 <= 1e30; }

// Rounds to the nearest integer (ties to even) without a branch or a libm call; valid for
// |r| < 2^51 (here |r| <= 2047.5).
inline double round_near(double r) {
  constexpr double kMagic = 6755399441055744.0;  // 1.5 * 2^52
  return (r + kMagic) - kMagic;
}

// The query's codes (int16; rows use the kernels' sketch_encode_f32): `x` on the grid
// `scale * c`, |c| <= cmax, into out. Returns sum (x_i - s c_i)^2 in
// double and sets *scale, *norm2 = |x|^2 and *csq = |c|^2. Zero or underflowing vectors get
// s = 0 (all codes 0, error |x|^2). *norm2 is +inf or NaN when x has a non-finite element.
// Four partial sums per quantity keep the dependency chains short.
double quantize(const float* x, size_t dim, int cmax, int16_t* out, float* scale, double* norm2, uint64_t* csq) {
  float m[4] = {0, 0, 0, 0};
  double n[4] = {0, 0, 0, 0};
  size_t i = 0;
  for (; i + 4 <= dim; i += 4) {
    for (size_t l = 0; l < 4; l++) {
      const float v = x[i + l];
      const float a = std::fabs(v);
      m[l] = a > m[l] ? a : m[l];
      n[l] += double(v) * v;
    }
  }
  for (; i < dim; i++) {
    const float a = std::fabs(x[i]);
    m[0] = a > m[0] ? a : m[0];
    n[0] += double(x[i]) * x[i];
  }
  const float amax = std::max(std::max(m[0], m[1]), std::max(m[2], m[3]));
  const double n2 = (n[0] + n[1]) + (n[2] + n[3]);
  *norm2 = n2;
  const float s = static_cast<float>(double(amax) / cmax);
  *scale = s;
  if (!(s > 0) || !std::isfinite(n2)) {
    for (size_t k = 0; k < dim; k++) out[k] = 0;
    *csq = 0;
    return n2;
  }
  const double inv = 1.0 / static_cast<double>(s), sd = s, lim = cmax;
  double e[4] = {0, 0, 0, 0};
  int64_t cc[4] = {0, 0, 0, 0};
  for (i = 0; i + 4 <= dim; i += 4) {
    for (size_t l = 0; l < 4; l++) {
      double c = round_near(x[i + l] * inv);
      c = c > lim ? lim : c < -lim ? -lim : c;
      out[i + l] = static_cast<int16_t>(c);
      const double d = x[i + l] - sd * c;
      e[l] += d * d;
      cc[l] += static_cast<int64_t>(c * c);
    }
  }
  for (; i < dim; i++) {
    double c = round_near(x[i] * inv);
    c = c > lim ? lim : c < -lim ? -lim : c;
    out[i] = static_cast<int16_t>(c);
    const double d = x[i] - sd * c;
    e[0] += d * d;
    cc[0] += static_cast<int64_t>(c * c);
  }
  *csq = static_cast<uint64_t>(cc[0] + cc[1] + cc[2] + cc[3]);
  return (e[0] + e[1]) + (e[2] + e[3]);
}

}  // namespace

void sketch_encode_row(const float* x, size_t dim, int8_t* codes, SketchRowInfo* m) {
  SketchCodeInfo info;
  kernels().sketch_encode_f32(x, dim, codes, &info);
  if (!in_float_range(info.norm2)) {  // no bound: the row is always rechecked
    *m = SketchRowInfo{0, std::numeric_limits<float>::infinity(), std::numeric_limits<float>::infinity(), 0};
    return;
  }
  m->scale = info.scale;
  m->err = round_up(std::sqrt(static_cast<double>(info.err2)) * (1 + 1e-7));
  m->norm = static_cast<float>(std::sqrt(static_cast<double>(info.norm2)));
  m->codes_sq = info.codes_sq;
}

SketchQuery make_sketch_query(Metric metric, const float* q, size_t dim) {
  SketchQuery sq;
  sq.metric = metric;
  if ((metric != Metric::l2 && metric != Metric::cos) || dim == 0 || dim > kSketchMaxDim) return sq;
  sq.codes.resize(dim);
  double n2;
  uint64_t csq;
  const double e2 = quantize(q, dim, kSketchQueryMax, sq.codes.data(), &sq.scale, &n2, &csq);
  if (!in_float_range(n2)) return sq;  // zero, tiny, huge or non-finite query: plain scan
  sq.qt2 = static_cast<double>(sq.scale) * sq.scale * static_cast<double>(csq);
  sq.err = std::sqrt(e2) * (1 + 1e-9);
  sq.qnorm = std::sqrt(n2);
  // float32 distances differ from the true ones by far less than (dim + 32) * 2^-24 relative
  // (l2) or absolute (cosine, twice that); the margin is 8x that bound.
  sq.margin = (metric == Metric::cos ? 16.0 : 8.0) * (static_cast<double>(dim) + 32) / 16777216.0;
  sq.ok = true;
  return sq;
}

SketchBound sketch_bound(const SketchQuery& sq, double t, double qt) {
  SketchBound b{};
  b.cosine = sq.metric != Metric::l2;
  b.scale = static_cast<double>(sq.scale);
  b.qt2 = sq.qt2;
  b.reach = t * (1 + sq.margin) + 1e-15 + sq.err;
  b.qt = qt;
  b.err = sq.err;
  b.qnorm = sq.qnorm;
  b.limit = t + sq.margin;
  return b;
}

bool SketchStore::build(const float* rows, size_t n, size_t dim, size_t cap_rows) {
  decltype(codes_) codes;
  decltype(meta_) meta;
  try {
    // Headroom (at least the row block's): the next inserts do not copy the codes. Large
    // arrays are mappings, whose untouched pages take no memory.
    const size_t cap = std::max(cap_rows, n + n / 2);
    codes.reserve(cap * dim);
    meta.reserve(cap);
    codes.resize(n * dim);
    meta.resize(n);
  } catch (const std::bad_alloc&) {
    return false;
  }
  codes_.swap(codes);
  meta_.swap(meta);
  dim_ = dim;
  // Large columns are encoded by several threads (disjoint slot ranges), as scans are split.
  const size_t parts = work_parts(n * dim * sizeof(float));
  const size_t per = (n + parts - 1) / parts;
  int8_t* c = codes_.data();
  SketchRowInfo* m = meta_.data();
  run_parts(parts, [rows, c, m, per, n, dim](size_t p) {
    for (size_t slot = p * per; slot < n && slot < (p + 1) * per; slot++)
      sketch_encode_row(rows + slot * dim, dim, c + slot * dim, m + slot);
  });
  built_ = true;
  g_sketch_builds.add();
  return true;
}

void SketchStore::reserve_one() {
  if (codes_.capacity() < codes_.size() + dim_) codes_.reserve(std::max(codes_.size() + dim_, codes_.capacity() * 3 / 2));
  if (meta_.capacity() < meta_.size() + 1) meta_.reserve(std::max(meta_.size() + 1, meta_.capacity() * 3 / 2));
}

void SketchStore::append(const float* row) {
  const size_t slot = meta_.size();
  codes_.resize(codes_.size() + dim_);  // room reserved by reserve_one: cannot throw
  meta_.resize(meta_.size() + 1);
  sketch_encode_row(row, dim_, codes_.data() + slot * dim_, &meta_[slot]);
}

void SketchStore::set(size_t slot, const float* row) { sketch_encode_row(row, dim_, codes_.data() + slot * dim_, &meta_[slot]); }

void SketchStore::move_last_to(size_t slot) {
  const size_t last = meta_.size() - 1;
  if (slot != last) {
    std::memcpy(codes_.data() + slot * dim_, codes_.data() + last * dim_, dim_);
    meta_[slot] = meta_[last];
  }
}

void SketchStore::pop_last() {
  const size_t last = meta_.size() - 1;
  codes_.resize(last * dim_);
  meta_.resize(last);
}

void SketchStore::clear() {
  built_ = false;
  codes_.release();
  meta_.release();
}

}  // namespace vecsqlite
