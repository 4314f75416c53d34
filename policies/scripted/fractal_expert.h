// Scripted expert for the Fractal (Google robot) tasks: pick-and-lift of the
// coke can ("fractal_pick_lift") and move {A} near {B} ("fractal_move_near")
// from the hints tasks/simpler/fractal.cc publishes; every other "fractal_*"
// skill (the drawer tasks) goes to FractalDrawerExpert.
//
// Hints read: privileged "grasp" (TCP pose to close the gripper at), "place"
// (TCP pose to release at, move near), "eef"; privileged_values "lift" and
// "carry" (m). Actions are raw: metres and radians per control step in the
// world frame, gripper -1 open / +1 close.
#pragma once

#include <array>
#include <vector>

#include "envs/types.h"
#include "policies/scripted/fractal_drawer_expert.h"

namespace policies::scripted {

struct FractalExpertSettings {
  double approach_height = 0.10;  // m above the grasp point before descending
  double max_step = 0.05;         // m per control step while moving freely
  double slow_step = 0.03;        // m per control step near objects (descend, lower)
  double max_turn = 0.3;          // rad per control step
  double tolerance = 0.006;       // m, reaching a waypoint
  double turn_tolerance = 0.05;   // rad, reaching an orientation
  int close_steps = 2;            // control steps the gripper closes before lifting
  int release_steps = 2;          // control steps the gripper opens before retreating
  int waypoint_timeout = 12;      // control steps before moving on regardless
  double retreat_height = 0.08;   // m the open gripper rises after a placement
};

class FractalExpert {
 public:
  explicit FractalExpert(FractalExpertSettings settings = {}) : settings_(settings) {}

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
    std::array<double, 4> target_rotation{1, 0, 0, 0};
    std::array<double, 3> anchor{};  // grasp point fixed when the gripper closed
  };
  SlotState& slot_state(int slot);
  void enter(SlotState& state, Phase phase);
  // A step toward `goal` (position capped at `step` m) and `rotation`.
  envs::Action move(SlotState& state, const std::array<double, 3>& goal,
                    const std::array<double, 4>& rotation, double step, float gripper) const;
  // The commanded target is at `goal` and `rotation`, and the TCP within tolerance.
  bool reached(const SlotState& state, const envs::Observation& observation,
               const std::array<double, 3>& goal, const std::array<double, 4>& rotation) const;

  FractalExpertSettings settings_;
  std::vector<SlotState> slots_;
  FractalDrawerExpert drawer_;
};

}  // namespace policies::scripted
