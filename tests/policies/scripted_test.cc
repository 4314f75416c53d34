// The scripted expert solves libero_spatial/0, libero_10/9 (a mug carried
// into the microwave, then its door pushed shut) and libero_spatial/4 (a bowl
// drawn out from under the cabinet's top) under the LIBERO protocol.
#include "policies/scripted/scripted.h"

#include <doctest/doctest.h>

#include "harness/batcher.h"
#include "harness/plan.h"
#include "harness/runner.h"
#include "policies/baselines.h"
#include "tasks/task_env.h"

namespace {

// Successes of the scripted expert on the first `episodes` episodes of one
// task, run the way the harness runs them; no episode may end in an error.
int scripted_successes(const std::string& suite, int task, int episodes) {
  harness::PlanSettings plan_settings;
  plan_settings.suites = {suite};
  plan_settings.task_ids = {task};
  plan_settings.episodes_per_task = episodes;
  const auto plan = harness::make_plan(plan_settings);
  REQUIRE(int(plan.size()) == episodes);
  policies::scripted::ScriptedExpert expert;
  harness::PolicyBatcher batcher(expert, 1);
  const policies::PolicyInfo info = expert.info();
  auto env = tasks::make_episode_env(plan.front().task, harness::env_settings_for(info, {}));
  int successes = 0;
  for (const harness::EpisodeSpec& spec : plan) {
    const harness::EpisodeResult result = harness::run_episode(spec, *env, batcher, 0, info);
    INFO(spec.episode_id << ": " << result.end_reason << " " << result.error);
    CHECK(result.end_reason != "error");
    successes += result.success;
  }
  MESSAGE("scripted expert: " << successes << "/" << episodes << " on " << suite << "/" << task);
  return successes;
}

}  // namespace

TEST_CASE("scripted expert: solves libero_spatial/0 from at least 45 of the 50 stored states") {
  CHECK(scripted_successes("libero_spatial", 0, 50) >= 45);
}

TEST_CASE("scripted expert: puts the mug in the microwave and closes it (libero_10/9), 8 or more of 10") {
  CHECK(scripted_successes("libero_10", 9, 10) >= 8);
}

TEST_CASE("scripted expert: takes the bowl out of the open top drawer (libero_spatial/4), 9 or more of 10") {
  CHECK(scripted_successes("libero_spatial", 4, 10) >= 9);
}

TEST_CASE("zero policy: never succeeds on libero_spatial/0 (the goal does not hold at the start)") {
  harness::PlanSettings plan_settings;
  plan_settings.task_ids = {0};
  plan_settings.episodes_per_task = 3;
  const auto plan = harness::make_plan(plan_settings);
  policies::ZeroPolicy zero;
  harness::PolicyBatcher batcher(zero, 1);
  tasks::TaskEnv env(plan.front().task, harness::env_settings_for(zero.info(), {}));
  for (const harness::EpisodeSpec& spec : plan) {
    const harness::EpisodeResult result = harness::run_episode(spec, env, batcher, 0, zero.info());
    CHECK_FALSE(result.success);
    CHECK(result.end_reason == "max_steps");
    CHECK(result.steps == 220);
  }
}
