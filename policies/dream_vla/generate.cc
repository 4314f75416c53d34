#include "policies/dream_vla/generate.h"

#include <cmath>
#include <limits>
#include <stdexcept>

namespace policies::dream_vla {

UnmaskAlgorithm parse_unmask_algorithm(const std::string& name) {
  if (name == "origin") return UnmaskAlgorithm::kOrigin;
  if (name == "maskgit_plus") return UnmaskAlgorithm::kMaskgitPlus;
  if (name == "topk_margin") return UnmaskAlgorithm::kTopkMargin;
  if (name == "entropy") return UnmaskAlgorithm::kEntropy;
  throw std::runtime_error("unknown unmasking algorithm \"" + name +
                           "\" (valid: origin, maskgit_plus, topk_margin, entropy)");
}

std::pair<torch::Tensor, torch::Tensor> sample_tokens(
    torch::Tensor logits, const GenerateSettings& settings,
    const c10::optional<torch::Generator>& generator) {
  const double filled = layers::lowest(logits.scalar_type());
  if (settings.temperature > 0) logits = logits / settings.temperature;
  if (settings.top_p < 1.0) {
    // Drop tokens past cumulative probability top_p (the top token always stays).
    auto sorted = logits.sort(-1, /*descending=*/true);
    auto cumulative = torch::softmax(std::get<0>(sorted), -1).cumsum(-1);
    auto remove = cumulative > settings.top_p;
    remove = torch::cat(
        {torch::zeros_like(remove.narrow(-1, 0, 1)), remove.narrow(-1, 0, remove.size(-1) - 1)},
        -1);
    auto mask = torch::zeros_like(remove).scatter(-1, std::get<1>(sorted), remove);
    logits = logits.masked_fill(mask, filled);
  }
  if (settings.top_k > 0) {
    const int64_t k = std::min<int64_t>(settings.top_k, logits.size(-1));
    auto kth = std::get<0>(logits.topk(k, -1)).narrow(-1, k - 1, 1);
    logits = logits.masked_fill(logits < kth, filled);
  }
  auto probs = torch::softmax(logits, -1);
  torch::Tensor confidence, tokens;
  if (settings.temperature > 0) {
    tokens = torch::multinomial(probs.to(torch::kFloat), 1, false, generator).squeeze(-1);
    confidence = probs.gather(-1, tokens.unsqueeze(-1)).squeeze(-1);
  } else {
    auto best = probs.max(-1);
    confidence = std::get<0>(best);
    tokens = std::get<1>(best);
  }
  if (settings.algorithm == UnmaskAlgorithm::kTopkMargin) {
    auto top2 = std::get<0>(probs.topk(2, -1));
    confidence = top2.select(-1, 0) - top2.select(-1, 1);
  } else if (settings.algorithm == UnmaskAlgorithm::kEntropy) {
    confidence = (probs * torch::log(probs + 1e-10)).sum(-1);
  }
  return {confidence.to(torch::kFloat), tokens};
}

torch::Tensor diffusion_generate(const LogitsFunction& logits_function,
                                 const torch::Tensor& prompt_ids, const torch::Tensor& prompt_mask,
                                 const GenerateSettings& settings,
                                 c10::optional<torch::Generator> generator, GenerateTrace* trace) {
  if (prompt_ids.dim() != 2) throw std::runtime_error("diffusion_generate: prompt_ids must be 2-D");
  if (settings.steps <= 0 || settings.max_new_tokens <= 0) {
    throw std::runtime_error("diffusion_generate: steps and max_new_tokens must be positive");
  }
  const auto device = prompt_ids.device();
  const int64_t batch = prompt_ids.size(0);
  const int64_t new_tokens = settings.max_new_tokens;
  auto long_options = torch::TensorOptions().dtype(torch::kLong).device(device);

  auto x = torch::cat({prompt_ids.to(torch::kLong),
                       torch::full({batch, new_tokens}, settings.mask_token_id, long_options)},
                      1);
  const int64_t length = x.size(1);
  // Attention mask padded with ones; positions = cumsum - 1 (padding at 1), or arange.
  torch::Tensor attention_mask, positions;
  if (prompt_mask.defined() && prompt_mask.eq(0).any().item<bool>()) {
    attention_mask = torch::cat(
        {prompt_mask.to(long_options), torch::ones({batch, new_tokens}, long_options)}, 1);
    positions = attention_mask.cumsum(1) - 1;
    positions.masked_fill_(attention_mask.eq(0), 1);
  } else {
    attention_mask = torch::ones({batch, length}, long_options);
    positions = torch::arange(length, long_options).unsqueeze(0).expand({batch, length});
  }
  auto timesteps = torch::linspace(1.0, settings.eps, settings.steps + 1,
                                   torch::TensorOptions().dtype(torch::kFloat));
  auto time_values = timesteps.accessor<float, 1>();

  for (int step = 0; step < settings.steps; ++step) {
    auto masked = x.eq(settings.mask_token_id);  // (B, L)
    auto logits = DreamLm::shift_logits(logits_function(x, attention_mask, positions));
    auto masked_logits = logits.index({masked});  // (M, V) row-major
    const float t = time_values[step];
    const float s = time_values[step + 1];
    const bool last = step == settings.steps - 1;
    if (settings.eos_penalty != 0.0) {
      auto column = masked_logits.select(-1, settings.pad_token_id);
      column.add_(settings.eos_penalty * std::log(1.0 - t + settings.eps));
    }
    const int64_t masked_total = masked_logits.size(0);
    GenerateStep record;
    record.shifted_logits = logits;

    if (settings.algorithm == UnmaskAlgorithm::kOrigin) {
      const float transfer_probability = last ? 1.0f : 1.0f - s / t;
      auto proposal = torch::full({masked_total}, settings.mask_token_id, long_options);
      auto chosen = torch::rand({masked_total}, generator, torch::TensorOptions().device(device)) <
                    transfer_probability;
      if (chosen.any().item<bool>()) {
        auto sampled = sample_tokens(masked_logits.index({chosen}), settings, generator);
        proposal.index_put_({chosen}, sampled.second);
      }
      x.index_put_({masked}, proposal);
      record.transfer_count = chosen.sum().item<int64_t>();
    } else {
      auto [confidence, tokens] = sample_tokens(masked_logits, settings, generator);
      auto full_confidence =
          torch::full({batch, length}, -std::numeric_limits<float>::infinity(),
                      torch::TensorOptions().dtype(torch::kFloat).device(device));
      full_confidence.index_put_({masked}, confidence);
      auto proposal = torch::full({batch, length}, settings.mask_token_id, long_options);
      proposal.index_put_({masked}, tokens);
      if (trace != nullptr) {
        record.confidence = full_confidence;
        record.x0 = torch::full({batch, length}, -1, long_options);
        record.x0.index_put_({masked}, tokens);
      }
      if (settings.rank_scope == RankScope::kPerRow) {
        // Count per row: int(masked / B * (1 - s/t)) in float32, all on the last step.
        const float per_row = static_cast<float>(masked_total) / static_cast<float>(batch);
        const int64_t count =
            last ? static_cast<int64_t>(per_row) : static_cast<int64_t>(per_row * (1.0f - s / t));
        record.transfer_count = count;
        if (count > 0) {
          torch::Tensor selected;
          if (settings.alg_temp > 0) {
            auto weights = torch::softmax(full_confidence / settings.alg_temp, -1);
            selected = torch::multinomial(weights, count, false, generator);
          } else {
            selected = std::get<1>(full_confidence.topk(count, -1));
          }
          x.scatter_(1, selected, proposal.gather(1, selected));
        }
      } else {
        const int64_t count =
            last ? masked_total
                 : static_cast<int64_t>(static_cast<float>(masked_total) * (1.0f - s / t));
        record.transfer_count = count;
        if (count > 0) {
          torch::Tensor selected;
          if (settings.alg_temp > 0) {
            auto weights = torch::softmax(confidence / settings.alg_temp, -1);
            selected = torch::multinomial(weights, count, false, generator);
          } else {
            selected = std::get<1>(confidence.topk(count, -1));
          }
          auto committed = torch::full({masked_total}, settings.mask_token_id, long_options);
          committed.index_put_({selected}, tokens.index({selected}));
          x.index_put_({masked}, committed);
        }
      }
    }
    if (trace != nullptr) {
      record.sequence = x.clone();
      trace->steps.push_back(std::move(record));
    }
  }
  return x;
}

LogitsFunction lm_logits_function(const DreamLm& lm) {
  return [&lm](const torch::Tensor& ids, const torch::Tensor& attention_mask,
               const torch::Tensor& positions) {
    return lm.logits(lm.forward(lm.embed(ids), attention_mask, positions));
  };
}

}  // namespace policies::dream_vla
