// Vec0WriteLog against a model (ctest, linked with the real SQLite): rows appended (runs, whose
// vector bytes the owner's "arena", here a map, holds), updates and deletes that materialize
// first (the contract in vec0_writelog.h), writes to a blob outside the layout between them,
// savepoints, ROLLBACK TO and flushes to real blobs. After every step the log's overlay of the
// blobs as SQLite has them must equal the model's truth and its rowid operations the model's
// rows; after each flush the blobs read back from SQLite and the _rowids changes handed to the
// sink must match too. After ROLLBACK TO the owner's arena is scribbled over before it is
// rebuilt: the runs the log kept must not depend on it any more.
#include <sqlite3.h>

extern "C" int sqlite3_vecsqlite_init(sqlite3*, char**, const sqlite3_api_routines*);

// Opens a database and loads the extension into it, which binds the extension's routine table.
// Here, before sqlite3ext.h (included below) turns every sqlite3_* call into a call through
// that table.
namespace {
const sqlite3_api_routines* g_api = nullptr;
int capture(sqlite3*, char**, const sqlite3_api_routines* api) {
  g_api = api;
  return SQLITE_OK;
}
sqlite3* open_with_extension() {
  sqlite3_auto_extension(reinterpret_cast<void (*)(void)>(capture));
  sqlite3* db = nullptr;
  const bool ok = sqlite3_open(":memory:", &db) == SQLITE_OK;
  sqlite3_reset_auto_extension();
  char* err = nullptr;
  if (!ok || g_api == nullptr || sqlite3_vecsqlite_init(db, &err, g_api) != SQLITE_OK) return nullptr;
  return db;
}
}  // namespace

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "check.h"
#include "sqlite/vec0/vec0_writelog.h"

namespace {

constexpr int kChunks = 3, kSlots = 16;
// blob 0: validity (a bit per slot); 1: rowids (8 bytes per slot); 2 and 3: two vector columns
// of 12 and 20 bytes per slot; 40: a blob outside the layout (4 bytes per slot, like metadata).
constexpr int kBlobs[] = {0, 1, 2, 3, 40};
size_t row_len(int blob) { return blob == 1 ? 8 : blob == 2 ? 12 : blob == 3 ? 20 : 4; }
size_t blob_size(int blob) { return blob == 0 ? kSlots / 8 : row_len(blob) * kSlots; }
int64_t key_of(int64_t chunk, int slot) { return chunk * 1000 + slot; }

using Blobs = std::map<std::pair<int, int64_t>, std::vector<uint8_t>>;  // (blob, chunk) -> bytes
using Arena = std::map<std::pair<int, int64_t>, std::vector<uint8_t>>;  // (blob, key) -> row

struct State {
  Blobs truth;                                 // the blobs once every logged write has landed
  Arena arena;                                 // the owner's rows, which runs read
  std::map<std::pair<int, int>, int64_t> rows;  // (chunk, slot) -> rowid of the live rows
  int64_t next_rowid = 1;
};

std::vector<uint8_t> random_bytes(std::mt19937_64& rng, size_t n) {
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

bool read_blobs(sqlite3* db, Blobs* out) {
  for (int blob : kBlobs) {
    for (int c = 1; c <= kChunks; c++) {
      sqlite3_stmt* st = nullptr;
      const std::string sql = "select b from t" + std::to_string(blob) + " where rowid = " + std::to_string(c);
      if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) return false;
      if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return false;
      }
      const uint8_t* p = static_cast<const uint8_t*>(sqlite3_column_blob(st, 0));
      (*out)[{blob, c}].assign(p, p + sqlite3_column_bytes(st, 0));
      sqlite3_finalize(st);
    }
  }
  return true;
}

vecsqlite::Vec0WriteLog::Layout layout() {
  vecsqlite::Vec0WriteLog::Layout l;
  l.validity_blob = 0;
  l.rowids_blob = 1;
  l.vectors = {{2, 12}, {3, 20}};
  return l;
}

void run(sqlite3* db, uint64_t seed) {
  std::mt19937_64 rng(seed);
  State m;
  Blobs sql;                     // what SQLite holds (as of the last flush)
  std::set<int64_t> sql_rowids;  // the _rowids rows SQLite holds
  for (int blob : kBlobs)
    for (int c = 1; c <= kChunks; c++) m.truth[{blob, c}] = sql[{blob, c}] = std::vector<uint8_t>(blob_size(blob), 0);
  check(sqlite3_exec(db, "delete from t0; delete from t1; delete from t2; delete from t3; delete from t40", nullptr,
                     nullptr, nullptr) == SQLITE_OK, "reset");
  for (int blob : kBlobs)
    for (int c = 1; c <= kChunks; c++) {
      const std::string q = "insert into t" + std::to_string(blob) + "(rowid, b) values (" + std::to_string(c) +
                            ", zeroblob(" + std::to_string(blob_size(blob)) + "))";
      check(sqlite3_exec(db, q.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK, "seed %llu: insert blob", (unsigned long long)seed);
    }

  vecsqlite::Vec0WriteLog log;
  log.set_layout(layout());
  // One row: its arena bytes. Rows of consecutive slots in one piece: assembled here (kept
  // until the run is done with), or, every other call, nullptr (the log then asks row by row).
  std::deque<std::vector<uint8_t>> spans;
  uint64_t span_calls = 0;
  log.set_source([&](int blob, int64_t chunk, int slot, uint32_t count) -> const uint8_t* {
    if (count == 1) {
      auto it = m.arena.find({blob, key_of(chunk, slot)});
      return it != m.arena.end() ? it->second.data() : nullptr;
    }
    if (span_calls++ % 2 == 0) return nullptr;
    std::vector<uint8_t> buf;
    for (uint32_t k = 0; k < count; k++) {
      auto it = m.arena.find({blob, key_of(chunk, slot + static_cast<int>(k))});
      if (it == m.arena.end()) return nullptr;
      buf.insert(buf.end(), it->second.begin(), it->second.end());
    }
    spans.push_back(std::move(buf));
    return spans.back().data();
  });
  struct Mark {
    int level;
    State state;
  };
  std::vector<Mark> marks;
  int level = 0;
  auto compare = [&](const char* when, int step) {
    for (const auto& kv : m.truth) {
      std::vector<uint8_t> got = sql[kv.first];
      log.overlay(kv.first.first, kv.first.second, got.data(), got.size());
      if (got != kv.second) {
        check(false, "seed %llu step %d (%s): overlay of blob %d chunk %lld differs", (unsigned long long)seed, step,
              when, kv.first.first, (long long)kv.first.second);
        return false;
      }
    }
    std::set<int64_t> live = sql_rowids;
    log.each_rowid_op([&live](bool insert, int64_t rowid, const std::string*) {
      if (insert) live.insert(rowid);
      else live.erase(rowid);
    });
    std::set<int64_t> want;
    for (const auto& r : m.rows) want.insert(r.second);
    if (live != want) {
      check(false, "seed %llu step %d (%s): rowid operations differ", (unsigned long long)seed, step, when);
      return false;
    }
    check(true, "overlay");
    return true;
  };
  auto set_row = [&m](int blob, int chunk, int slot, const std::vector<uint8_t>& row) {
    std::memcpy(m.truth[{blob, chunk}].data() + slot * row_len(blob), row.data(), row.size());
  };
  int last_chunk = 1, last_slot = -1;
  for (int step = 0; step < 600; step++) {
    const int op = static_cast<int>(rng() % 100);
    int chunk = 1 + static_cast<int>(rng() % kChunks);
    int slot = static_cast<int>(rng() % kSlots);
    if (op < 30 && rng() % 4 != 0 && last_slot + 1 < kSlots) {  // mostly the next slot: runs grow
      chunk = last_chunk;
      slot = last_slot + 1;
    }
    const int64_t key = key_of(chunk, slot);
    const bool live = m.rows.count({chunk, slot}) != 0;
    if (op < 30 && !live) {
      // A row inserted: the owner stores its vectors, the log appends it.
      const int64_t rowid = m.next_rowid++;
      for (int blob : {2, 3}) {
        std::vector<uint8_t> row = random_bytes(rng, row_len(blob));
        set_row(blob, chunk, slot, row);
        m.arena[{blob, key}] = std::move(row);
      }
      log.append_row(rowid, chunk, static_cast<uint32_t>(slot), nullptr, 0);
      m.truth[{0, chunk}][static_cast<size_t>(slot / 8)] |= static_cast<uint8_t>(1u << (slot % 8));
      std::vector<uint8_t> rid(8);
      std::memcpy(rid.data(), &rowid, 8);
      set_row(1, chunk, slot, rid);
      m.rows[{chunk, slot}] = rowid;
      last_chunk = chunk;
      last_slot = slot;
    } else if (op < 42 && live) {
      // A row updated in one column: materialize, then the bytes are logged and stored.
      log.materialize(chunk, slot);
      const int blob = 2 + static_cast<int>(rng() % 2);
      std::vector<uint8_t> row = random_bytes(rng, row_len(blob));
      set_row(blob, chunk, slot, row);
      log.write(blob, chunk, static_cast<uint32_t>(slot * row_len(blob)), row.data(), static_cast<uint32_t>(row.size()));
      m.arena[{blob, key}] = std::move(row);
    } else if (op < 52 && live) {
      // A row deleted: materialize, drop its arena rows, log the _rowids delete and zeros.
      log.materialize(chunk, slot);
      log.delete_rowid(m.rows[{chunk, slot}]);
      m.rows.erase({chunk, slot});
      uint8_t& vb = m.truth[{0, chunk}][static_cast<size_t>(slot / 8)];
      vb = static_cast<uint8_t>(vb & ~(1u << (slot % 8)));
      log.write(0, chunk, static_cast<uint32_t>(slot / 8), &vb, 1);
      for (int blob : {1, 2, 3}) {
        m.arena.erase({blob, key});
        const std::vector<uint8_t> zeros(row_len(blob), 0);
        log.write(blob, chunk, static_cast<uint32_t>(slot * row_len(blob)), zeros.data(), static_cast<uint32_t>(zeros.size()));
        set_row(blob, chunk, slot, zeros);
      }
    } else if (op < 60) {
      // A write to a blob outside the layout (a metadata column): a run stays open over it.
      std::vector<uint8_t> row = random_bytes(rng, row_len(40));
      log.write(40, chunk, static_cast<uint32_t>(slot * row_len(40)), row.data(), static_cast<uint32_t>(row.size()));
      set_row(40, chunk, slot, row);
    } else if (op < 68) {
      marks.push_back(Mark{++level, m});
      log.savepoint(level);
    } else if (op < 73 && !marks.empty()) {
      const size_t i = rng() % marks.size();
      level = marks[i].level - 1;
      log.release(marks[i].level);
      marks.resize(i);
    } else if (op < 81 && !marks.empty()) {
      const size_t i = rng() % marks.size();
      const bool changed = m.truth != marks[i].state.truth || m.rows != marks[i].state.rows;
      const bool cut = log.rollback_to(marks[i].level);
      // A model that changed since the mark logged something since it: the log drops it.
      if (changed && !cut) {
        check(false, "seed %llu step %d: rollback_to dropped nothing after changes", static_cast<unsigned long long>(seed), step);
        return;
      }
      // When it dropped something, the owner rebuilds its cache from SQLite plus the log;
      // until then its old rows are garbage as far as the log is concerned. When it dropped
      // nothing, the owner keeps its cache as it is.
      if (cut) for (auto& kv : m.arena) std::fill(kv.second.begin(), kv.second.end(), 0xEE);
      const int64_t next = m.next_rowid;
      m = marks[i].state;
      m.next_rowid = next;  // rowids are not reused, as AUTOINCREMENT does not
      State scribbled = m;
      if (cut) for (auto& kv : scribbled.arena) std::fill(kv.second.begin(), kv.second.end(), 0xEE);
      std::swap(m.arena, scribbled.arena);
      if (!compare(cut ? "after rollback_to, arena scribbled" : "after rollback_to that dropped nothing", step)) return;
      std::swap(m.arena, scribbled.arena);
      level = marks[i].level;
      marks.resize(i + 1);
      last_slot = kSlots;  // the next insert starts anywhere
    } else if (op < 86) {
      log.materialize_all();
      check(!log.has_pending_runs(), "no pending runs after materialize_all");
    } else if (op < 93 && marks.empty()) {
      std::string err;
      std::vector<int64_t> got_deletes, got_inserts;
      const int rc = log.flush(
          db, "main",
          [](int blob) { return vecsqlite::Vec0WriteLog::Target{"t" + std::to_string(blob), "b"}; },
          [&](const std::vector<int64_t>& deletes, const std::vector<vecsqlite::Vec0WriteLog::RowidRow>& inserts, bool,
              int64_t) {
            for (int64_t d : deletes) got_deletes.push_back(d);
            for (const auto& r : inserts) {
              got_inserts.push_back(r.rowid);
              const auto it = m.rows.find({static_cast<int>(r.chunk), r.offset});
              check(it != m.rows.end() && it->second == r.rowid, "seed %llu step %d: _rowids row %lld at (%lld, %d)",
                    (unsigned long long)seed, step, (long long)r.rowid, (long long)r.chunk, r.offset);
            }
            return SQLITE_OK;
          },
          &err);
      check(rc == SQLITE_OK, "seed %llu step %d: flush: %s", (unsigned long long)seed, step, err.c_str());
      check(log.empty() && log.pending_bytes() == 0, "flush empties the log");
      for (int64_t d : got_deletes) check(sql_rowids.erase(d) == 1, "seed %llu: a delete of a row SQLite has", (unsigned long long)seed);
      for (int64_t r : got_inserts) check(sql_rowids.insert(r).second, "seed %llu: an insert of a new row", (unsigned long long)seed);
      Blobs back;
      check(read_blobs(db, &back), "read back");
      check(back == m.truth, "seed %llu step %d: blobs after flush", (unsigned long long)seed, step);
      sql = back;
    }
    if (!compare("after step", step)) return;
  }
}

// A log whose source is a map (key * 10 + blob -> row), with rows 1..n appended to slots
// 0..n-1 of chunk 1 (one run). Not movable: the source refers to `rows`.
struct MapLog {
  std::map<int64_t, std::vector<uint8_t>> rows;
  vecsqlite::Vec0WriteLog log;
  explicit MapLog(int n) {
    log.set_layout(layout());
    log.set_source([this](int blob, int64_t chunk, int slot, uint32_t count) -> const uint8_t* {
      if (count != 1) return nullptr;  // row by row
      auto it = rows.find(key_of(chunk, slot) * 10 + blob);
      return it != rows.end() ? it->second.data() : nullptr;
    });
    for (int s = 0; s < n; s++) {
      rows[key_of(1, s) * 10 + 2] = std::vector<uint8_t>(12, 1);
      rows[key_of(1, s) * 10 + 3] = std::vector<uint8_t>(20, 2);
      log.append_row(s + 1, 1, static_cast<uint32_t>(s), nullptr, 0);
    }
  }
  MapLog(const MapLog&) = delete;
  void lose(int slot, int blob) { rows.erase(key_of(1, slot) * 10 + blob); }
};

// Flushes into the tables t<blob>(b); *sink_called tells whether _rowids rows were handed out.
int flush_plain(sqlite3* db, vecsqlite::Vec0WriteLog& log, std::string* msg, bool* sink_called) {
  return log.flush(
      db, "main", [](int blob) { return vecsqlite::Vec0WriteLog::Target{"t" + std::to_string(blob), "b"}; },
      [sink_called](const std::vector<int64_t>&, const std::vector<vecsqlite::Vec0WriteLog::RowidRow>&, bool, int64_t) {
        *sink_called = true;
        return SQLITE_OK;
      },
      msg);
}

}  // namespace

int main() {
  sqlite3* db = open_with_extension();
  check(db != nullptr, "open and load");
  if (db == nullptr) return 1;
  check(sqlite3_exec(db, "create table t0(b blob); create table t1(b blob); create table t2(b blob); "
                         "create table t3(b blob); create table t40(b blob)", nullptr, nullptr, nullptr) == SQLITE_OK, "tables");
  for (uint64_t seed = 1; seed <= 200; seed++) run(db, seed);

  // Rows appended to consecutive slots join one run: the pending bytes grow by the row's rowid
  // and vectors only.
  {
    MapLog m(4);
    vecsqlite::Vec0WriteLog& log = m.log;
    check(log.pending_bytes() == 4 * (8 + 12 + 20), "a run of 4 rows: %zu pending bytes", log.pending_bytes());
    // A broken owner: a pending run's row gone without materialize(). The flush fails before
    // writing anything.
    m.lose(2, 3);
    log.materialize_all();
    sqlite3_exec(db, "delete from t0; delete from t1; delete from t2; delete from t3", nullptr, nullptr, nullptr);
    sqlite3_exec(db, "insert into t0(rowid, b) values (1, zeroblob(2)); insert into t1(rowid, b) values (1, zeroblob(128));"
                     "insert into t2(rowid, b) values (1, zeroblob(192)); insert into t3(rowid, b) values (1, zeroblob(320))",
                 nullptr, nullptr, nullptr);
    std::string msg;
    bool sink_called = false;
    const int rc = flush_plain(db, log, &msg, &sink_called);
    check(rc == SQLITE_INTERNAL, "lost run bytes: the flush fails (rc %d)", rc);
    check(msg == "Internal sqlite-vec error: the bytes of a pending vector write are gone", "message: %s", msg.c_str());
    check(!sink_called, "no _rowids rows written");
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "select count(*) from t2 where b = zeroblob(192)", -1, &st, nullptr);
    check(sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 1, "nothing written");
    sqlite3_finalize(st);
  }
  // A write to a layout blob between two rows ends the run: here a delete's validity byte
  // (slot 1 cleared) comes between the rows of slots 0-1 and slot 2, and must not undo slot 2.
  {
    std::vector<uint8_t> v2(12, 7), v3(20, 8);
    vecsqlite::Vec0WriteLog log;
    log.set_layout(layout());
    log.set_source([&](int blob, int64_t, int, uint32_t count) -> const uint8_t* {
      return count != 1 ? nullptr : blob == 2 ? v2.data() : v3.data();
    });
    log.append_row(1, 1, 0, nullptr, 0);
    log.append_row(2, 1, 1, nullptr, 0);
    const uint8_t cleared = 0x01;
    log.write(0, 1, 0, &cleared, 1);
    log.append_row(3, 1, 2, nullptr, 0);
    uint8_t validity[2] = {0, 0};
    log.overlay(0, 1, validity, 2);
    check(validity[0] == 0x05 && validity[1] == 0, "validity after insert, delete, insert: %02x", validity[0]);
    std::vector<uint8_t> ids(128, 0);
    log.overlay(1, 1, ids.data(), ids.size());
    int64_t third = 0;
    std::memcpy(&third, ids.data() + 16, 8);
    check(third == 3, "rowid of slot 2: %lld", static_cast<long long>(third));
  }
  // A pending run whose source lost a row (no materialize_all first) also fails the flush.
  {
    MapLog m(3);
    m.lose(1, 2);
    std::string msg;
    bool sink_called = false;
    const int rc = flush_plain(db, m.log, &msg, &sink_called);
    check(rc == SQLITE_INTERNAL, "lost run row at flush: rc %d", rc);
    check(msg == "Internal sqlite-vec error: the bytes of a pending b write on main.t2.1 are gone", "message: %s",
          msg.c_str());
  }
  // An owner that could not keep the log whole (xRollbackTo out of memory) marks it lost: the
  // flush then fails before writing anything, even with every source row present; clear()
  // starts a whole log again.
  {
    MapLog m(2);
    m.log.mark_lost();
    std::string msg;
    bool sink_called = false;
    int rc = flush_plain(db, m.log, &msg, &sink_called);
    check(rc == SQLITE_INTERNAL, "marked lost: the flush fails (rc %d)", rc);
    check(msg == "Internal sqlite-vec error: the bytes of a pending vector write are gone", "message: %s", msg.c_str());
    check(!sink_called, "marked lost: no _rowids rows written");
    m.log.clear();
    msg.clear();
    rc = flush_plain(db, m.log, &msg, &sink_called);
    check(rc == SQLITE_OK && m.log.empty(), "after clear(): an empty flush succeeds (rc %d, %s)", rc, msg.c_str());
  }
  sqlite3_close(db);
  std::printf("%d passed, %d failed\n", g_passed, g_failed);
  return g_failed == 0 ? 0 : 1;
}
