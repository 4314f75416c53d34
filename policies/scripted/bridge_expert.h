// Scripted expert for the Bridge tasks (skill "bridge_pick_place"): pick the
// source, carry it over the target, lower it and let go; a missed grasp
// (fingers not both pressing on the source after the lift) starts over.
//
// Hints read (published by tasks/simpler/bridge.cc): privileged
// "bridge_grasp" (TCP position to close at), "bridge_place" (TCP position
// that sets the held source on the target), "eef"; privileged_values
// "bridge_grasp_yaw" (world angle of the axis the fingers close along, rad),
// "bridge_grasp_symmetry" (rad: the source looks the same turned by this),
// "bridge_hover_z" and "bridge_carry_z" (TCP heights, m), "bridge_grasped"
// (1 while both fingers press on the source). Actions are raw: metres and
// radians per control step in the world frame, gripper -1 open / +1 close.
#pragma once

#include <array>
#include <vector>

#include "envs/types.h"

namespace policies::scripted {

struct BridgeExpertSettings {
  double max_step = 0.03;        // m per control step while moving freely
  double slow_step = 0.02;       // m per control step near objects (descend, lower)
  double max_turn = 0.35;        // rad per control step
  double tolerance = 0.005;      // m, reaching a waypoint
  double turn_tolerance = 0.05;  // rad, reaching an orientation
  int close_steps = 2;           // control steps the gripper closes before lifting
  int release_steps = 2;         // control steps the gripper opens before retreating
  int waypoint_timeout = 10;     // control steps at a waypoint before moving on regardless
  double retreat_height = 0.05;  // m the open gripper rises after a placement
};

class BridgeExpert {
 public:
  explicit BridgeExpert(BridgeExpertSettings settings = {}) : settings_(settings) {}

  void reset(int slot);
  envs::Action act(int slot, const envs::Observation& observation);

 private:
  enum class Phase { kApproach, kDescend, kClose, kLift, kCarry, kLower, kRelease, kRetreat };
  struct SlotState {
    bool started = false;
    Phase phase = Phase::kApproach;
    int phase_steps = 0;
    // The controller's target as the expert commanded it (world frame).
    std::array<double, 3> target{};
    std::array<double, 4> target_rotation{1, 0, 0, 0};  // w, x, y, z
    std::array<double, 4> grip_rotation{1, 0, 0, 0};    // gripper orientation for this attempt
    std::array<double, 3> anchor{};                     // where the gripper closed
  };
  SlotState& slot_state(int slot);
  void enter(SlotState& state, Phase phase) const;
  // A step toward `goal` (at most `step` m) and state.grip_rotation; updates the commanded target.
  envs::Action move(SlotState& state, const std::array<double, 3>& goal, double step,
                    float gripper) const;
  // The commanded target is at `goal` and the TCP within tolerance (or the phase timed out).
  bool reached(const SlotState& state, const envs::Observation& observation,
               const std::array<double, 3>& goal) const;

  BridgeExpertSettings settings_;
  std::vector<SlotState> slots_;
};

}  // namespace policies::scripted
