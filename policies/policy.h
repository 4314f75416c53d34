// The Policy interface: a batch of observations in, a batch of action chunks out.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "envs/types.h"

namespace policies {

using ActionChunk = std::vector<envs::Action>;

// What a policy is and what it expects from the harness.
struct PolicyInfo {
  std::string name;                        // e.g. "scripted", "dream-vla:/path"
  std::string action_space = "libero_delta_eef_7d";
  int chunk_length = 1;                    // actions returned per query
  int open_loop_steps = 1;                 // actions executed before the next query
  std::vector<std::string> cameras;        // camera names the policy reads; empty: none
  int image_size = 224;                    // square image side the policy expects, px
  bool privileged = false;                 // reads Observation::privileged
};

// One query: the observation of the environment in `slot` (a worker index).
struct PolicyQuery {
  int slot = 0;
  const envs::Observation* observation = nullptr;
};

class Policy {
 public:
  virtual ~Policy() = default;
  virtual PolicyInfo info() const = 0;
  // A new episode starts in `slot`; `seed` derives from the episode id so that
  // any policy randomness (e.g. flow-matching noise) is reproducible.
  virtual void reset(int slot, uint64_t seed) {}
  // One chunk per query, in query order. Throws std::runtime_error on failure;
  // the harness records it on the episodes concerned.
  virtual std::vector<ActionChunk> act(std::span<const PolicyQuery> batch) = 0;
};

}  // namespace policies
