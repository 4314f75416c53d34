#include "policies/dream_vla/lm.h"

#include <cmath>
#include <limits>
#include <string>

namespace policies::dream_vla {
namespace layers {

torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& weight,
                     const torch::Tensor& bias) {
  return torch::linear(x, weight, bias);
}

torch::Tensor rotate_half(const torch::Tensor& x) {
  const int64_t half = x.size(-1) / 2;
  return torch::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
}

torch::Tensor apply_rotary(const torch::Tensor& x, const torch::Tensor& cos,
                           const torch::Tensor& sin) {
  return x * cos + rotate_half(x) * sin;
}

torch::Tensor gelu(const torch::Tensor& x) { return torch::gelu(x); }

double lowest(torch::ScalarType dtype) {
  switch (dtype) {
    case torch::kBFloat16:
      return -3.3895313892515355e38;
    case torch::kHalf:
      return -65504.0;
    case torch::kDouble:
      return std::numeric_limits<double>::lowest();
    default:
      return static_cast<double>(std::numeric_limits<float>::lowest());
  }
}

torch::Tensor softmax_f32(const torch::Tensor& x) {
  if (x.scalar_type() == torch::kFloat) return torch::softmax(x, -1);
  return torch::softmax(x, -1, torch::kFloat).to(x.scalar_type());
}

}  // namespace layers

DreamLm::DreamLm(const LmConfig& config, WeightLoader& loader) : config_(config) {
  const int64_t vocab = config.vocab_size;
  const int64_t width = config.hidden_size;
  const int64_t head_dim = config.head_dim();
  const int64_t q_width = config.num_attention_heads * head_dim;
  const int64_t kv_width = config.num_key_value_heads * head_dim;
  const int64_t inner = config.intermediate_size;

  WeightLoader model = loader.sub("model");
  embed_tokens_ = model.get("embed_tokens.weight", {vocab, width});
  for (int i = 0; i < config.num_hidden_layers; ++i) {
    WeightLoader w = model.sub("layers." + std::to_string(i));
    Layer layer;
    layer.input_norm = w.get("input_layernorm.weight", {width});
    layer.post_norm = w.get("post_attention_layernorm.weight", {width});
    layer.q_weight = w.get("self_attn.q_proj.weight", {q_width, width});
    layer.q_bias = w.get("self_attn.q_proj.bias", {q_width});
    layer.k_weight = w.get("self_attn.k_proj.weight", {kv_width, width});
    layer.k_bias = w.get("self_attn.k_proj.bias", {kv_width});
    layer.v_weight = w.get("self_attn.v_proj.weight", {kv_width, width});
    layer.v_bias = w.get("self_attn.v_proj.bias", {kv_width});
    layer.o_weight = w.get("self_attn.o_proj.weight", {width, q_width});
    layer.gate_weight = w.get("mlp.gate_proj.weight", {inner, width});
    layer.up_weight = w.get("mlp.up_proj.weight", {inner, width});
    layer.down_weight = w.get("mlp.down_proj.weight", {width, inner});
    layers_.push_back(std::move(layer));
  }
  final_norm_ = model.get("norm.weight", {width});
  if (config.tie_word_embeddings && !loader.has("lm_head.weight")) {
    lm_head_ = embed_tokens_;
  } else {
    lm_head_ = loader.get("lm_head.weight", {vocab, width});
  }
  // inv_freq[j] = 1 / theta^(2j / head_dim), float32 as in the reference.
  auto exponents =
      torch::arange(0, head_dim, 2, torch::TensorOptions().dtype(torch::kLong)).to(torch::kFloat) /
      static_cast<float>(head_dim);
  inv_freq_ = (1.0 / torch::pow(torch::tensor(config.rope_theta, torch::kFloat), exponents))
                  .to(loader.device());
}

torch::Tensor DreamLm::embed(const torch::Tensor& input_ids) const {
  return torch::embedding(embed_tokens_, input_ids);
}

torch::Tensor DreamLm::rms_norm(const torch::Tensor& x, const torch::Tensor& weight) const {
  auto x32 = x.to(torch::kFloat);
  auto variance = x32.pow(2).mean(-1, true);
  x32 = x32 * torch::rsqrt(variance + config_.rms_norm_eps);
  return weight * x32.to(x.scalar_type());
}

torch::Tensor DreamLm::rope_cos_sin(const torch::Tensor& position_ids, torch::ScalarType dtype,
                                    torch::Tensor* sin) const {
  auto angle = position_ids.to(torch::kFloat).unsqueeze(-1) * inv_freq_;  // (B, L, hd/2)
  auto emb = torch::cat({angle, angle}, -1);
  *sin = emb.sin().to(dtype);
  return emb.cos().to(dtype);
}

torch::Tensor DreamLm::attention(const Layer& layer, const torch::Tensor& x,
                                 const torch::Tensor& cos, const torch::Tensor& sin,
                                 const torch::Tensor& key_mask) const {
  const int64_t batch = x.size(0);
  const int64_t length = x.size(1);
  const int64_t heads = config_.num_attention_heads;
  const int64_t kv_heads = config_.num_key_value_heads;
  const int64_t groups = heads / kv_heads;
  const int64_t head_dim = config_.head_dim();

  // (B, L, H, hd) -> (B, H, L, hd)
  auto q = layers::linear(x, layer.q_weight, layer.q_bias)
               .view({batch, length, heads, head_dim})
               .transpose(1, 2);
  auto k = layers::linear(x, layer.k_weight, layer.k_bias)
               .view({batch, length, kv_heads, head_dim})
               .transpose(1, 2);
  auto v = layers::linear(x, layer.v_weight, layer.v_bias)
               .view({batch, length, kv_heads, head_dim})
               .transpose(1, 2);
  q = layers::apply_rotary(q, cos, sin);
  k = layers::apply_rotary(k, cos, sin);

  // GQA without copies: query head h uses KV head h / groups.
  auto q5 = q.reshape({batch, kv_heads, groups, length, head_dim});
  auto k5 = k.unsqueeze(2);
  auto v5 = v.unsqueeze(2);
  const double scale = 1.0 / std::sqrt(static_cast<double>(head_dim));
  auto scores = torch::matmul(q5, k5.transpose(-1, -2)) * scale;  // (B, KV, G, L, L)
  if (key_mask.defined()) {
    scores = scores.masked_fill(key_mask, layers::lowest(scores.scalar_type()));
  }
  auto probs = layers::softmax_f32(scores);
  auto out = torch::matmul(probs, v5)  // (B, KV, G, L, hd)
                 .reshape({batch, heads, length, head_dim})
                 .transpose(1, 2)
                 .reshape({batch, length, heads * head_dim});
  return layers::linear(out, layer.o_weight);
}

torch::Tensor DreamLm::forward(const torch::Tensor& embeds, const torch::Tensor& attention_mask,
                               const torch::Tensor& position_ids, bool causal,
                               LmTrace* trace) const {
  const int64_t length = embeds.size(1);
  torch::Tensor sin;
  auto cos = rope_cos_sin(position_ids, embeds.scalar_type(), &sin);
  cos = cos.unsqueeze(1);  // (B, 1, L, hd): broadcast over heads
  sin = sin.unsqueeze(1);

  // Boolean "masked out" (B, 1, 1, 1|L, L) over keys (and future keys if causal).
  torch::Tensor masked;
  if (attention_mask.defined()) {
    auto padded_keys = attention_mask.eq(0);
    if (padded_keys.any().item<bool>()) {
      masked = padded_keys.view({embeds.size(0), 1, 1, 1, length});
    }
  }
  if (causal) {
    auto future = torch::ones({length, length},
                              torch::TensorOptions().dtype(torch::kBool).device(embeds.device()))
                      .triu(1);
    masked = masked.defined() ? masked.logical_or(future) : future;
  }

  auto h = embeds;
  for (const Layer& layer : layers_) {
    h = h + attention(layer, rms_norm(h, layer.input_norm), cos, sin, masked);
    auto x = rms_norm(h, layer.post_norm);
    auto gated =
        torch::silu(layers::linear(x, layer.gate_weight)) * layers::linear(x, layer.up_weight);
    h = h + layers::linear(gated, layer.down_weight);
    if (trace != nullptr) trace->layer_outputs.push_back(h);
  }
  return rms_norm(h, final_norm_);
}

torch::Tensor DreamLm::logits(const torch::Tensor& hidden) const {
  return layers::linear(hidden, lm_head_);
}

torch::Tensor DreamLm::shift_logits(const torch::Tensor& logits) {
  const int64_t length = logits.size(1);
  return torch::cat({logits.narrow(1, 0, 1), logits.narrow(1, 0, length - 1)}, 1);
}

double DreamLm::forward_macs(const LmConfig& config, int64_t batch, int64_t length) {
  const double tokens = static_cast<double>(batch) * length;
  const double width = config.hidden_size;
  const double head_dim = config.head_dim();
  const double q_width = config.num_attention_heads * head_dim;
  const double kv_width = config.num_key_value_heads * head_dim;
  const double projections = width * (2 * q_width + 2 * kv_width);  // q, o, k, v
  const double mlp = 3 * width * config.intermediate_size;
  const double attention = 2.0 * length * q_width;  // scores + weighted sum per query
  return config.num_hidden_layers * tokens * (projections + mlp + attention);
}

}  // namespace policies::dream_vla
