#include "harness/sim_real.h"

#include <cmath>
#include <fstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace harness {

namespace {

void check_pair(const std::vector<double>& x, const std::vector<double>& y, const char* what) {
  if (x.size() != y.size()) {
    throw std::invalid_argument(std::string(what) + ": the two series differ in length (" +
                                std::to_string(x.size()) + " and " + std::to_string(y.size()) + ")");
  }
  if (x.size() < 2) throw std::invalid_argument(std::string(what) + ": needs at least two policies");
}

}  // namespace

double mmrv(const std::vector<double>& sim, const std::vector<double>& real) {
  check_pair(sim, real, "mmrv");
  const size_t n = sim.size();
  double total = 0;
  for (size_t i = 0; i < n; ++i) {
    double worst = 0;
    for (size_t j = 0; j < n; ++j) {
      if ((sim[i] < sim[j]) != (real[i] < real[j])) worst = std::max(worst, std::abs(real[i] - real[j]));
    }
    total += worst;
  }
  return total / double(n);
}

double pearson(const std::vector<double>& x, const std::vector<double>& y) {
  check_pair(x, y, "pearson");
  const double n = double(x.size());
  double mean_x = 0, mean_y = 0;
  for (size_t i = 0; i < x.size(); ++i) mean_x += x[i] / n, mean_y += y[i] / n;
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sxy += (x[i] - mean_x) * (y[i] - mean_y);
    sxx += (x[i] - mean_x) * (x[i] - mean_x);
    syy += (y[i] - mean_y) * (y[i] - mean_y);
  }
  if (sxx == 0 || syy == 0) {
    throw std::invalid_argument("pearson: a series is constant, the correlation is undefined");
  }
  return sxy / std::sqrt(sxx * syy);
}

std::map<std::string, PolicyRates> load_policy_rates(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open");
  nlohmann::json json;
  try {
    in >> json;
  } catch (const nlohmann::json::exception& error) {
    throw std::runtime_error(path + ": not JSON (" + error.what() + ")");
  }
  if (!json.is_object() || json.empty()) {
    throw std::runtime_error(path + ": expected an object {\"policy\": rate} or {\"task\": {\"policy\": rate}}");
  }
  std::map<std::string, PolicyRates> tasks;
  bool percents = false;
  auto read_rates = [&](const nlohmann::json& object, const std::string& task) {
    PolicyRates& rates = tasks[task];
    for (const auto& [policy, value] : object.items()) {
      if (!value.is_number()) {
        throw std::runtime_error(path + ": the rate of '" + policy + "'" +
                                 (task.empty() ? "" : " in task '" + task + "'") + " is not a number");
      }
      const double rate = value.get<double>();
      if (rate < 0 || rate > 100) {
        throw std::runtime_error(path + ": the rate of '" + policy + "' is outside 0..100");
      }
      percents = percents || rate > 1;
      rates[policy] = rate;
    }
  };
  const bool per_task = json.begin()->is_object();
  for (const auto& [key, value] : json.items()) {
    if (value.is_object() != per_task) {
      throw std::runtime_error(path + ": mixes per-task objects and plain rates at the top level");
    }
    if (per_task) {
      read_rates(value, key);
    }
  }
  if (!per_task) read_rates(json, "");
  if (percents) {
    for (auto& [task, rates] : tasks) {
      for (auto& [policy, rate] : rates) rate /= 100;
    }
  }
  return tasks;
}

double run_success_rate(const std::string& run_directory) {
  const std::string path = run_directory + "/summary.json";
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open (is " + run_directory + " a run directory?)");
  try {
    nlohmann::json json;
    in >> json;
    return json.at("suites").at(0).at("success_rate").get<double>();
  } catch (const nlohmann::json::exception& error) {
    throw std::runtime_error(path + ": no suite success rate (" + error.what() + ")");
  }
}

std::vector<SimRealComparison> compare_sim_real(const std::map<std::string, PolicyRates>& sim,
                                                const std::map<std::string, PolicyRates>& real) {
  std::vector<SimRealComparison> comparisons;
  for (const auto& [task, sim_rates] : sim) {
    const auto real_task = real.find(task);
    if (real_task == real.end()) continue;
    SimRealComparison comparison;
    comparison.task = task;
    std::vector<double> x, y;
    for (const auto& [policy, rate] : sim_rates) {
      const auto other = real_task->second.find(policy);
      if (other == real_task->second.end()) continue;
      comparison.policies.push_back(policy);
      x.push_back(rate);
      y.push_back(other->second);
    }
    if (x.size() < 2) continue;
    comparison.mmrv = mmrv(x, y);
    try {
      comparison.pearson = pearson(x, y);
    } catch (const std::invalid_argument&) {
      comparison.pearson = NAN;  // a constant series: undefined
    }
    comparisons.push_back(comparison);
  }
  if (comparisons.empty()) {
    throw std::runtime_error("sim and real share no task with at least two common policies");
  }
  return comparisons;
}

}  // namespace harness
