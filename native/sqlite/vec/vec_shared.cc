// One copy of a dataset's rows for every connection of the process that sees it at one token.
//
// Each `vec` table instance (one per connection) keeps a DatasetIndex per dataset; its rows (the
// arena, the id maps and the graph: DatasetData) are what a MATCH reads. Without sharing, N
// worker connections hold N copies and each rebuilds or reloads after every commit. Here a
// connection that has loaded, built or updated a dataset at token T publishes its DatasetData
// under (database file, data table, dataset, T); another that needs the dataset at T takes it.
//
// KEY. The file by device and inode (an in-memory or temporary database is never shared), the
// data table's name, the dataset id and the token of vector_storage_gen, which every write
// through the triggers replaces with a random value: one token names one content. A token
// that is not committed is visible only to the connection that wrote it, so data published
// under it is found by nobody else. Writes behind the triggers' back do not move the token:
// vec_invalidate(shadow, dataset) on such a table, and vec_admin's reindex, drop every entry of
// the dataset (share_forget) before they rebuild.
//
// Published data is never changed: a connection applying its own writes to shared data copies
// it first (DatasetIndex::own_data). The registry holds weak references, guarded by one mutex.
#include <sys/stat.h>

#include <map>
#include <mutex>
#include <tuple>

#include "core/env.h"
#include "sqlite/vec/vec_int.h"

namespace vecsqlite {
namespace vec {

Counter g_data_adopted("vec_data_adopted");

namespace {

struct Key {
  uint64_t dev = 0, ino = 0;
  std::string table, dataset;
  int64_t token = 0;
  bool operator<(const Key& o) const {
    return std::tie(dev, ino, table, dataset, token) < std::tie(o.dev, o.ino, o.table, o.dataset, o.token);
  }
};

std::mutex g_mu;
std::map<Key, std::weak_ptr<DatasetData>>* g_reg = nullptr;  // created on first use, never freed

std::map<Key, std::weak_ptr<DatasetData>>& reg() {
  if (g_reg == nullptr) g_reg = new std::map<Key, std::weak_ptr<DatasetData>>();
  return *g_reg;
}

bool file_of(sqlite3* db, const std::string& schema, uint64_t* dev, uint64_t* ino) {
  if (!env_shared_cache_enabled()) return false;
  const char* file = sqlite3_db_filename(db, schema.c_str());
  if (file == nullptr || file[0] == '\0') return false;  // in-memory or temporary
  struct stat st;
  if (stat(file, &st) != 0) return false;
  *dev = static_cast<uint64_t>(st.st_dev);
  *ino = static_cast<uint64_t>(st.st_ino);
  return true;
}

bool key_of(Table* t, const std::string& dataset, int64_t token, Key* k) {
  if (!file_of(t->db, t->schema, &k->dev, &k->ino)) return false;
  k->table = t->data_table;
  k->dataset = dataset;
  k->token = token;
  return true;
}

void unlist_locked(DatasetIndex* ix) {
  if (!ix->listed) return;
  ix->listed = false;
  auto& r = reg();
  for (auto it = r.begin(); it != r.end(); ++it) {
    if (it->second.lock().get() == ix->data.get()) {
      r.erase(it);
      return;
    }
  }
}

}  // namespace

bool share_adopt(Table* t, const std::string& dataset, int64_t token, DatasetIndex* ix) {
  Key k;
  if (!key_of(t, dataset, token, &k)) return false;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    auto& r = reg();
    auto it = r.find(k);
    if (it == r.end()) return false;
    std::shared_ptr<DatasetData> found = it->second.lock();
    if (!found) {
      r.erase(it);
      return false;
    }
    if (found.get() != ix->data.get()) {
      unlist_locked(ix);
      ix->data = std::move(found);
    }
    ix->listed = true;
  }
  ix->loaded = true;
  ix->token = token;
  ix->pending.clear();
  ix->broken = false;
  g_data_adopted.add();
  return true;
}

void share_publish(Table* t, const std::string& dataset, DatasetIndex* ix) {
  Key k;
  if (!ix->loaded || !key_of(t, dataset, ix->token, &k)) return;
  // No reader of shared data may build the sketch: it is built now, while the data is private.
  if (!ix->listed && ix->data.use_count() == 1 && ix->data->arena) ix->data->arena->prepare_sketch();
  std::lock_guard<std::mutex> lock(g_mu);
  auto& r = reg();
  auto it = r.find(k);
  if (it != r.end()) {
    std::shared_ptr<DatasetData> there = it->second.lock();
    if (there) {
      if (there.get() != ix->data.get()) {  // published first by another connection: take theirs
        unlist_locked(ix);
        ix->data = std::move(there);
        ix->listed = true;
        g_data_adopted.add();
      }
      return;
    }
    r.erase(it);
  }
  unlist_locked(ix);
  if (r.size() >= 64)
    for (auto i = r.begin(); i != r.end();) i = i->second.expired() ? r.erase(i) : std::next(i);
  r.emplace(k, ix->data);
  ix->listed = true;
}

void share_forget(sqlite3* db, const std::string& schema, const std::string& table, const std::string& dataset) {
  uint64_t dev = 0, ino = 0;
  if (!file_of(db, schema, &dev, &ino)) return;
  std::lock_guard<std::mutex> lock(g_mu);
  auto& r = reg();
  for (auto it = r.begin(); it != r.end();) {
    const Key& k = it->first;
    it = k.dev == dev && k.ino == ino && k.table == table && k.dataset == dataset ? r.erase(it) : std::next(it);
  }
}

void share_unlist(DatasetIndex* ix) {
  if (!ix->listed) return;
  std::lock_guard<std::mutex> lock(g_mu);
  unlist_locked(ix);
}

}  // namespace vec
}  // namespace vecsqlite
