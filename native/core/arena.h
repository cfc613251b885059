// Arena: the in-memory copy of one vector column that searches scan. Shared by every table
// (the dataset-aware `vec` and `vec0`); no SQLite and no Node includes.
//
// Layout: rows of `row_bytes` bytes stored back to back in one RowBlock (memory.h), in slot
// order, with a parallel array of int64 ids (slot -> id) and an IdMap (id -> slot). Deleting
// swaps the last row into the hole, so the block stays dense and every scan is one sequential
// pass that the SIMD block kernels consume in cache-sized blocks. Element types and row sizes:
// kernels.h (dtype_row_bytes).
//
// The SQLite tables stay the source of truth: owners fill an arena from them, update it on
// every write they see, and drop it when they cannot prove it is current.
//
// Float32 arenas of at least kSketchMinRows rows may also keep the int8 sketch (sketch.h):
// once the owner calls prepare_sketch(), every upsert / remove keeps it current. Scans read an
// arena through view() (scan.h, search.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "core/idmap.h"
#include "core/memory.h"
#include "core/scan.h"
#include "core/sketch.h"
#include "kernels/kernels.h"

namespace vecsqlite {

class Arena {
 public:
  Arena(Dtype dtype, size_t dim);
  Arena(const Arena& o);
  Arena(Arena&& o) noexcept;
  Arena& operator=(Arena o) noexcept;
  void swap(Arena& o) noexcept;

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
  // RowBlock::prefaulter for the rows from the current size up to `rows` (after reserve(rows)):
  // a task for a helper thread while the owner fills those rows.
  std::function<void()> prefaulter(size_t rows) const;

  // Slot access (0 <= slot < size()), for owners that keep per-slot side data.
  int64_t id_at(size_t slot) const { return ids_[slot]; }
  const void* row_at(size_t slot) const { return block_.data() + slot * row_bytes_; }
  const int64_t* ids() const { return ids_.data(); }

  // What a scan reads (valid until the arena changes).
  RowView view() const;

  // Builds the sketch when this arena qualifies (f32, 16 <= dim <= kSketchMaxDim, at least
  // min_rows rows, not disabled by VECSQLITE_SKETCH=0) and is a no-op otherwise or once built.
  // Owners that search several arenas of one column together pass a smaller min_rows for the
  // small ones (the threshold is about the whole scan). Not thread-safe: call it where the
  // owner may modify the arena, before a search.
  void prepare_sketch(size_t min_rows = kSketchMinRows);
  bool has_sketch() const { return sketch_.built(); }
  // True when prepare_sketch(min_rows) would build the sketch now.
  bool sketch_due(size_t min_rows = kSketchMinRows) const;

  // Bytes held (rows, ids, the id map and the sketch), for memory reports.
  size_t memory_bytes() const;

 private:
  void grow(size_t rows);  // capacity for at least `rows` rows; throws std::bad_alloc

  Dtype dtype_;
  size_t dim_;
  size_t row_bytes_;
  RowBlock block_;                // cap_rows_ * row_bytes_ bytes, size() rows in use
  size_t cap_rows_ = 0;
  std::vector<int64_t> ids_;      // slot -> id
  IdMap<size_t> slots_;           // id -> slot
  SketchStore sketch_;            // f32 only, once prepare_sketch() built it
};

}  // namespace vecsqlite
