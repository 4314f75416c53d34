// MMRV and Pearson against values worked out by hand, the rate files, and the
// report command.
#include "harness/sim_real.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include "test_util.h"

namespace {

std::string write_file(const std::string& name, const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() / name;
  std::ofstream(path) << text;
  return path.string();
}

std::string run(const std::string& arguments) {
  const std::string command = std::string(VLA_BINARY) + " " + arguments + " 2>&1";
  return test_util::run_command(command).text;
}

}  // namespace

TEST_CASE("sim-real: MMRV is zero for the same order and weighs violations by the real gap") {
  CHECK(harness::mmrv({0.1, 0.5, 0.9}, {0.2, 0.3, 0.8}) == doctest::Approx(0));
  // sim swaps policies 0 and 1; real gap |0.2 - 0.6| = 0.4 counts for both of them:
  // (0.4 + 0.4 + 0) / 3.
  CHECK(harness::mmrv({0.5, 0.1, 0.9}, {0.2, 0.6, 0.8}) == doctest::Approx(0.8 / 3));
  // Fully reversed: each policy's worst violation is its largest real gap:
  // policy 0 (0.1): 0.8; policy 1 (0.5): 0.4; policy 2 (0.9): 0.8 -> 2.0 / 3.
  CHECK(harness::mmrv({0.9, 0.5, 0.1}, {0.1, 0.5, 0.9}) == doctest::Approx(2.0 / 3));
  // Asymmetric: the violated pair is weighed by the second argument's gap.
  CHECK(harness::mmrv({0.1, 0.2}, {0.5, 0.1}) == doctest::Approx(0.4));
  CHECK(harness::mmrv({0.5, 0.1}, {0.1, 0.2}) == doctest::Approx(0.1));
  CHECK_THROWS_AS(harness::mmrv({0.1}, {0.2}), std::invalid_argument);
  CHECK_THROWS_AS(harness::mmrv({0.1, 0.2}, {0.2}), std::invalid_argument);
}

TEST_CASE("sim-real: Pearson against hand-computed values") {
  CHECK(harness::pearson({1, 2, 3}, {2, 4, 6}) == doctest::Approx(1));
  CHECK(harness::pearson({1, 2, 3}, {3, 2, 1}) == doctest::Approx(-1));
  // x = (1, 2, 3, 4), y = (1, 3, 2, 4): sxy = 4, sxx = syy = 5 -> 0.8.
  CHECK(harness::pearson({1, 2, 3, 4}, {1, 3, 2, 4}) == doctest::Approx(0.8));
  CHECK_THROWS_AS(harness::pearson({1, 1, 1}, {1, 2, 3}), std::invalid_argument);
}

TEST_CASE("sim-real: rate files, per task or not, fractions or percents, bad files named") {
  const auto flat = harness::load_policy_rates(write_file("vla_rates_flat.json", R"({"a": 50, "b": 25.5})"));
  REQUIRE(flat.count(""));
  CHECK(flat.at("").at("a") == doctest::Approx(0.5));
  CHECK(flat.at("").at("b") == doctest::Approx(0.255));
  const auto per_task = harness::load_policy_rates(
      write_file("vla_rates_tasks.json", R"({"coke": {"a": 0.5, "b": 0.7}, "drawer": {"a": 0.1}})"));
  CHECK(per_task.at("coke").at("b") == doctest::Approx(0.7));
  const std::string bad = write_file("vla_rates_bad.json", R"({"a": "high"})");
  CHECK_THROWS_WITH_AS(harness::load_policy_rates(bad), doctest::Contains("vla_rates_bad.json"),
                       std::runtime_error);
  CHECK_THROWS_WITH_AS(harness::load_policy_rates("/nonexistent/rates.json"),
                       doctest::Contains("cannot open"), std::runtime_error);
  // Tasks with fewer than two shared policies are skipped; none left is an error.
  const auto comparisons = harness::compare_sim_real(per_task, per_task);
  REQUIRE(comparisons.size() == 1);
  CHECK(comparisons[0].task == "coke");
  CHECK(comparisons[0].mmrv == doctest::Approx(0));
  CHECK_THROWS_AS(harness::compare_sim_real(flat, per_task), std::runtime_error);
}

TEST_CASE("sim-real: the report command prints MMRV and Pearson per task") {
  const std::string sim =
      write_file("vla_sim.json", R"({"coke": {"a": 0.5, "b": 0.1, "c": 0.9}, "near": {"a": 0.2, "b": 0.4}})");
  const std::string real =
      write_file("vla_real.json", R"({"coke": {"a": 0.2, "b": 0.6, "c": 0.8}, "near": {"a": 0.1, "b": 0.3}})");
  const std::string output = run("report --sim " + sim + " --real " + real);
  INFO(output);
  CHECK(output.find("coke") != std::string::npos);
  CHECK(output.find("0.267") != std::string::npos);  // MMRV of coke: 0.8 / 3
  CHECK(output.find("mean over tasks") != std::string::npos);
  CHECK(run("report --real " + real).find("exactly one of --sim") != std::string::npos);
}
