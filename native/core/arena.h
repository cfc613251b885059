// Arena: the in-memory copy of one vector column that the query path scans. Shared by the
// dataset-aware `vec` table and `vec0`; no SQLite and no Node includes.
//
// Layout: rows of `row_bytes` bytes stored back to back in one allocation (slot order), with a
// parallel array of int64 ids (slot -> id) and a hash map (id -> slot). Deleting swaps the
// last row into the hole, so the block stays dense and every scan is one sequential pass that
// the SIMD block kernels consume in cache-sized blocks. The row block grows geometrically and
// is never zero-filled: malloc/realloc while small, and on Linux an mmap'ed block with
// transparent huge pages requested (grown with mremap) from 4 MiB on.
//
//   dtype  row_bytes      dim means
//   f32    4 * dim        elements
//   i8     dim            elements
//   u1     dim / 8        bits (dim must be a multiple of 8)
//
// The SQLite tables stay the source of truth: owners fill an arena from them, update it on
// every write they see, and drop it when they cannot prove it is current (see Freshness).
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "kernels/kernels.h"

namespace vecsqlite {

// What a scan keeps besides the k nearest: an optional slot bitmap (bit s of allowed[s / 64])
// and optional bounds on the distance (the reference's f32 comparisons: lo / hi with strict
// or inclusive ends). Rows outside are never offered to the TopK.
struct ScanFilter {
  const uint64_t* allowed = nullptr;
  bool has_lo = false, lo_strict = false;
  float lo = 0;
  bool has_hi = false, hi_strict = false;
  float hi = 0;
  bool any() const { return allowed != nullptr || has_lo || has_hi; }
};

class Arena {
 public:
  Arena(Dtype dtype, size_t dim);
  ~Arena();
  Arena(const Arena& o);
  Arena(Arena&& o) noexcept;
  Arena& operator=(Arena o) noexcept;

  Dtype dtype() const { return dtype_; }
  size_t dim() const { return dim_; }
  size_t row_bytes() const { return row_bytes_; }
  size_t size() const { return ids_.size(); }
  bool empty() const { return ids_.empty(); }

  // Inserts or overwrites the row for `id` (row_bytes bytes, no alignment needed).
  void upsert(int64_t id, const void* row);
  // Removes the row for `id`; returns false when it was not present.
  bool remove(int64_t id);
  bool contains(int64_t id) const { return slots_.count(id) != 0; }
  // The slot holding `id`; false when absent.
  bool slot_of(int64_t id, size_t* slot) const {
    auto it = slots_.find(id);
    if (it == slots_.end()) return false;
    *slot = it->second;
    return true;
  }
  // The stored row for `id`, or nullptr.
  const void* find(int64_t id) const;
  void clear();
  void reserve(size_t rows);

  // Slot access (0 <= slot < size()), for owners that keep per-slot side data.
  int64_t id_at(size_t slot) const { return ids_[slot]; }
  const void* row_at(size_t slot) const { return data_ + slot * row_bytes_; }
  const int64_t* ids() const { return ids_.data(); }

  // One query against slots [begin, end): distances as KernelTable's block kernels define them
  // (l2 is sqrt of l2sq); rows outside `filter` are skipped; the nearest go into `top` with their
  // ids. Callers that split one scan across threads give each thread its own range and TopK
  // (see scan_topk). Returns false for a (metric, dtype) pair that has no kernel.
  bool scan_range(const KernelTable& kt, Metric metric, const void* query, size_t begin,
                  size_t end, TopK* top, const ScanFilter& filter) const;

  // Bytes held (rows, ids and the id map), for memory reports.
  size_t memory_bytes() const;

 private:
  void grow(size_t rows);  // capacity for at least `rows` rows; throws std::bad_alloc

  Dtype dtype_;
  size_t dim_;
  size_t row_bytes_;
  uint8_t* data_ = nullptr;                    // cap_rows_ * row_bytes_ bytes, size() in use
  size_t cap_rows_ = 0;
  bool mapped_ = false;                        // data_ is an mmap'ed block (see arena.cc)
  std::vector<int64_t> ids_;                   // slot -> id
  std::unordered_map<int64_t, size_t> slots_;  // id -> slot
};

// Bytes per row for a column of `dim` elements (u1: bits) of `dtype`.
size_t arena_row_bytes(Dtype dtype, size_t dim);

// The k nearest rows of `arena` to `query` (ties: smaller id first), into `top`. Scans of
// 16 MiB and more are split across up to 4 threads (the query is then bounded by the
// machine's, not one core's, memory bandwidth); each part keeps its own TopK and the parts are
// merged. Falls back to the calling thread alone if a thread cannot be started. Returns false
// for a (metric, dtype) pair without a kernel. `filter` may be null.
bool scan_topk(const KernelTable& kt, const Arena& arena, Metric metric, const void* query,
               const ScanFilter* filter, TopK* top);

// The same over several arenas at once (vec0's partitions), each with its own filter: the
// threads split the arenas' rows taken together, so many small arenas still use every core.
struct ScanJob {
  const Arena* arena = nullptr;
  ScanFilter filter;
};
bool scan_topk_many(const KernelTable& kt, const std::vector<ScanJob>& jobs, Metric metric,
                    const void* query, TopK* top);

}  // namespace vecsqlite
