// Internal interface between the `vec` table and `vec_admin` (vtab_vec.cc, vtab_vec_admin.cc).
#pragma once

#include <cstdint>
#include <string>

#include "sqlite/ext.h"

namespace vecsqlite {

// Rebuilds the index of (schema.table, dataset) from the data table on `db`, writes it to
// vector_storage (VSQ1) and drops every cached copy in the process. `table` is the data table
// (`_vec_<t>`). On success returns SQLITE_OK with *count = embedded rows indexed; otherwise an
// error code with *err set.
int vec_reindex(sqlite3* db, const std::string& schema, const std::string& table,
                const std::string& dataset, int64_t* count, std::string* err);

}  // namespace vecsqlite
