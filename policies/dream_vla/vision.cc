#include "policies/dream_vla/vision.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "policies/dream_vla/lm.h"

namespace policies::dream_vla {
namespace {

// x * sigmoid(1.702 x)
torch::Tensor quick_gelu(const torch::Tensor& x) { return x * torch::sigmoid(1.702 * x); }

// Per-frame patch counts (the cu_seqlens segments) from image_grid_thw.
std::vector<int64_t> frame_segments(const torch::Tensor& grid_cpu) {
  std::vector<int64_t> segments;
  auto grid = grid_cpu.accessor<int64_t, 2>();
  for (int64_t i = 0; i < grid.size(0); ++i) {
    for (int64_t t = 0; t < grid[i][0]; ++t) segments.push_back(grid[i][1] * grid[i][2]);
  }
  return segments;
}

}  // namespace

VisionTower::VisionTower(const VisionConfig& config, WeightLoader loader) : config_(config) {
  const int64_t width = config.embed_dim;
  const int64_t inner = static_cast<int64_t>(config.mlp_ratio) * width;
  const int64_t merged = width * config.spatial_merge_size * config.spatial_merge_size;
  patch_weight_ =
      loader
          .get("patch_embed.proj.weight", {width, config.in_channels, config.temporal_patch_size,
                                           config.patch_size, config.patch_size});
  for (int i = 0; i < config.depth; ++i) {
    WeightLoader w = loader.sub("blocks." + std::to_string(i));
    Block block;
    block.norm1_weight = w.get("norm1.weight", {width});
    block.norm1_bias = w.get("norm1.bias", {width});
    block.norm2_weight = w.get("norm2.weight", {width});
    block.norm2_bias = w.get("norm2.bias", {width});
    block.qkv_weight = w.get("attn.qkv.weight", {3 * width, width});
    block.qkv_bias = w.get("attn.qkv.bias", {3 * width});
    block.proj_weight = w.get("attn.proj.weight", {width, width});
    block.proj_bias = w.get("attn.proj.bias", {width});
    block.fc1_weight = w.get("mlp.fc1.weight", {inner, width});
    block.fc1_bias = w.get("mlp.fc1.bias", {inner});
    block.fc2_weight = w.get("mlp.fc2.weight", {width, inner});
    block.fc2_bias = w.get("mlp.fc2.bias", {width});
    blocks_.push_back(std::move(block));
  }
  merger_norm_weight_ = loader.get("merger.ln_q.weight", {width});
  merger_norm_bias_ = loader.get("merger.ln_q.bias", {width});
  merger_fc1_weight_ = loader.get("merger.mlp.0.weight", {merged, merged});
  merger_fc1_bias_ = loader.get("merger.mlp.0.bias", {merged});
  merger_fc2_weight_ = loader.get("merger.mlp.2.weight", {config.hidden_size, merged});
  merger_fc2_bias_ = loader.get("merger.mlp.2.bias", {config.hidden_size});

  // inv_freq over head_dim / 2 rotary channels: 1 / theta^(2j / (head_dim / 2)).
  const int64_t rotary_dim = config.head_dim() / 2;
  auto exponents = torch::arange(0, rotary_dim, 2, torch::TensorOptions().dtype(torch::kFloat)) /
                   static_cast<float>(rotary_dim);
  inv_freq_ = (1.0 / torch::pow(torch::tensor(config.rope_theta, torch::kFloat), exponents))
                  .to(loader.device());
}

torch::Tensor VisionTower::rotary_position_ids(const torch::Tensor& image_grid_thw,
                                               int merge_size) {
  auto grid_cpu = image_grid_thw.to(torch::kCPU, torch::kLong).contiguous();
  auto grid = grid_cpu.accessor<int64_t, 2>();
  std::vector<torch::Tensor> parts;
  for (int64_t i = 0; i < grid.size(0); ++i) {
    const int64_t t = grid[i][0], h = grid[i][1], w = grid[i][2];
    auto rows = torch::arange(h, torch::kLong).unsqueeze(1).expand({h, w});
    auto cols = torch::arange(w, torch::kLong).unsqueeze(0).expand({h, w});
    // Merge-window order: (h/m, m, w/m, m) -> (h/m, w/m, m, m).
    auto reorder = [&](const torch::Tensor& grid_values) {
      return grid_values.reshape({h / merge_size, merge_size, w / merge_size, merge_size})
          .permute({0, 2, 1, 3})
          .flatten();
    };
    auto ids = torch::stack({reorder(rows), reorder(cols)}, -1);  // (h*w, 2)
    parts.push_back(ids.repeat({t, 1}));
  }
  return torch::cat(parts, 0);
}

torch::Tensor VisionTower::attention(const Block& block, const torch::Tensor& x,
                                     const torch::Tensor& cos, const torch::Tensor& sin,
                                     const std::vector<int64_t>& segments) const {
  const int64_t patches = x.size(0);
  const int64_t heads = config_.num_heads;
  const int64_t head_dim = config_.head_dim();
  auto qkv = layers::linear(x, block.qkv_weight, block.qkv_bias)
                 .view({patches, 3, heads, head_dim})
                 .permute({1, 0, 2, 3});  // (3, N, H, hd)
  auto dtype = x.scalar_type();
  // 2-D RoPE in float32 on q and k.
  auto q = layers::apply_rotary(qkv[0].to(torch::kFloat), cos, sin).to(dtype);
  auto k = layers::apply_rotary(qkv[1].to(torch::kFloat), cos, sin).to(dtype);
  auto v = qkv[2];
  const double scale = 1.0 / std::sqrt(static_cast<double>(head_dim));

  torch::Tensor out;
  const bool equal_segments =
      std::all_of(segments.begin(), segments.end(), [&](int64_t s) { return s == segments[0]; });
  if (equal_segments) {
    // Every frame has the same patch count: batch the frames.
    const int64_t count = static_cast<int64_t>(segments.size());
    const int64_t length = segments[0];
    auto split = [&](const torch::Tensor& t) {
      return t.reshape({count, length, heads, head_dim}).transpose(1, 2);  // (S, H, l, hd)
    };
    auto scores = torch::matmul(split(q), split(k).transpose(-1, -2)) * scale;
    out = torch::matmul(layers::softmax_f32(scores), split(v))
              .transpose(1, 2)
              .reshape({patches, heads * head_dim});
  } else {
    // Block-diagonal mask over all patches.
    auto segment_of = torch::empty({patches}, torch::kLong);
    int64_t start = 0;
    for (size_t s = 0; s < segments.size(); ++s) {
      segment_of.narrow(0, start, segments[s]).fill_(static_cast<int64_t>(s));
      start += segments[s];
    }
    segment_of = segment_of.to(x.device());
    auto blocked = segment_of.unsqueeze(0).ne(segment_of.unsqueeze(1));           // (N, N)
    auto qh = q.transpose(0, 1), kh = k.transpose(0, 1), vh = v.transpose(0, 1);  // (H, N, hd)
    auto scores = torch::matmul(qh, kh.transpose(-1, -2)) * scale;
    scores = scores.masked_fill(blocked, layers::lowest(scores.scalar_type()));
    out = torch::matmul(layers::softmax_f32(scores), vh)
              .transpose(0, 1)
              .reshape({patches, heads * head_dim});
  }
  return layers::linear(out, block.proj_weight, block.proj_bias);
}

torch::Tensor VisionTower::forward(const torch::Tensor& pixel_values,
                                   const torch::Tensor& image_grid_thw, VisionTrace* trace) const {
  const int merge = config_.spatial_merge_size;
  if (pixel_values.dim() != 2 || pixel_values.size(1) != config_.patch_values()) {
    throw std::runtime_error("vision tower: pixel_values must be (N, " +
                             std::to_string(config_.patch_values()) + "), found " +
                             c10::str(pixel_values.sizes()));
  }
  auto grid_cpu = image_grid_thw.to(torch::kCPU, torch::kLong).contiguous();
  if (grid_cpu.dim() != 2 || grid_cpu.size(1) != 3) {
    throw std::runtime_error("vision tower: image_grid_thw must be (I, 3), found " +
                             c10::str(grid_cpu.sizes()));
  }
  auto grid = grid_cpu.accessor<int64_t, 2>();
  int64_t expected = 0;
  for (int64_t i = 0; i < grid.size(0); ++i) {
    if (grid[i][1] % merge != 0 || grid[i][2] % merge != 0) {
      throw std::runtime_error("vision tower: image " + std::to_string(i) +
                               " grid is not a multiple of the merge size");
    }
    expected += grid[i][0] * grid[i][1] * grid[i][2];
  }
  if (expected != pixel_values.size(0)) {
    throw std::runtime_error("vision tower: image_grid_thw describes " + std::to_string(expected) +
                             " patches but pixel_values has " +
                             std::to_string(pixel_values.size(0)));
  }
  const auto device = patch_weight_.device();
  const auto dtype = patch_weight_.scalar_type();

  // Rotary angles per patch: [row * inv_freq, column * inv_freq], duplicated.
  auto position_ids = rotary_position_ids(grid_cpu, merge).to(device);
  auto angles = position_ids.to(torch::kFloat).unsqueeze(-1) * inv_freq_;  // (N, 2, hd/4)
  angles = angles.flatten(1);                                              // (N, hd/2)
  auto emb = torch::cat({angles, angles}, -1);
  auto cos = emb.cos().unsqueeze(1);  // (N, 1, hd)
  auto sin = emb.sin().unsqueeze(1);

  auto h = layers::linear(pixel_values.to(device, dtype),
                          patch_weight_.reshape({config_.embed_dim, config_.patch_values()}));
  if (trace != nullptr) {
    trace->patch_embeds = h;
    trace->rope_cos = emb.cos();
    trace->rope_sin = emb.sin();
  }
  const auto segments = frame_segments(grid_cpu);
  const double eps = config_.layer_norm_eps;
  const int64_t width = config_.embed_dim;
  for (const Block& block : blocks_) {
    auto normed = torch::layer_norm(h, {width}, block.norm1_weight, block.norm1_bias, eps);
    h = h + attention(block, normed, cos, sin, segments);
    normed = torch::layer_norm(h, {width}, block.norm2_weight, block.norm2_bias, eps);
    h = h + layers::linear(quick_gelu(layers::linear(normed, block.fc1_weight, block.fc1_bias)),
                           block.fc2_weight, block.fc2_bias);
    if (trace != nullptr) trace->block_outputs.push_back(h);
  }
  if (trace != nullptr) trace->pre_merger = h;

  // PatchMerger: LayerNorm, 2x2 windows concatenated, MLP with exact GELU.
  auto merged = torch::layer_norm(h, {width}, merger_norm_weight_, merger_norm_bias_, eps)
                    .reshape({-1, width * merge * merge});
  merged = layers::gelu(layers::linear(merged, merger_fc1_weight_, merger_fc1_bias_));
  return layers::linear(merged, merger_fc2_weight_, merger_fc2_bias_);
}

double VisionTower::forward_macs(const VisionConfig& config, int64_t patches, int64_t segment) {
  const double n = static_cast<double>(patches);
  const double width = config.embed_dim;
  const double inner = config.mlp_ratio * width;
  const double merged = width * config.spatial_merge_size * config.spatial_merge_size;
  const double per_block = n * (3 * width * width + width * width + 2 * width * inner) +
                           2.0 * n * segment * width;  // scores + weighted sum
  const double merger = (n / (config.spatial_merge_size * config.spatial_merge_size)) *
                        (merged * merged + merged * config.hidden_size);
  return n * config.patch_values() * width + config.depth * per_block + merger;
}

Projector::Projector(int in_width, int out_width, WeightLoader loader) {
  fc1_weight_ = loader.get("linear_1.weight", {out_width, in_width});
  fc1_bias_ = loader.get("linear_1.bias", {out_width});
  fc2_weight_ = loader.get("linear_2.weight", {out_width, out_width});
  fc2_bias_ = loader.get("linear_2.bias", {out_width});
}

torch::Tensor Projector::forward(const torch::Tensor& features) const {
  return layers::linear(layers::gelu(layers::linear(features, fc1_weight_, fc1_bias_)), fc2_weight_,
                        fc2_bias_);
}

}  // namespace policies::dream_vla
