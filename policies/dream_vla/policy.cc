// policies::Policy adapter of the embedded Dream-VLA: observation images ->
// preprocessing -> prompt -> model -> un-normalisation -> action chunks.
#include <filesystem>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "policies/dream_vla/cli.h"
#include "policies/dream_vla/dream_vla.h"
#include "policies/dream_vla/image.h"
#include "policies/dream_vla/model.h"
#include "policies/dream_vla/postprocess.h"
#include "policies/dream_vla/tokenizer.h"

namespace policies::dream_vla {
namespace {

// Settings from the policy argument "PATH[,key=value...]".
struct PolicySettings {
  std::string checkpoint;            // checkpoint directory
  std::string device = "cpu";        // cpu, cuda, cuda:N
  std::string dtype = "f32";         // f32 or bf16
  std::string platform = "libero";   // libero, bridge, fractal (chunk and proprio sizes)
  std::vector<std::string> cameras;  // observation cameras in prompt order
  std::string unnorm_key;            // dataset statistics key; empty: the only one in the file
  std::string tokenizer;             // tokenizer.json; empty: <checkpoint>/tokenizer.json
  std::string statistics;            // empty: <checkpoint>/dataset_statistics.json
  // Rotate images 180 degrees before preprocessing. Raw robosuite renders are
  // upside down and LIBERO's runner rotates them; vla-harness renders (and
  // openpi LIBERO clients send) upright images, so the default is off.
  bool rotate_180 = false;
  bool center_crop = true;           // 0.9-area center crop (LIBERO eval recipe)
  int flow_steps = 0;                // Euler steps; 0: the checkpoint's setting
  int diffusion_steps = 0;           // discrete diffusion steps; 0: the checkpoint's setting
};

bool parse_bool(const std::string& key, const std::string& value) {
  if (value == "1" || value == "true") return true;
  if (value == "0" || value == "false") return false;
  throw std::runtime_error("dream-vla policy: " + key + "=" + value + " is not 0/1/true/false");
}

int parse_int(const std::string& key, const std::string& value) {
  try {
    size_t used = 0;
    const int parsed = std::stoi(value, &used);
    if (used == value.size() && parsed > 0) return parsed;
  } catch (const std::exception&) {
  }
  throw std::runtime_error("dream-vla policy: " + key + "=" + value + " is not a positive integer");
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::stringstream stream(text);
  std::string part;
  while (std::getline(stream, part, separator)) parts.push_back(part);
  return parts;
}

PolicySettings parse_argument(const std::string& argument) {
  const auto parts = split(argument, ',');
  if (parts.empty() || parts[0].empty()) {
    throw std::runtime_error("dream-vla policy: expected PATH[,key=value...], got \"" + argument +
                             "\"");
  }
  PolicySettings settings;
  settings.checkpoint = parts[0];
  bool cameras_given = false;
  for (size_t i = 1; i < parts.size(); ++i) {
    const auto equals = parts[i].find('=');
    if (equals == std::string::npos) {
      throw std::runtime_error("dream-vla policy: option \"" + parts[i] + "\" is not key=value");
    }
    const std::string key = parts[i].substr(0, equals);
    const std::string value = parts[i].substr(equals + 1);
    if (key == "device") {
      settings.device = value;
    } else if (key == "dtype") {
      settings.dtype = value;
    } else if (key == "platform") {
      settings.platform = value;
    } else if (key == "cameras") {
      settings.cameras = split(value, '+');
      cameras_given = true;
    } else if (key == "unnorm_key") {
      settings.unnorm_key = value;
    } else if (key == "tokenizer") {
      settings.tokenizer = value;
    } else if (key == "statistics") {
      settings.statistics = value;
    } else if (key == "rotate") {
      settings.rotate_180 = parse_bool(key, value);
    } else if (key == "center_crop") {
      settings.center_crop = parse_bool(key, value);
    } else if (key == "steps") {
      settings.flow_steps = parse_int(key, value);
    } else if (key == "diffusion_steps") {
      settings.diffusion_steps = parse_int(key, value);
    } else {
      throw std::runtime_error(
          "dream-vla policy: unknown option \"" + key +
          "\" (valid: device, dtype, platform, cameras, unnorm_key, tokenizer, statistics, rotate, "
          "center_crop, steps, diffusion_steps)");
    }
  }
  if (!cameras_given) {
    // LIBERO: third-person + wrist; Bridge / Fractal: one third-person camera.
    settings.cameras = settings.platform == "libero"
                           ? std::vector<std::string>{"agentview", "eye_in_hand"}
                           : std::vector<std::string>{"agentview"};
    if (settings.platform != "libero") {
      settings.rotate_180 = false;
      settings.center_crop = false;
    }
  }
  if (settings.cameras.empty()) throw std::runtime_error("dream-vla policy: cameras is empty");
  return settings;
}

class DreamVlaPolicy : public Policy {
 public:
  explicit DreamVlaPolicy(const PolicySettings& settings) : settings_(settings) {
    namespace fs = std::filesystem;
    const fs::path dir(settings.checkpoint);
    ModelOptions options;
    options.device = parse_device(settings.device);
    options.dtype = parse_run_dtype(settings.dtype);
    model_ = DreamVlaModel::load(settings.checkpoint, options);
    const ActionConfig platform = platform_action_config(settings.platform);
    const ActionConfig& action = model_->config().action;
    if (action.chunk_length != platform.chunk_length ||
        action.proprio_dim != platform.proprio_dim) {
      throw std::runtime_error(
          "dream-vla policy: checkpoint " + settings.checkpoint + " has chunk " +
          std::to_string(action.chunk_length) + " / proprio " + std::to_string(action.proprio_dim) +
          " but platform " + settings.platform + " needs " + std::to_string(platform.chunk_length) +
          " / " + std::to_string(platform.proprio_dim));
    }
    tokenizer_ = std::make_unique<Tokenizer>(Tokenizer::load(
        settings.tokenizer.empty() ? (dir / "tokenizer.json").string() : settings.tokenizer));
    const fs::path preprocessor = dir / "preprocessor_config.json";
    processor_ = std::make_unique<ImageProcessor>(
        fs::exists(preprocessor) ? load_image_processor_config(preprocessor.string())
                                 : ImageProcessorConfig{});
    const std::string statistics_path = settings.statistics.empty()
                                            ? (dir / "dataset_statistics.json").string()
                                            : settings.statistics;
    const auto all_statistics = load_dataset_statistics(statistics_path);
    if (settings.unnorm_key.empty()) {
      if (all_statistics.size() != 1) {
        std::string keys;
        for (const auto& [key, value] : all_statistics) keys += (keys.empty() ? "" : ", ") + key;
        throw std::runtime_error("dream-vla policy: " + statistics_path +
                                 " holds several datasets; pass unnorm_key=one of: " + keys);
      }
      statistics_ = all_statistics.begin()->second;
    } else {
      statistics_ = select_statistics(all_statistics, settings.unnorm_key);
    }
    if (statistics_.action.dimensions() != static_cast<size_t>(action.action_dim)) {
      throw std::runtime_error(
          "dream-vla policy: statistics have " + std::to_string(statistics_.action.dimensions()) +
          " action dimensions, the model " + std::to_string(action.action_dim));
    }
    if (action.use_proprio &&
        statistics_.proprio.dimensions() != static_cast<size_t>(action.proprio_dim)) {
      throw std::runtime_error("dream-vla policy: statistics lack " +
                               std::to_string(action.proprio_dim) + "-D proprio quantiles");
    }
    if (settings.flow_steps > 0) flow_steps_ = settings.flow_steps;
    if (settings.diffusion_steps > 0) diffusion_steps_ = settings.diffusion_steps;
  }

  PolicyInfo info() const override {
    PolicyInfo info;
    info.name = "dream-vla:" + settings_.checkpoint;
    info.chunk_length = model_->config().action.chunk_length;
    info.open_loop_steps = info.chunk_length;
    info.cameras = settings_.cameras;
    info.image_size = model_->config().image_size;
    return info;
  }

  void reset(int slot, uint64_t seed) override {
    std::lock_guard<std::mutex> lock(mutex_);
    generators_.insert_or_assign(slot, at::detail::createCPUGenerator(seed));
  }

  std::vector<ActionChunk> act(std::span<const PolicyQuery> batch) override {
    std::lock_guard<std::mutex> lock(mutex_);
    torch::NoGradGuard no_grad;
    const ModelConfig& config = model_->config();
    const ActionConfig& action = config.action;
    const int64_t rows = static_cast<int64_t>(batch.size());
    if (rows == 0) return {};

    // Images of every row, in camera order, through the eval transforms and processor.
    images_.clear();
    for (const PolicyQuery& query : batch) {
      if (query.observation == nullptr)
        throw std::runtime_error("dream-vla policy: null observation");
      for (const std::string& camera : settings_.cameras) {
        auto it = query.observation->images.find(camera);
        if (it == query.observation->images.end()) {
          throw std::runtime_error("dream-vla policy: observation lacks camera \"" + camera + "\"");
        }
        EvalImageTransform transform;
        transform.rotate_180 = settings_.rotate_180;
        transform.center_crop = settings_.center_crop;
        const bool sized =
            it->second.width == config.image_size && it->second.height == config.image_size;
        transform.resize_to = sized ? 0 : config.image_size;
        images_.push_back(apply_eval_transform(it->second, transform));
      }
    }
    processor_->process(images_, pixels_);
    const size_t cameras = settings_.cameras.size();

    // Prompts, left-padded to one length.
    std::vector<std::vector<int64_t>> prompts;
    const std::vector<int64_t> suffix = model_->action_suffix();
    const bool flow = action.head == ActionHeadKind::kFlowMatching;
    for (int64_t row = 0; row < rows; ++row) {
      prompts.push_back(vla_prompt_ids(
          *tokenizer_, batch[row].observation->instruction,
          std::span<const int64_t>(pixels_.tokens_per_image).subspan(row * cameras, cameras),
          flow ? std::span<const int64_t>(suffix) : std::span<const int64_t>()));
    }
    torch::Tensor proprio;
    if (action.use_proprio) {
      proprio = torch::empty({rows, action.proprio_dim}, torch::kFloat);
      for (int64_t row = 0; row < rows; ++row) {
        const auto& state = batch[row].observation->proprio;
        if (static_cast<int>(state.size()) != action.proprio_dim) {
          throw std::runtime_error("dream-vla policy: proprio has " + std::to_string(state.size()) +
                                   " values, the model needs " +
                                   std::to_string(action.proprio_dim));
        }
        normalize_proprio(state, statistics_.proprio, Normalization::kBoundsQ99,
                          std::span<float>(proprio[row].data_ptr<float>(), state.size()));
      }
    }
    const VlaBatch inputs = pack_batch(prompts, config.tokens.pad, pixels_, proprio);

    torch::Tensor normalized;
    if (flow) {
      // Initial noise per row from that slot's generator (reproducible per episode).
      auto noise = torch::empty({rows, action.chunk_length, action.action_dim});
      for (int64_t row = 0; row < rows; ++row) {
        noise[row].copy_(
            torch::randn({action.chunk_length, action.action_dim}, generator_for(batch[row].slot)));
      }
      normalized = model_->predict_flow(inputs, noise, nullptr, flow_steps_);
    } else {
      GenerateSettings generate;
      generate.max_new_tokens = action.slots() + 2;
      generate.steps = diffusion_steps_ > 0 ? diffusion_steps_ : action.diffusion_steps;
      generate.mask_token_id = config.tokens.mask;
      generate.pad_token_id = config.tokens.pad;
      generate.rank_scope = RankScope::kBatchGlobal;
      normalized = model_->predict_discrete(inputs, generate);
    }
    normalized = normalized.to(torch::kCPU, torch::kFloat).contiguous();

    std::vector<ActionChunk> chunks(rows);
    const int64_t per_row = action.slots();
    for (int64_t row = 0; row < rows; ++row) {
      std::span<const float> values(normalized.data_ptr<float>() + row * per_row, per_row);
      postprocess_actions(values, statistics_.action, Normalization::kBoundsQ99,
                          GripperConvention{}, chunks[row]);
    }
    return chunks;
  }

 private:
  at::Generator& generator_for(int slot) {
    auto it = generators_.find(slot);
    if (it == generators_.end()) {
      it = generators_.emplace(slot, at::detail::createCPUGenerator(static_cast<uint64_t>(slot)))
               .first;
    }
    return it->second;
  }

  PolicySettings settings_;
  std::unique_ptr<DreamVlaModel> model_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::unique_ptr<ImageProcessor> processor_;
  DatasetStatistics statistics_;
  int flow_steps_ = 0;       // 0: the checkpoint's setting
  int diffusion_steps_ = 0;  // 0: the checkpoint's setting
  std::mutex mutex_;
  std::map<int, at::Generator> generators_;  // per worker slot
  std::vector<envs::Image> images_;          // reused per query batch
  PixelValues pixels_;                       // reused per query batch
};

}  // namespace

std::unique_ptr<Policy> make_policy(const std::string& argument) {
  return std::make_unique<DreamVlaPolicy>(parse_argument(argument));
}

}  // namespace policies::dream_vla
