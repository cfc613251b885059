// Arena implementation; see arena.h for the layout.
#include "core/arena.h"

#include <cmath>
#include <cstring>
#include <limits>

namespace vecsqlite {

size_t arena_row_bytes(Dtype dtype, size_t dim) {
  switch (dtype) {
    case Dtype::f32: return dim * sizeof(float);
    case Dtype::i8: return dim;
    case Dtype::u1: return dim / 8;
  }
  return 0;
}

Arena::Arena(Dtype dtype, size_t dim) : dtype_(dtype), dim_(dim), row_bytes_(arena_row_bytes(dtype, dim)) {}

void Arena::upsert(int64_t id, const void* row) {
  auto it = slots_.find(id);
  if (it != slots_.end()) {
    std::memcpy(data_.data() + it->second * row_bytes_, row, row_bytes_);
    return;
  }
  const size_t slot = ids_.size();
  data_.resize(data_.size() + row_bytes_);
  std::memcpy(data_.data() + slot * row_bytes_, row, row_bytes_);
  ids_.push_back(id);
  slots_.emplace(id, slot);
}

bool Arena::remove(int64_t id) {
  auto it = slots_.find(id);
  if (it == slots_.end()) return false;
  const size_t slot = it->second;
  const size_t last = ids_.size() - 1;
  slots_.erase(it);
  if (slot != last) {
    std::memcpy(data_.data() + slot * row_bytes_, data_.data() + last * row_bytes_, row_bytes_);
    ids_[slot] = ids_[last];
    slots_[ids_[slot]] = slot;
  }
  ids_.pop_back();
  data_.resize(data_.size() - row_bytes_);
  return true;
}

const void* Arena::find(int64_t id) const {
  auto it = slots_.find(id);
  return it == slots_.end() ? nullptr : data_.data() + it->second * row_bytes_;
}

void Arena::clear() {
  data_.clear();
  ids_.clear();
  slots_.clear();
}

void Arena::reserve(size_t rows) {
  data_.reserve(rows * row_bytes_);
  ids_.reserve(rows);
  slots_.reserve(rows);
}

bool Arena::scan_range(const KernelTable& kt, Metric metric, const void* query, size_t begin,
                       size_t end, TopK* top, const uint64_t* allowed) const {
  // Blocks of rows small enough that their distances stay in L1.
  constexpr size_t kBlock = 512;
  float dist[kBlock];
  if (end > ids_.size()) end = ids_.size();
  const size_t dim_arg = dtype_ == Dtype::u1 ? row_bytes_ : dim_;
  for (size_t start = begin; start < end; start += kBlock) {
    const size_t count = end - start < kBlock ? end - start : kBlock;
    if (allowed != nullptr) {
      // Skip whole blocks with no allowed slot; mask the rest after computing.
      bool any = false;
      for (size_t w = start / 64; w <= (start + count - 1) / 64 && !any; w++) any = allowed[w] != 0;
      if (!any) continue;
    }
    if (!block_distance(kt, metric, dtype_, query, data_.data() + start * row_bytes_, dim_arg, count, dist)) {
      return false;
    }
    if (allowed != nullptr) {
      for (size_t i = 0; i < count; i++) {
        const size_t s = start + i;
        if (!((allowed[s / 64] >> (s % 64)) & 1)) dist[i] = std::numeric_limits<float>::quiet_NaN();
      }
    }
    top->push_block(dist, ids_.data() + start, 0, count);
  }
  return true;
}

size_t Arena::memory_bytes() const {
  // unordered_map: one node (key, value, next pointer, cached hash) plus a bucket pointer each.
  return data_.capacity() + ids_.capacity() * sizeof(int64_t) +
         slots_.size() * (sizeof(int64_t) + sizeof(size_t) + 2 * sizeof(void*)) +
         slots_.bucket_count() * sizeof(void*);
}

}  // namespace vecsqlite
