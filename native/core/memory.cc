// Row blocks, plain blocks and the pool of freed mappings; see memory.h.
#include "core/memory.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <vector>

#include "core/env.h"

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace vecsqlite {

void* block_alloc(size_t bytes) {
#if defined(__linux__)
  if (bytes >= kMapBytes) {
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    return p;
  }
#endif
  void* p = std::malloc(bytes == 0 ? 1 : bytes);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

void block_free(void* p, size_t bytes) {
#if defined(__linux__)
  if (bytes >= kMapBytes) {
    munmap(p, bytes);
    return;
  }
#endif
  (void)bytes;
  std::free(p);
}

#if defined(__linux__)
namespace {
void* map_aligned(size_t bytes);
constexpr size_t kHugeBytes = 2u << 20;
}  // namespace
#endif

void* random_block_alloc(size_t bytes) {
#if defined(__linux__)
  if (bytes >= kMapBytes) {
    const size_t rounded = (bytes + kHugeBytes - 1) & ~(kHugeBytes - 1);
    if (rounded < bytes) throw std::bad_alloc();
    void* p = map_aligned(rounded);
    if (p == nullptr) throw std::bad_alloc();
    madvise(p, rounded, MADV_HUGEPAGE);  // advice only: ignored where THP is off
    return p;
  }
#endif
  void* p = std::malloc(bytes == 0 ? 1 : bytes);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

void random_block_free(void* p, size_t bytes) {
  if (p == nullptr) return;
#if defined(__linux__)
  if (bytes >= kMapBytes) {
    munmap(p, (bytes + kHugeBytes - 1) & ~(kHugeBytes - 1));
    return;
  }
#endif
  (void)bytes;
  std::free(p);
}

#if defined(__linux__)
namespace {
struct PooledBlock {
  void* p;
  size_t map_bytes;  // the mapping
  size_t touched;    // bytes the owner may have touched (its capacity)
  std::chrono::steady_clock::time_point freed;
};
struct BlockPool {
  std::mutex mu;
  std::vector<PooledBlock> blocks;  // oldest first
  size_t touched = 0;
};
BlockPool& block_pool() {
  static BlockPool* pool = new BlockPool();  // never destroyed: blocks may be freed at exit
  return *pool;
}
constexpr auto kPoolAge = std::chrono::seconds(30);
// Unmaps entries past their age, then the oldest until `extra` more touched bytes fit.
void pool_trim(BlockPool& pool, size_t extra) {
  const auto now = std::chrono::steady_clock::now();
  size_t drop = 0;
  while (drop < pool.blocks.size() &&
         (now - pool.blocks[drop].freed > kPoolAge || pool.touched + extra > env_pool_bytes())) {
    munmap(pool.blocks[drop].p, pool.blocks[drop].map_bytes);
    pool.touched -= pool.blocks[drop].touched;
    drop++;
  }
  pool.blocks.erase(pool.blocks.begin(), pool.blocks.begin() + static_cast<std::ptrdiff_t>(drop));
}
void pool_put(void* p, size_t map_bytes, size_t touched) {
  touched = std::min(map_bytes, (touched + 4095) / 4096 * 4096);
  if (touched > env_pool_bytes()) {
    munmap(p, map_bytes);
    return;
  }
  madvise(p, touched, MADV_FREE);
  BlockPool& pool = block_pool();
  std::lock_guard<std::mutex> lock(pool.mu);
  pool_trim(pool, touched);
  pool.blocks.push_back(PooledBlock{p, map_bytes, touched, std::chrono::steady_clock::now()});
  pool.touched += touched;
}
// A pooled mapping of at least `bytes`, the one with the most touched bytes; or nullptr.
void* pool_take(size_t bytes, size_t* map_bytes) {
  BlockPool& pool = block_pool();
  std::lock_guard<std::mutex> lock(pool.mu);
  pool_trim(pool, 0);
  size_t best = pool.blocks.size();
  for (size_t i = 0; i < pool.blocks.size(); i++)
    if (pool.blocks[i].map_bytes >= bytes && (best == pool.blocks.size() || pool.blocks[i].touched > pool.blocks[best].touched))
      best = i;
  if (best == pool.blocks.size()) return nullptr;
  void* p = pool.blocks[best].p;
  *map_bytes = pool.blocks[best].map_bytes;
  pool.touched -= pool.blocks[best].touched;
  pool.blocks.erase(pool.blocks.begin() + static_cast<std::ptrdiff_t>(best));
  return p;
}

constexpr size_t kHuge = 2u << 20;
inline size_t round_huge(size_t n) { return (n + kHuge - 1) & ~(kHuge - 1); }

// An anonymous mapping of `bytes` (a multiple of 2 MiB) that starts on a 2 MiB boundary, or
// nullptr. No transparent huge pages are requested (memory.h says why). MAP_NORESERVE: the pages past what the owner
// uses are address space only, never touched, and not charged against overcommit.
void* map_aligned(size_t bytes) {
  if (bytes > SIZE_MAX - kHuge) return nullptr;
  void* raw = mmap(nullptr, bytes + kHuge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  const uintptr_t a = reinterpret_cast<uintptr_t>(raw), b = (a + kHuge - 1) & ~(kHuge - 1);
  if (b > a) munmap(raw, b - a);
  if (a + kHuge > b) munmap(reinterpret_cast<void*>(b + bytes), a + kHuge - b);
  void* p = reinterpret_cast<void*>(b);
  return p;
}
}  // namespace
#endif

void RowBlock::grow(size_t bytes, size_t used) {
  if (bytes <= cap_) return;
#if defined(__linux__)
  if (bytes >= kMapBytes) {
    if (mapped_ && bytes <= map_bytes_) {
      cap_ = bytes;
      return;
    }
    const size_t reserve = round_huge(std::max(bytes, std::min(bytes * 16, size_t{4} << 30)));
    size_t got = reserve;
    // A block freed by another owner when this one starts its mapping: it then grows in place
    // through pages already faulted in. A moving block takes a fresh reservation (its own
    // pages would replace the pooled ones).
    void* p = mapped_ ? nullptr : pool_take(bytes, &got);
    if (p == nullptr) {
      got = reserve;
      p = map_aligned(reserve);
    }
    if (p == nullptr) {  // strict overcommit, or little address space: the capacity only
      got = round_huge(bytes);
      p = map_aligned(got);
    }
    if (p == nullptr) throw std::bad_alloc();
    if (mapped_) {
      if (mremap(data_, map_bytes_, map_bytes_, MREMAP_MAYMOVE | MREMAP_FIXED, p) == MAP_FAILED) {
        munmap(p, got);
        throw std::bad_alloc();
      }
    } else {
      if (data_ != nullptr && used != 0) std::memcpy(p, data_, used);
      std::free(data_);
    }
    data_ = static_cast<uint8_t*>(p);
    cap_ = bytes;
    map_bytes_ = got;
    mapped_ = true;
    return;
  }
#else
  (void)used;
#endif
  void* p = std::realloc(data_, bytes == 0 ? 1 : bytes);
  if (p == nullptr) throw std::bad_alloc();
  data_ = static_cast<uint8_t*>(p);
  cap_ = bytes;
}

void RowBlock::release() {
#if defined(__linux__)
  if (mapped_) {
    pool_put(data_, map_bytes_, cap_);
  } else {
    std::free(data_);
  }
#else
  std::free(data_);
#endif
  data_ = nullptr;
  cap_ = 0;
  mapped_ = false;
  map_bytes_ = 0;
}

std::function<void()> RowBlock::prefaulter(size_t from, size_t to) const {
#if defined(__linux__)
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14
#endif
  if (!mapped_ || to > cap_) return {};
  const size_t page = 4096;
  const uintptr_t begin = reinterpret_cast<uintptr_t>(data_) + from / page * page;
  const uintptr_t end = reinterpret_cast<uintptr_t>(data_) + to;
  if (end <= begin) return {};
  return [begin, end] { madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_WRITE); };
#else
  (void)from;
  (void)to;
  return {};
#endif
}

}  // namespace vecsqlite
