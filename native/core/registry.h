// SharedRegistry: a process-wide map from a key to an object that several owners share,
// read-only, once it is listed. Used for the caches that connections of one process share
// (sqlite/vec0/vec0_shared.cc, sqlite/vec/vec_shared.cc).
//
// The registry holds weak references: an object lives as long as some owner holds it. An owner
// keeps its object in a shared_ptr and a `listed` flag (the object may be in the registry). A
// listed object is never changed: an owner about to change its object calls unlist() first,
// after which no one can take it from the registry, and copies it when use_count() says another
// owner still holds it. One mutex per registry guards the map.
#pragma once

#include <map>
#include <memory>
#include <mutex>

namespace vecsqlite {

template <typename Key, typename T>
class SharedRegistry {
 public:
  // When an object is listed under k: *mine becomes it (unlisting the one *mine held).
  bool adopt(const Key& k, std::shared_ptr<T>* mine, bool* listed) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = map_.find(k);
    if (it == map_.end()) return false;
    std::shared_ptr<T> found = it->second.lock();
    if (!found) {
      map_.erase(it);
      return false;
    }
    take(std::move(found), mine, listed);
    return true;
  }
  // Lists *mine under k. When another object is listed there already, *mine becomes that one
  // instead (the same state, published first) and publish returns true.
  bool publish(const Key& k, std::shared_ptr<T>* mine, bool* listed) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = map_.find(k);
    if (it != map_.end()) {
      std::shared_ptr<T> there = it->second.lock();
      if (there) {
        const bool other = there != *mine;
        take(std::move(there), mine, listed);
        return other;
      }
      map_.erase(it);
    }
    unlist_locked(*mine, listed);
    if (map_.size() >= kSweepAt)
      for (auto i = map_.begin(); i != map_.end();) i = i->second.expired() ? map_.erase(i) : std::next(i);
    map_.emplace(k, *mine);
    *listed = true;
    return false;
  }
  // Takes `mine` out of the registry (when *listed).
  void unlist(const std::shared_ptr<T>& mine, bool* listed) {
    if (!*listed) return;
    std::lock_guard<std::mutex> lock(mu_);
    unlist_locked(mine, listed);
  }
  // Drops every entry whose key satisfies pred.
  template <typename Pred>
  void erase_if(Pred pred) {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = map_.begin(); it != map_.end();) it = pred(it->first) ? map_.erase(it) : std::next(it);
  }

 private:
  static constexpr size_t kSweepAt = 64;  // expired entries are dropped from this size on

  void take(std::shared_ptr<T> obj, std::shared_ptr<T>* mine, bool* listed) {
    if (obj != *mine) {
      unlist_locked(*mine, listed);
      *mine = std::move(obj);
    }
    *listed = true;
  }
  void unlist_locked(const std::shared_ptr<T>& mine, bool* listed) {
    if (!*listed) return;
    *listed = false;
    for (auto it = map_.begin(); it != map_.end(); ++it) {
      if (it->second.lock() == mine) {
        map_.erase(it);
        return;
      }
    }
  }

  std::mutex mu_;
  std::map<Key, std::weak_ptr<T>> map_;
};

}  // namespace vecsqlite
