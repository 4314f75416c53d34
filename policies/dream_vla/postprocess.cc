#include "policies/dream_vla/postprocess.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace policies::dream_vla {

namespace {

constexpr double kEpsilon = 1e-8;  // added to every range, as in the reference

const std::vector<double>& lower_bound(const NormStats& stats, Normalization normalization) {
  return normalization == Normalization::kBoundsQ99 ? stats.q01 : stats.min;
}

const std::vector<double>& upper_bound(const NormStats& stats, Normalization normalization) {
  return normalization == Normalization::kBoundsQ99 ? stats.q99 : stats.max;
}

void check_bounds(const NormStats& stats, Normalization normalization, size_t dims,
                  const char* what) {
  const size_t lower = lower_bound(stats, normalization).size();
  const size_t upper = upper_bound(stats, normalization).size();
  if (lower != dims || upper != dims || (!stats.mask.empty() && stats.mask.size() != dims)) {
    throw std::runtime_error(std::string(what) + ": statistics have " + std::to_string(lower) +
                             " dimensions, values have " + std::to_string(dims));
  }
}

NormStats parse_stats(const nlohmann::json& json, const std::string& where, bool required) {
  NormStats stats;
  if (!json.is_object()) throw std::runtime_error(where + " is not a JSON object");
  auto read = [&](const char* key, std::vector<double>& target, bool needed) {
    if (!json.contains(key)) {
      if (needed) throw std::runtime_error(where + " lacks \"" + key + "\"");
      return;
    }
    const nlohmann::json& values = json[key];
    if (!values.is_array()) throw std::runtime_error(where + "." + key + " is not an array");
    for (const auto& value : values) {
      if (!value.is_number()) throw std::runtime_error(where + "." + key + " holds a non-number");
      target.push_back(value.get<double>());
    }
  };
  read("q01", stats.q01, required);
  read("q99", stats.q99, required);
  read("min", stats.min, false);
  read("max", stats.max, false);
  read("mean", stats.mean, false);
  read("std", stats.std, false);
  if (json.contains("mask")) {
    if (!json["mask"].is_array()) throw std::runtime_error(where + ".mask is not an array");
    for (const auto& value : json["mask"]) {
      if (!value.is_boolean()) throw std::runtime_error(where + ".mask holds a non-boolean");
      stats.mask.push_back(value.get<bool>());
    }
  }
  const size_t dims = stats.q01.size();
  for (const auto* field : {&stats.q99, &stats.min, &stats.max, &stats.mean, &stats.std}) {
    if (!field->empty() && field->size() != dims)
      throw std::runtime_error(where + ": fields differ in length");
  }
  if (!stats.mask.empty() && stats.mask.size() != dims)
    throw std::runtime_error(where + ".mask differs in length");
  return stats;
}

}  // namespace

std::map<std::string, DatasetStatistics> load_dataset_statistics(const std::string& path) {
  std::ifstream stream(path);
  if (!stream) throw std::runtime_error("dataset statistics " + path + ": cannot open");
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(stream);
  } catch (const nlohmann::json::exception& error) {
    throw std::runtime_error("dataset statistics " + path + ": not valid JSON: " + error.what());
  }
  if (!json.is_object() || json.empty()) {
    throw std::runtime_error("dataset statistics " + path + ": expected an object of datasets");
  }
  std::map<std::string, DatasetStatistics> result;
  for (const auto& [name, entry] : json.items()) {
    const std::string where = "dataset statistics " + path + ": " + name;
    if (!entry.is_object() || !entry.contains("action"))
      throw std::runtime_error(where + " lacks \"action\"");
    DatasetStatistics statistics;
    statistics.action = parse_stats(entry["action"], where + ".action", true);
    if (entry.contains("proprio"))
      statistics.proprio = parse_stats(entry["proprio"], where + ".proprio", false);
    for (const auto& [key, target] :
         {std::pair{"num_transitions", &statistics.num_transitions},
          std::pair{"num_trajectories", &statistics.num_trajectories}}) {
      if (!entry.contains(key)) continue;
      const nlohmann::json& value = entry[key];
      // Written from numpy; may be an integer or a one-element list.
      if (value.is_number_integer()) {
        *target = value.get<int64_t>();
      } else if (value.is_array() && value.size() == 1 && value[0].is_number_integer()) {
        *target = value[0].get<int64_t>();
      } else {
        throw std::runtime_error(where + "." + key + " is not an integer");
      }
    }
    result.emplace(name, std::move(statistics));
  }
  return result;
}

const DatasetStatistics& select_statistics(
    const std::map<std::string, DatasetStatistics>& statistics, const std::string& key) {
  auto it = statistics.find(key);
  if (it == statistics.end()) it = statistics.find(key + "_no_noops");
  if (it != statistics.end()) return it->second;
  std::string available;
  for (const auto& entry : statistics) available += (available.empty() ? "" : ", ") + entry.first;
  throw std::runtime_error("dataset statistics: no entry \"" + key + "\" (or \"" + key +
                           "_no_noops\"); available: " + available);
}

void postprocess_actions(std::span<const float> normalized, const NormStats& stats,
                         Normalization normalization, const GripperConvention& gripper,
                         std::vector<envs::Action>& out) {
  constexpr size_t kDims = std::tuple_size_v<envs::Action>;
  check_bounds(stats, normalization, kDims, "postprocess_actions");
  if (normalized.size() % kDims != 0) {
    throw std::runtime_error("postprocess_actions: " + std::to_string(normalized.size()) +
                             " values are not a whole number of 7-dim actions");
  }
  if (gripper.index < 0 || gripper.index >= static_cast<int>(kDims)) {
    throw std::runtime_error("postprocess_actions: gripper index out of range");
  }
  const std::vector<double>& lower = lower_bound(stats, normalization);
  const std::vector<double>& upper = upper_bound(stats, normalization);
  out.resize(normalized.size() / kDims);
  for (size_t step = 0; step < out.size(); ++step) {
    for (size_t d = 0; d < kDims; ++d) {
      const double x = normalized[step * kDims + d];
      const double value =
          stats.normalized(d) ? 0.5 * (x + 1.0) * (upper[d] - lower[d] + kEpsilon) + lower[d] : x;
      out[step][d] = static_cast<float>(value);
    }
    float& g = out[step][gripper.index];
    if (gripper.binarize) {
      const float centered = 2.0f * g - 1.0f;
      g = centered > 0 ? 1.0f : centered < 0 ? -1.0f : 0.0f;
    }
    if (gripper.invert) g = -g;
  }
}

void normalize_proprio(std::span<const float> state, const NormStats& stats,
                       Normalization normalization, std::span<float> out) {
  check_bounds(stats, normalization, state.size(), "normalize_proprio");
  if (out.size() != state.size())
    throw std::runtime_error("normalize_proprio: output size differs from the state");
  const std::vector<double>& lower = lower_bound(stats, normalization);
  const std::vector<double>& upper = upper_bound(stats, normalization);
  for (size_t d = 0; d < state.size(); ++d) {
    if (!stats.normalized(d)) {
      out[d] = state[d];
      continue;
    }
    const double value = 2.0 * (state[d] - lower[d]) / (upper[d] - lower[d] + kEpsilon) - 1.0;
    out[d] = static_cast<float>(std::clamp(value, -1.0, 1.0));
  }
}

}  // namespace policies::dream_vla
