// "probe": a deterministic, torch-free policy whose actions depend on every
// input a remote policy receives (both LIBERO camera images, the proprio, the
// instruction). Serving it and running it through a remote client must give
// the same episodes as running it in-process, step for step.
#pragma once

#include "policies/policy.h"

namespace policies::remote {

class ProbePolicy : public Policy {
 public:
  static constexpr int kChunkLength = 10;   // actions per query
  static constexpr int kOpenLoopSteps = 5;  // executed per query (openpi's replan_steps)

  PolicyInfo info() const override;
  std::vector<ActionChunk> act(std::span<const PolicyQuery> batch) override;
};

}  // namespace policies::remote
