// vec0 partition keys, metadata and auxiliary columns: values, chunk layouts, filters.
// See vec0_metadata.h.
#include "sqlite/vec0/vec0_metadata.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "sqlite/codec.h"

namespace vecsqlite {
namespace vec0 {

const char* meta_type_name(MetaType t) {
  switch (t) {
    case MetaType::boolean: return "BOOLEAN";
    case MetaType::integer: return "INTEGER";
    case MetaType::real: return "FLOAT";
    case MetaType::text: return "TEXT";
  }
  return "?";
}
const char* aux_type_name(AuxType t) {
  switch (t) {
    case AuxType::text: return "TEXT";
    case AuxType::integer: return "INTEGER";
    case AuxType::real: return "FLOAT";
    case AuxType::blob: return "BLOB";
  }
  return "?";
}

Value value_of(sqlite3_value* v) {
  Value out;
  out.type = sqlite3_value_type(v);
  switch (out.type) {
    case SQLITE_INTEGER: out.i = sqlite3_value_int64(v); break;
    case SQLITE_FLOAT: out.d = sqlite3_value_double(v); break;
    case SQLITE_TEXT: {
      const unsigned char* p = sqlite3_value_text(v);
      const int n = sqlite3_value_bytes(v);
      if (p != nullptr && n > 0) out.s.assign(reinterpret_cast<const char*>(p), static_cast<size_t>(n));
      break;
    }
    case SQLITE_BLOB: {
      const void* p = sqlite3_value_blob(v);
      const int n = sqlite3_value_bytes(v);
      if (p != nullptr && n > 0) out.s.assign(static_cast<const char*>(p), static_cast<size_t>(n));
      break;
    }
    default: out.type = SQLITE_NULL; break;
  }
  return out;
}

void result_value(sqlite3_context* ctx, const Value& v) {
  switch (v.type) {
    case SQLITE_INTEGER: sqlite3_result_int64(ctx, v.i); break;
    case SQLITE_FLOAT: sqlite3_result_double(ctx, v.d); break;
    case SQLITE_TEXT: sqlite3_result_text(ctx, v.s.data(), static_cast<int>(v.s.size()), SQLITE_TRANSIENT); break;
    case SQLITE_BLOB: sqlite3_result_blob(ctx, v.s.data(), static_cast<int>(v.s.size()), SQLITE_TRANSIENT); break;
    default: sqlite3_result_null(ctx); break;
  }
}

void bind_value(sqlite3_stmt* st, int idx, const Value& v) {
  switch (v.type) {
    case SQLITE_INTEGER: sqlite3_bind_int64(st, idx, v.i); break;
    case SQLITE_FLOAT: sqlite3_bind_double(st, idx, v.d); break;
    case SQLITE_TEXT: sqlite3_bind_text(st, idx, v.s.data(), static_cast<int>(v.s.size()), SQLITE_TRANSIENT); break;
    case SQLITE_BLOB: sqlite3_bind_blob(st, idx, v.s.data(), static_cast<int>(v.s.size()), SQLITE_TRANSIENT); break;
    default: sqlite3_bind_null(st, idx); break;
  }
}

namespace {
int type_rank(int ty) {
  switch (ty) {
    case SQLITE_NULL: return 0;
    case SQLITE_INTEGER:
    case SQLITE_FLOAT: return 1;
    case SQLITE_TEXT: return 2;
    default: return 3;
  }
}
// Integer vs double without precision loss for the cases that matter (|i| < 2^53 exact).
int cmp_int_double(int64_t i, double d) {
  if (std::isnan(d)) return 1;
  if (d >= 9223372036854775808.0) return -1;
  if (d < -9223372036854775808.0) return 1;
  const double fl = std::floor(d);
  const int64_t di = static_cast<int64_t>(fl);
  if (i < di) return -1;
  if (i > di) return 1;
  return fl < d ? -1 : 0;
}
}  // namespace

int compare_values(const Value& a, const Value& b) {
  const int ra = type_rank(a.type), rb = type_rank(b.type);
  if (ra != rb) return ra < rb ? -1 : 1;
  if (ra == 0) return 0;
  if (ra == 1) {
    if (a.type == SQLITE_INTEGER && b.type == SQLITE_INTEGER) return a.i < b.i ? -1 : a.i > b.i ? 1 : 0;
    if (a.type == SQLITE_FLOAT && b.type == SQLITE_FLOAT) return a.d < b.d ? -1 : a.d > b.d ? 1 : 0;
    if (a.type == SQLITE_INTEGER) return cmp_int_double(a.i, b.d);
    return -cmp_int_double(b.i, a.d);
  }
  return cmp_bytes(a.s, b.s);
}

bool tuple_less(const std::vector<Value>& a, const std::vector<Value>& b) {
  if (a.size() != b.size()) return a.size() < b.size();
  for (size_t i = 0; i < a.size(); i++) {
    if (a[i].type != b[i].type) return a[i].type < b[i].type;
    const int c = compare_values(a[i], b[i]);
    if (c != 0) return c < 0;
  }
  return false;
}

bool whole_integer(sqlite3_value* v, int64_t* out) {
  const int ty = sqlite3_value_type(v);
  if (ty == SQLITE_INTEGER) {
    *out = sqlite3_value_int64(v);
    return true;
  }
  if (ty == SQLITE_FLOAT) {
    const double d = sqlite3_value_double(v);
    if (std::isfinite(d) && d == std::floor(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0) {
      *out = static_cast<int64_t>(d);
      return true;
    }
  }
  return false;
}

bool check_metadata_value(const MetadataColumn& c, sqlite3_value* v, Value* out, std::string* err) {
  const int ty = sqlite3_value_type(v);
  if (ty == SQLITE_NULL) {  // vecsqlite: NULL metadata is stored (0.1.9 rejects it).
    *out = Value();
    return true;
  }
  switch (c.type) {
    case MetaType::boolean: {
      int64_t x;  // INTEGER 0 / 1, or a whole-number REAL (a JS number from better-sqlite3)
      if (whole_integer(v, &x) && (x == 0 || x == 1)) {
        out->type = SQLITE_INTEGER;
        out->i = x;
        return true;
      }
      *err = string_printf("Expected 0 or 1 for BOOLEAN metadata column %s", c.name.c_str());
      return false;
    }
    case MetaType::integer: {
      int64_t x;
      if (whole_integer(v, &x)) {
        out->type = SQLITE_INTEGER;
        out->i = x;
        return true;
      }
      *err = string_printf("Expected integer for INTEGER metadata column %s, received %s", c.name.c_str(),
                           value_type_name(ty));
      return false;
    }
    case MetaType::real:
      if (ty == SQLITE_FLOAT) {
        out->type = SQLITE_FLOAT;
        out->d = sqlite3_value_double(v);
        return true;
      }
      *err = string_printf("Expected float for FLOAT metadata column %s, received %s", c.name.c_str(),
                           value_type_name(ty));
      return false;
    case MetaType::text:
      if (ty == SQLITE_TEXT) {
        *out = value_of(v);
        return true;
      }
      *err = string_printf("Expected text for TEXT metadata column %s, received %s", c.name.c_str(),
                           value_type_name(ty));
      return false;
  }
  return false;
}

bool check_partition_value(const PartitionColumn& c, sqlite3_value* v, Value* out, std::string* err) {
  const int ty = sqlite3_value_type(v);
  if (ty == SQLITE_NULL) {
    *out = Value();
    return true;
  }
  if (c.text && ty == SQLITE_TEXT) {
    *out = value_of(v);
    return true;
  }
  int64_t x;
  if (!c.text && whole_integer(v, &x)) {
    out->type = SQLITE_INTEGER;
    out->i = x;
    return true;
  }
  *err = string_printf("Parition key type mismatch: The partition key column %s has type %s, but %s was provided.",
                       c.name.c_str(), c.text ? "TEXT" : "INTEGER", value_type_name(ty));
  return false;
}

bool check_aux_value(const AuxColumn& c, sqlite3_value* v, Value* out, std::string* err) {
  const int ty = sqlite3_value_type(v);
  bool ok = false;
  switch (c.type) {
    case AuxType::text: ok = ty == SQLITE_TEXT; break;
    case AuxType::real: ok = ty == SQLITE_FLOAT; break;
    case AuxType::blob: ok = ty == SQLITE_BLOB; break;
    case AuxType::integer: {
      int64_t x;
      if (ty != SQLITE_NULL && whole_integer(v, &x)) {
        out->type = SQLITE_INTEGER;
        out->i = x;
        return true;
      }
      break;
    }
  }
  if (ty == SQLITE_NULL || ok) {
    *out = value_of(v);
    return true;
  }
  *err = string_printf("Auxiliary column type mismatch: The auxiliary column %s has type %s, but %s was provided.",
                       c.name.c_str(), aux_type_name(c.type), value_type_name(ty));
  return false;
}

size_t meta_base_bytes(MetaType t, int cs) {
  const size_t n = static_cast<size_t>(cs);
  switch (t) {
    case MetaType::boolean: return n / 8;
    case MetaType::integer:
    case MetaType::real: return n * 8;
    case MetaType::text: return n * 16;
  }
  return 0;
}

bool decode_meta_chunk(MetaType t, int cs, const uint8_t* data, size_t n, MetaChunk* out) {
  const size_t base = meta_base_bytes(t, cs);
  const size_t tail = static_cast<size_t>(cs / 8);
  if (n != base && n != base + tail) return false;
  if (n > 0 && data == nullptr) return false;
  const size_t ns = static_cast<size_t>(cs);
  *out = MetaChunk();
  switch (t) {
    case MetaType::boolean:
      out->i.resize(ns);
      for (size_t j = 0; j < ns; j++) out->i[j] = (data[j / 8] >> (j % 8)) & 1;
      break;
    case MetaType::integer:
      out->i.resize(ns);
      std::memcpy(out->i.data(), data, ns * 8);
      break;
    case MetaType::real:
      out->d.resize(ns);
      std::memcpy(out->d.data(), data, ns * 8);
      break;
    case MetaType::text:
      out->s.resize(ns);
      for (size_t j = 0; j < ns; j++) {
        int32_t len;
        std::memcpy(&len, data + j * 16, 4);
        if (len <= 0) continue;
        // Longer strings are completed from the side table by the caller.
        const size_t k = std::min<size_t>(static_cast<size_t>(len), 12);
        out->s[j].assign(reinterpret_cast<const char*>(data + j * 16 + 4), k);
      }
      break;
  }
  if (n == base + tail) out->nulls.assign(data + base, data + base + tail);
  return true;
}

void set_meta_slot(MetaType t, MetaChunk* mc, int off, const Value& v) {
  const size_t j = static_cast<size_t>(off);
  const bool null = v.type == SQLITE_NULL;
  switch (t) {
    case MetaType::boolean:
    case MetaType::integer: mc->i[j] = null ? 0 : v.i; break;
    case MetaType::real: mc->d[j] = null ? 0 : v.d; break;
    case MetaType::text: mc->s[j] = null ? std::string() : v.s; break;
  }
  if (!mc->nulls.empty()) {
    if (null) mc->nulls[j / 8] = static_cast<uint8_t>(mc->nulls[j / 8] | (1u << (j % 8)));
    else mc->nulls[j / 8] = static_cast<uint8_t>(mc->nulls[j / 8] & ~(1u << (j % 8)));
  }
}

void slot_bytes(MetaType t, const MetaChunk& mc, int off, uint8_t buf[16], int* len, int* at) {
  const size_t j = static_cast<size_t>(off);
  std::memset(buf, 0, 16);
  switch (t) {
    case MetaType::boolean: {
      uint8_t b = 0;
      const size_t first = (j / 8) * 8;
      for (size_t q = 0; q < 8 && first + q < mc.i.size(); q++)
        if (mc.i[first + q]) b = static_cast<uint8_t>(b | (1u << q));
      buf[0] = b;
      *len = 1;
      *at = static_cast<int>(j / 8);
      return;
    }
    case MetaType::integer:
      std::memcpy(buf, &mc.i[j], 8);
      *len = 8;
      *at = static_cast<int>(j * 8);
      return;
    case MetaType::real:
      std::memcpy(buf, &mc.d[j], 8);
      *len = 8;
      *at = static_cast<int>(j * 8);
      return;
    case MetaType::text: {
      const int32_t n = static_cast<int32_t>(mc.s[j].size());
      std::memcpy(buf, &n, 4);
      std::memcpy(buf + 4, mc.s[j].data(), std::min<size_t>(mc.s[j].size(), 12));
      *len = 16;
      *at = static_cast<int>(j * 16);
      return;
    }
  }
}

void result_meta(sqlite3_context* ctx, MetaType t, const MetaChunk& mc, int off) {
  if (mc.is_null(off)) {
    sqlite3_result_null(ctx);
    return;
  }
  const size_t j = static_cast<size_t>(off);
  switch (t) {
    case MetaType::boolean:
    case MetaType::integer: sqlite3_result_int64(ctx, mc.i[j]); break;
    case MetaType::real: sqlite3_result_double(ctx, mc.d[j]); break;
    case MetaType::text:
      sqlite3_result_text(ctx, mc.s[j].data(), static_cast<int>(mc.s[j].size()), SQLITE_TRANSIENT);
      break;
  }
}

namespace {
std::string text_of(sqlite3_value* v) {
  const unsigned char* p = sqlite3_value_text(v);
  const int n = sqlite3_value_bytes(v);
  return p != nullptr && n > 0 ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
}
}  // namespace

int make_meta_filter(const MetadataColumn& c, int col, char op, sqlite3_value* v, MetaFilter* out) {
  out->col = col;
  out->op = op;
  out->type = c.type;
  if (op == 'n' || op == 'm') return SQLITE_OK;
  if (op == 'g') {
    sqlite3_value* x = nullptr;
    int rc;
    for (rc = sqlite3_vtab_in_first(v, &x); rc == SQLITE_OK && x != nullptr; rc = sqlite3_vtab_in_next(v, &x)) {
      if (sqlite3_value_type(x) == SQLITE_NULL) continue;  // never equal to anything
      if (c.type == MetaType::text) out->in_s.push_back(text_of(x));
      else out->in_i.push_back(sqlite3_value_int64(x));
    }
    if (rc != SQLITE_OK && rc != SQLITE_DONE) return rc;
    std::sort(out->in_i.begin(), out->in_i.end());
    std::sort(out->in_s.begin(), out->in_s.end(), [](const std::string& a, const std::string& b) { return cmp_bytes(a, b) < 0; });
    return SQLITE_OK;
  }
  if (sqlite3_value_type(v) == SQLITE_NULL) {
    out->null_target = true;
    return SQLITE_OK;
  }
  switch (c.type) {
    case MetaType::boolean: out->i = sqlite3_value_int64(v) != 0 ? 1 : 0; break;
    case MetaType::integer: out->i = sqlite3_value_int64(v); break;
    case MetaType::real: out->d = sqlite3_value_double(v); break;
    case MetaType::text: out->s = text_of(v); break;
  }
  return SQLITE_OK;
}

bool part_match(const PartFilter& f, const Value& v) {
  if (f.op == 'n') return v.type == SQLITE_NULL;
  if (f.op == 'm') return v.type != SQLITE_NULL;
  if (v.type == SQLITE_NULL) return false;
  if (f.op == 'g') {
    for (const Value& x : f.in)
      if (x.type != SQLITE_NULL && compare_values(v, x) == 0) return true;
    return false;
  }
  if (f.v.type == SQLITE_NULL) return false;
  return apply_op(f.op, compare_values(v, f.v), 0);
}

namespace {
// words[w] &= the bits j (of slots 64w + j < n) whose value satisfies `op target`; words that
// are already zero are skipped. The operator is fixed outside the loop.
template <typename V, typename T, typename Pred>
void and_bits(const std::vector<V>& vals, const T& target, size_t n, uint64_t* words, Pred pred) {
  for (size_t w = 0; 64 * w < n; w++) {
    if (words[w] == 0) continue;
    const size_t base = 64 * w, end = std::min(n, base + 64);
    uint64_t bits = 0;
    for (size_t j = base; j < end; j++) bits |= static_cast<uint64_t>(pred(vals[j], target)) << (j - base);
    words[w] &= bits;
  }
}
template <typename V, typename T>
void and_op(char op, const std::vector<V>& vals, const T& target, size_t n, uint64_t* words) {
  switch (op) {
    case 'a': and_bits(vals, target, n, words, [](const V& x, const T& y) { return x == y; }); break;
    case 'b': and_bits(vals, target, n, words, [](const V& x, const T& y) { return x > y; }); break;
    case 'c': and_bits(vals, target, n, words, [](const V& x, const T& y) { return x <= y; }); break;
    case 'd': and_bits(vals, target, n, words, [](const V& x, const T& y) { return x < y; }); break;
    case 'e': and_bits(vals, target, n, words, [](const V& x, const T& y) { return x >= y; }); break;
    case 'f': and_bits(vals, target, n, words, [](const V& x, const T& y) { return x != y; }); break;
    default: std::memset(words, 0, (n + 63) / 64 * sizeof(uint64_t)); break;
  }
}
// Word w of a chunk's null bitmap (n / 8 bytes, LSB first), zero-padded.
uint64_t null_word(const std::vector<uint8_t>& nulls, size_t w) {
  uint64_t x = 0;
  std::memcpy(&x, nulls.data() + 8 * w, std::min<size_t>(8, nulls.size() - 8 * w));
  return x;
}
}  // namespace

void chunk_mask(const std::vector<MetaFilter>& filters, const std::vector<MetaChunk>& meta, int n, uint64_t* words) {
  const size_t m = static_cast<size_t>(n);
  const size_t nw = (m + 63) / 64;
  for (const MetaFilter& f : filters) {
    const MetaChunk& mc = meta[static_cast<size_t>(f.col)];
    const bool has_nulls = !mc.nulls.empty();
    if (f.op == 'n' || f.op == 'm') {
      for (size_t w = 0; w < nw; w++) {
        const uint64_t nb = has_nulls ? null_word(mc.nulls, w) : 0;
        words[w] &= f.op == 'n' ? nb : ~nb;
      }
      continue;
    }
    if (f.null_target) {
      std::memset(words, 0, nw * sizeof(uint64_t));
      return;
    }
    if (f.op == 'g' || f.type == MetaType::text) {
      for (size_t w = 0; w < nw; w++) {
        for (uint64_t bits = words[w]; bits != 0; bits &= bits - 1) {
          const int j = static_cast<int>(64 * w) + __builtin_ctzll(bits);
          if (!meta_match(f, mc, j)) words[w] &= ~(uint64_t{1} << (j % 64));
        }
      }
      continue;  // meta_match already refuses NULL slots
    } else if (f.type == MetaType::real) {
      and_op(f.op, mc.d, f.d, m, words);
    } else {
      and_op(f.op, mc.i, f.i, m, words);
    }
    if (has_nulls)  // NULL slots never satisfy a comparison
      for (size_t w = 0; w < nw; w++) words[w] &= ~null_word(mc.nulls, w);
  }
}

}  // namespace vec0
}  // namespace vecsqlite
