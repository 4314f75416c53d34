// The Fractal drawer expert opens and closes each drawer and puts the apple
// into the top drawer on a few layouts per task (near, middle and far robot
// base poses), within the protocol's step budget; bad input is refused.
#include "policies/scripted/fractal_drawer_expert.h"

#include <doctest/doctest.h>

#include <memory>
#include <stdexcept>
#include <string>

#include "tasks/simpler/fractal_drawer.h"

namespace {

struct EpisodeOutcome {
  bool success = false;
  double grasp = 0;
  int steps = 0;
};

EpisodeOutcome run_expert(int task_index, int episode) {
  auto task = std::make_shared<tasks::TaskDefinition>(
      tasks::simpler::fractal_drawer_tasks().at(task_index));
  task->key = "fractal_test/" + std::to_string(task_index);
  envs::EnvSettings settings;
  settings.cameras.clear();
  const auto env = tasks::simpler::make_fractal_drawer_env(task, settings);
  policies::scripted::FractalDrawerExpert expert;
  expert.reset(0);
  const envs::Observation* observation = &env->reset(episode);
  EpisodeOutcome outcome;
  for (; outcome.steps < task->protocol.max_steps && !outcome.success; ++outcome.steps) {
    const tasks::StepResult result = env->step(expert.act(0, *observation));
    observation = result.observation;
    outcome.success = result.success;
  }
  const auto grasp = env->metrics().find("grasp");
  if (grasp != env->metrics().end()) outcome.grasp = grasp->second;
  return outcome;
}

}  // namespace

TEST_CASE("fractal drawer expert: opens and closes every drawer from near, middle and far") {
  // Layouts: 1 (A0, near the cabinet, turned left), 13 (B1), 25 (C2, far, turned right).
  for (int task_index = 0; task_index < 6; ++task_index) {
    for (int episode : {1, 13, 25}) {
      INFO("task " << task_index << " episode " << episode);
      const EpisodeOutcome outcome = run_expert(task_index, episode);
      CHECK(outcome.success);
      CHECK(outcome.steps < 113);
    }
  }
}

TEST_CASE("fractal drawer expert: opens the top drawer and puts the apple in") {
  for (int episode : {0, 13, 26}) {
    INFO("episode " << episode);
    const EpisodeOutcome outcome = run_expert(6, episode);
    CHECK(outcome.success);
    CHECK(outcome.grasp == 1);  // the apple was carried, not pushed
  }
}

TEST_CASE("fractal drawer expert: refuses other skills and observations without hints") {
  policies::scripted::FractalDrawerExpert expert;
  envs::Observation observation;
  observation.skill = "fractal_pick_lift";
  CHECK_THROWS_AS(expert.act(0, observation), std::runtime_error);
  observation.skill = "fractal_open_drawer";
  CHECK_THROWS_AS(expert.act(0, observation), std::runtime_error);  // no hints
  CHECK_THROWS_AS(expert.reset(-1), std::runtime_error);
}
