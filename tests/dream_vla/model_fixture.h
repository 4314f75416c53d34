// Shared helpers of the Dream-VLA model tests: fixture tensors and differences.
#pragma once

#include "torch_doctest.h"  // first: libtorch's CHECK macros give way to doctest's

#include <string>

#include "policies/dream_vla/safetensors.h"
#include "policies/dream_vla/weights.h"

namespace dream_vla_test {

inline std::string fixture_path(const std::string& file) {
  return std::string(VLA_TEST_DATA_DIR) + "/dream_tiny/" + file;
}

// A fixture file and its tensors (floats as float32, integers as int64, CPU).
struct Fixture {
  explicit Fixture(const std::string& file)
      : store(policies::dream_vla::WeightStore::open(fixture_path(file))) {}

  torch::Tensor get(const std::string& name) const {
    const policies::dream_vla::TensorView* view = store.find(name);
    REQUIRE_MESSAGE(view != nullptr, "fixture tensor " << name << " missing");
    return policies::dream_vla::to_tensor(*view, torch::kFloat, torch::kCPU);
  }

  policies::dream_vla::WeightStore store;
};

inline double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  REQUIRE_MESSAGE(a.sizes() == b.sizes(), "shape " << a.sizes() << " vs " << b.sizes());
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

// max over elements of |a - ref| - rtol |ref| (<= atol passes |a-ref| <= atol + rtol |ref|).
inline double excess_diff(const torch::Tensor& a, const torch::Tensor& ref, double rtol) {
  REQUIRE_MESSAGE(a.sizes() == ref.sizes(), "shape " << a.sizes() << " vs " << ref.sizes());
  auto a64 = a.to(torch::kDouble), r64 = ref.to(torch::kDouble);
  return ((a64 - r64).abs() - rtol * r64.abs()).max().item<double>();
}

inline bool equal_tokens(const torch::Tensor& a, const torch::Tensor& b) {
  return a.sizes() == b.sizes() && a.to(torch::kLong).eq(b.to(torch::kLong)).all().item<bool>();
}

}  // namespace dream_vla_test
