// vec0 configuration: the CREATE VIRTUAL TABLE arguments, parsed the way sqlite-vec 0.1.9
// parses them (same accepted spellings, same error messages), and the declared columns.
//
//   name float[N] | int8[N] | bit[N] [distance_metric=l2|l1|cosine] [indexed by flat()]
//   name integer|text partition key        (up to 4)
//   name integer|text primary key          (one)
//   +name text|integer|float|blob          auxiliary (up to 16)
//   name boolean|integer|float|text        metadata (up to 16)
//   chunk_size=N                           (a multiple of 8, at most 4096)
#include <cstdlib>
#include <cstring>

#include "sqlite/vec0/vec0_int.h"

namespace vecsqlite {
namespace vec0 {
namespace {

// ---- CREATE argument parsing -----------------------------------------------------------------
enum class Tok { ident, number, lbracket, rbracket, eq, lparen, rparen, comma, plus, end, bad };
struct Token {
  Tok kind;
  std::string text;
};

std::vector<Token> tokenize(const std::string& s) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') { i++; continue; }
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) {
      size_t j = i + 1;
      while (j < s.size() && (isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_')) j++;
      out.push_back({Tok::ident, s.substr(i, j - i)});
      i = j;
      continue;
    }
    if (c >= '0' && c <= '9') {
      size_t j = i + 1;
      while (j < s.size() && s[j] >= '0' && s[j] <= '9') j++;
      out.push_back({Tok::number, s.substr(i, j - i)});
      i = j;
      continue;
    }
    Tok k = Tok::bad;
    switch (c) {
      case '[': k = Tok::lbracket; break;
      case ']': k = Tok::rbracket; break;
      case '=': k = Tok::eq; break;
      case '(': k = Tok::lparen; break;
      case ')': k = Tok::rparen; break;
      case ',': k = Tok::comma; break;
      case '+': k = Tok::plus; break;
      default: break;
    }
    out.push_back({k, std::string(1, c)});
    i++;
    if (k == Tok::bad) break;
  }
  out.push_back({Tok::end, ""});
  return out;
}

// The original compares keywords only up to the token's length: "te" is "text".
bool kw(const Token& t, const char* word) {
  if (t.kind != Tok::ident) return false;
  const size_t n = t.text.size();
  if (n > strlen(word)) return false;
  return sqlite3_strnicmp(t.text.c_str(), word, static_cast<int>(n)) == 0;
}

bool starts_with_ci(const std::string& s, const char* prefix) {
  const size_t n = strlen(prefix);
  return s.size() >= n && sqlite3_strnicmp(s.c_str(), prefix, static_cast<int>(n)) == 0;
}

// Results: 0 = not this kind of argument, 1 = parsed, -1 = error (err set).
int parse_vector_column(const std::vector<Token>& t, const std::string& arg, VectorColumn* out,
                        std::string* err) {
  if (t.size() < 4 || t[0].kind != Tok::ident || t[1].kind != Tok::ident) return 0;
  Dtype type;
  if (starts_with_ci(t[1].text, "float") || starts_with_ci(t[1].text, "f32")) type = Dtype::f32;
  else if (starts_with_ci(t[1].text, "int8") || starts_with_ci(t[1].text, "i8")) type = Dtype::i8;
  else if (starts_with_ci(t[1].text, "bit")) type = Dtype::u1;
  else return 0;
  auto fail = [&]() {
    *err = string_printf("%scould not parse vector column '%s'", kCtorPrefix, arg.c_str());
    return -1;
  };
  // `b float` alone is metadata; `b float not null` is a broken vector column (as 0.1.9).
  if (t[2].kind != Tok::lbracket) return t[2].kind == Tok::end ? 0 : fail();
  if (t[3].kind != Tok::number || t.size() < 5 || t[4].kind != Tok::rbracket) return fail();
  const long long dims = t[3].text.size() > 12 ? (1LL << 40) : atoll(t[3].text.c_str());
  if (dims <= 0) return fail();
  if (dims > kMaxDims) {
    *err = string_printf("%sDimension on vector column too large, provided %lld, maximum %lld",
                         kCtorPrefix, dims, static_cast<long long>(kMaxDims));
    return -1;
  }
  if (type == Dtype::u1 && dims % 8 != 0) return fail();
  out->name = t[0].text;
  out->type = type;
  out->dims = static_cast<int>(dims);
  out->metric = type == Dtype::u1 ? Metric::hamming : Metric::l2;
  size_t i = 5;
  while (t[i].kind != Tok::end) {
    if (kw(t[i], "distance_metric") && t[i].text.size() == strlen("distance_metric") &&
        t[i + 1].kind == Tok::eq && t[i + 2].kind == Tok::ident) {
      if (type == Dtype::u1) return fail();
      const std::string& m = t[i + 2].text;
      if (sqlite3_stricmp(m.c_str(), "l2") == 0) out->metric = Metric::l2;
      else if (sqlite3_stricmp(m.c_str(), "l1") == 0) out->metric = Metric::l1;
      else if (sqlite3_stricmp(m.c_str(), "cosine") == 0) out->metric = Metric::cos;
      else return fail();
      i += 3;
    } else if (sqlite3_stricmp(t[i].text.c_str(), "indexed") == 0 && t[i].kind == Tok::ident) {
      // `indexed by flat()` is the default index; ANN indexes are not part of 0.1.9.
      if (t[i + 1].kind == Tok::ident && sqlite3_stricmp(t[i + 1].text.c_str(), "by") == 0 &&
          t[i + 2].kind == Tok::ident && sqlite3_stricmp(t[i + 2].text.c_str(), "flat") == 0 &&
          t[i + 3].kind == Tok::lparen && t[i + 4].kind == Tok::rparen) {
        i += 5;
      } else {
        return fail();
      }
    } else {
      return fail();
    }
  }
  return 1;
}

bool is_key_type(const Token& t, bool* is_text) {
  if (kw(t, "text")) { *is_text = true; return true; }
  if (kw(t, "int") || kw(t, "integer")) { *is_text = false; return true; }
  return false;
}

}  // namespace

int parse_config(int argc, const char* const* argv, Config* cfg, std::string* err) {
  for (int a = 3; a < argc; a++) {
    const std::string arg = argv[a];
    const std::vector<Token> t = tokenize(arg);
    VectorColumn vc;
    const int r = parse_vector_column(t, arg, &vc, err);
    if (r < 0) return SQLITE_ERROR;
    if (r > 0) {
      if (static_cast<int>(cfg->vcols.size()) >= kMaxVectorColumns) {
        *err = string_printf("%sToo many provided vector columns, maximum %d", kCtorPrefix,
                             kMaxVectorColumns);
        return SQLITE_ERROR;
      }
      cfg->order.push_back({ColKind::vector, static_cast<int>(cfg->vcols.size())});
      cfg->vcols.push_back(vc);
      continue;
    }
    bool is_text = false;
    // Partition key: name type partition key.
    // (Tokens after the definition are ignored, as 0.1.9 does.)
    if (t.size() >= 5 && t[0].kind == Tok::ident && is_key_type(t[1], &is_text) &&
        kw(t[2], "partition") && kw(t[3], "key")) {
      if (static_cast<int>(cfg->pcols.size()) >= kMaxPartitionColumns) {
        *err = string_printf("%sMore than %d partition key columns were provided", kCtorPrefix,
                             kMaxPartitionColumns);
        return SQLITE_ERROR;
      }
      cfg->order.push_back({ColKind::partition, static_cast<int>(cfg->pcols.size())});
      cfg->pcols.push_back({t[0].text, is_text});
      continue;
    }
    // Primary key: name text|int|integer primary key.
    if (t.size() >= 5 && t[0].kind == Tok::ident && is_key_type(t[1], &is_text) &&
        kw(t[2], "primary") && kw(t[3], "key")) {
      if (cfg->has_pk) {
        *err = string_printf(
            "%sMore than one primary key definition was provided, vec0 only suports a single "
            "primary key column",
            kCtorPrefix);
        return SQLITE_ERROR;
      }
      cfg->has_pk = true;
      cfg->text_pk = is_text;
      cfg->pk_name = t[0].text;
      continue;
    }
    // Auxiliary: +name type.
    // `+name [type] ...`: the name may be a number (`+1 text`), trailing tokens are ignored, and
    // without a type the name itself is read as the type (0.1.9: `+b` is a BLOB column named b,
    // `+d` a FLOAT one, `+x` no aux column at all).
    if (t[0].kind == Tok::plus && t.size() >= 3 && (t[1].kind == Tok::ident || t[1].kind == Tok::number) &&
        (t[2].kind == Tok::ident || t[2].kind == Tok::end)) {
      const Token& ty = t[2].kind == Tok::end ? t[1] : t[2];
      AuxType at;
      bool ok = true;
      if (kw(ty, "text")) at = AuxType::text;
      else if (kw(ty, "int") || kw(ty, "integer")) at = AuxType::integer;
      else if (kw(ty, "float") || kw(ty, "double")) at = AuxType::real;
      else if (kw(ty, "blob")) at = AuxType::blob;
      else ok = false;
      if (ok) {
        if (static_cast<int>(cfg->acols.size()) >= kMaxAuxColumns) {
          *err = string_printf("%sMore than %d auxiliary columns were provided", kCtorPrefix,
                               kMaxAuxColumns);
          return SQLITE_ERROR;
        }
        cfg->order.push_back({ColKind::aux, static_cast<int>(cfg->acols.size())});
        cfg->acols.push_back({t[1].text, at});
        continue;
      }
    }
    // Metadata: name <type> ....
    if (t.size() >= 3 && t[0].kind == Tok::ident && t[1].kind == Tok::ident) {
      static const char* kMetaTypes[] = {"boolean", "bool",  "int64",   "integer64", "integer", "int",
                                         "float",   "double", "float64", "f64",       "text"};
      static const MetaType kMetaKinds[] = {
          MetaType::boolean, MetaType::boolean, MetaType::integer,
          MetaType::integer, MetaType::integer, MetaType::integer,
          MetaType::real,    MetaType::real,    MetaType::real,
          MetaType::real,    MetaType::text};
      bool found = false;
      for (size_t m = 0; m < sizeof kMetaTypes / sizeof kMetaTypes[0]; m++) {
        if (kw(t[1], kMetaTypes[m])) {
          if (static_cast<int>(cfg->mcols.size()) >= kMaxMetadataColumns) {
            *err = string_printf("%sMore than %d metadata columns were provided", kCtorPrefix,
                                 kMaxMetadataColumns);
            return SQLITE_ERROR;
          }
          cfg->order.push_back({ColKind::metadata, static_cast<int>(cfg->mcols.size())});
          cfg->mcols.push_back({t[0].text, kMetaKinds[m]});
          found = true;
          break;
        }
      }
      if (found) continue;
    }
    // Table option, parsed as 0.1.9 does: a key (an identifier, or nothing before another
    // token), compared by prefix with chunk_size, an optional '=', one value (not a number: 0).
    bool bad_token = false;
    for (const Token& tk : t) bad_token = bad_token || tk.kind == Tok::bad;
    if (t.size() >= 3 && !bad_token) {
      const std::string key = t[0].kind == Tok::ident ? t[0].text : std::string();
      const size_t vi = t[0].kind == Tok::ident ? 1 : 0;
      const bool is_chunk = key.size() <= strlen("chunk_size") &&
                            sqlite3_strnicmp(key.c_str(), "chunk_size", static_cast<int>(key.size())) == 0;
      if (!is_chunk) {
        *err = string_printf("%sUnknown table option: %s", kCtorPrefix, key.c_str());
        return SQLITE_ERROR;
      }
      size_t v = t[vi].kind == Tok::eq ? vi + 1 : vi;
      if (t[0].kind != Tok::ident) v = 1;  // "+y": the value is the token after the first
      if (t[v].kind == Tok::end) {
        *err = string_printf("%scould not parse table option '%s'", kCtorPrefix, arg.c_str());
        return SQLITE_ERROR;
      }
      long long n = 0;
      if (t[v].kind == Tok::number) {
        n = t[v].text.size() > 12 ? (1LL << 40) : atoll(t[v].text.c_str());
        if (t[v + 1].kind != Tok::end) {
          *err = string_printf("%scould not parse table option '%s'", kCtorPrefix, arg.c_str());
          return SQLITE_ERROR;
        }
      }
      if (n <= 0) {
        *err = string_printf("%schunk_size must be a non-zero positive integer", kCtorPrefix);
        return SQLITE_ERROR;
      }
      if (n % 8 != 0) {
        *err = string_printf("%schunk_size must be divisible by 8", kCtorPrefix);
        return SQLITE_ERROR;
      }
      if (n > kMaxChunkSize) {
        *err = string_printf("%schunk_size too large", kCtorPrefix);
        return SQLITE_ERROR;
      }
      cfg->chunk_size = static_cast<int>(n);
      continue;
    }
    *err = string_printf("%sCould not parse '%s'", kCtorPrefix, arg.c_str());
    return SQLITE_ERROR;
  }
  if (cfg->vcols.empty()) {
    *err = string_printf("%sAt least one vector column is required", kCtorPrefix);
    return SQLITE_ERROR;
  }
  return SQLITE_OK;
}

// ---- xCreate / xConnect ----------------------------------------------------------------------
std::string declare_sql(const Config& cfg) {
  std::string s = "CREATE TABLE x(";
  if (cfg.has_pk) s += string_printf("\"%w\" primary key, ", cfg.pk_name.c_str());
  else s += "rowid, ";
  for (const ColRef& r : cfg.order) {
    const std::string& n = r.kind == ColKind::vector ? cfg.vcols[static_cast<size_t>(r.idx)].name
                           : r.kind == ColKind::partition ? cfg.pcols[static_cast<size_t>(r.idx)].name
                           : r.kind == ColKind::metadata ? cfg.mcols[static_cast<size_t>(r.idx)].name
                                                         : cfg.acols[static_cast<size_t>(r.idx)].name;
    s += string_printf("\"%w\", ", n.c_str());
  }
  s += "distance hidden, k hidden)";
  if (cfg.has_pk) s += " without rowid";
  return s;
}

}  // namespace vec0
}  // namespace vecsqlite
