// CRC-32, slicing by 8; see crc32.h.
#include "core/crc32.h"

#include <vector>

namespace vecsqlite {

uint32_t crc32_bytes(const uint8_t* p, size_t n) {
  static const auto table = [] {
    std::vector<uint32_t> t(8 * 256);
    for (uint32_t i = 0; i < 256; i++) {
      uint32_t c = i;
      for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    for (uint32_t i = 0; i < 256; i++) {
      for (int s = 1; s < 8; s++) t[s * 256 + i] = (t[(s - 1) * 256 + i] >> 8) ^ t[t[(s - 1) * 256 + i] & 0xFF];
    }
    return t;
  }();
  const uint32_t* T = table.data();
  uint32_t c = 0xFFFFFFFFu;
  while (n >= 8) {
    const uint32_t lo = c ^ (uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24));
    const uint32_t hi = uint32_t(p[4]) | (uint32_t(p[5]) << 8) | (uint32_t(p[6]) << 16) | (uint32_t(p[7]) << 24);
    c = T[7 * 256 + (lo & 0xFF)] ^ T[6 * 256 + ((lo >> 8) & 0xFF)] ^ T[5 * 256 + ((lo >> 16) & 0xFF)] ^
        T[4 * 256 + (lo >> 24)] ^ T[3 * 256 + (hi & 0xFF)] ^ T[2 * 256 + ((hi >> 8) & 0xFF)] ^
        T[1 * 256 + ((hi >> 16) & 0xFF)] ^ T[hi >> 24];
    p += 8;
    n -= 8;
  }
  while (n--) c = T[(c ^ *p++) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

}  // namespace vecsqlite
