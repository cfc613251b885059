// The int8 sketch: a compressed copy of a float32 column that lets a scan skip rows it can
// prove are too far, while the results stay exactly those of a full float32 scan.
//
// A float32 scan reads 4 bytes per element and runs at the memory-bandwidth roof, so the way to
// go faster is to read fewer bytes without giving up exact results. Per row, the sketch keeps
//
//   codes   dim x int8   c_i = round(x_i / s), |c_i| <= 127, s = max|x_i| / 127 (a float)
//   meta    16 bytes     s, err = |x - s*c| (rounded up), |x|, sum c_i^2   (SketchRowInfo)
//
// A query is quantized the same way to int16 (|d_i| <= 2047, scale s_q, error e_q); the exact
// integer d.c (the dot_i16i8 block kernel) bounds each row's true distance from below:
//
//   l2      |q - x| >= |q~ - x~| - e_q - err,  |q~ - x~|^2 = s_q^2|d|^2 + s^2|c|^2 - 2 s_q s d.c
//   cosine  q.x <= q~.x~ + |q~| err + e_q |x|,  so  1 - q.x/(|q||x|) >= 1 - that/(|q||x|)
//
// Only rows whose bound does not exceed the current k-th distance (plus a margin far above
// float32 rounding) get their float32 distance computed, by the same block kernel as a full
// scan, so ids, order and distance bits are the full scan's. A scan reads dim + 16 bytes per
// row instead of 4 * dim. Rows whose |x|^2 lies outside [1e-30, 1e30] (zero, tiny, huge or
// non-finite) get err = +inf and are always rechecked; such a query scans without the sketch.
// docs/ARCHITECTURE.md ("The int8 sketch") derives the bounds and the margin.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/memory.h"
#include "core/stats.h"
#include "kernels/kernels.h"

namespace vecsqlite {

// Arenas smaller than this are scanned without a sketch (a scan of them is already short).
constexpr size_t kSketchMinRows = 2048;

// What a scan needs of one query. usable() is false for a query the sketch cannot bound
// (|q|^2 outside [1e-30, 1e30]: zero, tiny, huge or non-finite) or a metric it does not serve
// (only l2 and cosine).
struct SketchQuery {
  std::vector<int16_t> codes;
  Metric metric = Metric::l2;
  float scale = 0;
  double qt2 = 0;     // |q~|^2
  double err = 0;     // |q - q~|, rounded up
  double qnorm = 0;   // |q|
  double margin = 0;  // relative (l2) or absolute (cosine) slack on the bound
  bool ok = false;
  bool usable() const { return ok; }
};
SketchQuery make_sketch_query(Metric metric, const float* q, size_t dim);

// The codes and bounds of one float32 row (rows with |x|^2 outside [1e-30, 1e30] get no bound).
void sketch_encode_row(const float* x, size_t dim, int8_t* codes, SketchRowInfo* m);

// The bound's inputs for query `sq` at admission limit `t`; `qt` = |q~| rounded up.
SketchBound sketch_bound(const SketchQuery& sq, double t, double qt);

// Per-row sketch data of one column, kept in slot order beside its rows (Arena owns one).
class SketchStore {
 public:
  bool built() const { return built_; }
  size_t dim() const { return dim_; }
  const int8_t* codes() const { return codes_.data(); }
  const SketchRowInfo* meta() const { return meta_.data(); }
  // Builds codes and meta for `n` float32 rows of `dim` elements stored back to back at
  // `rows` (split across threads for large columns), with room for `cap_rows` rows. Returns
  // false, leaving the store unbuilt, when memory runs out (scans then stay exact without it).
  bool build(const float* rows, size_t n, size_t dim, size_t cap_rows);
  // Room for one more row; throws std::bad_alloc and then changes nothing.
  void reserve_one();
  // Appends the codes of `row` (after reserve_one; cannot throw).
  void append(const float* row);
  // Re-encodes slot `slot` from `row`.
  void set(size_t slot, const float* row);
  // Moves the last slot's data into `slot` and drops the last slot (a swap-remove).
  void move_last_to(size_t slot);
  void pop_last();
  void clear();
  size_t memory_bytes() const { return codes_.capacity() + meta_.capacity() * sizeof(SketchRowInfo); }

 private:
  bool built_ = false;
  size_t dim_ = 0;
  RawArray<int8_t> codes_;         // size() * dim codes, slot order
  RawArray<SketchRowInfo> meta_;   // one per slot
};

// Process-wide sketch counters: sketches built, scans that used one, rows those scans covered,
// rows rechecked with the float32 kernel.
extern Counter g_sketch_builds, g_sketch_scans, g_sketch_rows, g_sketch_rechecked;

}  // namespace vecsqlite
