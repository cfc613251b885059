// Arena implementation; see arena.h for the layout.
#include "core/arena.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <thread>
#include <utility>

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

namespace {
// Row blocks of this size and more live in their own mapping with transparent huge pages
// requested (Linux): a 1M x 128 float arena then takes 256 page faults instead of 131072 while
// it fills, and scans walk 2 MiB TLB entries. Smaller blocks, and other systems, use malloc.
constexpr size_t kMapBytes = 4u << 20;

void release_block(uint8_t* p, size_t bytes, bool mapped) {
#if defined(__linux__)
  if (mapped) {
    munmap(p, bytes);
    return;
  }
#else
  (void)bytes;
  (void)mapped;
#endif
  std::free(p);
}
}  // namespace

Arena::~Arena() { release_block(data_, cap_rows_ * row_bytes_, mapped_); }

Arena::Arena(const Arena& o)
    : dtype_(o.dtype_), dim_(o.dim_), row_bytes_(o.row_bytes_), ids_(o.ids_), slots_(o.slots_) {
  if (!ids_.empty()) {
    grow(ids_.size());
    std::memcpy(data_, o.data_, ids_.size() * row_bytes_);
  }
}

Arena::Arena(Arena&& o) noexcept
    : dtype_(o.dtype_), dim_(o.dim_), row_bytes_(o.row_bytes_), data_(o.data_), cap_rows_(o.cap_rows_),
      mapped_(o.mapped_), ids_(std::move(o.ids_)), slots_(std::move(o.slots_)) {
  o.data_ = nullptr;
  o.cap_rows_ = 0;
  o.mapped_ = false;
  o.ids_.clear();
  o.slots_.clear();
}

Arena& Arena::operator=(Arena o) noexcept {
  std::swap(dtype_, o.dtype_);
  std::swap(dim_, o.dim_);
  std::swap(row_bytes_, o.row_bytes_);
  std::swap(data_, o.data_);
  std::swap(cap_rows_, o.cap_rows_);
  std::swap(mapped_, o.mapped_);
  ids_.swap(o.ids_);
  slots_.swap(o.slots_);
  return *this;
}

void Arena::grow(size_t rows) {
  if (rows <= cap_rows_) return;
  size_t want = cap_rows_ < 64 ? 64 : cap_rows_ + cap_rows_ / 2;
  if (want < rows) want = rows;
  const size_t bytes = want * row_bytes_;
  if (row_bytes_ != 0 && bytes / row_bytes_ != want) throw std::bad_alloc();
#if defined(__linux__)
  if (bytes >= kMapBytes) {
    const size_t old_bytes = cap_rows_ * row_bytes_;
    void* p;
    if (mapped_) {
      p = mremap(data_, old_bytes, bytes, MREMAP_MAYMOVE);
    } else {
      p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p != MAP_FAILED && data_ != nullptr) std::memcpy(p, data_, ids_.size() * row_bytes_);
    }
    if (p == MAP_FAILED) throw std::bad_alloc();
    madvise(p, bytes, MADV_HUGEPAGE);  // advice only: ignored where THP is off
    if (!mapped_) std::free(data_);
    data_ = static_cast<uint8_t*>(p);
    cap_rows_ = want;
    mapped_ = true;
    return;
  }
#endif
  void* p = std::realloc(data_, bytes == 0 ? 1 : bytes);
  if (p == nullptr) throw std::bad_alloc();
  data_ = static_cast<uint8_t*>(p);
  cap_rows_ = want;
}

void Arena::upsert(int64_t id, const void* row) {
  auto it = slots_.find(id);
  if (it != slots_.end()) {
    std::memcpy(data_ + it->second * row_bytes_, row, row_bytes_);
    return;
  }
  const size_t slot = ids_.size();
  grow(slot + 1);
  ids_.push_back(id);
  try {
    slots_.emplace(id, slot);
  } catch (...) {
    ids_.pop_back();
    throw;
  }
  std::memcpy(data_ + slot * row_bytes_, row, row_bytes_);
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
  }
  ids_.pop_back();
  return true;
}

const void* Arena::find(int64_t id) const {
  auto it = slots_.find(id);
  return it == slots_.end() ? nullptr : data_ + it->second * row_bytes_;
}

void Arena::clear() {
  release_block(data_, cap_rows_ * row_bytes_, mapped_);
  data_ = nullptr;
  cap_rows_ = 0;
  mapped_ = false;
  ids_.clear();
  slots_.clear();
}

void Arena::reserve(size_t rows) {
  grow(rows);
  ids_.reserve(rows);
  slots_.reserve(rows);
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
    if (allowed != nullptr) {
      // Skip whole blocks with no allowed slot; mask the rest after computing.
      bool any = false;
      for (size_t w = start / 64; w <= (start + count - 1) / 64 && !any; w++) any = allowed[w] != 0;
      if (!any) continue;
    }
    if (!block_distance(kt, metric, dtype_, query, data_ + start * row_bytes_, dim_arg, count, dist)) {
      return false;
    }
    // Rows outside the filter get NaN, which TopK never admits.
    if (allowed != nullptr) {
      for (size_t i = 0; i < count; i++) {
        const size_t s = start + i;
        if (!((allowed[s / 64] >> (s % 64)) & 1)) dist[i] = std::numeric_limits<float>::quiet_NaN();
      }
    }
    if (bounds) {
      for (size_t i = 0; i < count; i++) {
        const float d = dist[i];
        bool ok = true;
        if (filter.has_lo) ok = filter.lo_strict ? d > filter.lo : d >= filter.lo;
        if (ok && filter.has_hi) ok = filter.hi_strict ? d < filter.hi : d <= filter.hi;
        if (!ok) dist[i] = std::numeric_limits<float>::quiet_NaN();
      }
    }
    top->push_block(dist, ids_.data() + start, 0, count);
  }
  return true;
}

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
  size_t parts = 1;
  if (bytes >= (16u << 20)) {
    const unsigned hc = std::thread::hardware_concurrency();
    parts = hc == 0 ? 1 : (hc > 4 ? 4 : hc);
  }
  if (parts <= 1) {
    for (const ScanJob& j : jobs)
      if (!j.arena->scan_range(kt, metric, q, 0, j.arena->size(), top, j.filter)) return false;
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
  auto run = [&kt, &jobs, metric, q](const std::vector<Range>& rs, TopK* t) {
    for (const Range& r : rs)
      if (!jobs[r.job].arena->scan_range(kt, metric, q, r.begin, r.end, t, jobs[r.job].filter)) return false;
    return true;
  };
  std::vector<std::thread> threads;
  size_t started = 0;  // parts 1..started run on their own threads
  try {
    for (size_t i = 1; i < parts; i++) {
      const std::vector<Range>* rs = &plan[i];
      TopK* tp = tops[i].get();
      bool* okp = &ok[i];
      threads.emplace_back([&run, rs, tp, okp] { *okp = run(*rs, tp); });
      started = i;
    }
  } catch (...) {
    // could not start every thread: this thread scans what was not handed out
  }
  bool good = run(plan[0], tops[0].get());
  for (size_t i = started + 1; i < parts; i++) good = run(plan[i], tops[0].get()) && good;
  for (auto& th : threads) th.join();
  for (size_t i = 0; i < parts; i++) good = good && ok[i];
  std::vector<TopK::Item> items(std::min(top->capacity(), rows));
  for (auto& t : tops) {
    const size_t m = t->take_sorted(items.data());
    for (size_t i = 0; i < m; i++) top->push(items[i].distance, items[i].id);
  }
  return good;
}

size_t Arena::memory_bytes() const {
  // unordered_map: one node (key, value, next pointer, cached hash) plus a bucket pointer each.
  return cap_rows_ * row_bytes_ + ids_.capacity() * sizeof(int64_t) +
         slots_.size() * (sizeof(int64_t) + sizeof(size_t) + 2 * sizeof(void*)) +
         slots_.bucket_count() * sizeof(void*);
}

}  // namespace vecsqlite
