#include "policies/dream_vla/weights.h"

#include <cstring>
#include <stdexcept>

namespace policies::dream_vla {

torch::ScalarType to_scalar_type(DType dtype) {
  switch (dtype) {
    case DType::F64:
      return torch::kFloat64;
    case DType::F32:
      return torch::kFloat32;
    case DType::F16:
      return torch::kFloat16;
    case DType::BF16:
      return torch::kBFloat16;
    case DType::I64:
      return torch::kInt64;
    case DType::I32:
      return torch::kInt32;
    case DType::I16:
      return torch::kInt16;
    case DType::I8:
      return torch::kInt8;
    case DType::U8:
      return torch::kUInt8;
    case DType::BOOL:
      return torch::kBool;
  }
  throw std::logic_error("unhandled DType");
}

DType to_dtype(torch::ScalarType type) {
  switch (type) {
    case torch::kFloat64:
      return DType::F64;
    case torch::kFloat32:
      return DType::F32;
    case torch::kFloat16:
      return DType::F16;
    case torch::kBFloat16:
      return DType::BF16;
    case torch::kInt64:
      return DType::I64;
    case torch::kInt32:
      return DType::I32;
    case torch::kInt16:
      return DType::I16;
    case torch::kInt8:
      return DType::I8;
    case torch::kUInt8:
      return DType::U8;
    case torch::kBool:
      return DType::BOOL;
    default:
      throw std::runtime_error(std::string("tensor dtype ") + c10::toString(type) +
                               " has no safetensors equivalent here");
  }
}

torch::Tensor to_tensor(const TensorView& view, torch::ScalarType run_dtype, torch::Device device) {
  const torch::ScalarType stored = to_scalar_type(view.dtype);
  const bool floating = view.dtype == DType::F64 || view.dtype == DType::F32 ||
                        view.dtype == DType::F16 || view.dtype == DType::BF16;
  const torch::ScalarType target = floating ? run_dtype : stored;
  if (element_count(view.shape) * static_cast<int64_t>(dtype_size(view.dtype)) !=
      static_cast<int64_t>(view.nbytes)) {
    throw std::runtime_error("tensor " + view.name + ": " + std::to_string(view.nbytes) +
                             " bytes for shape " + shape_string(view.shape));
  }
  // Aligned data: convert straight from the mapping (always copying, never aliasing it).
  if (reinterpret_cast<uintptr_t>(view.data) % dtype_size(view.dtype) == 0 && view.nbytes > 0) {
    const torch::Tensor mapped = torch::from_blob(const_cast<uint8_t*>(view.data), view.shape,
                                                  torch::TensorOptions().dtype(stored));
    return mapped.to(device, target, /*non_blocking=*/false, /*copy=*/true);
  }
  // Unaligned data: copy the bytes first.
  torch::Tensor tensor = torch::empty(view.shape, torch::TensorOptions().dtype(stored));
  if (view.nbytes > 0) std::memcpy(tensor.data_ptr(), view.data, view.nbytes);
  return tensor.to(device, target);
}

WeightLoader::WeightLoader(const WeightStore& store, torch::ScalarType dtype, torch::Device device,
                           std::string prefix)
    : store_(&store),
      dtype_(dtype),
      device_(device),
      prefix_(std::move(prefix)),
      used_(std::make_shared<std::set<std::string>>()) {}

torch::Tensor WeightLoader::get(const std::string& name, std::vector<int64_t> expected_shape) {
  const std::string full_name = prefix_ + name;
  const TensorView* view = store_->find(full_name);
  if (view == nullptr)
    throw std::runtime_error("missing tensor " + full_name + " in checkpoint " + store_->source());
  bool matches = view->shape.size() == expected_shape.size();
  for (size_t i = 0; matches && i < expected_shape.size(); ++i) {
    matches = expected_shape[i] == -1 || expected_shape[i] == view->shape[i];
  }
  if (!matches) {
    throw std::runtime_error("tensor " + full_name + ": expected shape " +
                             shape_string(expected_shape) + ", found " + shape_string(view->shape) +
                             " (in " + store_->file_of(full_name) + ")");
  }
  used_->insert(full_name);
  torch::Tensor tensor = to_tensor(*view, dtype_, device_);
  if (parameters_ != nullptr) {
    tensor.requires_grad_(true);
    parameters_->insert_or_assign(full_name, tensor);
  }
  return tensor;
}

bool WeightLoader::has(const std::string& name) const {
  return store_->find(prefix_ + name) != nullptr;
}

WeightLoader WeightLoader::sub(const std::string& name) const {
  WeightLoader child = *this;
  child.prefix_ = prefix_ + name + ".";
  return child;
}

std::vector<std::string> WeightLoader::unused() const {
  std::vector<std::string> names;
  for (const std::string& name : store_->names()) {
    if (name.compare(0, prefix_.size(), prefix_) == 0 && used_->count(name) == 0)
      names.push_back(name);
  }
  return names;
}

std::vector<TensorView> views_of(const std::map<std::string, torch::Tensor>& tensors) {
  std::vector<TensorView> views;
  views.reserve(tensors.size());
  for (const auto& [name, tensor] : tensors) {
    if (!tensor.device().is_cpu() || !tensor.is_contiguous()) {
      throw std::runtime_error("views_of: tensor " + name + " must be a contiguous CPU tensor");
    }
    TensorView view;
    view.name = name;
    view.dtype = to_dtype(tensor.scalar_type());
    view.shape = tensor.sizes().vec();
    view.data = static_cast<const uint8_t*>(tensor.data_ptr());
    view.nbytes = static_cast<size_t>(tensor.nbytes());
    views.push_back(std::move(view));
  }
  return views;
}

}  // namespace policies::dream_vla
