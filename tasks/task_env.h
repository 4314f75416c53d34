// An environment for one task: the simulator, the task's goal and protocol.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "envs/env.h"
#include "tasks/episode_env.h"
#include "tasks/expert_plan.h"
#include "tasks/predicates.h"
#include "tasks/suite.h"

namespace tasks {

// A LIBERO-style task's environment (BDDL scene, stored initial states).
class TaskEnv : public EpisodeEnv {
 public:
  // Compiles the task's scene. `settings.cameras` lists the cameras rendered each step.
  TaskEnv(std::shared_ptr<const TaskDefinition> task, envs::EnvSettings settings);

  // Resets to stored initial state `init_state` with per-camera perturbations.
  const envs::Observation& reset(
      int init_state, const std::map<std::string, envs::CameraPerturbation>& cameras = {}) override;
  // Resets to an explicit qpos (used when sampling initial states).
  const envs::Observation& reset_qpos(
      const std::vector<double>& qpos,
      const std::map<std::string, envs::CameraPerturbation>& cameras = {});
  StepResult step(const envs::Action& action) override;
  bool goal_holds() const override;

  envs::Env& env() override { return env_; }
  const TaskDefinition& task() const override { return *task_; }
  // The scripted expert's plan; null if the goal cannot be planned (see plan_error()).
  const ExpertPlan* plan() const { return plan_.get(); }
  const std::string& plan_error() const { return plan_error_; }

 private:
  // Model ids one sub-task's hints read, resolved once.
  struct SkillIds {
    int object_body = -1;  // moved object
    const envs::assets::ObjectInfo* object_info = nullptr;
    int target_body = -1, target_site = -1;  // where it goes
    const envs::assets::ObjectInfo* target_info = nullptr;
    int joint = -1;           // drawer, door or knob joint
    int handle_site = -1;     // drawer or door handle
    int slot = 0, slots = 1;  // this placement's turn among the plan's placements into one region
    bool enclosed = false;    // the target region lies behind a door: carried in sideways
    int door_joint = -1;      // that door's hinge
  };
  void add_expert_hints();
  void add_pick_place_hints(const SkillIds& ids, bool pushed);
  // Grasp, place and entry for a region behind a door (a cavity with a roof):
  // the object is carried in horizontally through the opening.
  void add_insert_hints(const SkillIds& ids);
  // Horizontal distance (m) from `point` to the nearest object or fixture box
  // that rises above `point`'s height, other than body `self`.
  double clearance(const std::array<double, 3>& point, int self) const;
  // Room (m) around a gripper closing at `point` with yaw `yaw` (0: fingers
  // along world y): the least clearance of the grip point and the hand's ends.
  double grip_room(const std::array<double, 3>& point, double yaw, int self) const;
  // Room (m, < 0: overlap) between a gripper closing at `point` with yaw `yaw`
  // and what stands around it, with the hand's body modelled as a bar across
  // the fingers.
  double hand_room(const std::array<double, 3>& point, double yaw, int self) const;

  std::shared_ptr<const TaskDefinition> task_;
  envs::Env env_;
  Goal goal_;
  std::unique_ptr<ExpertPlan> plan_;
  std::string plan_error_;
  std::vector<SkillIds> skill_ids_;  // per plan sub-task
  std::vector<char> skill_reached_;  // per plan sub-task: joint goal reached this episode
  // Everything a gripper could run into: (body, facts) of fixtures and objects, not the surface.
  std::vector<std::pair<int, const envs::assets::ObjectInfo*>> obstacles_;
  // Privileged hint entries, created once so that steps do not allocate.
  envs::Pose *pick_ = nullptr, *grasp_ = nullptr, *place_ = nullptr, *handle_ = nullptr,
             *pull_ = nullptr, *knob_ = nullptr, *hinge_ = nullptr, *entry_ = nullptr;
  double *joint_position_ = nullptr, *joint_goal_ = nullptr, *object_radius_ = nullptr,
         *object_bottom_ = nullptr, *object_height_ = nullptr, *insert_ = nullptr;
};

}  // namespace tasks
