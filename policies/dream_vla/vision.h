// Qwen2-ViT vision tower (patch embedding, 2-D RoPE, per-image attention,
// pre-LN blocks, PatchMerger) and the Dream-VL multimodal projector.
// Includes libtorch.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "policies/dream_vla/config.h"
#include "policies/dream_vla/weights.h"

namespace policies::dream_vla {

// Optional intermediate tensors for parity debugging.
struct VisionTrace {
  torch::Tensor patch_embeds;                // (N, E)
  torch::Tensor rope_cos, rope_sin;          // (N, head_dim) float32
  std::vector<torch::Tensor> block_outputs;  // (N, E) after each block
  torch::Tensor pre_merger;                  // (N, E)
};

class VisionTower {
 public:
  // Loads the tower's weights (names relative to `loader`, e.g. a loader with
  // prefix "visual" for a Dream-VLA checkpoint).
  VisionTower(const VisionConfig& config, WeightLoader loader);

  const VisionConfig& config() const { return config_; }

  // pixel_values (N, C*T*p*p) in merge-window patch order, image_grid_thw
  // (I, 3) int64 -> merged features (N / merge^2, hidden_size). Attention is
  // block-diagonal per image frame.
  torch::Tensor forward(const torch::Tensor& pixel_values, const torch::Tensor& image_grid_thw,
                        VisionTrace* trace = nullptr) const;

  // (N, 2) int64 (row, column) patch coordinates in merge-window order.
  static torch::Tensor rotary_position_ids(const torch::Tensor& image_grid_thw, int merge_size);

  // Multiply-accumulate count of one forward over `patches` patches in
  // segments of `segment` patches each.
  static double forward_macs(const VisionConfig& config, int64_t patches, int64_t segment);

 private:
  struct Block {
    torch::Tensor norm1_weight, norm1_bias, norm2_weight, norm2_bias;
    torch::Tensor qkv_weight, qkv_bias, proj_weight, proj_bias;
    torch::Tensor fc1_weight, fc1_bias, fc2_weight, fc2_bias;
  };

  torch::Tensor attention(const Block& block, const torch::Tensor& x, const torch::Tensor& cos,
                          const torch::Tensor& sin, const std::vector<int64_t>& segments) const;

  VisionConfig config_;
  torch::Tensor patch_weight_;  // (E, C, T, p, p): the Conv3d kernel, flattened per forward
  std::vector<Block> blocks_;
  torch::Tensor merger_norm_weight_, merger_norm_bias_;
  torch::Tensor merger_fc1_weight_, merger_fc1_bias_, merger_fc2_weight_, merger_fc2_bias_;
  torch::Tensor inv_freq_;  // (head_dim / 4) float32
};

// Dream-VL projector: linear_2(GELU(linear_1(x))).
class Projector {
 public:
  // Loads linear_1/linear_2 (names relative to `loader`, prefix "projector").
  Projector(int in_width, int out_width, WeightLoader loader);
  torch::Tensor forward(const torch::Tensor& features) const;

 private:
  torch::Tensor fc1_weight_, fc1_bias_, fc2_weight_, fc2_bias_;
};

}  // namespace policies::dream_vla
