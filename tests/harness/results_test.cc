// Results: Wilson intervals, the append-only store and resuming, aggregation.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "harness/results.h"

namespace {

std::string fresh_directory(const std::string& name) {
  const auto path = std::filesystem::temp_directory_path() / ("vla_harness_test_" + name);
  std::filesystem::remove_all(path);
  return path.string();
}

harness::EpisodeResult episode(const std::string& suite, int task, int state, bool success) {
  harness::EpisodeResult result;
  result.suite = suite;
  result.task_id = task;
  result.init_state = state;
  result.episode_id = suite + "/" + std::to_string(task) + "/" + std::to_string(state);
  result.success = success;
  result.end_reason = success ? "success" : "max_steps";
  result.steps = 100 + state;
  result.seed = 1000 + state;
  return result;
}

}  // namespace

TEST_CASE("wilson interval: known values") {
  // 45 of 50: [0.7864, 0.9565] (Wilson, z = 1.96).
  const auto a = harness::wilson_interval(45, 50);
  CHECK(a.low == doctest::Approx(0.7864).epsilon(0.001));
  CHECK(a.high == doctest::Approx(0.9565).epsilon(0.001));
  // 0 of 10 and 10 of 10 stay inside [0, 1] and are not degenerate.
  const auto none = harness::wilson_interval(0, 10);
  CHECK(none.low == doctest::Approx(0.0));
  CHECK(none.high == doctest::Approx(0.2775).epsilon(0.001));
  const auto all = harness::wilson_interval(10, 10);
  CHECK(all.low == doctest::Approx(0.7225).epsilon(0.001));
  CHECK(all.high == doctest::Approx(1.0));
}

TEST_CASE("result store: appends lines, and a reopened run skips what was recorded") {
  const std::string dir = fresh_directory("store");
  const nlohmann::json context = harness::make_context("vla-harness eval --test", "zero");
  {
    harness::ResultStore store(dir, context);
    store.append(episode("libero_spatial", 0, 0, true));
    store.append(episode("libero_spatial", 0, 1, false));
  }
  // A line cut short by a kill at the end of the file is dropped on resume.
  { std::ofstream(dir + "/episodes.jsonl", std::ios::app) << "{\"episode_id\": \"libero_sp"; }
  harness::ResultStore reopened(dir, context);
  CHECK(reopened.has("libero_spatial/0/0"));
  CHECK(reopened.has("libero_spatial/0/1"));
  CHECK_FALSE(reopened.has("libero_spatial/0/2"));
  const auto episodes = reopened.episodes();
  REQUIRE(episodes.size() == 2);
  CHECK(episodes[0].success);
  CHECK(episodes[1].steps == 101);
  CHECK(episodes[1].seed == 1001);

  std::ifstream in(dir + "/episodes.jsonl");
  std::string first;
  std::getline(in, first);
  const auto header = nlohmann::json::parse(first);
  CHECK(header["context"]["schema_version"] == harness::kSchemaVersion);
  CHECK(header["context"]["command_line"] == "vla-harness eval --test");
  CHECK(header["context"].contains("mujoco_version"));
  CHECK(header["context"].contains("git_revision"));
}

TEST_CASE("aggregate: per task and per suite with intervals") {
  std::vector<harness::EpisodeResult> episodes;
  for (int i = 0; i < 10; ++i) episodes.push_back(episode("libero_spatial", 0, i, i < 9));
  for (int i = 0; i < 10; ++i) episodes.push_back(episode("libero_spatial", 1, i, i < 5));
  const auto rows = harness::aggregate(episodes);
  REQUIRE(rows.size() == 3);
  CHECK(rows[0].task == "0");
  CHECK(rows[0].successes == 9);
  CHECK(rows[0].success_rate == doctest::Approx(0.9));
  CHECK(rows[1].success_rate == doctest::Approx(0.5));
  CHECK(rows[2].task == "all");
  CHECK(rows[2].episodes == 20);
  CHECK(rows[2].successes == 14);
  CHECK(rows[2].ci95.low < 0.7);
  CHECK(rows[2].ci95.high > 0.7);
  const std::string table = harness::format_table(rows);
  CHECK(table.find("libero_spatial") != std::string::npos);
  CHECK(table.find("70.0%") != std::string::npos);
}

TEST_CASE("aggregate: groups average their tasks, the suite averages groups, with metrics and overall") {
  // Task 0 and 1 form group "coke" (rates 1.0 and 0.5, 4 episodes each); task 2
  // is alone (rate 0.0, 2 episodes). Grasp: task 0 always, task 1 half, task 2 never.
  std::vector<harness::EpisodeResult> episodes;
  for (int i = 0; i < 4; ++i) episodes.push_back(episode("fractal_va", 0, i, true));
  for (int i = 0; i < 4; ++i) episodes.push_back(episode("fractal_va", 1, i, i < 2));
  for (int i = 0; i < 2; ++i) episodes.push_back(episode("fractal_va", 2, i, false));
  for (auto& result : episodes) {
    result.metrics["grasp"] = result.task_id == 0 || (result.task_id == 1 && result.init_state < 2);
  }
  const auto rows = harness::aggregate(
      episodes, [](const std::string&, int task) { return task < 2 ? "coke" : ""; });
  REQUIRE(rows.size() == 5);  // three tasks, the group, the suite
  CHECK(rows[1].metrics.at("grasp") == doctest::Approx(0.5));
  CHECK(rows[3].is_group);
  CHECK(rows[3].task == "coke");
  CHECK(rows[3].success_rate == doctest::Approx(0.75));
  CHECK(rows[3].metrics.at("grasp") == doctest::Approx(0.75));
  const harness::Aggregate& suite = rows[4];
  CHECK(suite.task == "all");
  CHECK(suite.episodes == 10);
  // Mean over groups (0.75 and 0.0), not the pooled 6/10.
  CHECK(suite.success_rate == doctest::Approx(0.375));
  CHECK(suite.metrics.at("grasp") == doctest::Approx(0.375));
  CHECK(suite.metrics.at("overall") == doctest::Approx(0.375));
  const std::string table = harness::format_table(rows);
  CHECK(table.find("[coke]") != std::string::npos);
  CHECK(table.find("grasp") != std::string::npos);
  // A task without the metric (a drawer task) neither dilutes its mean nor
  // gets an "overall" made.
  for (auto& result : episodes) {
    if (result.task_id == 2) result.metrics.clear();
  }
  const auto partial = harness::aggregate(
      episodes, [](const std::string&, int task) { return task < 2 ? "coke" : ""; });
  CHECK(partial.back().metrics.at("grasp") == doctest::Approx(0.75));
  CHECK_FALSE(partial.back().metrics.count("overall"));
  // A run's episode metrics survive the store's round trip.
  const harness::EpisodeResult back = harness::episode_from_json(harness::to_json(episodes[5]));
  CHECK(back.metrics.at("grasp") == doctest::Approx(1));
}
