// tokenizer.json files for small checkpoints: a byte-level BPE vocabulary of
// the 256 byte symbols (id = byte value) plus merges learned from a corpus of
// prompts, with the chat, image and mask tokens at the configuration's ids.
// The result loads with Tokenizer::load like a published Qwen2 tokenizer.
// Free of libtorch.
#pragma once

#include <nlohmann/json.hpp>
#include <span>
#include <string>

#include "policies/dream_vla/config.h"

namespace policies::dream_vla {

// Merges take the free ids in [256, vocab_size) (ids of `tokens` are not free)
// in order, most frequent pair first (ties: smallest ids), while a pair occurs
// at least twice. An empty corpus gives bytes only. Deterministic.
nlohmann::json byte_level_tokenizer(const TokenIds& tokens, int64_t vocab_size,
                                    std::span<const std::string> corpus = {});

}  // namespace policies::dream_vla
