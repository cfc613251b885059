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
// it first (DatasetIndex::own_data). The registry (core/registry.h) holds weak references.
#include <tuple>

#include "core/registry.h"
#include "sqlite/freshness.h"
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

SharedRegistry<Key, DatasetData>& reg() {
  static auto* r = new SharedRegistry<Key, DatasetData>();  // never destroyed
  return *r;
}

bool key_of(Table* t, const std::string& dataset, int64_t token, Key* k) {
  if (!shareable_file(t->db, t->schema.c_str(), &k->dev, &k->ino)) return false;
  k->table = t->data_table;
  k->dataset = dataset;
  k->token = token;
  return true;
}

}  // namespace

bool share_adopt(Table* t, const std::string& dataset, int64_t token, DatasetIndex* ix) {
  Key k;
  if (!key_of(t, dataset, token, &k) || !reg().adopt(k, &ix->data, &ix->listed)) return false;
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
  if (reg().publish(k, &ix->data, &ix->listed)) g_data_adopted.add();  // published first by another connection
}

void share_forget(sqlite3* db, const std::string& schema, const std::string& table, const std::string& dataset) {
  uint64_t dev = 0, ino = 0;
  if (!shareable_file(db, schema.c_str(), &dev, &ino)) return;
  reg().erase_if([&](const Key& k) { return k.dev == dev && k.ino == ino && k.table == table && k.dataset == dataset; });
}

void share_unlist(DatasetIndex* ix) { reg().unlist(ix->data, &ix->listed); }

}  // namespace vec
}  // namespace vecsqlite
