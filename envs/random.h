// Seed derivation: every random draw of an episode comes from a seed derived
// from its episode id, never from a shared generator.
#pragma once

#include <cstdint>
#include <random>
#include <string_view>

namespace envs {

// SplitMix64 finaliser: a well-mixed 64-bit hash of `x`.
inline uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// FNV-1a of a string, mixed: stable across platforms and runs.
inline uint64_t hash_string(std::string_view text) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : text) h = (h ^ c) * 0x100000001b3ull;
  return mix64(h);
}

// Seed for stream `stream` ("camera", "placement", "policy", ...) of the item
// identified by `id` under the run seed `seed`.
inline uint64_t derive_seed(uint64_t seed, std::string_view id, std::string_view stream) {
  return mix64(mix64(seed) ^ hash_string(id) ^ (hash_string(stream) << 1));
}

// A generator whose draws are identical on every platform (std::mt19937_64 is
// fully specified; distributions are not, so draw with uniform() below).
using Rng = std::mt19937_64;

// Uniform double in [low, high), platform independent.
inline double uniform(Rng& rng, double low, double high) {
  const double unit = double(rng() >> 11) * (1.0 / 9007199254740992.0);
  return low + (high - low) * unit;
}

}  // namespace envs
