// The environment of one task as the harness drives it: reset to one of the
// task's episodes, step with 7-D actions, report success and other metrics.
// LIBERO-style tasks (tasks::TaskEnv) and the SimplerEnv-style families
// implement it.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "envs/env.h"
#include "tasks/suite.h"

namespace tasks {

struct StepResult {
  const envs::Observation* observation = nullptr;
  bool success = false;  // the goal holds after this step
};

class EpisodeEnv {
 public:
  virtual ~EpisodeEnv() = default;
  // Resets to episode `episode` of the task (a stored initial state or a
  // layout: 0 .. task().episodes - 1) with per-camera perturbations.
  virtual const envs::Observation& reset(
      int episode, const std::map<std::string, envs::CameraPerturbation>& cameras = {}) = 0;
  virtual StepResult step(const envs::Action& action) = 0;
  virtual bool goal_holds() const = 0;
  virtual envs::Env& env() = 0;
  virtual const TaskDefinition& task() const = 0;
  // Metrics of the episode so far besides success, by name (e.g. "grasp": 0
  // or 1), kept up to date at every step. Default: none.
  virtual const std::map<std::string, double>& metrics() const;
};

// The environment of `task`, for its family. `settings` carries the cameras
// the policy reads and render settings; a family sets its own control rate,
// controller and native image size. Throws std::runtime_error for an unknown
// family.
std::unique_ptr<EpisodeEnv> make_episode_env(std::shared_ptr<const TaskDefinition> task,
                                             envs::EnvSettings settings);

}  // namespace tasks
