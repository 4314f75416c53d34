// Parity of the Dream-VLA networks against the dream_tiny reference fixtures
// (float32, CPU). Each test prints its max abs difference.
#include <string>
#include <vector>

#include "policies/dream_vla/action_head.h"
#include "policies/dream_vla/config.h"
#include "policies/dream_vla/generate.h"
#include "policies/dream_vla/lm.h"
#include "policies/dream_vla/model.h"
#include "policies/dream_vla/vision.h"
#include "tests/dream_vla/model_fixture.h"

namespace dv = policies::dream_vla;
using dream_vla_test::equal_tokens;
using dream_vla_test::excess_diff;
using dream_vla_test::Fixture;
using dream_vla_test::max_abs_diff;

TEST_CASE("dream-vla vision tower matches the reference") {
  torch::NoGradGuard no_grad;
  Fixture fixture("vision.safetensors");
  const dv::ModelConfig config = dv::tiny_config();
  dv::WeightLoader loader(fixture.store, torch::kFloat, torch::kCPU);
  dv::VisionTower tower(config.vision, loader);

  auto grid = fixture.get("image_grid_thw");
  CHECK(equal_tokens(dv::VisionTower::rotary_position_ids(grid, 2), fixture.get("rot_pos_ids")));

  dv::VisionTrace trace;
  auto out = tower.forward(fixture.get("pixel_values"), grid, &trace);
  const double cos_diff = max_abs_diff(trace.rope_cos, fixture.get("rope_cos"));
  const double embed_diff = max_abs_diff(trace.patch_embeds, fixture.get("patch_embeds"));
  const double block0_diff = max_abs_diff(trace.block_outputs.at(0), fixture.get("block0_out"));
  const double pre_merger_diff = max_abs_diff(trace.pre_merger, fixture.get("pre_merger"));
  const double diff = max_abs_diff(out, fixture.get("vision_out"));
  MESSAGE("vision rope cos " << cos_diff << ", patch embeds " << embed_diff << ", block0 "
                             << block0_diff << ", pre-merger " << pre_merger_diff);
  MESSAGE("vision max abs diff " << diff);
  CHECK(cos_diff <= 1e-5);
  CHECK(embed_diff <= 1e-4);
  CHECK(pre_merger_diff <= 1e-4);
  CHECK(diff <= 1e-4);

  // Per-image attention: the second image alone gives the same rows.
  auto split = fixture.get("vision_out_split");
  const int64_t first_rows = split[0].item<int64_t>();
  const int64_t first_patches = first_rows * 4;
  auto pixel_values = fixture.get("pixel_values");
  auto second =
      tower.forward(pixel_values.narrow(0, first_patches, pixel_values.size(0) - first_patches),
                    grid.narrow(0, 1, 1));
  const double alone_diff =
      max_abs_diff(second, fixture.get("vision_out").narrow(0, first_rows, second.size(0)));
  MESSAGE("vision second image alone max abs diff " << alone_diff);
  CHECK(alone_diff <= 1e-4);
}

TEST_CASE("dream-vla LM hidden states and logits match the reference") {
  torch::NoGradGuard no_grad;
  Fixture fixture("lm.safetensors");
  dv::WeightLoader loader(fixture.store, torch::kFloat, torch::kCPU);
  dv::DreamLm lm(dv::tiny_config().lm, loader);
  auto ids = fixture.get("input_ids");
  auto mask = fixture.get("attention_mask");
  auto positions = fixture.get("position_ids");

  CHECK(max_abs_diff(lm.embed(ids), fixture.get("embeddings")) == 0.0);
  torch::Tensor sin;
  auto cos = lm.rope_cos_sin(positions, torch::kFloat, &sin);
  CHECK(max_abs_diff(cos, fixture.get("rope_cos")) <= 1e-6);
  CHECK(max_abs_diff(sin, fixture.get("rope_sin")) <= 1e-6);

  dv::LmTrace trace;
  auto hidden = lm.forward(lm.embed(ids), mask, positions, false, &trace);
  auto logits = lm.logits(hidden);
  const double layer0_diff =
      max_abs_diff(trace.layer_outputs.at(0), fixture.get("bidir_layer0_out"));
  const double hidden_diff = max_abs_diff(hidden, fixture.get("bidir_hidden"));
  const double logits_diff = max_abs_diff(logits, fixture.get("bidir_logits"));
  const double shifted_diff =
      max_abs_diff(dv::DreamLm::shift_logits(logits), fixture.get("bidir_logits_shifted"));
  MESSAGE("lm layer0 " << layer0_diff << ", hidden " << hidden_diff << ", logits " << logits_diff
                       << ", shifted logits " << shifted_diff);
  MESSAGE("lm max abs diff " << std::max(hidden_diff, logits_diff));
  CHECK(hidden_diff <= 1e-4);
  CHECK(excess_diff(logits, fixture.get("bidir_logits"), 1e-4) <= 1e-4);
  CHECK(excess_diff(dv::DreamLm::shift_logits(logits), fixture.get("bidir_logits_shifted"), 1e-4) <=
        1e-4);

  // Causal variant on valid rows: guards that the default is bidirectional.
  auto causal_logits = lm.logits(lm.forward(lm.embed(ids), mask, positions, true));
  auto valid = fixture.get("valid_mask").to(torch::kBool);
  const double causal_diff =
      max_abs_diff(causal_logits.index({valid}), fixture.get("causal_logits").index({valid}));
  const double bidir_vs_causal =
      max_abs_diff(logits.index({valid}), fixture.get("causal_logits").index({valid}));
  MESSAGE("lm causal max abs diff " << causal_diff << " (bidirectional vs causal "
                                    << bidir_vs_causal << ")");
  CHECK(causal_diff <= 1e-4);
  CHECK(bidir_vs_causal > 1.0);
}

namespace {

// Runs one generate fixture case (`prefix` "" or "batch_") for `algorithm`.
void check_generate_case(const Fixture& fixture, const dv::DreamLm& lm, const std::string& prefix,
                         const std::string& algorithm) {
  dv::GenerateSettings settings;
  settings.max_new_tokens = 8;
  settings.steps = 4;
  settings.eps = 1e-3;
  settings.temperature = 0.0;
  settings.alg_temp = 0.0;
  settings.mask_token_id = 511;
  settings.pad_token_id = 0;
  settings.algorithm = dv::parse_unmask_algorithm(algorithm);
  settings.rank_scope = dv::RankScope::kPerRow;

  auto prompt = fixture.get(prefix + "prompt_ids");
  torch::Tensor prompt_mask;
  if (!prefix.empty()) prompt_mask = fixture.get(prefix + "prompt_attention_mask");
  dv::GenerateTrace trace;
  auto result = dv::diffusion_generate(dv::lm_logits_function(lm), prompt, prompt_mask, settings,
                                       c10::nullopt, &trace);
  const std::string name = prefix + algorithm;
  auto history = fixture.get(name + "_history");
  auto n_transfer = fixture.get(name + "_n_transfer");
  auto ref_logits = fixture.get(name + "_shifted_logits");
  REQUIRE(trace.steps.size() == 4);
  double logits_excess = 0.0;
  int matched_steps = 0;
  for (int step = 0; step < 4; ++step) {
    const auto& record = trace.steps[step];
    matched_steps += equal_tokens(record.sequence, history[step]) ? 1 : 0;
    CHECK_MESSAGE(record.transfer_count == n_transfer[step].item<int64_t>(),
                  name << " step " << step);
    logits_excess =
        std::max(logits_excess, excess_diff(record.shifted_logits, ref_logits[step], 1e-4));
    CHECK(equal_tokens(record.x0, fixture.get(name + "_x0")[step]));
  }
  MESSAGE("generate " << name << ": " << matched_steps
                      << "/4 steps token-identical, shifted logits "
                      << "excess over rtol " << logits_excess);
  CHECK(matched_steps == 4);
  CHECK(equal_tokens(result, fixture.get(name + "_final")));
  CHECK(logits_excess <= 1e-4);
}

}  // namespace

TEST_CASE("dream-vla diffusion_generate reproduces every reference trace") {
  torch::NoGradGuard no_grad;
  Fixture weights("lm.safetensors");
  Fixture fixture("generate.safetensors");
  dv::WeightLoader loader(weights.store, torch::kFloat, torch::kCPU);
  dv::DreamLm lm(dv::tiny_config().lm, loader);
  for (const std::string prefix : {"", "batch_"}) {
    for (const std::string algorithm : {"maskgit_plus", "topk_margin", "entropy"}) {
      check_generate_case(fixture, lm, prefix, algorithm);
    }
  }
}

TEST_CASE("dream-vla flow-matching head modules match the reference") {
  torch::NoGradGuard no_grad;
  Fixture fixture("action_head.safetensors");
  const dv::ModelConfig config = dv::tiny_config();
  const int64_t width = config.lm.hidden_size;
  dv::WeightLoader loader(fixture.store, torch::kFloat, torch::kCPU);
  dv::FlowMatchingHead head(config.action, width, loader.sub("action_head"));
  dv::TwoLayerProjector noisy(1, width, loader.sub("noisy_action_projector"));
  dv::TwoLayerProjector proprio(config.action.proprio_dim, width, loader.sub("proprio_projector"));

  // Euler time schedules (bf16 accumulation) match exactly.
  for (int steps : {1, 2, 3, 4, 5, 8, 10, 16, 20, 50}) {
    auto ref = fixture.get("time_schedule_steps" + std::to_string(steps));
    auto schedule = dv::flow_time_schedule(steps);
    REQUIRE_MESSAGE(static_cast<int64_t>(schedule.size()) == ref.size(0), "steps " << steps);
    CHECK(max_abs_diff(torch::tensor(schedule), ref) == 0.0);
  }
  const double time_diff =
      std::max(max_abs_diff(dv::sinusoidal_time_embedding(fixture.get("time_t"), width),
                            fixture.get("time_emb")),
               max_abs_diff(dv::sinusoidal_time_embedding(fixture.get("time_t_bf16"), width),
                            fixture.get("time_emb_bf16")));
  auto noisy_actions = fixture.get("noisy_actions");
  const double noisy_diff = max_abs_diff(noisy.forward(noisy_actions.reshape({2, -1, 1})),
                                         fixture.get("noisy_action_features"));
  const double proprio_diff =
      max_abs_diff(proprio.forward(fixture.get("proprio")), fixture.get("proprio_features"));
  const double velocity_diff = max_abs_diff(
      head.predict_velocity(fixture.get("actions_hidden_states")), fixture.get("velocity"));

  // Euler loop over the recorded hidden states.
  auto x = fixture.get("euler_noise");
  auto hidden = fixture.get("euler_hidden_states");
  auto ref_x = fixture.get("euler_x");
  double euler_diff = 0.0;
  const auto schedule = dv::flow_time_schedule(4);
  for (size_t step = 0; step < schedule.size(); ++step) {
    auto velocity = head.predict_velocity(hidden[step]);
    euler_diff = std::max(euler_diff, max_abs_diff(velocity, fixture.get("euler_velocity")[step]));
    x = x + velocity * (1.0 / 4);
    euler_diff = std::max(euler_diff, max_abs_diff(x, ref_x[step]));
  }
  MESSAGE("action head: time emb " << time_diff << ", noisy features " << noisy_diff
                                   << ", proprio features " << proprio_diff);
  MESSAGE("action head velocity max abs diff " << velocity_diff << ", euler " << euler_diff);
  CHECK(time_diff <= 1e-5);
  CHECK(noisy_diff <= 1e-5);
  CHECK(proprio_diff <= 1e-5);
  CHECK(velocity_diff <= 1e-4);
  CHECK(euler_diff <= 1e-4);
}

TEST_CASE("dream-vla discrete action tokens round-trip through 256 bins") {
  dv::ActionTokenizer tokenizer(256, 151923);
  CHECK(tokenizer.encode(1.0f) == 151667);
  CHECK(tokenizer.encode(-1.0f) == 151922);
  // +1 decodes to the top center; non-action ids clip to the extreme bins.
  CHECK(tokenizer.decode(int64_t{151667}) == doctest::Approx(1.0 - 1.0 / 255.0).epsilon(1e-6));
  CHECK(tokenizer.decode(int64_t{151922}) == doctest::Approx(-1.0 + 1.0 / 255.0).epsilon(1e-6));
  CHECK(tokenizer.decode(int64_t{151666}) == tokenizer.decode(int64_t{151667}));
  CHECK(tokenizer.decode(int64_t{5}) == tokenizer.decode(int64_t{151667}));
  CHECK(tokenizer.decode(int64_t{152000}) == tokenizer.decode(int64_t{151922}));
  for (float value : {-0.9f, -0.31f, 0.0f, 0.42f, 0.77f}) {
    CHECK(std::abs(tokenizer.decode(tokenizer.encode(value)) - value) <= 1.0 / 255.0 + 1e-6);
  }
}

TEST_CASE("dream-vla flow-matching VLA reproduces the reference actions") {
  torch::NoGradGuard no_grad;
  Fixture fixture("vla_flow.safetensors");
  dv::DreamVlaModel model(dv::tiny_config(), fixture.store, fixture.store);
  dv::VlaBatch batch;
  batch.input_ids = fixture.get("input_ids");
  batch.attention_mask = fixture.get("attention_mask");
  batch.pixel_values = fixture.get("pixel_values");
  batch.image_grid_thw = fixture.get("image_grid_thw");
  batch.proprio = fixture.get("proprio");

  dv::FlowTrace trace;
  auto actions = model.predict_flow(batch, fixture.get("noise"), &trace);
  REQUIRE(trace.velocity.size() == 4);
  CHECK(max_abs_diff(trace.image_features, fixture.get("image_features")) <= 1e-4);
  CHECK(max_abs_diff(trace.base_embeds, fixture.get("base_inputs_embeds")) <= 1e-4);
  double embeds_diff = 0, hidden_excess = 0, velocity_diff = 0, x_diff = 0;
  for (int step = 0; step < 4; ++step) {
    CHECK(trace.times[step] == fixture.get("step_time")[step][0].item<float>());
    CHECK(equal_tokens(trace.position_ids[step], fixture.get("step_position_ids")[step]));
    embeds_diff = std::max(embeds_diff, max_abs_diff(trace.inputs_embeds[step],
                                                     fixture.get("step_inputs_embeds")[step]));
    hidden_excess = std::max(
        hidden_excess,
        excess_diff(trace.last_hidden[step], fixture.get("step_last_hidden_state")[step], 1e-4));
    velocity_diff = std::max(
        velocity_diff, max_abs_diff(trace.velocity[step], fixture.get("step_velocity")[step]));
    x_diff = std::max(x_diff, max_abs_diff(trace.x_after[step], fixture.get("step_x_after")[step]));
  }
  const double actions_diff = max_abs_diff(actions[0], fixture.get("actions"));
  MESSAGE("vla_flow inputs embeds " << embeds_diff << ", hidden excess " << hidden_excess
                                    << ", velocity " << velocity_diff << ", x " << x_diff);
  MESSAGE("vla_flow actions max abs diff " << actions_diff);
  CHECK(embeds_diff <= 1e-4);
  CHECK(hidden_excess <= 1e-4);
  CHECK(velocity_diff <= 2e-4);
  CHECK(x_diff <= 2e-4);
  CHECK(actions_diff <= 2e-4);
}
