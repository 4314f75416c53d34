// Episode plans: suite families, one episode per stored state, shards.
#include "harness/plan.h"

#include <doctest/doctest.h>

#include <set>
#include <string>
#include <vector>

#include "tasks/suite.h"

TEST_CASE("plan: 'libero' stands for the four LIBERO-style suites, other names pass through") {
  const std::vector<std::string> expected{"libero_spatial", "libero_object", "libero_goal",
                                          "libero_10"};
  CHECK(harness::expand_suites({"libero"}) == expected);
  CHECK(harness::expand_suites({"libero_goal", "libero_10"}) ==
        std::vector<std::string>{"libero_goal", "libero_10"});
  CHECK(harness::expand_suites({"no_such_suite"}) == std::vector<std::string>{"no_such_suite"});
}

TEST_CASE("plan: one episode per task and state over all 40 tasks, shards split it exactly") {
  harness::PlanSettings settings;
  settings.suites = {"libero"};
  settings.episodes_per_task = 2;
  const auto plan = harness::make_plan(settings);
  REQUIRE(plan.size() == 80);
  std::set<std::string> ids;
  for (const auto& spec : plan) ids.insert(spec.episode_id);
  CHECK(ids.size() == 80);
  CHECK(ids.count("libero_10/9/1") == 1);
  CHECK(plan.front().task->protocol.max_steps == 220);
  CHECK(plan.back().task->protocol.max_steps == 520);

  std::set<std::string> sharded;
  for (int shard = 0; shard < 3; ++shard) {
    settings.shard_index = shard;
    settings.shard_count = 3;
    for (const auto& spec : harness::make_plan(settings)) {
      CHECK(sharded.insert(spec.episode_id).second);
    }
  }
  CHECK(sharded == ids);
}
