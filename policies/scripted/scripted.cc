#include "policies/scripted/scripted.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <mujoco/mujoco.h>

namespace policies::scripted {

PolicyInfo ScriptedExpert::info() const {
  PolicyInfo info;
  info.name = "scripted";
  info.privileged = true;
  return info;
}

void ScriptedExpert::reset(int slot, uint64_t) { slots_[slot] = SlotState{}; }

std::vector<ActionChunk> ScriptedExpert::act(std::span<const PolicyQuery> batch) {
  std::vector<ActionChunk> chunks;
  chunks.reserve(batch.size());
  for (const PolicyQuery& query : batch) {
    chunks.push_back({act_one(*query.observation, slots_[query.slot])});
  }
  return chunks;
}

namespace {

const envs::Pose& require(const envs::Observation& observation, const char* key) {
  const auto it = observation.privileged.find(key);
  if (it == observation.privileged.end()) {
    throw std::runtime_error(std::string("scripted expert: the task gives no '") + key +
                             "' pose (the expert solves On/In pick-and-place goals)");
  }
  return it->second;
}

double distance(const std::array<double, 3>& a, const std::array<double, 3>& b) {
  return std::sqrt((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) +
                   (a[2] - b[2]) * (a[2] - b[2]));
}

}  // namespace

envs::Action ScriptedExpert::act_one(const envs::Observation& observation, SlotState& state) const {
  const envs::Pose& eef = require(observation, "eef");
  const envs::Pose& pick = require(observation, "pick");
  const envs::Pose& grasp = require(observation, "pick_grasp");
  const envs::Pose& place = require(observation, "place");
  if (!state.have_orientation) {
    state.orientation = eef.quaternion;
    state.have_orientation = true;
  }

  // Where the gripper goes in each phase, and whether it is closed.
  std::array<double, 3> target = eef.position;
  bool closed = false;
  // Carrying servos the object itself: the gripper moves by the object's error,
  // so a grasp that slipped or tilted still lands the object on target.
  auto carry_target = [&](double height) {
    return std::array<double, 3>{eef.position[0] + place.position[0] - pick.position[0],
                                 eef.position[1] + place.position[1] - pick.position[1],
                                 eef.position[2] + place.position[2] + height - pick.position[2]};
  };
  auto advance = [&](Phase next) {
    state.phase = next;
    state.phase_steps = 0;
  };
  const int timeout = settings_.waypoint_timeout;
  switch (state.phase) {
    case Phase::kApproach:
      target = {grasp.position[0], grasp.position[1], grasp.position[2] + settings_.approach_height};
      if (distance(eef.position, target) < settings_.position_tolerance * 2 ||
          state.phase_steps > timeout) {
        advance(Phase::kDescend);
      }
      break;
    case Phase::kDescend:
      target = grasp.position;
      if (distance(eef.position, target) < settings_.position_tolerance ||
          state.phase_steps > timeout) {
        advance(Phase::kClose);
      }
      break;
    case Phase::kClose:
      target = grasp.position;
      closed = true;
      if (state.phase_steps >= settings_.close_steps) {
        state.lift_z = grasp.position[2] + settings_.lift_height;
        advance(Phase::kLift);
      }
      break;
    case Phase::kLift:
      closed = true;
      target = {eef.position[0], eef.position[1],
                std::max(carry_target(settings_.lift_height)[2], state.lift_z)};
      if (std::abs(eef.position[2] - target[2]) < settings_.position_tolerance * 2 ||
          state.phase_steps > timeout) {
        advance(Phase::kCarry);
      }
      break;
    case Phase::kCarry:
      closed = true;
      target = carry_target(settings_.lift_height);
      target[2] = std::max(target[2], eef.position[2]);
      if (std::hypot(eef.position[0] - target[0], eef.position[1] - target[1]) <
              settings_.position_tolerance ||
          state.phase_steps > timeout) {
        advance(Phase::kLower);
      }
      break;
    case Phase::kLower:
      // Go down until the object rests on something (it stops sinking) or the
      // gripper is well below the expected resting height.
      closed = true;
      target = carry_target(settings_.release_height - 0.03);
      state.still_steps = std::abs(pick.position[2] - state.previous_pick_z) < 0.0008
                              ? state.still_steps + 1 : 0;
      if (state.phase_steps > 3 && (state.still_steps >= 2 || eef.position[2] < target[2] + 0.005 ||
                                    state.phase_steps > timeout)) {
        state.hold = eef.position;
        advance(Phase::kRelease);
      }
      break;
    case Phase::kRelease:
      target = state.hold;
      if (state.phase_steps >= settings_.release_steps) advance(Phase::kRetreat);
      break;
    case Phase::kRetreat:
      target = {eef.position[0], eef.position[1], state.lift_z};
      break;
  }
  ++state.phase_steps;
  state.previous_pick_z = pick.position[2];

  envs::Action action{};
  const double scale = 1.0 / 0.05;  // action 1.0 moves 0.05 m per step
  for (int i = 0; i < 3; ++i) {
    action[i] = float(std::clamp((target[i] - eef.position[i]) * scale, -settings_.max_action,
                                 settings_.max_action));
  }
  // Hold the starting orientation: rotation error as a world-frame axis-angle.
  double current_inverse[4], error[4], axis[3];
  mju_negQuat(current_inverse, eef.quaternion.data());
  mju_mulQuat(error, state.orientation.data(), current_inverse);
  if (error[0] < 0) {
    for (double& v : error) v = -v;
  }
  mju_quat2Vel(axis, error, 1.0);
  for (int i = 0; i < 3; ++i) action[3 + i] = float(std::clamp(axis[i] / 0.5, -1.0, 1.0));
  action[6] = closed ? 1.0f : -1.0f;
  return action;
}

}  // namespace policies::scripted
