// Shared declarations for the SQLite side of vecsqlite.
//
// Every unit under native/sqlite reaches SQLite only through a routine table handed to an
// entry point (sqlite3ext.h): better-sqlite3 exports no sqlite3_* symbols, and the same file
// must load into the sqlite3 CLI and Python.
//
// Several SQLite libraries may load the extension into one process (better-sqlite3 next to
// node-sqlite3, libsql or node:sqlite), each with its own routine table. `sqlite3_api`, which
// every sqlite3_* macro of sqlite3ext.h calls through, is therefore the table of the library
// that called into the extension on this thread: every function and virtual-table method is
// registered through a trampoline that sets it first (extension.cc). Register functions only
// with sqlite3_create_function_v2 (scalar or aggregate) and modules with
// sqlite3_create_module_v2; sqlite3_user_data() returns the pointer passed there.
#pragma once

#include <sqlite3ext.h>

#include <atomic>

namespace vecsqlite {
// The routine table of the library now calling into the extension on this thread.
extern thread_local const sqlite3_api_routines* t_routines;
// The first library's table: used on threads that never entered through SQLite.
extern std::atomic<const sqlite3_api_routines*> g_first_routines;
inline const sqlite3_api_routines* routines() {
  const sqlite3_api_routines* r = t_routines;
  return r != nullptr ? r : g_first_routines.load(std::memory_order_relaxed);
}
}  // namespace vecsqlite

#define sqlite3_api (::vecsqlite::routines())

#include <cstdarg>
#include <string>

namespace vecsqlite {

// Registration hooks, called by the entry points in extension.cc on each connection.
// Each returns SQLITE_OK or an error code with *pzErr set via sqlite3_mprintf.
int register_dataset_functions(sqlite3* db, char** pzErr);   // vec_cosine, vec_l2
int register_vec_module(sqlite3* db, char** pzErr);          // vec, vec_invalidate, vec_stats
int register_vec_admin_module(sqlite3* db, char** pzErr);    // vec_admin
int register_vec0_functions(sqlite3* db, char** pzErr);      // the 18 vec_* functions + vec_each
int register_vec0_module(sqlite3* db, char** pzErr);         // the vec0 virtual table

// Sets an error message on a function context from a printf-style format.
void result_errorf(sqlite3_context* ctx, const char* fmt, ...);

// printf into a std::string through sqlite3_vmprintf (SQLite's %q, %w, %lld semantics).
std::string string_printf(const char* fmt, ...);

// Flags for functions whose result depends only on their arguments.
constexpr int kPureFunction = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;

}  // namespace vecsqlite
