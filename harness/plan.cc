#include "harness/plan.h"

#include <stdexcept>

#include "envs/random.h"

namespace harness {

envs::CameraPerturbation draw_camera_perturbation(const envs::CameraRandomization& randomization,
                                                  uint64_t episode_seed) {
  envs::Rng rng(envs::mix64(episode_seed ^ envs::hash_string("camera")));
  envs::CameraPerturbation perturbation;
  for (double& v : perturbation.position_offset) {
    v = envs::uniform(rng, -randomization.position, randomization.position);
  }
  for (double& v : perturbation.rotation_offset) {
    v = envs::uniform(rng, -randomization.rotation, randomization.rotation);
  }
  perturbation.fovy_delta = envs::uniform(rng, -randomization.fovy, randomization.fovy);
  return perturbation;
}

std::vector<std::string> expand_suites(const std::vector<std::string>& names) {
  std::vector<std::string> expanded;
  for (const std::string& name : names) {
    bool family = false;
    for (const tasks::SuiteInfo& suite : tasks::suites()) {
      if (suite.family == name && suite.name != name) {
        expanded.push_back(suite.name);
        family = true;
      }
    }
    if (!family) expanded.push_back(name);
  }
  return expanded;
}

std::vector<EpisodeSpec> make_plan(const PlanSettings& settings) {
  if (settings.shard_count < 1 || settings.shard_index < 0 ||
      settings.shard_index >= settings.shard_count) {
    throw std::runtime_error("shard " + std::to_string(settings.shard_index) + "/" +
                             std::to_string(settings.shard_count) + " is out of range");
  }
  const bool perturb = settings.camera.position > 0 || settings.camera.rotation > 0 ||
                       settings.camera.fovy > 0;
  std::vector<EpisodeSpec> plan;
  int index = 0;
  for (const std::string& suite_name : expand_suites(settings.suites)) {
    const tasks::SuiteInfo& suite = tasks::find_suite(suite_name);
    std::vector<int> ids = settings.task_ids;
    if (ids.empty()) {
      for (int i = 0; i < suite.task_count(); ++i) ids.push_back(i);
    }
    for (int id : ids) {
      auto task = tasks::load_task(suite.name, id);
      const int episodes = settings.episodes_per_task > 0 ? settings.episodes_per_task
                                                          : task->protocol.episodes_per_task;
      if (episodes > task->episodes) {
        throw std::runtime_error(task->key + " has " + std::to_string(task->episodes) +
                                 (task->family == "libero" ? " stored initial states" : " episode layouts") +
                                 "; asked for " + std::to_string(episodes) + " episodes");
      }
      for (int state = 0; state < episodes; ++state, ++index) {
        if (index % settings.shard_count != settings.shard_index) continue;
        EpisodeSpec spec;
        spec.suite = suite.name;
        spec.task_id = id;
        spec.init_state = state;
        spec.episode_id = task->key + "/" + std::to_string(state);
        spec.seed = envs::derive_seed(settings.seed, spec.episode_id, "episode");
        if (perturb) {
          spec.cameras["agentview"] = draw_camera_perturbation(settings.camera, spec.seed);
        }
        spec.task = task;
        plan.push_back(std::move(spec));
      }
    }
  }
  return plan;
}

}  // namespace harness
