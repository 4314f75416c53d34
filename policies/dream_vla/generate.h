// Dream masked-diffusion decoding (diffusion_generate): start from prompt +
// N mask tokens and unmask over `steps` full forward passes. Includes libtorch.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "policies/dream_vla/lm.h"

namespace policies::dream_vla {

// Which masked positions are committed at each step.
enum class UnmaskAlgorithm {
  kOrigin,       // each masked position independently with probability 1 - s/t
  kMaskgitPlus,  // highest token probability first
  kTopkMargin,   // highest top1 - top2 probability margin first
  kEntropy,      // highest negative entropy first
};
// "origin", "maskgit_plus", "topk_margin", "entropy"; anything else throws.
UnmaskAlgorithm parse_unmask_algorithm(const std::string& name);

// Where the top-k of confident positions is taken.
enum class RankScope {
  kPerRow,       // Dream: per row, count = masked / batch (equal for all rows)
  kBatchGlobal,  // Dream-VLA copy: one top-k over every masked position of the batch
};

struct GenerateSettings {
  int max_new_tokens = 58;   // mask tokens appended to the prompt
  int steps = 1;             // denoising steps (full forward passes)
  double eps = 1e-3;         // final time of linspace(1, eps, steps + 1)
  double temperature = 0.0;  // > 0: sample tokens; 0: argmax
  double top_p = 1.0;        // nucleus filter; >= 1 disables
  int top_k = 0;             // top-k filter; 0 disables
  UnmaskAlgorithm algorithm = UnmaskAlgorithm::kMaskgitPlus;  // unmasking order
  double alg_temp = 0.0;                      // > 0: sample positions from softmax(conf / alg_temp)
  double eos_penalty = 0.0;                   // added to the pad column times log(1 - t + eps)
  int64_t mask_token_id = 151666;             // <|mask|>
  int64_t pad_token_id = 151643;              // pad / eos column for eos_penalty
  RankScope rank_scope = RankScope::kPerRow;  // top-k scope for batches
};

// One denoising step, for parity checks.
struct GenerateStep {
  torch::Tensor sequence;        // (B, L) int64 after the step
  torch::Tensor shifted_logits;  // (B, L, V) Dream-shifted logits seen at the step
  torch::Tensor confidence;      // (B, L) float32, -inf at positions not masked
  torch::Tensor x0;              // (B, L) int64 proposed tokens, -1 at positions not masked
  int64_t transfer_count = 0;    // positions unmasked (per row for kPerRow, total otherwise)
};
struct GenerateTrace {
  std::vector<GenerateStep> steps;
};

// Logits (B, L, V) for tokens (B, L), the {0,1} attention mask (B, L) (keys
// to ignore are 0) and Dream position ids (B, L).
using LogitsFunction = std::function<torch::Tensor(
    const torch::Tensor& ids, const torch::Tensor& attention_mask, const torch::Tensor& positions)>;

// Runs the decoding from prompt_ids (B, L0) with attention mask (B, L0)
// (0 = left padding; may be undefined). Returns the (B, L0 + N) sequence.
// Deterministic given `generator` (used only when sampling).
torch::Tensor diffusion_generate(const LogitsFunction& logits_function,
                                 const torch::Tensor& prompt_ids, const torch::Tensor& prompt_mask,
                                 const GenerateSettings& settings,
                                 c10::optional<torch::Generator> generator = c10::nullopt,
                                 GenerateTrace* trace = nullptr);

// The plain Dream LM as a LogitsFunction (bidirectional, keys-only padding mask).
LogitsFunction lm_logits_function(const DreamLm& lm);

// Token choice per row of logits (M, V): (confidence (M) float32, token (M) int64).
std::pair<torch::Tensor, torch::Tensor> sample_tokens(
    torch::Tensor logits, const GenerateSettings& settings,
    const c10::optional<torch::Generator>& generator);

}  // namespace policies::dream_vla
