// TopK: bounded selection of the k smallest (distance, id) pairs with a max-heap whose root is
// the worst kept pair. Order: distance ascending, then id ascending; NaN is never admitted.
//
// Storage grows geometrically (64, 128, ... up to k) as items are admitted, so a caller may pass
// a huge k (SQL `LIMIT 1000000000`) and pay only for what is actually kept. The rejection test
// against the current worst pair is one float compare, which push_block hoists out of its loop.
#include <algorithm>
#include <vector>
#include <cstring>
#include <limits>

#include "core/topk.h"

namespace vecsqlite {
namespace {

// True when x ranks after y (x is "worse").
inline bool worse(const TopK::Item& x, const TopK::Item& y) {
  return x.distance > y.distance || (x.distance == y.distance && x.id > y.id);
}

constexpr size_t kInitialCapacity = 64;

}  // namespace

TopK::TopK(size_t k) : k_(k), size_(0), heap_(nullptr), cap_(0) {}

TopK::~TopK() { delete[] heap_; }

float TopK::threshold() const {
  // k == 0 holds nothing and admits nothing: +inf, like any selector that is not yet full.
  return size_ < k_ || k_ == 0 ? std::numeric_limits<float>::infinity() : heap_[0].distance;
}

void TopK::push(float distance, int64_t id) {
  if (k_ == 0 || distance != distance) return;  // k == 0 admits nothing; NaN never admitted
  const Item item{distance, id};
  if (size_ < k_) {
    if (size_ == cap_) {
      // Grow: double, at least kInitialCapacity, at most k_.
      size_t want = cap_ == 0 ? kInitialCapacity : cap_ * 2;
      if (want > k_ || want < cap_) want = k_;
      Item* grown = new Item[want];
      if (size_ > 0) std::memcpy(grown, heap_, size_ * sizeof(Item));
      delete[] heap_;
      heap_ = grown;
      cap_ = want;
    }
    // Sift up.
    size_t i = size_++;
    while (i > 0) {
      const size_t parent = (i - 1) / 2;
      if (!worse(item, heap_[parent])) break;
      heap_[i] = heap_[parent];
      i = parent;
    }
    heap_[i] = item;
    return;
  }
  if (!worse(heap_[0], item)) return;  // not better than the worst kept pair
  // Replace the root and sift down.
  size_t i = 0;
  for (;;) {
    const size_t l = 2 * i + 1;
    if (l >= size_) break;
    size_t child = l;
    if (l + 1 < size_ && worse(heap_[l + 1], heap_[l])) child = l + 1;
    if (!worse(heap_[child], item)) break;
    heap_[i] = heap_[child];
    i = child;
  }
  heap_[i] = item;
}

void TopK::push_block(const float* distances, const int64_t* ids, int64_t first_id, size_t n) {
  if (k_ == 0) return;
  float bound = threshold();
  for (size_t i = 0; i < n; i++) {
    const float d = distances[i];
    if (!(d <= bound)) continue;  // worse than the worst kept pair, or NaN
    push(d, ids != nullptr ? ids[i] : first_id + int64_t(i));
    bound = threshold();
  }
}

size_t TopK::take_sorted(Item* out) {
  const size_t n = size_;
  std::sort(heap_, heap_ + n, [](const Item& a, const Item& b) { return worse(b, a); });
  if (n > 0) std::memcpy(out, heap_, n * sizeof(Item));
  size_ = 0;
  return n;
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

}  // namespace vecsqlite
