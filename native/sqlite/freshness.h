// Detecting writes made by other connections and processes, so an in-memory arena is never
// trusted after someone else committed. `PRAGMA <schema>.data_version` changes only when
// another connection commits to that database file (this connection's own writes do not move
// it; those reach caches through the write paths: vec0's xUpdate, vec's triggers).
#pragma once

#include <cstdint>
#include <string>

#include "sqlite/ext.h"

namespace vecsqlite {

// The identity (device, inode) of the file behind `schema` on `db`, for keys of caches that
// connections of the process share. False when sharing is off (VECSQLITE_SHARED_CACHE=0) or the
// database is not a file (in-memory, temporary, a memdb VFS name).
bool shareable_file(sqlite3* db, const char* schema, uint64_t* dev, uint64_t* ino);

class DataVersionProbe {
 public:
  DataVersionProbe() = default;
  ~DataVersionProbe();
  DataVersionProbe(const DataVersionProbe&) = delete;
  DataVersionProbe& operator=(const DataVersionProbe&) = delete;

  // Prepares the probe for `schema` ("main", "temp", an attached name) on `db`.
  int open(sqlite3* db, const std::string& schema);
  // Current data_version; returns SQLITE_OK and sets *out, or an error code.
  int read(int64_t* out);
  // True when data_version differs from the last value seen by changed() (the first call
  // returns true). On error returns true: callers then rebuild rather than trust a cache.
  bool changed();

 private:
  sqlite3_stmt* stmt_ = nullptr;
  bool seen_ = false;
  int64_t last_ = 0;
};

}  // namespace vecsqlite
