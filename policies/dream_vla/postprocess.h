// Dataset statistics (dataset_statistics.json), action un-normalisation,
// proprio normalisation and the LIBERO gripper convention (spec section 7).
// Free of libtorch.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "envs/types.h"

namespace policies::dream_vla {

// How values map to [-1, 1].
enum class Normalization {
  kBoundsQ99,  // q01 / q99 (LIBERO, Bridge, Fractal)
  kBounds,     // min / max (ALOHA)
};

// Per-dimension statistics of one quantity (actions or proprio).
struct NormStats {
  std::vector<double> mean, std, min, max, q01, q99;  // one entry per dimension
  std::vector<bool> mask;                             // true: normalised; empty: all dimensions
  size_t dimensions() const { return q01.size(); }
  bool normalized(size_t dimension) const { return mask.empty() || mask[dimension]; }
};

struct DatasetStatistics {
  NormStats action;
  NormStats proprio;  // empty vectors if the file has none
  int64_t num_transitions = 0;
  int64_t num_trajectories = 0;
};

// All datasets of a dataset_statistics.json, by name. Throws
// std::runtime_error naming the file, dataset and field on malformed input.
std::map<std::string, DatasetStatistics> load_dataset_statistics(const std::string& path);

// The statistics for `key`, else for `key` + "_no_noops" (the LIBERO suites);
// throws listing the available keys.
const DatasetStatistics& select_statistics(
    const std::map<std::string, DatasetStatistics>& statistics, const std::string& key);

// LIBERO gripper handling of the policy output (spec 7.3).
struct GripperConvention {
  int index = 6;         // gripper dimension in the action
  bool binarize = true;  // g -> sign(2 g - 1): [0, 1] -> {-1, 0, +1}
  bool invert = true;    // g -> -g (dataset 1 = open; env +1 = close)
};

// Un-normalises `normalized` (chunk x dims, row-major) in float64 arithmetic:
// masked dims 0.5 (x + 1) (hi - lo + 1e-8) + lo, others unchanged; no clipping.
// Then applies `gripper` and writes one envs::Action per chunk step into `out`
// (resized; dims must equal 7). Throws on a dimension mismatch.
void postprocess_actions(std::span<const float> normalized, const NormStats& stats,
                         Normalization normalization, const GripperConvention& gripper,
                         std::vector<envs::Action>& out);

// Normalises a proprio state into `out` (same size):
// clip(2 (s - lo) / (hi - lo + 1e-8) - 1, -1, 1) on normalised dims.
void normalize_proprio(std::span<const float> state, const NormStats& stats,
                       Normalization normalization, std::span<float> out);

}  // namespace policies::dream_vla
