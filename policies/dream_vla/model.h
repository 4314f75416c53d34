// The whole Dream-VLA: vision tower + projector + Dream LM + action heads, the
// input sequence of spec section 5 ([proprio, time, prompt with image
// features, action slots, suffix]) and the two decoders (flow matching with
// Euler steps; discrete diffusion over action tokens). Includes libtorch.
#pragma once

#include <torch/torch.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "policies/dream_vla/action_head.h"
#include "policies/dream_vla/config.h"
#include "policies/dream_vla/generate.h"
#include "policies/dream_vla/image.h"
#include "policies/dream_vla/lm.h"
#include "policies/dream_vla/vision.h"

namespace policies::dream_vla {

// Where and in which precision the model runs.
struct ModelOptions {
  torch::Device device = torch::kCPU;       // CPU or CUDA
  torch::ScalarType dtype = torch::kFloat;  // float32 or bfloat16 (weights and activations)
  bool trainable = false;  // weights require grad and are listed by parameters()
};

// Every weight by published name (trainable models only).
using ParameterMap = std::map<std::string, torch::Tensor>;

// A batch of queries ready for the model. Rows are left-padded to one length.
struct VlaBatch {
  torch::Tensor input_ids;       // (B, L) int64; for flow matching ending in slots + suffix
  torch::Tensor attention_mask;  // (B, L) int64 {0 padding, 1 token}
  torch::Tensor pixel_values;    // (N, C*T*p*p) all images of all rows, in row order
  torch::Tensor image_grid_thw;  // (I, 3) int64
  torch::Tensor proprio;         // (B, proprio_dim) normalized; undefined without proprio
};

// Per-step tensors of the flow-matching loop, for parity checks.
struct FlowTrace {
  torch::Tensor image_features;               // (tokens, D) after the projector
  torch::Tensor base_embeds;                  // (B, L, D) with image features spliced in
  std::vector<float> times;                   // t per step (bf16 values)
  std::vector<torch::Tensor> inputs_embeds;   // (B, L + prefix, D)
  std::vector<torch::Tensor> position_ids;    // (B, L + prefix)
  std::vector<torch::Tensor> last_hidden;     // (B, L + prefix, D)
  std::vector<torch::Tensor> actions_hidden;  // (B, slots, D)
  std::vector<torch::Tensor> velocity;        // (B, chunk, action_dim)
  std::vector<torch::Tensor> x_after;         // (B, chunk, action_dim)
};

// Left-pads `prompts` with `pad_id` into input_ids / attention_mask and wraps
// `pixels` (kept alive by the caller: pixel_values is a view of its data).
VlaBatch pack_batch(const std::vector<std::vector<int64_t>>& prompts, int64_t pad_id,
                    PixelValues& pixels, const torch::Tensor& proprio);

class DreamVlaModel {
 public:
  // Loads every network from `weights` (published names: visual.*, model.*,
  // lm_head.weight, projector.*) and the action modules from `head_weights`
  // (action_head.*, noisy_action_projector.*, proprio_projector.*). Throws
  // naming the tensor for a missing or wrong-shaped weight.
  DreamVlaModel(const ModelConfig& config, const WeightStore& weights,
                const WeightStore& head_weights, const ModelOptions& options = {});

  // A checkpoint directory: config.json, model weights (model.safetensors,
  // shards with model.safetensors.index.json, or any *.safetensors), and the
  // action modules in action_heads.safetensors (or inside the model weights).
  static std::unique_ptr<DreamVlaModel> load(const std::string& checkpoint_dir,
                                             const ModelOptions& options = {});

  const ModelConfig& config() const { return config_; }
  const ModelOptions& options() const { return options_; }
  const VisionTower& vision() const { return vision_; }
  const DreamLm& lm() const { return lm_; }
  // The action modules (nullptr when the configuration has none).
  const FlowMatchingHead* flow_head() const { return flow_head_ ? &*flow_head_ : nullptr; }
  const TwoLayerProjector* noisy_action_projector() const {
    return noisy_action_projector_ ? &*noisy_action_projector_ : nullptr;
  }
  const TwoLayerProjector* proprio_projector() const {
    return proprio_projector_ ? &*proprio_projector_ : nullptr;
  }

  // Vision tower + projector: (N, patch values) -> (N / merge^2, D).
  torch::Tensor image_features(const torch::Tensor& pixel_values,
                               const torch::Tensor& image_grid_thw) const;
  // Token embeddings with image features written, in order, at image tokens.
  torch::Tensor splice_images(const torch::Tensor& input_ids, const torch::Tensor& features) const;

  // Ids appended to a prompt for the continuous heads: slots placeholders then
  // the chat suffix [<|im_end|>, "\n"].
  std::vector<int64_t> action_suffix() const;

  // Flow matching: Euler steps from `noise` (B, chunk, action_dim) with the
  // bf16 time schedule of `steps` (0: the configured flow_steps); image
  // features are computed once. Returns the normalized actions
  // (B, chunk, action_dim) in float32.
  torch::Tensor predict_flow(const VlaBatch& batch, const torch::Tensor& noise,
                             FlowTrace* trace = nullptr, int steps = 0) const;

  // The flow-matching training objective of the released code: x_t = (1 - t)
  // noise + t actions, mean squared error between the predicted velocity and
  // actions - noise. actions and noise (B, chunk, action_dim) normalized,
  // time (B) float32. Returns a scalar (differentiable when trainable).
  torch::Tensor flow_matching_loss(const VlaBatch& batch, const torch::Tensor& actions,
                                   const torch::Tensor& noise, const torch::Tensor& time) const;

  // The weights of a model loaded with options.trainable (empty otherwise).
  const ParameterMap& parameters() const { return *parameters_; }

  // Discrete diffusion: decodes slots + 2 tokens after the prompt with
  // diffusion_generate, then maps the first slots tokens through the 256-bin
  // action tokenizer. `batch.input_ids` holds the prompt only.
  torch::Tensor predict_discrete(const VlaBatch& batch, const GenerateSettings& settings,
                                 c10::optional<torch::Generator> generator = c10::nullopt) const;

  // Multiply-accumulates of one flow-matching query batch (vision once, LM and
  // head per Euler step): B rows of L tokens with `patches` patches in
  // segments of `segment`.
  double flow_query_macs(int64_t batch, int64_t length, int64_t patches, int64_t segment) const;

 private:
  // What every Euler step (or training step) of flow matching shares.
  struct FlowContext {
    int64_t rows = 0;
    torch::Tensor attention_mask;     // (B, L)
    torch::Tensor base;               // (B, L, D) embeddings with image features
    torch::Tensor slot_scatter_mask;  // (B, L, 1) action slots
    torch::Tensor read_index;         // (B, slots, D) positions read by the head
    torch::Tensor proprio_token;      // (B, D) or undefined
  };
  FlowContext prepare_flow(const VlaBatch& batch, FlowTrace* trace) const;
  // Velocity (B, chunk, action_dim) at noisy actions x and times `time` (B).
  torch::Tensor flow_velocity(const FlowContext& context, const torch::Tensor& x,
                              const torch::Tensor& time, FlowTrace* trace) const;

  // LM over [proprio?, time?, embeds]; returns hidden states without the prefix.
  torch::Tensor run_lm(const torch::Tensor& embeds, const torch::Tensor& attention_mask,
                       const torch::Tensor& proprio_token, const torch::Tensor& time_token,
                       FlowTrace* trace) const;

  ModelConfig config_;
  ModelOptions options_;
  std::shared_ptr<ParameterMap> parameters_;  // filled by the loaders when trainable
  VisionTower vision_;
  Projector projector_;
  DreamLm lm_;
  std::optional<FlowMatchingHead> flow_head_;
  std::optional<TwoLayerProjector> noisy_action_projector_;
  std::optional<TwoLayerProjector> proprio_projector_;
};

}  // namespace policies::dream_vla
