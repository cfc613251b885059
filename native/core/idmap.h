// IdMap<V>: a hash map from int64_t ids to a small trivially copyable V, for the maps of the
// caches that hold one entry per row (vec0: row id -> position key, position key -> row id;
// Arena: id -> slot), millions of entries each.
//
// WHY: std::unordered_map allocates one node per entry (a malloc and about 40 bytes with its
// bucket) and follows a pointer per lookup. IdMap keeps its entries in one array with 32-bit
// chain links: 24 bytes per entry plus 4-8 per bucket, and no allocation per insert.
//
// FORMAT:
//   nodes_[i] = {first: id, second: value, next}; next = 1 + index of the next node of the same
//               chain, 0 at the chain's end, kFree while the node is on the free list
//   heads_[b] = 1 + index of the first node of chain b, 0 for an empty chain; heads_.size() is
//               a power of two (at least 16) kept >= size(), so chains average one node or less
//   free_     = indices of erased nodes, reused by later inserts (last erased first)
//   bucket(id) = (mix(id >> 10) + (id & 1023)) & (heads_.size() - 1), mix = the high half of a
//               Fibonacci multiply: ids counting up inside one 1024-aligned run (rows appended in
//               order, the slots of one chunk) fall into consecutive buckets, as with the
//               identity hash of std::hash, while separate runs and strided ids spread over the
//               table. A collision only lengthens a chain (no probing, so no clustering).
// Iteration visits the live nodes in array order. Iterators are node indices and stay valid
// until their entry is erased (but an end() iterator names the next node an insert appends);
// unlike std::unordered_map, an insert may move the node array, so it invalidates pointers
// and references into the map (erase never moves nodes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

namespace vecsqlite {

template <typename V>
class IdMap {
  static_assert(std::is_trivially_copyable<V>::value, "IdMap values are copied as bytes");

 public:
  struct Node {
    int64_t first;
    V second;
    uint32_t next;
  };

  template <bool Const>
  class Iter {
    using Map = typename std::conditional<Const, const IdMap, IdMap>::type;
    using Ref = typename std::conditional<Const, const Node&, Node&>::type;
    using Ptr = typename std::conditional<Const, const Node*, Node*>::type;

   public:
    Iter(Map* m, size_t i) : m_(m), i_(i) { skip(); }
    Ref operator*() const { return m_->nodes_[i_]; }
    Ptr operator->() const { return &m_->nodes_[i_]; }
    Iter& operator++() {
      i_++;
      skip();
      return *this;
    }
    bool operator==(const Iter& o) const { return i_ == o.i_; }
    bool operator!=(const Iter& o) const { return i_ != o.i_; }

   private:
    friend class IdMap;
    void skip() {
      while (i_ < m_->nodes_.size() && m_->nodes_[i_].next == kFree) i_++;
    }
    Map* m_;
    size_t i_;
  };
  using iterator = Iter<false>;
  using const_iterator = Iter<true>;

  IdMap() : heads_(kMinBuckets, 0) {}
  IdMap(const IdMap&) = default;
  IdMap& operator=(const IdMap&) = default;
  // A moved-from map is empty and usable.
  IdMap(IdMap&& o) noexcept : IdMap() { swap(o); }
  IdMap& operator=(IdMap&& o) noexcept {
    if (this != &o) {
      IdMap().swap(*this);
      swap(o);
    }
    return *this;
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  size_t bucket_count() const { return heads_.size(); }
  size_t memory_bytes() const {
    return nodes_.capacity() * sizeof(Node) + heads_.capacity() * sizeof(uint32_t) + free_.capacity() * sizeof(uint32_t);
  }

  iterator begin() { return iterator(this, 0); }
  iterator end() { return iterator(this, nodes_.size()); }
  const_iterator begin() const { return const_iterator(this, 0); }
  const_iterator end() const { return const_iterator(this, nodes_.size()); }

  iterator find(int64_t id) { return iterator(this, locate(id)); }
  const_iterator find(int64_t id) const { return const_iterator(this, locate(id)); }
  size_t count(int64_t id) const { return locate(id) != nodes_.size() ? 1 : 0; }
  // Starts loading the bucket of `id` into the cache (a hint for a lookup soon after).
  void prefetch(int64_t id) const { __builtin_prefetch(&heads_[bucket(id)]); }

  // Inserts (id, v) unless id is present; returns the entry and whether it was inserted.
  std::pair<iterator, bool> emplace(int64_t id, V v) {
    const size_t at = locate(id);
    if (at != nodes_.size()) return {iterator(this, at), false};
    return {iterator(this, insert_new(id, v)), true};
  }
  V& operator[](int64_t id) {
    size_t at = locate(id);
    if (at == nodes_.size()) at = insert_new(id, V{});
    return nodes_[at].second;
  }

  size_t erase(int64_t id) {
    uint32_t* link = &heads_[bucket(id)];
    while (*link != 0) {
      Node& n = nodes_[*link - 1];
      if (n.first == id) {
        const uint32_t at = *link - 1;
        *link = n.next;
        n.next = kFree;
        free_.push_back(at);
        size_--;
        return 1;
      }
      link = &n.next;
    }
    return 0;
  }
  void erase(const_iterator it) { erase(nodes_[it.i_].first); }
  void erase(iterator it) { erase(nodes_[it.i_].first); }

  // Room for `n` entries without moving the nodes or rehashing; never shrinks.
  void reserve(size_t n) {
    if (n > kMaxNodes) throw std::length_error("IdMap: too many entries");
    nodes_.reserve(n);
    if (n > heads_.size()) rehash(n);
  }
  // Empties the map and gives its memory back.
  void clear() {
    std::vector<Node>().swap(nodes_);
    std::vector<uint32_t>(kMinBuckets, 0).swap(heads_);
    std::vector<uint32_t>().swap(free_);
    size_ = 0;
  }
  // The longest chain (for tests of the bucket function).
  size_t longest_chain() const {
    size_t best = 0;
    for (uint32_t h : heads_) {
      size_t n = 0;
      for (uint32_t l = h; l != 0; l = nodes_[l - 1].next) n++;
      if (n > best) best = n;
    }
    return best;
  }
  void swap(IdMap& o) noexcept {
    nodes_.swap(o.nodes_);
    heads_.swap(o.heads_);
    free_.swap(o.free_);
    std::swap(size_, o.size_);
  }

 private:
  static constexpr uint32_t kFree = 0xffffffffu;
  static constexpr size_t kMinBuckets = 16;
  static constexpr size_t kMaxNodes = 0xfffffffeu;  // 1-based 32-bit links, kFree reserved

  size_t bucket(int64_t id) const {
    const uint64_t u = static_cast<uint64_t>(id);
    const uint64_t mix = ((u >> 10) * 0x9E3779B97F4A7C15ull) >> 32;
    return static_cast<size_t>((mix + (u & 1023)) & (heads_.size() - 1));
  }
  // The node index holding `id`, or nodes_.size().
  size_t locate(int64_t id) const {
    for (uint32_t l = heads_[bucket(id)]; l != 0;) {
      const Node& n = nodes_[l - 1];
      if (n.first == id) return l - 1;
      l = n.next;
    }
    return nodes_.size();
  }
  size_t insert_new(int64_t id, V v) {
    if (size_ + 1 > heads_.size()) rehash(2 * heads_.size());
    uint32_t at;
    if (!free_.empty()) {
      at = free_.back();
      free_.pop_back();
      nodes_[at] = Node{id, v, 0};
    } else {
      if (nodes_.size() >= kMaxNodes) throw std::length_error("IdMap: too many entries");
      at = static_cast<uint32_t>(nodes_.size());
      nodes_.push_back(Node{id, v, 0});
    }
    uint32_t& head = heads_[bucket(id)];
    nodes_[at].next = head;
    head = at + 1;
    size_++;
    return at;
  }
  // Rebuilds the chains over at least `want` buckets (a power of two).
  void rehash(size_t want) {
    size_t nb = kMinBuckets;
    while (nb < want) nb *= 2;
    std::vector<uint32_t>(nb, 0).swap(heads_);
    for (size_t i = 0; i < nodes_.size(); i++) {
      Node& n = nodes_[i];
      if (n.next == kFree) continue;
      uint32_t& head = heads_[bucket(n.first)];
      n.next = head;
      head = static_cast<uint32_t>(i + 1);
    }
  }

  std::vector<Node> nodes_;
  std::vector<uint32_t> heads_;
  std::vector<uint32_t> free_;
  size_t size_ = 0;
};

}  // namespace vecsqlite
