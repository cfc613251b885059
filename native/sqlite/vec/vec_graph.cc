// index=hnsw: one HNSW graph (core/hnsw.h) per dataset, over the rows of that dataset's arena
// (node ids = data-table rowids), so a graph search can only ever return that dataset's rows.
//
// LIFECYCLE. The graph lives in DatasetIndex beside the arena and follows it:
//   full build from the data table   the arena is filled, then the graph is built over all of
//                                    its rows with insert_many on every core (graph_builds)
//   load of an HNS1 blob             the arena from the vector part, the graph from the graph
//                                    part (graph_loads); a damaged graph part, or one whose
//                                    nodes do not match the rows, is rebuilt (graph_rebuilds,
//                                    graph_builds) and the blob rewritten
//   load of a VSQ1 / legacy blob     the graph is built from the loaded rows and the blob
//                                    rewritten as HNS1 (graph_builds)
//   incremental application          every row the cache adds or removes is inserted into or
//   of this connection's writes      removed from the graph (with repair) one by one
//                                    (graph_updates); an update is a remove then an insert
// Rows the graph cannot place (zero or extreme magnitude) are kept in `outside` and scanned
// with every graph search, so they are found exactly as the scan finds them.
//
// SEARCH. A MATCH with a k (LIMIT [+ OFFSET]) and no match_score bound asks graph_search();
// the graph is used when the cost policy of core/search.h (ann_preferred) prefers it over the
// exact scan of the dataset, or always with ann=always. Candidates are rescored exactly from
// the arena's rows by search(), so the distances of returned rows are the scan's. When the
// graph reaches fewer than min(k, rows) rows (graph_fallbacks), or cannot place the query,
// the caller runs the exact scan instead.
#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "core/search.h"
#include "kernels/kernels.h"
#include "sqlite/vec/vec_index.h"
#include "sqlite/vec/vec_int.h"

namespace vecsqlite {
namespace vec {

Counter g_graph_builds("vec_hnsw_builds"), g_graph_loads("vec_hnsw_loads"), g_graph_rebuilds("vec_hnsw_rebuilds"),
    g_graph_searches("vec_hnsw_searches"), g_graph_fallbacks("vec_hnsw_exact_fallbacks");

namespace {

Counter g_graph_updates("vec_hnsw_updates");

size_t build_threads() { return std::max<size_t>(1, std::thread::hardware_concurrency()); }

std::unique_ptr<HnswIndex> new_graph(const HnswParams& p, size_t dim) {
  return std::unique_ptr<HnswIndex>(new HnswIndex(Dtype::f32, dim, Metric::cos, p));
}

}  // namespace

void graph_add(DatasetData* ix, int64_t rowid) {
  if (!ix->graph_wanted || !ix->arena) return;
  const void* row = ix->arena->find(rowid);
  if (row == nullptr) return;
  if (!ix->graph) ix->graph = new_graph(ix->graph_params, ix->dim);  // the dataset's first row
  if (ix->graph->accepts(row)) {
    ix->graph->insert(rowid, row);
  } else {
    ix->outside.insert(rowid);
  }
  g_graph_updates.add();
}

void graph_remove(DatasetData* ix, int64_t rowid) {
  if (!ix->graph) return;
  if (ix->graph->remove(rowid) || ix->outside.erase(rowid) != 0) g_graph_updates.add();
}

void graph_build(const Table* t, DatasetData* ix) {
  ix->graph.reset();
  ix->outside.clear();
  ix->graph_wanted = true;
  ix->graph_params = t->hnsw_params;
  if (!ix->arena || ix->arena->empty()) return;  // built on the first row that arrives
  std::unique_ptr<HnswIndex> g = new_graph(t->hnsw_params, ix->dim);
  std::vector<int64_t> ids;
  std::vector<const void*> rows;
  ids.reserve(ix->arena->size());
  rows.reserve(ix->arena->size());
  for (size_t s = 0; s < ix->arena->size(); s++) {
    const void* row = ix->arena->row_at(s);
    if (g->accepts(row)) {
      ids.push_back(ix->arena->id_at(s));
      rows.push_back(row);
    } else {
      ix->outside.insert(ix->arena->id_at(s));
    }
  }
  g->insert_many(ids.data(), rows.data(), ids.size(), build_threads());
  ix->graph = std::move(g);
  g_graph_builds.add();
}

bool graph_load(const Table* t, DatasetData* ix, const uint8_t* part, size_t n) {
  ix->graph.reset();
  ix->outside.clear();
  ix->graph_wanted = true;
  ix->graph_params = t->hnsw_params;
  // No rows: nothing to load (the graph is created with the first row that arrives).
  if (!ix->arena || ix->arena->empty()) return true;
  GraphPart gp;
  if (!split_graph_part(part, n, &gp)) return false;
  std::unique_ptr<HnswIndex> g = new_graph(t->hnsw_params, ix->dim);
  std::string err;
  if (!g->decode_meta(gp.meta, gp.meta_bytes, &err) || gp.blocks.size() != g->blocks()) return false;
  for (size_t b = 0; b < gp.blocks.size(); b++) {
    if (!g->decode_block(b, gp.blocks[b].first, gp.blocks[b].second, &err)) return false;
  }
  const Arena& a = *ix->arena;
  if (!g->finish_load([&](int64_t id) { return a.find(id); }, &err)) return false;
  // Every row must be a node, or one the graph cannot place.
  std::unordered_set<int64_t> outside;
  for (size_t s = 0; s < a.size(); s++) {
    const int64_t id = a.id_at(s);
    if (g->contains(id)) continue;
    if (g->accepts(a.row_at(s))) return false;
    outside.insert(id);
  }
  ix->graph = std::move(g);
  ix->outside.swap(outside);
  g_graph_loads.add();
  return true;
}

void graph_encode(const HnswIndex& g, std::vector<uint8_t>* out) {
  const std::string meta = g.encode_meta();
  append_chunk(out, meta.data(), meta.size());
  append_u32(out, uint32_t(g.blocks()));
  for (size_t b = 0; b < g.blocks(); b++) {
    const std::string block = g.encode_block(b);
    append_chunk(out, block.data(), block.size());
  }
}

bool graph_search(const Table* t, const DatasetData* ix, const float* q, size_t k, std::vector<TopK::Item>* out) {
  out->clear();
  if (!ix->graph || ix->graph->size() == 0 || !ix->arena) return false;
  const Arena& a = *ix->arena;
  const size_t n = a.size();
  const size_t ef = std::max<size_t>(t->ef_search, k);
  if (!t->ann_always && !ann_preferred(*ix->graph, n, k, ef)) return false;
  // Rows outside the graph are scanned alongside it.
  std::vector<SearchSource> sources;
  if (!ix->outside.empty()) {
    SearchSource src;
    src.rows = a.view();
    src.filter.kind = RowFilter::Kind::slots;
    for (int64_t id : ix->outside) {
      size_t slot;
      if (a.slot_of(id, &slot)) src.filter.slots.push_back(slot);
    }
    sources.push_back(std::move(src));
  }
  AnnPlan plan;
  plan.index = ix->graph.get();
  plan.ef = ef;
  plan.row_of = [&a](int64_t id) { return a.find(id); };
  SearchRequest req;
  req.metric = Metric::cos;
  req.query = q;
  req.k = k;
  req.ann = &plan;
  g_graph_searches.add();
  if (!search(kernels(), req, sources, out)) {
    out->clear();
    return false;
  }
  if (out->size() < std::min(k, n)) {  // the graph could not reach enough rows
    g_graph_fallbacks.add();
    out->clear();
    return false;
  }
  return true;
}

}  // namespace vec
}  // namespace vecsqlite
