// How well simulated success rates rank policies as a reference (real-robot)
// evaluation does: SimplerEnv's mean maximum rank violation (MMRV) and the
// Pearson correlation of per-policy success rates.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace harness {

// MMRV(sim, real) = mean over policies i of max over policies j of
// |real_i - real_j|, taken over the pairs (i, j) that sim orders differently
// from real ((sim_i < sim_j) != (real_i < real_j)); 0 when sim ranks like
// real. Asymmetric: violations are weighed by the reference's gaps. Throws
// std::invalid_argument for sizes that differ or fewer than two policies.
double mmrv(const std::vector<double>& sim, const std::vector<double>& real);

// Pearson correlation coefficient. Throws std::invalid_argument for sizes
// that differ, fewer than two values, or a constant series (undefined).
double pearson(const std::vector<double>& x, const std::vector<double>& y);

// Per-policy success rates (0..1), by policy name.
using PolicyRates = std::map<std::string, double>;

// Rates from a JSON file: {"policy": rate, ...}, or per task
// {"task": {"policy": rate, ...}, ...}. Rates may be fractions or percents
// (any value > 1 in the file means percents). Throws std::runtime_error naming
// the file and the problem.
std::map<std::string, PolicyRates> load_policy_rates(const std::string& path);

// A run directory's suite success rate (summary.json's first suite row).
double run_success_rate(const std::string& run_directory);

struct SimRealComparison {
  std::string task;                   // "" for a file without tasks
  std::vector<std::string> policies;  // the policies both sides have, sorted
  double mmrv = 0, pearson = 0;
};

// One comparison per task both sides have (the policies they share; at least
// two); throws std::runtime_error when nothing can be compared.
std::vector<SimRealComparison> compare_sim_real(const std::map<std::string, PolicyRates>& sim,
                                                const std::map<std::string, PolicyRates>& real);

}  // namespace harness
