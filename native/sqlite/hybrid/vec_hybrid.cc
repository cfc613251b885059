// vec_hybrid: full-text + vector search fused in one table-valued function.
//
//   select rowid, id, text_rank, text_score, vec_rank, vec_distance, score
//     from vec_hybrid('docs_fts', 'docs', :text, :vector, 10 [, :options_json]);
//
// Arguments (hidden columns, in this order):
//   fts_table     an FTS5 table whose rowids are the vector table's rowids
//   vec_table     a vec0 table, or a dataset-aware vec table (searched through `_vec_<t>`)
//   query_text    an FTS5 query; NULL or '' runs the vector side only
//   query_vector  the query vector (BLOB or JSON, as the table's MATCH takes it); NULL runs the
//                 keyword side only
//   k             rows to return (1..4096)
//   options       JSON object, optional:
//                   fusion      'rrf' (default) or 'weighted'
//                   rrf_k       RRF constant (default 60)
//                   weights     [text_weight, vector_weight] (default [1, 1] for rrf, [0.5, 0.5]
//                               for weighted)
//                   candidates  rows taken from each side before fusion (default max(k, 50))
//                   dataset     the dataset_id (required for a vec table)
//                   filter      {column: value, ...} equality filters on vec0 partition-key or
//                               metadata columns
//                   column      the vec0 vector column (default: the first declared vector
//                               column)
//
// Result columns: rowid (the vector table's rowid, `_vec_<t>.rowid` for vec), id (vec0: the rowid;
// vec: `_vec_<t>.id`), text_rank / vec_rank (1-based rank on each side, NULL when the row is not
// among that side's candidates), text_score (-bm25: higher is a better keyword match),
// vec_distance (vec0: the table's distance; vec: 1 - cosine similarity), score (the fused score,
// higher first; ties by rowid).
//
// Fusion. rrf: score = wt / (rrf_k + text_rank) + wv / (rrf_k + vec_rank), a missing side adding 0.
// weighted: each side's scores over its candidates are scaled to [0, 1] (min-max; text by -bm25,
// vector by -distance; a side whose candidates all tie scores 1), and score = wt * text + wv * vec,
// a missing side adding 0.
//
// Filters apply to both sides: the vector side passes them to the table's own KNN query
// (`dataset_id = ?` for vec; `column = ?` for vec0); each keyword candidate is kept only if the
// vector table holds its rowid under the same filters. The result therefore has exactly
// min(k, rows matching either side under the filters) rows.
//
// All sub-queries run on the calling connection (its transaction, temp and attached schemas).
// Eponymous-only module; no process-wide state.
#include <algorithm>
#include <cmath>
#include <new>
#include <string>
#include <unordered_map>
#include <vector>

#include "sqlite/ext.h"
#include "sqlite/stmt.h"

namespace vecsqlite {

int register_vec_hybrid(sqlite3* db, char** pzErr);

namespace {

enum Col { kRowidOut = -1, kId = 0, kTextRank, kTextScore, kVecRank, kVecDistance, kScore,
           kFts, kVecTable, kQueryText, kQueryVector, kK, kOptions, kNumCols };
constexpr int kMaxK = 4096;

struct HybridVtab {
  sqlite3_vtab base;  // must be first
  sqlite3* db;
};

struct Hit {
  sqlite3_int64 rowid = 0;
  bool has_text = false, has_vec = false;
  int text_rank = 0, vec_rank = 0;
  double text_score = 0, vec_distance = 0;
  double fused = 0;
  sqlite3_value* id = nullptr;  // owned (sqlite3_value_dup)
};

struct HybridCursor {
  sqlite3_vtab_cursor base;  // must be first
  std::vector<Hit> hits;
  size_t pos = 0;
  void clear() {
    for (Hit& h : hits) sqlite3_value_free(h.id);
    hits.clear();
    pos = 0;
  }
  ~HybridCursor() { clear(); }
};

struct Options {
  bool weighted = false;
  double rrf_k = 60;
  double wt = -1, wv = -1;
  int candidates = 0;
  bool has_dataset = false;
  std::string dataset;
  std::vector<std::pair<std::string, sqlite3_value*>> filters;  // owned values
  std::string column;
  ~Options() {
    for (auto& f : filters) sqlite3_value_free(f.second);
  }
};

struct Error {
  std::string msg;
  int rc = SQLITE_OK;
  bool set(int code, const std::string& m) {
    rc = code;
    msg = m;
    return false;
  }
};

bool is_text(sqlite3_value* v) { return sqlite3_value_type(v) == SQLITE_TEXT; }
std::string text_of(sqlite3_value* v) {
  const unsigned char* t = sqlite3_value_text(v);
  return t ? std::string(reinterpret_cast<const char*>(t), size_t(sqlite3_value_bytes(v))) : std::string();
}

bool parse_options(sqlite3* db, sqlite3_value* json, Options* o, Error* err) {
  if (json == nullptr || sqlite3_value_type(json) == SQLITE_NULL) return true;
  Stmt valid(db, "select json_valid(?1) and json_type(?1) = 'object'");
  if (!valid.ok()) return err->set(valid.rc(), sqlite3_errmsg(db));
  sqlite3_bind_value(valid, 1, json);
  if (sqlite3_step(valid) != SQLITE_ROW || sqlite3_column_int(valid, 0) != 1) {
    return err->set(SQLITE_ERROR, "vec_hybrid: options must be a JSON object");
  }
  Stmt each(db, "select key, value, type from json_each(?1)");
  if (!each.ok()) return err->set(each.rc(), sqlite3_errmsg(db));
  sqlite3_bind_value(each, 1, json);
  int rc;
  while ((rc = sqlite3_step(each)) == SQLITE_ROW) {
    const std::string key = reinterpret_cast<const char*>(sqlite3_column_text(each, 0));
    sqlite3_value* val = sqlite3_column_value(each, 1);
    const std::string type = reinterpret_cast<const char*>(sqlite3_column_text(each, 2));
    const bool number = type == "integer" || type == "real";
    if (key == "fusion") {
      const std::string f = text_of(val);
      if (f != "rrf" && f != "weighted") return err->set(SQLITE_ERROR, "vec_hybrid: fusion must be 'rrf' or 'weighted', got '" + f + "'");
      o->weighted = f == "weighted";
    } else if (key == "rrf_k") {
      if (!number || sqlite3_value_double(val) < 0) return err->set(SQLITE_ERROR, "vec_hybrid: rrf_k must be a number >= 0");
      o->rrf_k = sqlite3_value_double(val);
    } else if (key == "weights") {
      Stmt w(db, "select json_extract(?1, '$[0]'), json_extract(?1, '$[1]'), json_array_length(?1)");
      if (!w.ok()) return err->set(w.rc(), sqlite3_errmsg(db));
      sqlite3_bind_value(w, 1, val);
      if (type != "array" || sqlite3_step(w) != SQLITE_ROW || sqlite3_column_int(w, 2) != 2 ||
          sqlite3_column_type(w, 0) == SQLITE_TEXT || sqlite3_column_type(w, 1) == SQLITE_TEXT ||
          sqlite3_column_type(w, 0) == SQLITE_NULL || sqlite3_column_type(w, 1) == SQLITE_NULL ||
          sqlite3_column_double(w, 0) < 0 || sqlite3_column_double(w, 1) < 0) {
        return err->set(SQLITE_ERROR, "vec_hybrid: weights must be [text_weight, vector_weight], two numbers >= 0");
      }
      o->wt = sqlite3_column_double(w, 0);
      o->wv = sqlite3_column_double(w, 1);
    } else if (key == "candidates") {
      if (type != "integer" || sqlite3_value_int64(val) < 1 || sqlite3_value_int64(val) > kMaxK) {
        return err->set(SQLITE_ERROR, "vec_hybrid: candidates must be an integer from 1 to 4096");
      }
      o->candidates = sqlite3_value_int(val);
    } else if (key == "dataset") {
      if (type != "text") return err->set(SQLITE_ERROR, "vec_hybrid: dataset must be a string");
      o->has_dataset = true;
      o->dataset = text_of(val);
    } else if (key == "column") {
      if (type != "text") return err->set(SQLITE_ERROR, "vec_hybrid: column must be a string");
      o->column = text_of(val);
    } else if (key == "filter") {
      if (type != "object") return err->set(SQLITE_ERROR, "vec_hybrid: filter must be a JSON object {column: value}");
      Stmt f(db, "select key, value, type from json_each(?1)");
      if (!f.ok()) return err->set(f.rc(), sqlite3_errmsg(db));
      sqlite3_bind_value(f, 1, val);
      while (sqlite3_step(f) == SQLITE_ROW) {
        const std::string ft = reinterpret_cast<const char*>(sqlite3_column_text(f, 2));
        const std::string fk = reinterpret_cast<const char*>(sqlite3_column_text(f, 0));
        if (ft == "object" || ft == "array" || ft == "null") {
          return err->set(SQLITE_ERROR, "vec_hybrid: filter." + fk + " must be a number, string or boolean");
        }
        sqlite3_value* v = sqlite3_value_dup(sqlite3_column_value(f, 1));
        if (v == nullptr) return err->set(SQLITE_NOMEM, "out of memory");
        o->filters.emplace_back(fk, v);
      }
    } else {
      return err->set(SQLITE_ERROR, "vec_hybrid: unknown option '" + key +
                                        "' (known: fusion, rrf_k, weights, candidates, dataset, filter, column)");
    }
  }
  if (rc != SQLITE_DONE) return err->set(rc, sqlite3_errmsg(db));
  return true;
}

// The vector table: its kind and, for vec0, its vector column; for vec, its id column.
struct VecTable {
  bool is_vec0 = false;
  std::string name;
  std::string column;  // vec0: vector column; vec: MATCH column (the id column)
};

bool describe_vec_table(sqlite3* db, const std::string& name, const std::string& column_opt, VecTable* t, Error* err) {
  Stmt q(db, "select sql from sqlite_schema where type = 'table' and name = ?1 collate nocase");
  if (!q.ok()) return err->set(q.rc(), sqlite3_errmsg(db));
  sqlite3_bind_text(q, 1, name.c_str(), -1, SQLITE_TRANSIENT);
  if (sqlite3_step(q) != SQLITE_ROW || sqlite3_column_type(q, 0) != SQLITE_TEXT) {
    return err->set(SQLITE_ERROR, "vec_hybrid: no such vector table: " + name);
  }
  std::string sql = reinterpret_cast<const char*>(sqlite3_column_text(q, 0));
  std::string lower = sql;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  const size_t using_at = lower.find(" using ");
  if (using_at == std::string::npos) return err->set(SQLITE_ERROR, "vec_hybrid: " + name + " is not a vec0 or vec table");
  size_t p = using_at + 7;
  while (p < lower.size() && lower[p] == ' ') p++;
  const std::string rest = lower.substr(p);
  t->name = name;
  if (rest.rfind("vec0", 0) == 0) {
    t->is_vec0 = true;
    if (!column_opt.empty()) {
      t->column = column_opt;
      return true;
    }
    // The first declared `name float[N]` / `int8[N]` / `bit[N]` column.
    const size_t open = sql.find('(', p);
    const size_t close = sql.rfind(')');
    if (open != std::string::npos && close != std::string::npos && close > open) {
      std::string body = sql.substr(open + 1, close - open - 1);
      size_t start = 0;
      while (start <= body.size()) {
        size_t comma = body.find(',', start);
        if (comma == std::string::npos) comma = body.size();
        std::string part = body.substr(start, comma - start);
        std::string lp = part;
        std::transform(lp.begin(), lp.end(), lp.begin(), [](unsigned char c) { return char(std::tolower(c)); });
        if (lp.find('[') != std::string::npos &&
            (lp.find("float") != std::string::npos || lp.find("int8") != std::string::npos ||
             lp.find("bit") != std::string::npos || lp.find("f32") != std::string::npos)) {
          size_t a = part.find_first_not_of(" \t\n\r");
          size_t b = part.find_first_of(" \t\n\r", a);
          std::string col = part.substr(a, b - a);
          if (col.size() >= 2 && (col[0] == '"' || col[0] == '`' || col[0] == '[')) col = col.substr(1, col.size() - 2);
          t->column = col;
          return true;
        }
        start = comma + 1;
      }
    }
    return err->set(SQLITE_ERROR, "vec_hybrid: cannot find the vector column of " + name + " (pass options.column)");
  }
  if (rest.rfind("vec", 0) == 0 && (rest.size() == 3 || rest[3] == '(' || rest[3] == ' ')) {
    // The MATCH column is the table's second declared column (dataset_id, <idcol>, match_score).
    Stmt cols(db, string_printf("select name from pragma_table_info(%Q) where cid = 1", name.c_str()));
    if (!cols.ok() || sqlite3_step(cols) != SQLITE_ROW) return err->set(SQLITE_ERROR, "vec_hybrid: cannot read the columns of " + name);
    t->column = reinterpret_cast<const char*>(sqlite3_column_text(cols, 0));
    return true;
  }
  return err->set(SQLITE_ERROR, "vec_hybrid: " + name + " is not a vec0 or vec table");
}

bool run_hybrid(sqlite3* db, sqlite3_value** args, HybridCursor* cur, Error* err) {
  for (int i : {0, 1}) {
    if (!is_text(args[i]) || sqlite3_value_bytes(args[i]) == 0) {
      return err->set(SQLITE_ERROR, std::string("vec_hybrid: ") + (i == 0 ? "fts_table" : "vec_table") + " must be a table name");
    }
  }
  // k: an INTEGER, or a REAL holding a whole number (JavaScript numbers bind as REAL).
  const int ktype = sqlite3_value_type(args[4]);
  const double kd = sqlite3_value_double(args[4]);
  if ((ktype != SQLITE_INTEGER && ktype != SQLITE_FLOAT) || kd != std::floor(kd) || kd < 1 || kd > kMaxK) {
    return err->set(SQLITE_ERROR, "vec_hybrid: k must be an integer from 1 to 4096");
  }
  const int k = int(kd);
  Options o;
  if (!parse_options(db, args[5], &o, err)) return false;
  if (o.wt < 0) o.wt = o.wv = o.weighted ? 0.5 : 1.0;
  const int n_cand = std::max(k, o.candidates > 0 ? o.candidates : 50);
  const std::string fts = text_of(args[0]);
  VecTable vt;
  if (!describe_vec_table(db, text_of(args[1]), o.column, &vt, err)) return false;
  if (!vt.is_vec0) {
    if (!o.has_dataset) return err->set(SQLITE_ERROR, "vec_hybrid: options.dataset is required for the vec table " + vt.name);
    if (!o.filters.empty()) return err->set(SQLITE_ERROR, "vec_hybrid: filter applies to vec0 tables; a vec table filters by options.dataset");
  } else if (o.has_dataset) {
    return err->set(SQLITE_ERROR, "vec_hybrid: options.dataset applies to vec tables; filter a vec0 table with options.filter");
  }
  const std::string shadow = "_vec_" + vt.name;
  std::string where;  // vec0 filters: " and "col" = ?N" from ?3 on
  for (size_t i = 0; i < o.filters.size(); i++) {
    where += string_printf(" and \"%w\" = ?%d", o.filters[i].first.c_str(), int(i) + 3);
  }
  auto bind_filters = [&](sqlite3_stmt* st) {
    for (size_t i = 0; i < o.filters.size(); i++) sqlite3_bind_value(st, int(i) + 3, o.filters[i].second);
  };

  std::unordered_map<sqlite3_int64, size_t> index;
  std::vector<Hit>& hits = cur->hits;
  auto hit_for = [&](sqlite3_int64 rowid) -> Hit& {
    auto it = index.find(rowid);
    if (it != index.end()) return hits[it->second];
    index.emplace(rowid, hits.size());
    hits.emplace_back();
    hits.back().rowid = rowid;
    return hits.back();
  };

  // Vector side.
  const bool has_vector = sqlite3_value_type(args[3]) != SQLITE_NULL;
  if (has_vector) {
    std::string sql = vt.is_vec0
        ? string_printf("select rowid, distance from \"%w\" where \"%w\" match ?1 and k = ?2%s", vt.name.c_str(), vt.column.c_str(), where.c_str())
        : string_printf("select rowid, 1 - match_score from \"%w\" "
                        "where dataset_id = ?3 and \"%w\" match ?1 order by match_score desc limit ?2",
                        vt.name.c_str(), vt.column.c_str());
    Stmt st(db, sql);
    if (!st.ok()) return err->set(st.rc(), std::string("vec_hybrid: vector side: ") + sqlite3_errmsg(db));
    sqlite3_bind_value(st, 1, args[3]);
    sqlite3_bind_int(st, 2, n_cand);
    if (vt.is_vec0) bind_filters(st);
    else sqlite3_bind_text(st, 3, o.dataset.c_str(), -1, SQLITE_TRANSIENT);
    int rc, rank = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      Hit& h = hit_for(sqlite3_column_int64(st, 0));
      h.has_vec = true;
      h.vec_rank = ++rank;
      h.vec_distance = sqlite3_column_double(st, 1);
      if (h.id == nullptr && vt.is_vec0) h.id = sqlite3_value_dup(sqlite3_column_value(st, 0));
    }
    if (rc != SQLITE_DONE) return err->set(rc, std::string("vec_hybrid: vector side: ") + sqlite3_errmsg(db));
    if (!vt.is_vec0 && !hits.empty()) {  // the documents' ids, from the data table
      Stmt ids(db, string_printf("select id from \"%w\" where rowid = ?1", shadow.c_str()));
      if (!ids.ok()) return err->set(ids.rc(), std::string("vec_hybrid: vector side: ") + sqlite3_errmsg(db));
      for (Hit& h : hits) {
        sqlite3_bind_int64(ids, 1, h.rowid);
        if (sqlite3_step(ids) == SQLITE_ROW) h.id = sqlite3_value_dup(sqlite3_column_value(ids, 0));
        sqlite3_reset(ids);
      }
    }
  }

  // Keyword side: FTS5 in rank order, each candidate checked against the vector table (and its
  // filters). Pages of LIMIT/OFFSET (FTS5 sorts a bounded top list much faster than all matches):
  // the first page is the candidate count, later pages double, until enough candidates pass.
  const std::string query = sqlite3_value_type(args[2]) == SQLITE_NULL ? std::string() : text_of(args[2]);
  if (!query.empty()) {
    Stmt st(db, string_printf("select rowid, rank from \"%w\" where \"%w\" match ?1 order by rank limit ?2 offset ?3",
                              fts.c_str(), fts.c_str()));
    if (!st.ok()) return err->set(st.rc(), std::string("vec_hybrid: keyword side: ") + sqlite3_errmsg(db));
    std::string check_sql = vt.is_vec0
        ? string_printf("select rowid from \"%w\" where rowid = ?1%s", vt.name.c_str(), where.c_str())
        : string_printf("select id from \"%w\" where rowid = ?1 and dataset_id = ?2", shadow.c_str());
    Stmt check(db, check_sql);
    if (!check.ok()) return err->set(check.rc(), std::string("vec_hybrid: keyword side: ") + sqlite3_errmsg(db));
    if (vt.is_vec0) bind_filters(check);
    else sqlite3_bind_text(check, 2, o.dataset.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_value(st, 1, args[2]);
    int rank = 0;
    sqlite3_int64 limit = n_cand, offset = 0;
    for (bool more = true; more && rank < n_cand;) {
      sqlite3_bind_int64(st, 2, limit);
      sqlite3_bind_int64(st, 3, offset);
      sqlite3_int64 fetched = 0;
      int rc = SQLITE_DONE;
      while (rank < n_cand && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        fetched++;
        const sqlite3_int64 rowid = sqlite3_column_int64(st, 0);
        const double bm25 = sqlite3_column_double(st, 1);
        sqlite3_bind_int64(check, 1, rowid);
        const int crc = sqlite3_step(check);
        if (crc == SQLITE_ROW) {
          Hit& h = hit_for(rowid);
          h.has_text = true;
          h.text_rank = ++rank;
          h.text_score = -bm25;
          if (h.id == nullptr) h.id = sqlite3_value_dup(sqlite3_column_value(check, 0));
        }
        sqlite3_reset(check);
        if (crc != SQLITE_ROW && crc != SQLITE_DONE) return err->set(crc, std::string("vec_hybrid: keyword side: ") + sqlite3_errmsg(db));
      }
      if (rank < n_cand && rc != SQLITE_DONE) return err->set(rc, std::string("vec_hybrid: keyword side: ") + sqlite3_errmsg(db));
      sqlite3_reset(st);
      more = fetched == limit;
      offset += limit;
      limit *= 2;
    }
  }

  // Fusion.
  if (o.weighted) {
    double tmin = INFINITY, tmax = -INFINITY, vmin = INFINITY, vmax = -INFINITY;
    for (const Hit& h : hits) {
      if (h.has_text) tmin = std::min(tmin, h.text_score), tmax = std::max(tmax, h.text_score);
      if (h.has_vec) vmin = std::min(vmin, -h.vec_distance), vmax = std::max(vmax, -h.vec_distance);
    }
    for (Hit& h : hits) {
      double s = 0;
      if (h.has_text) s += o.wt * (tmax > tmin ? (h.text_score - tmin) / (tmax - tmin) : 1.0);
      if (h.has_vec) s += o.wv * (vmax > vmin ? (-h.vec_distance - vmin) / (vmax - vmin) : 1.0);
      h.fused = s;
    }
  } else {
    for (Hit& h : hits) {
      h.fused = (h.has_text ? o.wt / (o.rrf_k + h.text_rank) : 0) + (h.has_vec ? o.wv / (o.rrf_k + h.vec_rank) : 0);
    }
  }
  std::sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) {
    return a.fused != b.fused ? a.fused > b.fused : a.rowid < b.rowid;
  });
  while (hits.size() > size_t(k)) {
    sqlite3_value_free(hits.back().id);
    hits.pop_back();
  }
  for (const Hit& h : hits) {
    if (h.id == nullptr) return err->set(SQLITE_NOMEM, "out of memory");
  }
  return true;
}

int hyConnect(sqlite3* db, void*, int, const char* const*, sqlite3_vtab** ppVtab, char**) {
  int rc = sqlite3_declare_vtab(db,
      "CREATE TABLE x(id, text_rank, text_score, vec_rank, vec_distance, score, "
      "fts_table hidden, vec_table hidden, query_text hidden, query_vector hidden, k hidden, options hidden)");
  if (rc != SQLITE_OK) return rc;
  HybridVtab* vtab = static_cast<HybridVtab*>(sqlite3_malloc(sizeof(HybridVtab)));
  if (vtab == nullptr) return SQLITE_NOMEM;
  vtab->base = sqlite3_vtab{};
  vtab->db = db;
  *ppVtab = &vtab->base;
  return SQLITE_OK;
}

int hyDisconnect(sqlite3_vtab* vtab) {
  sqlite3_free(vtab);
  return SQLITE_OK;
}

// idxNum: bit i set when hidden argument i (0..5) is constrained; argv follows that order.
int hyBestIndex(sqlite3_vtab* vtab, sqlite3_index_info* info) {
  int slot[6] = {-1, -1, -1, -1, -1, -1};
  for (int i = 0; i < info->nConstraint; i++) {
    const auto& c = info->aConstraint[i];
    if (c.iColumn < kFts || c.iColumn > kOptions || c.op != SQLITE_INDEX_CONSTRAINT_EQ) continue;
    if (!c.usable) return SQLITE_CONSTRAINT;
    slot[c.iColumn - kFts] = i;
  }
  for (int a = 0; a < 5; a++) {
    if (slot[a] < 0) {
      sqlite3_free(vtab->zErrMsg);
      vtab->zErrMsg = sqlite3_mprintf(
          "vec_hybrid: expected arguments (fts_table, vec_table, query_text, query_vector, k[, options])");
      return SQLITE_ERROR;
    }
  }
  int argv = 0, mask = 0;
  for (int a = 0; a < 6; a++) {
    if (slot[a] < 0) continue;
    info->aConstraintUsage[slot[a]].argvIndex = ++argv;
    info->aConstraintUsage[slot[a]].omit = 1;
    mask |= 1 << a;
  }
  info->idxNum = mask;
  info->estimatedCost = 1000;
  info->estimatedRows = 10;
  return SQLITE_OK;
}

int hyOpen(sqlite3_vtab*, sqlite3_vtab_cursor** ppCursor) {
  HybridCursor* cur = new (std::nothrow) HybridCursor();
  if (cur == nullptr) return SQLITE_NOMEM;
  *ppCursor = &cur->base;
  return SQLITE_OK;
}

int hyClose(sqlite3_vtab_cursor* cursor) {
  delete reinterpret_cast<HybridCursor*>(cursor);
  return SQLITE_OK;
}

int hyFilter(sqlite3_vtab_cursor* cursor, int idxNum, const char*, int argc, sqlite3_value** argv) {
  HybridCursor* cur = reinterpret_cast<HybridCursor*>(cursor);
  HybridVtab* vtab = reinterpret_cast<HybridVtab*>(cursor->pVtab);
  cur->clear();
  sqlite3_value* args[6] = {nullptr, nullptr, nullptr, nullptr, nullptr, nullptr};
  int j = 0;
  for (int a = 0; a < 6; a++) {
    if ((idxNum & (1 << a)) && j < argc) args[a] = argv[j++];
  }
  Error err;
  bool ok;
  try {
    ok = run_hybrid(vtab->db, args, cur, &err);
  } catch (const std::bad_alloc&) {
    ok = false;
    err.rc = SQLITE_NOMEM;
  }
  if (!ok) {
    cur->clear();
    if (err.rc == SQLITE_NOMEM) return SQLITE_NOMEM;
    sqlite3_free(cursor->pVtab->zErrMsg);
    cursor->pVtab->zErrMsg = sqlite3_mprintf("%s", err.msg.c_str());
    return SQLITE_ERROR;
  }
  return SQLITE_OK;
}

int hyNext(sqlite3_vtab_cursor* cursor) {
  reinterpret_cast<HybridCursor*>(cursor)->pos++;
  return SQLITE_OK;
}

int hyEof(sqlite3_vtab_cursor* cursor) {
  const HybridCursor* cur = reinterpret_cast<HybridCursor*>(cursor);
  return cur->pos >= cur->hits.size();
}

int hyColumn(sqlite3_vtab_cursor* cursor, sqlite3_context* ctx, int col) {
  const HybridCursor* cur = reinterpret_cast<HybridCursor*>(cursor);
  const Hit& h = cur->hits[cur->pos];
  switch (col) {
    case kId: sqlite3_result_value(ctx, h.id); break;
    case kTextRank: if (h.has_text) sqlite3_result_int(ctx, h.text_rank); else sqlite3_result_null(ctx); break;
    case kTextScore: if (h.has_text) sqlite3_result_double(ctx, h.text_score); else sqlite3_result_null(ctx); break;
    case kVecRank: if (h.has_vec) sqlite3_result_int(ctx, h.vec_rank); else sqlite3_result_null(ctx); break;
    case kVecDistance: if (h.has_vec) sqlite3_result_double(ctx, h.vec_distance); else sqlite3_result_null(ctx); break;
    case kScore: sqlite3_result_double(ctx, h.fused); break;
    default: sqlite3_result_null(ctx); break;
  }
  return SQLITE_OK;
}

int hyRowid(sqlite3_vtab_cursor* cursor, sqlite3_int64* pRowid) {
  const HybridCursor* cur = reinterpret_cast<HybridCursor*>(cursor);
  *pRowid = cur->hits[cur->pos].rowid;
  return SQLITE_OK;
}

sqlite3_module make_module() {
  sqlite3_module m{};
  m.iVersion = 0;
  m.xCreate = nullptr;  // eponymous-only
  m.xConnect = hyConnect;
  m.xBestIndex = hyBestIndex;
  m.xDisconnect = hyDisconnect;
  m.xOpen = hyOpen;
  m.xClose = hyClose;
  m.xFilter = hyFilter;
  m.xNext = hyNext;
  m.xEof = hyEof;
  m.xColumn = hyColumn;
  m.xRowid = hyRowid;
  return m;
}

const sqlite3_module kHybridModule = make_module();

}  // namespace

int register_vec_hybrid(sqlite3* db, char** pzErr) {
  int rc = sqlite3_create_module_v2(db, "vec_hybrid", &kHybridModule, nullptr, nullptr);
  if (rc != SQLITE_OK) *pzErr = sqlite3_mprintf("vecsqlite: cannot register vec_hybrid: %s", sqlite3_errmsg(db));
  return rc;
}

}  // namespace vecsqlite
