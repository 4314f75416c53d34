#include "policies/dream_vla/cli.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "policies/dream_vla/dream_vla.h"
#include "policies/dream_vla/safetensors.h"
#include "policies/dream_vla/tokenizer.h"
#include "policies/dream_vla/tokenizer_build.h"
#include "policies/dream_vla/weights.h"

namespace policies::dream_vla {
namespace {

using Shape = std::vector<int64_t>;
using NamedShapes = std::vector<std::pair<std::string, Shape>>;

void add_layer_norm(NamedShapes& out, const std::string& name, int64_t width) {
  out.push_back({name + ".weight", {width}});
  out.push_back({name + ".bias", {width}});
}

void add_linear(NamedShapes& out, const std::string& name, int64_t out_dim, int64_t in_dim,
                bool bias = true) {
  out.push_back({name + ".weight", {out_dim, in_dim}});
  if (bias) out.push_back({name + ".bias", {out_dim}});
}

// Value of a fresh tensor by its role: norm weights 1, norm biases 0,
// embeddings N(0, 1), matrices N(0, 1/fan_in), other biases N(0, 0.02^2).
torch::Tensor init_tensor(const std::string& name, const Shape& shape, bool norm_parameter,
                          torch::Generator& generator) {
  auto options = torch::TensorOptions().dtype(torch::kFloat);
  const bool is_bias = name.size() >= 5 && name.compare(name.size() - 5, 5, ".bias") == 0;
  if (norm_parameter) return is_bias ? torch::zeros(shape, options) : torch::ones(shape, options);
  auto values = torch::randn(shape, generator, options);
  if (name.find("embed_tokens") != std::string::npos) return values;
  if (shape.size() >= 2) {
    int64_t fan_in = 1;
    for (size_t i = 1; i < shape.size(); ++i) fan_in *= shape[i];
    return values / std::sqrt(static_cast<double>(fan_in));
  }
  return values * 0.02;
}

// 1-D parameters of LayerNorm / RMSNorm modules.
bool is_norm_parameter(const std::string& name, const Shape& shape) {
  if (shape.size() != 1) return false;
  for (const char* marker : {"norm", "ln_q", "ffn.0."}) {
    if (name.find(marker) != std::string::npos) return true;
  }
  return false;
}

void write_json(const std::filesystem::path& path, const nlohmann::json& json) {
  std::ofstream out(path);
  if (!out) throw std::runtime_error("cannot write " + path.string());
  out << json.dump(2) << "\n";
  if (!out) throw std::runtime_error("error writing " + path.string());
}

// Statistics that leave normalized actions and proprio unchanged (q01 -1, q99 1).
nlohmann::json identity_statistics(const ActionConfig& action) {
  auto quantity = [](int dimensions, bool with_mask, int gripper) {
    nlohmann::json stats = {{"mean", std::vector<double>(dimensions, 0.0)},
                            {"std", std::vector<double>(dimensions, 1.0)},
                            {"min", std::vector<double>(dimensions, -1.0)},
                            {"max", std::vector<double>(dimensions, 1.0)},
                            {"q01", std::vector<double>(dimensions, -1.0)},
                            {"q99", std::vector<double>(dimensions, 1.0)}};
    if (with_mask) {
      std::vector<bool> mask(dimensions, true);
      if (gripper < dimensions) mask[gripper] = false;
      stats["mask"] = mask;
    }
    return stats;
  };
  return {{"random_init",
           {{"action", quantity(action.action_dim, true, 6)},
            {"proprio", quantity(action.proprio_dim, false, 0)},
            {"num_transitions", 0},
            {"num_trajectories", 0}}}};
}

torch::Tensor stack_steps(const std::vector<torch::Tensor>& steps) {
  return torch::stack(steps, 0).to(torch::kFloat);
}

}  // namespace

CheckpointLayout checkpoint_layout(const ModelConfig& config) {
  CheckpointLayout layout;
  const VisionConfig& vision = config.vision;
  const LmConfig& lm = config.lm;
  const ActionConfig& action = config.action;
  NamedShapes& model = layout.model;

  const int64_t embed = vision.embed_dim;
  const int64_t inner = static_cast<int64_t>(vision.mlp_ratio) * embed;
  const int64_t merged = embed * vision.spatial_merge_size * vision.spatial_merge_size;
  model.push_back({"visual.patch_embed.proj.weight",
                   {embed, vision.in_channels, vision.temporal_patch_size, vision.patch_size,
                    vision.patch_size}});
  for (int i = 0; i < vision.depth; ++i) {
    const std::string block = "visual.blocks." + std::to_string(i);
    add_layer_norm(model, block + ".norm1", embed);
    add_layer_norm(model, block + ".norm2", embed);
    add_linear(model, block + ".attn.qkv", 3 * embed, embed);
    add_linear(model, block + ".attn.proj", embed, embed);
    add_linear(model, block + ".mlp.fc1", inner, embed);
    add_linear(model, block + ".mlp.fc2", embed, inner);
  }
  add_layer_norm(model, "visual.merger.ln_q", embed);
  add_linear(model, "visual.merger.mlp.0", merged, merged);
  add_linear(model, "visual.merger.mlp.2", vision.hidden_size, merged);
  add_linear(model, "projector.linear_1", lm.hidden_size, vision.hidden_size);
  add_linear(model, "projector.linear_2", lm.hidden_size, lm.hidden_size);

  const int64_t width = lm.hidden_size;
  const int64_t q_width = static_cast<int64_t>(lm.num_attention_heads) * lm.head_dim();
  const int64_t kv_width = static_cast<int64_t>(lm.num_key_value_heads) * lm.head_dim();
  model.push_back({"model.embed_tokens.weight", {lm.vocab_size, width}});
  for (int i = 0; i < lm.num_hidden_layers; ++i) {
    const std::string layer = "model.layers." + std::to_string(i);
    model.push_back({layer + ".input_layernorm.weight", {width}});
    add_linear(model, layer + ".self_attn.q_proj", q_width, width);
    add_linear(model, layer + ".self_attn.k_proj", kv_width, width);
    add_linear(model, layer + ".self_attn.v_proj", kv_width, width);
    add_linear(model, layer + ".self_attn.o_proj", width, q_width, false);
    model.push_back({layer + ".post_attention_layernorm.weight", {width}});
    add_linear(model, layer + ".mlp.gate_proj", lm.intermediate_size, width, false);
    add_linear(model, layer + ".mlp.up_proj", lm.intermediate_size, width, false);
    add_linear(model, layer + ".mlp.down_proj", width, lm.intermediate_size, false);
  }
  model.push_back({"model.norm.weight", {width}});
  if (!lm.tie_word_embeddings) add_linear(model, "lm_head", lm.vocab_size, width, false);

  NamedShapes& heads = layout.heads;
  if (action.head == ActionHeadKind::kFlowMatching) {
    const std::string mlp = "action_head.flow_predictor.mlp_resnet";
    const int64_t input = width * action.action_dim;
    add_layer_norm(heads, mlp + ".layer_norm1", input);
    add_linear(heads, mlp + ".fc1", width, input);
    for (int i = 0; i < action.mlp_resnet_blocks; ++i) {
      const std::string block = mlp + ".mlp_resnet_blocks." + std::to_string(i);
      add_layer_norm(heads, block + ".ffn.0", width);
      add_linear(heads, block + ".ffn.1", width, width);
    }
    add_layer_norm(heads, mlp + ".layer_norm2", width);
    add_linear(heads, mlp + ".fc2", action.action_dim, width);
    add_linear(heads, "noisy_action_projector.fc1", width, 1);
    add_linear(heads, "noisy_action_projector.fc2", width, width);
  }
  if (action.use_proprio) {
    add_linear(heads, "proprio_projector.fc1", width, action.proprio_dim);
    add_linear(heads, "proprio_projector.fc2", width, width);
  }
  return layout;
}

void init_checkpoint(const ModelConfig& config, const std::string& out_dir,
                     const InitSettings& settings) {
  namespace fs = std::filesystem;
  if (settings.dtype != torch::kFloat && settings.dtype != torch::kBFloat16) {
    throw std::runtime_error("dream-vla init: --dtype must be f32 or bf16");
  }
  const fs::path dir(out_dir);
  fs::create_directories(dir);
  nlohmann::json config_json = config_to_json(config);
  config_json["torch_dtype"] = settings.dtype == torch::kFloat ? "float32" : "bfloat16";
  write_json(dir / "config.json", config_json);

  auto generator = at::detail::createCPUGenerator(settings.seed);
  const int64_t element_bytes = settings.dtype == torch::kFloat ? 4 : 2;
  const CheckpointLayout layout = checkpoint_layout(config);

  // Assign model tensors to shards by size (in layout order).
  std::vector<std::vector<size_t>> shards(1);
  int64_t shard_size = 0, total_size = 0;
  for (size_t i = 0; i < layout.model.size(); ++i) {
    const int64_t bytes = element_count(layout.model[i].second) * element_bytes;
    if (shard_size > 0 && shard_size + bytes > settings.shard_bytes) {
      shards.emplace_back();
      shard_size = 0;
    }
    shards.back().push_back(i);
    shard_size += bytes;
    total_size += bytes;
  }
  auto write_group = [&](const NamedShapes& entries, const std::vector<size_t>& indices,
                         const fs::path& path) {
    std::map<std::string, torch::Tensor> tensors;
    for (size_t index : indices) {
      const auto& [name, shape] = entries[index];
      tensors[name] = init_tensor(name, shape, is_norm_parameter(name, shape), generator)
                          .to(settings.dtype)
                          .contiguous();
    }
    write_safetensors(path.string(), views_of(tensors), {{"format", "pt"}});
  };
  if (shards.size() == 1) {
    write_group(layout.model, shards[0], dir / "model.safetensors");
  } else {
    nlohmann::json weight_map = nlohmann::json::object();
    const size_t count = shards.size();
    for (size_t s = 0; s < count; ++s) {
      char file[64];
      std::snprintf(file, sizeof(file), "model-%05zu-of-%05zu.safetensors", s + 1, count);
      write_group(layout.model, shards[s], dir / file);
      for (size_t index : shards[s]) weight_map[layout.model[index].first] = file;
    }
    write_json(dir / "model.safetensors.index.json",
               {{"metadata", {{"total_size", total_size}}}, {"weight_map", weight_map}});
  }
  // Processor settings, identity statistics and (tiny vocabularies only) a
  // byte-level tokenizer, so that the checkpoint runs as a policy.
  ImageProcessorConfig processor;
  processor.patch_size = config.vision.patch_size;
  processor.temporal_patch_size = config.vision.temporal_patch_size;
  processor.merge_size = config.vision.spatial_merge_size;
  write_json(dir / "preprocessor_config.json", image_processor_config_json(processor));
  write_json(dir / "dataset_statistics.json", identity_statistics(config.action));
  if (config.lm.vocab_size <= 4096) {
    write_json(dir / "tokenizer.json", byte_level_tokenizer(config.tokens, config.lm.vocab_size));
  }
  if (!layout.heads.empty()) {
    std::vector<size_t> all(layout.heads.size());
    for (size_t i = 0; i < all.size(); ++i) all[i] = i;
    write_group(layout.heads, all, dir / "action_heads.safetensors");
  }
}

std::map<std::string, torch::Tensor> forward_tensors(
    const DreamVlaModel& model, const std::map<std::string, torch::Tensor>& inputs) {
  torch::NoGradGuard no_grad;
  const auto device = model.options().device;
  const auto dtype = model.options().dtype;
  auto input = [&](const std::string& name) -> torch::Tensor {
    auto it = inputs.find(name);
    return it == inputs.end() ? torch::Tensor() : it->second;
  };
  std::map<std::string, torch::Tensor> out;
  auto output = [&](const std::string& name, const torch::Tensor& value) {
    out[name] =
        value.to(torch::kCPU, value.is_floating_point() ? torch::kFloat : value.scalar_type())
            .contiguous();
  };

  auto pixel_values = input("pixel_values");
  auto grid = input("image_grid_thw");
  auto input_ids = input("input_ids");
  auto noise = input("noise");
  if (pixel_values.defined() && grid.defined()) {
    auto merged = model.vision().forward(pixel_values.to(device), grid);
    output("vision_out", merged);
    output("image_features", model.image_features(pixel_values.to(device), grid));
  }
  if (input_ids.defined() && !noise.defined()) {
    auto ids = input_ids.to(device, torch::kLong);
    auto mask = input("attention_mask");
    mask = mask.defined() ? mask.to(device, torch::kLong) : torch::ones_like(ids);
    auto positions = input("position_ids");
    positions = positions.defined() ? positions.to(device, torch::kLong)
                                    : (mask.cumsum(1) - 1).clamp_min(0);
    const DreamLm& lm = model.lm();
    auto hidden = lm.forward(lm.embed(ids), mask, positions);
    auto logits = lm.logits(hidden);
    output("bidir_hidden", hidden);
    output("bidir_logits", logits);
    output("bidir_logits_shifted", DreamLm::shift_logits(logits));
  }
  if (input_ids.defined() && noise.defined()) {
    VlaBatch batch;
    batch.input_ids = input_ids;
    batch.attention_mask = input("attention_mask");
    batch.pixel_values = pixel_values;
    batch.image_grid_thw = grid;
    batch.proprio = input("proprio");
    FlowTrace trace;
    output("actions", model.predict_flow(batch, noise, &trace));
    output("step_velocity", stack_steps(trace.velocity));
    output("step_x_after", stack_steps(trace.x_after));
  }
  if (auto hidden = input("actions_hidden_states"); hidden.defined()) {
    if (model.flow_head() == nullptr)
      throw std::runtime_error("the model has no flow-matching head");
    output("velocity", model.flow_head()->predict_velocity(hidden.to(device, dtype)));
  }
  if (auto noisy = input("noisy_actions"); noisy.defined() && model.noisy_action_projector()) {
    output("noisy_action_features", model.noisy_action_projector()->forward(
                                        noisy.to(device, dtype).reshape({noisy.size(0), -1, 1})));
  }
  if (auto proprio = input("proprio");
      proprio.defined() && !input_ids.defined() && model.proprio_projector() != nullptr) {
    output("proprio_features", model.proprio_projector()->forward(proprio.to(device, dtype)));
  }
  if (out.empty()) {
    throw std::runtime_error(
        "dream-vla forward: the inputs hold none of pixel_values+image_grid_thw, input_ids, "
        "actions_hidden_states, noisy_actions, proprio");
  }
  return out;
}

void forward_command(const std::string& checkpoint_dir, const std::string& inputs_path,
                     const std::string& out_path, const ModelOptions& options) {
  auto model = DreamVlaModel::load(checkpoint_dir, options);
  const WeightStore store = WeightStore::open(inputs_path);
  std::map<std::string, torch::Tensor> inputs;
  for (const std::string& name : store.names()) {
    inputs[name] = to_tensor(*store.find(name), torch::kFloat, torch::kCPU);
  }
  const auto outputs = forward_tensors(*model, inputs);
  write_safetensors(out_path, views_of(outputs), {{"format", "pt"}});
}

torch::Device parse_device(const std::string& name) {
  if (name == "cpu") return torch::kCPU;
  if (name.rfind("cuda", 0) == 0) {
    if (!torch::cuda::is_available()) {
      throw std::runtime_error("--device " + name +
                               ": CUDA is not available in this build/machine");
    }
    return torch::Device(name);
  }
  throw std::runtime_error("--device " + name + ": expected cpu, cuda or cuda:N");
}

torch::ScalarType parse_run_dtype(const std::string& name) {
  if (name == "f32" || name == "float32") return torch::kFloat;
  if (name == "bf16" || name == "bfloat16") return torch::kBFloat16;
  throw std::runtime_error("--dtype " + name + ": expected f32 or bf16");
}

void add_cli_commands(CLI::App& app) {
  CLI::App* group = app.add_subcommand("dream-vla", "Embedded Dream-VLA tools");
  group->require_subcommand(1);

  // init: random checkpoint in the published layout.
  struct InitArgs {
    std::string config = "tiny", out, dtype = "f32";
    uint64_t seed = 0;
  };
  auto init_args = std::make_shared<InitArgs>();
  CLI::App* init = group->add_subcommand("init", "Write a random-initialised checkpoint");
  init->add_option("--config", init_args->config, "tiny or 7b")
      ->check(CLI::IsMember({"tiny", "7b"}));
  init->add_option("--out", init_args->out, "output directory")->required();
  init->add_option("--dtype", init_args->dtype, "stored dtype: f32 or bf16");
  init->add_option("--seed", init_args->seed, "random seed");
  init->callback([init_args] {
    InitSettings settings;
    settings.seed = init_args->seed;
    settings.dtype = parse_run_dtype(init_args->dtype);
    init_checkpoint(named_config(init_args->config), init_args->out, settings);
    std::cout << "wrote " << init_args->config << " checkpoint to " << init_args->out << "\n";
  });

  // forward: run the networks on fixture-named tensors.
  struct ForwardArgs {
    std::string checkpoint, inputs, out, device = "cpu", dtype = "f32";
  };
  auto forward_args = std::make_shared<ForwardArgs>();
  CLI::App* forward = group->add_subcommand("forward", "Run vision/LM/heads on a tensors file");
  forward->add_option("--checkpoint", forward_args->checkpoint, "checkpoint directory")->required();
  forward->add_option("--inputs", forward_args->inputs, "input .safetensors")->required();
  forward->add_option("--out", forward_args->out, "output .safetensors")->required();
  forward->add_option("--device", forward_args->device, "cpu or cuda[:N]");
  forward->add_option("--dtype", forward_args->dtype, "f32 or bf16");
  forward->callback([forward_args] {
    ModelOptions options;
    options.device = parse_device(forward_args->device);
    options.dtype = parse_run_dtype(forward_args->dtype);
    forward_command(forward_args->checkpoint, forward_args->inputs, forward_args->out, options);
    std::cout << "wrote " << forward_args->out << "\n";
  });

  // tokenize: ids of a text as a JSON array.
  struct TokenizeArgs {
    std::string tokenizer, text;
  };
  auto tokenize_args = std::make_shared<TokenizeArgs>();
  CLI::App* tokenize = group->add_subcommand("tokenize", "Print the token ids of a text");
  tokenize->add_option("--tokenizer", tokenize_args->tokenizer, "tokenizer.json")->required();
  tokenize->add_option("text", tokenize_args->text, "text to encode")->required();
  tokenize->callback([tokenize_args] {
    const Tokenizer tokenizer = Tokenizer::load(tokenize_args->tokenizer);
    std::cout << nlohmann::json(tokenizer.encode(tokenize_args->text)).dump() << "\n";
  });
}

}  // namespace policies::dream_vla
