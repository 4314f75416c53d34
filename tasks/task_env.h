// An environment for one task: the simulator, the task's goal and protocol.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "envs/env.h"
#include "tasks/predicates.h"
#include "tasks/suite.h"

namespace tasks {

struct StepResult {
  const envs::Observation* observation = nullptr;
  bool success = false;         // the goal holds after this step
};

class TaskEnv {
 public:
  // Compiles the task's scene. `settings.cameras` lists the cameras rendered each step.
  TaskEnv(std::shared_ptr<const TaskDefinition> task, envs::EnvSettings settings);

  // Resets to stored initial state `init_state` with per-camera perturbations.
  const envs::Observation& reset(int init_state,
                                 const std::map<std::string, envs::CameraPerturbation>& cameras = {});
  // Resets to an explicit qpos (used when sampling initial states).
  const envs::Observation& reset_qpos(const std::vector<double>& qpos,
                                      const std::map<std::string, envs::CameraPerturbation>& cameras = {});
  StepResult step(const envs::Action& action);
  bool goal_holds() const;

  envs::Env& env() { return env_; }
  const TaskDefinition& task() const { return *task_; }

 private:
  void add_expert_hints();

  std::shared_ptr<const TaskDefinition> task_;
  envs::Env env_;
  Goal goal_;
  // Privileged hints for scripted experts: the object to pick and where it goes.
  int pick_body_ = -1;
  const envs::assets::ObjectInfo* pick_info_ = nullptr;
  int place_body_ = -1, place_site_ = -1;
  const envs::assets::ObjectInfo* place_info_ = nullptr;
};

}  // namespace tasks
