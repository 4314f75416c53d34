#include "policies/baselines.h"

namespace policies {

PolicyInfo ZeroPolicy::info() const {
  PolicyInfo info;
  info.name = "zero";
  return info;
}

std::vector<ActionChunk> ZeroPolicy::act(std::span<const PolicyQuery> batch) {
  return std::vector<ActionChunk>(batch.size(), ActionChunk{envs::Action{0, 0, 0, 0, 0, 0, -1}});
}

}  // namespace policies
