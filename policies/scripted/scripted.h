// A privileged scripted expert: follows the task's plan (Observation::skill,
// published by tasks::TaskEnv from tasks::ExpertPlan) with one small state
// machine per skill, reading privileged poses, through the same 7-D action
// interface as any policy.
#pragma once

#include <array>
#include <map>

#include "policies/policy.h"
#include "policies/scripted/bridge_expert.h"
#include "policies/scripted/fractal_expert.h"

namespace policies::scripted {

struct ExpertSettings {
  double approach_height = 0.10;      // m above the grasp point before descending
  double lift_height = 0.12;          // m above the place height while carrying
  double raised_clearance = 0.09;     // m above the place height while carrying to a raised target
                                      // (clears the wine rack's 5 cm holder ring)
  double max_grip_z = 1.58;           // m, highest grip point the arm is sent to (world z)
  double release_height = 0.012;      // m above the resting height when letting go
  double position_tolerance = 0.008;  // m, reaching a waypoint
  double max_action = 1.0;            // cap on the position command (1.0 = 0.05 m per step)
  double push_action = 0.35;          // cap on the position command while pushing or pulling
  int close_steps = 10;               // control steps to close the gripper
  int release_steps = 8;              // control steps to open it
  int waypoint_timeout = 60;          // control steps before moving on regardless
  double rise_height = 0.10;          // m a skill first rises straight up from where it starts
  int retry_steps = 20;               // steps of retreat after a failed attempt, before retrying
  double min_lift = 0.02;             // m the object must rise with the gripper, else regrasp
  double max_slip = 0.04;  // m the held object may shift against the gripper while carried
  double hook_tilt = 0.6;  // rad, gripper tilt (fingertips toward the drawer) to hook a handle
  double hook_clearance =
      -0.001;  // m between the hooking finger and the handle bar at full depth (< 0: pressed on it)
  double hook_depth = 0.004;  // m, bar centre above the grip point along the gripper axis
  double hook_drop = 0.012;   // m the hooking finger goes further straight down behind the bar
  double bar_radius = 0.006;  // m, handle bar radius (drawer handles)
  double finger_half_thickness =
      0.0105;                  // m, closed fingers' half thickness across the hand x axis
  double dish_height = 0.03;   // m, pushed objects lower than this are pushed from inside
  double dish_reach = 0.55;    // contact from the centre of a dish, fraction of its radius
  double knob_reach = 0.016;   // m from the knob axis to the pushing contact, along the fin
  double knob_height = 0.013;  // m, grip point above the knob body origin
  double insert_tilt = 0.7;  // rad, fingertips tilted toward the way in when carrying into a cavity
  double insert_turn_rate = 0.2;  // cap on the rotation command near a cavity and along a door
  double door_clearance = 0.2;  // m above a door handle while moving to it (clears the door's top)
  double exit_rise = 0.035;     // m the open fingers rise out of a placed object before backing out
};

class ScriptedExpert : public Policy {
 public:
  explicit ScriptedExpert(ExpertSettings settings = {}) : settings_(settings) {}
  PolicyInfo info() const override;
  void reset(int slot, uint64_t seed) override;
  std::vector<ActionChunk> act(std::span<const PolicyQuery> batch) override;

 private:
  enum class Phase {
    kRise,
    kApproach,
    kDescend,
    kClose,
    kLift,
    kCarry,
    kLower,
    kRelease,
    kRetreat,
    kPush,
    kInsert
  };
  struct SlotState {
    int skill_index = -2;  // plan sub-task being worked on
    Phase phase = Phase::kRise;
    int phase_steps = 0;
    bool have_down = false;
    std::array<double, 4> down{};         // gripper orientation at the episode's start (w, x, y, z)
    std::array<double, 4> orientation{};  // orientation held from the grasp on
    double lift_z = 0;                    // m, carrying height fixed at grasp time
    double grasp_object_z = 0;            // m, object height when the gripper closed
    double previous_pick_z = 0;           // m, object height at the last step
    std::array<double, 3> held_offset{};  // m, object minus grip point once lifted
    int still_steps = 0;                  // consecutive steps the object did not sink
    std::array<double, 3> hold{};         // m, where the gripper stays (opening, pushing start)
    std::array<double, 3> direction{};    // push direction fixed for one stroke
    std::array<double, 3> start{};        // m, grip point when the skill (or its retry) started
    std::array<double, 4> start_orientation{1, 0, 0, 0};  // gripper orientation then
    double rise = 0;       // m to rise straight up first (0 for the episode's first skill)
    int insert_stage = 0;  // carrying into a cavity: 0 down to the entry, 1 in through the opening
    int exit_left = 0;     // way points left out of a cavity (they come before any skill)
    // m: where the fingers open, up out of the object, back out of the cavity.
    std::array<std::array<double, 3>, 3> exit_points{};
    bool in_cavity = false;           // the hand went into a cavity and has not left it yet
    std::array<double, 3> way_out{};  // horizontal unit vector out of that cavity
    double cavity_depth = 0;          // m to back out along way_out
  };
  // What one step of a skill asks for.
  struct Command {
    std::array<double, 3> target{};       // m, grip point goal
    std::array<double, 4> orientation{};  // gripper orientation goal (w, x, y, z)
    bool closed = false;
    double max_action = 0;           // cap on the position command
    double max_rotation = 1;         // cap on the rotation command (1.0 = 0.5 rad per step)
    bool turn_while_rising = false;  // kRise turns to `orientation` instead of holding the wrist
  };
  envs::Action act_one(const envs::Observation& observation, SlotState& state) const;
  // Sets the way out of a cavity from where the gripper is: open the fingers
  // there, rise out of the placed object, back out through the opening.
  void leave_cavity(const envs::Pose& eef, SlotState& state) const;
  // Starts phase `next`; a rise starts from the gripper's current pose.
  void enter_phase(Phase next, const envs::Pose& eef, SlotState& state) const;
  std::array<double, 3> rise_target(const SlotState& state, double clear_z) const;
  Command pick_place(const envs::Observation& observation, SlotState& state) const;
  Command push(const envs::Observation& observation, SlotState& state) const;
  Command drawer(const envs::Observation& observation, SlotState& state, bool open) const;
  Command knob(const envs::Observation& observation, SlotState& state, bool on) const;
  Command door(const envs::Observation& observation, SlotState& state, bool open) const;

  ExpertSettings settings_;
  std::map<int, SlotState> slots_;
  // The SimplerEnv-style families' experts (skills "bridge_*", "fractal_*").
  BridgeExpert bridge_;
  FractalExpert fractal_;
};

}  // namespace policies::scripted
