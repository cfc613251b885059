// Shared declarations for the SQLite side of vecsqlite.
//
// Every unit under native/sqlite reaches SQLite only through the routine table handed to the
// entry point (sqlite3ext.h, SQLITE_EXTENSION_INIT3): better-sqlite3 exports no sqlite3_*
// symbols, and the same file must load into the sqlite3 CLI and Python.
#pragma once

#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT3

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
