#include "tasks/task_env.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace tasks {

namespace {

// Yaw (rad about world z) of a body frame's x axis.
double yaw_of(const double* xmat) { return std::atan2(xmat[3], xmat[0]); }

// A yaw in [-pi/2, pi/2]: the gripper is symmetric under a half turn about z.
double half_turn_wrap(double yaw) {
  while (yaw > M_PI / 2) yaw -= M_PI;
  while (yaw < -M_PI / 2) yaw += M_PI;
  return yaw;
}

void set_yaw(envs::Pose* pose, double yaw) {
  pose->quaternion = {std::cos(yaw / 2), 0, 0, std::sin(yaw / 2)};
}

// Where an object stands in a drawer that is pulled out of a carcass.
struct DrawerPlace {
  int site = -1;                 // the drawer's region site; -1: in no open drawer
  std::array<double, 2> into{};  // horizontal unit vector into the carcass
  double to_front = 0;           // m from the object's centre to the carcass's front
  double slide = 0;              // m to draw the object out along the slide before it rises
};

// The open drawer whose region holds the object centred at `position`
// (radius `radius`, m). Out of the drawer the object rises between the
// carcass's front and the drawer front: it is drawn to the middle of that gap.
DrawerPlace drawer_place(const mjModel* model, const mjData* data, const Scene& scene,
                         const double* position, double radius) {
  DrawerPlace place;
  for (const auto& object : scene.objects) {
    for (const auto& [region, joint_name] : object.region_joints) {
      const int joint = mj_name2id(model, mjOBJ_JOINT, joint_name.c_str());
      const int site = mj_name2id(model, mjOBJ_SITE, region.c_str());
      if (joint < 0 || site < 0 || model->jnt_type[joint] != mjJNT_SLIDE) continue;
      const double opened = -data->qpos[model->jnt_qposadr[joint]];
      if (opened <= 0) continue;
      // The object's centre in the region's frame.
      const double* center = data->site_xpos + 3 * site;
      const double* size = model->site_size + 3 * site;
      const double* mat = data->site_xmat + 9 * site;
      double local[3] = {0, 0, 0};
      for (int row = 0; row < 3; ++row) {
        for (int column = 0; column < 3; ++column) {
          local[column] += mat[3 * row + column] * (position[row] - center[row]);
        }
      }
      if (std::abs(local[0]) > size[0] || std::abs(local[1]) > size[1] ||
          local[2] < -size[2] - 0.02 || local[2] > size[2]) {
        continue;
      }
      // The carcass's front face (the region's near face when the drawer is
      // closed) and the drawer front's inner face (the region's near face).
      const double front = -size[0] - 0.012 + opened;
      const double gap_middle = 0.5 * (front - size[0]);
      place.site = site;
      place.into = {mat[0], mat[3]};
      place.to_front = front - local[0];
      place.slide = front + size[0] > 2 * radius ? local[0] - gap_middle : 0.0;
      return place;
    }
  }
  return place;
}

}  // namespace

TaskEnv::TaskEnv(std::shared_ptr<const TaskDefinition> task, envs::EnvSettings settings)
    : task_(std::move(task)),
      env_(task_->scene.mjcf, std::move(settings)),
      goal_(task_->spec.goal, task_->scene, env_.model(), task_->spec.file) {
  const mjModel* model = env_.model();
  try {
    plan_ = std::make_unique<ExpertPlan>(task_->spec.goal, task_->scene, model, task_->spec.file);
  } catch (const std::runtime_error& error) {
    plan_error_ = error.what();
  }
  if (plan_) {
    for (const SubTask& subtask : plan_->subtasks()) {
      SkillIds ids;
      if (!subtask.object.empty()) {
        ids.object_body = mj_name2id(model, mjOBJ_BODY, subtask.object.c_str());
        ids.object_info = task_->scene.find(subtask.object);
      }
      if (!subtask.target.empty()) {
        const auto site = task_->scene.region_sites.find(subtask.target);
        if (site != task_->scene.region_sites.end()) {
          ids.target_site = mj_name2id(model, mjOBJ_SITE, site->second.c_str());
        } else {
          ids.target_site = mj_name2id(model, mjOBJ_SITE, subtask.target.c_str());
        }
        if (ids.target_site < 0) {
          ids.target_body = mj_name2id(model, mjOBJ_BODY, subtask.target.c_str());
          ids.target_info = task_->scene.find(subtask.target);
        }
      }
      if (ids.target_site >= 0) {
        // Behind a door (a hinge opens the region): an enclosed cavity.
        const char* site_name = mj_id2name(model, mjOBJ_SITE, ids.target_site);
        for (const auto& object : task_->scene.objects) {
          const auto owner = object.region_joints.find(site_name ? site_name : "");
          if (owner == object.region_joints.end()) continue;
          const int joint = mj_name2id(model, mjOBJ_JOINT, owner->second.c_str());
          ids.enclosed = joint >= 0 && model->jnt_type[joint] == mjJNT_HINGE;
          if (ids.enclosed) ids.door_joint = joint;
        }
      }
      if (!subtask.joint.empty()) ids.joint = mj_name2id(model, mjOBJ_JOINT, subtask.joint.c_str());
      if (!subtask.handle_site.empty()) {
        ids.handle_site = mj_name2id(model, mjOBJ_SITE, subtask.handle_site.c_str());
      }
      skill_ids_.push_back(ids);
    }
    // Placements that share a region each get their own spot in it.
    const auto& subtasks = plan_->subtasks();
    for (size_t i = 0; i < subtasks.size(); ++i) {
      if (skill_ids_[i].target_site < 0 || subtasks[i].kind != SkillKind::kPickPlace) continue;
      for (size_t j = 0; j < subtasks.size(); ++j) {
        if (j == i || subtasks[j].kind != SkillKind::kPickPlace ||
            skill_ids_[j].target_site != skill_ids_[i].target_site) {
          continue;
        }
        ++skill_ids_[i].slots;
        if (j < i) ++skill_ids_[i].slot;
      }
    }
    skill_reached_.assign(plan_->subtasks().size(), 0);
  }
  for (const auto& object : task_->scene.objects) {
    const int body = mj_name2id(model, mjOBJ_BODY, object.name.c_str());
    if (!object.surface && body > 0) obstacles_.emplace_back(body, &object);
  }
  std::vector<std::string> tracked;
  for (const auto& object : task_->scene.objects) {
    if (!object.fixture) tracked.push_back(object.name);
  }
  env_.track_bodies(tracked);
  auto& observation = env_.observation();
  pick_ = &observation.privileged["pick"];
  grasp_ = &observation.privileged["pick_grasp"];
  place_ = &observation.privileged["place"];
  handle_ = &observation.privileged["handle"];
  pull_ = &observation.privileged["pull"];
  knob_ = &observation.privileged["knob"];
  hinge_ = &observation.privileged["hinge"];
  entry_ = &observation.privileged["entry"];
  insert_ = &observation.privileged_values["insert"];
  joint_position_ = &observation.privileged_values["joint_position"];
  joint_goal_ = &observation.privileged_values["joint_goal"];
  object_radius_ = &observation.privileged_values["object_radius"];
  object_bottom_ = &observation.privileged_values["object_bottom"];
  object_height_ = &observation.privileged_values["object_height"];
  // Where a held object must be drawn before it rises (zero: nowhere).
  observation.privileged["pick_slide"];
  observation.skill.reserve(16);
}

const envs::Observation& TaskEnv::reset(
    int init_state, const std::map<std::string, envs::CameraPerturbation>& cameras) {
  if (init_state < 0 || init_state >= int(task_->init_states.size())) {
    throw std::runtime_error(task_->key + " has no initial state " + std::to_string(init_state) +
                             " (" + std::to_string(task_->init_states.size()) + " stored)");
  }
  return reset_qpos(task_->init_states[init_state], cameras);
}

const envs::Observation& TaskEnv::reset_qpos(
    const std::vector<double>& qpos,
    const std::map<std::string, envs::CameraPerturbation>& cameras) {
  envs::ResetSpec spec;
  spec.qpos = qpos;
  spec.cameras = cameras;
  spec.instruction = task_->spec.language;
  env_.reset(spec);
  std::fill(skill_reached_.begin(), skill_reached_.end(), 0);
  add_expert_hints();
  return env_.observation();
}

StepResult TaskEnv::step(const envs::Action& action) {
  env_.step(action);
  add_expert_hints();
  return {&env_.observation(), goal_holds()};
}

bool TaskEnv::goal_holds() const { return goal_.holds(env_.model(), env_.data()); }

void TaskEnv::add_expert_hints() {
  envs::Observation& observation = env_.observation();
  const int index = plan_ ? plan_->current(env_.model(), env_.data(), &skill_reached_) : -1;
  observation.skill_index = index;
  if (index < 0) {
    // "unplanned": the goal has no plan (plan_error() says why); "": nothing left.
    if (plan_)
      observation.skill.clear();
    else
      observation.skill = "unplanned";
    return;
  }
  const SubTask& subtask = plan_->subtasks()[index];
  observation.skill = skill_name(subtask.kind);
  const SkillIds& ids = skill_ids_[index];
  const mjModel* model = env_.model();
  const mjData* data = env_.data();
  if (ids.joint >= 0) {
    *joint_position_ = data->qpos[model->jnt_qposadr[ids.joint]];
    *joint_goal_ = subtask.joint_goal;
  }
  switch (subtask.kind) {
    case SkillKind::kPickPlace:
    case SkillKind::kPush:
      add_pick_place_hints(ids, subtask.kind == SkillKind::kPush);
      break;
    case SkillKind::kOpenDrawer:
    case SkillKind::kCloseDrawer:
    case SkillKind::kOpenDoor:
    case SkillKind::kCloseDoor: {
      // Handle pose; for drawers the opening direction (the slide axis points
      // to closing); for doors the hinge's anchor and axis.
      std::copy(data->site_xpos + 3 * ids.handle_site, data->site_xpos + 3 * ids.handle_site + 3,
                handle_->position.begin());
      mju_mat2Quat(handle_->quaternion.data(), data->site_xmat + 9 * ids.handle_site);
      const double* axis = data->xaxis + 3 * ids.joint;
      const double* anchor = data->xanchor + 3 * ids.joint;
      if (model->jnt_type[ids.joint] == mjJNT_SLIDE) {
        pull_->position = {-axis[0], -axis[1], -axis[2]};
      } else {
        hinge_->position = {anchor[0], anchor[1], anchor[2]};
        // Axis as a pure quaternion (0, axis).
        hinge_->quaternion = {0, axis[0], axis[1], axis[2]};
      }
      break;
    }
    case SkillKind::kTurnOn:
    case SkillKind::kTurnOff: {
      const int body = model->jnt_bodyid[ids.joint];
      std::copy(data->xpos + 3 * body, data->xpos + 3 * body + 3, knob_->position.begin());
      std::copy(data->xquat + 4 * body, data->xquat + 4 * body + 4, knob_->quaternion.begin());
      break;
    }
  }
}

void TaskEnv::add_pick_place_hints(const SkillIds& ids, bool pushed) {
  const mjModel* model = env_.model();
  const mjData* data = env_.data();
  const envs::assets::ObjectInfo& info = *ids.object_info;
  const double* pick = data->xpos + 3 * ids.object_body;
  const double* pick_mat = data->xmat + 9 * ids.object_body;
  std::copy(pick, pick + 3, pick_->position.begin());
  std::copy(data->xquat + 4 * ids.object_body, data->xquat + 4 * ids.object_body + 4,
            pick_->quaternion.begin());
  const auto& half = info.half_extents;
  *object_radius_ = std::max(half[0], half[1]);
  *object_bottom_ = pick[2] - info.bottom_z;
  *object_height_ = 2 * half[2];
  *insert_ = ids.enclosed && !pushed ? 1.0 : 0.0;
  if (*insert_ > 0) {
    add_insert_hints(ids);
    return;
  }

  // Grasp point and gripper orientation (pick_grasp's quaternion: a rotation
  // about z, 0 = fingers closing along world y, possibly tilted after it).
  const double height = 2 * half[2];
  const double top = pick[2] - info.bottom_z + height;
  envs::Pose& slide = env_.observation().privileged.find("pick_slide")->second;
  slide.position = {0, 0, 0};
  const bool round = std::abs(half[0] - half[1]) < 0.003;
  const DrawerPlace drawer = info.rim_wall > 0 && round
                                 ? drawer_place(model, data, task_->scene, pick, *object_radius_)
                                 : DrawerPlace{};
  if (drawer.slide > 0.002) {
    // In a drawer pulled out from under a carcass, not yet where it can rise
    // clear of the carcass's roof and of the drawer front: pinch the rim on a
    // side across the slide (the one that keeps the outer finger off the
    // drawer's side wall), fingertips tilted toward the carcass as far as the
    // hand and wrist need to stay in front of it; the object is then drawn out
    // along the slide before it rises.
    // A straight hand needs kHandRoom from the grip point to the carcass; a
    // tilt leans its body, kHandLever above the grip point, back by the rest.
    constexpr double kHandRoom = 0.045;  // m
    constexpr double kHandLever = 0.07;  // m
    constexpr double kMaxLean = 0.5;     // sine of the largest tilt
    const auto& into = drawer.into;
    const std::array<double, 2> across{-into[1], into[0]};
    const double* region = data->site_xpos + 3 * drawer.site;
    const double offset = (pick[0] - region[0]) * across[0] + (pick[1] - region[1]) * across[1];
    const double side = offset > 0 ? -1.0 : 1.0;
    const double inset = half[1] - info.rim_wall - 0.002;
    grasp_->position = {pick[0] + side * inset * across[0], pick[1] + side * inset * across[1],
                        top - 0.015};
    const double tilt =
        std::asin(std::clamp((kHandRoom - drawer.to_front) / kHandLever, 0.0, kMaxLean));
    const double yaw = half_turn_wrap(std::atan2(into[1], into[0]));
    const double tilt_axis[3] = {into[1], -into[0], 0};
    const double turn[4] = {std::cos(yaw / 2), 0, 0, std::sin(yaw / 2)};
    double lean[4];
    mju_axisAngle2Quat(lean, tilt_axis, tilt);
    mju_mulQuat(grasp_->quaternion.data(), lean, turn);
    // Then up until it clears the carcass and whatever stands on it.
    const int carcass = model->body_rootid[model->site_bodyid[drawer.site]];
    const double* carcass_pos = data->xpos + 3 * carcass;
    double carcass_reach = 0;  // m, horizontal reach of the carcass's box from its origin
    for (const auto& [body, obstacle] : obstacles_) {
      if (body == carcass) {
        carcass_reach = std::hypot(obstacle->half_extents[0], obstacle->half_extents[1]);
      }
    }
    double clear_z = 0;
    for (const auto& [body, obstacle] : obstacles_) {
      const double* position = data->xpos + 3 * body;
      if (body == ids.object_body ||
          std::hypot(position[0] - carcass_pos[0], position[1] - carcass_pos[1]) > carcass_reach) {
        continue;
      }
      clear_z = std::max(clear_z, position[2] - obstacle->bottom_z + 2 * obstacle->half_extents[2]);
    }
    constexpr double kClearance = 0.02;  // m between the object's bottom and what it passes over
    slide.position = {-drawer.slide * into[0], -drawer.slide * into[1],
                      std::max(0.0, clear_z + kClearance - *object_bottom_)};
  } else if (info.rim_wall > 0) {
    // Open container: pinch the rim wall. A handle sticks out along body +x
    // when the box is longer in x: take the rim on the far side from it.
    const double inset = half[1] - info.rim_wall - 0.002;
    if (half[0] > half[1] + 0.005) {
      grasp_->position = {pick[0] - inset * pick_mat[0], pick[1] - inset * pick_mat[3],
                          top - 0.015};
      set_yaw(grasp_, half_turn_wrap(yaw_of(pick_mat) - M_PI / 2));
    } else {
      // Round: the rim's -y side (fingers along y) unless something tall stands
      // close to it; then the side with the most room around it.
      constexpr double kEnoughRoom = 0.09;  // m
      const std::array<std::array<double, 2>, 4> sides{{{0, -1}, {0, 1}, {-1, 0}, {1, 0}}};
      double best_room = -1;
      for (const auto& side : sides) {
        const std::array<double, 3> point{pick[0] + inset * side[0], pick[1] + inset * side[1],
                                          top - 0.015};
        const double room = grip_room(point, side[0] == 0 ? 0.0 : M_PI / 2, ids.object_body);
        if (room > best_room + 0.01) {
          best_room = room;
          grasp_->position = point;
          set_yaw(grasp_, side[0] == 0 ? 0.0 : M_PI / 2);
        }
        if (best_room >= kEnoughRoom) break;
      }
    }
  } else {
    // Anything else: from above, fingers across the narrower side, as deep as
    // the hand allows (its palm is 0.04 m above the grip point).
    const double depth = std::min(0.03, 0.4 * height);
    grasp_->position = {pick[0], pick[1], top - depth};
    const double yaw = yaw_of(pick_mat);
    if (round) {
      // Fingers along y unless the hand, which spans that way, would hit something.
      constexpr double kEnoughRoom = 0.03;  // m
      const double room_y = grip_room(grasp_->position, 0.0, ids.object_body);
      const bool turn =
          room_y < kEnoughRoom && grip_room(grasp_->position, M_PI / 2, ids.object_body) > room_y;
      set_yaw(grasp_, turn ? M_PI / 2 : 0.0);
    } else {
      // Fingers across the narrower side, or across the wider one when it
      // still fits between them and the hand would hit less there.
      constexpr double kEnoughRoom = 0.005;  // m between the hand and its nearest neighbour
      constexpr double kMaxWidth = 0.07;     // m, widest side the open fingers take
      const double narrow = half_turn_wrap(half[0] < half[1] ? yaw - M_PI / 2 : yaw);
      const double wide = half_turn_wrap(narrow + M_PI / 2);
      const double room = hand_room(grasp_->position, narrow, ids.object_body);
      const bool turn = room < kEnoughRoom && 2 * std::max(half[0], half[1]) < kMaxWidth &&
                        hand_room(grasp_->position, wide, ids.object_body) > room + 0.002;
      set_yaw(grasp_, turn ? wide : narrow);
    }
  }

  // Where the object's origin should be when it rests on the target.
  if (ids.target_site >= 0) {
    const int site = ids.target_site;
    const double* center = data->site_xpos + 3 * site;
    const double* size = model->site_size + 3 * site;
    const double* site_mat = data->site_xmat + 9 * site;
    double local_x = 0;
    // In a drawer: stay in the part pulled out of the carcass (whose front is
    // the region's near face when the drawer is closed, behind the drawer front).
    const int body = model->site_bodyid[site];
    const int joint = model->body_jntnum[body] > 0 ? model->body_jntadr[body] : -1;
    const bool drawer = joint >= 0 && model->jnt_type[joint] == mjJNT_SLIDE;
    if (drawer) {
      const double opened = -data->qpos[model->jnt_qposadr[joint]];
      const double radius = std::max(half[0], half[1]);
      const double front = -size[0] - 0.012 + opened;
      local_x = std::clamp(front - radius - 0.01, -size[0] + 0.5 * radius, 0.0);
    }
    double local_y = 0;
    if (!drawer && ids.slots > 1) {
      // Several objects go to this region: spread along its diagonal.
      constexpr double kSpread = 0.6;  // fraction of the half size at the outermost spot
      const double fraction = kSpread * (2.0 * ids.slot / (ids.slots - 1) - 1.0);
      local_x = fraction * size[0];
      local_y = fraction * size[1];
    }
    if (pushed) {
      // A pushed object is wide: the point of the region where it keeps the
      // most room from what stands around (the centre unless something is near).
      double best = -1e9;
      for (int i = -2; i <= 2; ++i) {
        for (int j = -2; j <= 2; ++j) {
          const double x = 0.5 * i * size[0], y = 0.5 * j * size[1];
          const std::array<double, 3> point{center[0] + x * site_mat[0] + y * site_mat[1],
                                            center[1] + x * site_mat[3] + y * site_mat[4],
                                            center[2] + 0.005};
          const double room = std::min(clearance(point, ids.object_body) - *object_radius_, 0.02) -
                              0.1 * std::hypot(x, y);
          if (room > best) {
            best = room;
            local_x = x;
            local_y = y;
          }
        }
      }
    }
    place_->position = {center[0] + local_x * site_mat[0] + local_y * site_mat[1],
                        center[1] + local_x * site_mat[3] + local_y * site_mat[4],
                        center[2] + size[2] + info.bottom_z};
  } else if (ids.target_body >= 0 && ids.target_info) {
    const double* target = data->xpos + 3 * ids.target_body;
    const double target_top =
        target[2] - ids.target_info->bottom_z + 2 * ids.target_info->half_extents[2];
    place_->position = {target[0], target[1], target_top + info.bottom_z};
  }
}

void TaskEnv::add_insert_hints(const SkillIds& ids) {
  const mjModel* model = env_.model();
  const mjData* data = env_.data();
  const envs::assets::ObjectInfo& info = *ids.object_info;
  const auto& half = info.half_extents;
  const double* pick = data->xpos + 3 * ids.object_body;
  const double* pick_mat = data->xmat + 9 * ids.object_body;
  const int site = ids.target_site;
  const double* center = data->site_xpos + 3 * site;
  const double* size = model->site_size + 3 * site;
  const double* site_mat = data->site_xmat + 9 * site;
  // Into the cavity: the region's +x (fixtures open toward their -x), and across it.
  const double into[2] = {site_mat[0], site_mat[3]};
  const double across[2] = {-into[1], into[0]};
  // How far the object reaches from its origin toward `direction` (a handle,
  // along body +x when the box is longer in x, counts only on its own side).
  const bool handle = half[0] > half[1] + 0.005;
  const double body_x[2] = {pick_mat[0], pick_mat[3]};
  auto reach = [&](const double direction[2]) {
    const double along = body_x[0] * direction[0] + body_x[1] * direction[1];
    if (handle) return half[1] + std::max(0.0, along) * (half[0] - half[1]);
    return std::abs(along) * half[0] + std::sqrt(std::max(0.0, 1 - along * along)) * half[1];
  };
  const double out[2] = {-into[0], -into[1]};
  constexpr double kInside = 0.015;  // m the object stays behind the opening's plane
  constexpr double kOutside = 0.03;  // m the object keeps in front of it before going in
  constexpr double kAbove = 0.02;    // m above the cavity floor while carried in
  const double place_x = -size[0] + reach(out) + kInside;
  const double entry_x = -size[0] - reach(into) - kOutside;
  const double floor_z = center[2] - size[2] + info.bottom_z;
  place_->position = {center[0] + place_x * into[0], center[1] + place_x * into[1], floor_z};
  entry_->position = {center[0] + entry_x * into[0], center[1] + entry_x * into[1],
                      floor_z + kAbove};
  const double yaw = std::atan2(into[1], into[0]);
  set_yaw(entry_, yaw);

  // Pinch the rim on a side across the way in, fingers closing across it:
  // away from a handle, else the side farther from the door's hinge.
  const double top = pick[2] - info.bottom_z + 2 * half[2];
  const double inset = std::min(half[0], half[1]) - std::max(info.rim_wall, 0.0) - 0.002;
  const double handle_side = handle ? body_x[0] * across[0] + body_x[1] * across[1] : 0.0;
  double side = handle_side > 0 ? -1.0 : 1.0;
  if (std::abs(handle_side) < 0.5 && ids.door_joint >= 0) {
    const double* hinge = data->xanchor + 3 * ids.door_joint;
    const double toward_hinge =
        (hinge[0] - center[0]) * across[0] + (hinge[1] - center[1]) * across[1];
    side = toward_hinge > 0 ? -1.0 : 1.0;
  }
  grasp_->position = {pick[0] + side * inset * across[0], pick[1] + side * inset * across[1],
                      top - 0.015};
  set_yaw(grasp_, half_turn_wrap(yaw));
}

}  // namespace tasks

namespace tasks {

double TaskEnv::grip_room(const std::array<double, 3>& point, double yaw, int self) const {
  // The hand spans about 0.1 m to each side along the fingers' closing axis,
  // 0.07 m above the grip point.
  constexpr double kHandHalfSpan = 0.1, kHandHeight = 0.07;  // m
  const double along[2] = {-std::sin(yaw), std::cos(yaw)};
  double room = clearance(point, self);
  for (double side : {-1.0, 1.0}) {
    const std::array<double, 3> end{point[0] + side * kHandHalfSpan * along[0],
                                    point[1] + side * kHandHalfSpan * along[1],
                                    point[2] + kHandHeight};
    room = std::min(room, clearance(end, self));
  }
  return room;
}

double TaskEnv::hand_room(const std::array<double, 3>& point, double yaw, int self) const {
  // The hand's body: a bar of radius 0.03 m along the fingers' closing axis,
  // 0.075 m to each side, its underside 0.04 m above the grip point; the open
  // fingers 0.05 m to each side of the grip point, 0.01 m thick.
  constexpr double kBarHalfLength = 0.075, kBarRadius = 0.03, kBarBottom = 0.04;  // m
  constexpr double kFingerReach = 0.05, kFingerHalfThickness = 0.01;              // m
  constexpr int kSamples = 7;                                                     // along the bar
  const double along[2] = {-std::sin(yaw), std::cos(yaw)};
  double room = 1e9;
  for (int i = 0; i < kSamples; ++i) {
    const double s = kBarHalfLength * (2.0 * i / (kSamples - 1) - 1.0);
    const std::array<double, 3> bar{point[0] + s * along[0], point[1] + s * along[1],
                                    point[2] + kBarBottom};
    room = std::min(room, clearance(bar, self) - kBarRadius);
  }
  for (double side : {-1.0, 1.0}) {
    const std::array<double, 3> finger{point[0] + side * kFingerReach * along[0],
                                       point[1] + side * kFingerReach * along[1], point[2]};
    room = std::min(room, clearance(finger, self) - kFingerHalfThickness);
  }
  return room;
}

double TaskEnv::clearance(const std::array<double, 3>& point, int self) const {
  const mjData* data = env_.data();
  double nearest = 1e9;
  for (const auto& [body, info] : obstacles_) {
    if (body == self) continue;
    const double* position = data->xpos + 3 * body;
    const double* matrix = data->xmat + 9 * body;
    const double top = position[2] - info->bottom_z + 2 * info->half_extents[2];
    if (top < point[2]) continue;
    // The point in the body's frame, against its bounding box.
    const double dx = point[0] - position[0], dy = point[1] - position[1];
    const double local_x = matrix[0] * dx + matrix[3] * dy;
    const double local_y = matrix[1] * dx + matrix[4] * dy;
    const double out_x = std::max(std::abs(local_x) - info->half_extents[0], 0.0);
    const double out_y = std::max(std::abs(local_y) - info->half_extents[1], 0.0);
    nearest = std::min(nearest, std::hypot(out_x, out_y));
  }
  return nearest;
}

}  // namespace tasks
