// vec_knn_batch: the k nearest rows of a vec0 column for many query vectors in one pass over
// memory.
//
//   select query, rowid, id, distance from vec_knn_batch(table, queries, k [, column])
//
//   table     the vec0 table's name (in any attached schema; "schema.table" picks one)
//   queries   a JSON array of vectors ('[[1, 2], [3, 4]]', float32 or int8 columns) or a BLOB
//             holding the vectors back to back in the column's encoding (float32 little-endian,
//             int8 bytes or bit bytes): its length must be a multiple of one vector's
//   k         rows per query, 0 to 4096
//   column    the vector column (default: the first one)
//
// Rows: for each query in order (`query` counts from 0), its nearest rows nearest first: exactly
// the rows and distances `where column match ? and k = ?` returns for that vector alone (ties by
// rowid). `id` is the row's text primary key on a `text primary key` table, else the rowid.
//
// Exact scans run through search_batch (core/search.h): the rows are read block by block while
// every query is scored against each block, so a batch of 64 queries reads memory about once
// instead of 64 times. A column with a graph index answers each query the way a single KNN
// query would (the graph when it costs less, the exact scan otherwise); the queries the graph
// does not take are scanned together. No partition or metadata filters: those take the single
// query form.
//
// Declared schema: CREATE TABLE x(query, rowid, id, distance, tbl hidden, queries hidden,
// k hidden, col hidden). The table, queries and k constraints are required (xBestIndex answers
// SQLITE_CONSTRAINT without them: "no query solution").
#include <algorithm>
#include <cmath>
#include <new>
#include <string>
#include <vector>

#include "sqlite/vec0/vec0_int.h"

namespace vecsqlite {
namespace vec0 {
namespace {

constexpr int kColQuery = 0, kColRowid = 1, kColId = 2, kColDistance = 3;
constexpr int kColTable = 4, kColQueries = 5, kColK = 6, kColColumn = 7;
constexpr int64_t kMaxK = 4096;

struct BatchVtab {
  sqlite3_vtab base;  // must be first
  sqlite3* db = nullptr;
};

struct Hit {
  int64_t query, rowid;
  double distance;
  std::string id;  // text primary key, or empty
  bool text = false;
};

struct BatchCursor {
  sqlite3_vtab_cursor base;  // must be first
  std::vector<Hit> hits;
  size_t at = 0;
};

int fail(sqlite3_vtab* vt, const std::string& msg) {
  sqlite3_free(vt->zErrMsg);
  vt->zErrMsg = sqlite3_mprintf("vec_knn_batch: %s", msg.c_str());
  return SQLITE_ERROR;
}

int batch_connect(sqlite3* db, void*, int, const char* const*, sqlite3_vtab** pp, char**) {
  int rc = sqlite3_declare_vtab(
      db, "CREATE TABLE x(query, rowid, id, distance, tbl HIDDEN, queries HIDDEN, k HIDDEN, col HIDDEN)");
  if (rc != SQLITE_OK) return rc;
  BatchVtab* v = new (std::nothrow) BatchVtab();
  if (v == nullptr) return SQLITE_NOMEM;
  std::memset(&v->base, 0, sizeof v->base);
  v->db = db;
  *pp = &v->base;
  return SQLITE_OK;
}

int batch_disconnect(sqlite3_vtab* p) {
  delete reinterpret_cast<BatchVtab*>(p);
  return SQLITE_OK;
}

// argv order: table, queries, k, then the column when given (idxNum bit 0).
int batch_best_index(sqlite3_vtab*, sqlite3_index_info* info) {
  int at[4] = {-1, -1, -1, -1};
  for (int i = 0; i < info->nConstraint; i++) {
    const auto& c = info->aConstraint[i];
    if (c.op != SQLITE_INDEX_CONSTRAINT_EQ || c.iColumn < kColTable) continue;
    if (!c.usable) return SQLITE_CONSTRAINT;
    at[c.iColumn - kColTable] = i;
  }
  if (at[0] < 0 || at[1] < 0 || at[2] < 0) return SQLITE_CONSTRAINT;
  int arg = 1;
  for (int j = 0; j < 4; j++) {
    if (at[j] < 0) continue;
    info->aConstraintUsage[at[j]].argvIndex = arg++;
    info->aConstraintUsage[at[j]].omit = 1;
  }
  info->idxNum = at[3] >= 0 ? 1 : 0;
  info->estimatedCost = 1000;
  info->estimatedRows = 1000;
  // Rows come out by query, then distance.
  if (info->nOrderBy == 1 && info->aOrderBy[0].iColumn == kColQuery && !info->aOrderBy[0].desc) info->orderByConsumed = 1;
  return SQLITE_OK;
}

int batch_open(sqlite3_vtab*, sqlite3_vtab_cursor** pp) {
  BatchCursor* c = new (std::nothrow) BatchCursor();
  if (c == nullptr) return SQLITE_NOMEM;
  *pp = &c->base;
  return SQLITE_OK;
}

int batch_close(sqlite3_vtab_cursor* p) {
  delete reinterpret_cast<BatchCursor*>(p);
  return SQLITE_OK;
}

// The vec0 table `spec` ("name" or "schema.name") connected on db, found the way SQLite
// resolves a name (an unqualified one in temp, then main, then the attached databases in
// order); connects it when this connection has not used it yet. Null with *err set when there
// is no such vec0 table.
Table* table_for(sqlite3* db, const std::string& spec, std::string* err) {
  std::string name = spec;
  std::vector<std::string> schemas;
  const size_t dot = spec.find('.');
  if (dot != std::string::npos) {
    schemas.push_back(spec.substr(0, dot));
    name = spec.substr(dot + 1);
  } else {
    schemas = {"temp", "main"};
    Stmt list(db, "PRAGMA database_list");
    while (list.rc() == SQLITE_OK && sqlite3_step(list.get()) == SQLITE_ROW) {
      const char* s = reinterpret_cast<const char*>(sqlite3_column_text(list.get(), 1));
      if (s != nullptr && sqlite3_stricmp(s, "main") != 0 && sqlite3_stricmp(s, "temp") != 0) schemas.push_back(s);
    }
  }
  for (const std::string& schema : schemas) {
    Table* t = find_table(db, schema.c_str(), name.c_str());
    if (t != nullptr) return t;
    // Not connected yet, or not here: compiling a statement that names it connects it.
    const std::string probe = string_printf("SELECT 1 FROM \"%w\".\"%w\" WHERE 0", schema.c_str(), name.c_str());
    sqlite3_stmt* st = nullptr;
    const int rc = sqlite3_prepare_v2(db, probe.c_str(), -1, &st, nullptr);
    sqlite3_finalize(st);
    if (rc != SQLITE_OK) continue;
    t = find_table(db, schema.c_str(), name.c_str());
    if (t == nullptr) *err = string_printf("%s is not a vec0 table", spec.c_str());
    return t;
  }
  *err = string_printf("no such table: %s", spec.c_str());
  return nullptr;
}

// Splits the queries argument into vectors of the column's type.
int parse_queries(sqlite3_value* v, const VectorColumn& vc, std::vector<Vector>* out, std::string* err) {
  const size_t one = vc.nbytes();
  if (sqlite3_value_type(v) == SQLITE_BLOB) {
    const size_t n = static_cast<size_t>(sqlite3_value_bytes(v));
    const uint8_t* p = static_cast<const uint8_t*>(sqlite3_value_blob(v));
    if (n == 0 || n % one != 0) {
      *err = string_printf("a BLOB of queries must hold whole %s[%d] vectors of %lld bytes; got %lld bytes",
                           dtype_name(vc.type), vc.dims, static_cast<long long>(one), static_cast<long long>(n));
      return SQLITE_ERROR;
    }
    if (p == nullptr) return SQLITE_NOMEM;
    for (size_t off = 0; off < n; off += one) {
      std::vector<uint8_t> bytes(p + off, p + off + one);
      Vector q;
      q.own(vc.type, std::move(bytes), static_cast<size_t>(vc.dims));
      if (vc.type == Dtype::f32) {
        for (size_t i = 0; i < q.dims(); i++) {
          if (!std::isfinite(q.f32()[i])) {
            *err = string_printf("query %lld: element %lld is not a finite number", static_cast<long long>(out->size()),
                                 static_cast<long long>(i));
            return SQLITE_ERROR;
          }
        }
      }
      out->push_back(std::move(q));
    }
    return SQLITE_OK;
  }
  if (sqlite3_value_type(v) != SQLITE_TEXT) {
    *err = string_printf("queries must be a JSON array of vectors or a BLOB, not %s", value_type_name(sqlite3_value_type(v)));
    return SQLITE_ERROR;
  }
  const char* s = reinterpret_cast<const char*>(sqlite3_value_text(v));
  const size_t n = static_cast<size_t>(sqlite3_value_bytes(v));
  if (s == nullptr) return SQLITE_NOMEM;
  size_t i = 0;
  auto skip = [&] {
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
  };
  skip();
  if (i >= n || s[i] != '[') {
    *err = "queries must be a JSON array of vectors ([[...], [...]])";
    return SQLITE_ERROR;
  }
  i++;
  skip();
  if (i < n && s[i] == ']') {
    i++;
  } else {
    for (;;) {
      skip();
      if (i >= n || s[i] != '[') {
        *err = string_printf("query %lld is not a JSON array", static_cast<long long>(out->size()));
        return SQLITE_ERROR;
      }
      const size_t start = i;
      while (i < n && s[i] != ']') i++;
      if (i >= n) {
        *err = string_printf("query %lld: unterminated JSON array", static_cast<long long>(out->size()));
        return SQLITE_ERROR;
      }
      i++;
      Vector q;
      std::string e;
      const int rc = parse_vector_json(s + start, static_cast<long>(i - start), vc.type, &q, &e);
      if (rc != SQLITE_OK) {
        if (rc == SQLITE_ERROR) *err = string_printf("query %lld: %s", static_cast<long long>(out->size()), e.c_str());
        return rc;
      }
      q.make_owned();
      if (static_cast<int>(q.dims()) != vc.dims) {
        *err = string_printf("query %lld has %lld dimensions; the \"%s\" column has %d", static_cast<long long>(out->size()),
                             static_cast<long long>(q.dims()),
                             vc.name.c_str(), vc.dims);
        return SQLITE_ERROR;
      }
      out->push_back(std::move(q));
      skip();
      if (i < n && s[i] == ',') {
        i++;
        continue;
      }
      if (i < n && s[i] == ']') {
        i++;
        break;
      }
      *err = "queries must be a JSON array of vectors ([[...], [...]])";
      return SQLITE_ERROR;
    }
  }
  skip();
  if (i != n) {
    *err = "unexpected text after the JSON array of queries";
    return SQLITE_ERROR;
  }
  return SQLITE_OK;
}

int run_batch(BatchVtab* vt, BatchCursor* cur, int argc, sqlite3_value** argv) {
  std::string err;
  if (sqlite3_value_type(argv[0]) != SQLITE_TEXT) return fail(&vt->base, "the first argument must be a table name");
  Table* t = table_for(vt->db, value_text(argv[0]), &err);
  if (t == nullptr) return fail(&vt->base, err);
  size_t col = 0;
  if (argc > 3) {
    const std::string name = value_text(argv[3]);
    size_t i = 0;
    while (i < t->cfg.vcols.size() && sqlite3_stricmp(t->cfg.vcols[i].name.c_str(), name.c_str()) != 0) i++;
    if (i == t->cfg.vcols.size()) return fail(&vt->base, string_printf("%s has no vector column \"%s\"", t->name.c_str(), name.c_str()));
    col = i;
  }
  const VectorColumn& vc = t->cfg.vcols[col];
  // k: an INTEGER, or a REAL holding an integer (what drivers that bind every number as a double
  // send).
  int64_t kk = -1;
  if (sqlite3_value_type(argv[2]) == SQLITE_INTEGER) {
    kk = sqlite3_value_int64(argv[2]);
  } else if (sqlite3_value_type(argv[2]) == SQLITE_FLOAT) {
    const double d = sqlite3_value_double(argv[2]);
    if (d >= 0 && d <= double(kMaxK) && d == std::floor(d)) kk = static_cast<int64_t>(d);
  }
  if (kk < 0 || kk > kMaxK)
    return fail(&vt->base, string_printf("k must be an integer from 0 to %lld", static_cast<long long>(kMaxK)));
  const size_t k = static_cast<size_t>(kk);
  std::vector<Vector> queries;
  int rc = parse_queries(argv[1], vc, &queries, &err);
  if (rc == SQLITE_NOMEM) return rc;
  if (rc != SQLITE_OK) return fail(&vt->base, err);
  rc = ensure_readable(t);
  if (rc != SQLITE_OK) return fail(&vt->base, t->base.zErrMsg != nullptr ? t->base.zErrMsg : sqlite3_errmsg(vt->db));
  std::vector<const Group*> groups;
  size_t rows = 0;
  for (size_t gi = 0; gi < t->cache().groups.size(); gi++) {
    const Group& g = *t->cache().groups[gi];
    if (g.arenas[col].empty()) continue;
    cache_prepare_sketch(t, gi, col);
    groups.push_back(&g);
    rows += g.arenas[col].size();
  }
  std::vector<std::vector<TopK::Item>> results(queries.size());
  if (k > 0 && !groups.empty() && !queries.empty()) {
    // Graph columns: each query as a single KNN query would take it; the rest scan together.
    std::vector<size_t> scan;
    const bool graph = !t->ann.empty() && t->ann[col].indexed();
    uint32_t ef = 0;
    if (graph) {
      rc = ann_default_ef(t, col, &ef);
      if (rc != SQLITE_OK) return fail(&vt->base, t->base.zErrMsg != nullptr ? t->base.zErrMsg : "the graph index failed");
    }
    for (size_t q = 0; q < queries.size(); q++) {
      bool answered = false;
      if (graph && ef > 0) {
        AnnQuery aq;
        aq.col = col;
        aq.k = k;
        aq.ef = ef;
        aq.query = &queries[q];
        aq.groups = groups;
        aq.all_groups = true;
        aq.admitted = rows;
        rc = ann_search(t, aq, &results[q], &answered);
        if (rc != SQLITE_OK) return fail(&vt->base, t->base.zErrMsg != nullptr ? t->base.zErrMsg : "the graph index failed");
      }
      if (!answered) scan.push_back(q);
    }
    if (!scan.empty()) {
      std::vector<const void*> qp;
      for (size_t q : scan) qp.push_back(queries[q].bytes());
      std::vector<SearchSource> sources(groups.size());
      for (size_t i = 0; i < groups.size(); i++) sources[i].rows = groups[i]->arenas[col].view();
      SearchRequest req;
      req.metric = vc.metric;
      req.k = k;
      std::vector<std::vector<TopK::Item>> outs;
      if (!search_batch(kernels(), req, qp.data(), qp.size(), sources, &outs))
        return fail(&vt->base, string_printf("no distance kernel for the \"%s\" column", vc.name.c_str()));
      for (size_t j = 0; j < scan.size(); j++) results[scan[j]] = std::move(outs[j]);
    }
  }
  for (size_t q = 0; q < results.size(); q++) {
    for (const TopK::Item& it : results[q]) {
      int64_t rowid = 0;
      if (!t->cache().rowid_at.find(it.id, &rowid)) continue;
      Hit h{static_cast<int64_t>(q), rowid, it.distance, std::string(), false};
      if (t->cfg.text_pk) {
        auto ti = t->cache().text_of.find(rowid);
        if (ti != t->cache().text_of.end()) {
          h.id = ti->second;
          h.text = true;
        }
      }
      cur->hits.push_back(std::move(h));
    }
  }
  return SQLITE_OK;
}

int batch_filter(sqlite3_vtab_cursor* p, int, const char*, int argc, sqlite3_value** argv) {
  BatchCursor* cur = reinterpret_cast<BatchCursor*>(p);
  BatchVtab* vt = reinterpret_cast<BatchVtab*>(p->pVtab);
  cur->hits.clear();
  cur->at = 0;
  if (argc < 3) return fail(&vt->base, "expected (table, queries, k [, column])");
  try {
    return run_batch(vt, cur, argc, argv);
  } catch (const std::bad_alloc&) {
    cur->hits.clear();
    return SQLITE_NOMEM;
  }
}

int batch_next(sqlite3_vtab_cursor* p) {
  reinterpret_cast<BatchCursor*>(p)->at++;
  return SQLITE_OK;
}

int batch_eof(sqlite3_vtab_cursor* p) {
  const BatchCursor* c = reinterpret_cast<BatchCursor*>(p);
  return c->at >= c->hits.size();
}

int batch_column(sqlite3_vtab_cursor* p, sqlite3_context* ctx, int col) {
  const BatchCursor* c = reinterpret_cast<BatchCursor*>(p);
  const Hit& h = c->hits[c->at];
  switch (col) {
    case kColQuery: sqlite3_result_int64(ctx, h.query); break;
    case kColRowid: sqlite3_result_int64(ctx, h.rowid); break;
    case kColId:
      if (h.text) sqlite3_result_text(ctx, h.id.data(), static_cast<int>(h.id.size()), SQLITE_TRANSIENT);
      else sqlite3_result_int64(ctx, h.rowid);
      break;
    case kColDistance: sqlite3_result_double(ctx, h.distance); break;
    default: sqlite3_result_null(ctx); break;
  }
  return SQLITE_OK;
}

int batch_rowid(sqlite3_vtab_cursor* p, sqlite3_int64* out) {
  const BatchCursor* c = reinterpret_cast<BatchCursor*>(p);
  *out = c->hits[c->at].rowid;
  return SQLITE_OK;
}

sqlite3_module make_module() {
  sqlite3_module m;
  std::memset(&m, 0, sizeof m);
  m.xConnect = batch_connect;  // eponymous only: xCreate stays null
  m.xBestIndex = batch_best_index;
  m.xDisconnect = batch_disconnect;
  m.xOpen = batch_open;
  m.xClose = batch_close;
  m.xFilter = batch_filter;
  m.xNext = batch_next;
  m.xEof = batch_eof;
  m.xColumn = batch_column;
  m.xRowid = batch_rowid;
  return m;
}

const sqlite3_module kBatchModule = make_module();

}  // namespace
}  // namespace vec0

int register_vec_knn_batch(sqlite3* db, char** pzErr) {
  const int rc = sqlite3_create_module_v2(db, "vec_knn_batch", &vec0::kBatchModule, nullptr, nullptr);
  if (rc != SQLITE_OK) *pzErr = sqlite3_mprintf("vecsqlite: cannot register vec_knn_batch: %s", sqlite3_errmsg(db));
  return rc;
}

}  // namespace vecsqlite
