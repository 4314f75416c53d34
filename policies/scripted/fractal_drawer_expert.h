// Scripted expert for the Fractal drawer tasks (Google robot): grasps a
// drawer's handle bar and pulls it open or pushes it shut; for the apple task
// it opens the top drawer, picks the apple off the cabinet top and lowers it
// into the drawer. Reads only the hints tasks::simpler's drawer environment
// publishes (Observation::privileged: "eef", "handle", "pull", "shoulder",
// "apple", "place"; privileged_values: "joint_position", "joint_goal",
// "arm_reach", "tcp_offset", "cabinet_top_z", "apple_rest_height") and
// Observation::skill ("fractal_open_drawer", "fractal_close_drawer",
// "fractal_apple_in_drawer"). Actions are raw: metres and radians per control
// step in the world frame, gripper -1 open / +1 close. The arm controller
// accumulates deltas on its pose target; the expert keeps its own copy of
// that target and steers it, so a slow or blocked arm does not wind it up.
#pragma once

#include <array>
#include <vector>

#include "envs/types.h"

namespace policies::scripted {

struct FractalDrawerExpertSettings {
  double max_step = 0.04;           // m per control step in free space
  double slow_step = 0.02;          // m per control step near the handle or the apple
  double pull_step = 0.04;          // m per control step while pulling or pushing a drawer
  double max_turn = 0.3;            // rad per control step
  double reach_tolerance = 0.008;   // m, a waypoint counts as reached
  double via_tolerance = 0.03;      // m, ... a waypoint only passed through (retreats, rises)
  double turn_tolerance = 0.08;     // rad, an orientation counts as reached
  double standoff = 0.08;           // m back along the fingers from the grip point before moving on
  double bar_offset = 0.015;        // m the bar sits beyond the grip point along the fingers
  double max_bar_shift = 0.04;      // m the grip point may lie off the bar's middle, toward the arm
  double approach_gripper = -0.33;  // gripper command while moving onto a bar (fingers 3 cm apart)
  // Hand pitch (fingers tilted down from horizontal) at a handle: chosen per
  // episode within [0, max_pitch] so that the wrist stays between
  // near_reach and far_reach (fractions of the arm's reach) from the shoulder
  // at the grip point and at the pull's end.
  double max_pitch = 0.8;  // rad
  double near_reach = 0.3;
  double far_reach = 0.93;
  double carry_clearance = 0.10;  // m, grip point above the cabinet top while carrying the apple
  double release_height = 0.012;  // m above the apple's resting height when letting go
  double min_lift = 0.03;         // m the apple must rise with the gripper, else regrasp
  double max_lead = 0.06;         // m the commanded pose may run ahead of the measured one
  int grip_steps = 2;             // control steps to close the gripper
  int release_steps = 2;          // control steps to open it
  int phase_timeout = 15;         // control steps before a phase gives up and moves on
  int pull_timeout = 25;          // control steps of pulling or pushing at most
};

class FractalDrawerExpert {
 public:
  explicit FractalDrawerExpert(FractalDrawerExpertSettings settings = {}) : settings_(settings) {}

  // Starts a new episode in `slot` (slots grow on demand).
  void reset(int slot);
  // One action for the observation of `slot`. Throws std::runtime_error if a
  // hint the skill needs is missing or the skill is not a drawer skill.
  envs::Action act(int slot, const envs::Observation& observation);

 private:
  enum class Phase {
    kBackOff,     // away from the cabinet along the pull axis, turning the hand
    kStandoff,    // in front of the handle
    kOntoHandle,  // fingers around the bar
    kGrip,
    kPull,  // pull open or push shut
    kLetGo,
    kRetreat,  // back off the bar along the fingers
    kClear,    // apple task: straight up to the carrying height
    kAboveApple,
    kDownToApple,
    kGripApple,
    kLift,
    kCarry,
    kLower,
    kDrop,
    kRise,
    kDone,
  };
  struct SlotState {
    Phase phase = Phase::kBackOff;
    int phase_steps = 0;
    int attempts = 0;
    double pitch = -1;          // rad, chosen at the episode's first step
    double pull_direction = 0;  // +1 pulling open, -1 pushing shut (set when the pull starts)
    // The arm controller's pose target as this expert has commanded it (the
    // controller accumulates deltas on its target): set from the measured
    // pose at the episode's first step.
    bool started = false;
    std::array<double, 3> commanded_position{};            // m, world
    std::array<double, 4> commanded_rotation{1, 0, 0, 0};  // w, x, y, z
  };

  void enter(SlotState* state, Phase phase) const;

  FractalDrawerExpertSettings settings_;
  std::vector<SlotState> slots_;
};

}  // namespace policies::scripted
