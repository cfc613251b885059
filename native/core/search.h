// search(): the one entry point through which every table finds the nearest rows.
//
// A caller (the `vec0` KNN, the dataset-aware `vec` MATCH, the JS topK) describes what to
// search: one or more sources of rows (an arena's RowView, e.g. one per partition), each with
// the rows that take part (all, a bitmap, or a list of slots, possibly computed lazily), and a
// request (metric, query, k, distance bounds). search() owns everything after that:
//
//   1. filters: deferred row filters are computed on search threads (several sources: shared
//      out between threads; one large source: its resolver may split its own work);
//   2. the plan: the rows to scan, cut into parts of about equal cost; the number of parts is
//      the thread policy's (parallel.h), so no caller decides threads on its own;
//   3. the scans: block kernels over ranges (bitmaps masked), gathered blocks over slot lists,
//      and the int8 sketch pre-filter (sketch.h) wherever a source keeps one and k is small
//      enough for it to pay (k <= rows / 16);
//   4. the top-k: one TopK per part, merged; ties by the smaller id.
//
// The results are the same however the work is split: each part's TopK keeps its k best by
// (distance, id), and the merge keeps the k best of those.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "core/hnsw.h"
#include "core/scan.h"
#include "core/topk.h"
#include "kernels/kernels.h"

namespace vecsqlite {

// Which rows of a source take part.
struct RowFilter {
  enum class Kind { all, bitmap, slots };
  Kind kind = Kind::all;
  std::vector<uint64_t> bits;  // bitmap: bit s (of bits[s / 64]) set = slot s takes part
  std::vector<size_t> slots;   // slots: the slots that take part, any order
  bool empty() const { return kind == Kind::slots && slots.empty(); }
};

struct SearchSource {
  RowView rows;
  RowFilter filter;
  // When set, fills `filter` on a search thread before the scan (for filters whose cost grows
  // with the rows, such as metadata predicates). `threads` is how many threads the resolver may
  // use itself through run_parts (1 when the search runs several resolvers at once). It may
  // throw std::bad_alloc.
  std::function<void(RowFilter* filter, size_t threads)> resolve;
};

// A graph search (hnsw.h) as part of a request: the graph's candidates are rescored exactly
// from their rows and merged with the scan of the request's sources, which then hold only the
// rows the graph does not (rows written since the graph was last brought up to date, rows the
// graph cannot place).
struct AnnPlan {
  const HnswIndex* index = nullptr;
  size_t ef = 0;                    // search effort; at least k is used
  const IdFilter* admit = nullptr;  // graph ids the query may return (nullptr: all)
  // The row of a graph id, for exact rescoring (nullptr: the id is gone; it is skipped).
  std::function<const void*(int64_t id)> row_of;
};

struct SearchRequest {
  Metric metric = Metric::l2;
  const void* query = nullptr;  // one row of the sources' element type and dimension
  size_t k = 0;
  DistanceBounds bounds;
  const AnnPlan* ann = nullptr;  // when set, the graph is searched too (see AnnPlan)
};

// The thread-free policy that picks between a graph search and the exact scan for one query:
// true when traversing the graph to find k of the `admitted` rows (out of the graph's size)
// costs less than scanning those rows. A selective filter makes the traversal visit about
// size / admitted times more nodes for each admitted one, while the exact scan of the admitted
// rows gets cheaper; very small k * ef relative to the rows favours the graph.
bool ann_preferred(const HnswIndex& index, size_t admitted, size_t k, size_t ef);

// The k nearest rows over all `sources` together (which share element type and dimension),
// and over the graph of req.ann when set, nearest first, into *out (ids as the sources' views
// give them). Returns false, with *out empty, when the kernels have no (metric, element type)
// pair, or when req.ann is set and the graph cannot place the query (scan instead). Throws
// std::bad_alloc.
bool search(const KernelTable& kt, const SearchRequest& req, std::vector<SearchSource>& sources,
            std::vector<TopK::Item>* out);

// The k nearest rows for each of `nq` queries (each one row of the sources' element type and
// dimension), over the same sources and with the same bounds (req.query and req.ann are
// ignored: graph searches gain nothing from a batch, callers run them one by one). The rows are
// read in blocks small enough to stay in the core's cache while every query is scored against
// them, so memory is streamed once for the whole batch instead of once per query; each
// (*outs)[q] is exactly what search() returns for query q alone. Returns false, with *outs
// empty, when the kernels have no (metric, element type) pair. Throws std::bad_alloc.
bool search_batch(const KernelTable& kt, const SearchRequest& req, const void* const* queries, size_t nq,
                  std::vector<SearchSource>& sources, std::vector<std::vector<TopK::Item>>* outs);

}  // namespace vecsqlite
