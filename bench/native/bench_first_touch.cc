// First-touch cost of anonymous memory: how fast a process can write memory it has never used,
// with 4 KiB pages and with transparent huge pages (MADV_HUGEPAGE, as the arenas' row blocks
// ask for), and how fast the same bytes go when written a second time.
//   bench_first_touch [MiB=512] [rounds=3]
// Each round maps a new region per page kind, writes it in 512-byte rows (as a 1M x 128
// float32 arena fills), reports GB/s, and unmaps it. On a VM whose balloon device reports free
// pages to the host (Linux free page reporting), a region made of blocks the host has taken
// back costs far more than one the guest reuses; the huge-page rows show which one a process
// got. Linux only; elsewhere it says so and exits 0.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#if defined(__linux__)
#include <sys/mman.h>

namespace {
double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Writes `bytes` of `p` in 512-byte rows; returns GB/s.
double write_rows(char* p, size_t bytes, int value) {
  const auto t0 = std::chrono::steady_clock::now();
  for (size_t off = 0; off + 512 <= bytes; off += 512) std::memset(p + off, value, 512);
  return static_cast<double>(bytes) / seconds_since(t0) / 1e9;
}

void round_trip(const char* kind, bool huge, size_t bytes) {
  void* m = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) {
    std::printf("%-10s mmap of %zu bytes failed\n", kind, bytes);
    return;
  }
  char* p = static_cast<char*>(m);
  if (huge) madvise(p, bytes, MADV_HUGEPAGE);
  const double first = write_rows(p, bytes, 1);
  const double again = write_rows(p, bytes, 2);
  std::printf("%-10s first touch %6.2f GB/s   written again %6.2f GB/s\n", kind, first, again);
  std::printf("{\"kind\":\"%s\",\"mib\":%zu,\"first_gbps\":%.3f,\"again_gbps\":%.3f}\n", kind, bytes >> 20, first, again);
  munmap(p, bytes);
}
}  // namespace

int main(int argc, char** argv) {
  const long mib = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 512;
  const long rounds = argc > 2 ? std::strtol(argv[2], nullptr, 10) : 3;
  if (mib <= 0 || rounds <= 0) {
    std::fprintf(stderr, "usage: bench_first_touch [MiB > 0] [rounds > 0]\n");
    return 2;
  }
  const size_t bytes = static_cast<size_t>(mib) << 20;
  std::printf("first-touch bench: %ld MiB per region, %ld rounds\n", mib, rounds);
  for (long r = 0; r < rounds; r++) {
    round_trip("4k pages", false, bytes);
    round_trip("huge pages", true, bytes);
  }
  return 0;
}
#else
int main() {
  std::printf("bench_first_touch: Linux only\n");
  return 0;
}
#endif
