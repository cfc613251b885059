// Environment settings of the core, each read and checked once per process.
//
//   VECSQLITE_ARENA_POOL_MB  bound of the pool of freed row blocks, in whole MiB (default 1024;
//                            0 returns freed blocks to the system at once); see memory.h
//   VECSQLITE_SKETCH         0 turns the int8 sketch pre-filter off, 1 (default) keeps it on;
//                            see sketch.h (results are identical either way)
//   VECSQLITE_SHARED_CACHE   0: every connection keeps its own table caches; 1 (default): the
//                            connections of a process share them (vec0_shared.cc)
//   VECSQLITE_DEFER_ROWS     rows a write transaction inserts into a vec0 table (and at least
//                            as many as the table held when it began) after which the rows'
//                            vectors go to the shadow tables only, and the table's cache is
//                            rebuilt at the next read (default 4096; 0 never defers)
//
// Loading refuses a bad value rather than ignoring it: the entry points report
// core_env_error().
#pragma once

#include <cstddef>

namespace vecsqlite {

// nullptr when every setting above is unset or valid, else a message naming the bad one.
const char* core_env_error();
// The pool bound in bytes (the default when unset or invalid).
size_t env_pool_bytes();
// False when VECSQLITE_SKETCH=0.
bool env_sketch_enabled();
// False when VECSQLITE_SHARED_CACHE=0.
bool env_shared_cache_enabled();
// VECSQLITE_DEFER_ROWS (0: never).
size_t env_defer_rows();

}  // namespace vecsqlite
