#include "policies/dream_vla/train.h"

#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <csignal>
#include <future>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <thread>

#include "envs/random.h"
#include "policies/dream_vla/cli.h"
#include "policies/dream_vla/config.h"
#include "policies/dream_vla/demo_data.h"
#include "policies/dream_vla/image.h"
#include "policies/dream_vla/model.h"
#include "policies/dream_vla/postprocess.h"
#include "policies/dream_vla/safetensors.h"
#include "policies/dream_vla/tokenizer.h"
#include "policies/dream_vla/tokenizer_build.h"
#include "policies/dream_vla/weights.h"

namespace policies::dream_vla {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr const char* kStatisticsKey = "vla_harness_demos";
constexpr int kActionDim = 7;
constexpr int kProprioDim = 8;
constexpr int kGripper = 6;
constexpr float kCropArea = 0.9f;  // RandomResizedCrop scale of the LIBERO recipe

// Set by SIGINT / SIGTERM: the loop checkpoints and returns.
volatile std::sig_atomic_t stop_requested = 0;
void on_stop_signal(int) { stop_requested = 1; }

// Routes SIGINT and SIGTERM to on_stop_signal while it lives.
class StopOnSignal {
 public:
  StopOnSignal() {
    stop_requested = 0;
    previous_int_ = std::signal(SIGINT, on_stop_signal);
    previous_term_ = std::signal(SIGTERM, on_stop_signal);
  }
  ~StopOnSignal() {
    std::signal(SIGINT, previous_int_);
    std::signal(SIGTERM, previous_term_);
  }
  StopOnSignal(const StopOnSignal&) = delete;
  StopOnSignal& operator=(const StopOnSignal&) = delete;

 private:
  void (*previous_int_)(int);
  void (*previous_term_)(int);
};

void write_json(const fs::path& path, const nlohmann::json& json) {
  const fs::path partial = path.string() + ".partial";
  {
    std::ofstream out(partial);
    if (!out) throw std::runtime_error("train: cannot write " + path.string());
    out << json.dump(2) << "\n";
    if (!out) throw std::runtime_error("train: error writing " + path.string());
  }
  fs::rename(partial, path);
}

nlohmann::json read_json(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("train: cannot read " + path.string());
  try {
    return nlohmann::json::parse(in);
  } catch (const std::exception& error) {
    throw std::runtime_error("train: " + path.string() + " is not valid JSON: " + error.what());
  }
}

// The dataset convention of the gripper (1 open, 0 closed) from the env's (-1 open, +1 close).
float dataset_gripper(float env_value) { return 0.5f * (1.0f - env_value); }

// Per-dimension statistics of rows x dims values (numpy-style linear quantiles).
nlohmann::json quantity_statistics(const std::vector<float>& values, int dims,
                                   const std::vector<bool>* mask) {
  const size_t rows = values.size() / dims;
  std::vector<double> mean(dims), stddev(dims), low(dims), high(dims), q01(dims), q99(dims);
  std::vector<double> column(rows);
  for (int d = 0; d < dims; ++d) {
    double sum = 0, sum_sq = 0;
    for (size_t r = 0; r < rows; ++r) {
      column[r] = values[r * dims + d];
      sum += column[r];
      sum_sq += column[r] * column[r];
    }
    mean[d] = sum / rows;
    stddev[d] = std::sqrt(std::max(0.0, sum_sq / rows - mean[d] * mean[d]));
    std::sort(column.begin(), column.end());
    low[d] = column.front();
    high[d] = column.back();
    auto quantile = [&](double q) {
      const double position = q * double(rows - 1);
      const size_t below = size_t(std::floor(position));
      const size_t above = std::min(below + 1, rows - 1);
      return column[below] + (column[above] - column[below]) * (position - double(below));
    };
    q01[d] = quantile(0.01);
    q99[d] = quantile(0.99);
  }
  nlohmann::json json = {{"mean", mean}, {"std", stddev}, {"min", low},
                         {"max", high},  {"q01", q01},    {"q99", q99}};
  if (mask != nullptr) json["mask"] = *mask;
  return json;
}

// dataset_statistics.json content for the demos (actions in the dataset
// gripper convention; the gripper dimension is not normalised).
nlohmann::json demo_statistics(const DemoSet& set) {
  std::vector<float> actions, proprio;
  for (const Demo& demo : set.demos) {
    for (int t = 0; t < demo.steps; ++t) {
      for (int d = 0; d < kActionDim; ++d) {
        const float value = demo.actions[t * kActionDim + d];
        actions.push_back(d == kGripper ? dataset_gripper(value) : value);
      }
    }
    proprio.insert(proprio.end(), demo.proprio.begin(), demo.proprio.end());
  }
  std::vector<bool> mask(kActionDim, true);
  mask[kGripper] = false;
  return {{kStatisticsKey,
           {{"action", quantity_statistics(actions, kActionDim, &mask)},
            {"proprio", quantity_statistics(proprio, kProprioDim, nullptr)},
            {"num_transitions", set.transitions()},
            {"num_trajectories", set.demos.size()}}}};
}

// The chat prompts of the demos' instructions (the tokenizer's merge corpus).
std::vector<std::string> prompt_corpus(const DemoSet& set) {
  std::set<std::string> instructions;
  for (const Demo& demo : set.demos) instructions.insert(demo.instruction);
  std::vector<std::string> corpus;
  for (const std::string& instruction : instructions) {
    corpus.push_back(render_chat_prompt(vla_instruction(instruction), 2));
  }
  return corpus;
}

bool is_norm(const std::string& name, const std::vector<int64_t>& shape) {
  if (shape.size() != 1) return false;
  for (const char* marker : {"norm", "ln_q", "ffn.0."}) {
    if (name.find(marker) != std::string::npos) return true;
  }
  return false;
}

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Fresh weights for training: matrices and embeddings N(0, 0.02^2), residual
// output projections scaled by 1/sqrt(2 * layers), biases 0, norms 1 / 0.
std::map<std::string, torch::Tensor> initial_weights(const ModelConfig& config, uint64_t seed) {
  auto generator = at::detail::createCPUGenerator(seed);
  const CheckpointLayout layout = checkpoint_layout(config);
  std::map<std::string, torch::Tensor> tensors;
  const double lm_scale = 1.0 / std::sqrt(2.0 * config.lm.num_hidden_layers);
  const double vision_scale = 1.0 / std::sqrt(2.0 * config.vision.depth);
  for (const auto* group : {&layout.model, &layout.heads}) {
    for (const auto& [name, shape] : *group) {
      torch::Tensor value;
      if (is_norm(name, shape)) {
        value = ends_with(name, ".bias") ? torch::zeros(shape) : torch::ones(shape);
      } else if (shape.size() == 1) {
        value = torch::zeros(shape);
      } else {
        double scale = 0.02;
        if (ends_with(name, "o_proj.weight") || ends_with(name, "down_proj.weight")) scale *= lm_scale;
        if (name.rfind("visual.blocks.", 0) == 0 &&
            (ends_with(name, "attn.proj.weight") || ends_with(name, "mlp.fc2.weight"))) {
          scale *= vision_scale;
        }
        value = torch::randn(shape, generator) * scale;
      }
      tensors[name] = value.contiguous();
    }
  }
  return tensors;
}

void write_weights(const fs::path& path, const ParameterMap& parameters, int64_t step) {
  std::map<std::string, torch::Tensor> tensors;
  for (const auto& [name, tensor] : parameters) {
    tensors[name] = tensor.detach().to(torch::kCPU, torch::kFloat).contiguous();
  }
  const fs::path partial = path.string() + ".partial";
  write_safetensors(partial.string(), views_of(tensors),
                    {{"format", "pt"}, {"step", std::to_string(step)}});
  fs::rename(partial, path);
}

// Settings that must match for a resume (everything that changes the run).
nlohmann::json run_identity(const TrainSettings& s, const ModelConfig& config) {
  std::vector<std::string> demos;
  for (const std::string& file : s.demos) demos.push_back(fs::path(file).filename().string());
  return {{"demos", demos},
          {"config", s.config},
          {"model", config_to_json(config)},
          {"batch_size", s.batch_size},
          {"lr", s.lr},
          {"weight_decay", s.weight_decay},
          {"warmup_steps", s.warmup_steps},
          {"grad_clip", s.grad_clip},
          {"seed", s.seed},
          {"image_size", s.image_size},
          {"max_demos_per_task", s.max_demos_per_task},
          {"frame_stride", s.frame_stride},
          {"augment", s.augment}};
}

// The processor of a trained checkpoint: images stay at --image-size.
ImageProcessorConfig processor_config(const TrainSettings& settings, const ModelConfig& config) {
  ImageProcessorConfig processor;
  processor.patch_size = config.vision.patch_size;
  processor.temporal_patch_size = config.vision.temporal_patch_size;
  processor.merge_size = config.vision.spatial_merge_size;
  processor.min_pixels = int64_t(settings.image_size) * settings.image_size;
  processor.max_pixels = processor.min_pixels;
  return processor;
}

// One training batch with everything it owns.
struct Batch {
  PixelValues pixels;
  std::vector<std::vector<int64_t>> prompts;
  torch::Tensor proprio;  // (B, 8) normalized
  torch::Tensor actions;  // (B, chunk, 7) normalized
  torch::Tensor noise;    // (B, chunk, 7)
  torch::Tensor time;     // (B)
};

// Builds the batch of a step from (seed, step) alone, so that any step can be
// rebuilt after a resume and batches can be prepared on another thread.
class BatchMaker {
 public:
  BatchMaker(const DemoSet& set, const TrainSettings& settings, const ModelConfig& config,
             const DatasetStatistics& statistics, const Tokenizer& tokenizer,
             std::vector<int64_t> suffix)
      : set_(set),
        settings_(settings),
        config_(config),
        statistics_(statistics),
        tokenizer_(tokenizer),
        suffix_(std::move(suffix)) {
    processor_ = std::make_unique<ImageProcessor>(processor_config(settings, config));
    for (size_t d = 0; d < set.demos.size(); ++d) {
      for (int t = 0; t < set.demos[d].steps; t += settings.frame_stride) {
        anchors_.emplace_back(int(d), t);
      }
    }
    if (anchors_.empty()) throw std::runtime_error("train: the demos hold no steps");
    // Prompt ids per instruction (the image token counts are fixed by the size).
    const int64_t merge = config.vision.spatial_merge_size;
    const int64_t side = settings.image_size / config.vision.patch_size;
    const std::vector<int64_t> tokens(2, side * side / (merge * merge));
    for (const Demo& demo : set.demos) {
      if (!prompt_ids_.count(demo.instruction)) {
        prompt_ids_[demo.instruction] = vla_prompt_ids(tokenizer, demo.instruction, tokens, suffix_);
      }
    }
  }

  size_t anchors() const { return anchors_.size(); }

  std::unique_ptr<Batch> make(int64_t step) const {
    const int rows = settings_.batch_size;
    const int chunk = config_.action.chunk_length;
    auto batch = std::make_unique<Batch>();
    envs::Rng rng(envs::derive_seed(settings_.seed, "step " + std::to_string(step), "batch"));
    std::vector<envs::Image> images;
    images.reserve(2 * rows);
    batch->proprio = torch::empty({rows, kProprioDim});
    batch->actions = torch::empty({rows, chunk, kActionDim});
    float* actions = batch->actions.data_ptr<float>();
    for (int row = 0; row < rows; ++row) {
      const auto [d, t] = anchors_[rng() % anchors_.size()];
      const Demo& demo = set_.demos[d];
      for (const auto* frames : {&demo.agentview, &demo.eye_in_hand}) {
        images.push_back(augment(*frames, t, rng));
      }
      normalize_proprio(std::span<const float>(demo.proprio.data() + t * kProprioDim, kProprioDim),
                        statistics_.proprio, Normalization::kBoundsQ99,
                        std::span<float>(batch->proprio[row].data_ptr<float>(), kProprioDim));
      for (int k = 0; k < chunk; ++k) {
        const int source = std::min(t + k, demo.steps - 1);  // past the end: the last action
        normalize_training_action(
            std::span<const float>(demo.actions.data() + source * kActionDim, kActionDim),
            statistics_.action, std::span<float>(actions + (row * chunk + k) * kActionDim, kActionDim));
      }
      batch->prompts.push_back(prompt_ids_.at(demo.instruction));
    }
    processor_->process(images, batch->pixels);
    // Flow-matching noise and time (the released sampler: t = 0.001 + 0.999
    // X1 / (X1 + X2), X1 = U1^(1/1.5), X2 = U2, rounded to bf16).
    auto generator = at::detail::createCPUGenerator(
        envs::derive_seed(settings_.seed, "step " + std::to_string(step), "noise"));
    batch->noise = torch::randn({rows, chunk, kActionDim}, generator);
    auto x1 = torch::rand({rows}, generator).pow(1.0 / 1.5);
    auto x2 = torch::rand({rows}, generator);
    batch->time = (0.001 + 0.999 * x1 / (x1 + x2)).to(torch::kBFloat16).to(torch::kFloat);
    return batch;
  }

 private:
  // Frame t of a camera: random 0.9-area square crop and colour jitter
  // (training), or the evaluation's center crop, resized to the model size.
  envs::Image augment(const std::vector<uint8_t>& frames, int t, envs::Rng& rng) const {
    const int size = set_.image_size;
    envs::Image frame;
    frame.width = frame.height = size;
    const size_t bytes = size_t(size) * size * 3;
    const size_t index = size_t(t / settings_.frame_stride);
    frame.pixels.assign(frames.begin() + index * bytes, frames.begin() + (index + 1) * bytes);
    const float side = std::sqrt(kCropArea);
    float y1 = (1 - side) / 2, x1 = (1 - side) / 2;
    if (settings_.augment) {
      y1 = float(envs::uniform(rng, 0, 1 - side));
      x1 = float(envs::uniform(rng, 0, 1 - side));
    }
    envs::Image out = crop_and_resize(frame, y1, x1, y1 + side, x1 + side, settings_.image_size,
                                      settings_.image_size);
    if (settings_.augment) {
      const float brightness = float(envs::uniform(rng, 0.8, 1.2));
      const float contrast = float(envs::uniform(rng, 0.8, 1.2));
      const float saturation = float(envs::uniform(rng, 0.8, 1.2));
      double mean = 0;
      for (uint8_t value : out.pixels) mean += value;
      mean = mean / out.pixels.size() * brightness;
      for (size_t p = 0; p < out.pixels.size(); p += 3) {
        float rgb[3];
        for (int c = 0; c < 3; ++c) rgb[c] = out.pixels[p + c] * brightness;
        const float gray = 0.299f * rgb[0] + 0.587f * rgb[1] + 0.114f * rgb[2];
        for (int c = 0; c < 3; ++c) {
          float value = gray + (rgb[c] - gray) * saturation;
          value = float(mean) + (value - float(mean)) * contrast;
          out.pixels[p + c] = uint8_t(std::clamp(std::lround(value), 0L, 255L));
        }
      }
    }
    return out;
  }

  const DemoSet& set_;
  const TrainSettings& settings_;
  const ModelConfig& config_;
  const DatasetStatistics& statistics_;
  const Tokenizer& tokenizer_;
  std::vector<int64_t> suffix_;
  std::unique_ptr<ImageProcessor> processor_;
  std::vector<std::pair<int, int>> anchors_;
  std::map<std::string, std::vector<int64_t>> prompt_ids_;
};

double learning_rate(const TrainSettings& s, int64_t step) {
  if (step < s.warmup_steps) return s.lr * double(step + 1) / double(s.warmup_steps);
  const double span = std::max<int64_t>(1, s.steps - s.warmup_steps);
  const double progress = std::min(1.0, double(step - s.warmup_steps) / span);
  return s.lr * (0.1 + 0.9 * 0.5 * (1 + std::cos(M_PI * progress)));
}

std::string duration(double seconds) {
  const long total = long(seconds);
  char text[32];
  std::snprintf(text, sizeof(text), "%ldh%02ldm%02lds", total / 3600, total / 60 % 60, total % 60);
  return text;
}

}  // namespace

void normalize_training_action(std::span<const float> action, const NormStats& stats,
                               std::span<float> out) {
  if (action.size() != kActionDim || out.size() != kActionDim || stats.dimensions() != kActionDim) {
    throw std::runtime_error("normalize_training_action: needs 7-D actions and statistics");
  }
  for (int dim = 0; dim < kActionDim; ++dim) {
    if (dim == kGripper) {
      out[dim] = dataset_gripper(action[dim]);
    } else {
      const double lo = stats.q01[dim], hi = stats.q99[dim];
      out[dim] = float(std::clamp(2.0 * (action[dim] - lo) / (hi - lo + 1e-8) - 1.0, -1.0, 1.0));
    }
  }
}

TrainResult train(const TrainSettings& settings) {
  const auto begin = Clock::now();
  // Ctrl-C or a kill (e.g. a Slurm time limit): finish the step, checkpoint, stop.
  const StopOnSignal stop_on_signal;
  if (settings.out.empty()) throw std::runtime_error("train: --out is required");
  if (settings.demos.empty()) throw std::runtime_error("train: --demos needs at least one file");
  if (settings.image_size < 28 || settings.image_size % 28 != 0) {
    throw std::runtime_error("train: --image-size " + std::to_string(settings.image_size) +
                             " is not a positive multiple of 28");
  }
  if (settings.batch_size < 1 || settings.steps < 1 || settings.frame_stride < 1 ||
      settings.checkpoint_every < 1 || settings.log_every < 1 || !(settings.lr > 0)) {
    throw std::runtime_error(
        "train: --batch-size, --steps, --frame-stride, --checkpoint-every, --log-every and --lr "
        "must be positive");
  }
  ModelConfig config = named_config(settings.config);
  config.image_size = settings.image_size;
  config.action = platform_action_config("libero");
  if (settings.threads > 0) torch::set_num_threads(settings.threads);

  const fs::path out(settings.out);
  const fs::path state_dir = out / "train_state";
  const fs::path state_path = state_dir / "state.json";
  const nlohmann::json identity = run_identity(settings, config);
  const bool resume = fs::exists(state_path);
  if (!resume && fs::exists(out) && !fs::is_empty(out)) {
    throw std::runtime_error("train: --out " + settings.out +
                             " exists and holds no training run (train_state/state.json); "
                             "choose an empty or new directory");
  }
  int64_t step = 0;
  if (resume) {
    const nlohmann::json state = read_json(state_path);
    const nlohmann::json& before = state.at("settings");
    for (auto it = identity.begin(); it != identity.end(); ++it) {
      if (!before.contains(it.key()) || before[it.key()] != it.value()) {
        throw std::runtime_error("train: " + settings.out + " holds a run with other settings (" +
                                 it.key() + " was " +
                                 (before.contains(it.key()) ? before[it.key()].dump() : "unset") +
                                 ", now " + it.value().dump() + "); use another --out");
      }
    }
    step = state.at("step").get<int64_t>();
  }

  const DemoSet set = read_demos(settings.demos, settings.max_demos_per_task, settings.frame_stride);
  if (!settings.quiet) {
    std::fprintf(stderr, "train: %zu demos, %lld transitions, %d px images from %zu file(s)\n",
                 set.demos.size(), (long long)set.transitions(), set.image_size,
                 set.files.size());
  }

  if (!resume) {
    fs::create_directories(state_dir);
    nlohmann::json config_json = config_to_json(config);
    config_json["torch_dtype"] = "float32";
    write_json(out / "config.json", config_json);
    write_json(out / "tokenizer.json",
               byte_level_tokenizer(config.tokens, config.lm.vocab_size, prompt_corpus(set)));
    write_json(out / "preprocessor_config.json", image_processor_config_json(processor_config(settings, config)));
    write_json(out / "dataset_statistics.json", demo_statistics(set));
    const auto initial = initial_weights(config, envs::derive_seed(settings.seed, "init", "weights"));
    ParameterMap parameters(initial.begin(), initial.end());
    write_weights(out / "model.safetensors", parameters, 0);
  }

  ModelOptions options;
  options.device = parse_device(settings.device);
  options.trainable = true;
  const std::unique_ptr<DreamVlaModel> model = DreamVlaModel::load(settings.out, options);
  const Tokenizer tokenizer = Tokenizer::load((out / "tokenizer.json").string());
  const DatasetStatistics statistics =
      select_statistics(load_dataset_statistics((out / "dataset_statistics.json").string()),
                        kStatisticsKey);

  // AdamW; matrices decay, vectors (norms, biases) do not.
  std::vector<torch::Tensor> decayed, plain, all_parameters;
  int64_t parameter_count = 0;
  for (const auto& [name, tensor] : model->parameters()) {
    (tensor.dim() >= 2 ? decayed : plain).push_back(tensor);
    all_parameters.push_back(tensor);
    parameter_count += tensor.numel();
  }
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decayed, std::make_unique<torch::optim::AdamWOptions>(
                                   torch::optim::AdamWOptions(settings.lr)
                                       .betas({0.9, 0.95})
                                       .weight_decay(settings.weight_decay)));
  groups.emplace_back(plain, std::make_unique<torch::optim::AdamWOptions>(
                                 torch::optim::AdamWOptions(settings.lr).betas({0.9, 0.95}).weight_decay(0)));
  torch::optim::AdamW optimizer(groups);
  const fs::path optimizer_path = state_dir / "optimizer.pt";
  if (resume && step > 0) torch::load(optimizer, optimizer_path.string());

  const BatchMaker maker(set, settings, config, statistics, tokenizer, model->action_suffix());
  if (!settings.quiet) {
    std::fprintf(stderr,
                 "train: config %s, %.2fM parameters, %zu anchors, batch %d, %s step %lld of %lld\n",
                 settings.config.c_str(), parameter_count / 1e6, maker.anchors(),
                 settings.batch_size, resume ? "resuming at" : "starting at", (long long)step,
                 (long long)settings.steps);
  }

  auto save = [&](int64_t at_step) {
    torch::save(optimizer, (optimizer_path.string() + ".partial"));
    write_weights(out / "model.safetensors", model->parameters(), at_step);
    fs::rename(optimizer_path.string() + ".partial", optimizer_path);
    write_json(state_path, {{"step", at_step}, {"settings", identity}});
  };
  if (!resume) save(0);

  TrainResult result;
  result.start_step = step;
  result.parameters = parameter_count;
  std::ofstream log(state_dir / "log.jsonl", std::ios::app);
  double window_loss = 0;
  int64_t window_steps = 0;
  auto window_begin = Clock::now();
  const auto run_begin = Clock::now();
  const int64_t first_step = step;
  std::future<std::unique_ptr<Batch>> next;
  const int64_t stop_step =
      settings.until_step > 0 ? std::min(settings.until_step, settings.steps) : settings.steps;
  if (step < stop_step) next = std::async(std::launch::async, [&, step] { return maker.make(step); });
  while (step < stop_step) {
    std::unique_ptr<Batch> batch = next.get();
    if (step + 1 < stop_step) {
      next = std::async(std::launch::async, [&, step] { return maker.make(step + 1); });
    }
    const double lr = learning_rate(settings, step);
    for (auto& group : optimizer.param_groups()) {
      static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
    }
    const VlaBatch inputs = pack_batch(batch->prompts, config.tokens.pad, batch->pixels, batch->proprio);
    torch::Tensor loss = model->flow_matching_loss(inputs, batch->actions, batch->noise, batch->time);
    optimizer.zero_grad();
    loss.backward();
    if (settings.grad_clip > 0) torch::nn::utils::clip_grad_norm_(all_parameters, settings.grad_clip);
    optimizer.step();
    ++step;
    const double value = loss.item<double>();
    if (!std::isfinite(value)) {
      throw std::runtime_error("train: the loss became " + std::to_string(value) + " at step " +
                               std::to_string(step) + "; lower --lr");
    }
    window_loss += value;
    ++window_steps;
    if (step % settings.log_every == 0 || step == stop_step) {
      const double mean = window_loss / window_steps;
      const double window_s = std::chrono::duration<double>(Clock::now() - window_begin).count();
      const double samples_per_s = window_steps * settings.batch_size / window_s;
      const double elapsed = std::chrono::duration<double>(Clock::now() - run_begin).count();
      const double eta = elapsed / double(step - first_step) * double(settings.steps - step);
      log << nlohmann::json{{"step", step}, {"loss", mean}, {"lr", lr}, {"samples_per_s", samples_per_s}}
                 .dump()
          << "\n"
          << std::flush;
      if (!settings.quiet) {
        std::fprintf(stderr, "train: step %lld/%lld  loss %.4f  lr %.2e  %.1f samples/s  ETA %s\n",
                     (long long)step, (long long)settings.steps, mean, lr, samples_per_s,
                     duration(eta).c_str());
      }
      result.last_loss = mean;
      window_loss = 0;
      window_steps = 0;
      window_begin = Clock::now();
    }
    const bool out_of_time =
        stop_requested != 0 ||
        (settings.time_limit_s > 0 &&
         std::chrono::duration<double>(Clock::now() - begin).count() >= settings.time_limit_s);
    if (step % settings.checkpoint_every == 0 || step == stop_step || out_of_time) save(step);
    if (out_of_time) {
      if (next.valid()) next.wait();
      break;
    }
  }
  if (window_steps > 0) result.last_loss = window_loss / window_steps;
  if (stop_requested) {
    std::fprintf(stderr, "train: stopped by a signal at step %lld (checkpointed)\n", (long long)step);
  }
  result.steps = step;
  result.wall_time_s = std::chrono::duration<double>(Clock::now() - begin).count();
  return result;
}

void add_train_command(CLI::App& app) {
  auto settings = std::make_shared<TrainSettings>();
  CLI::App* command = app.add_subcommand(
      "train", "Train a Dream-VLA checkpoint on demonstrations (flow matching); reruns resume");
  command->add_option("--demos", settings->demos, "HDF5 files from `vla-harness demos`")
      ->required()
      ->delimiter(',');
  command->add_option("--config", settings->config, "Model configuration (tiny, small, 7b)")
      ->capture_default_str();
  command->add_option("--out", settings->out, "Checkpoint directory")->required();
  command->add_option("--steps", settings->steps, "Optimizer steps in total")->capture_default_str();
  command->add_option("--batch-size", settings->batch_size, "Samples per step")->capture_default_str();
  command->add_option("--lr", settings->lr, "Peak learning rate")->capture_default_str();
  command->add_option("--weight-decay", settings->weight_decay, "AdamW weight decay")
      ->capture_default_str();
  command->add_option("--warmup-steps", settings->warmup_steps, "Linear warm-up steps")
      ->capture_default_str();
  command->add_option("--seed", settings->seed, "Seed of weights, sampling, augmentation, noise")
      ->capture_default_str();
  command->add_option("--image-size", settings->image_size, "Model image side in px (multiple of 28)")
      ->capture_default_str();
  command->add_option("--max-demos-per-task", settings->max_demos_per_task, "0: all")
      ->capture_default_str();
  command->add_option("--frame-stride", settings->frame_stride, "Anchor every k-th step")
      ->capture_default_str();
  command->add_option("--checkpoint-every", settings->checkpoint_every, "Steps between checkpoints")
      ->capture_default_str();
  command->add_option("--until", settings->until_step,
                      "Stop at this step (checkpointed); rerun to continue")
      ->capture_default_str();
  command->add_option("--time-limit", settings->time_limit_s,
                      "Stop after this many seconds (checkpointed); rerun to continue")
      ->capture_default_str();
  command->add_option("--log-every", settings->log_every, "Steps between progress lines")
      ->capture_default_str();
  command->add_option("--device", settings->device, "cpu, cuda or cuda:N")->capture_default_str();
  command->add_option("--threads", settings->threads, "Intra-op threads (0: every core)")
      ->capture_default_str();
  auto no_augment = std::make_shared<bool>(false);
  command->add_flag("--no-augment", *no_augment, "No random crop or colour jitter");
  command->add_flag("--quiet", settings->quiet, "No progress lines");
  command->callback([settings, no_augment] {
    settings->augment = !*no_augment;
    const TrainResult result = train(*settings);
    std::printf("train: %s at step %lld (from %lld), loss %.4f, %.0f s\n", settings->out.c_str(),
                (long long)result.steps, (long long)result.start_step, result.last_loss,
                result.wall_time_s);
  });
}

}  // namespace policies::dream_vla
