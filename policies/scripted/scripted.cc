#include "policies/scripted/scripted.h"

#include <mujoco/mujoco.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace policies::scripted {

PolicyInfo ScriptedExpert::info() const {
  PolicyInfo info;
  info.name = "scripted";
  info.privileged = true;
  return info;
}

void ScriptedExpert::reset(int slot, uint64_t) {
  slots_[slot] = SlotState{};
  bridge_.reset(slot);
  fractal_.reset(slot);
}

std::vector<ActionChunk> ScriptedExpert::act(std::span<const PolicyQuery> batch) {
  std::vector<ActionChunk> chunks;
  chunks.reserve(batch.size());
  for (const PolicyQuery& query : batch) {
    const std::string& skill = query.observation->skill;
    if (skill.rfind("bridge_", 0) == 0) {
      chunks.push_back({bridge_.act(query.slot, *query.observation)});
    } else if (skill.rfind("fractal_", 0) == 0) {
      chunks.push_back({fractal_.act(query.slot, *query.observation)});
    } else {
      chunks.push_back({act_one(*query.observation, slots_[query.slot])});
    }
  }
  return chunks;
}

namespace {

using Vec3 = std::array<double, 3>;
using Quat = std::array<double, 4>;

const envs::Pose& require(const envs::Observation& observation, const char* key) {
  const auto it = observation.privileged.find(key);
  if (it == observation.privileged.end()) {
    throw std::runtime_error(std::string("scripted expert: the observation has no privileged '") +
                             key + "' pose (run the expert on a tasks::TaskEnv)");
  }
  return it->second;
}

double value(const envs::Observation& observation, const char* key) {
  const auto it = observation.privileged_values.find(key);
  if (it == observation.privileged_values.end()) {
    throw std::runtime_error(std::string("scripted expert: the observation has no privileged '") +
                             key + "' value (run the expert on a tasks::TaskEnv)");
  }
  return it->second;
}

double distance(const Vec3& a, const Vec3& b) {
  return std::sqrt((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) +
                   (a[2] - b[2]) * (a[2] - b[2]));
}

double distance_xy(const Vec3& a, const Vec3& b) { return std::hypot(a[0] - b[0], a[1] - b[1]); }

Vec3 add(const Vec3& a, const Vec3& b, double scale = 1.0) {
  return {a[0] + scale * b[0], a[1] + scale * b[1], a[2] + scale * b[2]};
}

// Unit horizontal vector from a to b (x axis if they coincide).
Vec3 direction_xy(const Vec3& from, const Vec3& to) {
  const double dx = to[0] - from[0], dy = to[1] - from[1], norm = std::hypot(dx, dy);
  return norm < 1e-9 ? Vec3{1, 0, 0} : Vec3{dx / norm, dy / norm, 0};
}

Quat multiply(const Quat& a, const Quat& b) {
  Quat out;
  mju_mulQuat(out.data(), a.data(), b.data());
  return out;
}

Quat axis_angle(const Vec3& axis, double angle) {
  Quat out;
  mju_axisAngle2Quat(out.data(), axis.data(), angle);
  return out;
}

// A yaw in [-pi/2, pi/2]: the gripper is symmetric under a half turn about z.
double half_turn_wrap(double yaw) {
  while (yaw > M_PI / 2) yaw -= M_PI;
  while (yaw < -M_PI / 2) yaw += M_PI;
  return yaw;
}

// The starting (pointing down) orientation turned by `yaw` about world z.
// At yaw 0 the fingers close along world y and the hand's x axis is along world x.
Quat yawed(const Quat& down, double yaw) { return multiply(axis_angle({0, 0, 1}, yaw), down); }

// Yaw that puts the hand's x axis (the closed fingers' thin side) along `direction`.
double yaw_along(const Vec3& direction) {
  return half_turn_wrap(std::atan2(direction[1], direction[0]));
}

}  // namespace

void ScriptedExpert::enter_phase(Phase next, const envs::Pose& eef, SlotState& state) const {
  state.phase = next;
  state.phase_steps = 0;
  if (next == Phase::kRise) {
    state.rise = settings_.rise_height;
    state.start = eef.position;
    state.start_orientation = eef.quaternion;
  }
}

std::array<double, 3> ScriptedExpert::rise_target(const SlotState& state, double clear_z) const {
  // Straight up from where the skill started: at least rise_height, and to clear_z.
  return {state.start[0], state.start[1], std::max(state.start[2] + state.rise, clear_z)};
}

ScriptedExpert::Command ScriptedExpert::pick_place(const envs::Observation& observation,
                                                   SlotState& state) const {
  const envs::Pose& eef = require(observation, "eef");
  const envs::Pose& pick = require(observation, "pick");
  const envs::Pose& grasp = require(observation, "pick_grasp");
  const envs::Pose& place = require(observation, "place");
  Command command;
  command.target = eef.position;
  command.max_action = settings_.max_action;
  // Into a cavity with a roof: the object goes in sideways, the fingertips
  // tilted toward the way in so that the wrist stays outside.
  const auto insert_value = observation.privileged_values.find("insert");
  const bool insert =
      insert_value != observation.privileged_values.end() && insert_value->second > 0;
  const envs::Pose* entry = insert ? &require(observation, "entry") : nullptr;
  Vec3 into{1, 0, 0};
  if (entry) {
    const double yaw = 2 * std::atan2(entry->quaternion[3], entry->quaternion[0]);
    into = {std::cos(yaw), std::sin(yaw), 0};
  }
  // Until the grasp the gripper turns with the grasp hint; then it holds.
  Quat grasp_orientation = multiply(grasp.quaternion, state.down);
  if (insert) {
    const Vec3 tilt_axis = {into[1], -into[0], 0};
    grasp_orientation = multiply(axis_angle(tilt_axis, settings_.insert_tilt), grasp_orientation);
  }
  command.orientation = state.phase <= Phase::kDescend ? grasp_orientation : state.orientation;
  // A grasp tilted off the vertical (the hint turns about more than z) is
  // approached along the gripper's own axis; the held object may then have to
  // be drawn back, against the tilt, from under a roof before it rises.
  const bool tilted = std::abs(grasp.quaternion[1]) + std::abs(grasp.quaternion[2]) > 1e-6;
  Vec3 grasp_axis{0, 0, -1};  // hand to fingertips, world frame
  if (tilted) {
    const Vec3 down{0, 0, -1};
    mju_rotVecQuat(grasp_axis.data(), down.data(), grasp.quaternion.data());
  }
  // The pick_slide hint: how far (m) the held object must be drawn
  // horizontally (x, y) before it rises, and how far it rises after that (z).
  const auto slide_hint = observation.privileged.find("pick_slide");
  const Vec3 slide =
      slide_hint != observation.privileged.end() ? slide_hint->second.position : Vec3{};
  // Tilting far from the start pose is done slowly, away from the wrist's joint limit.
  if (insert || tilted) command.max_rotation = settings_.insert_turn_rate;
  // Carrying servos the object itself: the gripper moves by the object's error,
  // so a grasp that slipped or tilted still lands the object on target.
  auto carry_target = [&](double height) {
    return Vec3{eef.position[0] + place.position[0] - pick.position[0],
                eef.position[1] + place.position[1] - pick.position[1],
                eef.position[2] + place.position[2] + height - pick.position[2]};
  };
  auto advance = [&](Phase next) { enter_phase(next, eef, state); };
  // Across the table the object clears what stands there; onto a raised
  // target (a cabinet top, a rack) it only needs to clear the target.
  const double carry_clearance = place.position[2] > state.grasp_object_z + 0.1
                                     ? settings_.raised_clearance
                                     : settings_.lift_height;
  const int timeout = settings_.waypoint_timeout;
  const double tolerance = settings_.position_tolerance;
  const double approach_z = grasp.position[2] + settings_.approach_height;
  switch (state.phase) {
    case Phase::kRise:
      command.target = rise_target(state, approach_z);
      if (std::abs(eef.position[2] - command.target[2]) < 2 * tolerance || state.phase_steps > 30) {
        advance(Phase::kApproach);
      }
      break;
    case Phase::kApproach:
      command.target = {grasp.position[0], grasp.position[1], approach_z};
      if (tilted) command.target = add(grasp.position, grasp_axis, -settings_.approach_height);
      if (distance(eef.position, command.target) < 2 * tolerance || state.phase_steps > timeout) {
        advance(Phase::kDescend);
      }
      break;
    case Phase::kDescend:
      command.target = grasp.position;
      if (distance(eef.position, command.target) < tolerance || state.phase_steps > timeout) {
        state.orientation = command.orientation;
        advance(Phase::kClose);
      }
      break;
    case Phase::kClose:
      command.target = grasp.position;
      command.closed = true;
      if (state.phase_steps >= settings_.close_steps) {
        state.lift_z = grasp.position[2] + settings_.lift_height;
        state.grasp_object_z = pick.position[2];
        if (std::hypot(slide[0], slide[1]) > 0.002) {
          // A little up (still under the roof), out along the slide, then up
          // clear of what it came out of.
          constexpr double kSlideRise = 0.04;  // m
          state.lift_z = std::max(state.lift_z, eef.position[2] + slide[2]);
          state.hold = {eef.position[0] + slide[0], eef.position[1] + slide[1],
                        eef.position[2] + kSlideRise};
          advance(Phase::kPush);
        } else {
          advance(Phase::kLift);
        }
      }
      break;
    case Phase::kPush:  // the held object drawn out from under a roof: up a little, then along
      command.closed = true;
      command.target = state.hold;
      if (eef.position[2] < state.hold[2] - 0.006) {
        command.target = {eef.position[0], eef.position[1], state.hold[2]};
      }
      command.max_action = settings_.push_action;
      if (distance(eef.position, state.hold) < 2 * tolerance || state.phase_steps > timeout) {
        advance(Phase::kLift);
      }
      break;
    case Phase::kLift:
      command.closed = true;
      command.target = {
          eef.position[0], eef.position[1],
          std::min(std::max(carry_target(carry_clearance)[2], state.lift_z), settings_.max_grip_z)};
      if (std::abs(eef.position[2] - command.target[2]) < 2 * tolerance ||
          state.phase_steps > timeout) {
        // The object did not come along: let go and try again.
        if (pick.position[2] - state.grasp_object_z < settings_.min_lift) {
          state.hold = eef.position;
          advance(Phase::kRelease);
        } else {
          state.held_offset = {pick.position[0] - eef.position[0],
                               pick.position[1] - eef.position[1],
                               pick.position[2] - eef.position[2]};
          advance(Phase::kCarry);
        }
      }
      break;
    case Phase::kCarry:
      command.closed = true;
      command.target = carry_target(carry_clearance);
      if (insert) {
        // Above the entry, in front of the opening.
        command.target = add(eef.position, add(entry->position, pick.position, -1.0));
        command.target[2] += settings_.lift_height;
      }
      command.target[2] =
          std::min(std::max(command.target[2], eef.position[2]), settings_.max_grip_z);
      if (distance(add(pick.position, eef.position, -1.0), state.held_offset) >
          settings_.max_slip) {
        // Dropped or knocked out of the hand: let go and start over.
        state.hold = eef.position;
        advance(Phase::kRelease);
      } else if (distance_xy(eef.position, command.target) < tolerance ||
                 state.phase_steps > timeout) {
        state.insert_stage = 0;
        advance(insert ? Phase::kInsert : Phase::kLower);
      }
      break;
    case Phase::kInsert: {
      // Down to the entry, then in through the opening at that height.
      command.closed = true;
      command.max_action = 0.5;
      const Vec3 goal = state.insert_stage == 0
                            ? entry->position
                            : Vec3{place.position[0], place.position[1], entry->position[2]};
      command.target = add(eef.position, add(goal, pick.position, -1.0));
      // From here on, the hand leaves only through the opening.
      state.in_cavity = true;
      state.way_out = {-into[0], -into[1], 0};
      state.cavity_depth = distance_xy(entry->position, place.position) + 0.02;
      if (distance(pick.position, goal) < 2 * tolerance || state.phase_steps > timeout) {
        if (state.insert_stage == 0) {
          state.insert_stage = 1;
          state.phase_steps = 0;
        } else {
          advance(Phase::kLower);
        }
      }
      break;
    }
    case Phase::kLower:
      // Go down until the object rests on something (it stops sinking) or the
      // gripper is well below the expected resting height.
      command.closed = true;
      command.target = carry_target(settings_.release_height - 0.03);
      state.still_steps =
          std::abs(pick.position[2] - state.previous_pick_z) < 0.0008 ? state.still_steps + 1 : 0;
      if (state.phase_steps > 3 &&
          (state.still_steps >= 2 || eef.position[2] < command.target[2] + 0.005 ||
           state.phase_steps > timeout)) {
        state.hold = eef.position;
        advance(Phase::kRelease);
      }
      break;
    case Phase::kRelease:
      command.target = state.hold;
      if (state.phase_steps >= settings_.release_steps) {
        if (state.in_cavity) leave_cavity(eef, state);
        advance(Phase::kRetreat);
      }
      break;
    default:  // kRetreat: up; if the sub-task is still not done after a while, start over.
      command.target = {eef.position[0], eef.position[1], std::max(state.lift_z, approach_z)};
      if (state.phase_steps > settings_.retry_steps) advance(Phase::kRise);
      break;
  }
  state.previous_pick_z = pick.position[2];
  return command;
}

ScriptedExpert::Command ScriptedExpert::push(const envs::Observation& observation,
                                             SlotState& state) const {
  const envs::Pose& eef = require(observation, "eef");
  const Vec3& object = require(observation, "pick").position;
  const Vec3& goal = require(observation, "place").position;
  const double radius = value(observation, "object_radius");
  const double bottom = value(observation, "object_bottom");
  const Vec3 toward = direction_xy(object, goal);
  // A flat dish (a plate) is pushed from inside, against its rim on the goal
  // side, which keeps the gripper on the near side of a far object; anything
  // else from behind. `along` is the contact's offset from the object's
  // centre toward the goal, m.
  const bool dish = value(observation, "object_height") < settings_.dish_height;
  const double along =
      dish ? settings_.dish_reach * radius : -(radius + settings_.finger_half_thickness + 0.003);
  // Closed fingertips a little above the surface the object stands on (or its floor).
  const double work_z = bottom + (dish ? 0.013 : 0.015);
  auto contact = [&](const Vec3& direction, double extra) {
    return Vec3{object[0] + direction[0] * (along + extra),
                object[1] + direction[1] * (along + extra), work_z};
  };
  Command command;
  command.closed = true;
  command.target = eef.position;
  command.max_action = settings_.max_action;
  auto advance = [&](Phase next) { enter_phase(next, eef, state); };
  if (state.phase == Phase::kRise || state.phase == Phase::kApproach) state.direction = toward;
  command.orientation = yawed(state.down, yaw_along(state.direction));
  const double clear_z = work_z + 0.08;
  switch (state.phase) {
    case Phase::kRise:
      command.target = rise_target(state, clear_z);
      if (std::abs(eef.position[2] - command.target[2]) < 0.02 || state.phase_steps > 30) {
        advance(Phase::kApproach);
      }
      break;
    case Phase::kApproach:
      command.target = contact(toward, -0.02);
      command.target[2] = clear_z;
      if (distance(eef.position, command.target) < 2 * settings_.position_tolerance ||
          state.phase_steps > settings_.waypoint_timeout) {
        advance(Phase::kDescend);
      }
      break;
    case Phase::kDescend:
      command.target = contact(state.direction, -0.02);
      if (std::abs(eef.position[2] - work_z) < 0.006 || state.phase_steps > 40)
        advance(Phase::kPush);
      break;
    default: {  // kPush: servo behind the object toward the goal
      const double remaining = distance_xy(object, goal);
      command.target = contact(toward, std::min(0.05, remaining));
      // Off the line (the object slid sideways) or past the contact: start over.
      const Vec3 offset = {eef.position[0] - object[0], eef.position[1] - object[1], 0};
      const double ahead = offset[0] * toward[0] + offset[1] * toward[1] - along;
      const double lateral = std::abs(offset[0] * toward[1] - offset[1] * toward[0]);
      if (lateral > 0.03 || ahead > 0.04 || state.phase_steps > 150) advance(Phase::kRise);
      break;
    }
  }
  return command;
}

ScriptedExpert::Command ScriptedExpert::drawer(const envs::Observation& observation,
                                               SlotState& state, bool open) const {
  const envs::Pose& eef = require(observation, "eef");
  const Vec3& handle = require(observation, "handle").position;
  const Vec3& pull = require(observation, "pull").position;  // opening direction
  const Vec3 into = {-pull[0], -pull[1], 0};
  const double yaw = yaw_along(into);
  Command command;
  command.closed = true;
  command.target = eef.position;
  command.max_action = settings_.max_action;
  // The gripper leans back (fingertips toward the drawer) so that the wrist
  // stays clear of the cabinet's front and of the handles above. Opening
  // hooks the closed fingertips behind the bar; closing pushes the bar from
  // the front.
  const double tilt = settings_.hook_tilt;
  const Vec3 tilt_axis = {into[1], -into[0], 0};  // z x pull: tips toward the drawer
  command.orientation = multiply(axis_angle(tilt_axis, tilt), yawed(state.down, yaw));
  // Gripper axis (hand to fingertips) and the finger's normal toward the drawer.
  const Vec3 axis = {std::sin(tilt) * into[0], std::sin(tilt) * into[1], -std::cos(tilt)};
  const Vec3 normal = {std::cos(tilt) * into[0], std::cos(tilt) * into[1], std::sin(tilt)};
  const double half_finger = 0.0095;  // m, fingertip half thickness along the normal
  Vec3 work;
  if (open) {
    const double offset = half_finger + settings_.bar_radius + settings_.hook_clearance;
    work = add(add(handle, normal, offset), axis, settings_.hook_depth);
    work[2] -= settings_.hook_drop;
  } else {
    work = add(handle, pull, settings_.bar_radius + half_finger / std::cos(tilt) + 0.003);
  }
  auto advance = [&](Phase next) { enter_phase(next, eef, state); };
  // The handle is reached from the front (handles above and below leave no
  // room to come from above): in front of the bar, then in over it, then down.
  const Vec3 above = {work[0], work[1], work[2] + (open ? 0.03 : 0.0)};
  const Vec3 front = add(above, pull, 0.08);
  switch (state.phase) {
    case Phase::kRise:
      command.target = rise_target(state, front[2]);
      if (std::abs(eef.position[2] - command.target[2]) < 0.02 || state.phase_steps > 30) {
        advance(Phase::kApproach);
      }
      break;
    case Phase::kApproach:
      command.target = front;
      if (distance(eef.position, command.target) < 2 * settings_.position_tolerance ||
          state.phase_steps > settings_.waypoint_timeout) {
        advance(Phase::kCarry);
      }
      break;
    case Phase::kCarry:
      command.target = above;
      command.max_action = settings_.push_action;
      if (distance(eef.position, above) < 0.004 || state.phase_steps > 40) advance(Phase::kDescend);
      break;
    case Phase::kDescend:
      command.target = work;
      command.max_action = settings_.push_action;
      // The finger may come to rest on the drawer a few millimetres up: hooked enough.
      if (distance(eef.position, work) < 0.004 ||
          (state.phase_steps > 12 && distance(eef.position, work) < 0.012) ||
          state.phase_steps > 40) {
        advance(Phase::kPush);
      }
      break;
    default: {  // kPush: move the handle along the slide, servoing on it
      command.target = add(work, open ? pull : into, 0.04);
      command.max_action = settings_.push_action;
      // Lost the handle: start over.
      if (distance(eef.position, work) > 0.035 || state.phase_steps > 100) advance(Phase::kRise);
      break;
    }
  }
  return command;
}

ScriptedExpert::Command ScriptedExpert::knob(const envs::Observation& observation, SlotState& state,
                                             bool on) const {
  const envs::Pose& eef = require(observation, "eef");
  const envs::Pose& knob = require(observation, "knob");
  // The fin lies along the knob body's x axis; turning on is positive about z.
  double matrix[9];
  mju_quat2Mat(matrix, knob.quaternion.data());
  const Vec3 fin = direction_xy({0, 0, 0}, {matrix[0], matrix[3], 0});
  const double sign = on ? 1.0 : -1.0;
  const Vec3 tangent = {-sign * fin[1], sign * fin[0], 0};
  Command command;
  command.closed = true;
  command.target = eef.position;
  command.max_action = settings_.max_action;
  auto advance = [&](Phase next) { enter_phase(next, eef, state); };
  if (state.phase != Phase::kPush) state.direction = tangent;
  command.orientation = yawed(state.down, yaw_along(state.direction));
  // Closed fingers beside the fin's outer half, on the side they push from.
  Vec3 work = add(knob.position, fin, settings_.knob_reach);
  work = add(work, tangent, -(0.003 + settings_.finger_half_thickness + 0.004));
  work[2] = knob.position[2] + settings_.knob_height;
  const double clear_z = work[2] + 0.06;
  switch (state.phase) {
    case Phase::kRise:
      command.target = rise_target(state, clear_z);
      if (std::abs(eef.position[2] - command.target[2]) < 0.02 || state.phase_steps > 30) {
        advance(Phase::kApproach);
      }
      break;
    case Phase::kApproach:
      command.target = {work[0], work[1], clear_z};
      if (distance(eef.position, command.target) < settings_.position_tolerance ||
          state.phase_steps > settings_.waypoint_timeout) {
        advance(Phase::kDescend);
      }
      break;
    case Phase::kDescend:
      command.target = work;
      command.max_action = settings_.push_action;
      if (distance(eef.position, work) < 0.004 || state.phase_steps > 40) {
        state.hold = eef.position;
        advance(Phase::kPush);
      }
      break;
    default:  // kPush: a stroke along the tangent; if the knob is not there yet, another one
      command.target = add(state.hold, state.direction, std::min(0.03, 0.002 * state.phase_steps));
      command.target[2] = work[2];
      command.max_action = settings_.push_action;
      if (state.phase_steps > 35) advance(Phase::kRise);
      break;
  }
  return command;
}

ScriptedExpert::Command ScriptedExpert::door(const envs::Observation& observation, SlotState& state,
                                             bool open) const {
  const envs::Pose& eef = require(observation, "eef");
  const Vec3& handle = require(observation, "handle").position;
  const envs::Pose& hinge = require(observation, "hinge");
  const Vec3 axis = {hinge.quaternion[1], hinge.quaternion[2], hinge.quaternion[3]};
  // Direction the handle moves as the hinge angle grows (closing), horizontal.
  const Vec3 radial = direction_xy(hinge.position, handle);
  Vec3 tangent = {axis[1] * radial[2] - axis[2] * radial[1],
                  axis[2] * radial[0] - axis[0] * radial[2],
                  axis[0] * radial[1] - axis[1] * radial[0]};
  tangent = direction_xy({0, 0, 0}, tangent);
  if (open) tangent = {-tangent[0], -tangent[1], 0};
  Command command;
  command.closed = true;
  command.target = eef.position;
  command.max_action = settings_.max_action;
  // Of the two equivalent yaws (the gripper is symmetric under a half turn),
  // the one nearest to the hand's yaw now: following the door's arc then
  // turns the wrist steadily instead of flipping it.
  Quat down_inverse, relative;
  mju_negQuat(down_inverse.data(), state.down.data());
  mju_mulQuat(relative.data(), eef.quaternion.data(), down_inverse.data());
  const double hand_yaw = 2 * std::atan2(relative[3], relative[0]);
  double yaw = yaw_along(tangent);
  yaw += M_PI * std::round((hand_yaw - yaw) / M_PI);
  command.orientation = yawed(state.down, yaw);
  command.max_rotation = settings_.insert_turn_rate;
  // Leaving a cavity the wrist may be tilted: it first turns back to pointing
  // straight down while rising clear, then turns about the vertical.
  command.turn_while_rising = true;
  if (state.phase == Phase::kRise) command.orientation = state.down;
  auto advance = [&](Phase next) { enter_phase(next, eef, state); };
  // Closed fingers beside the handle bar, pushing it along the door's arc.
  const Vec3 work = add(handle, tangent, -(0.007 + settings_.finger_half_thickness + 0.004));
  // Across at a height that clears the door's top edge, then down beside the bar.
  const double clear_z = work[2] + settings_.door_clearance;
  switch (state.phase) {
    case Phase::kRise:
      command.target = rise_target(state, clear_z);
      if (std::abs(eef.position[2] - command.target[2]) < 0.02 || state.phase_steps > 30) {
        advance(Phase::kApproach);
      }
      break;
    case Phase::kApproach:
      command.target = {work[0], work[1], clear_z};
      if (distance(eef.position, command.target) < 2 * settings_.position_tolerance ||
          state.phase_steps > settings_.waypoint_timeout) {
        advance(Phase::kDescend);
      }
      break;
    case Phase::kDescend:
      command.target = work;
      command.max_action = settings_.push_action;
      if (distance(eef.position, work) < 0.006 || state.phase_steps > 40) advance(Phase::kPush);
      break;
    default:  // kPush: servo on the handle along the arc
      command.target = add(work, tangent, 0.04);
      command.max_action = settings_.push_action;
      if (distance(eef.position, work) > 0.05 || state.phase_steps > 120) advance(Phase::kRise);
      break;
  }
  return command;
}

void ScriptedExpert::leave_cavity(const envs::Pose& eef, SlotState& state) const {
  const Vec3 up = {eef.position[0], eef.position[1], eef.position[2] + settings_.exit_rise};
  state.exit_points = {eef.position, up, add(up, state.way_out, state.cavity_depth)};
  state.exit_left = 3;
  state.in_cavity = false;
  state.phase_steps = 0;
}

envs::Action ScriptedExpert::act_one(const envs::Observation& observation, SlotState& state) const {
  const envs::Pose& eef = require(observation, "eef");
  if (!state.have_down) {
    state.down = eef.quaternion;
    state.have_down = true;
  }
  envs::Action action{};
  if (observation.skill == "unplanned") {
    throw std::runtime_error(
        "scripted expert: the task's goal has no plan (see tasks::TaskEnv::plan_error())");
  }
  if (observation.skill_index < 0) {
    // Nothing left to do (the goal holds): stay still.
    action[6] = -1;
    return action;
  }
  // A new sub-task starts its skill from the beginning.
  if (observation.skill_index != state.skill_index) {
    // A placement into a cavity counts as done once let go: leave the cavity first.
    if (state.in_cavity) leave_cavity(eef, state);
    // The episode's first skill starts in free space; later ones rise first.
    state.rise = state.skill_index == -2 ? 0.0 : settings_.rise_height;
    state.skill_index = observation.skill_index;
    state.phase = Phase::kRise;
    state.phase_steps = 0;
    state.start = eef.position;
    state.start_orientation = eef.quaternion;
  }
  Command command;
  const std::string& skill = observation.skill;
  if (state.exit_left > 0) {
    // Out of a cavity first, fingers open and the wrist as it is.
    command.target = state.exit_points[state.exit_points.size() - state.exit_left];
    command.orientation = state.orientation;
    command.max_action = 0.5;
    command.max_rotation = settings_.insert_turn_rate;
    if ((distance(eef.position, command.target) < 0.01 &&
         state.phase_steps >= settings_.release_steps) ||
        state.phase_steps > 40) {
      --state.exit_left;
      state.phase_steps = 0;
      state.start = eef.position;
      state.start_orientation = eef.quaternion;
    }
  } else if (skill == "pick_place") {
    command = pick_place(observation, state);
  } else if (skill == "push") {
    command = push(observation, state);
  } else if (skill == "open_drawer" || skill == "close_drawer") {
    command = drawer(observation, state, skill == "open_drawer");
  } else if (skill == "turn_on" || skill == "turn_off") {
    command = knob(observation, state, skill == "turn_on");
  } else if (skill == "open_door" || skill == "close_door") {
    command = door(observation, state, skill == "open_door");
  } else {
    throw std::runtime_error("scripted expert: unknown skill '" + skill + "'");
  }
  // Rising out of where the last skill left the gripper (a hooked handle, a
  // knob) keeps the wrist as it is; turning waits for free space.
  if (state.phase == Phase::kRise && state.exit_left == 0 && !command.turn_while_rising) {
    command.orientation = state.start_orientation;
  }
  // Approaches go across at the height they are at, and down only once above
  // their target: never diagonally down through what lies between.
  if (state.phase == Phase::kApproach && distance_xy(eef.position, command.target) > 0.02) {
    command.target[2] = std::max(command.target[2], eef.position[2]);
  }
  ++state.phase_steps;

  const double scale = 1.0 / 0.05;  // action 1.0 moves 0.05 m per step
  for (int i = 0; i < 3; ++i) {
    action[i] = float(std::clamp((command.target[i] - eef.position[i]) * scale, -command.max_action,
                                 command.max_action));
  }
  // Orientation error as a world-frame axis-angle.
  double current_inverse[4], error[4], axis[3];
  mju_negQuat(current_inverse, eef.quaternion.data());
  mju_mulQuat(error, command.orientation.data(), current_inverse);
  if (error[0] < 0) {
    for (double& v : error) v = -v;
  }
  mju_quat2Vel(axis, error, 1.0);
  for (int i = 0; i < 3; ++i) {
    action[3 + i] = float(std::clamp(axis[i] / 0.5, -command.max_rotation, command.max_rotation));
  }
  action[6] = command.closed ? 1.0f : -1.0f;
  return action;
}

}  // namespace policies::scripted
