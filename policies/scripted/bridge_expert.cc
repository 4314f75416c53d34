#include "policies/scripted/bridge_expert.h"

#include <Eigen/Dense>
#include <Eigen/Geometry>
#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>

namespace policies::scripted {
namespace {

using Vec3 = Eigen::Vector3d;
using Mat3 = Eigen::Matrix3d;

Mat3 to_matrix(const std::array<double, 4>& q) {
  return Eigen::Quaterniond(q[0], q[1], q[2], q[3]).normalized().toRotationMatrix();
}

std::array<double, 4> to_quat(const Mat3& m) {
  const Eigen::Quaterniond q(m);
  return {q.w(), q.x(), q.y(), q.z()};
}

const envs::Pose& hint_pose(const envs::Observation& observation, const char* name) {
  const auto it = observation.privileged.find(name);
  if (it == observation.privileged.end()) {
    throw std::runtime_error(std::string("BridgeExpert: observation lacks privileged hint '") +
                             name + "'");
  }
  return it->second;
}

double hint_value(const envs::Observation& observation, const char* name) {
  const auto it = observation.privileged_values.find(name);
  if (it == observation.privileged_values.end()) {
    throw std::runtime_error(std::string("BridgeExpert: observation lacks privileged value '") +
                             name + "'");
  }
  return it->second;
}

// Gripper pointing down (TCP z = world -z), fingers closing along world angle `yaw`.
Mat3 downward(double yaw) {
  const double c = std::cos(yaw), s = std::sin(yaw);
  Mat3 m;
  m << -s, c, 0, c, s, 0, 0, 0, -1;
  return m;
}

double rotation_angle(const Mat3& a, const Mat3& b) {
  return Eigen::AngleAxisd(a * b.transpose()).angle();
}

}  // namespace

BridgeExpert::SlotState& BridgeExpert::slot_state(int slot) {
  if (slot < 0) throw std::runtime_error("BridgeExpert: negative slot " + std::to_string(slot));
  if (slot >= int(slots_.size())) slots_.resize(slot + 1);
  return slots_[slot];
}

void BridgeExpert::reset(int slot) { slot_state(slot) = SlotState{}; }

void BridgeExpert::enter(SlotState& state, Phase phase) const {
  state.phase = phase;
  state.phase_steps = 0;
}

envs::Action BridgeExpert::move(SlotState& state, const std::array<double, 3>& goal, double step,
                                float gripper) const {
  envs::Action action{0, 0, 0, 0, 0, 0, gripper};
  Vec3 delta(goal[0] - state.target[0], goal[1] - state.target[1], goal[2] - state.target[2]);
  if (delta.norm() > step) delta *= step / delta.norm();
  for (int k = 0; k < 3; ++k) {
    action[k] = float(delta[k]);
    state.target[k] += double(action[k]);
  }
  const Mat3 current = to_matrix(state.target_rotation);
  Eigen::AngleAxisd turn(to_matrix(state.grip_rotation) * current.transpose());
  if (turn.angle() > settings_.max_turn) turn.angle() = settings_.max_turn;
  const Vec3 rotation = turn.axis() * turn.angle();
  for (int k = 0; k < 3; ++k) action[3 + k] = float(rotation[k]);
  const Vec3 applied(action[3], action[4], action[5]);
  const Mat3 applied_matrix = applied.norm() > 1e-12
                                  ? Mat3(Eigen::AngleAxisd(applied.norm(), applied.normalized()))
                                  : Mat3::Identity();
  state.target_rotation = to_quat(applied_matrix * current);
  return action;
}

bool BridgeExpert::reached(const SlotState& state, const envs::Observation& observation,
                           const std::array<double, 3>& goal) const {
  if (state.phase_steps >= settings_.waypoint_timeout) return true;
  const auto& tcp = hint_pose(observation, "eef").position;
  double commanded = 0, actual = 0;
  for (int k = 0; k < 3; ++k) {
    commanded = std::max(commanded, std::abs(goal[k] - state.target[k]));
    actual += (goal[k] - tcp[k]) * (goal[k] - tcp[k]);
  }
  // The commanded orientation has arrived (the arm's own tracking is checked by position).
  const double turn =
      rotation_angle(to_matrix(state.grip_rotation), to_matrix(state.target_rotation));
  return commanded < 1e-6 && std::sqrt(actual) < settings_.tolerance &&
         turn < settings_.turn_tolerance;
}

envs::Action BridgeExpert::act(int slot, const envs::Observation& observation) {
  SlotState& state = slot_state(slot);
  const envs::Pose& eef = hint_pose(observation, "eef");
  const std::array<double, 3>& grasp = hint_pose(observation, "bridge_grasp").position;
  const std::array<double, 3>& place = hint_pose(observation, "bridge_place").position;
  const double hover_z = hint_value(observation, "bridge_hover_z");
  const double carry_z = hint_value(observation, "bridge_carry_z");
  const bool grasped = hint_value(observation, "bridge_grasped") > 0.5;

  // A new attempt: the gripper turns to the nearest equivalent closing angle.
  auto plan_grip = [&]() {
    const double yaw = hint_value(observation, "bridge_grasp_yaw");
    const double symmetry = hint_value(observation, "bridge_grasp_symmetry");
    const Mat3 now = to_matrix(state.started ? state.target_rotation : eef.quaternion);
    double best_yaw = yaw, best_angle = 1e9;
    for (int k = -4; k <= 4; ++k) {
      const double candidate = yaw + k * symmetry;
      const double angle = rotation_angle(downward(candidate), now);
      if (angle < best_angle) best_angle = angle, best_yaw = candidate;
    }
    state.grip_rotation = to_quat(downward(best_yaw));
  };
  if (!state.started) {
    state.started = true;
    state.target = eef.position;
    state.target_rotation = eef.quaternion;
    plan_grip();
    enter(state, Phase::kApproach);
  }
  ++state.phase_steps;

  switch (state.phase) {
    case Phase::kApproach: {
      const std::array<double, 3> goal{grasp[0], grasp[1], hover_z};
      if (reached(state, observation, goal)) {
        enter(state, Phase::kDescend);
        return act(slot, observation);
      }
      return move(state, goal, settings_.max_step, -1);
    }
    case Phase::kDescend: {
      if (reached(state, observation, grasp)) {
        state.anchor = grasp;
        enter(state, Phase::kClose);
        return act(slot, observation);
      }
      return move(state, grasp, settings_.slow_step, -1);
    }
    case Phase::kClose: {
      if (state.phase_steps > settings_.close_steps) {
        enter(state, Phase::kLift);
        return act(slot, observation);
      }
      return move(state, state.anchor, settings_.slow_step, 1);
    }
    case Phase::kLift: {
      const std::array<double, 3> goal{state.anchor[0], state.anchor[1], carry_z};
      if (reached(state, observation, goal)) {
        if (!grasped) {
          // Missed: open and try again from above.
          plan_grip();
          enter(state, Phase::kApproach);
          return move(state, {state.target[0], state.target[1], hover_z}, settings_.max_step, -1);
        }
        enter(state, Phase::kCarry);
        return act(slot, observation);
      }
      return move(state, goal, settings_.max_step, 1);
    }
    case Phase::kCarry: {
      const std::array<double, 3> goal{place[0], place[1], carry_z};
      if (!grasped && state.phase_steps > 1) {
        plan_grip();
        enter(state, Phase::kApproach);
        return move(state, state.target, settings_.max_step, -1);
      }
      if (reached(state, observation, goal)) {
        enter(state, Phase::kLower);
        return act(slot, observation);
      }
      return move(state, goal, settings_.max_step, 1);
    }
    case Phase::kLower: {
      if (reached(state, observation, place)) {
        enter(state, Phase::kRelease);
        return act(slot, observation);
      }
      return move(state, place, settings_.slow_step, 1);
    }
    case Phase::kRelease: {
      if (state.phase_steps > settings_.release_steps) {
        state.anchor = state.target;
        enter(state, Phase::kRetreat);
        return act(slot, observation);
      }
      return move(state, state.target, settings_.slow_step, -1);
    }
    case Phase::kRetreat:
      return move(state,
                  {state.anchor[0], state.anchor[1], state.anchor[2] + settings_.retreat_height},
                  settings_.slow_step, -1);
  }
  return move(state, state.target, 0, -1);
}

}  // namespace policies::scripted
