// Qwen2 byte-level BPE tokenizer read from a Hugging Face tokenizer.json, and
// the chat template of the Dream-VLA prompt. Free of libtorch.
#pragma once

#include <array>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace policies::dream_vla {

// A token matched verbatim before pre-tokenisation (special or not).
struct AddedToken {
  std::string content;
  int32_t id = 0;
  bool special = false;  // control token such as <|im_start|>
  bool lstrip = false;   // also consumes whitespace on its left
  bool rstrip = false;   // also consumes whitespace on its right
};

class Tokenizer {
 public:
  // Reads a tokenizer.json, or a directory holding tokenizer.json or the slow
  // Qwen2 files (vocab.json, merges.txt, tokenizer_config.json's
  // added_tokens_decoder, added_tokens.json). Throws std::runtime_error naming
  // the file and the problem for malformed or unsupported input (model must be
  // byte-level BPE with the Qwen2 pre-tokenizer; normalizer none or NFC).
  static Tokenizer load(const std::string& path);

  // Ids of `text` (UTF-8), no special tokens added. Throws on invalid UTF-8.
  std::vector<int32_t> encode(std::string_view text) const;
  // Text of `ids`, added tokens included verbatim. Invalid byte sequences
  // become U+FFFD. Throws on an id outside the vocabulary.
  std::string decode(std::span<const int32_t> ids) const;
  // Id of a vocabulary or added token; throws if absent.
  int32_t token_id(const std::string& token) const;
  // Vocabulary size including added tokens (largest id + 1).
  int32_t size() const { return static_cast<int32_t>(id_to_token_.size()); }
  const std::vector<AddedToken>& added_tokens() const { return added_tokens_; }

 private:
  struct Merge {
    int32_t rank = 0;       // lower merges first
    int32_t merged_id = 0;  // id of the concatenation
  };

  // Builds from tokenizer.json content; `path` names the source in errors.
  static Tokenizer from_json(const nlohmann::json& root, const std::string& path);
  // BPE of one pre-token's bytes, ids appended to `out`.
  void encode_word(std::string_view bytes, std::vector<int32_t>& out) const;
  // Normalise, pre-tokenise and BPE a text span without added tokens.
  void encode_plain(std::string_view text, std::vector<int32_t>& out) const;

  std::string source_;
  bool nfc_ = false;            // normalizer is NFC
  bool ignore_merges_ = false;  // whole-word vocabulary hits skip the merges
  std::unordered_map<std::string, int32_t> token_to_id_;  // vocab and added tokens
  std::vector<std::string> id_to_token_;                  // byte-level strings; added tokens raw
  std::vector<bool> is_added_;                            // by id
  std::array<int32_t, 256> byte_ids_{};                   // id of each single byte symbol
  std::unordered_map<uint64_t, Merge> merges_;            // (left id << 32 | right id) -> merge
  std::vector<AddedToken> added_tokens_;
  std::array<std::vector<int32_t>, 256>
      added_by_first_byte_;  // indices into added_tokens_, longest first
};

// NFC normal form of UTF-8 text (throws on invalid UTF-8).
std::string nfc_normalize(std::string_view text);

// The Dream-VLA chat template (spec section 5.1).
struct ChatTemplate {
  std::string system_message = "You are a helpful assistant.";  // default system turn
  std::string image_token = "<|image_pad|>";                    // one per image before expansion
};

// "What action should the robot take to {task}?"
std::string vla_instruction(std::string_view task);

// "<|im_start|>system\n{system}<|im_end|>\n<|im_start|>user\n" + image tokens
// + user_text + "<|im_end|>\n<|im_start|>assistant\n".
std::string render_chat_prompt(std::string_view user_text, int num_images,
                               const ChatTemplate& chat_template = {});

// Replaces the i-th image token by tokens_per_image[i] copies of it. Throws if
// the counts differ.
std::string expand_image_tokens(std::string_view prompt, std::span<const int64_t> tokens_per_image,
                                std::string_view image_token = "<|image_pad|>");

// Token ids of one VLA query: the chat prompt for `task` with
// tokens_per_image[i] image tokens for image i, then `suffix` (the action
// slots and chat suffix for flow matching; empty for discrete decoding).
std::vector<int64_t> vla_prompt_ids(const Tokenizer& tokenizer, std::string_view task,
                                    std::span<const int64_t> tokens_per_image,
                                    std::span<const int64_t> suffix);

}  // namespace policies::dream_vla
