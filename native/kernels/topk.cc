// TopK: bounded selection of the k smallest (distance, id) pairs with a max-heap whose root is
// the worst kept pair. Ties are broken by the smaller id; NaN is never admitted.
#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/kernels.h"

namespace vecsqlite {
namespace {

// True when x ranks after y (x is "worse").
inline bool worse(const TopK::Item& x, const TopK::Item& y) {
  return x.distance > y.distance || (x.distance == y.distance && x.id > y.id);
}

}  // namespace

TopK::TopK(size_t k) : k_(k), size_(0), heap_(k ? new Item[k] : nullptr) {}

TopK::~TopK() { delete[] heap_; }

float TopK::threshold() const {
  return size_ < k_ ? std::numeric_limits<float>::infinity() : heap_[0].distance;
}

void TopK::push(float distance, int64_t id) {
  if (k_ == 0 || std::isnan(distance)) return;
  const Item item{distance, id};
  if (size_ < k_) {
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
  if (!worse(heap_[0], item)) return;
  // Replace the root and sift down.
  size_t i = 0;
  for (;;) {
    const size_t l = 2 * i + 1, r = l + 1;
    size_t largest = i;
    const Item* cur = &item;
    if (l < size_ && worse(heap_[l], *cur)) {
      largest = l;
      cur = &heap_[l];
    }
    if (r < size_ && worse(heap_[r], *cur)) largest = r;
    if (largest == i) break;
    heap_[i] = heap_[largest];
    i = largest;
  }
  heap_[i] = item;
}

void TopK::push_block(const float* distances, const int64_t* ids, int64_t first_id, size_t n) {
  if (k_ == 0) return;
  float bound = threshold();
  for (size_t i = 0; i < n; i++) {
    const float d = distances[i];
    if (!(d <= bound)) continue;  // also drops NaN
    push(d, ids ? ids[i] : first_id + int64_t(i));
    bound = threshold();
  }
}

size_t TopK::take_sorted(Item* out) {
  const size_t n = size_;
  std::sort(heap_, heap_ + n, [](const Item& a, const Item& b) { return worse(b, a); });
  std::copy(heap_, heap_ + n, out);
  size_ = 0;
  return n;
}

}  // namespace vecsqlite
