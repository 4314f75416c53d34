// The embedded Dream-VLA inside the harness: a random-initialised tiny
// checkpoint runs LIBERO episodes through `eval`, and answers an independent
// openpi client through `serve` (camera names, image sizes and chunking must
// agree across env, policy and wire format).
#include <doctest/doctest.h>

#include <unistd.h>

#ifdef VLA_WITH_TORCH

#include <array>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <thread>

#include <nlohmann/json.hpp>

#include "harness/registry.h"
#include "harness/serve.h"
#include "test_util.h"

namespace {

std::string run_command(const std::string& command, int* status) {
  const test_util::CommandOutput output = test_util::run_command(command + " 2>&1");
  *status = output.status;
  return output.text;
}

// A tiny random checkpoint, made once per test process with the CLI (ctest runs
// the test cases as parallel processes: each makes its own).
std::string tiny_checkpoint() {
  static const std::string dir = [] {
    const auto path = std::filesystem::temp_directory_path() /
                      ("vla_harness_integration_tiny_" + std::to_string(getpid()));
    std::filesystem::remove_all(path);
    int status = 0;
    const std::string output =
        run_command(std::string(VLA_BINARY) + " dream-vla init --config tiny --out " + path.string(), &status);
    INFO(output);
    REQUIRE(status == 0);
    return path.string();
  }();
  return dir;
}

}  // namespace

TEST_CASE("dream-vla in the harness: eval runs LIBERO episodes with both cameras, chunked") {
  const auto out = std::filesystem::temp_directory_path() /
                   ("vla_harness_integration_eval_" + std::to_string(getpid()));
  std::filesystem::remove_all(out);
  int status = 0;
  const std::string output = run_command(
      std::string(VLA_BINARY) + " eval --suite libero_spatial --tasks 0 --episodes-per-task 1 --quiet" +
          " --policy dream-vla:" + tiny_checkpoint() + ",steps=1 --out " + out.string(),
      &status);
  INFO(output);
  REQUIRE(status == 0);
  std::ifstream in(out / "episodes.jsonl");
  std::string header, line;
  std::getline(in, header);
  REQUIRE(std::getline(in, line));
  const auto episode = nlohmann::json::parse(line);
  CHECK(episode["end_reason"] != "error");
  CHECK(episode["steps"] == 220);
  // One query per 8-action chunk (220 steps -> 28 queries).
  CHECK(output.find("28 policy calls") != std::string::npos);
}

TEST_CASE("dream-vla in the harness: serve answers an independent openpi client") {
  auto policy = harness::make_policy("dream-vla:" + tiny_checkpoint() + ",steps=1");
  harness::ServeOptions options;
  options.port = 0;
  std::promise<int> listening;
  std::future<int> port_future = listening.get_future();
  options.on_listening = [&](int bound) { listening.set_value(bound); };
  std::atomic<bool> stop{false};
  std::thread server([&] { harness::serve(*policy, options, &stop); });
  REQUIRE(port_future.wait_for(std::chrono::seconds(20)) == std::future_status::ready);
  const int port = port_future.get();
  int status = 0;
  const std::string output = run_command(std::string("/usr/bin/python3 ") + VLA_SOURCE_DIR +
                                             "/tests/harness/openpi_client.py --port " +
                                             std::to_string(port) + " --requests 2",
                                         &status);
  stop = true;
  server.join();
  INFO(output);
  REQUIRE(status == 0);
  const auto reply = nlohmann::json::parse(output);
  CHECK(reply["metadata"]["chunk_length"] == 8);
  CHECK(reply["metadata"]["cameras"] == nlohmann::json({"agentview", "eye_in_hand"}));
  REQUIRE(reply["replies"].size() == 2);
  for (const auto& answer : reply["replies"]) {
    CHECK(answer["shape"] == nlohmann::json({8, 7}));
    CHECK(answer["dtype"] == "<f4");
  }
}

#endif  // VLA_WITH_TORCH
