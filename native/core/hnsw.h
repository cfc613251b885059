// HnswIndex: a hierarchical navigable small-world graph over one vector column, storage
// independent (no SQLite, no Node). Tables keep one per indexed column, persist it through
// encode_block() / decode_block(), and search it through search.h.
//
// NODES. Rows are nodes with dense uint32 numbers; a node holds the row's id (whatever the
// owner uses: vec0 position keys, `vec` rowids), its level, its links and its traversal row.
// Removed nodes go to a free list and their numbers are reused by later inserts; nothing is
// tombstoned.
//
// TRAVERSAL ROWS. Graph distances are computed on a compact copy of each row:
//   float32, l2 or cosine   the int8 sketch codes and bounds of the row (sketch.h): dim + 16
//                           bytes; the query is quantized to int16, and the distance estimated
//                           from the exact integer dot product of the codes
//   float32, l1             the float32 row itself (the codes give no l1 estimate)
//   int8, bit               the row itself (their kernels are exact and as cheap)
// Searches return candidates ranked by this traversal distance; callers rescore them exactly
// from the float32 rows (search.h does), so returned distances are the kernels' exact ones.
//
// LINKS. Level 0 keeps up to 2m links per node, upper levels up to m; a node's level is drawn
// as floor(-ln(U) / ln(m)). Inserting links a node to the neighbours the HNSW heuristic picks
// among ef_construction candidates, and links them back (shrinking their lists with the same
// heuristic). Removing a node repairs the graph: the nodes that link to it are found by a
// search for its own row at each of its levels (plus its own neighbours), and each gets the
// removed node's link replaced by the heuristic's pick among its links and the removed
// node's. Links to a node whose number was freed and reused are harmless (they point at some
// other node); optimize() drops links to free numbers and renumbers densely.
//
// THREADS. Searches are const and may run concurrently with each other. insert_many() links
// new nodes on several threads (per-node locks on link lists); nothing else may run then.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/idmap.h"
#include "core/memory.h"
#include "core/sketch.h"
#include "kernels/kernels.h"

namespace vecsqlite {

struct HnswParams {
  uint32_t m = 16;                 // links per node on upper levels; 2m on level 0
  uint32_t ef_construction = 200;  // candidates considered when linking a node
};

// Which ids a search may return (nodes that fail are still traversed).
class IdFilter {
 public:
  virtual ~IdFilter() = default;
  virtual bool admits(int64_t id) const = 0;
};

class HnswIndex {
 public:
  static constexpr uint32_t kMaxM = 64;
  static constexpr int kMaxLevel = 15;
  static constexpr uint32_t kNone = UINT32_MAX;

  HnswIndex(Dtype dtype, size_t dim, Metric metric, HnswParams params);
  ~HnswIndex();
  HnswIndex(const HnswIndex&) = delete;
  HnswIndex& operator=(const HnswIndex&) = delete;
  // A deep copy (nodes, links, traversal rows, dirty blocks); throws std::bad_alloc. Not
  // during insert_many.
  std::unique_ptr<HnswIndex> clone() const;

  Dtype dtype() const { return dtype_; }
  size_t dim() const { return dim_; }
  Metric metric() const { return metric_; }
  const HnswParams& params() const { return params_; }
  size_t size() const { return live_; }           // nodes holding a row
  size_t capacity() const { return ids_.size(); }  // node numbers in use or free
  bool contains(int64_t id) const { return node_of_.count(id) != 0; }
  // False for a row the traversal space cannot place (a float32 l2/cosine row whose squared
  // norm is outside [1e-30, 1e30]): owners keep such rows out of the graph and scan them.
  bool accepts(const void* row) const;

  // Adds a row (the column's element type and dimension) under `id`, which must be new.
  // Throws std::bad_alloc (then the row may be in the index, partly linked).
  void insert(int64_t id, const void* row);
  // Adds many rows, linking them on `threads` threads. Throws std::bad_alloc; then the index
  // holds some of the rows (callers that need all-or-nothing rebuild or reload it).
  void insert_many(const int64_t* ids, const void* const* rows, size_t n, size_t threads);
  // Removes `id` with repair; false when absent.
  bool remove(int64_t id);
  // Drops links to free numbers and renumbers the nodes densely (every block changes).
  void optimize();
  void clear();

  // A search: up to `ef` candidates (traversal distance, id), nearest first, among the ids
  // `admit` admits (nullptr: all). The search goes on past ef nodes until ef admitted ones are
  // found or every reachable node was seen. False for a query the traversal space cannot
  // place (zero, tiny, huge or non-finite float32 query with l2/cosine): scan instead.
  struct Candidate {
    float distance;
    int64_t id;
  };
  bool search(const void* query, size_t ef, const IdFilter* admit, std::vector<Candidate>* out) const;

  // ---- persistence: blocks of kBlockNodes nodes (node n in block n / kBlockNodes) --------
  static constexpr uint32_t kBlockNodes = 16;
  size_t blocks() const { return (capacity() + kBlockNodes - 1) / kBlockNodes; }
  // The block's bytes (CRC-32 checked on decode): per node its id (or free), level and links.
  std::string encode_block(size_t block) const;
  // The graph-wide state: parameters, entry point, node count.
  std::string encode_meta() const;
  // Loading: decode_meta() first (sets the capacity), then every block, then finish_load()
  // with the rows (row_of(id) returns the row, nullptr when the owner has none). Each returns
  // false with *err naming the problem (the bytes are corrupt or do not match this table).
  bool decode_meta(const void* data, size_t n, std::string* err);
  bool decode_block(size_t block, const void* data, size_t n, std::string* err);
  template <typename RowOf>
  bool finish_load(RowOf row_of, std::string* err) {
    for (uint32_t node = 0; node < capacity(); node++) {
      if (!alive(node)) continue;
      const void* row = row_of(ids_[node]);
      if (row == nullptr) {
        *err = "a node's row is missing";
        return false;
      }
      set_row(node, row);
    }
    finish_free_list();
    return check_links(err);
  }
  // Nodes changed since the last take_dirty_blocks(), as sorted block numbers.
  std::vector<size_t> take_dirty_blocks();
  void mark_all_dirty();

  // Memory held, for reports.
  size_t memory_bytes() const;
  // Every live id (any order), for consistency checks.
  template <typename F>
  void each_id(F f) const {
    for (uint32_t node = 0; node < capacity(); node++)
      if (alive(node)) f(ids_[node]);
  }

 private:
  struct Query;       // a prepared query (hnsw.cc)
  struct SearchCtx;   // visited set and heaps of one search (hnsw.cc)
  bool alive(uint32_t node) const { return ids_[node] != kFreeId; }
  static constexpr int64_t kFreeId = INT64_MIN;

  uint32_t max_links(int level) const { return level == 0 ? 2 * params_.m : params_.m; }
  uint32_t* links(uint32_t node, int level);
  const uint32_t* links(uint32_t node, int level) const;
  uint32_t alloc_node(int64_t id, int level);
  void set_row(uint32_t node, const void* row);
  int draw_level();
  bool prepare(const void* row, Query* q) const;
  void prepare_node(uint32_t node, Query* q) const;
  float distance(const Query& q, uint32_t node) const;
  float node_distance(uint32_t a, uint32_t b) const;
  uint32_t greedy(const Query& q, uint32_t ep, int from_level, int to_level) const;
  void search_layer(const Query& q, uint32_t ep, size_t ef, int level, const IdFilter* admit, SearchCtx* ctx,
                    std::vector<std::pair<float, uint32_t>>* out) const;
  void select_neighbors(std::vector<std::pair<float, uint32_t>>* cands, uint32_t m) const;
  void link_node(uint32_t node, size_t ef, bool locked);
  void link_orphans(const std::vector<uint32_t>& fresh);
  void set_links(uint32_t node, int level, const std::vector<std::pair<float, uint32_t>>& sel);
  void add_back_link(uint32_t target, uint32_t node, int level, float d);
  void repair(uint32_t removed, uint32_t holder, int level);
  void mark_dirty(uint32_t node);
  bool check_links(std::string* err) const;
  void finish_free_list();
  static std::string string_for_block(size_t block, const char* what);
  std::mutex& lock_of(uint32_t node) const { return locks_[node % kLocks]; }

  Dtype dtype_;
  size_t dim_;
  Metric metric_;
  HnswParams params_;
  bool coded_;               // traversal rows are sketch codes (float32 l2 / cosine)
  size_t row_bytes_;         // bytes of a traversal row
  double level_mult_;
  uint64_t rng_;

  RandomVector<int64_t> ids_;          // node -> id (kFreeId: free)
  IdMap<uint32_t> node_of_;           // id -> node
  RandomVector<uint8_t> levels_;       // node -> level
  RandomVector<uint32_t> links0_;      // node -> [count, links...] (1 + 2m per node)
  std::vector<std::unique_ptr<uint32_t[]>> upper_;  // node -> levels 1.. of [count, links...]
  RandomVector<int8_t> rows_;          // node -> traversal row (row_bytes_ bytes)
  RandomVector<SketchRowInfo> meta_;   // coded: node -> sketch bounds
  std::vector<uint32_t> free_;        // free node numbers (reused last first)
  size_t live_ = 0;
  uint32_t entry_ = kNone;
  int max_level_ = -1;
  std::vector<uint64_t> dirty_;       // bit per block

  static constexpr size_t kLocks = 4096;
  std::unique_ptr<std::mutex[]> locks_;
  std::mutex global_;  // entry point and max level, while insert_many runs
  bool concurrent_ = false;
};

}  // namespace vecsqlite
