// Arena: the in-memory copy of one vector column that the query path scans. Shared by the
// dataset-aware `vec` table and `vec0`; no SQLite and no Node includes.
//
// Layout: rows of `row_bytes` bytes stored back to back in one allocation (slot order), with a
// parallel array of int64 ids (slot -> id) and a hash map (id -> slot). Deleting swaps the
// last row into the hole, so the block stays dense and every scan is one sequential pass that
// the SIMD block kernels consume in cache-sized blocks. The row block grows geometrically and
// is never zero-filled: malloc/realloc while small, and on Linux from 4 MiB on a 2 MiB-aligned
// mapping with transparent huge pages requested, reserved 16x past its size (up to 4 GiB of
// address space, MAP_NORESERVE) so that it grows in place; past that, mremap moves its pages.
// A freed mapped block goes to a bounded process-wide pool for the next one (arena.cc, POOL).
//
//   dtype  row_bytes      dim means
//   f32    4 * dim        elements
//   i8     dim            elements
//   u1     dim / 8        bits (dim must be a multiple of 8)
//
// The SQLite tables stay the source of truth: owners fill an arena from them, update it on
// every write they see, and drop it when they cannot prove it is current (see Freshness).
//
// The int8 sketch (f32 arenas, l2 and cosine scans). A float32 scan reads 4 bytes per element
// and runs at the memory-bandwidth roof, so the way to go faster is to read fewer bytes without
// giving up exact results. Once an arena of at least kSketchMinRows rows is scanned, the owner
// calls prepare_sketch() and the arena keeps, per slot (updated by every upsert / remove):
//
//   codes   dim x int8   c_i = round(x_i / s), |c_i| <= 127, s = max|x_i| / 127 (a float)
//   meta    16 bytes     s, err = |x - s*c| (rounded up), |x|, sum c_i^2
//
// A scan quantizes the query the same way to int16 (|d_i| <= 2047, scale s_q, error e_q),
// takes the exact integer d.c from the dot_i16i8 block kernel, and bounds each row's true
// distance from below (triangle inequality / Cauchy-Schwarz):
//
//   l2      |q - x| >= |q~ - x~| - e_q - err,  |q~ - x~|^2 = s_q^2|d|^2 + s^2|c|^2 - 2 s_q s d.c
//   cosine  q.x <= q~.x~ + |q~| err + e_q |x|,  so  1 - q.x/(|q||x|) >= 1 - that/(|q||x|)
//
// Only rows whose bound does not exceed the current k-th distance (plus a margin far above
// float32 rounding) get their float32 distance computed, by the same block kernel as a full
// scan, so the result is the full scan's, bit for bit. A scan reads dim + 16 bytes per row
// instead of 4 * dim. Rows whose |x|^2 lies outside [1e-30, 1e30] (zero, tiny, huge or
// non-finite) get err = +inf and are always rechecked; such a query scans without the sketch.
// VECSQLITE_SKETCH=0 in the environment turns the sketch off (for comparisons).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <new>
#include <utility>
#include <vector>

#include "core/idmap.h"
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

// Large blocks a scan streams through: from kArenaMapBytes on, an mmap'ed block (Linux; its
// pages are zero-filled by the kernel on first touch), else malloc. arena_block_free needs the
// size the block was allocated with.
constexpr size_t kArenaMapBytes = 4u << 20;

// The arena's environment settings (VECSQLITE_ARENA_POOL_MB, VECSQLITE_SKETCH) checked once:
// nullptr when they are unset or valid, else the message naming the bad one. Loading refuses
// a bad value rather than ignoring it.
const char* arena_env_error();
void* arena_block_alloc(size_t bytes);
void arena_block_free(void* p, size_t bytes);

// A growable array of a trivially copyable T that never initialises its elements (a new
// element holds whatever the block held; callers write every element they add). Growth is
// geometric; copies copy the used part. Used for the sketch, whose build writes every element
// from the threads that encode it, so the first touch of the pages happens there, in parallel.
// (No huge pages here: on the development VM a 1M x 128 sketch built in 111 ms with 4 KiB
// pages and 156 ms with transparent huge pages, whose first-touch faults are slow there, and
// scans ran at the same speed either way.)
template <typename T>
class RawArray {
 public:
  RawArray() = default;
  ~RawArray() { release(); }
  RawArray(const RawArray& o) {
    reserve(o.n_);
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
    T* q = static_cast<T*>(arena_block_alloc(n * sizeof(T)));
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
    if (p_ != nullptr) arena_block_free(p_, cap_ * sizeof(T));
  }
  T* p_ = nullptr;
  size_t n_ = 0, cap_ = 0;
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
  // A task that faults in (Linux: MADV_POPULATE_WRITE, without touching the bytes) the pages
  // of a mapped row block from the current size up to `rows` rows, within the capacity; the
  // range is fixed now. Meant for a helper thread while the owner fills those rows after
  // reserve(rows): the kernel's zeroing of fresh pages then overlaps the owner's reads. The
  // owner must not grow or free the block before the task ends (it touches no Arena member).
  // Best effort: an empty task for malloc'ed blocks; the advice fails harmlessly on old kernels.
  std::function<void()> prefaulter(size_t rows) const;

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

  // The sketch (see above). prepare_sketch() builds it when this arena qualifies (f32,
  // 16 <= dim <= kSketchMaxDim, at least kSketchMinRows rows, not disabled) and is a no-op
  // otherwise or once built; from then on upsert / remove keep it current. Not thread-safe:
  // call it where the owner may modify the arena, before a scan.
  void prepare_sketch();
  bool has_sketch() const { return sketch_; }
  // What a scan needs of the query; usable() is false for a query the sketch cannot bound
  // (|q|^2 outside [1e-30, 1e30]: zero, tiny, huge or non-finite) or a metric it does not
  // serve (only l2 and cosine).
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
  static SketchQuery sketch_query(Metric metric, const float* q, size_t dim);
  // scan_range using the sketch: the same rows, ids and distances as scan_range.
  bool scan_range_sketch(const KernelTable& kt, const SketchQuery& sq, const float* query, size_t begin,
                         size_t end, TopK* top, const ScanFilter& filter) const;
  // The nearest among the listed slots (any order), with `filter`'s distance bounds (its
  // bitmap is not used): gathered into blocks for the block kernel, or, given a usable `sq` on
  // an arena that keeps a sketch, bounded per slot from the codes with the candidates
  // rechecked. Returns false for a (metric, dtype) pair without a kernel.
  bool scan_slots(const KernelTable& kt, Metric metric, const void* query, const SketchQuery* sq,
                  const size_t* slots, size_t n, TopK* top, const ScanFilter& filter) const;

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
  size_t map_bytes_ = 0;                       // mapped_: the mapping's length (>= capacity)
  std::vector<int64_t> ids_;                   // slot -> id
  IdMap<size_t> slots_;                        // id -> slot

  using SketchRow = SketchRowInfo;  // scale, err, norm, codes_sq (kernels/kernels.h)
  void sketch_set(size_t slot);     // codes and meta of the row stored at `slot`
  // The bound's inputs for query `sq` at admission limit `t` (`qt` = |q~| rounded up).
  static SketchBound sketch_bound(const SketchQuery& sq, double t, double qt);
  // True when the sketch proves slot's distance exceeds `t` (the admission limit); `dot` is
  // the codes' inner product with the query's.
  bool sketch_excludes(const SketchQuery& sq, size_t slot, int32_t dot, double t, double qt) const {
    return sketch_row_excluded(sketch_bound(sq, t, qt), dot, smeta_[slot]);
  }
  // The float32 distance of `slot`, offered to `top` when inside filter's bounds.
  void recheck(const KernelTable& kt, Metric metric, const float* query, size_t slot, TopK* top,
               const ScanFilter& filter) const;
  bool sketch_ = false;
  RawArray<int8_t> codes_;     // size() * dim_ codes, slot order
  RawArray<SketchRow> smeta_;  // size() rows
};

// Arenas smaller than this are scanned without a sketch (a scan of them is already short).
constexpr size_t kSketchMinRows = 2048;

// Process-wide sketch counters (atomics, every thread and connection): sketches built, scan
// ranges that used one, rows they covered and rows rechecked with the float32 kernel.
struct SketchStats {
  int64_t builds, scans, rows, rechecked;
};
SketchStats sketch_stats();

// Bytes per row for a column of `dim` elements (u1: bits) of `dtype`.
size_t arena_row_bytes(Dtype dtype, size_t dim);

// Threads for work over `bytes` of rows: up to 4 from 16 MiB on (a scan is then bounded by the
// machine's, not one core's, memory bandwidth), else 1.
size_t work_parts(size_t bytes);
// Runs fn(0) .. fn(parts - 1), parts 1.. on their own threads and part 0 on the caller's; a
// part whose thread cannot be started runs on the caller's thread too. fn must not throw.
void run_parts(size_t parts, const std::function<void(size_t)>& fn);

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

// Pushes the results of top-k parts (each kept by one thread of a split scan) into `top`,
// emptying them.
void merge_topk(const std::vector<std::unique_ptr<TopK>>& parts, TopK* top);

// Arena::scan_slots over a list of slots, split across threads as scan_topk is (by the bytes of
// the listed rows); each part keeps its own TopK and the parts are merged. Returns false for a
// (metric, dtype) pair without a kernel.
bool scan_slots_topk(const KernelTable& kt, const Arena& arena, Metric metric, const void* query,
                     const Arena::SketchQuery* sq, const size_t* slots, size_t n, TopK* top,
                     const ScanFilter& filter);

}  // namespace vecsqlite
