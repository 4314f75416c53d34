// A privileged scripted expert: reads object poses from the simulator and
// solves pick-and-place goals through the same 7-D action interface.
#pragma once

#include <array>
#include <map>

#include "policies/policy.h"

namespace policies::scripted {

struct ExpertSettings {
  double approach_height = 0.10;     // m above the grasp point before descending
  double lift_height = 0.12;         // m above the place height while carrying
  double release_height = 0.012;     // m above the resting height when letting go
  double position_tolerance = 0.008; // m, reaching a waypoint
  double max_action = 0.6;           // cap on the position command (1.0 = 0.05 m per step)
  int close_steps = 10;              // control steps to close the gripper
  int release_steps = 8;             // control steps to open it
  int waypoint_timeout = 60;         // control steps before moving on regardless
};

class ScriptedExpert : public Policy {
 public:
  explicit ScriptedExpert(ExpertSettings settings = {}) : settings_(settings) {}
  PolicyInfo info() const override;
  void reset(int slot, uint64_t seed) override;
  std::vector<ActionChunk> act(std::span<const PolicyQuery> batch) override;

 private:
  enum class Phase { kApproach, kDescend, kClose, kLift, kCarry, kLower, kRelease, kRetreat };
  struct SlotState {
    Phase phase = Phase::kApproach;
    int phase_steps = 0;
    bool have_orientation = false;
    std::array<double, 4> orientation{};  // gripper orientation to hold (w, x, y, z)
    double lift_z = 0;                     // m, carrying height fixed at grasp time
    double previous_pick_z = 0;            // m, object height at the last step
    int still_steps = 0;                   // consecutive steps the object did not sink
    std::array<double, 3> hold{};          // m, where the gripper stays while opening
  };
  envs::Action act_one(const envs::Observation& observation, SlotState& state) const;

  ExpertSettings settings_;
  std::map<int, SlotState> slots_;
};

}  // namespace policies::scripted
