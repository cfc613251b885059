// Environment settings of the core, each read and checked once per process.
//
//   VECSQLITE_ARENA_POOL_MB  bound of the pool of freed row blocks, in whole MiB (default 1024;
//                            0 returns freed blocks to the system at once); see memory.h
//   VECSQLITE_SKETCH         0 turns the int8 sketch pre-filter off, 1 (default) keeps it on;
//                            see sketch.h (results are identical either way)
//   VECSQLITE_SHARED_CACHE   0: every connection keeps its own table caches; 1 (default): the
//                            connections of a process share them (vec0_shared.cc)
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

}  // namespace vecsqlite
