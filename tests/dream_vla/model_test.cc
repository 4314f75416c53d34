// Dream-VLA model plumbing: configuration checks, load errors, the
// `dream-vla init|forward` commands, batching with padding and the policy.
#include "policies/dream_vla/model.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "policies/dream_vla/cli.h"
#include "policies/dream_vla/config.h"
#include "policies/dream_vla/dream_vla.h"
#include "tests/dream_vla/model_fixture.h"

namespace dv = policies::dream_vla;
namespace fs = std::filesystem;
using dream_vla_test::excess_diff;
using dream_vla_test::Fixture;
using dream_vla_test::fixture_path;
using dream_vla_test::max_abs_diff;

namespace {

// A fresh directory under the system temp folder.
fs::path scratch_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("vla_dream_model_test_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

// A checkpoint directory holding the tiny config and the vla_flow fixture weights.
fs::path fixture_checkpoint() {
  const fs::path dir = scratch_dir("fixture_checkpoint");
  write_text(dir / "config.json", dv::config_to_json(dv::tiny_config()).dump(2));
  fs::copy_file(fixture_path("vla_flow.safetensors"), dir / "model.safetensors");
  return dir;
}

std::map<std::string, torch::Tensor> read_all(const std::string& path) {
  const dv::WeightStore store = dv::WeightStore::open(path);
  std::map<std::string, torch::Tensor> tensors;
  for (const std::string& name : store.names()) {
    tensors[name] = dv::to_tensor(*store.find(name), torch::kFloat, torch::kCPU);
  }
  return tensors;
}

std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const std::exception& error) {
    return error.what();
  }
  return "";
}

}  // namespace

TEST_CASE("dream-vla config round-trips and refuses unsupported values") {
  const dv::ModelConfig tiny = dv::tiny_config();
  nlohmann::json json = dv::config_to_json(tiny);
  const dv::ModelConfig parsed = dv::parse_config(json, "config.json");
  CHECK(parsed.lm.hidden_size == 96);
  CHECK(parsed.lm.num_key_value_heads == 2);
  CHECK(parsed.vision.embed_dim == 64);
  CHECK(parsed.tokens.action_placeholder == 505);
  CHECK(parsed.action.chunk_length == 8);

  json["rope_scaling"] = {{"type", "linear"}, {"factor", 2.0}};
  const std::string rope_error = error_of([&] { dv::parse_config(json, "ckpt/config.json"); });
  MESSAGE(rope_error);
  CHECK(rope_error.find("ckpt/config.json") != std::string::npos);
  CHECK(rope_error.find("rope_scaling") != std::string::npos);

  json = dv::config_to_json(tiny);
  json.erase("num_hidden_layers");
  CHECK(error_of([&] { dv::parse_config(json, "c.json"); }).find("num_hidden_layers") !=
        std::string::npos);
  json = dv::config_to_json(tiny);
  json["hidden_act"] = "gelu";
  CHECK(error_of([&] { dv::parse_config(json, "c.json"); }).find("hidden_act") !=
        std::string::npos);
  json = dv::config_to_json(tiny);
  json["vision_config"]["num_heads"] = "four";
  CHECK(error_of([&] { dv::parse_config(json, "c.json"); }).find("vision_config.num_heads") !=
        std::string::npos);
  CHECK(error_of([] { dv::named_config("13b"); }).find("tiny, small, 7b") != std::string::npos);
}

TEST_CASE("dream-vla load names a wrong-shaped tensor and both shapes") {
  torch::NoGradGuard no_grad;
  auto tensors = read_all(fixture_path("vla_flow.safetensors"));
  tensors["model.layers.1.self_attn.k_proj.weight"] = torch::zeros({40, 96});
  const fs::path dir = scratch_dir("wrong_shape");
  write_text(dir / "config.json", dv::config_to_json(dv::tiny_config()).dump(2));
  dv::write_safetensors((dir / "model.safetensors").string(), dv::views_of(tensors));
  const std::string error = error_of([&] { dv::DreamVlaModel::load(dir.string()); });
  MESSAGE(error);
  CHECK(error.find("model.layers.1.self_attn.k_proj.weight") != std::string::npos);
  CHECK(error.find("[48, 96]") != std::string::npos);
  CHECK(error.find("[40, 96]") != std::string::npos);

  tensors.erase("model.layers.1.self_attn.k_proj.weight");
  dv::write_safetensors((dir / "model.safetensors").string(), dv::views_of(tensors));
  const std::string missing = error_of([&] { dv::DreamVlaModel::load(dir.string()); });
  CHECK(missing.find("model.layers.1.self_attn.k_proj.weight") != std::string::npos);
}

TEST_CASE("dream-vla forward command reproduces the fixture outputs") {
  const fs::path checkpoint = fixture_checkpoint();
  const fs::path out_dir = scratch_dir("forward_out");
  struct Case {
    std::string inputs, output, reference;
    double tolerance;
  };
  // The fixtures share seeds, so the vla_flow weights are those of every section.
  const std::vector<Case> cases = {
      {"vision.safetensors", "vision_out", "vision_out", 1e-4},
      {"lm.safetensors", "bidir_logits", "bidir_logits", 1e-4},
      {"action_head.safetensors", "velocity", "velocity", 1e-4},
      {"vla_flow.safetensors", "step_x_after", "step_x_after", 2e-4},
  };
  for (const Case& c : cases) {
    const fs::path out = out_dir / ("out_" + c.inputs);
    const std::string binary = VLA_BINARY;
    if (!binary.empty() && fs::exists(binary)) {
      const std::string command = binary + " dream-vla forward --checkpoint " +
                                  checkpoint.string() + " --inputs " + fixture_path(c.inputs) +
                                  " --out " + out.string();
      REQUIRE_MESSAGE(std::system(command.c_str()) == 0, command);
    } else {
      dv::forward_command(checkpoint.string(), fixture_path(c.inputs), out.string());
    }
    const auto outputs = read_all(out.string());
    REQUIRE_MESSAGE(outputs.count(c.output) == 1, c.output << " missing");
    const double diff = max_abs_diff(outputs.at(c.output), Fixture(c.inputs).get(c.reference));
    MESSAGE("forward " << c.inputs << " -> " << c.output << " max abs diff " << diff);
    CHECK(diff <= c.tolerance);
  }
  const auto flow = read_all((out_dir / "out_vla_flow.safetensors").string());
  const double actions_diff =
      max_abs_diff(flow.at("actions")[0], Fixture("vla_flow.safetensors").get("actions"));
  MESSAGE("forward vla_flow actions max abs diff " << actions_diff);
  CHECK(actions_diff <= 2e-4);
}

TEST_CASE("dream-vla batched queries with left padding match single queries") {
  torch::NoGradGuard no_grad;
  Fixture fixture("vla_flow.safetensors");
  dv::DreamVlaModel model(dv::tiny_config(), fixture.store, fixture.store);
  auto ids = fixture.get("input_ids");
  auto pixels = fixture.get("pixel_values");
  auto grid = fixture.get("image_grid_thw");
  auto proprio = fixture.get("proprio");
  auto noise = fixture.get("noise");

  // Row 0: the fixture prompt; row 1: the same prompt without its first 3 text
  // tokens, left-padded by 3, with other noise and proprio.
  const int64_t length = ids.size(1);
  dv::VlaBatch batch;
  auto short_ids = ids.narrow(1, 3, length - 3);
  batch.input_ids =
      torch::cat({ids, torch::cat({torch::zeros({1, 3}, torch::kLong), short_ids}, 1)});
  batch.attention_mask = torch::ones({2, length}, torch::kLong);
  batch.attention_mask[1].narrow(0, 0, 3).fill_(0);
  batch.pixel_values = torch::cat({pixels, pixels});
  batch.image_grid_thw = torch::cat({grid, grid});
  batch.proprio = torch::cat({proprio, proprio * 0.5});
  auto noise2 = torch::cat({noise, noise.flip(2)});
  auto batched = model.predict_flow(batch, noise2);

  dv::VlaBatch single;
  single.input_ids = short_ids;
  single.pixel_values = pixels;
  single.image_grid_thw = grid;
  single.proprio = proprio * 0.5;
  auto alone = model.predict_flow(single, noise.flip(2));
  const double row0 = max_abs_diff(batched[0], fixture.get("actions"));
  const double row1 = max_abs_diff(batched[1], alone[0]);
  MESSAGE("batched row 0 vs fixture " << row0 << ", padded row 1 vs single " << row1);
  CHECK(row0 <= 2e-4);
  CHECK(row1 <= 1e-4);
  CHECK(max_abs_diff(batched[0], batched[1]) > 1e-3);
}

TEST_CASE("dream-vla init writes a loadable checkpoint and the policy acts") {
  torch::NoGradGuard no_grad;
  const fs::path dir = scratch_dir("init_tiny");
  dv::init_checkpoint(dv::tiny_config(), dir.string(), {});
  for (const char* file :
       {"config.json", "model.safetensors", "action_heads.safetensors", "tokenizer.json",
        "dataset_statistics.json", "preprocessor_config.json"}) {
    CHECK_MESSAGE(fs::exists(dir / file), file);
  }
  auto model = dv::DreamVlaModel::load(dir.string());
  CHECK(model->config().lm.hidden_size == 96);

  // Sharded variant: small shards plus an index load to the same weights.
  const fs::path sharded = scratch_dir("init_tiny_sharded");
  dv::InitSettings settings;
  settings.shard_bytes = 200000;
  dv::init_checkpoint(dv::tiny_config(), sharded.string(), settings);
  CHECK(fs::exists(sharded / "model.safetensors.index.json"));
  auto a = read_all((dir / "model.safetensors").string());
  auto b = read_all(sharded.string());
  CHECK(max_abs_diff(a.at("model.layers.1.mlp.up_proj.weight"),
                     b.at("model.layers.1.mlp.up_proj.weight")) == 0.0);

  // Policy over two observations with different instructions.
  auto policy = dv::make_policy(dir.string() + ",steps=2");
  const policies::PolicyInfo info = policy->info();
  CHECK(info.chunk_length == 8);
  CHECK(info.cameras.size() == 2);
  envs::Observation first, second;
  for (envs::Observation* obs : {&first, &second}) {
    for (const std::string& camera : info.cameras) {
      envs::Image image;
      image.width = image.height = 224;
      image.pixels.resize(224 * 224 * 3);
      for (size_t i = 0; i < image.pixels.size(); ++i)
        image.pixels[i] = static_cast<uint8_t>(i * 7 % 251);
      obs->images[camera] = image;
    }
    obs->proprio = {0.1f, -0.2f, 0.3f, 0.0f, 0.5f, -0.5f, 0.02f, -0.02f};
  }
  first.instruction = "put the bowl on the plate";
  second.instruction = "open the top drawer of the cabinet";
  policy->reset(0, 11);
  policy->reset(1, 12);
  const policies::PolicyQuery queries[] = {{0, &first}, {1, &second}};
  const auto chunks = policy->act(queries);
  REQUIRE(chunks.size() == 2);
  CHECK(chunks[0].size() == 8);
  for (const auto& action : chunks[0]) {
    CHECK(std::abs(action[6]) == doctest::Approx(1.0f));  // binarised gripper
    for (float value : action) CHECK(std::isfinite(value));
  }
  // Same seed, same observation: same chunk (up to the float rounding that
  // left padding in the first batch brings).
  policy->reset(0, 11);
  const policies::PolicyQuery again[] = {{0, &first}};
  const auto repeated = policy->act(again);
  double chunk_diff = 0.0;
  for (size_t step = 0; step < 8; ++step) {
    for (size_t dim = 0; dim < 7; ++dim) {
      chunk_diff = std::max(
          chunk_diff, static_cast<double>(std::abs(repeated[0][step][dim] - chunks[0][step][dim])));
    }
  }
  MESSAGE("policy: same seed alone vs in a padded batch, max abs diff " << chunk_diff);
  CHECK(chunk_diff <= 1e-4);
  // Another seed gives other noise and so another chunk.
  policy->reset(0, 99);
  const auto other = policy->act(again);
  double seed_diff = 0.0;
  for (size_t step = 0; step < 8; ++step) {
    for (size_t dim = 0; dim < 6; ++dim) {
      seed_diff = std::max(
          seed_diff, static_cast<double>(std::abs(other[0][step][dim] - chunks[0][step][dim])));
    }
  }
  CHECK(seed_diff > 1e-3);

  const std::string bad = error_of([&] { dv::make_policy(dir.string() + ",colour=red"); });
  CHECK(bad.find("colour") != std::string::npos);
}

TEST_CASE("dream-vla discrete diffusion decodes action tokens") {
  torch::NoGradGuard no_grad;
  Fixture fixture("vla_flow.safetensors");
  dv::ModelConfig config = dv::tiny_config();
  config.action.head = dv::ActionHeadKind::kDiscreteDiffusion;
  dv::DreamVlaModel model(config, fixture.store, fixture.store);
  auto ids = fixture.get("input_ids");
  dv::VlaBatch batch;
  batch.input_ids = ids.narrow(1, 0, ids.size(1) - 58);  // the prompt only
  batch.attention_mask = torch::ones_like(batch.input_ids);
  batch.pixel_values = fixture.get("pixel_values");
  batch.image_grid_thw = fixture.get("image_grid_thw");
  batch.proprio = fixture.get("proprio");
  dv::GenerateSettings settings;
  settings.max_new_tokens = 58;
  settings.steps = 2;
  settings.mask_token_id = config.tokens.mask;
  settings.pad_token_id = config.tokens.pad;
  settings.rank_scope = dv::RankScope::kBatchGlobal;
  auto actions = model.predict_discrete(batch, settings);
  CHECK(actions.sizes() == torch::IntArrayRef({1, 8, 7}));
  CHECK(actions.abs().max().item<float>() < 1.0f);
  // Values are bin centers: (2k + 1) / 255 - 1.
  auto k = (actions + 1.0) * 255.0 / 2.0 - 0.5;
  CHECK((k - k.round()).abs().max().item<double>() < 1e-3);
}

TEST_CASE("dream-vla bfloat16 run stays close to float32") {
  torch::NoGradGuard no_grad;
  Fixture fixture("vla_flow.safetensors");
  dv::ModelOptions options;
  options.dtype = torch::kBFloat16;
  dv::DreamVlaModel model(dv::tiny_config(), fixture.store, fixture.store, options);
  dv::VlaBatch batch;
  batch.input_ids = fixture.get("input_ids");
  batch.pixel_values = fixture.get("pixel_values");
  batch.image_grid_thw = fixture.get("image_grid_thw");
  batch.proprio = fixture.get("proprio");
  auto actions = model.predict_flow(batch, fixture.get("noise"));
  const double diff = max_abs_diff(actions[0], fixture.get("actions"));
  MESSAGE("bf16 actions vs float32 reference max abs diff " << diff);
  CHECK(diff < 0.25);
}
