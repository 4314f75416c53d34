#include "policies/dream_vla/tokenizer_build.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <regex>
#include <set>
#include <stdexcept>
#include <vector>

namespace policies::dream_vla {
namespace {

// Qwen2 pre-tokenizer split pattern (tokenizer.json format).
constexpr const char* kQwen2SplitPattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// The same split for ASCII text (letters and digits ASCII only), for learning merges.
const std::regex& ascii_split() {
  static const std::regex pattern(
      R"([^\r\nA-Za-z0-9]?[A-Za-z]+|[0-9]| ?[^\sA-Za-z0-9]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)");
  return pattern;
}

// UTF-8 of a code point below 0x800.
std::string utf8(int code_point) {
  std::string out;
  if (code_point < 0x80) {
    out.push_back(static_cast<char>(code_point));
  } else {
    out.push_back(static_cast<char>(0xC0 | (code_point >> 6)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  }
  return out;
}

// Byte-level symbol of each byte (GPT-2 mapping: printable bytes stand for
// themselves, the others take code points from 256 on).
std::vector<std::string> byte_symbols() {
  std::vector<std::string> symbols(256);
  int extra = 0;
  for (int byte = 0; byte < 256; ++byte) {
    const bool printable =
        (byte >= 33 && byte <= 126) || (byte >= 161 && byte <= 172) || byte >= 174;
    symbols[byte] = utf8(printable ? byte : 256 + extra++);
  }
  return symbols;
}

const char* const kAddedTokens[] = {"<|im_start|>", "<|im_end|>", "<|image_pad|>", "<|mask|>"};

// Pre-tokens of the corpus (added tokens removed) with their counts.
std::map<std::string, int64_t> pre_tokens(std::span<const std::string> corpus) {
  std::map<std::string, int64_t> counts;
  for (std::string text : corpus) {
    for (const char* added : kAddedTokens) {
      for (size_t at = text.find(added); at != std::string::npos; at = text.find(added, at)) {
        text.replace(at, std::string(added).size(), "\n");
      }
    }
    for (std::sregex_iterator it(text.begin(), text.end(), ascii_split()), end; it != end; ++it) {
      ++counts[it->str()];
    }
  }
  return counts;
}

}  // namespace

nlohmann::json byte_level_tokenizer(const TokenIds& tokens, int64_t vocab_size,
                                    std::span<const std::string> corpus) {
  if (vocab_size < 256) {
    throw std::runtime_error("byte-level tokenizer: vocab_size " + std::to_string(vocab_size) +
                             " is below the 256 byte symbols");
  }
  const std::vector<std::string> symbols = byte_symbols();
  std::vector<std::string> token_text(symbols);  // by id
  std::map<std::string, int64_t> vocab;
  for (int byte = 0; byte < 256; ++byte) vocab[symbols[byte]] = byte;

  // Free ids for merges.
  const std::set<int64_t> reserved = {tokens.image, tokens.mask, tokens.pad,
                                      tokens.action_placeholder, tokens.im_start, tokens.im_end,
                                      tokens.newline};
  std::vector<int64_t> free_ids;
  for (int64_t id = 256; id < vocab_size; ++id) {
    if (reserved.count(id) == 0) free_ids.push_back(id);
  }

  // Words as id sequences, merged greedily by pair frequency.
  std::vector<std::pair<std::vector<int64_t>, int64_t>> words;
  for (const auto& [word, count] : pre_tokens(corpus)) {
    std::vector<int64_t> ids;
    for (unsigned char byte : word) ids.push_back(byte);
    words.emplace_back(std::move(ids), count);
  }
  nlohmann::json merges = nlohmann::json::array();
  size_t next_free = 0;
  while (next_free < free_ids.size()) {
    std::map<std::pair<int64_t, int64_t>, int64_t> pairs;
    for (const auto& [ids, count] : words) {
      for (size_t i = 0; i + 1 < ids.size(); ++i) pairs[{ids[i], ids[i + 1]}] += count;
    }
    std::pair<int64_t, int64_t> best{-1, -1};
    int64_t best_count = 1;
    for (const auto& [pair, count] : pairs) {  // map order: ties keep the smallest ids
      if (count > best_count) {
        best = pair;
        best_count = count;
      }
    }
    if (best.first < 0) break;
    const std::string merged = token_text[best.first] + token_text[best.second];
    int64_t merged_id;
    if (auto it = vocab.find(merged); it != vocab.end()) {
      merged_id = it->second;  // the same string reached by other merges
    } else {
      merged_id = free_ids[next_free++];
      if (static_cast<int64_t>(token_text.size()) <= merged_id) token_text.resize(merged_id + 1);
      token_text[merged_id] = merged;
      vocab[merged] = merged_id;
    }
    merges.push_back(token_text[best.first] + " " + token_text[best.second]);
    for (auto& [ids, count] : words) {
      std::vector<int64_t> out;
      out.reserve(ids.size());
      for (size_t i = 0; i < ids.size(); ++i) {
        if (i + 1 < ids.size() && ids[i] == best.first && ids[i + 1] == best.second) {
          out.push_back(merged_id);
          ++i;
        } else {
          out.push_back(ids[i]);
        }
      }
      ids = std::move(out);
    }
  }

  nlohmann::json vocab_json = nlohmann::json::object();
  for (const auto& [text, id] : vocab) vocab_json[text] = id;
  auto added = [](int64_t id, const std::string& content) {
    return nlohmann::json{{"id", id},        {"content", content}, {"single_word", false},
                          {"lstrip", false}, {"rstrip", false},    {"normalized", false},
                          {"special", true}};
  };
  const nlohmann::json byte_level = {{"type", "ByteLevel"},
                                     {"add_prefix_space", false},
                                     {"trim_offsets", false},
                                     {"use_regex", false}};
  return {
      {"version", "1.0"},
      {"added_tokens",
       {added(tokens.im_start, "<|im_start|>"), added(tokens.im_end, "<|im_end|>"),
        added(tokens.image, "<|image_pad|>"), added(tokens.mask, "<|mask|>")}},
      {"normalizer", {{"type", "NFC"}}},
      {"pre_tokenizer",
       {{"type", "Sequence"},
        {"pretokenizers",
         {{{"type", "Split"},
           {"pattern", {{"Regex", kQwen2SplitPattern}}},
           {"behavior", "Isolated"},
           {"invert", false}},
          byte_level}}}},
      {"decoder", byte_level},
      {"model",
       {{"type", "BPE"},
        {"byte_fallback", false},
        {"ignore_merges", false},
        {"vocab", vocab_json},
        {"merges", merges}}},
  };
}

}  // namespace policies::dream_vla
