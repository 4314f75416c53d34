// vla-harness bench with tiny settings: every figure present, positive and
// finite (no timing assertions), through the library and the command line.
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "harness/bench.h"
#include "test_util.h"

namespace {

struct Output {
  int status;
  std::string text;
};

Output run_program(const std::string& arguments, bool with_stderr) {
  const std::string command =
      std::string(VLA_BINARY) + " " + arguments + (with_stderr ? " 2>&1" : " 2>/dev/null");
  const test_util::CommandOutput output = test_util::run_command(command);
  return {output.status, output.text};
}

bool positive_finite(double value) { return std::isfinite(value) && value > 0; }

const char* const kRates[] = {"bare_obs_per_s",           "harness_obs_per_s",
                              "harness_ratio",            "bare_one_thread_obs_per_s",
                              "bare_n_threads_obs_per_s", "bare_speedup",
                              "bare_n_processes_obs_per_s", "bare_process_speedup",
                              "one_worker_obs_per_s",     "n_worker_obs_per_s",
                              "speedup",                  "n_process_obs_per_s",
                              "process_speedup",          "obs_per_s_per_core"};

}  // namespace

TEST_CASE("run_bench measures every figure on a LIBERO-style scene") {
  harness::BenchSettings settings;
  settings.steps = 3;
  settings.repeats = 1;
  settings.image_size = 32;
  settings.program = VLA_BINARY;  // the process ceiling runs copies of the program
  const harness::BenchFigures figures = harness::run_bench(settings);
  // Two episodes of (3 wait + 3 policy) steps each, bare and through the harness.
  CHECK(figures.bare_observations == 12);
  CHECK(figures.harness_observations == 12);
  CHECK(figures.plan_episodes == 4);
  CHECK(figures.cores >= 1);
  const nlohmann::json json = harness::bench_to_json(figures);
  for (const char* key : kRates) {
    INFO(key);
    CHECK(positive_finite(json.at(key).get<double>()));
  }
  CHECK(figures.harness_ratio == doctest::Approx(figures.harness_obs_per_s / figures.bare_obs_per_s));
  CHECK(figures.speedup == doctest::Approx(figures.n_worker_obs_per_s / figures.one_worker_obs_per_s));
  CHECK(figures.bare_speedup ==
        doctest::Approx(figures.bare_n_threads_obs_per_s / figures.bare_one_thread_obs_per_s));
  CHECK(figures.harness_target_met == (figures.harness_ratio >= 0.9));
  CHECK(figures.speedup_target_met == (figures.speedup >= 1.8));
  CHECK(figures.process_speedup ==
        doctest::Approx(figures.n_process_obs_per_s / figures.one_worker_obs_per_s));
  CHECK(figures.process_speedup_target_met == (figures.process_speedup >= 1.8));
  CHECK(figures.per_core_target_met == (figures.obs_per_s_per_core >= 100));
  const std::string table = harness::format_bench(figures);
  CHECK(table.find("bare loop") != std::string::npos);
  CHECK(table.find("speed-up") != std::string::npos);
  CHECK(table.find("per core") != std::string::npos);
  CHECK(table.find("bare loop, 2 threads") != std::string::npos);
  CHECK(table.find("bare loop, 2 processes") != std::string::npos);
  CHECK(table.find("run_plan, 2 processes x 1 worker") != std::string::npos);
  CHECK(figures.bare_process_speedup ==
        doctest::Approx(figures.bare_n_processes_obs_per_s / figures.bare_one_thread_obs_per_s));
}

TEST_CASE("vla-harness bench --json prints every figure and target") {
  const Output output =
      run_program("bench --steps 2 --repeats 1 --image-size 32 --workers 2 --json", false);
  REQUIRE(output.status == 0);
  REQUIRE(nlohmann::json::accept(output.text));
  const nlohmann::json json = nlohmann::json::parse(output.text);
  CHECK(json.at("settings").at("task") == "libero_spatial/0");
  CHECK(json.at("settings").at("workers") == 2);
  CHECK(json.at("settings").at("image_size") == 32);
  for (const char* key : kRates) {
    INFO(key);
    CHECK(positive_finite(json.at(key).get<double>()));
  }
  for (const char* key :
       {"harness_ratio_met", "speedup_met", "process_speedup_met", "obs_per_s_per_core_met"}) {
    INFO(key);
    CHECK(json.at("targets").at(key).is_boolean());
  }
}

TEST_CASE("vla-harness bench refuses bad settings with one clear error") {
  const Output steps = run_program("bench --steps 0", true);
  CHECK(steps.status == 1);
  CHECK(steps.text.find("--steps must be within 1..") != std::string::npos);
  const Output task = run_program("bench --task no_such_suite/0 --steps 1", true);
  CHECK(task.status == 1);
  CHECK(task.text.find("no_such_suite") != std::string::npos);
}
