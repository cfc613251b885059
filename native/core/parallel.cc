// Thread policy; see parallel.h.
#include "core/parallel.h"

#include "core/stats.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

namespace vecsqlite {
namespace {

// vec_stats(): run_parts calls split over several threads, and the helper threads they started.
Counter g_split_runs("query_split_runs");
Counter g_helper_threads("query_helper_threads");

// Threads of this process now running query parts (callers included), over all queries.
std::atomic<size_t> g_busy{0};

// VECSQLITE_QUERY_THREADS: 0 when unset or empty, -1 when not a whole number in 1..64.
long query_threads_env() {
  const char* e = std::getenv("VECSQLITE_QUERY_THREADS");
  if (e == nullptr || *e == 0) return 0;
  if (*e < '0' || *e > '9') return -1;
  char* end = nullptr;
  const unsigned long v = std::strtoul(e, &end, 10);
  if (end == nullptr || *end != 0 || v < 1 || v > 64) return -1;
  return static_cast<long>(v);
}

size_t hardware_threads() {
  static const size_t hc = [] {
    const unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? size_t{1} : size_t{n};
  }();
  return hc;
}

// Counts the threads of one run_parts call as busy for its duration.
struct BusyGuard {
  size_t n;
  explicit BusyGuard(size_t k) : n(k) { g_busy.fetch_add(n, std::memory_order_relaxed); }
  ~BusyGuard() { g_busy.fetch_sub(n, std::memory_order_relaxed); }
};

}  // namespace

size_t query_thread_cap() {
  static const size_t cap = [] {
    const long v = query_threads_env();
    return v > 0 ? static_cast<size_t>(v) : kMaxQueryThreads;
  }();
  return cap;
}

const char* parallel_env_error() {
  return query_threads_env() < 0
             ? "vecsqlite: VECSQLITE_QUERY_THREADS must be a whole number from 1 to 64"
             : nullptr;
}

size_t busy_query_threads() { return g_busy.load(std::memory_order_relaxed); }

size_t work_parts(size_t bytes) {
  if (bytes < kParallelMinBytes) return 1;
  const size_t hc = hardware_threads();
  size_t n = query_thread_cap();
  if (n > hc) n = hc;
  // Cores already running other queries' parts are not free: a busy process gets one thread
  // per query, so concurrent queries (a worker pool) never oversubscribe the cores.
  const size_t busy = g_busy.load(std::memory_order_relaxed);
  const size_t free_cores = busy >= hc ? 0 : hc - busy;
  if (n > free_cores) n = free_cores;
  return n == 0 ? 1 : n;
}

void run_parts(size_t parts, const std::function<void(size_t)>& fn) {
  BusyGuard busy(parts == 0 ? 1 : parts);
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
  if (started > 0) {
    g_split_runs.add();
    g_helper_threads.add(static_cast<int64_t>(started));
  }
  fn(0);
  for (size_t p = started + 1; p < parts; p++) fn(p);
  for (auto& th : threads) th.join();
}

}  // namespace vecsqlite
