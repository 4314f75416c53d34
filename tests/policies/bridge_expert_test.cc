// The Bridge scripted expert: picks, carries and places on a few layouts of
// each task within the protocol's steps; the grasp metric is at least success.
#include "policies/scripted/bridge_expert.h"

#include <doctest/doctest.h>

#include <memory>
#include <stdexcept>

#include "tasks/simpler/bridge.h"

TEST_CASE("bridge expert succeeds on sample layouts of every task") {
  const auto definitions = tasks::simpler::bridge_tasks();
  policies::scripted::BridgeExpert expert;
  for (const auto& definition : definitions) {
    auto task = std::make_shared<tasks::TaskDefinition>(definition);
    envs::EnvSettings settings;
    settings.cameras = {};
    tasks::simpler::BridgeEnv env(task, settings);
    for (int episode : {0, 7, 13, 22}) {
      const envs::Observation* observation = &env.reset(episode);
      expert.reset(0);
      bool success = false;
      for (int step = 0; step < task->protocol.max_steps && !success; ++step) {
        const tasks::StepResult result = env.step(expert.act(0, *observation));
        observation = result.observation;
        success = result.success;
      }
      CAPTURE(task->name);
      CAPTURE(episode);
      CHECK(success);
      CHECK(env.metrics().at("grasp") >= (success ? 1 : 0));
    }
  }
}

TEST_CASE("bridge expert: missing hints are a clear error") {
  policies::scripted::BridgeExpert expert;
  expert.reset(0);
  envs::Observation observation;
  observation.privileged["eef"];
  CHECK_THROWS_AS(expert.act(0, observation), std::runtime_error);
}
