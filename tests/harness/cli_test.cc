// The vla-harness binary end to end: eval writes its files, resumes, reports
// bad names with the valid ones, and render writes a PNG.
#include <doctest/doctest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>

#include <nlohmann/json.hpp>
#include "test_util.h"

namespace {

struct Output {
  int status;
  std::string text;
};

Output run(const std::string& arguments) {
  const std::string command = std::string(VLA_BINARY) + " " + arguments + " 2>&1";
  const test_util::CommandOutput output = test_util::run_command(command);
  return {output.status, output.text};
}

std::vector<nlohmann::json> read_lines(const std::string& path) {
  std::vector<nlohmann::json> lines;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

}  // namespace

TEST_CASE("cli eval: writes episodes.jsonl and summary.json with every field, and resumes") {
  const auto dir = std::filesystem::temp_directory_path() / "vla_harness_cli_eval";
  std::filesystem::remove_all(dir);
  const Output first = run("eval --suite libero_spatial --tasks 0 --policy scripted --episodes-per-task 2 "
                           "--seed 7 --quiet --out " + dir.string());
  INFO(first.text);
  REQUIRE(first.status == 0);
  CHECK(first.text.find("libero_spatial") != std::string::npos);
  CHECK(first.text.find("95% CI") != std::string::npos);

  const auto lines = read_lines((dir / "episodes.jsonl").string());
  REQUIRE(lines.size() == 3);  // context header + 2 episodes
  CHECK(lines[0]["context"]["schema_version"] == 1);
  for (const char* key : {"git_revision", "mujoco_version", "libtorch_version", "host", "command_line"}) {
    CHECK_MESSAGE(lines[0]["context"].contains(key), key);
  }
  // The revision is the checkout's at build time: HEAD, "-dirty" when tracked files differ.
  const auto head = test_util::run_command("git -C " + std::string(VLA_SOURCE_DIR) +
                                           " rev-parse --short=12 HEAD 2>/dev/null");
  if (head.status == 0 && head.text.size() > 12) {
    const std::string revision = lines[0]["context"]["git_revision"];
    CHECK(revision.rfind(head.text.substr(0, 12), 0) == 0);
  }
  for (size_t i = 1; i < lines.size(); ++i) {
    for (const char* key : {"episode_id", "suite", "task_id", "init_state", "seed", "success", "steps",
                            "end_reason", "wall_time_s"}) {
      CHECK_MESSAGE(lines[i].contains(key), key);
    }
    CHECK(lines[i]["init_state"] == int(i - 1));
  }
  std::ifstream summary_file(dir / "summary.json");
  const auto summary = nlohmann::json::parse(summary_file);
  CHECK(summary["context"]["policy"] == "scripted");
  REQUIRE(summary["tasks"].size() == 1);
  for (const char* key : {"episodes", "successes", "success_rate", "ci95"}) {
    CHECK_MESSAGE(summary["tasks"][0].contains(key), key);
    CHECK_MESSAGE(summary["suites"][0].contains(key), key);
  }
  CHECK(summary["suites"][0]["episodes"] == 2);
  CHECK(summary["tasks"][0]["ci95"].size() == 2);

  // Same command again: nothing to run, nothing appended, same summary counts.
  const Output second = run("eval --suite libero_spatial --tasks 0 --policy scripted --episodes-per-task 2 "
                            "--seed 7 --quiet --out " + dir.string());
  REQUIRE(second.status == 0);
  CHECK(second.text.find("ran 0 episodes (2 already recorded)") != std::string::npos);
  CHECK(read_lines((dir / "episodes.jsonl").string()).size() == 3);
}

TEST_CASE("cli: unknown suite, task and policy names print the valid ones") {
  const Output suite = run("eval --suite no_such_suite --policy zero --out /tmp/vla_unused");
  CHECK(suite.status != 0);
  CHECK(suite.text.find("libero_spatial") != std::string::npos);
  const Output task = run("eval --suite libero_spatial --tasks 99 --policy zero --out /tmp/vla_unused");
  CHECK(task.status != 0);
  CHECK(task.text.find("valid: 0..") != std::string::npos);
  const Output policy = run("eval --policy no_such_policy --out /tmp/vla_unused");
  CHECK(policy.status != 0);
  CHECK(policy.text.find("scripted") != std::string::npos);
  CHECK(policy.text.find("zero") != std::string::npos);
}

TEST_CASE("cli render: writes a PNG of the task") {
  const auto path = std::filesystem::temp_directory_path() / "vla_harness_render.png";
  std::filesystem::remove(path);
  const Output output = run("render --task libero_spatial/0 --camera agentview --size 96 --out " + path.string());
  INFO(output.text);
  REQUIRE(output.status == 0);
  std::ifstream in(path, std::ios::binary);
  std::array<unsigned char, 8> magic{};
  in.read(reinterpret_cast<char*>(magic.data()), 8);
  CHECK(magic == std::array<unsigned char, 8>{0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a});
  CHECK(std::filesystem::file_size(path) > 1000);
}

TEST_CASE("cli eval: results do not depend on the number of workers") {
  auto run_with = [](int workers) {
    const auto dir = std::filesystem::temp_directory_path() /
                     ("vla_harness_cli_workers_" + std::to_string(workers));
    std::filesystem::remove_all(dir);
    const Output output = run("eval --suite libero_spatial --tasks 0 --policy scripted --episodes-per-task 4 "
                              "--quiet --workers " + std::to_string(workers) + " --out " + dir.string());
    INFO(output.text);
    REQUIRE(output.status == 0);
    std::map<std::string, std::pair<bool, int>> outcome;
    for (const auto& line : read_lines((dir / "episodes.jsonl").string())) {
      if (line.contains("episode_id")) {
        outcome[line["episode_id"]] = {line["success"].get<bool>(), line["steps"].get<int>()};
      }
    }
    return outcome;
  };
  const auto one = run_with(1);
  const auto two = run_with(2);
  CHECK(one.size() == 4);
  CHECK(one == two);
}
