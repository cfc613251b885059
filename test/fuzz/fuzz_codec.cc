// Fuzz target: the vector codec (text / JSON / blob parsers) through every vec_* function that
// decodes a vector argument, with each argument bound as BLOB and as TEXT, plus the raw float32
// blob view. Property: no crash, no sanitizer report; results are either values or SQL errors.
// Checked too: a float32 BLOB that vec_f32() accepts comes back byte for byte.
#include "fuzz_common.h"
#include "sqlite/codec.h"

namespace {

const char* const kSql[] = {
    "select vec_f32(?1)",
    "select vec_int8(?1)",
    "select vec_bit(?1)",
    "select vec_length(?1)",
    "select vec_type(?1)",
    "select vec_to_json(?1)",
    "select vec_normalize(?1)",
    "select vec_quantize_binary(?1)",
    "select vec_quantize_int8(?1, 'unit')",
    "select vec_slice(?1, ?3, ?4)",
    "select vec_add(?1, ?2)",
    "select vec_sub(?1, ?2)",
    "select vec_distance_l2(?1, ?2)",
    "select vec_distance_l1(?1, ?2)",
    "select vec_distance_cosine(?1, ?2)",
    "select vec_distance_hamming(?1, ?2)",
    "select vec_distance_l2(vec_int8(?1), vec_int8(?2))",
    "select vec_distance_hamming(vec_bit(?1), vec_bit(?2))",
    "select vec_to_json(vec_int8(?1))",
    "select vec_to_json(vec_bit(?1))",
    "select vec_f32(vec_normalize(?1))",
    "select vec_cosine(?1, ?2)",
    "select vec_l2(?1, ?2)",
    "select rowid, value from vec_each(?1)",
    "select rowid, value from vec_each(vec_int8(?1))",
    "select rowid, value from vec_each(vec_bit(?1))",
};
constexpr size_t kN = sizeof(kSql) / sizeof(kSql[0]);

sqlite3* g_db = nullptr;
sqlite3_stmt* g_st[kN];

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  g_db = fuzz::open();
  for (size_t i = 0; i < kN; i++) {
    if (sqlite3_prepare_v2(g_db, kSql[i], -1, &g_st[i], nullptr) != SQLITE_OK) {
      std::fprintf(stderr, "prepare %s: %s\n", kSql[i], sqlite3_errmsg(g_db));
      std::abort();
    }
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Input in{data, size};
  const size_t which = in.u8() % kN;
  const uint8_t kinds = in.u8();
  const int a3 = static_cast<int8_t>(in.u8()), a4 = static_cast<int8_t>(in.u8());
  const size_t split = in.n ? in.u16() % (in.n + 1) : 0;
  const std::string x = in.bytes(split), y = in.rest();
  sqlite3_stmt* st = g_st[which];
  auto bind = [&](int i, const std::string& s, bool as_text) {
    if (as_text) sqlite3_bind_text(st, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    else sqlite3_bind_blob(st, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
  };
  const int np = sqlite3_bind_parameter_count(st);
  if (np >= 1) bind(1, x, kinds & 1);
  if (np >= 2) bind(2, y, kinds & 2);
  if (np >= 3) sqlite3_bind_int(st, 3, a3);
  if (np >= 4) sqlite3_bind_int(st, 4, a4);
  fuzz::drain(st);
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);

  // Raw view of float32 bytes: aliases or copies, never reads past the input.
  std::vector<float> scratch;
  const float* v = nullptr;
  size_t dim = 0;
  if (vecsqlite::decode_f32_le(x.data(), x.size(), &scratch, &v, &dim) == vecsqlite::DecodeStatus::ok) {
    FUZZ_CHECK(dim * 4 == x.size(), "dim %zu for %zu bytes", dim, x.size());
    if (dim) FUZZ_CHECK(std::memcmp(v, x.data(), x.size()) == 0, "decoded floats differ from the bytes");
  }

  // A float32 BLOB that vec_f32 accepts is returned unchanged.
  if (!(kinds & 1) && (kinds & 4)) {
    sqlite3_stmt* f = g_st[0];
    sqlite3_bind_blob(f, 1, x.data(), static_cast<int>(x.size()), SQLITE_TRANSIENT);
    if (sqlite3_step(f) == SQLITE_ROW) {
      const size_t n = static_cast<size_t>(sqlite3_column_bytes(f, 0));
      const void* b = sqlite3_column_blob(f, 0);
      FUZZ_CHECK(n == x.size() && (n == 0 || std::memcmp(b, x.data(), n) == 0), "vec_f32 changed a float32 blob");
    }
    sqlite3_reset(f);
    sqlite3_clear_bindings(f);
  }
  return 0;
}
