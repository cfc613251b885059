// Memory for the blocks the search streams through: row blocks (an arena's vectors) and the
// sketch's arrays. No SQLite and no Node includes.
//
// Blocks of kMapBytes and more are anonymous mappings on Linux (their pages are zero-filled by
// the kernel on first touch); smaller ones come from malloc.
//
// ROW BLOCKS grow geometrically and are never zero-filled. From kMapBytes on, a row block is a
// 2 MiB-aligned mapping reserved 16x past its size (up to 4 GiB of address space, MAP_NORESERVE)
// so that it grows in place; past the reservation, mremap moves its pages to a larger one
// without copying. Transparent huge pages are not requested: where the kernel compacts memory
// synchronously for madvised regions (defrag=madvise, the common default), a fresh process's
// inserts spent half their time in those stalls (100k x 768 rows in 1.1-1.3 s with huge pages,
// 0.53 s without), while scans and graph searches ran at the same speed either way.
//
// THE POOL. A page a process has never touched costs microseconds to fault in (the kernel
// zeroes it, and a VM may first have to obtain it from its host), which is a large share of a
// cold cache load. So a freed mapped row block (a connection closed, a cache reloaded, a table
// dropped) is not unmapped but kept, MADV_FREE'd (the kernel can still reclaim its pages under
// memory pressure; they then read as zero, which nothing relies on), for the next row block of
// the process. The pool holds at most VECSQLITE_ARENA_POOL_MB of touched bytes (env.h) and
// lets go of blocks older than 30 s at its next use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <climits>
#include <cstring>
#include <functional>
#include <new>
#include <utility>
#include <vector>

namespace vecsqlite {

constexpr size_t kMapBytes = 4u << 20;

// A plain block of `bytes` (mapping from kMapBytes on, else malloc); throws std::bad_alloc.
// block_free needs the size it was allocated with.
void* block_alloc(size_t bytes);
void block_free(void* p, size_t bytes);

// Blocks for data read at random (a graph's links and traversal rows): from kMapBytes on, a
// 2 MiB-aligned mapping with transparent huge pages requested, because a search touches a few
// bytes of many far-apart rows and, past a few megabytes, 4 KiB pages make most of those
// touches TLB misses (costly page walks, the more so in a VM). Such arrays are allocated once
// per build or load rather than grown row by row, so the first-touch cost of huge pages is
// paid once. Same contract as block_alloc / block_free.
void* random_block_alloc(size_t bytes);
void random_block_free(void* p, size_t bytes);

// A std::allocator for vectors of such data.
template <typename T>
struct RandomAccessAllocator {
  using value_type = T;
  RandomAccessAllocator() = default;
  template <typename U>
  RandomAccessAllocator(const RandomAccessAllocator<U>&) noexcept {}
  T* allocate(size_t n) {
    if (n > SIZE_MAX / sizeof(T)) throw std::bad_alloc();
    return static_cast<T*>(random_block_alloc(n * sizeof(T)));
  }
  void deallocate(T* p, size_t n) noexcept { random_block_free(p, n * sizeof(T)); }
  template <typename U>
  bool operator==(const RandomAccessAllocator<U>&) const noexcept { return true; }
  template <typename U>
  bool operator!=(const RandomAccessAllocator<U>&) const noexcept { return false; }
};

template <typename T>
using RandomVector = std::vector<T, RandomAccessAllocator<T>>;

// A growable row block (see ROW BLOCKS above). Move-only.
class RowBlock {
 public:
  RowBlock() = default;
  ~RowBlock() { release(); }
  RowBlock(const RowBlock&) = delete;
  RowBlock& operator=(const RowBlock&) = delete;
  RowBlock(RowBlock&& o) noexcept { swap(o); }
  RowBlock& operator=(RowBlock&& o) noexcept {
    if (this != &o) {
      release();
      swap(o);
    }
    return *this;
  }
  void swap(RowBlock& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(cap_, o.cap_);
    std::swap(mapped_, o.mapped_);
    std::swap(map_bytes_, o.map_bytes_);
  }

  uint8_t* data() const { return data_; }
  size_t capacity() const { return cap_; }  // bytes
  // Capacity of exactly `bytes` (more than today's), keeping the first `used` bytes. Throws
  // std::bad_alloc and then changes nothing.
  void grow(size_t bytes, size_t used);
  // Frees the block (a mapping goes to the pool); empty afterwards.
  void release();
  // A task that faults in (Linux: MADV_POPULATE_WRITE, without touching the bytes) the pages
  // of bytes [from, to) of a mapped block, within the capacity; the range is fixed now. Meant
  // for a helper thread while the owner fills those bytes: the kernel's zeroing of fresh pages
  // then overlaps the owner's work. The owner must not grow or free the block before the task
  // ends. Best effort: an empty task for malloc'ed blocks; the advice fails harmlessly on old
  // kernels.
  std::function<void()> prefaulter(size_t from, size_t to) const;

 private:
  uint8_t* data_ = nullptr;
  size_t cap_ = 0;
  bool mapped_ = false;   // data_ is a mapping of map_bytes_ (>= cap_)
  size_t map_bytes_ = 0;
};

// A growable array of a trivially copyable T that never initialises its elements (a new
// element holds whatever the block held; callers write every element they add). Growth is
// geometric; copies copy the used part. Used for the sketch, whose build writes every element
// from the threads that encode it, so the first touch of the pages happens there, in parallel.
// (No huge pages here: a 1M x 128 sketch built faster with 4 KiB pages, whose first-touch
// faults are cheaper, and scans ran at the same speed either way.)
template <typename T>
class RawArray {
 public:
  RawArray() = default;
  ~RawArray() { release(); }
  RawArray(const RawArray& o) {
    reserve(o.cap_);  // the same headroom (untouched pages of a mapping take no memory)
    if (o.n_ != 0) std::memcpy(p_, o.p_, o.n_ * sizeof(T));
    n_ = o.n_;
  }
  RawArray(RawArray&& o) noexcept : p_(o.p_), n_(o.n_), cap_(o.cap_) { o.p_ = nullptr, o.n_ = o.cap_ = 0; }
  RawArray& operator=(RawArray o) noexcept {
    swap(o);
    return *this;
  }
  void swap(RawArray& o) noexcept {
    std::swap(p_, o.p_);
    std::swap(n_, o.n_);
    std::swap(cap_, o.cap_);
  }
  T* data() { return p_; }
  const T* data() const { return p_; }
  T& operator[](size_t i) { return p_[i]; }
  const T& operator[](size_t i) const { return p_[i]; }
  size_t size() const { return n_; }
  size_t capacity() const { return cap_; }
  // Room for n elements (at least); throws std::bad_alloc and then changes nothing.
  void reserve(size_t n) {
    if (n <= cap_) return;
    if (n > SIZE_MAX / sizeof(T)) throw std::bad_alloc();
    T* q = static_cast<T*>(block_alloc(n * sizeof(T)));
    if (n_ != 0) std::memcpy(q, p_, n_ * sizeof(T));
    release_block_only();
    p_ = q;
    cap_ = n;
  }
  // n elements in use; new ones are uninitialised. Grows by half when it must grow.
  void resize(size_t n) {
    if (n > cap_) reserve(n > cap_ + cap_ / 2 ? n : cap_ + cap_ / 2);
    n_ = n;
  }
  void release() {
    release_block_only();
    p_ = nullptr;
    n_ = cap_ = 0;
  }

 private:
  void release_block_only() {
    if (p_ != nullptr) block_free(p_, cap_ * sizeof(T));
  }
  T* p_ = nullptr;
  size_t n_ = 0, cap_ = 0;
};

}  // namespace vecsqlite
