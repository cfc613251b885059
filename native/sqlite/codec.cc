// The codec between SQL values and vectors; see codec.h.
#include "sqlite/codec.h"

#include <cctype>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace vecsqlite {

unsigned dtype_subtype(Dtype t) {
  switch (t) {
    case Dtype::f32: return kSubtypeF32;
    case Dtype::i8: return kSubtypeI8;
    case Dtype::u1: return kSubtypeBit;
  }
  return 0;
}

const char* value_type_name(int type) {
  switch (type) {
    case SQLITE_NULL: return "NULL";
    case SQLITE_INTEGER: return "INTEGER";
    case SQLITE_FLOAT: return "FLOAT";
    case SQLITE_TEXT: return "TEXT";
    default: return "BLOB";
  }
}

namespace {
bool host_is_little_endian() {
  const uint32_t one = 1;
  unsigned char b;
  std::memcpy(&b, &one, 1);
  return b == 1;
}
}  // namespace

DecodeStatus decode_f32_le(const void* bytes, size_t nbytes, std::vector<float>* scratch, const float** out,
                           size_t* dim) {
  if (bytes == nullptr || nbytes == 0) return DecodeStatus::empty;
  if (nbytes % 4 != 0) return DecodeStatus::bad_length;
  const size_t n = nbytes / 4;
  const bool aligned = (reinterpret_cast<uintptr_t>(bytes) % alignof(float)) == 0;
  if (host_is_little_endian() && aligned) {
    *out = static_cast<const float*>(bytes);
  } else {
    scratch->resize(n);
    const unsigned char* p = static_cast<const unsigned char*>(bytes);
    for (size_t i = 0; i < n; i++) {
      uint32_t bits = uint32_t(p[4 * i]) | (uint32_t(p[4 * i + 1]) << 8) | (uint32_t(p[4 * i + 2]) << 16) |
                      (uint32_t(p[4 * i + 3]) << 24);
      std::memcpy(&(*scratch)[i], &bits, 4);
    }
    *out = scratch->data();
  }
  *dim = n;
  return DecodeStatus::ok;
}


void Vector::borrow(Dtype t, const uint8_t* p, size_t nbytes, size_t dims) {
  type_ = t;
  dims_ = dims;
  nbytes_ = nbytes;
  owned_ = false;
  borrowed_ = p;
  storage_.clear();
}

void Vector::own(Dtype t, std::vector<uint8_t>&& bytes, size_t dims) {
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

namespace {

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
  out->own(Dtype::f32, std::move(bytes), values.size());
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
  out->own(Dtype::i8, std::move(values), n);
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
    std::vector<float> scratch;
    const float* f = nullptr;
    size_t dims = 0;
    decode_f32_le(p, size_t(n), &scratch, &f, &dims);  // ok: n > 0 and a multiple of 4
    if (f == reinterpret_cast<const float*>(p)) {
      out->borrow(Dtype::f32, p, size_t(n), dims);
    } else {
      std::vector<uint8_t> bytes(static_cast<size_t>(n));
      std::memcpy(bytes.data(), f, size_t(n));
      out->own(Dtype::f32, std::move(bytes), dims);
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
    out->borrow(Dtype::i8, p, size_t(n), size_t(n));
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
  out->borrow(Dtype::u1, p, size_t(n), size_t(n) * 8);
  return SQLITE_OK;
}

}  // namespace

int parse_vector_json(const char* s, long len, Dtype t, Vector* out, std::string* err) {
  if (len <= 0) {
    *err = msg::kZeroLength;
    return SQLITE_ERROR;
  }
  if (t == Dtype::i8) return parse_json_i8(s, len, out, err);
  if (t != Dtype::f32) {
    *err = msg::kBitType;
    return SQLITE_ERROR;
  }
  const int rc = parse_json_f32(s, len, out, err);
  return rc == SQLITE_OK ? check_finite(*out, err) : rc;
}

int parse_vector(sqlite3_value* value, ParseMode mode, Vector* out, std::string* err) {
  switch (mode) {
    case ParseMode::as_float32: return parse_f32(value, out, err);
    case ParseMode::as_int8: return parse_i8(value, out, err);
    case ParseMode::as_bit: return parse_bit(value, out, err);
    case ParseMode::by_subtype: break;
  }
  const unsigned subtype = sqlite3_value_subtype(value);
  if (subtype == 0 || subtype == kSubtypeF32 || subtype == kSubtypeJson) {
    return parse_f32(value, out, err);
  }
  if (subtype == kSubtypeBit) return parse_bit(value, out, err);
  if (subtype == kSubtypeI8) return parse_i8(value, out, err);
  *err = string_printf(msg::kUnknownSubtype, int(subtype));
  return SQLITE_ERROR;
}

void result_vector(sqlite3_context* ctx, Dtype t, const void* bytes, size_t nbytes) {
  sqlite3_result_blob64(ctx, bytes, sqlite3_uint64(nbytes), SQLITE_TRANSIENT);
  sqlite3_result_subtype(ctx, dtype_subtype(t));
}

int function_flags(bool reads_subtype, bool sets_subtype) {
  int flags = kPureFunction;
  if (reads_subtype) flags |= SQLITE_SUBTYPE;
  if (sets_subtype && sqlite3_libversion_number() >= 3045000) flags |= SQLITE_RESULT_SUBTYPE;
  return flags;
}



std::string trim_space(const std::string& s) {
  size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) a++;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) b--;
  return s.substr(a, b - a);
}

std::string value_text(sqlite3_value* v) {
  const unsigned char* p = sqlite3_value_text(v);
  return p ? std::string(reinterpret_cast<const char*>(p), size_t(sqlite3_value_bytes(v))) : std::string();
}

const char* value_go_type(sqlite3_value* v) {
  switch (sqlite3_value_type(v)) {
    case SQLITE_INTEGER: return "int64";
    case SQLITE_FLOAT: return "float64";
    case SQLITE_TEXT: return "string";
    case SQLITE_BLOB: return "[]uint8";
    default: return "<nil>";
  }
}

namespace {
bool parse_float(const std::string& s, float* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  const double d = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size()) return false;
  *out = float(d);
  return true;
}

bool parse_json_array(const std::string& s, std::vector<float>* out) {
  size_t i = 0;
  auto ws = [&] { while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) i++; };
  ws();
  if (i >= s.size() || s[i] != '[') return false;
  i++;
  ws();
  if (i < s.size() && s[i] == ']') return i + 1 == s.size() || trim_space(s.substr(i + 1)).empty();
  while (true) {
    ws();
    if (s.compare(i, 4, "null") == 0) {
      out->push_back(0.0f);
      i += 4;
    } else {
      const char* b = s.c_str() + i;
      char* e = nullptr;
      const double d = std::strtod(b, &e);
      if (e == b) return false;
      out->push_back(float(d));
      i += size_t(e - b);
    }
    ws();
    if (i >= s.size()) return false;
    if (s[i] == ',') { i++; continue; }
    if (s[i] == ']') { i++; break; }
    return false;
  }
  ws();
  return i == s.size();
}

bool parse_base64(const std::string& in, std::vector<uint8_t>* out) {
  std::string s;
  for (char c : in) if (c != '\r' && c != '\n') s.push_back(c);
  if (s.empty() || s.size() % 4 != 0) return false;
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  for (size_t i = 0; i < s.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; k++) {
      const char c = s[i + k];
      if (c == '=') {
        if (i + 4 != s.size() || k < 2) return false;
        v[k] = 0;
        pad++;
      } else {
        if (pad) return false;
        v[k] = val(c);
        if (v[k] < 0) return false;
      }
    }
    const uint32_t w = (uint32_t(v[0]) << 18) | (uint32_t(v[1]) << 12) | (uint32_t(v[2]) << 6) | uint32_t(v[3]);
    out->push_back(uint8_t(w >> 16));
    if (pad < 2) out->push_back(uint8_t(w >> 8));
    if (pad < 1) out->push_back(uint8_t(w));
  }
  return true;
}

// Decodes the MATCH value into q; on failure returns false with *err.
}  // namespace

bool parse_match_vector(sqlite3_value* v, std::vector<float>* q, std::string* err) {
  const int type = sqlite3_value_type(v);
  if (type == SQLITE_BLOB) {
    const int n = sqlite3_value_bytes(v);
    const float* p = nullptr;
    size_t dim = 0;
    std::vector<float> scratch;
    switch (decode_f32_le(sqlite3_value_blob(v), size_t(n), &scratch, &p, &dim)) {
      case DecodeStatus::empty: return true;
      case DecodeStatus::bad_length:
        *err = "vector: invalid embedding blob length " + std::to_string(n) + " (not multiple of 4)";
        return false;
      case DecodeStatus::ok: q->assign(p, p + dim); return true;
    }
  }
  if (type != SQLITE_TEXT) {
    *err = std::string("vec: expected MATCH arg as BLOB or string, got ") + value_go_type(v);
    return false;
  }
  const std::string s = trim_space(value_text(v));
  if (s.empty()) {
    *err = "vec: MATCH string is empty";
    return false;
  }
  if (s[0] == '[') {
    std::vector<float> j;
    if (parse_json_array(s, &j)) { *q = std::move(j); return true; }
  }
  std::vector<uint8_t> raw;
  if (parse_base64(s, &raw) && !raw.empty() && raw.size() % 4 == 0) {
    std::vector<float> scratch;
    const float* p = nullptr;
    size_t dim = 0;
    decode_f32_le(raw.data(), raw.size(), &scratch, &p, &dim);
    q->assign(p, p + dim);
    return true;
  }
  if (s.find(',') != std::string::npos) {
    size_t start = 0;
    while (start <= s.size()) {
      size_t c = s.find(',', start);
      if (c == std::string::npos) c = s.size();
      const std::string part = trim_space(s.substr(start, c - start));
      if (!part.empty()) {
        float f;
        if (!parse_float(part, &f)) {
          *err = "vec: invalid MATCH float \"" + part + "\": strconv.ParseFloat: parsing \"" + part + "\": invalid syntax";
          return false;
        }
        q->push_back(f);
      }
      start = c + 1;
    }
    if (!q->empty()) return true;
  }
  *err = "vec: MATCH string must be base64-encoded embedding or JSON/CSV float list";
  return false;
}

}  // namespace vecsqlite
