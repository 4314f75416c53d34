#include "policies/scripted/fractal_expert.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include <mujoco/mujoco.h>

namespace policies::scripted {
namespace {

using Vec3 = std::array<double, 3>;
using Quat = std::array<double, 4>;

double distance(const Vec3& a, const Vec3& b) {
  return std::sqrt((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) +
                   (a[2] - b[2]) * (a[2] - b[2]));
}

Vec3 above(const Vec3& point, double height) { return {point[0], point[1], point[2] + height}; }

// Axis-angle vector (rad) of the rotation from `from` to `to`, world frame.
Vec3 rotation_between(const Quat& from, const Quat& to) {
  Quat inverse, delta;
  mju_negQuat(inverse.data(), from.data());
  mju_mulQuat(delta.data(), to.data(), inverse.data());
  if (delta[0] < 0) {
    for (double& v : delta) v = -v;
  }
  Vec3 velocity;
  mju_quat2Vel(velocity.data(), delta.data(), 1);
  return velocity;
}

const envs::Pose& hint(const envs::Observation& observation, const char* key) {
  const auto found = observation.privileged.find(key);
  if (found == observation.privileged.end()) {
    throw std::runtime_error(std::string("FractalExpert: observation lacks the hint '") + key + "'");
  }
  return found->second;
}

double value(const envs::Observation& observation, const char* key) {
  const auto found = observation.privileged_values.find(key);
  if (found == observation.privileged_values.end()) {
    throw std::runtime_error(std::string("FractalExpert: observation lacks the value '") + key + "'");
  }
  return found->second;
}

}  // namespace

FractalExpert::SlotState& FractalExpert::slot_state(int slot) {
  if (slot < 0) throw std::runtime_error("FractalExpert: negative slot " + std::to_string(slot));
  if (slot >= int(slots_.size())) slots_.resize(slot + 1);
  return slots_[slot];
}

void FractalExpert::reset(int slot) {
  slot_state(slot) = SlotState{};
  drawer_.reset(slot);
}

void FractalExpert::enter(SlotState& state, Phase phase) {
  state.phase = phase;
  state.phase_steps = 0;
}

envs::Action FractalExpert::move(SlotState& state, const Vec3& goal, const Quat& rotation,
                                 double step, float gripper) const {
  envs::Action action{};
  const double remaining = distance(state.target, goal);
  const double scale = remaining > step ? step / remaining : 1.0;
  for (int i = 0; i < 3; ++i) {
    const double delta = (goal[i] - state.target[i]) * scale;
    action[i] = float(delta);
    state.target[i] += double(action[i]);
  }
  Vec3 turn = rotation_between(state.target_rotation, rotation);
  const double angle = std::sqrt(turn[0] * turn[0] + turn[1] * turn[1] + turn[2] * turn[2]);
  if (angle > settings_.max_turn) {
    for (double& v : turn) v *= settings_.max_turn / angle;
  }
  for (int i = 0; i < 3; ++i) action[3 + i] = float(turn[i]);
  // Follow the controller: target rotation = delta * target rotation.
  const Vec3 applied{double(action[3]), double(action[4]), double(action[5])};
  Quat delta{1, 0, 0, 0}, next;
  const double applied_angle = std::sqrt(applied[0] * applied[0] + applied[1] * applied[1] +
                                         applied[2] * applied[2]);
  if (applied_angle > 1e-12) {
    const Vec3 axis{applied[0] / applied_angle, applied[1] / applied_angle,
                    applied[2] / applied_angle};
    mju_axisAngle2Quat(delta.data(), axis.data(), applied_angle);
  }
  mju_mulQuat(next.data(), delta.data(), state.target_rotation.data());
  mju_normalize4(next.data());
  state.target_rotation = next;
  action[6] = gripper;
  return action;
}

bool FractalExpert::reached(const SlotState& state, const envs::Observation& observation,
                            const Vec3& goal, const Quat& rotation) const {
  const Vec3& eef = hint(observation, "eef").position;
  const Vec3 turn = rotation_between(state.target_rotation, rotation);
  const double angle = std::sqrt(turn[0] * turn[0] + turn[1] * turn[1] + turn[2] * turn[2]);
  const bool arrived = distance(state.target, goal) < 1e-3 &&
                       distance(eef, goal) < settings_.tolerance &&
                       angle < settings_.turn_tolerance;
  return arrived || state.phase_steps >= settings_.waypoint_timeout;
}

envs::Action FractalExpert::act(int slot, const envs::Observation& observation) {
  const bool pick = observation.skill == "fractal_pick_lift";
  const bool near = observation.skill == "fractal_move_near";
  if (!pick && !near) {
    if (observation.skill.rfind("fractal_", 0) != 0) {
      throw std::runtime_error("FractalExpert: not a Fractal skill '" + observation.skill + "'");
    }
    return drawer_.act(slot, observation);
  }
  SlotState& state = slot_state(slot);
  const envs::Pose& eef = hint(observation, "eef");
  if (!state.started || observation.step == 0) {
    state = SlotState{};
    state.started = true;
    state.target = eef.position;
    state.target_rotation = eef.quaternion;
  }
  const envs::Pose& grasp = hint(observation, "grasp");
  const Quat& grip = grasp.quaternion;
  const double approach = settings_.approach_height;
  ++state.phase_steps;
  // Each pass either acts in the current phase or moves on to the next one.
  for (int pass = 0; pass < 10; ++pass) {
    const Quat held = state.target_rotation;
    switch (state.phase) {
      case Phase::kApproach: {
        const Vec3 goal = above(grasp.position, approach);
        if (!reached(state, observation, goal, grip)) {
          return move(state, goal, grip, settings_.max_step, -1);
        }
        enter(state, Phase::kDescend);
        break;
      }
      case Phase::kDescend:
        if (!reached(state, observation, grasp.position, grip)) {
          return move(state, grasp.position, grip, settings_.slow_step, -1);
        }
        state.anchor = grasp.position;
        enter(state, Phase::kClose);
        break;
      case Phase::kClose:
        if (state.phase_steps <= settings_.close_steps) {
          return move(state, state.anchor, held, settings_.slow_step, 1);
        }
        enter(state, Phase::kLift);
        break;
      case Phase::kLift: {
        if (pick) {
          // Lift and hold.
          return move(state, above(state.anchor, value(observation, "lift")), held,
                      settings_.slow_step, 1);
        }
        const Vec3 goal = above(state.anchor, value(observation, "carry"));
        if (!reached(state, observation, goal, held)) {
          return move(state, goal, held, settings_.slow_step, 1);
        }
        enter(state, Phase::kCarry);
        break;
      }
      case Phase::kCarry: {
        const Vec3 goal = above(hint(observation, "place").position, value(observation, "carry"));
        if (!reached(state, observation, goal, held)) {
          return move(state, goal, held, settings_.max_step, 1);
        }
        enter(state, Phase::kLower);
        break;
      }
      case Phase::kLower: {
        const Vec3& goal = hint(observation, "place").position;
        if (!reached(state, observation, goal, held)) {
          return move(state, goal, held, settings_.slow_step, 1);
        }
        enter(state, Phase::kRelease);
        break;
      }
      case Phase::kRelease:
        if (state.phase_steps <= settings_.release_steps) {
          return move(state, state.target, held, settings_.slow_step, -1);
        }
        state.anchor = state.target;
        enter(state, Phase::kRetreat);
        break;
      case Phase::kRetreat:
        return move(state, above(state.anchor, settings_.retreat_height), held,
                    settings_.slow_step, -1);
    }
    state.phase_steps = 1;
  }
  throw std::logic_error("FractalExpert: no phase produced an action");
}

}  // namespace policies::scripted
