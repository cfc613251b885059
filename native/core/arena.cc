// Arena storage; see arena.h.
#include "core/arena.h"

#include <algorithm>
#include <cstring>
#include <new>
#include <utility>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/env.h"

namespace vecsqlite {

Arena::Arena(Dtype dtype, size_t dim) : dtype_(dtype), dim_(dim), row_bytes_(dtype_row_bytes(dtype, dim)) {}

Arena::Arena(const Arena& o)
    : dtype_(o.dtype_), dim_(o.dim_), row_bytes_(o.row_bytes_), ids_(o.ids_), slots_(o.slots_), sketch_(o.sketch_) {
  if (!ids_.empty()) {
    grow(std::max(ids_.size(), o.cap_rows_));  // the same headroom: the copy's next insert does not move it
    std::memcpy(block_.data(), o.block_.data(), ids_.size() * row_bytes_);
  }
}

Arena::Arena(Arena&& o) noexcept : dtype_(o.dtype_), dim_(o.dim_), row_bytes_(o.row_bytes_) { swap(o); }

Arena& Arena::operator=(Arena o) noexcept {
  swap(o);
  return *this;
}

void Arena::swap(Arena& o) noexcept {
  std::swap(dtype_, o.dtype_);
  std::swap(dim_, o.dim_);
  std::swap(row_bytes_, o.row_bytes_);
  block_.swap(o.block_);
  std::swap(cap_rows_, o.cap_rows_);
  ids_.swap(o.ids_);
  slots_.swap(o.slots_);
  std::swap(sketch_, o.sketch_);
}

void Arena::grow(size_t rows) {
  if (rows <= cap_rows_) return;
  size_t want = cap_rows_ < 64 ? 64 : cap_rows_ + cap_rows_ / 2;
  if (want < rows) want = rows;
  const size_t bytes = want * row_bytes_;
  if (row_bytes_ != 0 && bytes / row_bytes_ != want) throw std::bad_alloc();
  block_.grow(bytes, ids_.size() * row_bytes_);
  cap_rows_ = want;
}

namespace {
// A new row goes to the end of the block, which a bulk insert fills faster than any cache
// holds it and which nothing reads until a scan (or the write log's flush, 16 MiB later).
// Rows of kStreamBytes and more are written with non-temporal stores: no read of the lines
// before they are written and no eviction of what the insert is working on. The fence makes
// them ordered with later stores, as ordinary stores are, before the row can be published to
// another thread. 3 KiB rows (768-d float32) insert about 6% faster this way; 512 B and 768 B
// rows got 8-10% slower (the fence then costs more than the stores save), so they keep memcpy.
constexpr size_t kStreamBytes = 2048;
void store_new_row(uint8_t* dst, const void* row, size_t n) {
#if defined(__SSE2__)
  if (n >= kStreamBytes && reinterpret_cast<uintptr_t>(dst) % 16 == 0 && n % 16 == 0) {
    const uint8_t* src = static_cast<const uint8_t*>(row);
    for (size_t i = 0; i < n; i += 16)
      _mm_stream_si128(reinterpret_cast<__m128i*>(dst + i), _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i)));
    _mm_sfence();
    return;
  }
#endif
  std::memcpy(dst, row, n);
}
}  // namespace

void Arena::upsert(int64_t id, const void* row) {
  const size_t slot = ids_.size();
  auto ins = slots_.emplace(id, slot);  // one lookup for both cases
  if (!ins.second) {
    const size_t at = ins.first->second;
    uint8_t* dst = block_.data() + at * row_bytes_;
    std::memcpy(dst, row, row_bytes_);
    if (sketch_.built()) sketch_.set(at, reinterpret_cast<const float*>(dst));
    return;
  }
  try {  // room first (grown geometrically), so a failure leaves every array as it was
    grow(slot + 1);
    if (sketch_.built()) sketch_.reserve_one();
    ids_.push_back(id);
  } catch (...) {
    slots_.erase(id);
    throw;
  }
  uint8_t* dst = block_.data() + slot * row_bytes_;
  store_new_row(dst, row, row_bytes_);
  if (sketch_.built()) sketch_.append(reinterpret_cast<const float*>(dst));
}

bool Arena::remove(int64_t id) {
  auto it = slots_.find(id);
  if (it == slots_.end()) return false;
  const size_t slot = it->second;
  const size_t last = ids_.size() - 1;
  slots_.erase(it);
  if (slot != last) {
    uint8_t* data = block_.data();
    std::memcpy(data + slot * row_bytes_, data + last * row_bytes_, row_bytes_);
    ids_[slot] = ids_[last];
    slots_[ids_[slot]] = slot;
    if (sketch_.built()) sketch_.move_last_to(slot);
  }
  ids_.pop_back();
  if (sketch_.built()) sketch_.pop_last();
  return true;
}

const void* Arena::find(int64_t id) const {
  auto it = slots_.find(id);
  return it == slots_.end() ? nullptr : block_.data() + it->second * row_bytes_;
}

void Arena::clear() {
  block_.release();
  cap_rows_ = 0;
  ids_.clear();
  slots_.clear();
  sketch_.clear();
}

void Arena::reserve(size_t rows) {
  grow(rows);
  ids_.reserve(rows);
  slots_.reserve(rows);
}

std::function<void()> Arena::prefaulter(size_t rows) const {
  if (rows > cap_rows_) return {};
  return block_.prefaulter(ids_.size() * row_bytes_, rows * row_bytes_);
}

RowView Arena::view() const {
  RowView v;
  v.dtype = dtype_;
  v.dim = dim_;
  v.row_bytes = row_bytes_;
  v.data = block_.data();
  v.rows = ids_.size();
  v.ids = ids_.data();
  if (sketch_.built()) {
    v.codes = sketch_.codes();
    v.sketch = sketch_.meta();
  }
  return v;
}

bool Arena::sketch_due(size_t min_rows) const {
  return !sketch_.built() && dtype_ == Dtype::f32 && dim_ >= 16 && dim_ <= kSketchMaxDim && !ids_.empty() &&
         ids_.size() >= min_rows && env_sketch_enabled();
}

void Arena::prepare_sketch(size_t min_rows) {
  if (!sketch_due(min_rows)) return;
  sketch_.build(reinterpret_cast<const float*>(block_.data()), ids_.size(), dim_, cap_rows_);
}

size_t Arena::memory_bytes() const {
  return cap_rows_ * row_bytes_ + ids_.capacity() * sizeof(int64_t) + slots_.memory_bytes() + sketch_.memory_bytes();
}

}  // namespace vecsqlite
