#include "policies/dream_vla/config.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace policies::dream_vla {
namespace {

using nlohmann::json;

[[noreturn]] void fail(const std::string& source, const std::string& problem) {
  throw std::runtime_error("config " + source + ": " + problem);
}

// Reads `key` into `value` if present; a wrong JSON type names the key.
template <typename T>
void read_optional(const json& object, const char* key, T& value, const std::string& source,
                   const std::string& scope) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return;
  try {
    value = it->get<T>();
  } catch (const json::exception&) {
    fail(source, "field " + scope + key + " has the wrong type (" + it->type_name() + ")");
  }
}

template <typename T>
void read_required(const json& object, const char* key, T& value, const std::string& source,
                   const std::string& scope) {
  if (!object.contains(key)) fail(source, "missing field " + scope + key);
  read_optional(object, key, value, source, scope);
}

void require_positive(int value, const char* key, const std::string& source) {
  if (value <= 0)
    fail(source, std::string("field ") + key + " must be positive, found " + std::to_string(value));
}

void require_string(const json& object, const char* key, const std::string& expected,
                    const std::string& source, const std::string& scope) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return;
  if (!it->is_string() || it->get<std::string>() != expected) {
    fail(source, "unsupported " + scope + key + " = " + it->dump() + " (only \"" + expected +
                     "\" is implemented)");
  }
}

ActionHeadKind parse_head(const std::string& name, const std::string& source) {
  if (name == "flow_matching") return ActionHeadKind::kFlowMatching;
  if (name == "discrete_diffusion") return ActionHeadKind::kDiscreteDiffusion;
  fail(source, "unknown action head \"" + name + "\" (valid: flow_matching, discrete_diffusion)");
}

std::string head_name(ActionHeadKind kind) {
  return kind == ActionHeadKind::kFlowMatching ? "flow_matching" : "discrete_diffusion";
}

}  // namespace

ActionConfig platform_action_config(const std::string& platform) {
  ActionConfig action;
  if (platform == "libero") {
    action.chunk_length = 8;
    action.proprio_dim = 8;
  } else if (platform == "bridge" || platform == "fractal") {
    action.chunk_length = 5;
    action.proprio_dim = 7;
  } else {
    throw std::runtime_error("unknown platform \"" + platform +
                             "\" (valid: libero, bridge, fractal)");
  }
  return action;
}

ModelConfig parse_config(const json& root, const std::string& source) {
  if (!root.is_object()) fail(source, "top level is not a JSON object");
  ModelConfig config;
  LmConfig& lm = config.lm;
  read_required(root, "hidden_size", lm.hidden_size, source, "");
  read_required(root, "intermediate_size", lm.intermediate_size, source, "");
  read_required(root, "num_hidden_layers", lm.num_hidden_layers, source, "");
  read_required(root, "num_attention_heads", lm.num_attention_heads, source, "");
  read_required(root, "num_key_value_heads", lm.num_key_value_heads, source, "");
  read_required(root, "vocab_size", lm.vocab_size, source, "");
  read_optional(root, "rms_norm_eps", lm.rms_norm_eps, source, "");
  read_optional(root, "rope_theta", lm.rope_theta, source, "");
  read_optional(root, "tie_word_embeddings", lm.tie_word_embeddings, source, "");
  require_positive(lm.hidden_size, "hidden_size", source);
  require_positive(lm.intermediate_size, "intermediate_size", source);
  require_positive(lm.num_hidden_layers, "num_hidden_layers", source);
  require_positive(lm.num_attention_heads, "num_attention_heads", source);
  require_positive(lm.num_key_value_heads, "num_key_value_heads", source);
  require_positive(lm.vocab_size, "vocab_size", source);
  if (lm.hidden_size % lm.num_attention_heads != 0) {
    fail(source, "hidden_size " + std::to_string(lm.hidden_size) +
                     " is not divisible by num_attention_heads " +
                     std::to_string(lm.num_attention_heads));
  }
  if (lm.num_attention_heads % lm.num_key_value_heads != 0) {
    fail(source, "num_attention_heads is not a multiple of num_key_value_heads");
  }
  if (lm.head_dim() % 2 != 0) fail(source, "head_dim must be even for RoPE");

  // Only the default RoPE and full attention are implemented.
  if (auto it = root.find("rope_scaling"); it != root.end() && !it->is_null()) {
    fail(source, "rope_scaling = " + it->dump() +
                     " is not supported (must be null: default RoPE, as in Dream-VLA)");
  }
  if (auto it = root.find("use_sliding_window");
      it != root.end() && it->is_boolean() && it->get<bool>()) {
    fail(source, "use_sliding_window = true is not supported");
  }
  require_string(root, "hidden_act", "silu", source, "");
  require_string(root, "projector_hidden_act", "gelu", source, "");

  TokenIds& tokens = config.tokens;
  read_optional(root, "image_token_id", tokens.image, source, "");
  read_optional(root, "mask_token_id", tokens.mask, source, "");
  read_optional(root, "pad_token_id", tokens.pad, source, "");
  tokens.action_placeholder = tokens.mask + 1;

  // vision_config block.
  auto vit = root.find("vision_config");
  if (vit == root.end() || !vit->is_object()) fail(source, "missing object vision_config");
  VisionConfig& vision = config.vision;
  const std::string scope = "vision_config.";
  read_required(*vit, "depth", vision.depth, source, scope);
  read_required(*vit, "embed_dim", vision.embed_dim, source, scope);
  read_required(*vit, "num_heads", vision.num_heads, source, scope);
  read_optional(*vit, "mlp_ratio", vision.mlp_ratio, source, scope);
  read_optional(*vit, "hidden_size", vision.hidden_size, source, scope);
  read_optional(*vit, "patch_size", vision.patch_size, source, scope);
  read_optional(*vit, "spatial_merge_size", vision.spatial_merge_size, source, scope);
  read_optional(*vit, "temporal_patch_size", vision.temporal_patch_size, source, scope);
  read_optional(*vit, "in_channels", vision.in_channels, source, scope);
  require_string(*vit, "hidden_act", "quick_gelu", source, scope);
  require_positive(vision.depth, "vision_config.depth", source);
  require_positive(vision.embed_dim, "vision_config.embed_dim", source);
  require_positive(vision.num_heads, "vision_config.num_heads", source);
  if (vision.embed_dim % vision.num_heads != 0 || vision.head_dim() % 4 != 0) {
    fail(source, "vision_config.embed_dim / num_heads must be a multiple of 4 (2-D RoPE)");
  }
  if (vision.hidden_size != lm.hidden_size) {
    fail(source, "vision_config.hidden_size " + std::to_string(vision.hidden_size) +
                     " differs from hidden_size " + std::to_string(lm.hidden_size));
  }

  // Action settings: optional block, else LIBERO defaults.
  if (auto act = root.find("vla_action_config"); act != root.end() && !act->is_null()) {
    if (!act->is_object()) fail(source, "vla_action_config is not an object");
    ActionConfig& action = config.action;
    const std::string ascope = "vla_action_config.";
    std::string head = head_name(action.head);
    read_optional(*act, "head", head, source, ascope);
    action.head = parse_head(head, source);
    read_optional(*act, "action_dim", action.action_dim, source, ascope);
    read_optional(*act, "chunk_length", action.chunk_length, source, ascope);
    read_optional(*act, "proprio_dim", action.proprio_dim, source, ascope);
    read_optional(*act, "use_proprio", action.use_proprio, source, ascope);
    read_optional(*act, "mlp_resnet_blocks", action.mlp_resnet_blocks, source, ascope);
    read_optional(*act, "flow_steps", action.flow_steps, source, ascope);
    read_optional(*act, "tokenizer_length", action.tokenizer_length, source, ascope);
    read_optional(*act, "diffusion_steps", action.diffusion_steps, source, ascope);
    read_optional(*act, "action_placeholder_token_id", config.tokens.action_placeholder, source,
                  ascope);
    read_optional(*act, "im_end_token_id", config.tokens.im_end, source, ascope);
    read_optional(*act, "newline_token_id", config.tokens.newline, source, ascope);
    read_optional(*act, "im_start_token_id", config.tokens.im_start, source, ascope);
    read_optional(*act, "image_size", config.image_size, source, ascope);
    require_positive(action.action_dim, "vla_action_config.action_dim", source);
    require_positive(action.chunk_length, "vla_action_config.chunk_length", source);
    require_positive(action.proprio_dim, "vla_action_config.proprio_dim", source);
    require_positive(action.flow_steps, "vla_action_config.flow_steps", source);
  }
  if (auto bins = root.find("n_action_bins"); bins != root.end() && !bins->is_null()) {
    read_optional(root, "n_action_bins", config.action.n_action_bins, source, "");
  }
  return config;
}

ModelConfig load_config(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("config " + path + ": cannot open file");
  json root;
  try {
    root = json::parse(in);
  } catch (const json::parse_error& error) {
    fail(path, std::string("not valid JSON (") + error.what() + ")");
  }
  return parse_config(root, path);
}

json config_to_json(const ModelConfig& config) {
  const LmConfig& lm = config.lm;
  const VisionConfig& vision = config.vision;
  const ActionConfig& action = config.action;
  json root = {
      {"model_type", "dream-vla"},
      {"architectures", {"DreamVLAForActionPrediction"}},
      {"hidden_size", lm.hidden_size},
      {"intermediate_size", lm.intermediate_size},
      {"num_hidden_layers", lm.num_hidden_layers},
      {"num_attention_heads", lm.num_attention_heads},
      {"num_key_value_heads", lm.num_key_value_heads},
      {"hidden_act", "silu"},
      {"rms_norm_eps", lm.rms_norm_eps},
      {"rope_theta", lm.rope_theta},
      {"rope_scaling", nullptr},
      {"vocab_size", lm.vocab_size},
      {"tie_word_embeddings", lm.tie_word_embeddings},
      {"image_token_id", config.tokens.image},
      {"mask_token_id", config.tokens.mask},
      {"pad_token_id", config.tokens.pad},
      {"bos_token_id", config.tokens.pad},
      {"eos_token_id", config.tokens.pad},
      {"projector_hidden_act", "gelu"},
      {"use_sliding_window", false},
      {"torch_dtype", "float32"},
      {"n_action_bins", action.n_action_bins},
      {"norm_stats", json::object()},
      {"vision_config",
       {{"depth", vision.depth},
        {"embed_dim", vision.embed_dim},
        {"num_heads", vision.num_heads},
        {"mlp_ratio", vision.mlp_ratio},
        {"hidden_act", "quick_gelu"},
        {"hidden_size", vision.hidden_size},
        {"patch_size", vision.patch_size},
        {"spatial_merge_size", vision.spatial_merge_size},
        {"temporal_patch_size", vision.temporal_patch_size},
        {"in_chans", vision.in_channels}}},
      {"vla_action_config",
       {{"head", head_name(action.head)},
        {"action_dim", action.action_dim},
        {"chunk_length", action.chunk_length},
        {"proprio_dim", action.proprio_dim},
        {"use_proprio", action.use_proprio},
        {"mlp_resnet_blocks", action.mlp_resnet_blocks},
        {"flow_steps", action.flow_steps},
        {"tokenizer_length", action.tokenizer_length},
        {"diffusion_steps", action.diffusion_steps},
        {"action_placeholder_token_id", config.tokens.action_placeholder},
        {"im_start_token_id", config.tokens.im_start},
        {"im_end_token_id", config.tokens.im_end},
        {"newline_token_id", config.tokens.newline},
        {"image_size", config.image_size}}},
  };
  return root;
}

ModelConfig dream_7b_config() { return ModelConfig{}; }

ModelConfig tiny_config() {
  ModelConfig config;
  config.lm.vocab_size = 512;
  config.lm.hidden_size = 96;
  config.lm.intermediate_size = 192;
  config.lm.num_hidden_layers = 2;
  config.lm.num_attention_heads = 4;
  config.lm.num_key_value_heads = 2;
  config.vision.depth = 2;
  config.vision.embed_dim = 64;
  config.vision.num_heads = 4;
  config.vision.hidden_size = 96;
  config.tokens.image = 500;
  config.tokens.mask = 511;
  config.tokens.pad = 0;
  config.tokens.action_placeholder = 505;
  config.tokens.im_start = 506;
  config.tokens.im_end = 503;
  config.tokens.newline = 198;
  config.action.tokenizer_length = 512;
  return config;
}

ModelConfig small_config() {
  ModelConfig config = tiny_config();
  config.lm.hidden_size = 192;
  config.lm.intermediate_size = 512;
  config.lm.num_hidden_layers = 4;
  config.lm.num_attention_heads = 6;
  config.lm.num_key_value_heads = 2;
  config.vision.depth = 4;
  config.vision.embed_dim = 128;
  config.vision.num_heads = 4;
  config.vision.hidden_size = 192;
  return config;
}

ModelConfig named_config(const std::string& name) {
  if (name == "tiny") return tiny_config();
  if (name == "small") return small_config();
  if (name == "7b") return dream_7b_config();
  throw std::runtime_error("unknown config \"" + name + "\" (valid: tiny, small, 7b)");
}

}  // namespace policies::dream_vla
