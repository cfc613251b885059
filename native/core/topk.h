// TopK: bounded selection of the k nearest (distance, id) pairs, shared by every search.
//
// Order: distance ascending, then id ascending (ties go to the smaller id, so results are
// deterministic whatever the order rows are offered in, or how a scan is split across threads).
// NaN distances are never admitted; k == 0 admits nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace vecsqlite {

class TopK {
 public:
  struct Item {
    float distance;
    int64_t id;
  };
  explicit TopK(size_t k);
  ~TopK();
  TopK(const TopK&) = delete;
  TopK& operator=(const TopK&) = delete;

  // Offers one candidate. Cheap rejection when the heap is full and distance > worst.
  void push(float distance, int64_t id);
  // Offers distances[i] with ids[i] (or first_id + i when ids is null), i < n.
  void push_block(const float* distances, const int64_t* ids, int64_t first_id, size_t n);
  // Current admission bound: +inf until k items are held, then the worst kept distance.
  float threshold() const;
  size_t size() const { return size_; }
  size_t capacity() const { return k_; }
  // Moves the kept items out, sorted best first; the selector is empty afterwards.
  size_t take_sorted(Item* out);

 private:
  size_t k_;
  size_t size_;
  Item* heap_;      // max-heap by (distance, id) of the kept items
  size_t cap_ = 0;  // allocated slots in heap_: grows geometrically up to k_ as items arrive,
                    // so a huge k (LIMIT 1000000000) costs memory only for what is kept
};

// Pushes the items of every part (each kept by one thread of a split search) into `top`,
// emptying the parts.
void merge_topk(const std::vector<std::unique_ptr<TopK>>& parts, TopK* top);

}  // namespace vecsqlite
