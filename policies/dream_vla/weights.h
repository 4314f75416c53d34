// Tensors from safetensors views, and a loader that hands them out by
// published name with shape checks. Includes libtorch: only torch code may
// include this header.
#pragma once

#include <torch/torch.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "policies/dream_vla/safetensors.h"

namespace policies::dream_vla {

torch::ScalarType to_scalar_type(DType dtype);
// Throws for torch types that safetensors files here do not hold.
DType to_dtype(torch::ScalarType type);

// Copies a view into a new tensor on `device`. Floating views (F64, F32, F16,
// BF16) are converted to `run_dtype`; integer and bool views keep their type.
torch::Tensor to_tensor(const TensorView& view, torch::ScalarType run_dtype, torch::Device device);

// Hands out a store's tensors by published name, checks their shapes and
// records which were used. Sub-loaders made with sub() share that record.
// The store must outlive every loader made from it.
class WeightLoader {
 public:
  WeightLoader(const WeightStore& store, torch::ScalarType dtype, torch::Device device,
               std::string prefix = "");

  // The tensor prefix + name in the run dtype on the device. Entries of -1 in
  // `expected_shape` match any size. Throws "missing tensor X" or
  // "tensor X: expected shape [a, b], found [c, d]" (with the checkpoint path).
  torch::Tensor get(const std::string& name, std::vector<int64_t> expected_shape);
  bool has(const std::string& name) const;
  // A loader for names under prefix + name + ".".
  WeightLoader sub(const std::string& name) const;
  // Names under this loader's prefix that no loader sharing the record has
  // fetched (for a strict-load report). Sorted.
  std::vector<std::string> unused() const;

  // Training: every tensor get() hands out from now on requires grad and is
  // recorded in `parameters` under its full name (shared with sub-loaders).
  void collect_parameters(std::shared_ptr<std::map<std::string, torch::Tensor>> parameters) {
    parameters_ = std::move(parameters);
  }

  const std::string& prefix() const { return prefix_; }
  torch::ScalarType dtype() const { return dtype_; }
  torch::Device device() const { return device_; }

 private:
  const WeightStore* store_;
  torch::ScalarType dtype_;
  torch::Device device_;
  std::string prefix_;
  std::shared_ptr<std::set<std::string>> used_;
  std::shared_ptr<std::map<std::string, torch::Tensor>> parameters_;  // null: inference
};

// Views over contiguous CPU tensors, for write_safetensors. The tensors must
// stay alive while the views are used; throws for other tensors.
std::vector<TensorView> views_of(const std::map<std::string, torch::Tensor>& tensors);

}  // namespace policies::dream_vla
