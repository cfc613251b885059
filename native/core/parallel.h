// The thread policy of every search: how many threads one query may use, and running parts.
//
// A scan of vectors in memory is bound by memory bandwidth. One core cannot use all of it, so a
// scan of 16 MiB or more is split across up to 4 threads; smaller work stays on the calling
// thread, where a thread start (tens of microseconds) would cost more than it saves. Every
// split of a query's work (range scans, slot lists, filter evaluation, sketch builds) asks
// work_parts(), so the policy lives here and nowhere else.
#pragma once

#include <cstddef>
#include <functional>

namespace vecsqlite {

// Work below this many bytes runs on one thread.
constexpr size_t kParallelMinBytes = 16u << 20;
// At most this many threads per query.
constexpr size_t kMaxQueryThreads = 4;

// Threads for work over `bytes` of rows: 1 below kParallelMinBytes, else up to
// min(kMaxQueryThreads, hardware threads).
size_t work_parts(size_t bytes);

// Runs fn(0) .. fn(parts - 1): parts 1.. on threads of their own, part 0 on the caller's; a
// part whose thread cannot be started runs on the caller's thread too. Returns when all are
// done. fn must not throw.
void run_parts(size_t parts, const std::function<void(size_t)>& fn);

}  // namespace vecsqlite
