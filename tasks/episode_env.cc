#include "tasks/episode_env.h"

#include <stdexcept>

#include "tasks/simpler/bridge.h"
#include "tasks/simpler/fractal.h"
#include "tasks/task_env.h"

namespace tasks {

const std::map<std::string, double>& EpisodeEnv::metrics() const {
  static const std::map<std::string, double> none;
  return none;
}

std::unique_ptr<EpisodeEnv> make_episode_env(std::shared_ptr<const TaskDefinition> task,
                                             envs::EnvSettings settings) {
  if (!task) throw std::runtime_error("make_episode_env: no task");
  if (task->family == "libero" || task->family.empty()) {
    return std::make_unique<TaskEnv>(std::move(task), std::move(settings));
  }
  if (task->family == "bridge") return simpler::make_bridge_env(std::move(task), std::move(settings));
  if (task->family == "fractal") return simpler::make_fractal_env(std::move(task), std::move(settings));
  throw std::runtime_error("task " + task->key + ": unknown task family '" + task->family + "'");
}

}  // namespace tasks
