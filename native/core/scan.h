// Scans: one query against rows held in memory, into a TopK. Pure functions over a RowView,
// so they serve arenas (arena.h) and any other block of rows (a JS typed array) alike.
// The search entry (search.h) decides which of them to run, on which rows and threads.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/sketch.h"
#include "core/topk.h"
#include "kernels/kernels.h"

namespace vecsqlite {

// Rows stored back to back, read-only.
struct RowView {
  Dtype dtype = Dtype::f32;
  size_t dim = 0;        // elements (u1: bits)
  size_t row_bytes = 0;
  const uint8_t* data = nullptr;
  size_t rows = 0;
  const int64_t* ids = nullptr;               // slot -> id; nullptr: the id is the slot number
  const int8_t* codes = nullptr;              // the int8 sketch (sketch.h), or nullptr
  const SketchRowInfo* sketch = nullptr;
  int64_t id(size_t slot) const { return ids != nullptr ? ids[slot] : static_cast<int64_t>(slot); }
  const uint8_t* row(size_t slot) const { return data + slot * row_bytes; }
  bool has_sketch() const { return codes != nullptr; }
  // The `dim` argument of the block kernels (u1: bytes).
  size_t kernel_dim() const { return dtype == Dtype::u1 ? row_bytes : dim; }
};

// Bounds on the distance (SQL `distance > ?` and the like, compared in float32): rows outside
// never enter the top-k.
struct DistanceBounds {
  bool has_lo = false, lo_strict = false;
  float lo = 0;
  bool has_hi = false, hi_strict = false;
  float hi = 0;
  bool any() const { return has_lo || has_hi; }
  bool contains(float d) const {
    if (has_lo && !(lo_strict ? d > lo : d >= lo)) return false;
    if (has_hi && !(hi_strict ? d < hi : d <= hi)) return false;
    return true;
  }
};

// Slots [begin, end) of `v`: distances as the block kernels define them (l2 = sqrt(l2sq)),
// slots not set in `allowed` (bit s of allowed[s / 64]; nullptr: all) skipped, distances outside
// `bounds` skipped; the nearest go into `top` with their ids. False for a (metric, dtype) pair
// without a kernel.
bool scan_range(const KernelTable& kt, Metric metric, const RowView& v, const void* query, size_t begin, size_t end,
                const uint64_t* allowed, const DistanceBounds& bounds, TopK* top);

// scan_range through the sketch (v.has_sketch(), sq.usable(), f32): the same rows, ids and
// distances, reading dim + 16 bytes per row and the float32 row only of rows the bound keeps.
void scan_range_sketch(const KernelTable& kt, const SketchQuery& sq, const RowView& v, const float* query,
                       size_t begin, size_t end, const uint64_t* allowed, const DistanceBounds& bounds, TopK* top);

// scan_range_sketch for nq <= kMaxSketchBatch queries at once (*sq[j], queries[j] into tops[j]):
// each block of codes is read once for all of them; each top gets what scan_range_sketch gives.
constexpr size_t kMaxSketchBatch = 4;
void scan_range_sketch_multi(const KernelTable& kt, const SketchQuery* const* sq, size_t nq, const RowView& v,
                             const float* const* queries, size_t begin, size_t end, const uint64_t* allowed,
                             const DistanceBounds& bounds, TopK* const* tops);

// The nearest among the listed slots (any order), within `bounds`: gathered into blocks for the
// block kernel, or, given a usable `sq` on a view with a sketch and k <= n / 16, bounded per
// slot from the codes with the candidates rechecked. False for a pair without a kernel.
bool scan_slots(const KernelTable& kt, Metric metric, const RowView& v, const void* query, const SketchQuery* sq,
                const size_t* slots, size_t n, const DistanceBounds& bounds, TopK* top);

}  // namespace vecsqlite
