// Dream language model: the Qwen2 architecture (RMSNorm, GQA self-attention
// with q/k/v biases, 1-D RoPE, SwiGLU MLP) with bidirectional attention, a
// keys-only padding mask and Dream's logits shift. Includes libtorch.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "policies/dream_vla/config.h"
#include "policies/dream_vla/weights.h"

namespace policies::dream_vla {

// Shared building blocks (also used by the vision tower and the heads).
namespace layers {
// y = x W^T + b for a weight stored as (out, in); `bias` may be undefined.
torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& weight,
                     const torch::Tensor& bias = {});
// concat(-x[half:], x[:half]) on the last dimension.
torch::Tensor rotate_half(const torch::Tensor& x);
// x * cos + rotate_half(x) * sin.
torch::Tensor apply_rotary(const torch::Tensor& x, const torch::Tensor& cos,
                           const torch::Tensor& sin);
// Exact (erf) GELU.
torch::Tensor gelu(const torch::Tensor& x);
// The most negative finite value of a floating dtype (torch.finfo(dtype).min).
double lowest(torch::ScalarType dtype);
// Softmax over the last dimension computed in float32, returned in x's dtype.
torch::Tensor softmax_f32(const torch::Tensor& x);
}  // namespace layers

// Optional per-layer outputs for parity debugging.
struct LmTrace {
  std::vector<torch::Tensor> layer_outputs;  // residual stream after each layer (B, L, D)
};

class DreamLm {
 public:
  // Loads `model.*` and `lm_head.weight` from `loader` (published names).
  DreamLm(const LmConfig& config, WeightLoader& loader);

  const LmConfig& config() const { return config_; }

  // Token embeddings (B, L) int64 -> (B, L, D).
  torch::Tensor embed(const torch::Tensor& input_ids) const;

  // Final-normed hidden states (B, L, D) for input embeddings (B, L, D).
  // attention_mask (B, L) {0,1} masks keys only (undefined: no padding);
  // position_ids (B, L) int64. causal = true adds a causal mask (Qwen2
  // behaviour, used only as a regression guard; Dream is bidirectional).
  torch::Tensor forward(const torch::Tensor& embeds, const torch::Tensor& attention_mask,
                        const torch::Tensor& position_ids, bool causal = false,
                        LmTrace* trace = nullptr) const;

  // lm_head over hidden states (B, L, D) -> (B, L, V).
  torch::Tensor logits(const torch::Tensor& hidden) const;

  // Dream shift: row j takes row j-1, row 0 stays (B, L, V).
  static torch::Tensor shift_logits(const torch::Tensor& logits);

  // RoPE cos/sin (B, L, head_dim) for position_ids, in `dtype`.
  torch::Tensor rope_cos_sin(const torch::Tensor& position_ids, torch::ScalarType dtype,
                             torch::Tensor* sin) const;

  // Multiply-accumulate count of one forward over `tokens` positions per row
  // with sequence length `length` (projections, attention, MLP; no lm_head).
  static double forward_macs(const LmConfig& config, int64_t batch, int64_t length);

 private:
  struct Layer {
    torch::Tensor input_norm, post_norm;  // (D)
    torch::Tensor q_weight, q_bias, k_weight, k_bias, v_weight, v_bias, o_weight;
    torch::Tensor gate_weight, up_weight, down_weight;
  };

  torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& weight) const;
  torch::Tensor attention(const Layer& layer, const torch::Tensor& x, const torch::Tensor& cos,
                          const torch::Tensor& sin, const torch::Tensor& key_mask) const;

  LmConfig config_;
  torch::Tensor embed_tokens_;  // (V, D)
  std::vector<Layer> layers_;
  torch::Tensor final_norm_;  // (D)
  torch::Tensor lm_head_;     // (V, D)
  torch::Tensor inv_freq_;    // (head_dim / 2) float32
};

}  // namespace policies::dream_vla
