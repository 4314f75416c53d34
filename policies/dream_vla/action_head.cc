#include "policies/dream_vla/action_head.h"

#include <c10/util/BFloat16.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "policies/dream_vla/lm.h"

namespace policies::dream_vla {

MlpResNet::MlpResNet(int blocks, int64_t input_dim, int64_t hidden_dim, int64_t output_dim,
                     double layer_norm_eps, WeightLoader loader)
    : eps_(layer_norm_eps), input_dim_(input_dim), hidden_dim_(hidden_dim) {
  norm1_weight_ = loader.get("layer_norm1.weight", {input_dim});
  norm1_bias_ = loader.get("layer_norm1.bias", {input_dim});
  fc1_weight_ = loader.get("fc1.weight", {hidden_dim, input_dim});
  fc1_bias_ = loader.get("fc1.bias", {hidden_dim});
  for (int i = 0; i < blocks; ++i) {
    WeightLoader w = loader.sub("mlp_resnet_blocks." + std::to_string(i));
    Block block;
    block.norm_weight = w.get("ffn.0.weight", {hidden_dim});
    block.norm_bias = w.get("ffn.0.bias", {hidden_dim});
    block.weight = w.get("ffn.1.weight", {hidden_dim, hidden_dim});
    block.bias = w.get("ffn.1.bias", {hidden_dim});
    blocks_.push_back(std::move(block));
  }
  norm2_weight_ = loader.get("layer_norm2.weight", {hidden_dim});
  norm2_bias_ = loader.get("layer_norm2.bias", {hidden_dim});
  fc2_weight_ = loader.get("fc2.weight", {output_dim, hidden_dim});
  fc2_bias_ = loader.get("fc2.bias", {output_dim});
}

torch::Tensor MlpResNet::forward(const torch::Tensor& input) const {
  auto x = torch::layer_norm(input, {input_dim_}, norm1_weight_, norm1_bias_, eps_);
  x = torch::relu(layers::linear(x, fc1_weight_, fc1_bias_));
  for (const Block& block : blocks_) {
    auto normed = torch::layer_norm(x, {hidden_dim_}, block.norm_weight, block.norm_bias, eps_);
    x = x + torch::relu(layers::linear(normed, block.weight, block.bias));
  }
  x = torch::layer_norm(x, {hidden_dim_}, norm2_weight_, norm2_bias_, eps_);
  return layers::linear(x, fc2_weight_, fc2_bias_);
}

TwoLayerProjector::TwoLayerProjector(int64_t in_dim, int64_t width, WeightLoader loader) {
  fc1_weight_ = loader.get("fc1.weight", {width, in_dim});
  fc1_bias_ = loader.get("fc1.bias", {width});
  fc2_weight_ = loader.get("fc2.weight", {width, width});
  fc2_bias_ = loader.get("fc2.bias", {width});
}

torch::Tensor TwoLayerProjector::forward(const torch::Tensor& x) const {
  return layers::linear(layers::gelu(layers::linear(x, fc1_weight_, fc1_bias_)), fc2_weight_,
                        fc2_bias_);
}

FlowMatchingHead::FlowMatchingHead(const ActionConfig& action, int64_t llm_dim, WeightLoader loader)
    : action_(action),
      llm_dim_(llm_dim),
      mlp_(action.mlp_resnet_blocks, llm_dim * action.action_dim, llm_dim, action.action_dim,
           action.head_layer_norm_eps, loader.sub("flow_predictor.mlp_resnet")) {}

torch::Tensor FlowMatchingHead::predict_velocity(const torch::Tensor& actions_hidden) const {
  const int64_t batch = actions_hidden.size(0);
  // Row c concatenates the action_dim hidden states of chunk step c.
  auto rows = actions_hidden.reshape({batch, action_.chunk_length, action_.action_dim * llm_dim_});
  return mlp_.forward(rows);
}

torch::Tensor sinusoidal_time_embedding(const torch::Tensor& time, int64_t dim) {
  const int64_t half = dim / 2;
  const float step = static_cast<float>(std::log(10000.0) / static_cast<double>(half - 1));
  auto options = torch::TensorOptions().dtype(torch::kFloat).device(time.device());
  auto frequencies = torch::exp(torch::arange(half, options) * (-step));
  auto angles = time.to(torch::kFloat).unsqueeze(1) * frequencies.unsqueeze(0);
  return torch::cat({angles.sin(), angles.cos()}, -1);
}

float bf16_round(float value) { return static_cast<float>(c10::BFloat16(value)); }

std::vector<float> flow_time_schedule(int steps) {
  if (steps <= 0) throw std::runtime_error("flow matching: steps must be positive");
  // The reference adds a Python float to a 0-dim bf16 tensor: dt itself is rounded to bf16.
  const float dt = bf16_round(static_cast<float>(1.0 / steps));
  std::vector<float> times;
  for (float t = 0.0f; t < 1.0f; t = bf16_round(t + dt)) times.push_back(t);
  return times;
}

ActionTokenizer::ActionTokenizer(int bins, int64_t tokenizer_length)
    : tokenizer_length_(tokenizer_length) {
  if (bins < 2) throw std::runtime_error("action tokenizer: need at least 2 bins");
  for (int i = 0; i < bins; ++i) bins_.push_back(-1.0 + 2.0 * i / (bins - 1));
  for (int i = 0; i + 1 < bins; ++i) centers_.push_back((bins_[i] + bins_[i + 1]) / 2.0);
}

float ActionTokenizer::decode(int64_t token) const {
  const int64_t bin = tokenizer_length_ - token;
  const int64_t index = std::clamp<int64_t>(bin - 1, 0, static_cast<int64_t>(centers_.size()) - 1);
  return static_cast<float>(centers_[index]);
}

int64_t ActionTokenizer::encode(float value) const {
  const double clipped = std::clamp(static_cast<double>(value), -1.0, 1.0);
  // numpy digitize (right-open): number of bin edges <= value.
  const int64_t bin = std::upper_bound(bins_.begin(), bins_.end(), clipped) - bins_.begin();
  return tokenizer_length_ - bin;
}

torch::Tensor ActionTokenizer::decode(const torch::Tensor& tokens) const {
  auto cpu = tokens.to(torch::kCPU, torch::kLong).contiguous();
  auto values = torch::empty(cpu.sizes(), torch::kFloat);
  const int64_t* in = cpu.data_ptr<int64_t>();
  float* out = values.data_ptr<float>();
  for (int64_t i = 0; i < cpu.numel(); ++i) out[i] = decode(in[i]);
  return values;
}

}  // namespace policies::dream_vla
