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
// Any number of SQLite libraries per process (up to kMaxLibraries): each connection calls back
// into the extension through trampolines that select the routine table of the library that
// registered them (see ext.h); the library bindings are at the end of this file.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstddef>
#include <cstring>
#include <mutex>
#include <new>
#include <utility>

#include "core/env.h"
#include "core/parallel.h"
#include "kernels/kernels.h"
#include "sqlite/ext.h"
#include "version.h"

namespace vecsqlite {

thread_local const sqlite3_api_routines* t_routines = nullptr;
std::atomic<const sqlite3_api_routines*> g_first_routines{nullptr};

int bind_library(char** pzErrMsg, const sqlite3_api_routines* pApi);  // below

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
int register_vec_knn_batch(sqlite3* db, char** pzErr);  // vec_knn_batch (vec0/vec0_batch.cc)
int register_vec_rows(sqlite3* db, char** pzErr);       // vec_rows (vec0/vec0_bulk.cc)

namespace {

int check_environment(char** pzErrMsg) {
  const char* err = nullptr;
  if (!kernels_init(&err)) {
    *pzErrMsg = sqlite3_mprintf("%s", err);
    return SQLITE_ERROR;
  }
  if ((err = core_env_error()) != nullptr || (err = parallel_env_error()) != nullptr) {
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
    register_vec_knn_batch,
    register_vec_rows,
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
  // Too old a library is refused before it is bound (it would call routines it lacks).
  if (pApi != nullptr && pApi->libversion_number() < kMinSqliteVersion) {
    if (pzErrMsg != nullptr) {
      *pzErrMsg = pApi->mprintf("vecsqlite: SQLite %s is too old (3.38.0 or newer is required)", pApi->libversion());
    }
    return SQLITE_ERROR;
  }
  int rc = bind_library(pzErrMsg, pApi);
  if (rc == SQLITE_OK) rc = check_environment(pzErrMsg);
  for (size_t i = 0; rc == SQLITE_OK && i < count; i++) {
    if (fns[i] != nullptr) rc = fns[i](db, pzErrMsg);
  }
  return rc;
}

}  // namespace

// ---- library bindings ------------------------------------------------------------------------
//
// For each SQLite library that loads the extension, a Library holds its own routine table
// (`real`) and a copy of it (`routed`) whose registration routines wrap every callback:
//   functions  the registered user data becomes a FnWrap {callbacks, user data}; the
//              trampolines fn_*<S> (one set per library slot S, since they must reach the
//              library's sqlite3_user_data before anything else) set t_routines, then call
//              the original; routed.user_data returns the original user data;
//   modules    each module is copied into a ModWrap whose methods set t_routines from the
//              ModWrap (found through the client data in xCreate/xConnect and through
//              sqlite3_vtab.pModule, which SQLite sets to the registered module, elsewhere).
// Bindings live for the life of the process (a few hundred bytes each).
namespace {

constexpr int kMaxLibraries = 8;

struct Library {
  const sqlite3_api_routines* real = nullptr;
  sqlite3_api_routines routed{};
};
Library g_libs[kMaxLibraries];
std::atomic<int> g_nlibs{0};
std::mutex g_libs_mutex;

struct FnWrap {
  void (*xFunc)(sqlite3_context*, int, sqlite3_value**);
  void (*xStep)(sqlite3_context*, int, sqlite3_value**);
  void (*xFinal)(sqlite3_context*);
  void (*xDestroy)(void*);
  void* user;
};

template <int S>
FnWrap* fn_wrap(sqlite3_context* ctx) {
  t_routines = &g_libs[S].routed;
  return static_cast<FnWrap*>(g_libs[S].real->user_data(ctx));
}
template <int S>
void fn_func(sqlite3_context* ctx, int n, sqlite3_value** v) { fn_wrap<S>(ctx)->xFunc(ctx, n, v); }
template <int S>
void fn_step(sqlite3_context* ctx, int n, sqlite3_value** v) { fn_wrap<S>(ctx)->xStep(ctx, n, v); }
template <int S>
void fn_final(sqlite3_context* ctx) { fn_wrap<S>(ctx)->xFinal(ctx); }
template <int S>
void* fn_user_data(sqlite3_context* ctx) {
  return static_cast<FnWrap*>(g_libs[S].real->user_data(ctx))->user;
}
void fn_destroy(void* p) {
  FnWrap* w = static_cast<FnWrap*>(p);
  if (w->xDestroy != nullptr) w->xDestroy(w->user);
  delete w;
}

template <int S>
int routed_create_function_v2(sqlite3* db, const char* name, int nArg, int eTextRep, void* user,
                              void (*xFunc)(sqlite3_context*, int, sqlite3_value**),
                              void (*xStep)(sqlite3_context*, int, sqlite3_value**),
                              void (*xFinal)(sqlite3_context*), void (*xDestroy)(void*)) {
  const sqlite3_api_routines* real = g_libs[S].real;
  if (xFunc == nullptr && xStep == nullptr && xFinal == nullptr) {  // deletes the function
    return real->create_function_v2(db, name, nArg, eTextRep, user, nullptr, nullptr, nullptr, xDestroy);
  }
  FnWrap* w = new (std::nothrow) FnWrap{xFunc, xStep, xFinal, xDestroy, user};
  if (w == nullptr) {
    if (xDestroy != nullptr) xDestroy(user);
    return SQLITE_NOMEM;
  }
  // SQLite calls fn_destroy when the function is replaced, deleted or the connection closes,
  // and when this registration fails.
  return real->create_function_v2(db, name, nArg, eTextRep, w, xFunc ? fn_func<S> : nullptr,
                                  xStep ? fn_step<S> : nullptr, xFinal ? fn_final<S> : nullptr, fn_destroy);
}
template <int S>
int routed_create_function(sqlite3* db, const char* name, int nArg, int eTextRep, void* user,
                           void (*xFunc)(sqlite3_context*, int, sqlite3_value**),
                           void (*xStep)(sqlite3_context*, int, sqlite3_value**),
                           void (*xFinal)(sqlite3_context*)) {
  return routed_create_function_v2<S>(db, name, nArg, eTextRep, user, xFunc, xStep, xFinal, nullptr);
}

struct ModWrap {
  sqlite3_module mod;  // first: sqlite3_vtab.pModule points here
  const sqlite3_module* orig;
  void* aux;
  void (*xDestroyAux)(void*);
  const sqlite3_api_routines* routed;
};

const sqlite3_module* orig_of(sqlite3_vtab* vt) {
  const ModWrap* w = reinterpret_cast<const ModWrap*>(vt->pModule);
  t_routines = w->routed;
  return w->orig;
}
const sqlite3_module* orig_of(sqlite3_vtab_cursor* cur) { return orig_of(cur->pVtab); }

int mod_create(sqlite3* db, void* aux, int argc, const char* const* argv, sqlite3_vtab** pp, char** err) {
  ModWrap* w = static_cast<ModWrap*>(aux);
  t_routines = w->routed;
  return w->orig->xCreate(db, w->aux, argc, argv, pp, err);
}
int mod_connect(sqlite3* db, void* aux, int argc, const char* const* argv, sqlite3_vtab** pp, char** err) {
  ModWrap* w = static_cast<ModWrap*>(aux);
  t_routines = w->routed;
  return w->orig->xConnect(db, w->aux, argc, argv, pp, err);
}
int mod_best_index(sqlite3_vtab* vt, sqlite3_index_info* info) { return orig_of(vt)->xBestIndex(vt, info); }
int mod_disconnect(sqlite3_vtab* vt) { return orig_of(vt)->xDisconnect(vt); }
int mod_destroy(sqlite3_vtab* vt) { return orig_of(vt)->xDestroy(vt); }
int mod_open(sqlite3_vtab* vt, sqlite3_vtab_cursor** pp) { return orig_of(vt)->xOpen(vt, pp); }
int mod_close(sqlite3_vtab_cursor* c) { return orig_of(c)->xClose(c); }
int mod_filter(sqlite3_vtab_cursor* c, int idxNum, const char* idxStr, int argc, sqlite3_value** argv) {
  return orig_of(c)->xFilter(c, idxNum, idxStr, argc, argv);
}
int mod_next(sqlite3_vtab_cursor* c) { return orig_of(c)->xNext(c); }
int mod_eof(sqlite3_vtab_cursor* c) { return orig_of(c)->xEof(c); }
int mod_column(sqlite3_vtab_cursor* c, sqlite3_context* ctx, int i) { return orig_of(c)->xColumn(c, ctx, i); }
int mod_rowid(sqlite3_vtab_cursor* c, sqlite3_int64* r) { return orig_of(c)->xRowid(c, r); }
int mod_update(sqlite3_vtab* vt, int argc, sqlite3_value** argv, sqlite3_int64* r) { return orig_of(vt)->xUpdate(vt, argc, argv, r); }
int mod_begin(sqlite3_vtab* vt) { return orig_of(vt)->xBegin(vt); }
int mod_sync(sqlite3_vtab* vt) { return orig_of(vt)->xSync(vt); }
int mod_commit(sqlite3_vtab* vt) { return orig_of(vt)->xCommit(vt); }
int mod_rollback(sqlite3_vtab* vt) { return orig_of(vt)->xRollback(vt); }
int mod_rename(sqlite3_vtab* vt, const char* name) { return orig_of(vt)->xRename(vt, name); }
int mod_savepoint(sqlite3_vtab* vt, int i) { return orig_of(vt)->xSavepoint(vt, i); }
int mod_release(sqlite3_vtab* vt, int i) { return orig_of(vt)->xRelease(vt, i); }
int mod_rollback_to(sqlite3_vtab* vt, int i) { return orig_of(vt)->xRollbackTo(vt, i); }
int mod_integrity(sqlite3_vtab* vt, const char* schema, const char* table, int flags, char** err) {
  return orig_of(vt)->xIntegrity(vt, schema, table, flags, err);
}
void mod_destroy_aux(void* p) {
  ModWrap* w = static_cast<ModWrap*>(p);
  if (w->xDestroyAux != nullptr) w->xDestroyAux(w->aux);
  delete w;
}

// A copy of `m` whose methods route through the trampolines above (null stays null; xCreate ==
// xConnect, which makes a module eponymous, is kept).
void route_module(ModWrap* w, const sqlite3_module* m) {
  sqlite3_module& r = w->mod;
  r = *m;
  if (m->xConnect) r.xConnect = mod_connect;
  if (m->xCreate) r.xCreate = m->xCreate == m->xConnect ? mod_connect : mod_create;
  if (m->xBestIndex) r.xBestIndex = mod_best_index;
  if (m->xDisconnect) r.xDisconnect = mod_disconnect;
  if (m->xDestroy) r.xDestroy = m->xDestroy == m->xDisconnect ? mod_disconnect : mod_destroy;
  if (m->xOpen) r.xOpen = mod_open;
  if (m->xClose) r.xClose = mod_close;
  if (m->xFilter) r.xFilter = mod_filter;
  if (m->xNext) r.xNext = mod_next;
  if (m->xEof) r.xEof = mod_eof;
  if (m->xColumn) r.xColumn = mod_column;
  if (m->xRowid) r.xRowid = mod_rowid;
  if (m->xUpdate) r.xUpdate = mod_update;
  if (m->xBegin) r.xBegin = mod_begin;
  if (m->xSync) r.xSync = mod_sync;
  if (m->xCommit) r.xCommit = mod_commit;
  if (m->xRollback) r.xRollback = mod_rollback;
  // A function overloaded by a module would be called with user data that is not a FnWrap.
  r.xFindFunction = nullptr;
  if (m->xRename) r.xRename = mod_rename;
  if (m->iVersion >= 2) {
    if (m->xSavepoint) r.xSavepoint = mod_savepoint;
    if (m->xRelease) r.xRelease = mod_release;
    if (m->xRollbackTo) r.xRollbackTo = mod_rollback_to;
  }
  // xShadowName only compares names, it never calls SQLite: kept as is.
  if (m->iVersion >= 4 && m->xIntegrity) r.xIntegrity = mod_integrity;
}

template <int S>
int routed_create_module_v2(sqlite3* db, const char* name, const sqlite3_module* m, void* aux,
                            void (*xDestroy)(void*)) {
  const sqlite3_api_routines* real = g_libs[S].real;
  if (m == nullptr) return real->create_module_v2(db, name, nullptr, aux, xDestroy);
  ModWrap* w = new (std::nothrow) ModWrap{};
  if (w == nullptr) {
    if (xDestroy != nullptr) xDestroy(aux);
    return SQLITE_NOMEM;
  }
  route_module(w, m);
  w->orig = m;
  w->aux = aux;
  w->xDestroyAux = xDestroy;
  w->routed = &g_libs[S].routed;
  // SQLite calls mod_destroy_aux when the module is replaced or the connection closes, and
  // when this registration fails.
  return real->create_module_v2(db, name, &w->mod, w, mod_destroy_aux);
}
template <int S>
int routed_create_module(sqlite3* db, const char* name, const sqlite3_module* m, void* aux) {
  return routed_create_module_v2<S>(db, name, m, aux, nullptr);
}

// Bytes of a routine table that a library of `version` has: its table ends with the last
// group of routines it knows (sqlite3ext.h appends each release's routines at the end).
size_t table_bytes(int version) {
  if (version >= 3052000) return sizeof(sqlite3_api_routines);
  if (version >= 3051000) return offsetof(sqlite3_api_routines, str_truncate);
  if (version >= 3050000) return offsetof(sqlite3_api_routines, set_errmsg);
  if (version >= 3044000) return offsetof(sqlite3_api_routines, setlk_timeout);
  if (version >= 3043000) return offsetof(sqlite3_api_routines, get_clientdata);
  if (version >= 3041000) return offsetof(sqlite3_api_routines, stmt_explain);
  if (version >= 3040000) return offsetof(sqlite3_api_routines, is_interrupted);
  if (version >= 3039000) return offsetof(sqlite3_api_routines, value_encoding);
  return offsetof(sqlite3_api_routines, deserialize);  // 3.38 (older ones are refused at init)
}

template <int S>
void fill_slot(const sqlite3_api_routines* pApi) {
  Library& lib = g_libs[S];
  lib.real = pApi;
  std::memcpy(&lib.routed, pApi, table_bytes(pApi->libversion_number()));
  lib.routed.create_function = routed_create_function<S>;
  lib.routed.create_function_v2 = routed_create_function_v2<S>;
  lib.routed.create_module = routed_create_module<S>;
  lib.routed.create_module_v2 = routed_create_module_v2<S>;
  lib.routed.user_data = fn_user_data<S>;
}

template <int... S>
void fill_slot_n(int n, const sqlite3_api_routines* pApi, std::integer_sequence<int, S...>) {
  ((n == S ? fill_slot<S>(pApi) : void()), ...);
}

}  // namespace

// Selects (binding on first use) the routing table of the library `pApi` for this thread.
int bind_library(char** pzErrMsg, const sqlite3_api_routines* pApi) {
  if (pApi == nullptr) return SQLITE_ERROR;
  std::lock_guard<std::mutex> lock(g_libs_mutex);
  const int n = g_nlibs.load(std::memory_order_relaxed);
  for (int i = 0; i < n; i++) {
    if (g_libs[i].real == pApi) {
      t_routines = &g_libs[i].routed;
      return SQLITE_OK;
    }
  }
  if (n == kMaxLibraries) {
    if (pzErrMsg != nullptr) {
      *pzErrMsg = pApi->mprintf("vecsqlite: more than %d different SQLite libraries in this process", kMaxLibraries);
    }
    return SQLITE_ERROR;
  }
  fill_slot_n(n, pApi, std::make_integer_sequence<int, kMaxLibraries>{});
  g_nlibs.store(n + 1, std::memory_order_release);
  if (n == 0) g_first_routines.store(&g_libs[0].routed, std::memory_order_relaxed);
  t_routines = &g_libs[n].routed;
  return SQLITE_OK;
}

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
