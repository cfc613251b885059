// `vec` query plans: best_index() (xBestIndex) encodes the plan, decode_plan() (xFilter) reads
// it back. This file is the only one that knows the encoding.
//
// idxNum bits; the xFilter arguments (argv) come in this order, one per bit that is set:
//   0x01 DATASET   dataset_id = ?          (always set)
//   0x02 MATCH     <idcol> MATCH ?
//   0x04 SCORE_GE  match_score >= ?        0x08 SCORE_GT  match_score > ? (strict)
//   0x10 LIMIT     LIMIT ?                 0x20 OFFSET    OFFSET ?
//   0x40 ID        <idcol> = ?             (scan plan only)
// xFilter refuses (as a malformed plan) an idxNum best_index cannot produce, and an argc other
//   than the number of arguments its bits call for.
// idxStr: NULL when dataset_id compares as binary (the declared column has no collation);
//   otherwise the name of the collation of the dataset_id constraint (`dataset_id = ? COLLATE
//   NOCASE`), scan plan only: the scan's SQL then compares with that collation, so it returns
//   the rows of every dataset that compares equal, each with its own dataset_id.
//
// Plans:
//   scan  (DATASET [ID])                      the dataset's rows in rowid order, match_score 0.0
//   match (DATASET MATCH [SCORE_*] [LIMIT [OFFSET]])
//         the top-(limit + offset) rows, or all rows, by cosine similarity, highest first (ties:
//         smaller rowid first); ORDER BY match_score DESC is consumed. LIMIT/OFFSET are pushed
//         down only when the ORDER BY is empty or exactly that.
// A MATCH plan with a non-binary dataset_id collation is refused with an error: a search runs
// over one dataset's index, named exactly. An `<idcol> = ?` constraint with a non-binary
// collation is left to SQLite to check.
// A dataset constraint that exists but is not usable (joins, IN) makes the plan unusable
// (SQLITE_CONSTRAINT), so SQLite tries another order; no dataset constraint at all is an error
// with the original's messages.
#include "sqlite/vec/vec_int.h"

namespace vecsqlite {
namespace vec {
namespace {

enum : int {
  kDataset = 0x01,
  kMatch = 0x02,
  kScoreGe = 0x04,
  kScoreGt = 0x08,
  kLimit = 0x10,
  kOffset = 0x20,
  kId = 0x40,
};

// The collation of constraint i; empty for BINARY.
std::string collation_of(sqlite3_index_info* info, int i) {
  const char* c = sqlite3_vtab_collation(info, i);
  if (c == nullptr || sqlite3_stricmp(c, "BINARY") == 0) return std::string();
  return c;
}

}  // namespace

int best_index(sqlite3_vtab* vtab, sqlite3_index_info* info) {
  int dataset = -1, match = -1, score = -1, limit = -1, offset = -1, idEq = -1;
  bool datasetUnusable = false, matchSeen = false;
  for (int i = 0; i < info->nConstraint; i++) {
    const auto& c = info->aConstraint[i];
    if (c.iColumn == kColDataset && c.op == SQLITE_INDEX_CONSTRAINT_EQ) {
      if (!c.usable) {
        datasetUnusable = true;
      } else if (dataset < 0 || (!collation_of(info, dataset).empty() && collation_of(info, i).empty())) {
        dataset = i;  // of several, a binary comparison is preferred; SQLite checks the others
      }
    } else if (c.iColumn == kColId && c.op == SQLITE_INDEX_CONSTRAINT_MATCH) {
      matchSeen = true;
      if (c.usable) match = i;
    } else if (c.iColumn == kColId && c.op == SQLITE_INDEX_CONSTRAINT_EQ && c.usable &&
               collation_of(info, i).empty()) {
      idEq = i;
    } else if (c.iColumn == kColScore && c.usable && score < 0 &&
               (c.op == SQLITE_INDEX_CONSTRAINT_GE || c.op == SQLITE_INDEX_CONSTRAINT_GT)) {
      score = i;
    } else if (c.op == SQLITE_INDEX_CONSTRAINT_LIMIT && c.usable) {
      limit = i;
    } else if (c.op == SQLITE_INDEX_CONSTRAINT_OFFSET && c.usable) {
      offset = i;
    }
  }
  if (dataset < 0) {
    if (datasetUnusable || (matchSeen && match < 0)) return SQLITE_CONSTRAINT;
    return set_error(vtab, matchSeen ? "vec: dataset_id constraint is required with MATCH"
                                     : "vec: dataset_id constraint required");
  }
  if (matchSeen && match < 0) return SQLITE_CONSTRAINT;  // MATCH must be consumed
  const std::string collation = collation_of(info, dataset);
  if (!collation.empty() && match >= 0) {
    return set_error(vtab, "vec: dataset_id COLLATE %s cannot be used with MATCH: a search covers one dataset, "
                     "named exactly (compare dataset_id without a collation)", collation.c_str());
  }
  if (!collation.empty()) {
    info->idxStr = sqlite3_mprintf("%s", collation.c_str());
    if (info->idxStr == nullptr) return SQLITE_NOMEM;
    info->needToFreeIdxStr = 1;
  }
  int idxNum = kDataset, argv = 1;
  info->aConstraintUsage[dataset].argvIndex = argv++;
  info->aConstraintUsage[dataset].omit = 1;
  if (match >= 0) {
    idxNum |= kMatch;
    info->aConstraintUsage[match].argvIndex = argv++;
    info->aConstraintUsage[match].omit = 1;
    if (score >= 0) {
      idxNum |= info->aConstraint[score].op == SQLITE_INDEX_CONSTRAINT_GT ? kScoreGt : kScoreGe;
      info->aConstraintUsage[score].argvIndex = argv++;
      info->aConstraintUsage[score].omit = 1;
    }
    const bool byScoreDesc = info->nOrderBy == 1 && info->aOrderBy[0].iColumn == kColScore && info->aOrderBy[0].desc;
    if (byScoreDesc) info->orderByConsumed = 1;
    if ((info->nOrderBy == 0 || byScoreDesc) && limit >= 0) {
      idxNum |= kLimit;
      info->aConstraintUsage[limit].argvIndex = argv++;
      if (offset >= 0) {
        idxNum |= kOffset;
        info->aConstraintUsage[offset].argvIndex = argv++;
      }
    }
    info->estimatedCost = 10.0;
    info->estimatedRows = 10;
  } else if (idEq >= 0) {
    idxNum |= kId;
    info->aConstraintUsage[idEq].argvIndex = argv++;
    info->aConstraintUsage[idEq].omit = 1;
    info->estimatedCost = 2.0;
    info->estimatedRows = 1;
    info->idxFlags |= SQLITE_INDEX_SCAN_UNIQUE;
  } else {
    info->estimatedCost = 1000.0;
    info->estimatedRows = 1000;
  }
  info->idxNum = idxNum;
  return SQLITE_OK;
}

Plan decode_plan(int idxNum, const char* idxStr) {
  Plan p;
  if (idxStr != nullptr) p.collation = idxStr;
  p.match = (idxNum & kMatch) != 0;
  p.score_bound = (idxNum & (kScoreGe | kScoreGt)) != 0;
  p.score_strict = (idxNum & kScoreGt) != 0;
  p.limit = (idxNum & kLimit) != 0;
  p.offset = (idxNum & kOffset) != 0;
  p.by_id = (idxNum & kId) != 0;
  // What best_index can produce: the dataset bit always, no unknown bits, one score bit at
  // most, OFFSET only with LIMIT, the MATCH-only bits only on a MATCH plan, ID only on a scan.
  const bool both_scores = (idxNum & kScoreGe) != 0 && (idxNum & kScoreGt) != 0;
  p.valid = (idxNum & kDataset) != 0 && (idxNum & ~0x7f) == 0 && !both_scores && !(p.offset && !p.limit) &&
            (p.match ? !p.by_id : !(p.score_bound || p.limit || p.offset));
  p.args = p.match ? 2 + p.score_bound + p.limit + p.offset : 1 + p.by_id;
  return p;
}

}  // namespace vec
}  // namespace vecsqlite
