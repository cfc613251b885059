// Vec0WriteLog against a model (ctest, linked with the real SQLite): random byte writes, ref
// writes (bytes held by the owner's "arena", here a map), owner changes that materialize first
// (the contract in vec0_writelog.h), savepoints, ROLLBACK TO and flushes to real blobs. After
// every step the log's overlay of the blobs as SQLite has them must equal the model's truth,
// and after each flush the blobs read back from SQLite must equal it too. After ROLLBACK TO
// the owner's arena is scribbled over before it is rebuilt: the refs the log kept must not
// depend on it any more.
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
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "check.h"
#include "sqlite/vec0_writelog.h"

namespace {

constexpr int kChunks = 3, kSlots = 16;
// blob 0: small writes (a validity-like byte array of kSlots bytes); blobs 2 and 3: two vector
// columns of 12 and 20 bytes per slot.
constexpr int kBlobs[] = {0, 2, 3};
size_t row_len(int blob) { return blob == 0 ? 1 : blob == 2 ? 12 : 20; }
size_t blob_size(int blob) { return row_len(blob) * kSlots; }
int64_t key_of(int chunk, int slot) { return int64_t{chunk} * 1000 + slot; }

using Blobs = std::map<std::pair<int, int64_t>, std::vector<uint8_t>>;  // (blob, chunk) -> bytes
using Arena = std::map<std::pair<int, int64_t>, std::vector<uint8_t>>;  // (blob, key) -> row

struct Model {
  Blobs truth;  // what the blobs hold once every logged write has landed
  Blobs sql;    // what SQLite holds (as of the last flush)
  Arena arena;  // the owner's rows: every ref write points here
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

void run(sqlite3* db, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Model m;
  for (int blob : kBlobs)
    for (int c = 1; c <= kChunks; c++) m.truth[{blob, c}] = m.sql[{blob, c}] = std::vector<uint8_t>(blob_size(blob), 0);
  check(sqlite3_exec(db, "delete from t0; delete from t2; delete from t3", nullptr, nullptr, nullptr) == SQLITE_OK, "reset");
  for (int blob : kBlobs)
    for (int c = 1; c <= kChunks; c++) {
      const std::string sql = "insert into t" + std::to_string(blob) + "(rowid, b) values (" + std::to_string(c) +
                              ", zeroblob(" + std::to_string(blob_size(blob)) + "))";
      check(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK, "seed %llu: insert blob", (unsigned long long)seed);
    }

  vecsqlite::Vec0WriteLog log;
  log.set_source([&m](int blob, int64_t key) -> const uint8_t* {
    auto it = m.arena.find({blob, key});
    return it != m.arena.end() ? it->second.data() : nullptr;
  });
  struct Mark {
    int level;
    Blobs truth;
    Arena arena;
  };
  std::vector<Mark> marks;
  int level = 0;
  auto compare = [&](const char* when, int step) {
    for (const auto& kv : m.truth) {
      std::vector<uint8_t> got = m.sql[kv.first];
      log.overlay(kv.first.first, kv.first.second, got.data(), got.size());
      if (got != kv.second) {
        check(false, "seed %llu step %d (%s): overlay of blob %d chunk %lld differs", (unsigned long long)seed, step,
              when, kv.first.first, (long long)kv.first.second);
        return false;
      }
    }
    check(true, "overlay");
    return true;
  };
  for (int step = 0; step < 600; step++) {
    const int op = static_cast<int>(rng() % 100);
    const int chunk = 1 + static_cast<int>(rng() % kChunks);
    const int slot = static_cast<int>(rng() % kSlots);
    const int64_t key = key_of(chunk, slot);
    if (op < 25) {
      // A row written (insert or update): the owner materializes the key, stores the rows,
      // logs a small write and the two vector columns by reference.
      log.materialize(key);
      const uint8_t byte = static_cast<uint8_t>(rng());
      log.write(0, chunk, static_cast<uint32_t>(slot), &byte, 1);
      m.truth[{0, chunk}][static_cast<size_t>(slot)] = byte;
      for (int blob : {2, 3}) {
        std::vector<uint8_t> row = random_bytes(rng, row_len(blob));
        std::memcpy(m.truth[{blob, chunk}].data() + slot * row_len(blob), row.data(), row.size());
        m.arena[{blob, key}] = std::move(row);
      }
      for (int blob : {2, 3})
        log.write_ref(blob, chunk, static_cast<uint32_t>(slot * row_len(blob)), static_cast<uint32_t>(row_len(blob)), key);
    } else if (op < 35) {
      // A row updated in one column only.
      log.materialize(key);
      const int blob = 2 + static_cast<int>(rng() % 2);
      std::vector<uint8_t> row = random_bytes(rng, row_len(blob));
      std::memcpy(m.truth[{blob, chunk}].data() + slot * row_len(blob), row.data(), row.size());
      m.arena[{blob, key}] = std::move(row);
      log.write_ref(blob, chunk, static_cast<uint32_t>(slot * row_len(blob)), static_cast<uint32_t>(row_len(blob)), key);
    } else if (op < 45) {
      // A row deleted: materialize, drop the arena rows, write zeros as bytes.
      log.materialize(key);
      for (int blob : {2, 3}) {
        m.arena.erase({blob, key});
        const std::vector<uint8_t> zeros(row_len(blob), 0);
        log.write(blob, chunk, static_cast<uint32_t>(slot * row_len(blob)), zeros.data(), static_cast<uint32_t>(zeros.size()));
        std::memset(m.truth[{blob, chunk}].data() + slot * row_len(blob), 0, row_len(blob));
      }
    } else if (op < 52) {
      // A plain byte write of a whole vector (e.g. from a path that copies).
      const int blob = 2 + static_cast<int>(rng() % 2);
      log.materialize(key);
      m.arena.erase({blob, key});
      std::vector<uint8_t> row = random_bytes(rng, row_len(blob));
      log.write(blob, chunk, static_cast<uint32_t>(slot * row_len(blob)), row.data(), static_cast<uint32_t>(row.size()));
      std::memcpy(m.truth[{blob, chunk}].data() + slot * row_len(blob), row.data(), row.size());
    } else if (op < 62) {
      marks.push_back(Mark{++level, m.truth, m.arena});
      log.savepoint(level);
    } else if (op < 68 && !marks.empty()) {
      const size_t i = rng() % marks.size();
      level = marks[i].level - 1;
      log.release(marks[i].level);
      marks.resize(i);
    } else if (op < 78 && !marks.empty()) {
      const size_t i = rng() % marks.size();
      log.rollback_to(marks[i].level);
      m.truth = marks[i].truth;
      // The owner rebuilds its cache from SQLite plus the log; until then its old rows are
      // garbage as far as the log is concerned.
      for (auto& kv : m.arena) std::fill(kv.second.begin(), kv.second.end(), 0xEE);
      if (!compare("after rollback_to, arena scribbled", step)) return;
      m.arena = marks[i].arena;
      level = marks[i].level;
      marks.resize(i + 1);
    } else if (op < 84) {
      log.materialize_all();
      check(!log.has_refs(), "no refs after materialize_all");
    } else if (op < 92 && marks.empty()) {
      std::string err;
      const int rc = log.flush(
          db, "main",
          [](int blob) { return vecsqlite::Vec0WriteLog::Target{"t" + std::to_string(blob), "b"}; },
          [](const std::vector<int64_t>&, const std::vector<vecsqlite::Vec0WriteLog::RowidRow>&, bool, int64_t) {
            return SQLITE_OK;
          },
          &err);
      check(rc == SQLITE_OK, "seed %llu step %d: flush: %s", (unsigned long long)seed, step, err.c_str());
      check(log.empty() && log.pending_bytes() == 0, "flush empties the log");
      Blobs back;
      check(read_blobs(db, &back), "read back");
      check(back == m.truth, "seed %llu step %d: blobs after flush", (unsigned long long)seed, step);
      m.sql = back;
    }
    if (!compare("after step", step)) return;
  }
}

}  // namespace

int main() {
  sqlite3* db = open_with_extension();
  check(db != nullptr, "open and load");
  if (db == nullptr) return 1;
  check(sqlite3_exec(db, "create table t0(b blob); create table t2(b blob); create table t3(b blob)", nullptr, nullptr,
                     nullptr) == SQLITE_OK, "tables");
  for (uint64_t seed = 1; seed <= 200; seed++) run(db, seed);

  // A ref whose bytes the owner lost (a broken contract) makes the flush fail, writing nothing.
  {
    std::map<int64_t, std::vector<uint8_t>> rows{{7, std::vector<uint8_t>(12, 9)}};
    vecsqlite::Vec0WriteLog log;
    log.set_source([&rows](int, int64_t key) -> const uint8_t* {
      auto it = rows.find(key);
      return it != rows.end() ? it->second.data() : nullptr;
    });
    sqlite3_exec(db, "delete from t2; insert into t2(rowid, b) values (1, zeroblob(192))", nullptr, nullptr, nullptr);
    log.write_ref(2, 1, 0, 12, 7);
    check(log.pending_bytes() == 12, "a ref write counts its bytes as pending");
    rows.clear();  // without materialize(): the contract is broken
    log.materialize_all();
    std::string msg;
    const int rc = log.flush(
        db, "main", [](int blob) { return vecsqlite::Vec0WriteLog::Target{"t" + std::to_string(blob), "b"}; },
        [](const std::vector<int64_t>&, const std::vector<vecsqlite::Vec0WriteLog::RowidRow>&, bool, int64_t) {
          return SQLITE_OK;
        },
        &msg);
    check(rc == SQLITE_INTERNAL, "lost ref bytes: the flush fails (rc %d)", rc);
    check(msg == "Internal sqlite-vec error: the bytes of a pending vector write are gone", "message: %s", msg.c_str());
    Blobs back;
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "select count(*) from t2 where b = zeroblob(192)", -1, &st, nullptr);
    check(sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 1, "nothing written");
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  std::printf("%d passed, %d failed\n", g_passed, g_failed);
  return g_failed == 0 ? 0 : 1;
}
