// Trivial baseline policies.
#pragma once

#include "policies/policy.h"

namespace policies {

// Always the no-op action [0,0,0,0,0,0,-1] (hold still, gripper open): the floor
// every learned policy must beat.
class ZeroPolicy : public Policy {
 public:
  PolicyInfo info() const override;
  std::vector<ActionChunk> act(std::span<const PolicyQuery> batch) override;
};

}  // namespace policies
