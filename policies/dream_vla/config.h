// Dream-VLA configuration: the checkpoint's config.json (language model and
// vision_config) plus the action settings that config.json does not carry.
// Free of libtorch.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace policies::dream_vla {

// Qwen2-ViT vision tower ("vision_config").
struct VisionConfig {
  int depth = 32;                // transformer blocks
  int embed_dim = 1280;          // ViT width
  int num_heads = 16;            // attention heads (head_dim = embed_dim / num_heads)
  int mlp_ratio = 4;             // MLP inner width = mlp_ratio * embed_dim
  int hidden_size = 3584;        // PatchMerger output width (= LM width)
  int patch_size = 14;           // pixels per patch side
  int spatial_merge_size = 2;    // patches merged per side by the PatchMerger
  int temporal_patch_size = 2;   // frames per temporal patch
  int in_channels = 3;           // image channels
  double layer_norm_eps = 1e-6;  // LayerNorm epsilon (blocks and merger)
  double rope_theta = 10000.0;   // 2-D rotary base

  int head_dim() const { return embed_dim / num_heads; }
  // Values per flattened patch: channels * temporal * patch * patch.
  int patch_values() const { return in_channels * temporal_patch_size * patch_size * patch_size; }
};

// Dream / Qwen2 language model with bidirectional attention.
struct LmConfig {
  int vocab_size = 152064;           // rows of embed_tokens and lm_head
  int hidden_size = 3584;            // width D
  int intermediate_size = 18944;     // SwiGLU inner width
  int num_hidden_layers = 28;        // decoder layers
  int num_attention_heads = 28;      // query heads
  int num_key_value_heads = 4;       // key/value heads (GQA)
  double rms_norm_eps = 1e-6;        // RMSNorm epsilon
  double rope_theta = 1000000.0;     // RoPE base
  bool tie_word_embeddings = false;  // lm_head shares embed_tokens

  int head_dim() const { return hidden_size / num_attention_heads; }
};

// Token ids the VLA prompt and decoding use.
struct TokenIds {
  int64_t image = 151655;               // <|image_pad|>
  int64_t mask = 151666;                // <|mask|> (also the action token base)
  int64_t pad = 151643;                 // <|endoftext|>
  int64_t action_placeholder = 151667;  // id placed in the action slots
  int64_t im_start = 151644;            // <|im_start|>
  int64_t im_end = 151645;              // <|im_end|>
  int64_t newline = 198;                // "\n"
};

// Which action decoder the policy runs.
enum class ActionHeadKind { kFlowMatching, kDiscreteDiffusion };

// Action settings (not in config.json; constants of the training platform).
struct ActionConfig {
  ActionHeadKind head = ActionHeadKind::kFlowMatching;  // decoder
  int action_dim = 7;                                   // values per action
  int chunk_length = 8;               // actions per query (LIBERO 8, Bridge/Fractal 5)
  int proprio_dim = 8;                // proprio values (LIBERO 8, Bridge/Fractal 7)
  bool use_proprio = true;            // prepend the proprio token
  int mlp_resnet_blocks = 2;          // residual blocks in the flow head
  double head_layer_norm_eps = 1e-5;  // LayerNorm epsilon inside MLPResNet
  int flow_steps = 4;                 // requested Euler steps (bf16 time may add one)
  int n_action_bins = 256;            // discrete action bins
  int64_t tokenizer_length = 151923;  // len(tokenizer) incl. action tokens (discrete decode)
  int diffusion_steps = 1;            // discrete diffusion denoising steps

  int slots() const { return action_dim * chunk_length; }
};

// The whole model.
struct ModelConfig {
  LmConfig lm;
  VisionConfig vision;
  TokenIds tokens;
  ActionConfig action;
  int image_size = 224;  // square image side fed to the processor, px
};

// Action settings of a robot platform: "libero", "bridge" or "fractal".
ActionConfig platform_action_config(const std::string& platform);

// Parses a config.json object. `source` names the file in errors. Refuses
// unsupported values (rope_scaling set, sliding window, non-silu activations...).
ModelConfig parse_config(const nlohmann::json& json, const std::string& source);
// Reads and parses a config.json file.
ModelConfig load_config(const std::string& path);
// config.json content for `config` (HF field names plus "vla_action_config").
nlohmann::json config_to_json(const ModelConfig& config);

// The published 7B configuration and the tiny test configuration (the
// dream_tiny fixtures' sizes and token ids).
ModelConfig dream_7b_config();
ModelConfig tiny_config();
// The tiny vocabulary and token ids with a 4 x 192 LM and a 4 x 128 ViT.
ModelConfig small_config();
// "tiny", "small" or "7b"; anything else throws naming the valid names.
ModelConfig named_config(const std::string& name);

}  // namespace policies::dream_vla
