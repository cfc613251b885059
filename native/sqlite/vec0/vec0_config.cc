// vec0 configuration: the CREATE VIRTUAL TABLE arguments, parsed the way sqlite-vec 0.1.9
// parses them (same accepted spellings, same error messages), and the declared columns.
//
//   name float[N] | int8[N] | bit[N] [distance_metric=l2|l1|cosine] [indexed by <index>(...)]
//   name integer|text partition key        (up to 4)
//   name integer|text primary key          (one)
//   +name text|integer|float|blob          auxiliary (up to 16)
//   name boolean|integer|float|text        metadata (up to 16)
//   chunk_size=N                           (a multiple of 8, at most 4096)
#include <cstdlib>
#include <cstring>
#include <algorithm>

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

// ---- `indexed by <kind>(option=value, ...)` --------------------------------------------------
// hnsw(m, ef_construction, ef_search) declares our graph index. The declarations of sqlite-vec
// 0.1.10's indexes are accepted so their schemas open, each mapped to what serves its intent:
//   rescore(quantizer=bit|int8, oversample=N)   the exact scan (its int8 sketch pre-filter is a
//                                               quantized scan with exact rescoring, at recall 1)
//   ivf(nlist, nprobe, quantizer, oversample)   a graph; ef_search = max(64, 8 * nprobe)
//   diskann(neighbor_quantizer=binary|int8, n_neighbors=R, search_list_size[_search|_insert]=L)
//                                               a graph with m = R / 2, ef_construction and
//                                               ef_search from the search-list sizes
// Unknown options and out-of-range values are errors naming them.
struct IndexOption {
  std::string key;
  std::string value;  // an identifier or an unsigned number
  bool number;
};

const char* kIndexHelp[] = {
    "flat()",
    "hnsw(m=2..64, ef_construction=1..4096, ef_search=1..10000)",
    "rescore(quantizer=bit|int8, oversample=1..128)",
    "ivf(nlist=0..65536, nprobe=1..65536, quantizer=none|int8|binary, oversample=1..128)",
    "diskann(neighbor_quantizer=binary|int8, n_neighbors=8..256, search_list_size=1..10000, "
    "search_list_size_search=.., search_list_size_insert=.., buffer_threshold=..)",
};

int parse_index(const std::vector<Token>& t, size_t* pi, const std::string& arg, VectorColumn* out, std::string* err) {
  size_t i = *pi;
  auto bad = [&](const std::string& why) {
    *err = string_printf("%scould not parse vector column '%s': %s", kCtorPrefix, arg.c_str(), why.c_str());
    return -1;
  };
  if (t[i].kind != Tok::ident) return bad("expected an index kind after 'indexed by'");
  const std::string kind = t[i].text;
  IndexKind k;
  if (sqlite3_stricmp(kind.c_str(), "flat") == 0) k = IndexKind::flat;
  else if (sqlite3_stricmp(kind.c_str(), "hnsw") == 0) k = IndexKind::hnsw;
  else if (sqlite3_stricmp(kind.c_str(), "rescore") == 0) k = IndexKind::rescore;
  else if (sqlite3_stricmp(kind.c_str(), "ivf") == 0) k = IndexKind::ivf;
  else if (sqlite3_stricmp(kind.c_str(), "diskann") == 0) k = IndexKind::diskann;
  else return bad(string_printf("unknown index '%s' (known: flat, hnsw, rescore, ivf, diskann)", kind.c_str()));
  const char* help = kIndexHelp[static_cast<int>(k)];
  if (t[i + 1].kind != Tok::lparen) return bad(string_printf("expected '(' after '%s'", kind.c_str()));
  i += 2;
  std::vector<IndexOption> opts;
  while (t[i].kind != Tok::rparen) {
    if (!opts.empty()) {
      if (t[i].kind != Tok::comma) return bad(string_printf("expected ',' or ')' in %s", help));
      i++;
    }
    if (t[i].kind != Tok::ident || t[i + 1].kind != Tok::eq ||
        (t[i + 2].kind != Tok::ident && t[i + 2].kind != Tok::number))
      return bad(string_printf("expected option=value in %s", help));
    opts.push_back({t[i].text, t[i + 2].text, t[i + 2].kind == Tok::number});
    i += 3;
  }
  i++;  // ')'
  *pi = i;
  IndexSpec spec;
  spec.kind = k;
  auto number = [&](const IndexOption& o, long long lo, long long hi, long long* v) {
    if (!o.number || o.value.size() > 9) return false;
    *v = atoll(o.value.c_str());
    return *v >= lo && *v <= hi;
  };
  auto range_err = [&](const IndexOption& o) {
    return bad(string_printf("bad value '%s' for option '%s' of %s", o.value.c_str(), o.key.c_str(), help));
  };
  auto is = [](const IndexOption& o, const char* key) { return sqlite3_stricmp(o.key.c_str(), key) == 0; };
  auto word = [](const IndexOption& o, const char* w) { return !o.number && sqlite3_stricmp(o.value.c_str(), w) == 0; };
  bool quantizer = false;
  long long nprobe = -1, sls = -1, sls_search = -1, sls_insert = -1, v = 0;
  for (const IndexOption& o : opts) {
    bool known = true;
    switch (k) {
      case IndexKind::flat: known = false; break;
      case IndexKind::hnsw:
        if (is(o, "m")) {
          if (!number(o, 2, HnswIndex::kMaxM, &v)) return range_err(o);
          spec.m = static_cast<uint32_t>(v);
        } else if (is(o, "ef_construction")) {
          if (!number(o, 1, 4096, &v)) return range_err(o);
          spec.ef_construction = static_cast<uint32_t>(v);
        } else if (is(o, "ef_search")) {
          if (!number(o, 1, 10000, &v)) return range_err(o);
          spec.ef_search = static_cast<uint32_t>(v);
        } else {
          known = false;
        }
        break;
      case IndexKind::rescore:
        if (is(o, "quantizer")) {
          if (!word(o, "bit") && !word(o, "int8")) return range_err(o);
          if (word(o, "bit") && out->dims % 8 != 0) return bad("the bit quantizer needs dimensions divisible by 8");
          quantizer = true;
        } else if (is(o, "oversample")) {
          if (!number(o, 1, 128, &v)) return range_err(o);
        } else {
          known = false;
        }
        break;
      case IndexKind::ivf:
        if (is(o, "nlist")) {
          if (!number(o, 0, 65536, &v)) return range_err(o);
        } else if (is(o, "nprobe")) {
          if (!number(o, 1, 65536, &nprobe)) return range_err(o);
        } else if (is(o, "quantizer")) {
          if (!word(o, "none") && !word(o, "int8") && !word(o, "binary")) return range_err(o);
        } else if (is(o, "oversample")) {
          if (!number(o, 1, 128, &v)) return range_err(o);
        } else {
          known = false;
        }
        break;
      case IndexKind::diskann:
        if (is(o, "neighbor_quantizer")) {
          if (!word(o, "binary") && !word(o, "int8")) return range_err(o);
          if (word(o, "binary") && out->dims % 8 != 0) return bad("the binary quantizer needs dimensions divisible by 8");
          quantizer = true;
        } else if (is(o, "n_neighbors")) {
          if (!number(o, 8, 256, &v) || v % 8 != 0) return range_err(o);
          spec.m = static_cast<uint32_t>(std::min<long long>(HnswIndex::kMaxM, v / 2));
        } else if (is(o, "search_list_size")) {
          if (!number(o, 1, 10000, &sls)) return range_err(o);
        } else if (is(o, "search_list_size_search")) {
          if (!number(o, 1, 10000, &sls_search)) return range_err(o);
        } else if (is(o, "search_list_size_insert")) {
          if (!number(o, 1, 10000, &sls_insert)) return range_err(o);
        } else if (is(o, "buffer_threshold")) {
          if (!number(o, 0, 1000000000, &v)) return range_err(o);
        } else {
          known = false;
        }
        break;
    }
    if (!known) return bad(string_printf("unknown option '%s' (accepted: %s)", o.key.c_str(), help));
  }
  if (k == IndexKind::rescore) {
    if (!quantizer) return bad("rescore(...) requires a 'quantizer' option (bit or int8)");
    if (out->type != Dtype::f32) return bad("rescore needs a float32 column");
  }
  if (k == IndexKind::ivf) {
    if (out->type != Dtype::f32) return bad("ivf needs a float32 column");
    if (nprobe > 0) spec.ef_search = static_cast<uint32_t>(std::max<long long>(64, std::min<long long>(10000, 8 * nprobe)));
  }
  if (k == IndexKind::diskann) {
    if (!quantizer) return bad("diskann(...) requires a 'neighbor_quantizer' option (binary or int8)");
    if (out->type == Dtype::u1) return bad("diskann is not supported on bit vector columns");
    if (sls > 0 && (sls_search > 0 || sls_insert > 0))
      return bad("search_list_size cannot be combined with search_list_size_search / _insert");
    const long long ls = sls_search > 0 ? sls_search : sls > 0 ? sls : 128;
    const long long li = sls_insert > 0 ? sls_insert : sls > 0 ? sls : 128;
    spec.ef_search = static_cast<uint32_t>(std::max<long long>(ls, 16));
    spec.ef_construction = static_cast<uint32_t>(std::max<long long>(li, 100));
  }
  out->index = spec;
  return 1;
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
      if (!(t[i + 1].kind == Tok::ident && sqlite3_stricmp(t[i + 1].text.c_str(), "by") == 0)) return fail();
      i += 2;
      const int r = parse_index(t, &i, arg, out, err);
      if (r < 0) return r;
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
const char* index_kind_name(IndexKind k) {
  switch (k) {
    case IndexKind::flat: return "flat";
    case IndexKind::hnsw: return "hnsw";
    case IndexKind::rescore: return "rescore";
    case IndexKind::ivf: return "ivf";
    case IndexKind::diskann: return "diskann";
  }
  return "?";
}

std::string declare_sql(const Config& cfg, const std::string& table) {
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
  s += "distance hidden, k hidden";
  if (cfg.indexed()) s += string_printf(", ef hidden, \"%w\" hidden", table.c_str());
  s += ")";
  if (cfg.has_pk) s += " without rowid";
  return s;
}

}  // namespace vec0
}  // namespace vecsqlite
