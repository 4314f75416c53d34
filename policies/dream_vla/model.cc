#include "policies/dream_vla/model.h"

#include <filesystem>
#include <stdexcept>

namespace policies::dream_vla {
namespace {

WeightLoader make_loader(const WeightStore& weights, const ModelOptions& options,
                         const std::shared_ptr<ParameterMap>& parameters) {
  WeightLoader loader(weights, options.dtype, options.device);
  if (options.trainable) loader.collect_parameters(parameters);
  return loader;
}

DreamLm load_lm(const LmConfig& config, const WeightStore& weights, const ModelOptions& options,
                const std::shared_ptr<ParameterMap>& parameters) {
  WeightLoader loader = make_loader(weights, options, parameters);
  return DreamLm(config, loader);
}

}  // namespace

VlaBatch pack_batch(const std::vector<std::vector<int64_t>>& prompts, int64_t pad_id,
                    PixelValues& pixels, const torch::Tensor& proprio) {
  const int64_t rows = static_cast<int64_t>(prompts.size());
  size_t longest = 0;
  for (const auto& ids : prompts) longest = std::max(longest, ids.size());
  auto input_ids = torch::full({rows, static_cast<int64_t>(longest)}, pad_id, torch::kLong);
  auto attention_mask = torch::zeros({rows, static_cast<int64_t>(longest)}, torch::kLong);
  for (int64_t row = 0; row < rows; ++row) {
    const auto& ids = prompts[row];
    const int64_t offset = static_cast<int64_t>(longest - ids.size());
    const int64_t count = static_cast<int64_t>(ids.size());
    std::copy(ids.begin(), ids.end(), input_ids[row].data_ptr<int64_t>() + offset);
    attention_mask[row].narrow(0, offset, count).fill_(1);
  }
  VlaBatch batch;
  batch.input_ids = input_ids;
  batch.attention_mask = attention_mask;
  batch.pixel_values =
      torch::from_blob(pixels.data.data(), {pixels.rows, pixels.cols}, torch::kFloat);
  std::vector<int64_t> grid;
  for (const auto& thw : pixels.grid_thw) grid.insert(grid.end(), thw.begin(), thw.end());
  batch.image_grid_thw =
      torch::tensor(grid, torch::kLong).reshape({static_cast<int64_t>(pixels.grid_thw.size()), 3});
  batch.proprio = proprio;
  return batch;
}

DreamVlaModel::DreamVlaModel(const ModelConfig& config, const WeightStore& weights,
                             const WeightStore& head_weights, const ModelOptions& options)
    : config_(config),
      options_(options),
      parameters_(std::make_shared<ParameterMap>()),
      vision_(config.vision, make_loader(weights, options, parameters_).sub("visual")),
      projector_(config.vision.hidden_size, config.lm.hidden_size,
                 make_loader(weights, options, parameters_).sub("projector")),
      lm_(load_lm(config.lm, weights, options, parameters_)) {
  const int64_t width = config.lm.hidden_size;
  WeightLoader heads = make_loader(head_weights, options, parameters_);
  if (config.action.head == ActionHeadKind::kFlowMatching) {
    flow_head_.emplace(config.action, width, heads.sub("action_head"));
    noisy_action_projector_.emplace(1, width, heads.sub("noisy_action_projector"));
  }
  if (config.action.use_proprio) {
    proprio_projector_.emplace(config.action.proprio_dim, width, heads.sub("proprio_projector"));
  }
}

std::unique_ptr<DreamVlaModel> DreamVlaModel::load(const std::string& checkpoint_dir,
                                                   const ModelOptions& options) {
  namespace fs = std::filesystem;
  const fs::path dir(checkpoint_dir);
  if (!fs::is_directory(dir)) {
    throw std::runtime_error("checkpoint " + checkpoint_dir + ": not a directory");
  }
  const ModelConfig config = load_config((dir / "config.json").string());
  const WeightStore weights = WeightStore::open(checkpoint_dir);
  const fs::path heads_file = dir / "action_heads.safetensors";
  if (fs::exists(heads_file)) {
    const WeightStore heads = WeightStore::open(heads_file.string());
    return std::make_unique<DreamVlaModel>(config, weights, heads, options);
  }
  return std::make_unique<DreamVlaModel>(config, weights, weights, options);
}

torch::Tensor DreamVlaModel::image_features(const torch::Tensor& pixel_values,
                                            const torch::Tensor& image_grid_thw) const {
  return projector_.forward(vision_.forward(pixel_values, image_grid_thw));
}

torch::Tensor DreamVlaModel::splice_images(const torch::Tensor& input_ids,
                                           const torch::Tensor& features) const {
  auto embeds = lm_.embed(input_ids);
  auto image_positions = input_ids.eq(config_.tokens.image);
  const int64_t count = image_positions.sum().item<int64_t>();
  const int64_t rows = features.defined() ? features.size(0) : 0;
  if (count != rows) {
    throw std::runtime_error("Dream-VLA input: " + std::to_string(count) + " image tokens but " +
                             std::to_string(rows) + " image feature rows");
  }
  if (count == 0) return embeds;
  return embeds.masked_scatter(image_positions.unsqueeze(-1), features.to(embeds.scalar_type()));
}

std::vector<int64_t> DreamVlaModel::action_suffix() const {
  std::vector<int64_t> ids(config_.action.slots(), config_.tokens.action_placeholder);
  ids.push_back(config_.tokens.im_end);
  ids.push_back(config_.tokens.newline);
  return ids;
}

torch::Tensor DreamVlaModel::run_lm(const torch::Tensor& embeds,
                                    const torch::Tensor& attention_mask,
                                    const torch::Tensor& proprio_token,
                                    const torch::Tensor& time_token, FlowTrace* trace) const {
  const int64_t batch = embeds.size(0);
  const int64_t length = embeds.size(1);
  // Prepended order: proprio first, then the timestep token (spec 5.4).
  std::vector<torch::Tensor> parts;
  if (proprio_token.defined()) parts.push_back(proprio_token.unsqueeze(1));
  if (time_token.defined()) parts.push_back(time_token.unsqueeze(1));
  const int64_t prefix = static_cast<int64_t>(parts.size());
  parts.push_back(embeds);
  auto sequence = torch::cat(parts, 1);
  auto long_options = torch::TensorOptions().dtype(torch::kLong).device(embeds.device());
  auto mask =
      torch::cat({torch::ones({batch, prefix}, long_options), attention_mask.to(long_options)}, 1);
  // DreamVLModel.forward: positions = cumsum(mask), 1-based.
  auto positions = mask.cumsum(1);
  auto hidden = lm_.forward(sequence, mask, positions);
  if (trace != nullptr) {
    trace->inputs_embeds.push_back(sequence);
    trace->position_ids.push_back(positions);
    trace->last_hidden.push_back(hidden);
  }
  return hidden.narrow(1, prefix, length);
}

DreamVlaModel::FlowContext DreamVlaModel::prepare_flow(const VlaBatch& batch,
                                                       FlowTrace* trace) const {
  if (!flow_head_) throw std::runtime_error("Dream-VLA: the model has no flow-matching head");
  const ActionConfig& action = config_.action;
  const auto device = options_.device;
  const auto dtype = options_.dtype;
  auto ids = batch.input_ids.to(device, torch::kLong);
  const int64_t rows = ids.size(0);
  const int64_t slots = action.slots();
  const int64_t width = config_.lm.hidden_size;
  FlowContext context;
  context.rows = rows;
  context.attention_mask =
      batch.attention_mask.defined() ? batch.attention_mask.to(device) : torch::ones_like(ids);

  // Image features once per query batch, not per Euler step.
  torch::Tensor features;
  if (batch.pixel_values.defined() && batch.pixel_values.numel() > 0) {
    features = image_features(batch.pixel_values.to(device), batch.image_grid_thw);
  }
  context.base = splice_images(ids, features);

  // Action slots and the positions read by the head (slot - 1: Dream shift).
  auto slot_mask = ids.eq(config_.tokens.action_placeholder);
  auto per_row = slot_mask.sum(1);
  if (!per_row.eq(slots).all().item<bool>()) {
    throw std::runtime_error("Dream-VLA flow matching: every row needs " + std::to_string(slots) +
                             " action placeholder tokens (id " +
                             std::to_string(config_.tokens.action_placeholder) + ")");
  }
  auto slot_positions = slot_mask.nonzero().select(1, 1).reshape({rows, slots});
  if (slot_positions.min().item<int64_t>() < 1) {
    throw std::runtime_error("Dream-VLA flow matching: an action slot at position 0");
  }
  context.read_index = (slot_positions - 1).unsqueeze(-1).expand({rows, slots, width});
  context.slot_scatter_mask = slot_mask.unsqueeze(-1);

  if (proprio_projector_) {
    if (!batch.proprio.defined() || batch.proprio.dim() != 2 || batch.proprio.size(0) != rows ||
        batch.proprio.size(1) != action.proprio_dim) {
      throw std::runtime_error("Dream-VLA: proprio must be (" + std::to_string(rows) + ", " +
                               std::to_string(action.proprio_dim) + ")");
    }
    context.proprio_token = proprio_projector_->forward(batch.proprio.to(device, dtype));
  }
  if (trace != nullptr) {
    trace->image_features = features;
    trace->base_embeds = context.base;
  }
  return context;
}

torch::Tensor DreamVlaModel::flow_velocity(const FlowContext& context, const torch::Tensor& x,
                                           const torch::Tensor& time, FlowTrace* trace) const {
  const int64_t rows = context.rows;
  const int64_t width = config_.lm.hidden_size;
  auto time_token = sinusoidal_time_embedding(time, width).to(options_.dtype);
  auto noisy_features =
      noisy_action_projector_->forward(x.reshape({rows, config_.action.slots(), 1}));
  auto embeds = context.base.masked_scatter(context.slot_scatter_mask, noisy_features);
  auto hidden = run_lm(embeds, context.attention_mask, context.proprio_token, time_token, trace);
  auto actions_hidden = hidden.gather(1, context.read_index);
  auto velocity = flow_head_->predict_velocity(actions_hidden);
  if (trace != nullptr) {
    trace->actions_hidden.push_back(actions_hidden);
    trace->velocity.push_back(velocity);
  }
  return velocity;
}

torch::Tensor DreamVlaModel::predict_flow(const VlaBatch& batch, const torch::Tensor& noise,
                                          FlowTrace* trace, int steps) const {
  const ActionConfig& action = config_.action;
  const int64_t rows = batch.input_ids.size(0);
  if (noise.dim() != 3 || noise.size(0) != rows || noise.size(1) != action.chunk_length ||
      noise.size(2) != action.action_dim) {
    throw std::runtime_error("Dream-VLA flow matching: noise must be (" + std::to_string(rows) +
                             ", " + std::to_string(action.chunk_length) + ", " +
                             std::to_string(action.action_dim) + "), found " +
                             c10::str(noise.sizes()));
  }
  const FlowContext context = prepare_flow(batch, trace);
  const auto device = options_.device;
  auto x = noise.to(device, options_.dtype);
  const int flow_steps = steps > 0 ? steps : action.flow_steps;
  const double dt = 1.0 / flow_steps;
  for (float t : flow_time_schedule(flow_steps)) {
    auto time = torch::full({rows}, t, torch::TensorOptions().dtype(torch::kFloat).device(device));
    auto velocity = flow_velocity(context, x, time, trace);
    x = x + velocity * dt;
    if (trace != nullptr) {
      trace->times.push_back(t);
      trace->x_after.push_back(x);
    }
  }
  return x.to(torch::kFloat);
}

torch::Tensor DreamVlaModel::flow_matching_loss(const VlaBatch& batch, const torch::Tensor& actions,
                                                const torch::Tensor& noise,
                                                const torch::Tensor& time) const {
  const auto device = options_.device;
  const auto dtype = options_.dtype;
  const FlowContext context = prepare_flow(batch, nullptr);
  auto a = actions.to(device, dtype);
  auto e = noise.to(device, dtype);
  auto t = time.to(device, torch::kFloat);
  auto t3 = t.to(dtype).view({-1, 1, 1});
  auto x_t = (1 - t3) * e + t3 * a;
  auto velocity = flow_velocity(context, x_t, t, nullptr);
  return (velocity.to(torch::kFloat) - (a - e).to(torch::kFloat)).pow(2).mean();
}

torch::Tensor DreamVlaModel::predict_discrete(const VlaBatch& batch,
                                              const GenerateSettings& settings,
                                              c10::optional<torch::Generator> generator) const {
  const ActionConfig& action = config_.action;
  const auto device = options_.device;
  auto ids = batch.input_ids.to(device, torch::kLong);
  const int64_t rows = ids.size(0);
  const int64_t prompt_length = ids.size(1);
  if (settings.max_new_tokens < action.slots()) {
    throw std::runtime_error("Dream-VLA discrete diffusion: max_new_tokens below the action slots");
  }
  torch::Tensor features;
  if (batch.pixel_values.defined() && batch.pixel_values.numel() > 0) {
    features = image_features(batch.pixel_values.to(device), batch.image_grid_thw);
  }
  torch::Tensor proprio_token;
  if (proprio_projector_) {
    proprio_token = proprio_projector_->forward(batch.proprio.to(device, options_.dtype));
  }
  // Embeddings are rebuilt from the current tokens each step (image positions
  // are never masked, so this equals the reference's cached-embedding refresh).
  LogitsFunction logits_function = [&](const torch::Tensor& x, const torch::Tensor& mask,
                                       const torch::Tensor&) {
    auto hidden = run_lm(splice_images(x, features), mask, proprio_token, {}, nullptr);
    return lm_.logits(hidden);
  };
  auto sequence =
      diffusion_generate(logits_function, ids, batch.attention_mask, settings, generator);
  auto tokens = sequence.narrow(1, prompt_length, action.slots());
  ActionTokenizer tokenizer(action.n_action_bins, action.tokenizer_length);
  return tokenizer.decode(tokens).reshape({rows, action.chunk_length, action.action_dim});
}

double DreamVlaModel::flow_query_macs(int64_t batch, int64_t length, int64_t patches,
                                      int64_t segment) const {
  const ActionConfig& action = config_.action;
  const double width = config_.lm.hidden_size;
  const int64_t prefix = 1 + (config_.action.use_proprio ? 1 : 0);
  const double merge = config_.vision.spatial_merge_size * config_.vision.spatial_merge_size;
  const double vision = VisionTower::forward_macs(config_.vision, patches, segment) +
                        (patches / merge) * (config_.vision.hidden_size * width + width * width);
  const double head = static_cast<double>(batch) * action.chunk_length *
                          (action.action_dim * width * width +
                           action.mlp_resnet_blocks * width * width + width * action.action_dim) +
                      static_cast<double>(batch) * action.slots() * (width + width * width);
  const double proprio = static_cast<double>(batch) * (action.proprio_dim * width + width * width);
  const double steps = static_cast<double>(flow_time_schedule(action.flow_steps).size());
  return vision + proprio +
         steps * (DreamLm::forward_macs(config_.lm, batch, length + prefix) + head);
}

}  // namespace policies::dream_vla
