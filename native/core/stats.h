// Process-wide counters for observability (`vec_stats()` in SQL reports them as JSON).
//
// Each module defines its own counters as objects of static storage duration, e.g.
//   Counter g_loads("vec0_loads");
// and only increments them; nothing reaches into another module to read its numbers. The
// constructor links the counter into one process-wide list (registration happens during static
// initialisation, before any thread can use it), and for_each_counter() reports them all.
// Increments are relaxed atomics: safe from every thread and connection.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>

namespace vecsqlite {

class Counter {
 public:
  explicit Counter(const char* name);
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;
  void add(int64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  int64_t get() const { return value_.load(std::memory_order_relaxed); }
  const char* name() const { return name_; }

 private:
  friend void for_each_counter(const std::function<void(const char*, int64_t)>& fn);
  const char* name_;
  std::atomic<int64_t> value_{0};
  Counter* next_ = nullptr;
};

// Calls fn(name, value) for every counter of the process, in registration order.
void for_each_counter(const std::function<void(const char*, int64_t)>& fn);

}  // namespace vecsqlite
