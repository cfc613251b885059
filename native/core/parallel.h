// The thread policy of every search: how many threads one query may use, and running parts.
//
// A scan of vectors in memory is bound by memory bandwidth. One core cannot use all of it, so a
// scan of 16 MiB or more is split across up to 4 threads; smaller work stays on the calling
// thread, where a thread start (tens of microseconds) would cost more than it saves. Every
// split of a query's work (range scans, slot lists, filter evaluation, sketch builds) asks
// work_parts(), so the policy lives here and nowhere else.
//
// Concurrent queries share the cores: work_parts() counts the threads of this process that are
// already running query parts (for instance other worker_threads of a connection pool) and
// gives a new query only the cores left, and at least one. An idle process lets one large scan
// use several cores; a busy one runs one thread per query.
//
//   VECSQLITE_QUERY_THREADS  at most this many threads per query, 1..64 (default
//                            kMaxQueryThreads); 1 keeps every query on its calling thread.
#pragma once

#include <cstddef>
#include <functional>

namespace vecsqlite {

// Work below this many bytes runs on one thread.
constexpr size_t kParallelMinBytes = 16u << 20;
// At most this many threads per query.
constexpr size_t kMaxQueryThreads = 4;

// Threads for work over `bytes` of rows: 1 below kParallelMinBytes, else up to
// min(query_thread_cap(), hardware threads, cores not busy with other queries), at least 1.
size_t work_parts(size_t bytes);

// The per-query thread cap: VECSQLITE_QUERY_THREADS, or kMaxQueryThreads when unset.
size_t query_thread_cap();
// nullptr when VECSQLITE_QUERY_THREADS is unset or valid, else a message naming it.
const char* parallel_env_error();
// Threads of this process running query parts right now (run_parts callers and helpers).
size_t busy_query_threads();

// Runs fn(0) .. fn(parts - 1): parts 1.. on threads of their own, part 0 on the caller's; a
// part whose thread cannot be started runs on the caller's thread too. Returns when all are
// done. fn must not throw.
void run_parts(size_t parts, const std::function<void(size_t)>& fn);

}  // namespace vecsqlite
