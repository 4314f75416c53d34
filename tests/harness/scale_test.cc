// The harness at scale through the vla-harness binary: identical episodes for
// any worker count or shard split, resume after kill -9 and torn lines, plans
// that do not match their run directory, and merge's checks.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "harness/merge.h"
#include "harness/plan.h"
#include "harness/results.h"
#include "test_util.h"

namespace {

namespace fs = std::filesystem;

// A small plan over three tasks, one of them a Bridge task: 6 episodes.
const std::string kPlan =
    "--suite libero_spatial,libero_object,bridge --tasks 0 --episodes-per-task 2 --policy scripted "
    "--quiet";

struct Output {
  int status;
  std::string text;
};

Output run(const std::string& arguments) {
  const std::string command = std::string(VLA_BINARY) + " " + arguments + " 2>&1";
  const test_util::CommandOutput output = test_util::run_command(command);
  return {output.status, output.text};
}

// A fresh directory of this test process: ctest runs test cases as parallel
// processes, each with its own reference run.
std::string scratch(const std::string& name) {
  const fs::path path = fs::temp_directory_path() /
                        ("vla_harness_scale_" + std::to_string(getpid()) + "_" + name);
  fs::remove_all(path);
  return path.string();
}

// Every line must be JSON; returns the episode lines (context skipped).
std::vector<nlohmann::json> episode_lines(const std::string& directory) {
  std::vector<nlohmann::json> lines;
  std::ifstream in(directory + "/episodes.jsonl");
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    INFO(directory << "/episodes.jsonl:" << number << ": " << line);
    REQUIRE(nlohmann::json::accept(line));
    const nlohmann::json json = nlohmann::json::parse(line);
    if (!json.contains("context")) lines.push_back(json);
  }
  return lines;
}

// Episode id -> the line without its timing fields; fails on a duplicate id.
std::map<std::string, std::string> without_timing(const std::string& directory) {
  std::map<std::string, std::string> episodes;
  for (nlohmann::json line : episode_lines(directory)) {
    line.erase("wall_time_s");
    line.erase("timing");
    const std::string id = line.at("episode_id");
    INFO(directory << ": episode " << id);
    CHECK(episodes.emplace(id, line.dump()).second);
  }
  return episodes;
}

void check_same_episodes(const std::map<std::string, std::string>& a,
                         const std::map<std::string, std::string>& b) {
  REQUIRE(a.size() == b.size());
  for (auto it = a.begin(), jt = b.begin(); it != a.end(); ++it, ++jt) {
    CHECK(it->first == jt->first);
    CHECK(it->second == jt->second);
  }
}

// The plan of kPlan, as eval builds it.
std::vector<std::string> plan_ids(int shard_index = 0, int shard_count = 1) {
  harness::PlanSettings settings;
  settings.suites = {"libero_spatial", "libero_object", "bridge"};
  settings.task_ids = {0};
  settings.episodes_per_task = 2;
  settings.shard_index = shard_index;
  settings.shard_count = shard_count;
  std::vector<std::string> ids;
  for (const auto& spec : harness::make_plan(settings)) ids.push_back(spec.episode_id);
  return ids;
}

// A copy of run directory `from` whose plan record has `field` set to `value`.
std::string with_plan_field(const std::string& from, const std::string& to,
                            const std::string& field, const nlohmann::json& value) {
  fs::create_directories(to);
  std::ifstream in(from + "/episodes.jsonl");
  std::ofstream out(to + "/episodes.jsonl");
  std::string line;
  std::getline(in, line);
  nlohmann::json header = nlohmann::json::parse(line);
  header["context"]["plan"][field] = value;
  out << header.dump() << "\n" << in.rdbuf();
  return to;
}

// Runs kPlan unsharded with one worker, once per test process.
const std::string& reference_run() {
  static const std::string directory = [] {
    const std::string out = scratch("reference");
    const Output output = run("eval " + kPlan + " --workers 1 --out " + out);
    INFO(output.text);
    REQUIRE(output.status == 0);
    return out;
  }();
  return directory;
}

}  // namespace

TEST_CASE("shards: each K/N slice is deterministic, disjoint, and together they are the plan") {
  const std::vector<std::string> whole = plan_ids();
  REQUIRE(whole.size() == 6);
  // Slices are fixed: shard 1/2 is every second episode from the second on.
  CHECK(plan_ids(1, 2) == std::vector<std::string>{whole[1], whole[3], whole[5]});
  for (int count : {2, 3, 4}) {
    std::set<std::string> seen;
    size_t total = 0;
    for (int index = 0; index < count; ++index) {
      const std::vector<std::string> shard = plan_ids(index, count);
      total += shard.size();
      seen.insert(shard.begin(), shard.end());
    }
    CHECK(total == whole.size());
    CHECK(seen == std::set<std::string>(whole.begin(), whole.end()));
  }
  harness::PlanSettings settings;
  CHECK_THROWS_WITH_AS(harness::parse_shard("2/2", &settings), doctest::Contains("0 <= K < N"),
                       std::runtime_error);
  CHECK_THROWS_AS(harness::parse_shard("1/2x", &settings), std::runtime_error);
  harness::parse_shard("1/3", &settings);
  CHECK(settings.shard_index == 1);
  CHECK(settings.shard_count == 3);
}

TEST_CASE("plan record: shards share a plan id, other settings change it and are named") {
  harness::PlanSettings settings;
  settings.suites = {"libero_spatial"};
  settings.task_ids = {0};
  settings.episodes_per_task = 2;
  const nlohmann::json whole = harness::describe_plan(settings, "scripted");
  settings.shard_count = 2;
  const nlohmann::json shard = harness::describe_plan(settings, "scripted");
  CHECK(whole["plan_id"] == shard["plan_id"]);
  CHECK(whole["fingerprint"] != shard["fingerprint"]);
  CHECK(whole["episodes"] == 2);
  CHECK(harness::plan_differences(whole, shard, true).empty());
  const auto shard_only = harness::plan_differences(whole, shard);
  REQUIRE(shard_only.size() == 1);
  CHECK(shard_only[0].field == "shard");
  settings.shard_count = 1;
  settings.seed = 8;
  const nlohmann::json reseeded = harness::describe_plan(settings, "zero");
  CHECK(reseeded["plan_id"] != whole["plan_id"]);
  const auto differences = harness::plan_differences(whole, reseeded);
  REQUIRE(differences.size() == 2);
  CHECK(differences[0].field == "policy");
  CHECK(differences[0].first == "scripted");
  CHECK(differences[0].second == "zero");
  CHECK(differences[1].field == "seed");
  // The record rebuilds the settings it was made from.
  const harness::PlanSettings back = harness::plan_settings_from(reseeded);
  CHECK(back.seed == 8);
  CHECK(back.task_ids == std::vector<int>{0});
  CHECK(harness::describe_plan(back, "zero")["plan_id"] == reseeded["plan_id"]);
  // Replanning and image size change what the policy does: both are part of the plan.
  CHECK_FALSE(reseeded.contains("replan_steps"));
  settings.replan_steps = 4;
  settings.image_size = 128;
  const nlohmann::json replanned = harness::describe_plan(settings, "zero");
  CHECK(replanned["plan_id"] != reseeded["plan_id"]);
  const auto replan_differences = harness::plan_differences(reseeded, replanned);
  REQUIRE(replan_differences.size() == 2);
  CHECK(replan_differences[0].field == "replan_steps");
  CHECK(replan_differences[0].first == "(none)");
  CHECK(replan_differences[0].second == "4");
  CHECK(replan_differences[1].field == "image_size");
  const harness::PlanSettings replanned_back = harness::plan_settings_from(replanned);
  CHECK(replanned_back.replan_steps == 4);
  CHECK(replanned_back.image_size == 128);
  CHECK(harness::describe_plan(replanned_back, "zero")["plan_id"] == replanned["plan_id"]);
}

TEST_CASE("determinism: episodes are identical for 1 or 2 workers and for 2 shards merged") {
  const auto reference = without_timing(reference_run());
  CHECK(reference.size() == 6);

  const std::string two_workers = scratch("two_workers");
  Output output = run("eval " + kPlan + " --workers 2 --out " + two_workers);
  INFO(output.text);
  REQUIRE(output.status == 0);
  check_same_episodes(reference, without_timing(two_workers));

  const std::string shards = scratch("shards");
  for (int k = 0; k < 2; ++k) {
    output = run("eval " + kPlan + " --workers 1 --shard " + std::to_string(k) + "/2 --out " +
                 shards + "/shard-" + std::to_string(k));
    INFO(output.text);
    REQUIRE(output.status == 0);
    CHECK(without_timing(shards + "/shard-" + std::to_string(k)).size() == 3);
  }
  output = run("merge " + shards + "/shard-0 " + shards + "/shard-1 --out " + shards + "/merged");
  INFO(output.text);
  REQUIRE(output.status == 0);
  CHECK(output.text.find("merged 6 of the plan's 6 episodes") != std::string::npos);
  check_same_episodes(reference, without_timing(shards + "/merged"));
  // In plan order, like an unsharded run with one worker.
  std::vector<std::string> merged_order, reference_order;
  for (const auto& line : episode_lines(shards + "/merged"))
    merged_order.push_back(line["episode_id"]);
  for (const auto& line : episode_lines(reference_run()))
    reference_order.push_back(line["episode_id"]);
  CHECK(merged_order == reference_order);
  // The merged run records the whole plan and has the unsharded run's summary figures.
  const auto summary = nlohmann::json::parse(std::ifstream(shards + "/merged/summary.json"));
  const auto reference_summary =
      nlohmann::json::parse(std::ifstream(reference_run() + "/summary.json"));
  CHECK(summary["context"]["plan"]["shard"] == "0/1");
  CHECK(summary["context"]["plan"]["fingerprint"] ==
        reference_summary["context"]["plan"]["fingerprint"]);
  CHECK(summary["tasks"] == reference_summary["tasks"]);
  CHECK(summary["suites"] == reference_summary["suites"]);
}

TEST_CASE(
    "resume: kill -9 mid-run loses no episode, duplicates none, and a torn line is discarded") {
  const std::string out = scratch("killed");
  const std::string file = out + "/episodes.jsonl";
  // Fork/exec the binary and kill it once two episodes are recorded.
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const std::string command = std::string(VLA_BINARY) + " eval " + kPlan + " --workers 1 --out " +
                                out + " >/dev/null 2>&1";
    execl("/bin/sh", "sh", "-c", ("exec " + command).c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  int recorded = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(300);
  while (recorded < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::ifstream in(file);
    recorded = -1;  // the context line
    for (std::string line; std::getline(in, line);) ++recorded;
    if (waitpid(pid, nullptr, WNOHANG) == pid) FAIL("the run ended before it was killed");
  }
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  CHECK(WIFSIGNALED(status));
  REQUIRE(recorded >= 2);
  const int before = int(episode_lines(out).size());
  CHECK(before < 6);

  // A line cut short, as a kill mid-write leaves it.
  { std::ofstream(file, std::ios::app) << "{\"episode_id\": \"bridge/0/1\", \"suc"; }
  const Output output = run("eval " + kPlan + " --workers 1 --out " + out);
  INFO(output.text);
  REQUIRE(output.status == 0);
  CHECK(output.text.find("discarded a torn last line") != std::string::npos);
  CHECK(output.text.find("(" + std::to_string(before) + " already recorded)") != std::string::npos);
  // Every line parses (episode_lines requires it), each episode once, equal to an uninterrupted
  // run.
  CHECK(episode_lines(out).size() == 6);
  check_same_episodes(without_timing(reference_run()), without_timing(out));
}

TEST_CASE("processes: eval --processes 2 records one worker's episodes, resumes and reports a failed process") {
  const auto reference = without_timing(reference_run());
  const std::string out = scratch("processes");
  const std::string command = "eval " + kPlan + " --processes 2 --out " + out;
  Output output = run(command);
  INFO(output.text);
  REQUIRE(output.status == 0);
  CHECK(output.text.find("with 2 processes x 1 worker(s)") != std::string::npos);
  check_same_episodes(reference, without_timing(out));
  std::vector<std::string> merged_order, reference_order;
  for (const auto& line : episode_lines(out)) merged_order.push_back(line["episode_id"]);
  for (const auto& line : episode_lines(reference_run())) reference_order.push_back(line["episode_id"]);
  CHECK(merged_order == reference_order);
  const std::string shard0 = out + "/shards/0-of-2", shard1 = out + "/shards/1-of-2";
  const size_t in_shard1 = without_timing(shard1).size();
  CHECK(without_timing(shard0).size() + in_shard1 == 6);

  // Shard 1 holds a run of another plan: its process refuses it and fails;
  // the others' episodes are merged, the failure is named with its log.
  const std::string other = with_plan_field(shard1, out + "/other", "seed", 99);
  fs::copy_file(other + "/episodes.jsonl", shard1 + "/episodes.jsonl",
                fs::copy_options::overwrite_existing);
  output = run(command);
  CHECK(output.status != 0);
  CHECK(output.text.find("process 1 (shard 1/2) exited with status") != std::string::npos);
  CHECK(output.text.find("eval.log") != std::string::npos);

  // Without it, a rerun redoes only shard 1's episodes and completes the run.
  fs::remove_all(shard1);
  output = run(command);
  REQUIRE(output.status == 0);
  CHECK(output.text.find("ran " + std::to_string(in_shard1) + " episodes (" +
                         std::to_string(6 - in_shard1) + " already recorded)") != std::string::npos);
  check_same_episodes(reference, without_timing(out));

  // What it cannot do is refused before anything runs.
  output = run("eval " + kPlan + " --processes 2 --shard 0/2 --out " + scratch("processes_shard"));
  CHECK(output.status != 0);
  CHECK(output.text.find("does not combine with --shard") != std::string::npos);
  output = run("eval " + kPlan + " --processes 2 --out " + reference_run());
  CHECK(output.status != 0);
  CHECK(output.text.find("made without --processes") != std::string::npos);
  check_same_episodes(reference, without_timing(reference_run()));
}

TEST_CASE("resume: a torn line is cut off before the next append") {
  const std::string out = scratch("torn");
  harness::EpisodeResult episode;
  episode.episode_id = "libero_spatial/0/0";
  episode.suite = "libero_spatial";
  episode.end_reason = "max_steps";
  {
    harness::ResultStore store(out, {{"policy", "zero"}});
    store.append(episode);
  }
  {
    std::ofstream(out + "/episodes.jsonl", std::ios::app)
        << "{\"episode_id\": \"libero_spatial/0/1\", \"su";
  }
  const harness::RecordedRun before = harness::read_run(out);
  CHECK(before.torn_bytes > 0);
  CHECK(before.episodes.size() == 1);
  {
    harness::ResultStore store(out, {{"policy", "zero"}});
    CHECK(store.torn_bytes_discarded() == before.torn_bytes);
    episode.episode_id = "libero_spatial/0/1";
    store.append(episode);
  }
  const auto lines = episode_lines(out);
  REQUIRE(lines.size() == 2);
  CHECK(lines[1]["episode_id"] == "libero_spatial/0/1");
  CHECK(harness::read_run(out).torn_bytes == 0);
  // A malformed line that is not the last is an error naming the file and line.
  { std::ofstream(out + "/episodes.jsonl", std::ios::app) << "not json\n{}\n"; }
  CHECK_THROWS_WITH_AS(harness::read_run(out),
                       doctest::Contains("episodes.jsonl:4: not valid JSON"), std::runtime_error);
}

TEST_CASE("resume: a different plan on the same --out is refused, naming what differs") {
  const std::string out = scratch("other_plan");
  Output output = run("eval " + kPlan + " --shard 5/6 --out " + out);
  INFO(output.text);
  REQUIRE(output.status == 0);
  const auto size = fs::file_size(out + "/episodes.jsonl");
  std::string zero_plan = kPlan;
  zero_plan.replace(zero_plan.find("--policy scripted"), 17, "--policy zero");
  output = run("eval " + zero_plan + " --shard 5/6 --out " + out);
  CHECK(output.status != 0);
  CHECK(output.text.find(out + " was recorded with policy scripted, this run asks for zero") !=
        std::string::npos);
  output = run("eval " + kPlan + " --shard 5/6 --seed 8 --out " + out);
  CHECK(output.status != 0);
  CHECK(output.text.find("seed 7, this run asks for 8") != std::string::npos);
  output = run("eval " + kPlan + " --out " + out);
  CHECK(output.status != 0);
  CHECK(output.text.find("shard 5/6, this run asks for 0/1") != std::string::npos);
  CHECK(fs::file_size(out + "/episodes.jsonl") == size);
  // The same plan resumes: nothing left to run.
  output = run("eval " + kPlan + " --shard 5/6 --out " + out);
  CHECK(output.status == 0);
  CHECK(output.text.find("ran 0 episodes (1 already recorded)") != std::string::npos);
}

TEST_CASE("merge: refuses duplicates and other plans, reports gaps") {
  const std::string root = scratch("merge");
  const std::string shard0 = root + "/shard-0", shard1 = root + "/shard-1";
  for (const std::string& shard : {shard0, shard1}) {
    const std::string k = shard == shard0 ? "0" : "1";
    const Output output = run("eval " + kPlan + " --workers 1 --shard " + k + "/2 --out " + shard);
    INFO(output.text);
    REQUIRE(output.status == 0);
  }
  // Gaps: shard 1 alone leaves shard 0's episodes missing, in plan order.
  const harness::MergeReport gaps = harness::merge_runs({shard1}, root + "/gaps", "");
  CHECK(gaps.plan_episodes == 6);
  CHECK(gaps.merged_episodes == 3);
  CHECK(gaps.missing == plan_ids(0, 2));
  const Output output = run("merge " + shard1 + " --out " + root + "/gaps_cli");
  CHECK(output.status == 3);  // written, but incomplete
  CHECK(fs::exists(root + "/gaps_cli/episodes.jsonl"));
  CHECK(output.text.find("3 episodes of the plan are missing (gaps): libero_spatial/0/0") !=
        std::string::npos);

  // The same shard twice.
  fs::copy(shard0, root + "/copy");
  CHECK_THROWS_WITH_AS(harness::merge_runs({shard0, root + "/copy"}, root + "/twice", ""),
                       doctest::Contains("are both shard 0/2"), std::runtime_error);
  // Duplicates: shard 0's episodes again, in a directory recorded as shard 1.
  const std::string duplicate = with_plan_field(shard0, root + "/duplicate", "shard", "1/2");
  CHECK_THROWS_WITH_AS(harness::merge_runs({shard0, duplicate}, root + "/dup", ""),
                       doctest::Contains(("episode libero_spatial/0/0 is recorded in both " +
                                          shard0 + " and " + duplicate)
                                             .c_str()),
                       std::runtime_error);
  // Another plan: shard 1 as if recorded with seed 8.
  const std::string other = with_plan_field(shard1, root + "/other", "seed", 8);
  CHECK_THROWS_WITH_AS(harness::merge_runs({shard0, other}, root + "/mixed", ""),
                       doctest::Contains(("seed 7 in " + shard0 + ", 8 in " + other).c_str()),
                       std::runtime_error);
  CHECK_FALSE(fs::exists(root + "/mixed/episodes.jsonl"));
  // Both shards: complete.
  const harness::MergeReport whole = harness::merge_runs({shard0, shard1}, root + "/whole", "");
  CHECK(whole.missing.empty());
  CHECK(whole.merged_episodes == 6);
}
