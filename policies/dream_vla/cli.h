// The functions behind `vla-harness dream-vla init|forward|tokenize`, callable
// from tests. Includes libtorch.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "policies/dream_vla/config.h"
#include "policies/dream_vla/model.h"

namespace policies::dream_vla {

// Published tensor names and shapes of a checkpoint for `config`: the model
// weights (visual.*, projector.*, model.*, lm_head.weight) and, separately,
// the action modules (action_head.*, noisy_action_projector.*, proprio_projector.*).
struct CheckpointLayout {
  std::vector<std::pair<std::string, std::vector<int64_t>>> model;
  std::vector<std::pair<std::string, std::vector<int64_t>>> heads;
};
CheckpointLayout checkpoint_layout(const ModelConfig& config);

struct InitSettings {
  uint64_t seed = 0;                        // random generator seed
  torch::ScalarType dtype = torch::kFloat;  // stored dtype (float32 or bfloat16)
  int64_t shard_bytes = 2LL << 30;          // split model weights into shards above this size
};

// Writes a random-initialised checkpoint to `out_dir`: config.json,
// model.safetensors (or model-0000i-of-0000n.safetensors shards with
// model.safetensors.index.json) and action_heads.safetensors. Linear weights
// N(0, 1/fan_in), biases N(0, 0.02^2), norm weights 1, embeddings N(0, 1).
void init_checkpoint(const ModelConfig& config, const std::string& out_dir,
                     const InitSettings& settings = {});

// Runs whatever the inputs allow, with fixture names:
//   pixel_values + image_grid_thw            -> vision_out, image_features
//   input_ids (+ attention_mask, position_ids), no noise
//                                            -> bidir_hidden, bidir_logits, bidir_logits_shifted
//   input_ids + noise (+ attention_mask, pixel_values, image_grid_thw, proprio)
//                                            -> actions (B, chunk, action_dim), step_velocity
//   actions_hidden_states                    -> velocity
//   noisy_actions                            -> noisy_action_features
//   proprio without input_ids                -> proprio_features
// Throws if none applies.
std::map<std::string, torch::Tensor> forward_tensors(
    const DreamVlaModel& model, const std::map<std::string, torch::Tensor>& inputs);

// `dream-vla forward`: reads `inputs_path`, runs forward_tensors, writes `out_path`.
void forward_command(const std::string& checkpoint_dir, const std::string& inputs_path,
                     const std::string& out_path, const ModelOptions& options = {});

// "cpu", "cuda", "cuda:N" / "f32", "bf16"; anything else throws naming the flag.
torch::Device parse_device(const std::string& name);
torch::ScalarType parse_run_dtype(const std::string& name);

}  // namespace policies::dream_vla
