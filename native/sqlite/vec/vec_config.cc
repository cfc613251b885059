// CREATE arguments of the `vec` table -> Config.
//
//   vec([<idcol>][, key=value ...])
// argv[3], when it is non-empty after trimming and holds no '=', names the id column (default
// doc_id; one layer of "", [] or `` quotes is removed) and options start at argv[4]; otherwise
// options start at argv[3]. Keys are matched case-insensitively; keys and values are trimmed.
#include <cctype>
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

}  // namespace

int parse_config(int argc, const char* const* argv, bool /*strict*/, Config* out, std::string* err) {
  std::string idcol = "doc_id", index_kind = "auto";
  int first_opt = 3;
  if (argc > 3) {
    const std::string a = trim_space(argv[3]);
    if (!a.empty() && a.find('=') == std::string::npos) {
      idcol = a;
      first_opt = 4;
    }
  }
  for (int i = first_opt; i < argc; i++) {
    const std::string a = trim_space(argv[i]);
    const size_t eq = a.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = lower(trim_space(a.substr(0, eq))), val = lower(trim_space(a.substr(eq + 1)));
    if (key == "dbpath") {
      *err = "vec: the dbpath option is not supported: tables always use the connection that queries them";
      return SQLITE_ERROR;
    }
    if (key == "index" && (val == "auto" || val == "brute" || val == "cover")) index_kind = val;
    // cover_base, cover_bound, cover_distance, cover_parallel: accepted and ignored (exact scan).
  }
  // Unquote an id column written as "name", [name] or `name`.
  if (idcol.size() >= 2 && ((idcol.front() == '"' && idcol.back() == '"') || (idcol.front() == '`' && idcol.back() == '`') ||
                            (idcol.front() == '[' && idcol.back() == ']'))) {
    idcol = idcol.substr(1, idcol.size() - 2);
  }
  out->idcol = idcol;
  out->index_kind = index_kind;
  return SQLITE_OK;
}

}  // namespace vec
}  // namespace vecsqlite
