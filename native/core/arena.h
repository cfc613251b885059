// Arena: the in-memory copy of one vector column that the query path scans. Shared by the
// dataset-aware `vec` table and `vec0`; no SQLite and no Node includes.
//
// Layout: rows of `row_bytes` bytes stored back to back in one allocation (slot order), with a
// parallel array of int64 ids (slot -> id) and a hash map (id -> slot). Deleting swaps the
// last row into the hole, so the block stays dense and every scan is one sequential pass that
// the SIMD block kernels consume in cache-sized blocks.
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

class Arena {
 public:
  Arena(Dtype dtype, size_t dim);

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
  // The stored row for `id`, or nullptr.
  const void* find(int64_t id) const;
  void clear();
  void reserve(size_t rows);

  // Slot access (0 <= slot < size()), for owners that keep per-slot side data.
  int64_t id_at(size_t slot) const { return ids_[slot]; }
  const void* row_at(size_t slot) const { return data_.data() + slot * row_bytes_; }
  const int64_t* ids() const { return ids_.data(); }

  // One query against every row (or, with `allowed`, only the slots whose bit is set:
  // bit s of allowed[s / 64]); the nearest rows go into `top` with their ids.
  // Distances as KernelTable's block kernels define them (l2 is sqrt of l2sq).
  // Returns false for a (metric, dtype) pair that has no kernel.
  bool scan(const KernelTable& kt, Metric metric, const void* query, TopK* top,
            const uint64_t* allowed = nullptr) const {
    return scan_range(kt, metric, query, 0, size(), top, allowed);
  }
  // The same over slots [begin, end) only: callers that split one scan across threads give
  // each thread its own range and TopK, then merge.
  bool scan_range(const KernelTable& kt, Metric metric, const void* query, size_t begin,
                  size_t end, TopK* top, const uint64_t* allowed = nullptr) const;

  // Bytes held (rows, ids and the id map), for memory reports.
  size_t memory_bytes() const;

 private:
  Dtype dtype_;
  size_t dim_;
  size_t row_bytes_;
  std::vector<uint8_t> data_;                  // size() * row_bytes_ bytes
  std::vector<int64_t> ids_;                   // slot -> id
  std::unordered_map<int64_t, size_t> slots_;  // id -> slot
};

// Bytes per row for a column of `dim` elements (u1: bits) of `dtype`.
size_t arena_row_bytes(Dtype dtype, size_t dim);

}  // namespace vecsqlite
