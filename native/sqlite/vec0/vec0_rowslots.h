// Position keys and the position key -> rowid map of a vec0 table's cache.
//
// A row's POSITION KEY is chunk_id * kMaxChunkSize + (kMaxChunkSize - 1 - slot): one int64 that
// names its place in the chunk tables. Arenas use position keys as ids, so the search's
// tie-break (smaller id first) reproduces sqlite-vec's order among equal distances: earlier
// chunk first, and within a chunk the higher slot first.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <utility>
#include <vector>

namespace vecsqlite {
namespace vec0 {

constexpr int kMaxChunkSize = 4096;

inline int64_t pos_key(int64_t chunk_id, int offset) { return chunk_id * kMaxChunkSize + (kMaxChunkSize - 1 - offset); }
inline int64_t pos_chunk(int64_t key) { return key / kMaxChunkSize; }
inline int pos_offset(int64_t key) { return kMaxChunkSize - 1 - static_cast<int>(key % kMaxChunkSize); }

// Position key -> rowid: per chunk, a dense array indexed by slot (what the chunk's rowids blob
// holds) with a presence bitmap, so that an insert is two stores and a lookup two loads after
// finding the chunk (writers remember the last one found: inserts go chunk by chunk).
// Chunks in id order, so a full scan reads them in the original's order.
class RowidSlots {
 public:
  RowidSlots() = default;
  RowidSlots(const RowidSlots& o) : chunks_(o.chunks_), n_(o.n_) {}
  RowidSlots(RowidSlots&& o) noexcept : chunks_(std::move(o.chunks_)), n_(o.n_) { o.forget(); }
  RowidSlots& operator=(RowidSlots o) noexcept {
    chunks_.swap(o.chunks_);
    std::swap(n_, o.n_);
    forget();
    o.forget();
    return *this;
  }
  size_t size() const { return n_; }
  // Reads only (no memo): a shared cache is read by several threads at once.
  bool find(int64_t key, int64_t* rowid) const {
    auto it = chunks_.find(pos_chunk(key));
    const Slots* c = it == chunks_.end() ? nullptr : &it->second;
    const size_t s = static_cast<size_t>(pos_offset(key));
    if (c == nullptr || s >= c->ids.size() || !(c->live[s / 64] >> (s % 64) & 1)) return false;
    *rowid = c->ids[s];
    return true;
  }
  void set(int64_t key, int64_t rowid) {
    const int64_t id = pos_chunk(key);
    Slots* c = chunk(id);
    if (c == nullptr) {
      c = &chunks_[id];
      last_id_ = id;
      last_ = c;
    }
    const size_t s = static_cast<size_t>(pos_offset(key));
    if (s >= c->ids.size()) {
      const size_t n = (std::max(s + 1, 2 * c->ids.size()) + 63) / 64 * 64;
      c->ids.resize(n);
      c->live.resize(n / 64);
    }
    uint64_t& w = c->live[s / 64];
    if (!(w >> (s % 64) & 1)) n_++;
    w |= uint64_t{1} << (s % 64);
    c->ids[s] = rowid;
  }
  bool erase(int64_t key) {
    Slots* c = chunk(pos_chunk(key));
    const size_t s = static_cast<size_t>(pos_offset(key));
    if (c == nullptr || s >= c->ids.size() || !(c->live[s / 64] >> (s % 64) & 1)) return false;
    c->live[s / 64] &= ~(uint64_t{1} << (s % 64));
    n_--;
    return true;
  }
  // Forgets a chunk (its rows are gone).
  void drop_chunk(int64_t id) {
    auto it = chunks_.find(id);
    if (it == chunks_.end()) return;
    for (uint64_t w : it->second.live) n_ -= static_cast<size_t>(__builtin_popcountll(w));
    if (last_ == &it->second) forget();
    chunks_.erase(it);
  }
  // Every (key, rowid), chunk by chunk, slot by slot.
  template <typename F>
  void each(F f) const {
    for (const auto& kv : chunks_)
      for (size_t w = 0; w < kv.second.live.size(); w++)
        for (uint64_t bits = kv.second.live[w]; bits != 0; bits &= bits - 1) {
          const size_t s = 64 * w + static_cast<size_t>(__builtin_ctzll(bits));
          f(pos_key(kv.first, static_cast<int>(s)), kv.second.ids[s]);
        }
  }

 private:
  struct Slots {
    std::vector<int64_t> ids;
    std::vector<uint64_t> live;
  };
  // The chunk's slots, or nullptr (for writers: remembers the last one found).
  Slots* chunk(int64_t id) {
    if (last_ != nullptr && last_id_ == id) return last_;
    auto it = chunks_.find(id);
    if (it == chunks_.end()) return nullptr;
    last_id_ = id;
    last_ = &it->second;
    return last_;
  }
  void forget() {
    last_ = nullptr;
    last_id_ = INT64_MIN;
  }
  std::map<int64_t, Slots> chunks_;  // map nodes stay put: last_ stays valid until copied
  size_t n_ = 0;
  int64_t last_id_ = INT64_MIN;
  Slots* last_ = nullptr;
};

}  // namespace vec0
}  // namespace vecsqlite
