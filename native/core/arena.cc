// Arena implementation; see arena.h for the layout.
#include "core/arena.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <thread>
#include <utility>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#if defined(__linux__)
#include <sys/mman.h>
#endif

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

void* arena_block_alloc(size_t bytes) {
#if defined(__linux__)
  if (bytes >= kArenaMapBytes) {
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    return p;
  }
#endif
  void* p = std::malloc(bytes == 0 ? 1 : bytes);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

void arena_block_free(void* p, size_t bytes) {
#if defined(__linux__)
  if (bytes >= kArenaMapBytes) {
    munmap(p, bytes);
    return;
  }
#endif
  (void)bytes;
  std::free(p);
}

namespace {
// VECSQLITE_ARENA_POOL_MB: unset or empty keeps *mb; false for anything but a whole number
// of MiB up to 2^24.
bool pool_mb_from_env(size_t* mb) {
  const char* e = std::getenv("VECSQLITE_ARENA_POOL_MB");
  if (e == nullptr || *e == 0) return true;
  if (*e < '0' || *e > '9') return false;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(e, &end, 10);
  if (end == nullptr || *end != 0 || v > (1ull << 24)) return false;
  *mb = static_cast<size_t>(v);
  return true;
}
}  // namespace

const char* arena_env_error() {
  static const std::string err = [] {
    size_t mb = 0;
    if (!pool_mb_from_env(&mb))
      return std::string("vecsqlite: VECSQLITE_ARENA_POOL_MB must be a whole number of MiB (0 turns the pool off), got '") +
             std::getenv("VECSQLITE_ARENA_POOL_MB") + "'";
    const char* sk = std::getenv("VECSQLITE_SKETCH");
    if (sk != nullptr && std::strcmp(sk, "0") != 0 && std::strcmp(sk, "1") != 0)
      return std::string("vecsqlite: VECSQLITE_SKETCH must be 0 or 1, got '") + sk + "'";
    return std::string();
  }();
  return err.empty() ? nullptr : err.c_str();
}

#if defined(__linux__)
namespace {
// POOL of freed row blocks (process-wide, every thread). On these VMs a page a process has
// never touched costs 1.5-3 us to fault in, a third of a cold cache load; so a row block that
// is freed (a connection closed, a cache reloaded after another connection's commit, a table
// dropped) is kept for the next large arena instead of being unmapped: MADV_FREE'd, so the
// kernel may still take its pages back under memory pressure (they then fault in as zero
// pages, which the arena never relies on). Bounded by VECSQLITE_ARENA_POOL_MB (default 1024;
// 0: unmap at once) in touched bytes, and entries older than 30 s are unmapped at the next
// pool operation.
struct PooledBlock {
  void* p;
  size_t map_bytes;  // the mapping
  size_t touched;    // bytes the arena may have touched (its capacity)
  std::chrono::steady_clock::time_point freed;
};
struct BlockPool {
  std::mutex mu;
  std::vector<PooledBlock> blocks;  // oldest first
  size_t touched = 0;
};
BlockPool& block_pool() {
  static BlockPool* pool = new BlockPool();  // never destroyed: arenas may be freed at exit
  return *pool;
}
size_t pool_cap() {
  static const size_t cap = [] {
    size_t mb = 1024;
    pool_mb_from_env(&mb);  // a bad value is refused at load (arena_env_error)
    return mb << 20;
  }();
  return cap;
}
constexpr auto kPoolAge = std::chrono::seconds(30);
// Unmaps entries past their age, then the oldest until `extra` more touched bytes fit.
void pool_trim(BlockPool& pool, size_t extra) {
  const auto now = std::chrono::steady_clock::now();
  size_t drop = 0;
  while (drop < pool.blocks.size() &&
         (now - pool.blocks[drop].freed > kPoolAge || pool.touched + extra > pool_cap())) {
    munmap(pool.blocks[drop].p, pool.blocks[drop].map_bytes);
    pool.touched -= pool.blocks[drop].touched;
    drop++;
  }
  pool.blocks.erase(pool.blocks.begin(), pool.blocks.begin() + static_cast<std::ptrdiff_t>(drop));
}
void pool_put(void* p, size_t map_bytes, size_t touched) {
  touched = std::min(map_bytes, (touched + 4095) / 4096 * 4096);
  if (touched > pool_cap()) {
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
}  // namespace
#endif

namespace {
// Frees a row block: a mapping (of map_bytes, `touched` of them possibly touched) goes to the
// pool above, a malloc'ed one to free().
void release_block(uint8_t* p, size_t map_bytes, size_t touched, bool mapped) {
#if defined(__linux__)
  if (mapped) {
    pool_put(p, map_bytes, touched);
    return;
  }
#else
  (void)map_bytes;
  (void)touched;
  (void)mapped;
#endif
  std::free(p);
}
}  // namespace

size_t work_parts(size_t bytes) {
  if (bytes < (16u << 20)) return 1;
  const unsigned hc = std::thread::hardware_concurrency();
  return hc == 0 ? 1 : (hc > 4 ? 4 : hc);
}

void run_parts(size_t parts, const std::function<void(size_t)>& fn) {
  std::vector<std::thread> threads;
  size_t started = 0;  // parts 1..started run on their own threads
  try {
    for (size_t p = 1; p < parts; p++) {
      threads.emplace_back(fn, p);
      started = p;
    }
  } catch (...) {
    // could not start every thread: this thread runs the rest
  }
  fn(0);
  for (size_t p = started + 1; p < parts; p++) fn(p);
  for (auto& th : threads) th.join();
}

namespace {
// Slot bitmap helpers (bit s of allowed[s / 64]).
inline bool any_allowed(const uint64_t* allowed, size_t start, size_t count) {
  for (size_t w = start / 64; w <= (start + count - 1) / 64; w++)
    if (allowed[w] != 0) return true;
  return false;
}
inline bool slot_allowed(const uint64_t* allowed, size_t s) { return (allowed[s / 64] >> (s % 64)) & 1; }
// The reference's f32 comparisons against the filter's distance bounds.
inline bool in_bounds(const ScanFilter& f, float d) {
  if (f.has_lo && !(f.lo_strict ? d > f.lo : d >= f.lo)) return false;
  if (f.has_hi && !(f.hi_strict ? d < f.hi : d <= f.hi)) return false;
  return true;
}
}  // namespace

Arena::~Arena() { release_block(data_, map_bytes_, cap_rows_ * row_bytes_, mapped_); }

Arena::Arena(const Arena& o)
    : dtype_(o.dtype_), dim_(o.dim_), row_bytes_(o.row_bytes_), ids_(o.ids_), slots_(o.slots_),
      sketch_(o.sketch_), codes_(o.codes_), smeta_(o.smeta_) {
  if (!ids_.empty()) {
    grow(ids_.size());
    std::memcpy(data_, o.data_, ids_.size() * row_bytes_);
  }
}

Arena::Arena(Arena&& o) noexcept
    : dtype_(o.dtype_), dim_(o.dim_), row_bytes_(o.row_bytes_), data_(o.data_), cap_rows_(o.cap_rows_),
      mapped_(o.mapped_), map_bytes_(o.map_bytes_), ids_(std::move(o.ids_)), slots_(std::move(o.slots_)), sketch_(o.sketch_),
      codes_(std::move(o.codes_)), smeta_(std::move(o.smeta_)) {
  o.data_ = nullptr;
  o.cap_rows_ = 0;
  o.mapped_ = false;
  o.map_bytes_ = 0;
  o.ids_.clear();
  o.slots_.clear();
  o.sketch_ = false;
  o.codes_.release();
  o.smeta_.release();
}

Arena& Arena::operator=(Arena o) noexcept {
  std::swap(dtype_, o.dtype_);
  std::swap(dim_, o.dim_);
  std::swap(row_bytes_, o.row_bytes_);
  std::swap(data_, o.data_);
  std::swap(cap_rows_, o.cap_rows_);
  std::swap(mapped_, o.mapped_);
  std::swap(map_bytes_, o.map_bytes_);
  ids_.swap(o.ids_);
  slots_.swap(o.slots_);
  std::swap(sketch_, o.sketch_);
  codes_.swap(o.codes_);
  smeta_.swap(o.smeta_);
  return *this;
}

#if defined(__linux__)
namespace {
constexpr size_t kHuge = 2u << 20;
inline size_t round_huge(size_t n) { return (n + kHuge - 1) & ~(kHuge - 1); }

// An anonymous mapping of `bytes` (a multiple of 2 MiB) that starts on a 2 MiB boundary, with
// transparent huge pages requested, or nullptr. MAP_NORESERVE: the pages past what the arena
// uses are address space only, never touched, and not charged against overcommit.
void* map_aligned(size_t bytes) {
  if (bytes > SIZE_MAX - kHuge) return nullptr;
  void* raw = mmap(nullptr, bytes + kHuge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  const uintptr_t a = reinterpret_cast<uintptr_t>(raw), b = (a + kHuge - 1) & ~(kHuge - 1);
  if (b > a) munmap(raw, b - a);
  if (a + kHuge > b) munmap(reinterpret_cast<void*>(b + bytes), a + kHuge - b);
  void* p = reinterpret_cast<void*>(b);
  madvise(p, bytes, MADV_HUGEPAGE);  // advice only: ignored where THP is off
  return p;
}
}  // namespace
#endif

void Arena::grow(size_t rows) {
  if (rows <= cap_rows_) return;
  size_t want = cap_rows_ < 64 ? 64 : cap_rows_ + cap_rows_ / 2;
  if (want < rows) want = rows;
  const size_t bytes = want * row_bytes_;
  if (row_bytes_ != 0 && bytes / row_bytes_ != want) throw std::bad_alloc();
#if defined(__linux__)
  // Row blocks of kArenaMapBytes and more live in their own mapping: 2 MiB-aligned, with
  // transparent huge pages requested, and reserved well past the capacity asked for (16x, up
  // to 4 GiB of address space, never touched until rows arrive). The block then grows in place:
  // its huge pages stay huge (a 1M x 128 float arena fills with 256 page faults, not 131072,
  // and scans walk 2 MiB TLB entries), where a moving mremap of an unaligned block split them.
  // Past the reservation, the pages move (mremap, no copy) to a larger aligned reservation.
  if (bytes >= kArenaMapBytes) {
    if (mapped_ && bytes <= map_bytes_) {
      cap_rows_ = want;
      return;
    }
    const size_t reserve = round_huge(std::max(bytes, std::min(bytes * 16, size_t{4} << 30)));
    size_t got = reserve;
    // A block freed by another arena (see POOL) when this one starts its mapping: it then grows
    // in place through pages already faulted in. A moving block takes a fresh reservation (its
    // own pages would replace the pooled ones).
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
      if (data_ != nullptr) std::memcpy(p, data_, ids_.size() * row_bytes_);
      std::free(data_);
    }
    data_ = static_cast<uint8_t*>(p);
    cap_rows_ = want;
    map_bytes_ = got;
    mapped_ = true;
    return;
  }
#endif
  void* p = std::realloc(data_, bytes == 0 ? 1 : bytes);
  if (p == nullptr) throw std::bad_alloc();
  data_ = static_cast<uint8_t*>(p);
  cap_rows_ = want;
}

namespace {
// A new row goes to the end of the block, which a bulk insert fills faster than any cache
// holds it and which nothing reads until a scan (or the write log's flush, 16 MiB later).
// Rows of kStreamBytes and more are written with non-temporal stores: no read of the lines
// before they are written and no eviction of what the insert is working on. The fence makes
// them ordered with later stores, as ordinary stores are, before the row can be published to
// another thread. Measured on the AVX-512 VM, warm 100k-row inserts (minimum of 18 runs):
// 3 KiB rows 2.87 -> 2.69 us a row; 512 B and 768 B rows got 8-10% slower (the fence then
// costs more than the stores save), so they keep memcpy.
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
    std::memcpy(data_ + at * row_bytes_, row, row_bytes_);
    if (sketch_) sketch_set(at);
    return;
  }
  try {  // room first (grown geometrically), so a failure leaves every array as it was
    grow(slot + 1);
    if (sketch_) {
      if (codes_.capacity() < codes_.size() + dim_) codes_.reserve(std::max(codes_.size() + dim_, codes_.capacity() * 3 / 2));
      if (smeta_.capacity() < smeta_.size() + 1) smeta_.reserve(std::max(smeta_.size() + 1, smeta_.capacity() * 3 / 2));
    }
    ids_.push_back(id);
  } catch (...) {
    slots_.erase(id);
    throw;
  }
  store_new_row(data_ + slot * row_bytes_, row, row_bytes_);
  if (sketch_) {
    codes_.resize(codes_.size() + dim_);  // room reserved above: cannot throw
    smeta_.resize(smeta_.size() + 1);
    sketch_set(slot);
  }
}

bool Arena::remove(int64_t id) {
  auto it = slots_.find(id);
  if (it == slots_.end()) return false;
  const size_t slot = it->second;
  const size_t last = ids_.size() - 1;
  slots_.erase(it);
  if (slot != last) {
    std::memcpy(data_ + slot * row_bytes_, data_ + last * row_bytes_, row_bytes_);
    ids_[slot] = ids_[last];
    slots_[ids_[slot]] = slot;
    if (sketch_) {
      std::memcpy(codes_.data() + slot * dim_, codes_.data() + last * dim_, dim_);
      smeta_[slot] = smeta_[last];
    }
  }
  ids_.pop_back();
  if (sketch_) {
    codes_.resize(last * dim_);
    smeta_.resize(last);
  }
  return true;
}

const void* Arena::find(int64_t id) const {
  auto it = slots_.find(id);
  return it == slots_.end() ? nullptr : data_ + it->second * row_bytes_;
}

void Arena::clear() {
  release_block(data_, map_bytes_, cap_rows_ * row_bytes_, mapped_);
  data_ = nullptr;
  cap_rows_ = 0;
  mapped_ = false;
  map_bytes_ = 0;
  ids_.clear();
  slots_.clear();
  sketch_ = false;
  codes_.release();
  smeta_.release();
}

void Arena::reserve(size_t rows) {
  grow(rows);
  ids_.reserve(rows);
  slots_.reserve(rows);
}

std::function<void()> Arena::prefaulter(size_t rows) const {
#if defined(__linux__)
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14
#endif
  if (!mapped_ || rows > cap_rows_) return {};
  const size_t page = 4096;
  const uintptr_t begin = reinterpret_cast<uintptr_t>(data_) + (ids_.size() * row_bytes_) / page * page;
  const uintptr_t end = reinterpret_cast<uintptr_t>(data_) + rows * row_bytes_;
  if (end <= begin) return {};
  return [begin, end] { madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_WRITE); };
#else
  (void)rows;
  return {};
#endif
}

bool Arena::scan_range(const KernelTable& kt, Metric metric, const void* query, size_t begin,
                       size_t end, TopK* top, const ScanFilter& filter) const {
  const uint64_t* allowed = filter.allowed;
  const bool bounds = filter.has_lo || filter.has_hi;
  // Blocks of rows small enough that their distances stay in L1.
  constexpr size_t kBlock = 512;
  float dist[kBlock];
  if (end > ids_.size()) end = ids_.size();
  const size_t dim_arg = dtype_ == Dtype::u1 ? row_bytes_ : dim_;
  for (size_t start = begin; start < end; start += kBlock) {
    const size_t count = end - start < kBlock ? end - start : kBlock;
    // Skip whole blocks with no allowed slot; mask the rest after computing.
    if (allowed != nullptr && !any_allowed(allowed, start, count)) continue;
    if (!block_distance(kt, metric, dtype_, query, data_ + start * row_bytes_, dim_arg, count, dist)) {
      return false;
    }
    // Rows outside the filter get NaN, which TopK never admits.
    if (allowed != nullptr) {
      for (size_t i = 0; i < count; i++) {
        const size_t s = start + i;
        if (!slot_allowed(allowed, s)) dist[i] = std::numeric_limits<float>::quiet_NaN();
      }
    }
    if (bounds) {
      for (size_t i = 0; i < count; i++)
        if (!in_bounds(filter, dist[i])) dist[i] = std::numeric_limits<float>::quiet_NaN();
    }
    top->push_block(dist, ids_.data() + start, 0, count);
  }
  return true;
}

// ---- the int8 sketch (arena.h) ------------------------------------------------------------

namespace {
std::atomic<int64_t> g_sk_builds{0}, g_sk_scans{0}, g_sk_rows{0}, g_sk_rechecked{0};

bool sketch_enabled() {
  static const bool on = [] {
    const char* e = std::getenv("VECSQLITE_SKETCH");
    return !(e != nullptr && std::strcmp(e, "0") == 0);
  }();
  return on;
}

// A float no smaller than v (v >= 0, finite or +inf).
float round_up(double v) {
  float f = static_cast<float>(v);
  if (static_cast<double>(f) < v) f = std::nextafter(f, std::numeric_limits<float>::infinity());
  return f;
}

// The bounds hold for the true distances; the scan compares them with float32 distances, which
// are within the margin of the true ones only while no square or sum overflows and the squared
// norms stay far above the subnormal range. Vectors with |v|^2 outside [1e-30, 1e30] (zero and
// non-finite vectors included) therefore get no bound: such rows are always rechecked, such a
// query scans without the sketch.
inline bool in_float_range(double norm2) { return norm2 >= 1e-30 && norm2 <= 1e30; }

// Rounds to the nearest integer (ties to even) without a branch or a libm call; valid for
// |r| < 2^51 (here |r| <= 2047.5).
inline double round_near(double r) {
  constexpr double kMagic = 6755399441055744.0;  // 1.5 * 2^52
  return (r + kMagic) - kMagic;
}

// The query's codes (int16; rows use the kernels' sketch_encode_f32): `x` on the grid
// `scale * c`, |c| <= cmax, into out. Returns sum (x_i - s c_i)^2 in
// double and sets *scale, *norm2 = |x|^2 and *csq = |c|^2. Zero or underflowing vectors get
// s = 0 (all codes 0, error |x|^2). *norm2 is +inf or NaN when x has a non-finite element.
// Four partial sums per quantity keep the dependency chains short.
double quantize(const float* x, size_t dim, int cmax, int16_t* out, float* scale, double* norm2, uint64_t* csq) {
  float m[4] = {0, 0, 0, 0};
  double n[4] = {0, 0, 0, 0};
  size_t i = 0;
  for (; i + 4 <= dim; i += 4) {
    for (size_t l = 0; l < 4; l++) {
      const float v = x[i + l];
      const float a = std::fabs(v);
      m[l] = a > m[l] ? a : m[l];
      n[l] += double(v) * v;
    }
  }
  for (; i < dim; i++) {
    const float a = std::fabs(x[i]);
    m[0] = a > m[0] ? a : m[0];
    n[0] += double(x[i]) * x[i];
  }
  const float amax = std::max(std::max(m[0], m[1]), std::max(m[2], m[3]));
  const double n2 = (n[0] + n[1]) + (n[2] + n[3]);
  *norm2 = n2;
  const float s = static_cast<float>(double(amax) / cmax);
  *scale = s;
  if (!(s > 0) || !std::isfinite(n2)) {
    for (size_t k = 0; k < dim; k++) out[k] = 0;
    *csq = 0;
    return n2;
  }
  const double inv = 1.0 / static_cast<double>(s), sd = s, lim = cmax;
  double e[4] = {0, 0, 0, 0};
  int64_t cc[4] = {0, 0, 0, 0};
  for (i = 0; i + 4 <= dim; i += 4) {
    for (size_t l = 0; l < 4; l++) {
      double c = round_near(x[i + l] * inv);
      c = c > lim ? lim : c < -lim ? -lim : c;
      out[i + l] = static_cast<int16_t>(c);
      const double d = x[i + l] - sd * c;
      e[l] += d * d;
      cc[l] += static_cast<int64_t>(c * c);
    }
  }
  for (; i < dim; i++) {
    double c = round_near(x[i] * inv);
    c = c > lim ? lim : c < -lim ? -lim : c;
    out[i] = static_cast<int16_t>(c);
    const double d = x[i] - sd * c;
    e[0] += d * d;
    cc[0] += static_cast<int64_t>(c * c);
  }
  *csq = static_cast<uint64_t>(cc[0] + cc[1] + cc[2] + cc[3]);
  return (e[0] + e[1]) + (e[2] + e[3]);
}
}  // namespace

void Arena::sketch_set(size_t slot) {
  const float* x = reinterpret_cast<const float*>(data_ + slot * row_bytes_);
  SketchCodeInfo info;
  kernels().sketch_encode_f32(x, dim_, codes_.data() + slot * dim_, &info);
  SketchRow& m = smeta_[slot];
  if (!in_float_range(info.norm2)) {  // no bound: the row is always rechecked
    m = SketchRow{0, std::numeric_limits<float>::infinity(), std::numeric_limits<float>::infinity(), 0};
    return;
  }
  m.scale = info.scale;
  m.err = round_up(std::sqrt(static_cast<double>(info.err2)) * (1 + 1e-7));
  m.norm = static_cast<float>(std::sqrt(static_cast<double>(info.norm2)));
  m.codes_sq = info.codes_sq;
}

void Arena::prepare_sketch() {
  if (sketch_ || dtype_ != Dtype::f32 || dim_ < 16 || dim_ > kSketchMaxDim || ids_.size() < kSketchMinRows ||
      !sketch_enabled())
    return;
  decltype(codes_) codes;
  decltype(smeta_) meta;
  try {
    codes.reserve(cap_rows_ * dim_);  // the row block's headroom, so the next inserts do not copy
    meta.reserve(cap_rows_);
    codes.resize(ids_.size() * dim_);
    meta.resize(ids_.size());
  } catch (const std::bad_alloc&) {
    return;  // no memory for it: scans stay exact without it
  }
  codes_.swap(codes);
  smeta_.swap(meta);
  // Large arenas are quantized by up to 4 threads (disjoint slot ranges), as scans are split.
  const size_t n = ids_.size();
  const size_t parts = work_parts(n * row_bytes_);
  const size_t per = (n + parts - 1) / parts;
  run_parts(parts, [this, per, n](size_t p) {
    for (size_t slot = p * per; slot < n && slot < (p + 1) * per; slot++) sketch_set(slot);
  });
  sketch_ = true;
  g_sk_builds.fetch_add(1, std::memory_order_relaxed);
}

Arena::SketchQuery Arena::sketch_query(Metric metric, const float* q, size_t dim) {
  SketchQuery sq;
  sq.metric = metric;
  if ((metric != Metric::l2 && metric != Metric::cos) || dim == 0 || dim > kSketchMaxDim) return sq;
  sq.codes.resize(dim);
  double n2;
  uint64_t csq;
  const double e2 = quantize(q, dim, kSketchQueryMax, sq.codes.data(), &sq.scale, &n2, &csq);
  if (!in_float_range(n2)) return sq;  // zero, tiny, huge or non-finite query: plain scan
  sq.qt2 = static_cast<double>(sq.scale) * sq.scale * static_cast<double>(csq);
  sq.err = std::sqrt(e2) * (1 + 1e-9);
  sq.qnorm = std::sqrt(n2);
  // float32 distances differ from the true ones by far less than (dim + 32) * 2^-24 relative
  // (l2) or absolute (cosine, twice that); the margin is 8x that bound.
  sq.margin = (metric == Metric::cos ? 16.0 : 8.0) * (static_cast<double>(dim) + 32) / 16777216.0;
  sq.ok = true;
  return sq;
}

SketchBound Arena::sketch_bound(const SketchQuery& sq, double t, double qt) {
  SketchBound b{};
  b.cosine = sq.metric != Metric::l2;
  b.scale = static_cast<double>(sq.scale);
  b.qt2 = sq.qt2;
  b.reach = t * (1 + sq.margin) + 1e-15 + sq.err;
  b.qt = qt;
  b.err = sq.err;
  b.qnorm = sq.qnorm;
  b.limit = t + sq.margin;
  return b;
}

void Arena::recheck(const KernelTable& kt, Metric metric, const float* query, size_t slot, TopK* top,
                    const ScanFilter& filter) const {
  float d;
  block_distance(kt, metric, Dtype::f32, query, data_ + slot * row_bytes_, dim_, 1, &d);
  if (in_bounds(filter, d)) top->push(d, ids_[slot]);
}

namespace {
// The admission limit of a pre-filtered scan: the k-th distance so far, or the upper distance
// bound when that is smaller.
double admission_limit(const TopK* top, const ScanFilter& filter) {
  const float t = top->threshold();
  return filter.has_hi && filter.hi < t ? double(filter.hi) : double(t);
}
}  // namespace

bool Arena::scan_range_sketch(const KernelTable& kt, const SketchQuery& sq, const float* query, size_t begin,
                              size_t end, TopK* top, const ScanFilter& filter) const {
  const uint64_t* allowed = filter.allowed;
  constexpr size_t kBlock = 512;
  int32_t dots[kBlock];
  uint8_t keep[kBlock + 8] = {};
  if (end > ids_.size()) end = ids_.size();
  const double qt = std::sqrt(sq.qt2) * (1 + 1e-9);
  int64_t rechecked = 0;
  for (size_t start = begin; start < end; start += kBlock) {
    const size_t count = end - start < kBlock ? end - start : kBlock;
    if (allowed != nullptr && !any_allowed(allowed, start, count)) continue;
    // The block's row bounds (16 bytes a row, a stream apart from the codes) are fetched while
    // the kernel reads the codes: the bound pass would otherwise wait on their cache misses.
    const char* meta = reinterpret_cast<const char*>(smeta_.data() + start);
    for (size_t b = 0; b < count * sizeof(SketchRow); b += 64) __builtin_prefetch(meta + b);
    kt.dot_i16i8_block(sq.codes.data(), codes_.data() + start * dim_, dim_, count, dots);
    // The whole block's bounds against the limit at its start (one vectorized pass), then the
    // rows it keeps once more against the limit of the moment, which only falls as rechecked
    // rows enter the top-k: a row the first pass excludes would be excluded then too.
    double t = admission_limit(top, filter);
    SketchBound bound = sketch_bound(sq, t, qt);
    kt.sketch_keep_block(bound, dots, smeta_.data() + start, count, keep);
    for (size_t i = 0; i < count; i += 8) {
      uint64_t word;
      std::memcpy(&word, keep + i, 8);  // keep has room for a whole last word
      if (word == 0) continue;
      const size_t stop = std::min(i + 8, count);
      for (size_t j = i; j < stop; j++) {
        if (!keep[j]) continue;
        const size_t s = start + j;
        if (allowed != nullptr && !slot_allowed(allowed, s)) continue;
        if (sketch_row_excluded(bound, dots[j], smeta_[s])) continue;
        rechecked++;
        recheck(kt, sq.metric, query, s, top, filter);
        const double now = admission_limit(top, filter);
        if (now != t) bound = sketch_bound(sq, t = now, qt);
      }
    }
  }
  g_sk_scans.fetch_add(1, std::memory_order_relaxed);
  g_sk_rows.fetch_add(static_cast<int64_t>(end > begin ? end - begin : 0), std::memory_order_relaxed);
  g_sk_rechecked.fetch_add(rechecked, std::memory_order_relaxed);
  return true;
}

bool Arena::scan_slots(const KernelTable& kt, Metric metric, const void* query, const SketchQuery* sq,
                       const size_t* slots, size_t n, TopK* top, const ScanFilter& filter) const {
  if (sq != nullptr && sq->usable() && sketch_ && sq->metric == metric && top->capacity() <= n / 16) {
    const float* fq = static_cast<const float*>(query);
    const double qt = std::sqrt(sq->qt2) * (1 + 1e-9);
    int64_t rechecked = 0;
    constexpr size_t kAhead = 8;  // listed slots are scattered: fetch their codes ahead
    for (size_t i = 0; i < n; i++) {
      const size_t s = slots[i];
      if (i + kAhead < n) {
        const char* p = reinterpret_cast<const char*>(codes_.data() + slots[i + kAhead] * dim_);
        for (size_t b = 0; b < dim_; b += 64) __builtin_prefetch(p + b);
        __builtin_prefetch(&smeta_[slots[i + kAhead]]);
      }
      int32_t dot;
      kt.dot_i16i8_block(sq->codes.data(), codes_.data() + s * dim_, dim_, 1, &dot);
      if (sketch_excludes(*sq, s, dot, admission_limit(top, filter), qt)) continue;
      rechecked++;
      recheck(kt, metric, fq, s, top, filter);
    }
    g_sk_scans.fetch_add(1, std::memory_order_relaxed);
    g_sk_rows.fetch_add(static_cast<int64_t>(n), std::memory_order_relaxed);
    g_sk_rechecked.fetch_add(rechecked, std::memory_order_relaxed);
    return true;
  }
  // Gathered into contiguous blocks for the block kernel.
  constexpr size_t kGather = 256;
  const size_t dim_arg = dtype_ == Dtype::u1 ? row_bytes_ : dim_;
  std::vector<uint8_t> gather(kGather * row_bytes_);
  float dist[kGather];
  for (size_t at = 0; at < n; at += kGather) {
    const size_t cnt = n - at < kGather ? n - at : kGather;
    for (size_t r = 0; r < cnt; r++) std::memcpy(gather.data() + r * row_bytes_, row_at(slots[at + r]), row_bytes_);
    if (!block_distance(kt, metric, dtype_, query, gather.data(), dim_arg, cnt, dist)) return false;
    for (size_t r = 0; r < cnt; r++) {
      if (in_bounds(filter, dist[r])) top->push(dist[r], ids_[slots[at + r]]);
    }
  }
  return true;
}

SketchStats sketch_stats() {
  return SketchStats{g_sk_builds.load(), g_sk_scans.load(), g_sk_rows.load(), g_sk_rechecked.load()};
}

void merge_topk(const std::vector<std::unique_ptr<TopK>>& parts, TopK* top) {
  size_t most = 0;
  for (const auto& p : parts) most = std::max(most, p->size());
  std::vector<TopK::Item> items(most);
  for (const auto& p : parts) {
    const size_t m = p->take_sorted(items.data());
    for (size_t j = 0; j < m; j++) top->push(items[j].distance, items[j].id);
  }
}

namespace {
// merge_topk; false when any part failed.
bool merge_parts(const std::vector<std::unique_ptr<TopK>>& tops, const bool* ok, TopK* top) {
  merge_topk(tops, top);
  for (size_t i = 0; i < tops.size(); i++)
    if (!ok[i]) return false;
  return true;
}
}  // namespace

bool scan_topk(const KernelTable& kt, const Arena& a, Metric metric, const void* q, const ScanFilter* filter,
               TopK* top) {
  std::vector<ScanJob> one(1);
  one[0].arena = &a;
  if (filter != nullptr) one[0].filter = *filter;
  return scan_topk_many(kt, one, metric, q, top);
}

bool scan_topk_many(const KernelTable& kt, const std::vector<ScanJob>& jobs, Metric metric, const void* q, TopK* top) {
  size_t rows = 0, bytes = 0;
  for (const ScanJob& j : jobs) {
    rows += j.arena->size();
    bytes += j.arena->size() * j.arena->row_bytes();
  }
  const size_t parts = work_parts(bytes);
  // One quantized query for every arena that keeps a sketch (they share the column's dim).
  // Not when k is a large part of the rows: nearly every row would be rechecked.
  Arena::SketchQuery sq;
  for (const ScanJob& j : jobs) {
    if (j.arena->has_sketch() && top->capacity() <= rows / 16) {
      sq = Arena::sketch_query(metric, static_cast<const float*>(q), j.arena->dim());
      break;
    }
  }
  auto scan = [&kt, &jobs, &sq, metric, q](size_t job, size_t begin, size_t end, TopK* t) {
    const ScanJob& j = jobs[job];
    if (sq.usable() && j.arena->has_sketch())
      return j.arena->scan_range_sketch(kt, sq, static_cast<const float*>(q), begin, end, t, j.filter);
    return j.arena->scan_range(kt, metric, q, begin, end, t, j.filter);
  };
  if (parts <= 1) {
    for (size_t ji = 0; ji < jobs.size(); ji++)
      if (!scan(ji, 0, jobs[ji].arena->size(), top)) return false;
    return true;
  }
  // Cut the concatenation of all jobs' rows into `parts` runs of about equal length; a run may
  // span several arenas and an arena may be split between runs. (Threads only read the arenas
  // and filter bitmaps.)
  struct Range {
    size_t job, begin, end;
  };
  std::vector<std::vector<Range>> plan(parts);
  const size_t per = (rows + parts - 1) / parts;
  size_t p = 0, room = per;
  for (size_t ji = 0; ji < jobs.size(); ji++) {
    const size_t n = jobs[ji].arena->size();
    size_t b = 0;
    while (b < n) {
      if (room == 0 && p + 1 < parts) {
        p++;
        room = per;
      }
      const size_t take = p + 1 < parts ? std::min(n - b, room) : n - b;
      plan[p].push_back(Range{ji, b, b + take});
      b += take;
      room -= std::min(room, take);
    }
  }
  std::vector<std::unique_ptr<TopK>> tops;
  for (size_t i = 0; i < parts; i++) tops.emplace_back(new TopK(top->capacity()));
  std::unique_ptr<bool[]> ok(new bool[parts]);
  for (size_t i = 0; i < parts; i++) ok[i] = true;
  run_parts(parts, [&](size_t i) {
    for (const Range& r : plan[i])
      if (!scan(r.job, r.begin, r.end, tops[i].get())) ok[i] = false;
  });
  return merge_parts(tops, ok.get(), top);
}

bool scan_slots_topk(const KernelTable& kt, const Arena& arena, Metric metric, const void* query,
                     const Arena::SketchQuery* sq, const size_t* slots, size_t n, TopK* top,
                     const ScanFilter& filter) {
  const size_t parts = work_parts(n * arena.row_bytes());
  if (parts <= 1) return arena.scan_slots(kt, metric, query, sq, slots, n, top, filter);
  std::vector<std::unique_ptr<TopK>> tops;
  for (size_t i = 0; i < parts; i++) tops.emplace_back(new TopK(top->capacity()));
  std::unique_ptr<bool[]> ok(new bool[parts]);
  const size_t per = (n + parts - 1) / parts;
  run_parts(parts, [&](size_t i) {
    const size_t b = std::min(n, i * per), e = std::min(n, b + per);
    ok[i] = arena.scan_slots(kt, metric, query, sq, slots + b, e - b, tops[i].get(), filter);
  });
  return merge_parts(tops, ok.get(), top);
}

size_t Arena::memory_bytes() const {
  return cap_rows_ * row_bytes_ + ids_.capacity() * sizeof(int64_t) + slots_.memory_bytes() + codes_.capacity() +
         smeta_.capacity() * sizeof(SketchRow);
}

}  // namespace vecsqlite
