// vec_cosine(a, b) and vec_l2(a, b): the dataset-aware module's scalar distance functions
// (dataset-vec-design.md §3.1), computed with the SIMD kernels.
//
// Arguments, each:  NULL or X'' -> "no vector" (the result is then NULL);
//                   BLOB -> little-endian float32 array (codec.h), length must be a multiple of 4;
//                   TEXT / INTEGER / REAL -> error, named with the original's Go type names.
// vec_cosine returns the cosine similarity a.b / (|a| |b|) (REAL, highest = most similar);
// vec_l2 returns the Euclidean distance sqrt(sum (a_i - b_i)^2).
//
// Messages (byte-identical to the original):
//   vec: invalid embedding blob length <n>
//   vec: unsupported argument type string|int64|float64 for embedding; want BLOB
//   vec: cosine dim mismatch <la> vs <lb>          vec: L2 dim mismatch <la> vs <lb>
//   vec: cosine with zero-magnitude vector
// Divergence: where the original would return NaN (an input holding NaN or Inf), SQLite would
// turn the result into NULL silently; we raise "vec: <fn> result is not a number (an embedding
// holds NaN or Inf)" instead.
#include <cmath>
#include <vector>

#include "kernels/kernels.h"
#include "sqlite/codec.h"
#include "sqlite/ext.h"

namespace vecsqlite {
namespace {

// One decoded argument. `v == nullptr` means "no vector".
struct Arg {
  const float* v = nullptr;
  size_t dim = 0;
  std::vector<float> scratch;
};

// Decodes one argument; on error sets the context error and returns false.
bool read_arg(sqlite3_context* ctx, sqlite3_value* value, Arg* arg) {
  switch (sqlite3_value_type(value)) {
    case SQLITE_NULL:
      return true;
    case SQLITE_BLOB: {
      const int n = sqlite3_value_bytes(value);
      const void* p = sqlite3_value_blob(value);
      switch (decode_f32_le(p, size_t(n), &arg->scratch, &arg->v, &arg->dim)) {
        case DecodeStatus::ok:
        case DecodeStatus::empty:
          return true;
        case DecodeStatus::bad_length:
          result_errorf(ctx, "vec: invalid embedding blob length %d", n);
          return false;
      }
      return false;
    }
    case SQLITE_TEXT:
      sqlite3_result_error(ctx, "vec: unsupported argument type string for embedding; want BLOB", -1);
      return false;
    case SQLITE_INTEGER:
      sqlite3_result_error(ctx, "vec: unsupported argument type int64 for embedding; want BLOB", -1);
      return false;
    default:
      sqlite3_result_error(ctx, "vec: unsupported argument type float64 for embedding; want BLOB", -1);
      return false;
  }
}

// Decodes both arguments. Returns false when the result is already set: an error, or NULL
// because either side is "no vector". `what` names the function in the mismatch message.
bool read_pair(sqlite3_context* ctx, sqlite3_value** argv, const char* what, Arg* a, Arg* b) {
  if (!read_arg(ctx, argv[0], a) || !read_arg(ctx, argv[1], b)) return false;
  if (a->v == nullptr || b->v == nullptr) {
    sqlite3_result_null(ctx);
    return false;
  }
  if (a->dim != b->dim) {
    result_errorf(ctx, "vec: %s dim mismatch %d vs %d", what, int(a->dim), int(b->dim));
    return false;
  }
  return true;
}

void vec_cosine_fn(sqlite3_context* ctx, int, sqlite3_value** argv) {
  Arg a, b;
  if (!read_pair(ctx, argv, "cosine", &a, &b)) return;
  const CosParts p = kernels().cos_parts_f32(a.v, b.v, a.dim);
  if (p.aa == 0.0 || p.bb == 0.0) {
    sqlite3_result_error(ctx, "vec: cosine with zero-magnitude vector", -1);
    return;
  }
  const double sim = p.dot / (std::sqrt(p.aa) * std::sqrt(p.bb));
  if (std::isnan(sim)) {
    sqlite3_result_error(ctx, "vec: cosine result is not a number (an embedding holds NaN or Inf)", -1);
    return;
  }
  sqlite3_result_double(ctx, sim);
}

void vec_l2_fn(sqlite3_context* ctx, int, sqlite3_value** argv) {
  Arg a, b;
  if (!read_pair(ctx, argv, "L2", &a, &b)) return;
  const double d = std::sqrt(double(kernels().l2sq_f32(a.v, b.v, a.dim)));
  if (std::isnan(d)) {
    sqlite3_result_error(ctx, "vec: L2 result is not a number (an embedding holds NaN or Inf)", -1);
    return;
  }
  sqlite3_result_double(ctx, d);
}

}  // namespace

int register_dataset_functions(sqlite3* db, char** pzErr) {
  int rc = sqlite3_create_function_v2(db, "vec_cosine", 2, kPureFunction, nullptr, vec_cosine_fn,
                                      nullptr, nullptr, nullptr);
  if (rc == SQLITE_OK) {
    rc = sqlite3_create_function_v2(db, "vec_l2", 2, kPureFunction, nullptr, vec_l2_fn, nullptr,
                                    nullptr, nullptr);
  }
  if (rc != SQLITE_OK) *pzErr = sqlite3_mprintf("vecsqlite: cannot register vec_cosine/vec_l2: %s", sqlite3_errmsg(db));
  return rc;
}

}  // namespace vecsqlite
