#include "tasks/task_env.h"

#include <stdexcept>

namespace tasks {

namespace {

// The first On/In atom of the goal: what a pick-and-place expert should move where.
const Predicate* first_placement(const Predicate& formula) {
  if ((formula.op == "On" || formula.op == "In") && formula.args.size() == 2) return &formula;
  for (const Predicate& child : formula.children) {
    if (const Predicate* found = first_placement(child)) return found;
  }
  return nullptr;
}

}  // namespace

TaskEnv::TaskEnv(std::shared_ptr<const TaskDefinition> task, envs::EnvSettings settings)
    : task_(std::move(task)),
      env_(task_->scene.mjcf, std::move(settings)),
      goal_(task_->spec.goal, task_->scene, env_.model(), task_->spec.file) {
  const mjModel* model = env_.model();
  if (const Predicate* placement = first_placement(task_->spec.goal)) {
    pick_body_ = mj_name2id(model, mjOBJ_BODY, placement->args[0].c_str());
    pick_info_ = task_->scene.find(placement->args[0]);
    const std::string& target = placement->args[1];
    const auto site = task_->scene.region_sites.find(target);
    if (site != task_->scene.region_sites.end()) {
      place_site_ = mj_name2id(model, mjOBJ_SITE, site->second.c_str());
    } else {
      place_body_ = mj_name2id(model, mjOBJ_BODY, target.c_str());
      place_info_ = task_->scene.find(target);
    }
  }
  std::vector<std::string> tracked;
  for (const auto& object : task_->scene.objects) {
    if (!object.fixture) tracked.push_back(object.name);
  }
  env_.track_bodies(tracked);
  auto& privileged = env_.observation().privileged;
  privileged["pick"];
  privileged["pick_grasp"];
  privileged["place"];
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
    const std::vector<double>& qpos, const std::map<std::string, envs::CameraPerturbation>& cameras) {
  envs::ResetSpec spec;
  spec.qpos = qpos;
  spec.cameras = cameras;
  spec.instruction = task_->spec.language;
  env_.reset(spec);
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
  if (pick_body_ < 0 || !pick_info_) return;
  const mjData* data = env_.data();
  auto& privileged = env_.observation().privileged;
  const double* pick = data->xpos + 3 * pick_body_;
  envs::Pose& pick_pose = privileged["pick"];
  std::copy(pick, pick + 3, pick_pose.position.begin());
  std::copy(data->xquat + 4 * pick_body_, data->xquat + 4 * pick_body_ + 4,
            pick_pose.quaternion.begin());

  // Grasp point: on the -y rim wall of an open container (the fingers close
  // along y across the wall), the top centre of anything else.
  const auto& half = pick_info_->half_extents;
  const double top = pick[2] - pick_info_->bottom_z + 2 * half[2];
  const bool rim = pick_info_->rim_wall > 0;
  envs::Pose& grasp = privileged["pick_grasp"];
  grasp.position = {pick[0], rim ? pick[1] - (half[1] - pick_info_->rim_wall - 0.002) : pick[1],
                    top - (rim ? 0.015 : 0.02)};

  // Where the picked object's origin should be when it rests on the target.
  envs::Pose& place = privileged["place"];
  if (place_site_ >= 0) {
    const double* site = data->site_xpos + 3 * place_site_;
    const double* size = env_.model()->site_size + 3 * place_site_;
    place.position = {site[0], site[1], site[2] + size[2] + pick_info_->bottom_z};
  } else if (place_body_ >= 0 && place_info_) {
    const double* target = data->xpos + 3 * place_body_;
    const double target_top = target[2] - place_info_->bottom_z + 2 * place_info_->half_extents[2];
    place.position = {target[0], target[1], target_top + pick_info_->bottom_z};
  }
}

}  // namespace tasks
