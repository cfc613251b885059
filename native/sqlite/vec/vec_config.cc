// CREATE arguments of the `vec` table -> Config.
//
//   vec([<idcol>][, key=value ...])
// argv[3], when it is non-empty after trimming and holds no '=', names the id column (default
// doc_id; one layer of "", [] or `` quotes is removed) and options start at argv[4]; otherwise
// options start at argv[3]. Keys and values are trimmed and matched case-insensitively.
//
// The options are the table kOptions below: each key with its accepted values (a fixed list, or
// a check for numbers). index= selects the index kind; the cover_* options configure the
// original module's cover tree and are kept so its CREATE statements still work (every kind runs
// the same exact scan here). index=hnsw keeps a graph per dataset (vec_graph.cc), tuned by m=,
// ef_construction= and ef_search=; ann=always makes every MATCH with a k use the graph even
// where the cost policy would scan (tests and benchmarks on small sets). dbpath= is refused: a table always works on the connection that
// queries it.
//
// CREATE is strict: an unknown key, a value outside the accepted ones or an argument that is
// not key=value fails, naming it and listing what is accepted. CONNECT (opening a table that
// already exists in a database file) only refuses dbpath=, so a table created by an older
// version or by the original module keeps opening.
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <string>

#include "sqlite/codec.h"
#include "sqlite/vec/vec_int.h"

namespace vecsqlite {
namespace vec {
namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool is_float_above_one(const std::string& v) {
  char* end = nullptr;
  const double d = std::strtod(v.c_str(), &end);
  return !v.empty() && end == v.c_str() + v.size() && std::isfinite(d) && d > 1.0;
}

// An integer in [lo, hi].
bool int_in(const std::string& v, long long lo, long long hi, long long* out) {
  char* end = nullptr;
  errno = 0;
  const long long n = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || end != v.c_str() + v.size() || errno != 0 || n < lo || n > hi) return false;
  if (out != nullptr) *out = n;
  return true;
}
bool is_m(const std::string& v) { return int_in(v, 2, HnswIndex::kMaxM, nullptr); }
bool is_ef_construction(const std::string& v) { return int_in(v, 1, 4096, nullptr); }
bool is_ef_search(const std::string& v) { return int_in(v, 1, 10000, nullptr); }
uint32_t as_u32(const std::string& v) { return uint32_t(std::strtoul(v.c_str(), nullptr, 10)); }

bool is_integer(const std::string& v) {
  char* end = nullptr;
  errno = 0;
  std::strtoll(v.c_str(), &end, 10);
  return !v.empty() && end == v.c_str() + v.size() && errno == 0;
}

struct OptionSpec {
  const char* key;
  const char* const* values;                // accepted words (lower case), nullptr-terminated
  bool (*check)(const std::string& value);  // other accepted values; nullptr: the words only
  const char* check_describes;              // what `check` accepts, for the error message
  void (*apply)(Config* cfg, const std::string& value);  // nullptr: accepted, no effect here
};

// The index kinds. Adding one here is all the parser needs (the error message lists this).
const char* const kIndexValues[] = {"auto", "brute", "cover", "hnsw", nullptr};
const char* const kAnnValues[] = {"auto", "always", nullptr};
const char* const kCoverBoundValues[] = {"level", "boundlevel", "per_node", "pernode", "node", nullptr};
const char* const kCoverDistanceValues[] = {"cos", "cosine", "l2", "euclidean", nullptr};
const char* const kCoverParallelValues[] = {"", "off", "auto", nullptr};
const char* const kNone[] = {nullptr};

const OptionSpec kOptions[] = {
    {"index", kIndexValues, nullptr, nullptr, [](Config* cfg, const std::string& v) { cfg->index_kind = v; }},
    {"m", kNone, is_m, "an integer from 2 to 64", [](Config* cfg, const std::string& v) { cfg->hnsw.m = as_u32(v); }},
    {"ef_construction", kNone, is_ef_construction, "an integer from 1 to 4096",
     [](Config* cfg, const std::string& v) { cfg->hnsw.ef_construction = as_u32(v); }},
    {"ef_search", kNone, is_ef_search, "an integer from 1 to 10000",
     [](Config* cfg, const std::string& v) { cfg->ef_search = as_u32(v); }},
    {"ann", kAnnValues, nullptr, nullptr, [](Config* cfg, const std::string& v) { cfg->ann_always = v == "always"; }},
    {"cover_base", kNone, is_float_above_one, "a number greater than 1", nullptr},
    {"cover_bound", kCoverBoundValues, nullptr, nullptr, nullptr},
    {"cover_distance", kCoverDistanceValues, nullptr, nullptr, nullptr},
    {"cover_parallel", kCoverParallelValues, is_integer, "an integer", nullptr},
};

// "auto, brute, cover" / "off, auto, or an integer" / "a number greater than 1".
std::string describe_values(const OptionSpec& o) {
  std::string s;
  for (const char* const* v = o.values; *v != nullptr; v++) {
    if (**v != '\0') s += std::string(s.empty() ? "" : ", ") + *v;
  }
  if (o.check_describes != nullptr) s += std::string(s.empty() ? "" : ", or ") + o.check_describes;
  return s;
}

std::string option_keys() {
  std::string s;
  for (const OptionSpec& o : kOptions) s += std::string(s.empty() ? "" : ", ") + o.key;
  return s;
}

const OptionSpec* find_option(const std::string& key) {
  for (const OptionSpec& o : kOptions) {
    if (key == o.key) return &o;
  }
  return nullptr;
}

bool accepts(const OptionSpec& o, const std::string& value) {
  for (const char* const* v = o.values; *v != nullptr; v++) {
    if (value == *v) return true;
  }
  return o.check != nullptr && o.check(value);
}

}  // namespace

int parse_config(int argc, const char* const* argv, bool strict, Config* out, std::string* err) {
  Config cfg;
  int first_opt = 3;
  const char* graph_option_seen = nullptr;  // a graph option, which needs index=hnsw
  if (argc > 3) {
    const std::string a = trim_space(argv[3]);
    if (!a.empty() && a.find('=') == std::string::npos) {
      cfg.idcol = a;
      first_opt = 4;
    }
  }
  for (int i = first_opt; i < argc; i++) {
    const std::string a = trim_space(argv[i]);
    const size_t eq = a.find('=');
    if (eq == std::string::npos) {
      if (!strict) continue;
      *err = string_printf("vec: unexpected argument \"%s\": after the id column every argument is an option key=value (options: %s)",
                           a.c_str(), option_keys().c_str());
      return SQLITE_ERROR;
    }
    const std::string key = lower(trim_space(a.substr(0, eq))), val = lower(trim_space(a.substr(eq + 1)));
    if (key == "dbpath") {
      *err = "vec: the dbpath option is not supported: tables always use the connection that queries them";
      return SQLITE_ERROR;
    }
    const OptionSpec* o = find_option(key);
    if (o == nullptr) {
      if (!strict) continue;
      *err = string_printf("vec: unknown option \"%s\" (options: %s)", key.c_str(), option_keys().c_str());
      return SQLITE_ERROR;
    }
    if (!accepts(*o, val)) {
      if (!strict) continue;
      *err = string_printf("vec: invalid value \"%s\" for option %s (accepted: %s)", val.c_str(), o->key,
                           describe_values(*o).c_str());
      return SQLITE_ERROR;
    }
    if (o->apply != nullptr) o->apply(&cfg, val);
    if (key == "m" || key == "ef_construction" || key == "ef_search" || key == "ann") graph_option_seen = o->key;
  }
  if (strict && cfg.index_kind != "hnsw" && graph_option_seen) {
    *err = string_printf("vec: option %s applies to index=hnsw only (index is %s)", graph_option_seen,
                         cfg.index_kind.c_str());
    return SQLITE_ERROR;
  }
  // Unquote an id column written as "name", [name] or `name`.
  std::string& id = cfg.idcol;
  if (id.size() >= 2 && ((id.front() == '"' && id.back() == '"') || (id.front() == '`' && id.back() == '`') ||
                         (id.front() == '[' && id.back() == ']'))) {
    id = id.substr(1, id.size() - 2);
  }
  *out = cfg;
  return SQLITE_OK;
}

}  // namespace vec
}  // namespace vecsqlite
