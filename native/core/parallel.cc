// Thread policy; see parallel.h.
#include "core/parallel.h"

#include <thread>
#include <vector>

namespace vecsqlite {

size_t work_parts(size_t bytes) {
  if (bytes < kParallelMinBytes) return 1;
  const unsigned hc = std::thread::hardware_concurrency();
  return hc == 0 ? 1 : (hc > kMaxQueryThreads ? kMaxQueryThreads : hc);
}

void run_parts(size_t parts, const std::function<void(size_t)>& fn) {
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
  fn(0);
  for (size_t p = started + 1; p < parts; p++) fn(p);
  for (auto& th : threads) th.join();
}

}  // namespace vecsqlite
