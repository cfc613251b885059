// Blob formats of the `vec` index; see vec_index.h.
#include "sqlite/vec/vec_index.h"
#include "core/crc32.h"

#include <cstring>

namespace vecsqlite {
namespace {

uint32_t rd32(const uint8_t* p) {
  return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24);
}
int64_t rd64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return int64_t(v);
}
void wr32(std::vector<uint8_t>* o, uint32_t v) {
  for (int i = 0; i < 4; i++) o->push_back(uint8_t(v >> (8 * i)));
}
void wr64(std::vector<uint8_t>* o, int64_t s) {
  const uint64_t v = uint64_t(s);
  for (int i = 0; i < 8; i++) o->push_back(uint8_t(v >> (8 * i)));
}
void put32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = uint8_t(v >> (8 * i));
}
void wrf32(std::vector<uint8_t>* o, const float* v, uint32_t dim) {
  for (uint32_t i = 0; i < dim; i++) {
    uint32_t bits;
    std::memcpy(&bits, &v[i], 4);
    wr32(o, bits);
  }
}

constexpr size_t kVsqHeader = 28;

DecodedIndex invalid_index() {
  DecodedIndex d;
  d.kind = BlobKind::invalid;
  return d;
}

}  // namespace


DecodedIndex decode_index_blob(const uint8_t* b, size_t n) {
  DecodedIndex out;
  if (b == nullptr || n == 0) return out;  // none: NULL or empty means "not stored"
  out.kind = BlobKind::invalid;
  if (n >= 4 && std::memcmp(b, "HNS1", 4) == 0) {
    if (n < 16 || rd32(b + 4) != 1) return out;
    const size_t vlen = rd32(b + 8);
    if (vlen > n - 16 || vlen < 4 || std::memcmp(b + 16, "VSQ1", 4) != 0) return out;
    DecodedIndex d = decode_index_blob(b + 16, vlen);
    if (d.kind != BlobKind::vsq1) return out;
    d.kind = BlobKind::hns1;
    d.graph = b + 16 + vlen;
    d.graph_bytes = n - 16 - vlen;
    d.graph_crc_ok = crc32_bytes(d.graph, d.graph_bytes) == rd32(b + 12);
    return d;
  }
  if (n >= 4 && std::memcmp(b, "COV1", 4) == 0) return out;
  if (n >= 4 && std::memcmp(b, "VSQ1", 4) == 0) {
    if (n < kVsqHeader || rd32(b + 4) != 1) return out;
    const uint32_t dim = rd32(b + 8), count = rd32(b + 12);
    if (crc32_bytes(b + kVsqHeader, n - kVsqHeader) != rd32(b + 24)) return out;
    if (dim == 0 && count != 0) return out;
    size_t pos = kVsqHeader;
    const size_t vbytes = size_t(dim) * 4;
    // each row needs at least 12 + vbytes bytes: reject impossible counts before reserving
    if (count > (n - pos) / (12 + vbytes)) return out;
    out.rows.reserve(count);
    for (uint32_t i = 0; i < count; i++) {
      if (n - pos < 12) return invalid_index();
      const int64_t rowid = rd64(b + pos);
      const uint32_t idlen = rd32(b + pos + 8);
      pos += 12;
      if (n - pos < idlen || n - pos - idlen < vbytes) return invalid_index();
      out.rows.push_back({rowid, std::string(reinterpret_cast<const char*>(b + pos), idlen), b + pos + idlen});
      pos += idlen + vbytes;
    }
    if (pos != n) return invalid_index();
    out.kind = BlobKind::vsq1;
    out.dim = dim;
    out.token = rd64(b + 16);
    return out;
  }
  // legacy brute force
  if (n < 8) return out;
  const uint32_t dim = rd32(b), count = rd32(b + 4);
  const size_t vbytes = size_t(dim) * 4;
  size_t pos = 8;
  if (count > (n - pos) / (4 + vbytes)) return out;
  out.rows.reserve(count);
  for (uint32_t i = 0; i < count; i++) {
    if (n - pos < 4) return invalid_index();
    const uint32_t idlen = rd32(b + pos);
    pos += 4;
    if (n - pos < idlen || n - pos - idlen < vbytes) return invalid_index();
    out.rows.push_back({0, std::string(reinterpret_cast<const char*>(b + pos), idlen), b + pos + idlen});
    pos += idlen + vbytes;
  }
  out.kind = BlobKind::legacy;  // trailing bytes are ignored, as the original does
  out.dim = dim;
  return out;
}

void vsq1_begin(std::vector<uint8_t>* out, uint32_t dim, int64_t token) {
  out->clear();
  for (char ch : {'V', 'S', 'Q', '1'}) out->push_back(uint8_t(ch));
  wr32(out, 1);
  wr32(out, dim);
  wr32(out, 0);
  wr64(out, token);
  wr32(out, 0);
}

void vsq1_add_row(std::vector<uint8_t>* out, int64_t rowid, const std::string& id, const float* vec,
                  uint32_t dim) {
  wr64(out, rowid);
  wr32(out, uint32_t(id.size()));
  out->insert(out->end(), id.begin(), id.end());
  wrf32(out, vec, dim);
}

void vsq1_finish(std::vector<uint8_t>* out, uint32_t n) {
  put32(out->data() + 12, n);
  put32(out->data() + 24, crc32_bytes(out->data() + kVsqHeader, out->size() - kVsqHeader));
}

void append_u32(std::vector<uint8_t>* out, uint32_t v) { wr32(out, v); }

void append_chunk(std::vector<uint8_t>* out, const void* data, size_t n) {
  wr32(out, uint32_t(n));
  const uint8_t* p = static_cast<const uint8_t*>(data);
  out->insert(out->end(), p, p + n);
}

void hns1_encode(std::vector<uint8_t>* out, const std::vector<uint8_t>& vsq, const std::vector<uint8_t>& graph) {
  out->clear();
  out->reserve(16 + vsq.size() + graph.size());
  for (char ch : {'H', 'N', 'S', '1'}) out->push_back(uint8_t(ch));
  wr32(out, 1);
  wr32(out, uint32_t(vsq.size()));
  wr32(out, crc32_bytes(graph.data(), graph.size()));
  out->insert(out->end(), vsq.begin(), vsq.end());
  out->insert(out->end(), graph.begin(), graph.end());
}

bool split_graph_part(const uint8_t* p, size_t n, GraphPart* out) {
  size_t pos = 0;
  auto chunk = [&](const uint8_t** data, size_t* len) {
    if (n - pos < 4) return false;
    const size_t l = rd32(p + pos);
    pos += 4;
    if (l > n - pos) return false;
    *data = p + pos;
    *len = l;
    pos += l;
    return true;
  };
  if (!chunk(&out->meta, &out->meta_bytes)) return false;
  if (n - pos < 4) return false;
  const size_t blocks = rd32(p + pos);
  pos += 4;
  if (blocks > (n - pos) / 4) return false;  // every block needs at least its length
  out->blocks.resize(blocks);
  for (auto& b : out->blocks) {
    if (!chunk(&b.first, &b.second)) return false;
  }
  return pos == n;
}

void legacy_encode(std::vector<uint8_t>* out, uint32_t dim, const std::vector<std::string>& ids,
                   const std::vector<const float*>& vecs) {
  out->clear();
  wr32(out, dim);
  wr32(out, uint32_t(ids.size()));
  for (size_t i = 0; i < ids.size(); i++) {
    wr32(out, uint32_t(ids[i].size()));
    out->insert(out->end(), ids[i].begin(), ids[i].end());
    wrf32(out, vecs[i], dim);
  }
}

}  // namespace vecsqlite
