// The Fractal expert picks the coke can in every orientation and moves
// objects near others on sample episodes of each task.
#include "policies/scripted/fractal_expert.h"

#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "tasks/simpler/fractal.h"

namespace {

// Runs the expert on `episode` of `task`; true when the episode succeeds.
bool run(tasks::EpisodeEnv& env, policies::scripted::FractalExpert& expert, int episode) {
  expert.reset(0);
  const envs::Observation* obs = &env.reset(episode);
  for (int step = 0; step < env.task().protocol.max_steps; ++step) {
    const tasks::StepResult result = env.step(expert.act(0, *obs));
    obs = result.observation;
    if (result.success) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("fractal expert: succeeds on sample episodes of the coke and move-near tasks") {
  policies::scripted::FractalExpert expert;
  for (const auto& task : tasks::simpler::fractal_tasks(false)) {
    const bool near = task.name == "move_near";
    if (task.name.rfind("pick_coke_can", 0) != 0 && !near) continue;
    CAPTURE(task.name);
    envs::EnvSettings settings;
    settings.cameras = {};
    auto env = tasks::simpler::make_fractal_env(std::make_shared<tasks::TaskDefinition>(task),
                                                settings);
    const std::vector<int> episodes = near ? std::vector<int>{0, 17, 34, 59}
                                           : std::vector<int>{0, 12, 24};
    for (int episode : episodes) {
      CAPTURE(episode);
      CHECK(run(*env, expert, episode));
      CHECK(env->metrics().at("grasp") == 1);
    }
  }
}

TEST_CASE("fractal expert: a distractor episode succeeds too") {
  policies::scripted::FractalExpert expert;
  for (const auto& task : tasks::simpler::fractal_tasks(true)) {
    if (task.name != "pick_coke_can_standing@distractors" && task.name != "move_near@distractors") {
      continue;
    }
    CAPTURE(task.name);
    envs::EnvSettings settings;
    settings.cameras = {};
    auto env = tasks::simpler::make_fractal_env(std::make_shared<tasks::TaskDefinition>(task),
                                                settings);
    CHECK(run(*env, expert, 7));
  }
}

TEST_CASE("fractal expert: rejects skills of other families") {
  policies::scripted::FractalExpert expert;
  expert.reset(0);
  envs::Observation observation;
  observation.skill = "bridge_pick_place";
  CHECK_THROWS_AS(expert.act(0, observation), std::runtime_error);
}
