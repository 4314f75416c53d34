// The scripted expert solves libero_spatial/0 and libero_10/9 (a mug carried
// into the microwave, then its door pushed shut) under the LIBERO protocol.
#include "policies/scripted/scripted.h"

#include <doctest/doctest.h>

#include "harness/batcher.h"
#include "harness/plan.h"
#include "harness/runner.h"
#include "policies/baselines.h"

TEST_CASE("scripted expert: solves libero_spatial/0 from at least 45 of the 50 stored states") {
  harness::PlanSettings plan_settings;
  plan_settings.task_ids = {0};
  const auto plan = harness::make_plan(plan_settings);
  REQUIRE(plan.size() == 50);
  policies::scripted::ScriptedExpert expert;
  harness::PolicyBatcher batcher(expert, 1);
  const policies::PolicyInfo info = expert.info();
  tasks::TaskEnv env(plan.front().task, harness::env_settings_for(info, {}));
  int successes = 0;
  for (const harness::EpisodeSpec& spec : plan) {
    const harness::EpisodeResult result = harness::run_episode(spec, env, batcher, 0, info);
    INFO(spec.episode_id << ": " << result.end_reason << " " << result.error);
    CHECK(result.end_reason != "error");
    successes += result.success;
  }
  MESSAGE("scripted expert: " << successes << "/50 on libero_spatial/0");
  CHECK(successes >= 45);
}

TEST_CASE("scripted expert: puts the mug in the microwave and closes it (libero_10/9), 8 or more of 10") {
  harness::PlanSettings plan_settings;
  plan_settings.suites = {"libero_10"};
  plan_settings.task_ids = {9};
  plan_settings.episodes_per_task = 10;
  const auto plan = harness::make_plan(plan_settings);
  REQUIRE(plan.size() == 10);
  policies::scripted::ScriptedExpert expert;
  harness::PolicyBatcher batcher(expert, 1);
  const policies::PolicyInfo info = expert.info();
  tasks::TaskEnv env(plan.front().task, harness::env_settings_for(info, {}));
  int successes = 0;
  for (const harness::EpisodeSpec& spec : plan) {
    const harness::EpisodeResult result = harness::run_episode(spec, env, batcher, 0, info);
    INFO(spec.episode_id << ": " << result.end_reason << " " << result.error);
    CHECK(result.end_reason != "error");
    successes += result.success;
  }
  MESSAGE("scripted expert: " << successes << "/10 on libero_10/9");
  CHECK(successes >= 8);
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
