// Dream-VLA action heads: flow matching (MLPResNet velocity head, noisy-action
// and proprio projectors, sinusoidal time token, bf16 Euler time) and the
// 256-bin discrete action tokens. Includes libtorch.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "policies/dream_vla/config.h"
#include "policies/dream_vla/weights.h"

namespace policies::dream_vla {

// MLPResNet: LN -> fc1 -> ReLU, residual blocks x + ReLU(Linear(LN(x))), LN -> fc2.
class MlpResNet {
 public:
  MlpResNet(int blocks, int64_t input_dim, int64_t hidden_dim, int64_t output_dim,
            double layer_norm_eps, WeightLoader loader);
  torch::Tensor forward(const torch::Tensor& x) const;

 private:
  struct Block {
    torch::Tensor norm_weight, norm_bias, weight, bias;
  };
  double eps_;
  int64_t input_dim_, hidden_dim_;
  torch::Tensor norm1_weight_, norm1_bias_, fc1_weight_, fc1_bias_;
  std::vector<Block> blocks_;
  torch::Tensor norm2_weight_, norm2_bias_, fc2_weight_, fc2_bias_;
};

// fc2(GELU(fc1(x))): NoisyActionProjector (in 1) and ProprioProjector (in proprio_dim).
class TwoLayerProjector {
 public:
  TwoLayerProjector(int64_t in_dim, int64_t width, WeightLoader loader);
  torch::Tensor forward(const torch::Tensor& x) const;

 private:
  torch::Tensor fc1_weight_, fc1_bias_, fc2_weight_, fc2_bias_;
};

// FlowMatchingActionHead: velocity from the hidden states at the action slots.
class FlowMatchingHead {
 public:
  // `loader` holds "flow_predictor.mlp_resnet.*".
  FlowMatchingHead(const ActionConfig& action, int64_t llm_dim, WeightLoader loader);
  // actions_hidden (B, chunk * action_dim, D) -> velocity (B, chunk, action_dim).
  torch::Tensor predict_velocity(const torch::Tensor& actions_hidden) const;

 private:
  ActionConfig action_;
  int64_t llm_dim_;
  MlpResNet mlp_;
};

// SinusoidalPositionalEncoding(dim): [sin(t f), cos(t f)], f_j = exp(-j ln(1e4) / (dim/2 - 1)).
// t (B) -> (B, dim) float32.
torch::Tensor sinusoidal_time_embedding(const torch::Tensor& time, int64_t dim);

// bfloat16 round-to-nearest-even of a float.
float bf16_round(float value);

// Time values the reference Euler loop visits: t = 0, then
// t = bf16(t + bf16(1/steps)) while t < 1 (steps = 50 runs 51 iterations).
std::vector<float> flow_time_schedule(int steps);

// Discrete action tokens: 256 bins on [-1, 1], token = tokenizer_length - bin
// (reversed), decoded to bin centers (255 of them; ids outside clip to the ends).
class ActionTokenizer {
 public:
  ActionTokenizer(int bins, int64_t tokenizer_length);
  float decode(int64_t token) const;
  int64_t encode(float value) const;
  // (.., n) int64 tokens -> float32 values.
  torch::Tensor decode(const torch::Tensor& tokens) const;

 private:
  int64_t tokenizer_length_;
  std::vector<double> bins_, centers_;
};

}  // namespace policies::dream_vla
