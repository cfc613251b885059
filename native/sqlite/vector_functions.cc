// The 18 scalar vec_* functions of the vec0 family, drop-in compatible with sqlite-vec 0.1.9:
// same names, arities, result subtypes, error strings (typos included) and values.
//
//   vec_version()  vec_debug()                       text
//   vec_f32(v)  vec_int8(v)  vec_bit(v)              typed BLOB (subtype 223 / 225 / 224)
//   vec_length(v)  vec_type(v)                       dims / 'float32' | 'int8' | 'bit'
//   vec_distance_l2|l1|cosine|hamming(a, b)          REAL (l1 on int8: INTEGER)
//   vec_add(a, b)  vec_sub(a, b)  vec_normalize(v)  vec_slice(v, start, end)
//   vec_to_json(v)                                   TEXT, subtype 74 (JSON)
//   vec_quantize_binary(v)  vec_quantize_int8(v, 'unit')
//
// Numeric exactness. The original computes these one-to-one distances with scalar loops whose
// rounding its tests pin (e.g. cosine('[1.1,1.0]','[1.2,1.2]') = 0.001131898257881403, the f32
// L2 values in its expected outputs). A SIMD kernel sums in lanes and rounds differently, so:
//   * float32 L2 / cosine / normalize sum sequentially in float (as the original), sqrt in double;
//     float32 L1 accumulates |a_i - b_i| in double (difference taken in double).
//   * int8 L2 and cosine use the exact integer kernels when every partial sum is an integer below
//     2^24 (then a float running sum is exact too, so the result is bit-identical); otherwise the
//     sequential float loop. int8 L1 is an exact int64 sum.
//   * hamming uses the popcount kernel (an exact count).
// The vec0 table ranks with the block kernels instead (its tests compare within f32 rounding).
//
// vec_version() returns 'v0.1.9', the sqlite-vec release whose behaviour we reproduce (callers
// check its first character is 'v'); vecsqlite's own version is vecsqlite_version() and the
// "Commit:" line of vec_debug(). NaN / Inf inputs follow upstream HEAD: rejected by the parser
// (vec0_vector.h), so results are finite except cosine of a zero vector (NaN -> NULL, as the
// original) and vec_normalize of a zero vector (NaN elements, as the original).
#include <cmath>
#include <cstdint>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "kernels/kernels.h"
#include "sqlite/ext.h"
#include "sqlite/codec.h"
#include "version.h"

namespace vecsqlite {
namespace vector_functions {
namespace {

constexpr const char* kCompatVersion = "v0.1.9";

// Runs a function body; an allocation failure becomes SQLITE_NOMEM instead of an exception
// crossing into SQLite.
template <typename Body>
void guarded(sqlite3_context* ctx, Body body) {
  try {
    body();
  } catch (const std::bad_alloc&) {
    sqlite3_result_error_nomem(ctx);
  } catch (...) {
    sqlite3_result_error(ctx, "vecsqlite: internal error", -1);
  }
}

// Reports a failed parse: SQLITE_NOMEM, or `prefix_fmt` (a "%s" format, or nullptr) + message.
void report_parse_error(sqlite3_context* ctx, int rc, const std::string& err,
                        const char* prefix_fmt) {
  if (rc == SQLITE_NOMEM) {
    sqlite3_result_error_nomem(ctx);
  } else if (prefix_fmt != nullptr) {
    result_errorf(ctx, prefix_fmt, err.c_str());
  } else {
    sqlite3_result_error(ctx, err.c_str(), -1);
  }
}

bool read_one(sqlite3_context* ctx, sqlite3_value* value, ParseMode mode, Vector* out) {
  std::string err;
  const int rc = parse_vector(value, mode, out, &err);
  if (rc != SQLITE_OK) report_parse_error(ctx, rc, err, nullptr);
  return rc == SQLITE_OK;
}

// Both arguments by subtype, same type and dims (the original's ensure_vector_match).
bool read_pair(sqlite3_context* ctx, sqlite3_value** argv, Vector* a, Vector* b) {
  std::string err;
  int rc = parse_vector(argv[0], ParseMode::by_subtype, a, &err);
  if (rc != SQLITE_OK) {
    report_parse_error(ctx, rc, err, msg::kReadFirst);
    return false;
  }
  rc = parse_vector(argv[1], ParseMode::by_subtype, b, &err);
  if (rc != SQLITE_OK) {
    report_parse_error(ctx, rc, err, msg::kReadSecond);
    return false;
  }
  if (a->type() != b->type()) {
    result_errorf(ctx, msg::kTypeMismatch, dtype_name(a->type()),
                  dtype_name(b->type()));
    return false;
  }
  if (a->dims() != b->dims()) {
    result_errorf(ctx, msg::kDimMismatch, (long long)a->dims(), (long long)b->dims());
    return false;
  }
  return true;
}

// ---- scalar loops with the original's rounding (kept out of FMA contraction) ----------------

#if defined(__clang__)
#define VEC0_NO_CONTRACT _Pragma("clang fp contract(off)")
#define VEC0_NO_CONTRACT_FN
#elif defined(__GNUC__)
#define VEC0_NO_CONTRACT
#define VEC0_NO_CONTRACT_FN __attribute__((optimize("fp-contract=off")))
#else
#define VEC0_NO_CONTRACT
#define VEC0_NO_CONTRACT_FN
#endif

// sum (a_i - b_i)^2 in float, in element order.
template <typename T>
VEC0_NO_CONTRACT_FN float l2sq_sequential(const T* a, const T* b, size_t n) {
  VEC0_NO_CONTRACT
  float sum = 0.0f;
  for (size_t i = 0; i < n; i++) {
    const float d = float(a[i]) - float(b[i]);
    const float sq = d * d;
    sum += sq;
  }
  return sum;
}

struct CosSums {
  float dot, aa, bb;
};

template <typename T>
VEC0_NO_CONTRACT_FN CosSums cos_sequential(const T* a, const T* b, size_t n) {
  VEC0_NO_CONTRACT
  CosSums s{0.0f, 0.0f, 0.0f};
  for (size_t i = 0; i < n; i++) {
    const float ab = float(a[i]) * float(b[i]);
    const float a2 = float(a[i]) * float(a[i]);
    const float b2 = float(b[i]) * float(b[i]);
    s.dot += ab;
    s.aa += a2;
    s.bb += b2;
  }
  return s;
}

// 1 - dot / (sqrt(|a|^2) sqrt(|b|^2)), the division in double, the result rounded to float.
float cosine_from_sums(const CosSums& s) {
  return float(1.0 - double(s.dot) / (std::sqrt(double(s.aa)) * std::sqrt(double(s.bb))));
}

constexpr double kExactFloatInt = 16777216.0;  // 2^24: integers below it are exact in float

float l2_f32(const Vector& a, const Vector& b) {
  return float(std::sqrt(double(l2sq_sequential(a.f32(), b.f32(), a.dims()))));
}

float l2_i8(const Vector& a, const Vector& b) {
  // Every partial sum is bounded by the total, so a total below 2^24 means the float loop is exact.
  const int64_t exact = kernels().l2sq_i8(a.i8(), b.i8(), a.dims());
  const float sum = double(exact) < kExactFloatInt ? float(exact)
                                                   : l2sq_sequential(a.i8(), b.i8(), a.dims());
  return float(std::sqrt(double(sum)));
}

float cosine_f32(const Vector& a, const Vector& b) {
  return cosine_from_sums(cos_sequential(a.f32(), b.f32(), a.dims()));
}

float cosine_i8(const Vector& a, const Vector& b) {
  // |a_i b_i|, a_i^2 <= 16384, so with n <= 1024 every partial sum stays below 2^24 (exact).
  if (a.dims() <= 1024) {
    const CosParts p = kernels().cos_parts_i8(a.i8(), b.i8(), a.dims());
    return cosine_from_sums(CosSums{float(p.dot), float(p.aa), float(p.bb)});
  }
  return cosine_from_sums(cos_sequential(a.i8(), b.i8(), a.dims()));
}

// ---- functions --------------------------------------------------------------------------------

void vec_version_fn(sqlite3_context* ctx, int, sqlite3_value**) {
  sqlite3_result_text(ctx, kCompatVersion, -1, SQLITE_STATIC);
}

void vec_debug_fn(sqlite3_context* ctx, int, sqlite3_value**) {
  const Isa isa = kernels().isa;
  const char* avx = (isa == Isa::avx2 || isa == Isa::avx512) ? "avx" : "";
  const char* neon = isa == Isa::neon ? "neon" : "";
  char* s = sqlite3_mprintf("Version: %s\nDate: %s %s\nCommit: vecsqlite %s (%s)\nBuild flags: %s %s",
                            kCompatVersion, __DATE__, __TIME__, VECSQLITE_VERSION, isa_name(isa),
                            avx, neon);
  if (s == nullptr) {
    sqlite3_result_error_nomem(ctx);
    return;
  }
  sqlite3_result_text(ctx, s, -1, sqlite3_free);
}

void vec_f32_fn(sqlite3_context* ctx, int, sqlite3_value** argv) {
  guarded(ctx, [&] {
    Vector v;
    if (read_one(ctx, argv[0], ParseMode::as_float32, &v)) result_vector(ctx, v);
  });
}

void vec_int8_fn(sqlite3_context* ctx, int, sqlite3_value** argv) {
  guarded(ctx, [&] {
    Vector v;
    if (read_one(ctx, argv[0], ParseMode::as_int8, &v)) result_vector(ctx, v);
  });
}

void vec_bit_fn(sqlite3_context* ctx, int, sqlite3_value** argv) {
  guarded(ctx, [&] {
    Vector v;
    if (read_one(ctx, argv[0], ParseMode::as_bit, &v)) result_vector(ctx, v);
  });
}

void vec_length_fn(sqlite3_context* ctx, int, sqlite3_value** argv) {
  guarded(ctx, [&] {
    Vector v;
    if (read_one(ctx, argv[0], ParseMode::by_subtype, &v)) {
      sqlite3_result_int64(ctx, sqlite3_int64(v.dims()));
    }
  });
}

void vec_type_fn(sqlite3_context* ctx, int, sqlite3_value** argv) {
  guarded(ctx, [&] {
    Vector v;
    if (read_one(ctx, argv[0], ParseMode::by_subtype, &v)) {
      sqlite3_result_text(ctx, dtype_name(v.type()), -1, SQLITE_STATIC);
    }
  });
}

void vec_distance_l2_fn(sqlite3_context* ctx, int, sqlite3_value** argv) {
  guarded(ctx, [&] {
    Vector a, b;
    if (!read_pair(ctx, argv, &a, &b)) return;
    switch (a.type()) {
      case Dtype::f32: sqlite3_result_double(ctx, l2_f32(a, b)); return;
      case Dtype::i8: sqlite3_result_double(ctx, l2_i8(a, b)); return;
      case Dtype::u1: sqlite3_result_error(ctx, msg::kL2Bit, -1); return;
    }
  });
}

void vec_distance_l1_fn(sqlite3_context* ctx, int, sqlite3_value** argv) {
  guarded(ctx, [&] {
    Vector a, b;
    if (!read_pair(ctx, argv, &a, &b)) return;
    switch (a.type()) {
      case Dtype::f32: {
        const float* x = a.f32();
        const float* y = b.f32();
        double sum = 0.0;
        for (size_t i = 0; i < a.dims(); i++) sum += std::fabs(double(x[i]) - double(y[i]));
        sqlite3_result_double(ctx, sum);
        return;
      }
      case Dtype::i8: {
        const int8_t* x = a.i8();
        const int8_t* y = b.i8();
        int64_t sum = 0;
        for (size_t i = 0; i < a.dims(); i++) sum += std::abs(int(x[i]) - int(y[i]));
        sqlite3_result_int64(ctx, sum);
        return;
      }
      case Dtype::u1: sqlite3_result_error(ctx, msg::kL1Bit, -1); return;
    }
  });
}

void vec_distance_cosine_fn(sqlite3_context* ctx, int, sqlite3_value** argv) {
  guarded(ctx, [&] {
    Vector a, b;
    if (!read_pair(ctx, argv, &a, &b)) return;
    switch (a.type()) {
      case Dtype::f32: sqlite3_result_double(ctx, cosine_f32(a, b)); return;
      case Dtype::i8: sqlite3_result_double(ctx, cosine_i8(a, b)); return;
      case Dtype::u1: sqlite3_result_error(ctx, msg::kCosineBit, -1); return;
    }
  });
}

void vec_distance_hamming_fn(sqlite3_context* ctx, int, sqlite3_value** argv) {
  guarded(ctx, [&] {
    Vector a, b;
    if (!read_pair(ctx, argv, &a, &b)) return;
    switch (a.type()) {
      case Dtype::u1:
        sqlite3_result_double(ctx, float(kernels().hamming_u1(a.bits(), b.bits(), a.nbytes())));
        return;
      case Dtype::f32: sqlite3_result_error(ctx, msg::kHammingF32, -1); return;
      case Dtype::i8: sqlite3_result_error(ctx, msg::kHammingI8, -1); return;
    }
  });
}

// vec_add / vec_sub: element-wise in the input type; int8 wraps around (no saturation).
void add_or_sub(sqlite3_context* ctx, sqlite3_value** argv, bool subtract) {
  guarded(ctx, [&] {
    Vector a, b;
    if (!read_pair(ctx, argv, &a, &b)) return;
    const size_t n = a.dims();
    switch (a.type()) {
      case Dtype::f32: {
        std::vector<float> out(n);
        for (size_t i = 0; i < n; i++) out[i] = subtract ? a.f32()[i] - b.f32()[i] : a.f32()[i] + b.f32()[i];
        result_vector(ctx, Dtype::f32, out.data(), n * sizeof(float));
        return;
      }
      case Dtype::i8: {
        std::vector<uint8_t> out(n);
        for (size_t i = 0; i < n; i++) {
          const int r = subtract ? int(a.i8()[i]) - int(b.i8()[i]) : int(a.i8()[i]) + int(b.i8()[i]);
          out[i] = uint8_t(unsigned(r) & 0xffu);
        }
        result_vector(ctx, Dtype::i8, out.data(), n);
        return;
      }
      case Dtype::u1:
        sqlite3_result_error(ctx, subtract ? msg::kSubBit : msg::kAddBit, -1);
        return;
    }
  });
}

void vec_add_fn(sqlite3_context* ctx, int, sqlite3_value** argv) { add_or_sub(ctx, argv, false); }
void vec_sub_fn(sqlite3_context* ctx, int, sqlite3_value** argv) { add_or_sub(ctx, argv, true); }

VEC0_NO_CONTRACT_FN void normalize_into(const float* v, size_t n, float* out) {
  VEC0_NO_CONTRACT
  float sq = 0.0f;
  for (size_t i = 0; i < n; i++) {
    const float p = v[i] * v[i];
    sq += p;
  }
  const float norm = float(std::sqrt(double(sq)));
  for (size_t i = 0; i < n; i++) out[i] = v[i] / norm;
}

void vec_normalize_fn(sqlite3_context* ctx, int, sqlite3_value** argv) {
  guarded(ctx, [&] {
    Vector v;
    if (!read_one(ctx, argv[0], ParseMode::by_subtype, &v)) return;
    if (v.type() != Dtype::f32) {
      sqlite3_result_error(ctx, msg::kNormalizeType, -1);
      return;
    }
    std::vector<float> out(v.dims());
    normalize_into(v.f32(), v.dims(), out.data());
    result_vector(ctx, Dtype::f32, out.data(), out.size() * sizeof(float));
  });
}

void vec_slice_fn(sqlite3_context* ctx, int, sqlite3_value** argv) {
  guarded(ctx, [&] {
    Vector v;
    if (!read_one(ctx, argv[0], ParseMode::by_subtype, &v)) return;
    const int start = sqlite3_value_int(argv[1]);
    const int end = sqlite3_value_int(argv[2]);
    const char* err = nullptr;
    if (start < 0) err = msg::kSliceStartNeg;
    else if (end < 0) err = msg::kSliceEndNeg;
    else if (size_t(start) > v.dims()) err = msg::kSliceStartBig;
    else if (size_t(end) > v.dims()) err = msg::kSliceEndBig;
    else if (start > end) err = msg::kSliceOrder;
    else if (start == end) err = msg::kSliceEmpty;
    else if (v.type() == Dtype::u1 && start % 8 != 0) err = msg::kSliceStartBit;
    else if (v.type() == Dtype::u1 && end % 8 != 0) err = msg::kSliceEndBit;
    if (err != nullptr) {
      sqlite3_result_error(ctx, err, -1);
      return;
    }
    const size_t first = dtype_row_bytes(v.type(), size_t(start));
    const size_t last = dtype_row_bytes(v.type(), size_t(end));
    result_vector(ctx, v.type(), v.bytes() + first, last - first);
  });
}

void vec_to_json_fn(sqlite3_context* ctx, int, sqlite3_value** argv) {
  guarded(ctx, [&] {
    Vector v;
    if (!read_one(ctx, argv[0], ParseMode::by_subtype, &v)) return;
    std::string out = "[";
    char buf[80];
    for (size_t i = 0; i < v.dims(); i++) {
      if (i != 0) out += ',';
      switch (v.type()) {
        case Dtype::f32: {
          const float x = v.f32()[i];
          if (std::isnan(x)) {
            out += "null";
          } else {
            sqlite3_snprintf(int(sizeof buf), buf, "%f", double(x));  // SQLite's %f, as the original
            out += buf;
          }
          break;
        }
        case Dtype::i8:
          sqlite3_snprintf(int(sizeof buf), buf, "%d", int(v.i8()[i]));
          out += buf;
          break;
        case Dtype::u1:
          out += ((v.bits()[i / 8] >> (i % 8)) & 1) ? '1' : '0';
          break;
      }
    }
    out += ']';
    sqlite3_result_text64(ctx, out.data(), sqlite3_uint64(out.size()), SQLITE_TRANSIENT, SQLITE_UTF8);
    sqlite3_result_subtype(ctx, kSubtypeJson);
  });
}

void vec_quantize_binary_fn(sqlite3_context* ctx, int, sqlite3_value** argv) {
  guarded(ctx, [&] {
    Vector v;
    if (!read_one(ctx, argv[0], ParseMode::by_subtype, &v)) return;
    if (v.type() == Dtype::u1) {
      sqlite3_result_error(ctx, msg::kQuantizeBinaryType, -1);
      return;
    }
    if (v.dims() % 8 != 0) {
      sqlite3_result_error(ctx, msg::kQuantizeBinaryDims, -1);
      return;
    }
    std::vector<uint8_t> out(v.dims() / 8, 0);
    for (size_t i = 0; i < v.dims(); i++) {
      const bool one = v.type() == Dtype::f32 ? v.f32()[i] > 0.0f : v.i8()[i] > 0;
      if (one) out[i / 8] |= uint8_t(1u << (i % 8));
    }
    result_vector(ctx, Dtype::u1, out.data(), out.size());
  });
}

void vec_quantize_int8_fn(sqlite3_context* ctx, int, sqlite3_value** argv) {
  guarded(ctx, [&] {
    Vector v;
    if (!read_one(ctx, argv[0], ParseMode::as_float32, &v)) return;
    const char* mode = reinterpret_cast<const char*>(sqlite3_value_text(argv[1]));
    if (sqlite3_value_type(argv[1]) != SQLITE_TEXT || mode == nullptr ||
        sqlite3_value_bytes(argv[1]) != 4 || sqlite3_stricmp(mode, "unit") != 0) {
      sqlite3_result_error(ctx, msg::kQuantizeInt8Unit, -1);
      return;
    }
    // 'unit': [-1, 1] onto [-128, 127] in steps of float(2/255), truncated toward zero, clamped.
    const float step = float((1.0 - (-1.0)) / 255);
    std::vector<uint8_t> out(v.dims());
    for (size_t i = 0; i < v.dims(); i++) {
      double q = (double(v.f32()[i]) + 1.0) / double(step) - 128.0;
      if (q > 127.0) q = 127.0;
      if (q < -128.0) q = -128.0;
      out[i] = uint8_t(int8_t(int(q)));
    }
    result_vector(ctx, Dtype::i8, out.data(), out.size());
  });
}

struct FunctionSpec {
  const char* name;
  int nargs;
  void (*fn)(sqlite3_context*, int, sqlite3_value**);
  bool reads_subtype;
  bool sets_subtype;
};

// The 18 functions, each registered once with one arity: exactly the set sqlite-vec 0.1.9
// registers, so code that checks what loading the extension added sees the same list. Flags as the
// original's (pragma_function_list shows the same), except that vec_type also declares
// SQLITE_SUBTYPE: it reads its argument's subtype, and SQLite >= 3.45 may hide subtypes from
// functions that do not declare it. vec_f32 / vec_quantize_int8 ignore subtypes but declare the
// flag as the original does.
const FunctionSpec kFunctions[] = {
    {"vec_version", 0, vec_version_fn, false, false},
    {"vec_debug", 0, vec_debug_fn, false, false},
    {"vec_f32", 1, vec_f32_fn, true, true},
    {"vec_int8", 1, vec_int8_fn, true, true},
    {"vec_bit", 1, vec_bit_fn, true, true},
    {"vec_length", 1, vec_length_fn, true, false},
    {"vec_type", 1, vec_type_fn, true, false},
    {"vec_distance_l2", 2, vec_distance_l2_fn, true, false},
    {"vec_distance_l1", 2, vec_distance_l1_fn, true, false},
    {"vec_distance_cosine", 2, vec_distance_cosine_fn, true, false},
    {"vec_distance_hamming", 2, vec_distance_hamming_fn, true, false},
    {"vec_add", 2, vec_add_fn, true, true},
    {"vec_sub", 2, vec_sub_fn, true, true},
    {"vec_normalize", 1, vec_normalize_fn, true, true},
    {"vec_slice", 3, vec_slice_fn, true, true},
    {"vec_to_json", 1, vec_to_json_fn, true, true},
    {"vec_quantize_binary", 1, vec_quantize_binary_fn, true, true},
    {"vec_quantize_int8", 2, vec_quantize_int8_fn, true, true},
};

}  // namespace
}  // namespace vector_functions

int register_vec_each_module(sqlite3* db, char** pzErr);  // vtab_vec_each.cc

int register_vec0_functions(sqlite3* db, char** pzErr) {
  int rc = SQLITE_OK;
  for (const vector_functions::FunctionSpec& f : vector_functions::kFunctions) {
    if (rc != SQLITE_OK) break;
    rc = sqlite3_create_function_v2(db, f.name, f.nargs,
                                    function_flags(f.reads_subtype, f.sets_subtype), nullptr,
                                    f.fn, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) {
      *pzErr = sqlite3_mprintf("vecsqlite: cannot register %s: %s", f.name, sqlite3_errmsg(db));
    }
  }
  if (rc == SQLITE_OK) rc = register_vec_each_module(db, pzErr);
  return rc;
}

}  // namespace vecsqlite
