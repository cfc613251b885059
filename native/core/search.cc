// The search entry; see search.h.
#include "core/search.h"

#include <algorithm>
#include <exception>
#include <memory>

#include "core/parallel.h"

namespace vecsqlite {
namespace {

// Runs fn(p) for p < parts on run_parts, carrying the first exception a part throws back to the
// caller's thread after every part has finished.
void run_parts_rethrow(size_t parts, const std::function<void(size_t)>& fn) {
  std::vector<std::exception_ptr> errors(parts);
  run_parts(parts, [&](size_t p) {
    try {
      fn(p);
    } catch (...) {
      errors[p] = std::current_exception();
    }
  });
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
}

// Step 1: the deferred filters.
void resolve_filters(std::vector<SearchSource>& sources) {
  std::vector<size_t> todo;
  size_t rows = 0, bytes = 0;
  for (size_t i = 0; i < sources.size(); i++) {
    if (!sources[i].resolve) continue;
    todo.push_back(i);
    rows += sources[i].rows.rows;
    bytes += sources[i].rows.rows * sources[i].rows.row_bytes;
  }
  if (todo.empty()) return;
  if (todo.size() == 1) {
    SearchSource& s = sources[todo[0]];
    s.resolve(&s.filter, work_parts(bytes));
    return;
  }
  // Several sources: contiguous runs of them with about equal rows per thread, one thread each.
  const size_t parts = std::min(work_parts(bytes), todo.size());
  std::vector<size_t> first(parts + 1, todo.size());
  first[0] = 0;
  for (size_t i = 0, p = 1, acc = 0; i < todo.size() && p < parts; i++) {
    acc += sources[todo[i]].rows.rows;
    if (acc * parts >= rows * p) first[p++] = i + 1;
  }
  run_parts_rethrow(parts, [&](size_t p) {
    for (size_t i = first[p]; i < first[p + 1]; i++) {
      SearchSource& s = sources[todo[i]];
      s.resolve(&s.filter, 1);
    }
  });
}

// A piece of scan work: slots [begin, end) of a source's rows (a range scan), or entries
// [begin, end) of its slot list.
struct Work {
  size_t source;
  bool list;
  size_t begin, end;
};

// Step 2: the plan. Range scans (all rows, or a bitmap) and slot lists, measured in rows.
struct ScanPlan {
  std::vector<Work> whole;  // one Work per source with rows to scan
  size_t range_rows = 0, work_rows = 0, bytes = 0;
  bool any_sketch = false;
};
ScanPlan make_plan(const std::vector<SearchSource>& sources) {
  ScanPlan plan;
  for (size_t i = 0; i < sources.size(); i++) {
    const SearchSource& s = sources[i];
    if (s.rows.rows == 0 || s.filter.empty()) continue;
    const bool list = s.filter.kind == RowFilter::Kind::slots;
    const size_t n = list ? s.filter.slots.size() : s.rows.rows;
    plan.whole.push_back(Work{i, list, 0, n});
    if (!list) plan.range_rows += n;
    plan.work_rows += n;
    plan.bytes += n * s.rows.row_bytes;
    plan.any_sketch = plan.any_sketch || s.rows.has_sketch();
  }
  return plan;
}

// The concatenation of all work cut into `parts` runs of about equal rows; a run may span
// several sources and a source may be split between runs.
std::vector<std::vector<Work>> split_parts(const ScanPlan& plan, size_t parts) {
  std::vector<std::vector<Work>> out(parts);
  const size_t per = (plan.work_rows + parts - 1) / parts;
  size_t p = 0, room = per;
  for (const Work& w : plan.whole) {
    size_t b = w.begin;
    while (b < w.end) {
      if (room == 0 && p + 1 < parts) {
        p++;
        room = per;
      }
      const size_t take = p + 1 < parts ? std::min(w.end - b, room) : w.end - b;
      out[p].push_back(Work{w.source, w.list, b, b + take});
      b += take;
      room -= std::min(room, take);
    }
  }
  return out;
}

}  // namespace

bool ann_preferred(const HnswIndex& index, size_t admitted, size_t k, size_t ef) {
  const size_t n = index.size();
  if (n == 0 || admitted == 0) return false;
  const double effort = static_cast<double>(std::max(ef, k));
  // Nodes a traversal visits: about 2m links per expanded node, ef-ish expansions, each
  // admitted node costing n / admitted visited ones; a visit reads a scattered row (a few
  // cache lines, counted as 4x the bytes of a sequential scan).
  const double visits = effort * 2.0 * index.params().m * 1.5 * static_cast<double>(n) / static_cast<double>(admitted);
  const double graph_cost = 4.0 * std::min(visits, 2.0 * static_cast<double>(n));
  const double scan_cost = static_cast<double>(admitted);
  return graph_cost < scan_cost;
}

namespace {

// The graph's part of a request: candidates of the graph, rescored from their rows, within the
// bounds, into `top`. False when the graph cannot place the query.
bool search_graph(const KernelTable& kt, const SearchRequest& req, Dtype dtype, size_t dim, TopK* top) {
  const AnnPlan& ann = *req.ann;
  std::vector<HnswIndex::Candidate> cands;
  if (!ann.index->search(req.query, std::max(ann.ef, req.k), ann.admit, &cands)) return false;
  const size_t kdim = dtype == Dtype::u1 ? dtype_row_bytes(dtype, dim) : dim;
  for (const HnswIndex::Candidate& c : cands) {
    const void* row = ann.row_of(c.id);
    if (row == nullptr) continue;
    float d;
    block_distance(kt, req.metric, dtype, req.query, row, kdim, 1, &d);
    if (req.bounds.contains(d)) top->push(d, c.id);
  }
  return true;
}

}  // namespace

bool search(const KernelTable& kt, const SearchRequest& req, std::vector<SearchSource>& sources,
            std::vector<TopK::Item>* out) {
  out->clear();
  if (req.ann != nullptr && req.ann->index != nullptr) {
    const HnswIndex& g = *req.ann->index;
    if (!metric_supports(req.metric, g.dtype())) return false;
    size_t total = g.size();
    for (const SearchSource& s : sources) total += s.rows.rows;
    const size_t cap = std::min(req.k, total);
    if (cap == 0) return true;
    TopK top(cap);
    if (!search_graph(kt, req, g.dtype(), g.dim(), &top)) return false;
    if (!sources.empty()) {
      SearchRequest rest = req;
      rest.ann = nullptr;
      std::vector<TopK::Item> more;
      if (!search(kt, rest, sources, &more)) return false;
      for (const TopK::Item& it : more) top.push(it.distance, it.id);
    }
    out->resize(top.size());
    out->resize(top.take_sorted(out->data()));
    return true;
  }
  if (sources.empty()) return true;
  const Dtype dtype = sources[0].rows.dtype;
  if (!metric_supports(req.metric, dtype)) return false;
  size_t total = 0;
  for (const SearchSource& s : sources) total += s.rows.rows;
  const size_t cap = std::min(req.k, total);
  if (cap == 0) return true;

  resolve_filters(sources);

  const ScanPlan plan = make_plan(sources);
  // One quantized query for every source that keeps a sketch (they share the dimension).
  SketchQuery sq;
  if (plan.any_sketch && dtype == Dtype::f32)
    sq = make_sketch_query(req.metric, static_cast<const float*>(req.query), sources[0].rows.dim);
  // Range scans use the sketch unless k is a large part of the rows (nearly every row would be
  // rechecked); slot lists decide per list (scan_slots).
  const bool range_sketch = sq.usable() && cap <= plan.range_rows / 16;

  auto scan = [&](const Work& w, TopK* top) -> bool {
    const SearchSource& s = sources[w.source];
    if (w.list)
      return scan_slots(kt, req.metric, s.rows, req.query, sq.usable() ? &sq : nullptr, s.filter.slots.data() + w.begin,
                        w.end - w.begin, req.bounds, top);
    const uint64_t* allowed = s.filter.kind == RowFilter::Kind::bitmap ? s.filter.bits.data() : nullptr;
    if (range_sketch && s.rows.has_sketch()) {
      scan_range_sketch(kt, sq, s.rows, static_cast<const float*>(req.query), w.begin, w.end, allowed, req.bounds, top);
      return true;
    }
    return scan_range(kt, req.metric, s.rows, req.query, w.begin, w.end, allowed, req.bounds, top);
  };

  TopK top(cap);
  const size_t parts = work_parts(plan.bytes);
  if (parts <= 1) {
    for (const Work& w : plan.whole)
      if (!scan(w, &top)) return false;
  } else {
    // Threads only read.
    const std::vector<std::vector<Work>> runs = split_parts(plan, parts);
    std::vector<std::unique_ptr<TopK>> tops;
    for (size_t i = 0; i < parts; i++) tops.emplace_back(new TopK(cap));
    std::vector<char> ok(parts, 1);
    run_parts_rethrow(parts, [&](size_t i) {
      for (const Work& w : runs[i])
        if (!scan(w, tops[i].get())) ok[i] = 0;
    });
    merge_topk(tops, &top);
    for (char o : ok)
      if (!o) return false;
  }
  out->resize(top.size());
  out->resize(top.take_sorted(out->data()));
  return true;
}

// ---- batches ----------------------------------------------------------------------------------
// Rows per block of a batch scan: about 256 KiB of what the scan reads (sketch codes and bounds,
// or the rows), so a block stays in the core's L2 cache while every query of the batch reads it.
namespace {
size_t batch_block_rows(size_t scan_row_bytes) {
  const size_t rows = (size_t{256} << 10) / std::max<size_t>(scan_row_bytes, 1);
  return std::max<size_t>(64, rows / 64 * 64);
}
}  // namespace

bool search_batch(const KernelTable& kt, const SearchRequest& req, const void* const* queries, size_t nq,
                  std::vector<SearchSource>& sources, std::vector<std::vector<TopK::Item>>* outs) {
  outs->assign(nq, {});
  if (nq == 0 || sources.empty()) return true;
  const Dtype dtype = sources[0].rows.dtype;
  if (!metric_supports(req.metric, dtype)) {
    outs->clear();
    return false;
  }
  size_t total = 0;
  for (const SearchSource& s : sources) total += s.rows.rows;
  const size_t cap = std::min(req.k, total);
  if (cap == 0) return true;

  resolve_filters(sources);

  const ScanPlan plan = make_plan(sources);
  // Per query: its quantized form and whether its range scans take the sketch (the same choice
  // search() makes for it alone).
  std::vector<SketchQuery> sq(nq);
  std::vector<char> range_sketch(nq, 0);
  for (size_t q = 0; q < nq; q++) {
    if (plan.any_sketch && dtype == Dtype::f32)
      sq[q] = make_sketch_query(req.metric, static_cast<const float*>(queries[q]), sources[0].rows.dim);
    range_sketch[q] = sq[q].usable() && cap <= plan.range_rows / 16;
  }
  auto scan = [&](const Work& w, size_t q, TopK* top) -> bool {
    const SearchSource& s = sources[w.source];
    if (w.list)
      return scan_slots(kt, req.metric, s.rows, queries[q], sq[q].usable() ? &sq[q] : nullptr,
                        s.filter.slots.data() + w.begin, w.end - w.begin, req.bounds, top);
    const uint64_t* allowed = s.filter.kind == RowFilter::Kind::bitmap ? s.filter.bits.data() : nullptr;
    if (range_sketch[q] && s.rows.has_sketch()) {
      scan_range_sketch(kt, sq[q], s.rows, static_cast<const float*>(queries[q]), w.begin, w.end, allowed, req.bounds,
                        top);
      return true;
    }
    return scan_range(kt, req.metric, s.rows, queries[q], w.begin, w.end, allowed, req.bounds, top);
  };
  // One run of work for every query, block by block.
  using Tops = std::vector<std::unique_ptr<TopK>>;
  auto run = [&](const std::vector<Work>& works, Tops* tops) -> bool {
    for (const Work& w : works) {
      const SearchSource& src = sources[w.source];
      const bool sketched = !w.list && src.rows.has_sketch();
      const size_t step = batch_block_rows(sketched ? src.rows.dim + sizeof(SketchRowInfo) : src.rows.row_bytes);
      const uint64_t* allowed = src.filter.kind == RowFilter::Kind::bitmap ? src.filter.bits.data() : nullptr;
      for (size_t b = w.begin; b < w.end; b += step) {
        const Work piece{w.source, w.list, b, std::min(w.end, b + step)};
        // Sketch range scans go in groups of kMaxSketchBatch queries (one read of each block of
        // codes per group); everything else query by query.
        const SketchQuery* group_sq[kMaxSketchBatch];
        const float* group_q[kMaxSketchBatch];
        TopK* group_top[kMaxSketchBatch];
        size_t in_group = 0;
        auto flush = [&] {
          if (in_group == 0) return;
          scan_range_sketch_multi(kt, group_sq, in_group, src.rows, group_q, piece.begin, piece.end, allowed,
                                  req.bounds, group_top);
          in_group = 0;
        };
        for (size_t q = 0; q < nq; q++) {
          if (sketched && range_sketch[q]) {
            group_sq[in_group] = &sq[q];
            group_q[in_group] = static_cast<const float*>(queries[q]);
            group_top[in_group] = (*tops)[q].get();
            if (++in_group == kMaxSketchBatch) flush();
            continue;
          }
          if (!scan(piece, q, (*tops)[q].get())) return false;
        }
        flush();
      }
    }
    return true;
  };

  // Threads: the batch's whole work (every query's), cut by rows as search() cuts one query's.
  const size_t parts =
      std::max<size_t>(1, std::min(work_parts(plan.bytes > SIZE_MAX / nq ? SIZE_MAX : plan.bytes * nq),
                                   std::max<size_t>(1, plan.work_rows / 64)));
  const std::vector<std::vector<Work>> runs = split_parts(plan, parts);
  std::vector<Tops> tops(parts);
  for (auto& t : tops)
    for (size_t q = 0; q < nq; q++) t.emplace_back(new TopK(cap));
  std::vector<char> ok(parts, 1);
  if (parts == 1) {
    ok[0] = run(runs[0], &tops[0]);
  } else {
    run_parts_rethrow(parts, [&](size_t i) { ok[i] = run(runs[i], &tops[i]); });
  }
  for (char o : ok) {
    if (!o) {
      outs->clear();
      return false;
    }
  }
  for (size_t q = 0; q < nq; q++) {
    TopK top(cap);
    for (size_t i = 0; i < parts; i++) {
      std::vector<TopK::Item> items(tops[i][q]->size());
      items.resize(tops[i][q]->take_sorted(items.data()));
      for (const TopK::Item& it : items) top.push(it.distance, it.id);
    }
    (*outs)[q].resize(top.size());
    (*outs)[q].resize(top.take_sorted((*outs)[q].data()));
  }
  return true;
}

}  // namespace vecsqlite
