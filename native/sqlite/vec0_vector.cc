// Vector values of the vec0 family: parsing, results, function flags (see vec0_vector.h).
#include "sqlite/vec0_vector.h"

#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdarg>
#include <cstdlib>
#include <cstring>

#include "kernels/kernels.h"

namespace vecsqlite {
namespace vec0 {

const char* element_type_name(ElementType t) {
  switch (t) {
    case ElementType::float32: return "float32";
    case ElementType::int8: return "int8";
    case ElementType::bit: return "bit";
  }
  return "unknown";
}

size_t vector_byte_size(ElementType t, size_t dims) {
  switch (t) {
    case ElementType::float32: return dims * sizeof(float);
    case ElementType::int8: return dims;
    case ElementType::bit: return dims / 8;
  }
  return 0;
}

void Vector::borrow(ElementType t, const uint8_t* p, size_t nbytes, size_t dims) {
  type_ = t;
  dims_ = dims;
  nbytes_ = nbytes;
  owned_ = false;
  borrowed_ = p;
  storage_.clear();
}

void Vector::own(ElementType t, std::vector<uint8_t>&& bytes, size_t dims) {
  type_ = t;
  dims_ = dims;
  nbytes_ = bytes.size();
  owned_ = true;
  borrowed_ = nullptr;
  storage_ = std::move(bytes);
}

void Vector::make_owned() {
  if (owned_) return;
  storage_.assign(borrowed_, borrowed_ + nbytes_);
  owned_ = true;
  borrowed_ = nullptr;
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

namespace {

// SQLite's names for a value's storage class, as the original prints them.
const char* value_type_name(int type) {
  switch (type) {
    case SQLITE_NULL: return "NULL";
    case SQLITE_INTEGER: return "INTEGER";
    case SQLITE_FLOAT: return "FLOAT";
    case SQLITE_TEXT: return "TEXT";
    default: return "BLOB";
  }
}

bool is_json_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// Skips leading whitespace and the '['. Returns the offset after '[', or -1 (error set).
long json_open(const char* s, long len, std::string* err) {
  long i = 0;
  while (i < len && is_json_space(s[i])) i++;
  if (i >= len || s[i] != '[') {
    *err = msg::kJsonStart;
    return -1;
  }
  return i + 1;
}

// After a number at `offset`: skips whitespace/comma runs. Returns true when a ']' ends the array.
bool json_after_number(const char* s, long len, long* offset) {
  while (*offset < len) {
    const char c = s[*offset];
    if (is_json_space(c) || c == ',') {
      (*offset)++;
      continue;
    }
    return c == ']';
  }
  return false;
}

// Lenient float32 JSON array (see the header). `s` is NUL-terminated (sqlite3_value_text).
int parse_json_f32(const char* s, long len, Vector* out, std::string* err) {
  long offset = json_open(s, len, err);
  if (offset < 0) return SQLITE_ERROR;
  std::vector<float> values;
  values.reserve(size_t(len / 2));
  while (offset < len) {
    const char* p = s + offset;
    char* end = nullptr;
    errno = 0;
    const double d = std::strtod(p, &end);
    if ((errno != 0 && d == 0) || (errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL))) {
      *err = msg::kJsonParse;
      return SQLITE_ERROR;
    }
    if (end == p) {
      if (*p != ']') {
        *err = msg::kJsonParse;
        return SQLITE_ERROR;
      }
      break;
    }
    values.push_back(float(d));
    offset += long(end - p);
    if (json_after_number(s, len, &offset)) break;
  }
  if (values.empty()) {
    *err = msg::kZeroLength;
    return SQLITE_ERROR;
  }
  std::vector<uint8_t> bytes(values.size() * sizeof(float));
  std::memcpy(bytes.data(), values.data(), bytes.size());
  out->own(ElementType::float32, std::move(bytes), values.size());
  return SQLITE_OK;
}

// Lenient int8 JSON array: integers (strtol base 10) in -128..127.
int parse_json_i8(const char* s, long len, Vector* out, std::string* err) {
  long offset = json_open(s, len, err);
  if (offset < 0) return SQLITE_ERROR;
  std::vector<uint8_t> values;
  while (offset < len) {
    const char* p = s + offset;
    char* end = nullptr;
    errno = 0;
    const long v = std::strtol(p, &end, 10);
    if ((errno != 0 && v == 0) || (errno == ERANGE && (v == LONG_MAX || v == LONG_MIN))) {
      *err = msg::kJsonParse;
      return SQLITE_ERROR;
    }
    if (end == p) {
      if (*p != ']') {
        *err = msg::kJsonParse;
        return SQLITE_ERROR;
      }
      break;
    }
    if (v < INT8_MIN || v > INT8_MAX) {
      *err = msg::kJsonInt8Range;
      return SQLITE_ERROR;
    }
    values.push_back(uint8_t(int8_t(v)));
    offset += long(end - p);
    if (json_after_number(s, len, &offset)) break;
  }
  if (values.empty()) {
    *err = msg::kZeroLength;
    return SQLITE_ERROR;
  }
  const size_t n = values.size();
  out->own(ElementType::int8, std::move(values), n);
  return SQLITE_OK;
}

// Rejects NaN / ±Inf elements (upstream HEAD behaviour, see the header).
int check_finite(const Vector& v, std::string* err) {
  const float* f = v.f32();
  // One pass with the active ISA's kernel (every insert and query vector goes through here),
  // then the slow loop only to name the first bad element.
  if (kernels().finite_f32(f, v.dims())) return SQLITE_OK;
  for (size_t i = 0; i < v.dims(); i++) {
    if (!std::isfinite(f[i])) {
      *err = string_printf(msg::kNonFinite, int(i), std::isnan(f[i]) ? "NaN" : "Inf");
      return SQLITE_ERROR;
    }
  }
  return SQLITE_OK;
}

int parse_f32(sqlite3_value* value, Vector* out, std::string* err) {
  const int type = sqlite3_value_type(value);
  int rc = SQLITE_OK;
  if (type == SQLITE_BLOB) {
    const int n = sqlite3_value_bytes(value);
    const uint8_t* p = static_cast<const uint8_t*>(sqlite3_value_blob(value));
    if (n == 0) {
      *err = msg::kZeroLength;
      return SQLITE_ERROR;
    }
    if (p == nullptr) return SQLITE_NOMEM;
    if (n % 4 != 0) {
      *err = string_printf(msg::kF32BlobLength, 4, n);
      return SQLITE_ERROR;
    }
    const bool aligned = reinterpret_cast<uintptr_t>(p) % alignof(float) == 0;
    if (aligned) {
      out->borrow(ElementType::float32, p, size_t(n), size_t(n) / 4);
    } else {
      out->own(ElementType::float32, std::vector<uint8_t>(p, p + n), size_t(n) / 4);
    }
  } else if (type == SQLITE_TEXT) {
    const char* s = reinterpret_cast<const char*>(sqlite3_value_text(value));
    const int n = sqlite3_value_bytes(value);
    if (s == nullptr) return SQLITE_NOMEM;
    if (n == 0) {
      *err = msg::kZeroLength;
      return SQLITE_ERROR;
    }
    rc = parse_json_f32(s, n, out, err);
  } else {
    *err = string_printf(msg::kWrongValueType, value_type_name(type));
    return SQLITE_ERROR;
  }
  if (rc == SQLITE_OK) rc = check_finite(*out, err);
  return rc;
}

int parse_i8(sqlite3_value* value, Vector* out, std::string* err) {
  const int type = sqlite3_value_type(value);
  if (type == SQLITE_BLOB) {
    const int n = sqlite3_value_bytes(value);
    const uint8_t* p = static_cast<const uint8_t*>(sqlite3_value_blob(value));
    if (n == 0) {
      *err = msg::kZeroLength;
      return SQLITE_ERROR;
    }
    if (p == nullptr) return SQLITE_NOMEM;
    out->borrow(ElementType::int8, p, size_t(n), size_t(n));
    return SQLITE_OK;
  }
  if (type == SQLITE_TEXT) {
    const char* s = reinterpret_cast<const char*>(sqlite3_value_text(value));
    const int n = sqlite3_value_bytes(value);
    if (s == nullptr) return SQLITE_NOMEM;
    if (n == 0) {
      *err = msg::kZeroLength;
      return SQLITE_ERROR;
    }
    return parse_json_i8(s, n, out, err);
  }
  *err = msg::kInt8Type;
  return SQLITE_ERROR;
}

int parse_bit(sqlite3_value* value, Vector* out, std::string* err) {
  if (sqlite3_value_type(value) != SQLITE_BLOB) {
    *err = msg::kBitType;
    return SQLITE_ERROR;
  }
  const int n = sqlite3_value_bytes(value);
  const uint8_t* p = static_cast<const uint8_t*>(sqlite3_value_blob(value));
  if (n == 0) {
    *err = msg::kZeroLength;
    return SQLITE_ERROR;
  }
  if (p == nullptr) return SQLITE_NOMEM;
  out->borrow(ElementType::bit, p, size_t(n), size_t(n) * 8);
  return SQLITE_OK;
}

}  // namespace

int parse_vector(sqlite3_value* value, ParseMode mode, Vector* out, std::string* err) {
  switch (mode) {
    case ParseMode::as_float32: return parse_f32(value, out, err);
    case ParseMode::as_int8: return parse_i8(value, out, err);
    case ParseMode::as_bit: return parse_bit(value, out, err);
    case ParseMode::by_subtype: break;
  }
  const unsigned subtype = sqlite3_value_subtype(value);
  if (subtype == 0 || subtype == unsigned(ElementType::float32) || subtype == kJsonSubtype) {
    return parse_f32(value, out, err);
  }
  if (subtype == unsigned(ElementType::bit)) return parse_bit(value, out, err);
  if (subtype == unsigned(ElementType::int8)) return parse_i8(value, out, err);
  *err = string_printf(msg::kUnknownSubtype, int(subtype));
  return SQLITE_ERROR;
}

void result_vector(sqlite3_context* ctx, ElementType t, const void* bytes, size_t nbytes) {
  sqlite3_result_blob64(ctx, bytes, sqlite3_uint64(nbytes), SQLITE_TRANSIENT);
  sqlite3_result_subtype(ctx, unsigned(t));
}

int function_flags(bool reads_subtype, bool sets_subtype) {
  int flags = kPureFunction;
  if (reads_subtype) flags |= SQLITE_SUBTYPE;
  if (sets_subtype && sqlite3_libversion_number() >= 3045000) flags |= SQLITE_RESULT_SUBTYPE;
  return flags;
}

}  // namespace vec0
}  // namespace vecsqlite
