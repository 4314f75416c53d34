#include "policies/scripted/fractal_drawer_expert.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace policies::scripted {

namespace {

using Vec3 = Eigen::Vector3d;
using Mat3 = Eigen::Matrix3d;

const envs::Pose& hint(const envs::Observation& observation, const char* name) {
  const auto found = observation.privileged.find(name);
  if (found == observation.privileged.end()) {
    throw std::runtime_error(std::string("FractalDrawerExpert: observation has no hint '") + name +
                             "' (skill '" + observation.skill + "')");
  }
  return found->second;
}

double value(const envs::Observation& observation, const char* name) {
  const auto found = observation.privileged_values.find(name);
  if (found == observation.privileged_values.end()) {
    throw std::runtime_error(std::string("FractalDrawerExpert: observation has no value '") + name +
                             "' (skill '" + observation.skill + "')");
  }
  return found->second;
}

Vec3 position_of(const envs::Pose& pose) {
  return {pose.position[0], pose.position[1], pose.position[2]};
}

Mat3 rotation_of(const envs::Pose& pose) {
  const auto& q = pose.quaternion;
  return Eigen::Quaterniond(q[0], q[1], q[2], q[3]).normalized().toRotationMatrix();
}

// A hand rotation (columns: the grip site's x, y, z axes in the world) with
// the fingers pointing along `z` and closing along `y` or -`y`, whichever is
// nearer the current closing axis (the gripper is symmetric under a half turn).
Mat3 hand_rotation(const Vec3& z, Vec3 y, const Mat3& current) {
  if (y.dot(current.col(1)) < 0) y = -y;
  Mat3 rotation;
  rotation.col(0) = y.cross(z);
  rotation.col(1) = y;
  rotation.col(2) = z;
  return rotation;
}

}  // namespace

void FractalDrawerExpert::reset(int slot) {
  if (slot < 0) throw std::runtime_error("FractalDrawerExpert: negative slot");
  if (slot >= int(slots_.size())) slots_.resize(slot + 1);
  slots_[slot] = SlotState{};
}

void FractalDrawerExpert::enter(SlotState* state, Phase phase) const {
  state->phase = phase;
  state->phase_steps = 0;
}

envs::Action FractalDrawerExpert::act(int slot, const envs::Observation& observation) {
  if (slot < 0) throw std::runtime_error("FractalDrawerExpert: negative slot");
  if (slot >= int(slots_.size())) reset(slot);
  SlotState& state = slots_[slot];
  const bool apple_task = observation.skill == "fractal_apple_in_drawer";
  if (!apple_task && observation.skill != "fractal_open_drawer" &&
      observation.skill != "fractal_close_drawer") {
    throw std::runtime_error("FractalDrawerExpert: not a drawer skill: '" + observation.skill +
                             "'");
  }

  const envs::Pose& eef_pose = hint(observation, "eef");
  const Vec3 eef = position_of(eef_pose);
  const Mat3 hand = rotation_of(eef_pose);
  const Vec3 handle = position_of(hint(observation, "handle"));
  const Vec3 pull = position_of(hint(observation, "pull")).normalized();
  const double joint = value(observation, "joint_position");
  const double goal = value(observation, "joint_goal");
  const Vec3 up(0, 0, 1);
  const Vec3 bar = up.cross(pull).normalized();  // the handle bar's axis (horizontal)

  // Where the fingers take the bar: off its middle toward the arm (within
  // max_bar_shift), the bar bar_offset beyond the grip point along the fingers.
  const envs::Pose& shoulder_pose = hint(observation, "shoulder");
  const Vec3 shoulder = position_of(shoulder_pose);
  const Vec3 forward = rotation_of(shoulder_pose).col(0);  // the robot's facing direction
  const double shift =
      std::clamp((shoulder - handle).dot(bar), -settings_.max_bar_shift, settings_.max_bar_shift);
  const Vec3 bar_point = handle + bar * shift;
  auto fingers_at = [&](double pitch) {
    return Vec3(-pull * std::cos(pitch) - up * std::sin(pitch));
  };
  if (state.pitch < 0) {
    // The pitch whose wrist positions (at the bar now and at the pull's end)
    // keep the best margin inside the arm's comfortable reach.
    const double reach = value(observation, "arm_reach");
    const double offset = value(observation, "tcp_offset");
    const double near = settings_.near_reach * reach, far = settings_.far_reach * reach;
    double best_margin = -1e9;
    for (double pitch = 0; pitch <= settings_.max_pitch + 1e-9; pitch += 0.05) {
      const Vec3 z = fingers_at(pitch);
      double margin = 1e9;
      for (double travel : {0.0, goal - joint}) {
        const Vec3 grip = bar_point + pull * travel - z * settings_.bar_offset;
        const Vec3 wrist = grip - z * offset;
        const double distance = (wrist - shoulder).norm();
        // The wrist stays ahead of the shoulder (clear of the torso).
        const double ahead = (wrist - shoulder).dot(forward);
        margin = std::min({margin, distance - near, far - distance, ahead});
      }
      if (margin > best_margin + 1e-6) {
        best_margin = margin;
        state.pitch = pitch;
      }
    }
  }
  const Vec3 grasp_z = fingers_at(state.pitch).normalized();
  const Mat3 grasp_rotation = hand_rotation(grasp_z, grasp_z.cross(bar), hand);
  const Mat3 down_rotation = hand_rotation(-up, bar, hand);
  const Vec3 on_handle = bar_point - grasp_z * settings_.bar_offset;
  const Vec3 standoff = on_handle - grasp_z * settings_.standoff;

  Vec3 target = eef;
  Mat3 target_rotation = hand;
  double step = settings_.max_step;
  double gripper = -1;
  auto reached = [&](double tolerance) {
    const double angle = Eigen::AngleAxisd(target_rotation * hand.transpose()).angle();
    return (target - eef).norm() < tolerance && angle < settings_.turn_tolerance;
  };
  // Moves on when the waypoint is reached or the phase times out.
  auto advance_when_reached = [&](Phase next) {
    if (reached(settings_.reach_tolerance) || state.phase_steps >= settings_.phase_timeout) {
      enter(&state, next);
    }
  };

  // The phase machine: each branch sets this step's target and may advance.
  ++state.phase_steps;
  switch (state.phase) {
    case Phase::kBackOff: {
      // From where the controller is being sent (not the measured pose, which
      // sways while the hand turns).
      const Vec3 from = state.started ? Vec3(state.commanded_position.data()) : eef;
      const double along = (from - standoff).dot(pull);
      target = from + pull * std::max(0.0, -along);
      target_rotation = grasp_rotation;
      advance_when_reached(Phase::kStandoff);
      break;
    }
    case Phase::kStandoff:
      target = standoff;
      target_rotation = grasp_rotation;
      gripper = settings_.approach_gripper;
      advance_when_reached(Phase::kOntoHandle);
      break;
    case Phase::kOntoHandle:
      target = on_handle;
      target_rotation = grasp_rotation;
      step = settings_.slow_step;
      gripper = settings_.approach_gripper;
      advance_when_reached(Phase::kGrip);
      break;
    case Phase::kGrip:
      target = on_handle;
      target_rotation = grasp_rotation;
      gripper = 1;
      if (state.phase_steps >= settings_.grip_steps) enter(&state, Phase::kPull);
      break;
    case Phase::kPull: {
      if (state.pull_direction == 0) state.pull_direction = goal > joint ? 1 : -1;
      const double direction = state.pull_direction;
      // Steps shrink near the goal: the drawer stops there, not a full step beyond.
      const double remaining = std::max(0.0, direction * (goal - joint));
      target = on_handle + pull * direction * std::min(settings_.pull_step, remaining + 0.01);
      target_rotation = grasp_rotation;
      step = settings_.pull_step;
      gripper = 1;
      const bool done = direction > 0 ? joint >= goal : joint <= goal;
      if (done || state.phase_steps >= settings_.pull_timeout) enter(&state, Phase::kLetGo);
      break;
    }
    case Phase::kLetGo:
      target = eef;
      target_rotation = hand;
      if (state.phase_steps >= settings_.release_steps) enter(&state, Phase::kRetreat);
      break;
    case Phase::kRetreat:
      target = standoff;
      target_rotation = grasp_rotation;
      if (reached(settings_.via_tolerance) || state.phase_steps >= settings_.phase_timeout) {
        enter(&state, apple_task ? Phase::kClear : Phase::kDone);
      }
      break;
    case Phase::kClear:
      target = standoff;
      target.z() = value(observation, "cabinet_top_z") + value(observation, "apple_rest_height") +
                   settings_.carry_clearance;
      target_rotation = grasp_rotation;
      if (reached(settings_.via_tolerance) || state.phase_steps >= settings_.phase_timeout) {
        enter(&state, Phase::kAboveApple);
      }
      break;
    case Phase::kAboveApple:
    case Phase::kDownToApple:
    case Phase::kGripApple:
    case Phase::kLift:
    case Phase::kCarry:
    case Phase::kLower:
    case Phase::kDrop:
    case Phase::kRise: {
      const Vec3 apple = position_of(hint(observation, "apple"));
      const Vec3 place = position_of(hint(observation, "place"));
      const double carry_z = value(observation, "cabinet_top_z") +
                             value(observation, "apple_rest_height") + settings_.carry_clearance;
      target_rotation = down_rotation;
      switch (state.phase) {
        case Phase::kAboveApple:
          target = {apple.x(), apple.y(), carry_z};
          advance_when_reached(Phase::kDownToApple);
          break;
        case Phase::kDownToApple:
          target = apple;
          step = settings_.slow_step;
          advance_when_reached(Phase::kGripApple);
          break;
        case Phase::kGripApple:
          target = apple;
          gripper = 1;
          if (state.phase_steps >= settings_.grip_steps) enter(&state, Phase::kLift);
          break;
        case Phase::kLift:
          target = {eef.x(), eef.y(), carry_z};
          gripper = 1;
          if (reached(settings_.via_tolerance) || state.phase_steps >= settings_.phase_timeout) {
            const double rest_z =
                value(observation, "cabinet_top_z") + value(observation, "apple_rest_height");
            if (apple.z() > rest_z + settings_.min_lift) {
              enter(&state, Phase::kCarry);
            } else {
              ++state.attempts;
              enter(&state, Phase::kAboveApple);
            }
          }
          break;
        case Phase::kCarry:
          target = {place.x(), place.y(), carry_z};
          gripper = 1;
          if ((apple - eef).norm() > 0.06) {
            // Dropped on the way: pick it up again.
            ++state.attempts;
            enter(&state, Phase::kAboveApple);
          } else {
            advance_when_reached(Phase::kLower);
          }
          break;
        case Phase::kLower:
          target = place + up * settings_.release_height;
          step = settings_.slow_step;
          gripper = 1;
          advance_when_reached(Phase::kDrop);
          break;
        case Phase::kDrop:
          target = eef;
          if (state.phase_steps >= settings_.release_steps) enter(&state, Phase::kRise);
          break;
        default:  // kRise
          target = {eef.x(), eef.y(), carry_z};
          advance_when_reached(Phase::kDone);
          break;
      }
      break;
    }
    case Phase::kDone:
      target = eef;
      target_rotation = hand;
      break;
  }

  // The action: the commanded pose moves a capped step toward the target
  // and turns a capped angle toward its rotation; it may lead the measured
  // pose by max_lead at most (no wind-up where the arm is blocked).
  if (!state.started) {
    state.started = true;
    state.commanded_position = eef_pose.position;
    state.commanded_rotation = eef_pose.quaternion;
  }
  const Vec3 commanded(state.commanded_position.data());
  const Eigen::Quaterniond commanded_quaternion(
      state.commanded_rotation[0], state.commanded_rotation[1], state.commanded_rotation[2],
      state.commanded_rotation[3]);
  const Mat3 commanded_rotation = commanded_quaternion.normalized().toRotationMatrix();
  Vec3 next = commanded;
  Vec3 move = target - commanded;
  const double distance = move.norm();
  if (distance > step) move *= step / distance;
  next += move;
  Vec3 lead = next - eef;
  if (lead.norm() > settings_.max_lead) next = eef + lead * (settings_.max_lead / lead.norm());
  move = next - commanded;
  const Eigen::AngleAxisd turn(target_rotation * commanded_rotation.transpose());
  const Vec3 rotation = turn.axis() * std::min(turn.angle(), settings_.max_turn);
  const Eigen::Quaterniond next_rotation =
      (Eigen::AngleAxisd(std::min(turn.angle(), settings_.max_turn), turn.axis()) *
       commanded_quaternion.normalized())
          .normalized();
  state.commanded_position = {next.x(), next.y(), next.z()};
  state.commanded_rotation = {next_rotation.w(), next_rotation.x(), next_rotation.y(),
                              next_rotation.z()};
  envs::Action action{};
  for (int i = 0; i < 3; ++i) {
    action[i] = float(move[i]);
    action[3 + i] = float(rotation[i]);
  }
  action[6] = float(gripper);
  return action;
}

}  // namespace policies::scripted
