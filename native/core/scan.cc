// Scans over a RowView; see scan.h.
#include "core/scan.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

namespace vecsqlite {
namespace {

// Blocks of rows small enough that their distances stay in L1.
constexpr size_t kBlock = 512;

inline bool any_allowed(const uint64_t* allowed, size_t start, size_t count) {
  for (size_t w = start / 64; w <= (start + count - 1) / 64; w++)
    if (allowed[w] != 0) return true;
  return false;
}
inline bool slot_allowed(const uint64_t* allowed, size_t s) { return (allowed[s / 64] >> (s % 64)) & 1; }

// The admission limit of a pre-filtered scan: the k-th distance so far, or the upper distance
// bound when that is smaller.
double admission_limit(const TopK* top, const DistanceBounds& bounds) {
  const float t = top->threshold();
  return bounds.has_hi && bounds.hi < t ? double(bounds.hi) : double(t);
}

// The float32 distance of `slot`, offered to `top` when inside the bounds.
void recheck(const KernelTable& kt, Metric metric, const RowView& v, const float* query, size_t slot, TopK* top,
             const DistanceBounds& bounds) {
  float d;
  block_distance(kt, metric, Dtype::f32, query, v.row(slot), v.dim, 1, &d);
  if (bounds.contains(d)) top->push(d, v.id(slot));
}

}  // namespace

bool scan_range(const KernelTable& kt, Metric metric, const RowView& v, const void* query, size_t begin, size_t end,
                const uint64_t* allowed, const DistanceBounds& bounds, TopK* top) {
  float dist[kBlock];
  if (end > v.rows) end = v.rows;
  const size_t dim_arg = v.kernel_dim();
  const bool bounded = bounds.any();
  for (size_t start = begin; start < end; start += kBlock) {
    const size_t count = end - start < kBlock ? end - start : kBlock;
    // Skip whole blocks with no allowed slot; mask the rest after computing.
    if (allowed != nullptr && !any_allowed(allowed, start, count)) continue;
    if (!block_distance(kt, metric, v.dtype, query, v.row(start), dim_arg, count, dist)) return false;
    // Rows outside the filter get NaN, which TopK never admits.
    if (allowed != nullptr) {
      for (size_t i = 0; i < count; i++)
        if (!slot_allowed(allowed, start + i)) dist[i] = std::numeric_limits<float>::quiet_NaN();
    }
    if (bounded) {
      for (size_t i = 0; i < count; i++)
        if (!bounds.contains(dist[i])) dist[i] = std::numeric_limits<float>::quiet_NaN();
    }
    top->push_block(dist, v.ids != nullptr ? v.ids + start : nullptr, static_cast<int64_t>(start), count);
  }
  return true;
}

namespace {

// The rows of one block that the sketch bound keeps, rechecked from float32 into `top`, given
// the block's integer dot products with the query's codes.
void sketch_block(const KernelTable& kt, const SketchQuery& sq, const RowView& v, const float* query, size_t start,
                  size_t count, const uint64_t* allowed, const DistanceBounds& bounds, TopK* top, const int32_t* dots,
                  double qt, int64_t* rechecked) {
  uint8_t keep[kBlock + 8] = {};
  // The whole block's bounds against the limit at its start (one vectorized pass), then the
  // rows it keeps once more against the limit of the moment, which only falls as rechecked
  // rows enter the top-k: a row the first pass excludes would be excluded then too.
  double t = admission_limit(top, bounds);
  SketchBound bound = sketch_bound(sq, t, qt);
  kt.sketch_keep_block(bound, dots, v.sketch + start, count, keep);
  for (size_t i = 0; i < count; i += 8) {
    uint64_t word;
    std::memcpy(&word, keep + i, 8);  // keep has room for a whole last word
    if (word == 0) continue;
    const size_t stop = std::min(i + 8, count);
    for (size_t j = i; j < stop; j++) {
      if (!keep[j]) continue;
      const size_t s = start + j;
      if (allowed != nullptr && !slot_allowed(allowed, s)) continue;
      if (sketch_row_excluded(bound, dots[j], v.sketch[s])) continue;
      (*rechecked)++;
      recheck(kt, sq.metric, v, query, s, top, bounds);
      const double now = admission_limit(top, bounds);
      if (now != t) bound = sketch_bound(sq, t = now, qt);
    }
  }
}

}  // namespace

void scan_range_sketch(const KernelTable& kt, const SketchQuery& sq, const RowView& v, const float* query,
                       size_t begin, size_t end, const uint64_t* allowed, const DistanceBounds& bounds, TopK* top) {
  const SketchQuery* one = &sq;
  scan_range_sketch_multi(kt, &one, 1, v, &query, begin, end, allowed, bounds, &top);
}

void scan_range_sketch_multi(const KernelTable& kt, const SketchQuery* const* sq, size_t nq, const RowView& v,
                             const float* const* queries, size_t begin, size_t end, const uint64_t* allowed,
                             const DistanceBounds& bounds, TopK* const* tops) {
  int32_t dots[kMaxSketchBatch][kBlock];
  if (end > v.rows) end = v.rows;
  const size_t dim = v.dim;
  double qt[kMaxSketchBatch];
  const int16_t* codes[kMaxSketchBatch];
  int32_t* outs[kMaxSketchBatch];
  for (size_t j = 0; j < nq; j++) {
    qt[j] = std::sqrt(sq[j]->qt2) * (1 + 1e-9);
    codes[j] = sq[j]->codes.data();
    outs[j] = dots[j];
  }
  int64_t rechecked = 0;
  for (size_t start = begin; start < end; start += kBlock) {
    const size_t count = end - start < kBlock ? end - start : kBlock;
    if (allowed != nullptr && !any_allowed(allowed, start, count)) continue;
    // The block's row bounds (16 bytes a row, a stream apart from the codes) are fetched while
    // the kernel reads the codes: the bound pass would otherwise wait on their cache misses.
    const char* meta = reinterpret_cast<const char*>(v.sketch + start);
    for (size_t b = 0; b < count * sizeof(SketchRowInfo); b += 64) __builtin_prefetch(meta + b);
    dot_i16i8_multi(kt, codes, nq, v.codes + start * dim, dim, count, outs);
    for (size_t j = 0; j < nq; j++)
      sketch_block(kt, *sq[j], v, queries[j], start, count, allowed, bounds, tops[j], dots[j], qt[j], &rechecked);
  }
  g_sketch_scans.add(static_cast<int64_t>(nq));
  g_sketch_rows.add(static_cast<int64_t>(end > begin ? (end - begin) * nq : 0));
  g_sketch_rechecked.add(rechecked);
}

bool scan_slots(const KernelTable& kt, Metric metric, const RowView& v, const void* query, const SketchQuery* sq,
                const size_t* slots, size_t n, const DistanceBounds& bounds, TopK* top) {
  if (sq != nullptr && sq->usable() && v.has_sketch() && sq->metric == metric && top->capacity() <= n / 16) {
    const float* fq = static_cast<const float*>(query);
    const size_t dim = v.dim;
    const double qt = std::sqrt(sq->qt2) * (1 + 1e-9);
    int64_t rechecked = 0;
    constexpr size_t kAhead = 8;  // listed slots are scattered: fetch their codes ahead
    for (size_t i = 0; i < n; i++) {
      const size_t s = slots[i];
      if (i + kAhead < n) {
        const char* p = reinterpret_cast<const char*>(v.codes + slots[i + kAhead] * dim);
        for (size_t b = 0; b < dim; b += 64) __builtin_prefetch(p + b);
        __builtin_prefetch(&v.sketch[slots[i + kAhead]]);
      }
      int32_t dot;
      kt.dot_i16i8_block(sq->codes.data(), v.codes + s * dim, dim, 1, &dot);
      if (sketch_row_excluded(sketch_bound(*sq, admission_limit(top, bounds), qt), dot, v.sketch[s])) continue;
      rechecked++;
      recheck(kt, metric, v, fq, s, top, bounds);
    }
    g_sketch_scans.add();
    g_sketch_rows.add(static_cast<int64_t>(n));
    g_sketch_rechecked.add(rechecked);
    return true;
  }
  // Gathered into contiguous blocks for the block kernel.
  constexpr size_t kGather = 256;
  const size_t dim_arg = v.kernel_dim();
  std::vector<uint8_t> gather(kGather * v.row_bytes);
  float dist[kGather];
  for (size_t at = 0; at < n; at += kGather) {
    const size_t cnt = n - at < kGather ? n - at : kGather;
    for (size_t r = 0; r < cnt; r++) std::memcpy(gather.data() + r * v.row_bytes, v.row(slots[at + r]), v.row_bytes);
    if (!block_distance(kt, metric, v.dtype, query, gather.data(), dim_arg, cnt, dist)) return false;
    for (size_t r = 0; r < cnt; r++) {
      if (bounds.contains(dist[r])) top->push(dist[r], v.id(slots[at + r]));
    }
  }
  return true;
}

}  // namespace vecsqlite
