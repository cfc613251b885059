// vec0 query plans: xBestIndex writes the plan, decode_plan() reads it back in xFilter. This
// file is the only one that knows the plan string.
//
// PLANS (idxNum:idxStr, visible in EXPLAIN QUERY PLAN, identical to sqlite-vec 0.1.9's):
//   fullscan  0:1
//   point     <colUsed>:2!___           rowid = ? / pk = ? (not IN), no MATCH
//   knn       <vector column index>:3{___}___[[___][*<op>__]...
// A KNN plan string is '3' followed by one 4-character block per xFilter argument, in argv
// order:
//   {___   the query vector (MATCH)           }___   k (from `k = ?` or LIMIT)
//   [___   rowid IN (...), consumed as a list (sqlite3_vtab_in)
//   #___   ef = ? (the hidden `ef` column of indexed tables: graph search effort, 0 = exact)
//   *a__ distance >    *b__ distance >=    *c__ distance <    *d__ distance <=
//   ]<P><op>_   partition key P ('A' + its index among the partition keys)
//   &<M><op>_   metadata column M ('A' + its index among the metadata columns)
//   op: a EQ, b GT, c LE, d LT, e GE, f NE, g IN (a list; for partition keys a vecsqlite
//   change: one search over all the listed partitions instead of one per value),
//   n IS NULL, m IS NOT NULL (vecsqlite additions, pushed down before the top-k)
// LIKE, GLOB and other operators on partition keys are left to SQLite, as sqlite-vec does; on
// metadata columns they are an error, as is any KNN constraint on an auxiliary column.
#include <cstring>

#include "sqlite/vec0/vec0_int.h"

namespace vecsqlite {
namespace vec0 {
namespace {

char op_letter(unsigned char op) {
  switch (op) {
    case SQLITE_INDEX_CONSTRAINT_EQ: return 'a';
    case SQLITE_INDEX_CONSTRAINT_GT: return 'b';
    case SQLITE_INDEX_CONSTRAINT_LE: return 'c';
    case SQLITE_INDEX_CONSTRAINT_LT: return 'd';
    case SQLITE_INDEX_CONSTRAINT_GE: return 'e';
    case SQLITE_INDEX_CONSTRAINT_NE: return 'f';
    case SQLITE_INDEX_CONSTRAINT_ISNULL: return 'n';
    case SQLITE_INDEX_CONSTRAINT_ISNOTNULL: return 'm';
    default: return 0;
  }
}

// The `]` and `&` blocks of a KNN plan: constraints on partition keys and metadata columns.
int column_blocks(Table* t, sqlite3_index_info* info, std::vector<std::pair<int, std::string>>* pblocks,
                  std::vector<std::pair<int, std::string>>* mblocks) {
  for (int i = 0; i < info->nConstraint; i++) {
    const auto& c = info->aConstraint[i];
    if (!c.usable) continue;
    const ColRef* r = t->col_ref(c.iColumn);
    if (r == nullptr || r->kind == ColKind::vector) continue;
    if (r->kind == ColKind::aux) {
      set_err(t, "An illegal WHERE constraint was provided on a vec0 auxiliary column in a KNN query.");
      return SQLITE_ERROR;
    }
    char op = op_letter(c.op);
    const char letter = static_cast<char>('A' + r->idx);
    if (r->kind == ColKind::partition) {
      if (op == 0) continue;
      if (op == 'a' && sqlite3_vtab_in(info, i, -1)) {
        op = 'g';
        sqlite3_vtab_in(info, i, 1);
      }
      pblocks->emplace_back(i, std::string{']', letter, op, '_'});
      continue;
    }
    const MetadataColumn& mc = t->cfg.mcols[static_cast<size_t>(r->idx)];
    if (op == 0) {
      set_err(t, "An illegal WHERE constraint was provided on a vec0 metadata column in a KNN query. Only one of EQUALS, GREATER_THAN, LESS_THAN_OR_EQUAL, LESS_THAN, GREATER_THAN_OR_EQUAL, NOT_EQUALS is allowed.");
      return SQLITE_ERROR;
    }
    if (op == 'a' && sqlite3_vtab_in(info, i, -1)) {
      if (mc.type != MetaType::integer && mc.type != MetaType::text) {
        set_err(t, "'xxx in (...)' is only available on INTEGER or TEXT metadata columns.");
        return SQLITE_ERROR;
      }
      op = 'g';
      sqlite3_vtab_in(info, i, 1);
    }
    if (mc.type == MetaType::boolean && op != 'a' && op != 'f' && op != 'n' && op != 'm') {
      set_err(t, "ONLY EQUALS (=) or NOT_EQUALS (!=) operators are allowed on boolean metadata columns.");
      return SQLITE_ERROR;
    }
    mblocks->emplace_back(i, std::string{'&', letter, op, '_'});
  }
  return SQLITE_OK;
}

int knn_plan(Table* t, sqlite3_index_info* info, int match, int kcon, int limit, int rowid_in, int efcon) {
  std::vector<std::pair<int, char>> dist;  // constraint index, op letter
  for (int i = 0; i < info->nConstraint; i++) {
    const auto& c = info->aConstraint[i];
    if (!c.usable || c.iColumn != t->col_distance()) continue;
    char op;
    switch (c.op) {
      case SQLITE_INDEX_CONSTRAINT_GT: op = 'a'; break;
      case SQLITE_INDEX_CONSTRAINT_GE: op = 'b'; break;
      case SQLITE_INDEX_CONSTRAINT_LT: op = 'c'; break;
      case SQLITE_INDEX_CONSTRAINT_LE: op = 'd'; break;
      default:
        set_err(t, "Illegal WHERE constraint on distance column in a KNN query. Only one of GT, GE, LT, LE constraints are allowed.");
        return SQLITE_ERROR;
    }
    dist.emplace_back(i, op);
  }
  std::vector<std::pair<int, std::string>> pblocks, mblocks;
  int rc = column_blocks(t, info, &pblocks, &mblocks);
  if (rc != SQLITE_OK) return rc;
  if (kcon < 0 && limit < 0) {
    set_err(t, "A LIMIT or 'k = ?' constraint is required on vec0 knn queries.");
    return SQLITE_ERROR;
  }
  if (kcon >= 0 && limit >= 0) {
    set_err(t, "Only LIMIT or 'k =?' can be provided, not both");
    return SQLITE_ERROR;
  }
  for (int i = 0; i < info->nOrderBy; i++) {
    if (info->aOrderBy[i].iColumn != t->col_distance()) {
      set_err(t, "Only a single 'ORDER BY distance' clause is allowed on vec0 KNN queries, not on other columns");
      return SQLITE_ERROR;
    }
    if (info->aOrderBy[i].desc) {
      set_err(t, "Only ascending in ORDER BY distance clause is supported, DESC is not supported yet.");
      return SQLITE_ERROR;
    }
  }
  if (info->nOrderBy > 1) {
    set_err(t, "Only a single 'ORDER BY distance' clause is allowed on vec0 KNN queries");
    return SQLITE_ERROR;
  }
  std::string s = "3";
  int argi = 1;
  auto use = [&](int ci, const char* block) {
    info->aConstraintUsage[ci].argvIndex = argi++;
    info->aConstraintUsage[ci].omit = 1;
    s += block;
  };
  use(match, "{___");
  use(kcon >= 0 ? kcon : limit, "}___");
  if (rowid_in >= 0) {
    use(rowid_in, "[___");
    sqlite3_vtab_in(info, rowid_in, 1);
  }
  if (efcon >= 0) use(efcon, "#___");
  for (const auto& b : pblocks) use(b.first, b.second.c_str());
  for (const auto& b : mblocks) use(b.first, b.second.c_str());
  for (const auto& d : dist) {
    const char block[5] = {'*', d.second, '_', '_', 0};
    use(d.first, block);
  }
  info->idxNum = t->col_ref(info->aConstraint[match].iColumn)->idx;  // the vector column's index
  info->idxStr = sqlite3_mprintf("%s", s.c_str());
  if (info->idxStr == nullptr) return SQLITE_NOMEM;
  info->needToFreeIdxStr = 1;
  info->estimatedCost = 30.0;
  info->estimatedRows = 10;
  return SQLITE_OK;
}

int bad_plan(Table* t, const char* idxStr) {
  set_err(t, string_printf("%sinvalid knn plan '%s'", kInternal, idxStr != nullptr ? idxStr : ""));
  return SQLITE_ERROR;
}

}  // namespace

int best_index(Table* t, sqlite3_index_info* info) {
  int match = -1, kcon = -1, limit = -1, rowid_in = -1, point = -1, efcon = -1;
  for (int i = 0; i < info->nConstraint; i++) {
    const auto& c = info->aConstraint[i];
    if (!c.usable) continue;
    if (c.op == SQLITE_INDEX_CONSTRAINT_LIMIT) {
      limit = i;
      continue;
    }
    if (c.iColumn >= 1 && c.iColumn < t->col_distance() && t->col_ref(c.iColumn)->kind == ColKind::vector &&
        c.op == SQLITE_INDEX_CONSTRAINT_MATCH) {
      if (match >= 0) {
        set_err(t, "only 1 MATCH operator is allowed in a single vec0 query");
        return SQLITE_ERROR;
      }
      match = i;
    } else if (c.iColumn == t->col_k() && c.op == SQLITE_INDEX_CONSTRAINT_EQ) {
      kcon = i;
    } else if (c.iColumn >= 0 && c.iColumn == t->col_ef() && c.op == SQLITE_INDEX_CONSTRAINT_EQ) {
      efcon = i;
    } else if (c.iColumn == 0 && c.op == SQLITE_INDEX_CONSTRAINT_EQ) {
      if (sqlite3_vtab_in(info, i, -1)) {
        if (rowid_in >= 0) {
          set_err(t, "only 1 'rowid in (..)' operator is allowed in a single vec0 query");
          return SQLITE_ERROR;
        }
        rowid_in = i;
      } else {
        point = i;
      }
    }
  }
  if (match >= 0) return knn_plan(t, info, match, kcon, limit, rowid_in, efcon);
  if (point >= 0) {
    info->aConstraintUsage[point].argvIndex = 1;
    info->aConstraintUsage[point].omit = 1;
    info->idxNum = static_cast<int>(info->colUsed);
    info->idxStr = const_cast<char*>("2!___");
    info->needToFreeIdxStr = 0;
    info->estimatedCost = 10.0;
    info->estimatedRows = 1;
    info->idxFlags |= SQLITE_INDEX_SCAN_UNIQUE;
    return SQLITE_OK;
  }
  info->idxNum = 0;
  info->idxStr = const_cast<char*>("1");
  info->needToFreeIdxStr = 0;
  info->estimatedCost = 3000000.0;
  info->estimatedRows = 100000;
  return SQLITE_OK;
}

int decode_plan(Table* t, int idxNum, const char* idxStr, int argc, sqlite3_value** argv, Plan* out) {
  *out = Plan();
  if (idxStr == nullptr || idxStr[0] == '1') return SQLITE_OK;
  if (idxStr[0] == '2') {
    out->kind = Plan::Kind::point;
    if (argc < 1) return bad_plan(t, idxStr);
    out->id = argv[0];
    return SQLITE_OK;
  }
  if (idxStr[0] != '3' || idxNum < 0 || idxNum >= static_cast<int>(t->cfg.vcols.size())) return bad_plan(t, idxStr);
  out->kind = Plan::Kind::knn;
  out->column = idxNum;
  const size_t n = strlen(idxStr);
  if (n != 1 + 4 * static_cast<size_t>(argc)) return bad_plan(t, idxStr);
  for (int i = 0; i < argc; i++) {
    const char* b = idxStr + 1 + 4 * i;
    switch (b[0]) {
      case '{': out->query = argv[i]; break;
      case '}': out->k = argv[i]; break;
      case '[': out->rowid_in = argv[i]; break;
      case '#':
        if (t->col_ef() < 0) return bad_plan(t, idxStr);
        out->ef = argv[i];
        break;
      case '*':
        if (b[1] < 'a' || b[1] > 'd') return bad_plan(t, idxStr);
        out->distance.emplace_back(b[1], sqlite3_value_double(argv[i]));
        break;
      case ']':
      case '&': {
        const bool part = b[0] == ']';
        const int col = b[1] - 'A';
        const int ncol = static_cast<int>(part ? t->cfg.pcols.size() : t->cfg.mcols.size());
        if (col < 0 || col >= ncol || std::strchr("abcdefgnm", b[2]) == nullptr) return bad_plan(t, idxStr);
        out->filters.push_back(FilterArg{part, col, b[2], argv[i]});
        break;
      }
      default: return bad_plan(t, idxStr);
    }
  }
  if (out->query == nullptr || out->k == nullptr) return bad_plan(t, idxStr);
  return SQLITE_OK;
}

}  // namespace vec0
}  // namespace vecsqlite
