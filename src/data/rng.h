// The data area's random numbers: a small, fully specified generator (xoshiro256**, seeded by
// SplitMix64) and an unbiased bounded draw (Lemire's method). std:: distributions differ between
// standard libraries; ours give the same sequence everywhere, so a seed pins file bytes and
// epoch orders.
#pragma once

#include <cstdint>
#include <utility>

namespace s2s::data {

__extension__ typedef unsigned __int128
    u128;  // GCC/Clang builtin; __extension__ keeps -Wpedantic quiet

class Rng {
 public:
  explicit Rng(uint64_t seed) {
    uint64_t x = seed;
    for (uint64_t& s : state_) s = splitmix64(x);
  }
  // Two values mixed into one seed (for example a loader seed and an epoch).
  Rng(uint64_t seed, uint64_t stream) : Rng(mix(seed, stream)) {}

  uint64_t next() {
    const uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

  // Uniform in [0, n), n > 0, without modulo bias.
  uint64_t below(uint64_t n) {
    uint64_t x = next();
    u128 m = static_cast<u128>(x) * n;
    uint64_t low = static_cast<uint64_t>(m);
    if (low < n) {
      const uint64_t threshold = (0 - n) % n;
      while (low < threshold) {
        x = next();
        m = static_cast<u128>(x) * n;
        low = static_cast<uint64_t>(m);
      }
    }
    return static_cast<uint64_t>(m >> 64);
  }

  // Uniform in [lo, hi].
  int64_t between(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(below(static_cast<uint64_t>(hi - lo) + 1));
  }

  static uint64_t mix(uint64_t a, uint64_t b) {
    uint64_t x = a ^ (b * 0x9E3779B97F4A7C15ULL + 0x632BE59BD9B4E019ULL);
    return splitmix64(x);
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static uint64_t splitmix64(uint64_t& x) {
    uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  uint64_t state_[4];
};

// Fisher-Yates with Rng (std::shuffle's draws are implementation-defined).
template <typename T>
void shuffle(T* data, uint64_t n, Rng& rng) {
  for (uint64_t i = n; i > 1; --i) {
    const uint64_t j = rng.below(i);
    using std::swap;
    swap(data[i - 1], data[j]);
  }
}

}  // namespace s2s::data
