// The SQLite extension entry points of vecsqlite.
//
//   sqlite3_vecsqlite_init  everything: the dataset-aware functions and tables, the vec0 family,
//                           vecsqlite_version(), vecsqlite_isa(). SQLite derives this name from
//                           the file names vecsqlite.node / vecsqlite.so, so hosts that cannot
//                           pass an entry point (libsql, Python, older node:sqlite) still work.
//   sqlite3_vec_init        the drop-in surface of the widely used C extension: exactly its
//                           functions and the modules vec0 and vec_each, so
//                           pragma_function_list / pragma_module_list look the same.
//   sqlite3_vec_numpy_init  the original's separate .npy loaders: vec_npy_file, vec_npy_each.
//
// One SQLite library per process: SQLITE_EXTENSION_INIT2 stores the routine table in a
// process-global pointer, so a second, different library (node:sqlite or node-sqlite3 next to
// better-sqlite3) would silently re-point every call. The entry points refuse it instead.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "core/env.h"
#include "kernels/kernels.h"
#include "sqlite/ext.h"
#include "version.h"

SQLITE_EXTENSION_INIT1

namespace vecsqlite {

// Oldest SQLite we call into: 3.38 brings sqlite3_vtab_in / sqlite3_vtab_rhs_value.
constexpr int kMinSqliteVersion = 3038000;

void result_errorf(sqlite3_context* ctx, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char* msg = sqlite3_vmprintf(fmt, ap);
  va_end(ap);
  if (msg == nullptr) {
    sqlite3_result_error_nomem(ctx);
    return;
  }
  sqlite3_result_error(ctx, msg, -1);
  sqlite3_free(msg);
}

std::string string_printf(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char* s = sqlite3_vmprintf(fmt, ap);
  va_end(ap);
  std::string out = s != nullptr ? s : "out of memory";
  sqlite3_free(s);
  return out;
}

int register_vec_npy(sqlite3* db, char** pzErr);     // vec_npy_file, vec_npy_each (vec_npy/)
int register_vec_hybrid(sqlite3* db, char** pzErr);  // vec_hybrid (hybrid/)

namespace {

std::mutex g_bind_mutex;  // guards the one-time binding of sqlite3_api

// Binds the process to `pApi` on first use; refuses a different routine table afterwards.
int bind_api(char** pzErrMsg, const sqlite3_api_routines* pApi) {
  std::lock_guard<std::mutex> lock(g_bind_mutex);
  if (sqlite3_api != nullptr && sqlite3_api != pApi) {
    if (pzErrMsg != nullptr) {
      *pzErrMsg = pApi->mprintf(
          "vecsqlite: already bound to a different SQLite library in this process");
    }
    return SQLITE_ERROR;
  }
  SQLITE_EXTENSION_INIT2(pApi);
  return SQLITE_OK;
}

int check_environment(char** pzErrMsg) {
  if (sqlite3_libversion_number() < kMinSqliteVersion) {
    *pzErrMsg = sqlite3_mprintf("vecsqlite: SQLite %s is too old (3.38.0 or newer is required)",
                                sqlite3_libversion());
    return SQLITE_ERROR;
  }
  const char* err = nullptr;
  if (!kernels_init(&err)) {
    *pzErrMsg = sqlite3_mprintf("%s", err);
    return SQLITE_ERROR;
  }
  if ((err = core_env_error()) != nullptr) {
    *pzErrMsg = sqlite3_mprintf("%s", err);
    return SQLITE_ERROR;
  }
  return SQLITE_OK;
}

void vecsqlite_version_fn(sqlite3_context* ctx, int, sqlite3_value**) {
  sqlite3_result_text(ctx, VECSQLITE_VERSION, -1, SQLITE_STATIC);
}

void vecsqlite_isa_fn(sqlite3_context* ctx, int, sqlite3_value**) {
  sqlite3_result_text(ctx, isa_name(kernels().isa), -1, SQLITE_STATIC);
}

int register_info_functions(sqlite3* db, char** pzErr) {
  int rc = sqlite3_create_function_v2(db, "vecsqlite_version", 0, kPureFunction, nullptr,
                                      vecsqlite_version_fn, nullptr, nullptr, nullptr);
  if (rc == SQLITE_OK) {
    rc = sqlite3_create_function_v2(db, "vecsqlite_isa", 0, kPureFunction, nullptr,
                                    vecsqlite_isa_fn, nullptr, nullptr, nullptr);
  }
  if (rc != SQLITE_OK) *pzErr = sqlite3_mprintf("vecsqlite: cannot register functions: %s", sqlite3_errmsg(db));
  return rc;
}

using RegisterFn = int (*)(sqlite3*, char**);

// What each entry point installs, in order.
const RegisterFn kFullSurface[] = {
    register_info_functions,
    register_dataset_functions,
    register_vec_module,
    register_vec_admin_module,
    register_vec0_functions,
    register_vec0_module,
    register_vec_npy,
    register_vec_hybrid,
};
const RegisterFn kVec0Surface[] = {
    register_vec0_functions,
    register_vec0_module,
};
const RegisterFn kNumpySurface[] = {
    register_vec_npy,
};

int init_with(sqlite3* db, char** pzErrMsg, const sqlite3_api_routines* pApi,
              const RegisterFn* fns, size_t count) {
  int rc = bind_api(pzErrMsg, pApi);
  if (rc == SQLITE_OK) rc = check_environment(pzErrMsg);
  for (size_t i = 0; rc == SQLITE_OK && i < count; i++) {
    if (fns[i] != nullptr) rc = fns[i](db, pzErrMsg);
  }
  return rc;
}

}  // namespace
}  // namespace vecsqlite

extern "C" {

__attribute__((visibility("default"))) int sqlite3_vecsqlite_init(
    sqlite3* db, char** pzErrMsg, const sqlite3_api_routines* pApi) {
  return vecsqlite::init_with(db, pzErrMsg, pApi, vecsqlite::kFullSurface,
                              sizeof(vecsqlite::kFullSurface) / sizeof(vecsqlite::kFullSurface[0]));
}

__attribute__((visibility("default"))) int sqlite3_vec_init(sqlite3* db, char** pzErrMsg,
                                                            const sqlite3_api_routines* pApi) {
  return vecsqlite::init_with(db, pzErrMsg, pApi, vecsqlite::kVec0Surface,
                              sizeof(vecsqlite::kVec0Surface) / sizeof(vecsqlite::kVec0Surface[0]));
}

// sqlite-vec's separate entry point for the .npy loaders (vec_npy_file, vec_npy_each).
__attribute__((visibility("default"))) int sqlite3_vec_numpy_init(sqlite3* db, char** pzErrMsg,
                                                                  const sqlite3_api_routines* pApi) {
  return vecsqlite::init_with(db, pzErrMsg, pApi, vecsqlite::kNumpySurface,
                              sizeof(vecsqlite::kNumpySurface) / sizeof(vecsqlite::kNumpySurface[0]));
}

}  // extern "C"
