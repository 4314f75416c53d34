#include "policies/dream_vla/tokenizer.h"

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace policies::dream_vla {

namespace {

// The Qwen2 pre-tokenizer pattern; the matcher below implements exactly it.
constexpr std::string_view kQwen2Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

std::runtime_error load_error(const std::string& path, const std::string& problem) {
  return std::runtime_error("tokenizer " + path + ": " + problem);
}

nlohmann::json read_json(const std::string& path) {
  std::ifstream stream(path);
  if (!stream) throw load_error(path, "cannot open");
  try {
    return nlohmann::json::parse(stream);
  } catch (const nlohmann::json::exception& error) {
    throw load_error(path, std::string("not valid JSON: ") + error.what());
  }
}

// Code points of valid UTF-8 and the byte offset of each (plus the end).
struct CodePoints {
  std::vector<char32_t> values;
  std::vector<size_t> offsets;
};

CodePoints decode_utf8(std::string_view text) {
  CodePoints result;
  result.values.reserve(text.size());
  result.offsets.reserve(text.size() + 1);
  size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<uint8_t>(text[i]);
    size_t length = 0;
    char32_t value = 0;
    char32_t minimum = 0;
    if (lead < 0x80) {
      length = 1, value = lead;
    } else if ((lead & 0xE0) == 0xC0) {
      length = 2, value = lead & 0x1F, minimum = 0x80;
    } else if ((lead & 0xF0) == 0xE0) {
      length = 3, value = lead & 0x0F, minimum = 0x800;
    } else if ((lead & 0xF8) == 0xF0) {
      length = 4, value = lead & 0x07, minimum = 0x10000;
    } else {
      throw std::runtime_error("tokenizer: input is not valid UTF-8 (byte " + std::to_string(i) +
                               ")");
    }
    if (i + length > text.size()) {
      throw std::runtime_error("tokenizer: input is not valid UTF-8 (truncated sequence at byte " +
                               std::to_string(i) + ")");
    }
    for (size_t k = 1; k < length; ++k) {
      const auto next = static_cast<uint8_t>(text[i + k]);
      if ((next & 0xC0) != 0x80) {
        throw std::runtime_error("tokenizer: input is not valid UTF-8 (byte " +
                                 std::to_string(i + k) + ")");
      }
      value = (value << 6) | (next & 0x3F);
    }
    if (value < minimum || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) {
      throw std::runtime_error("tokenizer: input is not valid UTF-8 (invalid code point at byte " +
                               std::to_string(i) + ")");
    }
    result.values.push_back(value);
    result.offsets.push_back(i);
    i += length;
  }
  result.offsets.push_back(text.size());
  return result;
}

void append_utf8(char32_t value, std::string& out) {
  if (value < 0x80) {
    out += static_cast<char>(value);
  } else if (value < 0x800) {
    out += static_cast<char>(0xC0 | (value >> 6));
    out += static_cast<char>(0x80 | (value & 0x3F));
  } else if (value < 0x10000) {
    out += static_cast<char>(0xE0 | (value >> 12));
    out += static_cast<char>(0x80 | ((value >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (value & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (value >> 18));
    out += static_cast<char>(0x80 | ((value >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((value >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (value & 0x3F));
  }
}

// GPT-2 byte-to-unicode table: printable Latin-1 bytes map to themselves, the
// others to 256, 257, ... in byte order.
std::array<char32_t, 256> byte_to_code_point() {
  std::array<char32_t, 256> table{};
  char32_t next = 256;
  for (int byte = 0; byte < 256; ++byte) {
    const bool printable =
        (byte >= '!' && byte <= '~') || (byte >= 0xA1 && byte <= 0xAC) || (byte >= 0xAE);
    table[byte] = printable ? static_cast<char32_t>(byte) : next++;
  }
  return table;
}

const std::array<char32_t, 256>& byte_table() {
  static const std::array<char32_t, 256> table = byte_to_code_point();
  return table;
}

// Inverse of byte_table (-1 for code points that are no byte symbol).
int code_point_to_byte(char32_t value) {
  static const std::unordered_map<char32_t, int> inverse = [] {
    std::unordered_map<char32_t, int> map;
    for (int byte = 0; byte < 256; ++byte) map[byte_table()[byte]] = byte;
    return map;
  }();
  const auto it = inverse.find(value);
  return it == inverse.end() ? -1 : it->second;
}

// Unicode classes of the pattern: \p{L}, \p{N}, \s (White_Space).
bool is_letter(char32_t c) { return (U_GET_GC_MASK(static_cast<UChar32>(c)) & U_GC_L_MASK) != 0; }
bool is_number(char32_t c) { return (U_GET_GC_MASK(static_cast<UChar32>(c)) & U_GC_N_MASK) != 0; }
bool is_space(char32_t c) { return u_isUWhiteSpace(static_cast<UChar32>(c)) != 0; }
bool is_newline(char32_t c) { return c == U'\r' || c == U'\n'; }
bool is_other(char32_t c) { return !is_space(c) && !is_letter(c) && !is_number(c); }

// Case-insensitive match of one contraction letter (with Unicode simple case
// folding: U+017F LONG S folds to 's').
bool folds_to(char32_t c, char lower) {
  if (c == static_cast<char32_t>(lower) || c == static_cast<char32_t>(lower - 'a' + 'A'))
    return true;
  return lower == 's' && c == 0x017F;
}

// Length (in code points) of the pre-token starting at `i`, per kQwen2Pattern.
size_t match_pretoken(const std::vector<char32_t>& cp, size_t i) {
  const size_t n = cp.size();
  auto at = [&](size_t k) -> char32_t { return k < n ? cp[k] : 0; };
  auto has = [&](size_t k) { return k < n; };

  // (?i:'s|'t|'re|'ve|'m|'ll|'d)
  if (cp[i] == U'\'' && has(i + 1)) {
    const char32_t a = at(i + 1);
    if (folds_to(a, 's') || folds_to(a, 't') || folds_to(a, 'm') || folds_to(a, 'd')) return 2;
    if (has(i + 2)) {
      const char32_t b = at(i + 2);
      if ((folds_to(a, 'r') && folds_to(b, 'e')) || (folds_to(a, 'v') && folds_to(b, 'e')) ||
          (folds_to(a, 'l') && folds_to(b, 'l'))) {
        return 3;
      }
    }
  }
  // [^\r\n\p{L}\p{N}]?\p{L}+
  {
    size_t k = i;
    if (!is_newline(cp[k]) && !is_letter(cp[k]) && !is_number(cp[k]) && has(k + 1) &&
        is_letter(cp[k + 1]))
      ++k;
    if (is_letter(cp[k])) {
      while (k < n && is_letter(cp[k])) ++k;
      return k - i;
    }
  }
  // \p{N}
  if (is_number(cp[i])) return 1;
  // " ?[^\s\p{L}\p{N}]+[\r\n]*"
  {
    size_t k = i;
    if (cp[k] == U' ' && has(k + 1) && is_other(cp[k + 1])) ++k;
    if (is_other(cp[k])) {
      while (k < n && is_other(cp[k])) ++k;
      while (k < n && is_newline(cp[k])) ++k;
      return k - i;
    }
  }
  // Whitespace alternatives share the maximal whitespace run [i, end).
  size_t end = i;
  while (end < n && is_space(cp[end])) ++end;
  // \s*[\r\n]+ : up to and including the last newline of the run.
  for (size_t k = end; k > i; --k) {
    if (is_newline(cp[k - 1])) return k - i;
  }
  // \s+(?!\S) : the run, minus its last character if a non-space follows.
  if (end == n) return end - i;
  if (end - i >= 2) return end - i - 1;
  // \s+
  return end - i;
}

}  // namespace

std::string nfc_normalize(std::string_view text) {
  if (std::all_of(text.begin(), text.end(),
                  [](char c) { return static_cast<uint8_t>(c) < 0x80; })) {
    return std::string(text);
  }
  decode_utf8(text);  // validates
  UErrorCode status = U_ZERO_ERROR;
  const UNormalizer2* normalizer = unorm2_getNFCInstance(&status);
  if (U_FAILURE(status))
    throw std::runtime_error(std::string("tokenizer: NFC unavailable: ") + u_errorName(status));
  // UTF-8 -> UTF-16 -> NFC -> UTF-8.
  std::u16string source(text.size(), u'\0');
  int32_t source_length = 0;
  u_strFromUTF8(reinterpret_cast<UChar*>(source.data()), static_cast<int32_t>(source.size()),
                &source_length, text.data(), static_cast<int32_t>(text.size()), &status);
  std::u16string normalized(static_cast<size_t>(source_length) * 3 + 16, u'\0');
  int32_t normalized_length =
      unorm2_normalize(normalizer, reinterpret_cast<const UChar*>(source.data()), source_length,
                       reinterpret_cast<UChar*>(normalized.data()),
                       static_cast<int32_t>(normalized.size()), &status);
  if (status == U_BUFFER_OVERFLOW_ERROR) {
    status = U_ZERO_ERROR;
    normalized.assign(static_cast<size_t>(normalized_length), u'\0');
    normalized_length = unorm2_normalize(normalizer, reinterpret_cast<const UChar*>(source.data()),
                                         source_length, reinterpret_cast<UChar*>(normalized.data()),
                                         static_cast<int32_t>(normalized.size()), &status);
  }
  std::string out(static_cast<size_t>(normalized_length) * 3 + 4, '\0');
  int32_t out_length = 0;
  u_strToUTF8(out.data(), static_cast<int32_t>(out.size()), &out_length,
              reinterpret_cast<const UChar*>(normalized.data()), normalized_length, &status);
  if (U_FAILURE(status))
    throw std::runtime_error(std::string("tokenizer: NFC failed: ") + u_errorName(status));
  out.resize(static_cast<size_t>(out_length));
  return out;
}

Tokenizer Tokenizer::load(const std::string& path) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(path)) return from_json(read_json(path), path);
  if (fs::exists(fs::path(path) / "tokenizer.json"))
    return load((fs::path(path) / "tokenizer.json").string());

  // Slow-tokenizer files: vocab.json, merges.txt, tokenizer_config.json, added_tokens.json.
  const fs::path vocab_path = fs::path(path) / "vocab.json";
  const fs::path merges_path = fs::path(path) / "merges.txt";
  if (!fs::exists(vocab_path) || !fs::exists(merges_path)) {
    throw load_error(path, "directory holds neither tokenizer.json nor vocab.json + merges.txt");
  }
  nlohmann::json root = nlohmann::json::object();
  root["model"] = {{"type", "BPE"},
                   {"vocab", read_json(vocab_path.string())},
                   {"merges", nlohmann::json::array()}};
  std::ifstream merges_stream(merges_path);
  std::string line;
  for (int line_number = 0; std::getline(merges_stream, line); ++line_number) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty() || (line_number == 0 && line.rfind("#version", 0) == 0)) continue;
    root["model"]["merges"].push_back(line);
  }
  root["added_tokens"] = nlohmann::json::array();
  const fs::path config_path = fs::path(path) / "tokenizer_config.json";
  if (fs::exists(config_path)) {
    const nlohmann::json config = read_json(config_path.string());
    if (config.contains("added_tokens_decoder")) {
      const nlohmann::json& decoder = config["added_tokens_decoder"];
      if (!decoder.is_object())
        throw load_error(config_path.string(), "\"added_tokens_decoder\" is not an object");
      for (const auto& [id_text, entry] : decoder.items()) {
        nlohmann::json token = entry;
        try {
          token["id"] = std::stoll(id_text);
        } catch (const std::exception&) {
          throw load_error(config_path.string(),
                           "added_tokens_decoder key \"" + id_text + "\" is not an id");
        }
        root["added_tokens"].push_back(token);
      }
    }
  }
  const fs::path added_path = fs::path(path) / "added_tokens.json";
  if (fs::exists(added_path)) {
    const nlohmann::json added = read_json(added_path.string());
    if (!added.is_object()) throw load_error(added_path.string(), "not a JSON object");
    for (const auto& [content, id] : added.items()) {
      const bool known = std::any_of(
          root["added_tokens"].begin(), root["added_tokens"].end(),
          [&](const nlohmann::json& token) { return token.value("content", "") == content; });
      if (!known)
        root["added_tokens"].push_back({{"content", content}, {"id", id}, {"special", false}});
    }
  }
  // The slow Qwen2 tokenizer normalises to NFC and splits with the Qwen2 pattern.
  root["normalizer"] = {{"type", "NFC"}};
  root["pre_tokenizer"] = {{"type", "Sequence"},
                           {"pretokenizers",
                            {{{"type", "Split"},
                              {"pattern", {{"Regex", std::string(kQwen2Pattern)}}},
                              {"behavior", "Isolated"},
                              {"invert", false}},
                             {{"type", "ByteLevel"},
                              {"add_prefix_space", false},
                              {"trim_offsets", false},
                              {"use_regex", false}}}}};
  return from_json(root, path);
}

Tokenizer Tokenizer::from_json(const nlohmann::json& root, const std::string& path) {
  Tokenizer tokenizer;
  tokenizer.source_ = path;
  if (!root.is_object()) throw load_error(path, "top level is not a JSON object");

  // Model: byte-level BPE with vocab and merges.
  const auto model_it = root.find("model");
  if (model_it == root.end() || !model_it->is_object())
    throw load_error(path, "missing \"model\" object");
  const nlohmann::json& model = *model_it;
  if (model.contains("type") && model["type"] != "BPE") {
    throw load_error(path, "model type " + model["type"].dump() + " is not supported (only BPE)");
  }
  const auto vocab_it = model.find("vocab");
  if (vocab_it == model.end() || !vocab_it->is_object())
    throw load_error(path, "missing \"model.vocab\" object");
  const auto merges_it = model.find("merges");
  if (merges_it == model.end() || !merges_it->is_array())
    throw load_error(path, "missing \"model.merges\" array");
  if (model.contains("byte_fallback") && model["byte_fallback"] == true) {
    throw load_error(path, "model.byte_fallback is not supported");
  }
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    if (model.contains(key) && !model[key].is_null() && model[key] != "") {
      throw load_error(path, std::string("model.") + key + " is not supported");
    }
  }
  tokenizer.ignore_merges_ = model.value("ignore_merges", false);

  int32_t max_id = -1;
  for (const auto& [token, id] : vocab_it->items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 ||
        id.get<int64_t>() > std::numeric_limits<int32_t>::max()) {
      throw load_error(
          path, "vocab entry " + nlohmann::json(token).dump() + " has no non-negative integer id");
    }
    tokenizer.token_to_id_[token] = id.get<int32_t>();
    max_id = std::max(max_id, id.get<int32_t>());
  }

  // Added tokens.
  if (root.contains("added_tokens") && !root["added_tokens"].is_null()) {
    if (!root["added_tokens"].is_array())
      throw load_error(path, "\"added_tokens\" is not an array");
    for (const auto& entry : root["added_tokens"]) {
      if (!entry.is_object() || !entry.contains("content") || !entry["content"].is_string() ||
          !entry.contains("id") || !entry["id"].is_number_integer() ||
          entry["id"].get<int64_t>() < 0) {
        throw load_error(path, "added_tokens entry " + entry.dump() +
                                   " needs a string \"content\" and an integer \"id\"");
      }
      AddedToken token;
      token.content = entry["content"].get<std::string>();
      token.id = entry["id"].get<int32_t>();
      token.special = entry.value("special", false);
      token.lstrip = entry.value("lstrip", false);
      token.rstrip = entry.value("rstrip", false);
      if (entry.value("single_word", false)) {
        throw load_error(path, "added token " + token.content + ": single_word is not supported");
      }
      if (token.content.empty()) throw load_error(path, "added token with empty content");
      tokenizer.token_to_id_[token.content] = token.id;
      max_id = std::max(max_id, token.id);
      tokenizer.added_tokens_.push_back(token);
    }
  }
  tokenizer.id_to_token_.assign(static_cast<size_t>(max_id + 1), std::string());
  tokenizer.is_added_.assign(static_cast<size_t>(max_id + 1), false);
  for (const auto& [token, id] : vocab_it->items())
    tokenizer.id_to_token_[id.get<int32_t>()] = token;
  for (size_t i = 0; i < tokenizer.added_tokens_.size(); ++i) {
    const AddedToken& token = tokenizer.added_tokens_[i];
    tokenizer.id_to_token_[token.id] = token.content;
    tokenizer.is_added_[token.id] = true;
    tokenizer.added_by_first_byte_[static_cast<uint8_t>(token.content[0])].push_back(
        static_cast<int32_t>(i));
  }
  for (auto& candidates : tokenizer.added_by_first_byte_) {
    std::stable_sort(candidates.begin(), candidates.end(), [&](int32_t a, int32_t b) {
      return tokenizer.added_tokens_[a].content.size() > tokenizer.added_tokens_[b].content.size();
    });
  }

  // Every byte needs a single-symbol token.
  for (int byte = 0; byte < 256; ++byte) {
    std::string symbol;
    append_utf8(byte_table()[byte], symbol);
    const auto it = tokenizer.token_to_id_.find(symbol);
    if (it == tokenizer.token_to_id_.end()) {
      throw load_error(path, "vocab lacks the byte-level symbol of byte " + std::to_string(byte));
    }
    tokenizer.byte_ids_[byte] = it->second;
  }

  // Merges: "left right" strings or [left, right] pairs, in rank order.
  int32_t rank = 0;
  for (const auto& entry : *merges_it) {
    std::string left, right;
    if (entry.is_string()) {
      const std::string text = entry.get<std::string>();
      const size_t space = text.find(' ');
      if (space == std::string::npos || space == 0 || space + 1 == text.size()) {
        throw load_error(path, "merge " + entry.dump() + " is not \"left right\"");
      }
      left = text.substr(0, space);
      right = text.substr(space + 1);
    } else if (entry.is_array() && entry.size() == 2 && entry[0].is_string() &&
               entry[1].is_string()) {
      left = entry[0].get<std::string>();
      right = entry[1].get<std::string>();
    } else {
      throw load_error(path,
                       "merge " + entry.dump() + " is neither a string nor a pair of strings");
    }
    const auto left_it = tokenizer.token_to_id_.find(left);
    const auto right_it = tokenizer.token_to_id_.find(right);
    const auto merged_it = tokenizer.token_to_id_.find(left + right);
    if (left_it == tokenizer.token_to_id_.end() || right_it == tokenizer.token_to_id_.end() ||
        merged_it == tokenizer.token_to_id_.end()) {
      throw load_error(path, "merge " + entry.dump() + " uses a token missing from the vocab");
    }
    const uint64_t key =
        (static_cast<uint64_t>(left_it->second) << 32) | static_cast<uint32_t>(right_it->second);
    tokenizer.merges_.emplace(key, Merge{rank++, merged_it->second});
  }

  // Normalizer: none or NFC.
  auto check_normalizer = [&](const nlohmann::json& normalizer) {
    if (!normalizer.is_object() || !normalizer.contains("type"))
      throw load_error(path, "normalizer has no \"type\"");
    if (normalizer["type"] == "NFC") {
      tokenizer.nfc_ = true;
    } else {
      throw load_error(path,
                       "normalizer " + normalizer["type"].dump() + " is not supported (only NFC)");
    }
  };
  if (root.contains("normalizer") && !root["normalizer"].is_null()) {
    const nlohmann::json& normalizer = root["normalizer"];
    if (normalizer.is_object() && normalizer.value("type", "") == "Sequence" &&
        normalizer.contains("normalizers") && normalizer["normalizers"].is_array()) {
      for (const auto& part : normalizer["normalizers"]) check_normalizer(part);
    } else {
      check_normalizer(normalizer);
    }
  }

  // Pre-tokenizer: Split(Qwen2 pattern, Isolated) then ByteLevel without regex.
  const auto pre_it = root.find("pre_tokenizer");
  if (pre_it == root.end() || !pre_it->is_object())
    throw load_error(path, "missing \"pre_tokenizer\" object");
  const nlohmann::json& pre = *pre_it;
  const bool sequence = pre.value("type", "") == "Sequence" && pre.contains("pretokenizers") &&
                        pre["pretokenizers"].is_array() && pre["pretokenizers"].size() == 2;
  if (!sequence)
    throw load_error(path, "pre_tokenizer must be a Sequence of Split and ByteLevel (Qwen2)");
  const nlohmann::json& split = pre["pretokenizers"][0];
  const nlohmann::json& byte_level = pre["pretokenizers"][1];
  const bool qwen_split =
      split.is_object() && split.value("type", "") == "Split" && split.contains("pattern") &&
      split["pattern"].is_object() && split["pattern"].value("Regex", "") == kQwen2Pattern &&
      split.value("behavior", "") == "Isolated" && !split.value("invert", false);
  if (!qwen_split)
    throw load_error(path, "pre_tokenizer Split is not the Qwen2 pattern with Isolated behaviour");
  if (!byte_level.is_object() || byte_level.value("type", "") != "ByteLevel" ||
      byte_level.value("add_prefix_space", false) || byte_level.value("use_regex", true)) {
    throw load_error(
        path, "pre_tokenizer ByteLevel must have add_prefix_space=false and use_regex=false");
  }
  return tokenizer;
}

void Tokenizer::encode_word(std::string_view bytes, std::vector<int32_t>& out) const {
  if (ignore_merges_ || bytes.size() == 1) {
    std::string symbols;
    for (char byte : bytes) append_utf8(byte_table()[static_cast<uint8_t>(byte)], symbols);
    const auto it = token_to_id_.find(symbols);
    if (it != token_to_id_.end() && (!is_added_[it->second])) {
      out.push_back(it->second);
      return;
    }
  }
  std::vector<int32_t> symbols;
  symbols.reserve(bytes.size());
  for (char byte : bytes) symbols.push_back(byte_ids_[static_cast<uint8_t>(byte)]);
  // Repeatedly apply the lowest-ranked merge (leftmost on ties).
  while (symbols.size() > 1) {
    int32_t best_rank = std::numeric_limits<int32_t>::max();
    size_t best_position = 0;
    int32_t best_id = 0;
    for (size_t k = 0; k + 1 < symbols.size(); ++k) {
      const uint64_t key =
          (static_cast<uint64_t>(symbols[k]) << 32) | static_cast<uint32_t>(symbols[k + 1]);
      const auto it = merges_.find(key);
      if (it != merges_.end() && it->second.rank < best_rank) {
        best_rank = it->second.rank;
        best_position = k;
        best_id = it->second.merged_id;
      }
    }
    if (best_rank == std::numeric_limits<int32_t>::max()) break;
    symbols[best_position] = best_id;
    symbols.erase(symbols.begin() + static_cast<std::ptrdiff_t>(best_position) + 1);
  }
  out.insert(out.end(), symbols.begin(), symbols.end());
}

void Tokenizer::encode_plain(std::string_view text, std::vector<int32_t>& out) const {
  if (text.empty()) return;
  std::string normalized;
  if (nfc_) {
    normalized = nfc_normalize(text);
    text = normalized;
  }
  const CodePoints cp = decode_utf8(text);
  size_t i = 0;
  while (i < cp.values.size()) {
    const size_t length = match_pretoken(cp.values, i);
    const size_t begin = cp.offsets[i];
    const size_t end = cp.offsets[i + length];
    encode_word(text.substr(begin, end - begin), out);
    i += length;
  }
}

std::vector<int32_t> Tokenizer::encode(std::string_view text) const {
  decode_utf8(text);  // reject invalid UTF-8 up front
  std::vector<int32_t> ids;
  size_t segment_begin = 0;
  size_t position = 0;
  auto is_ascii_space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
  };
  while (position < text.size()) {
    const AddedToken* match = nullptr;
    for (int32_t index : added_by_first_byte_[static_cast<uint8_t>(text[position])]) {
      const AddedToken& candidate = added_tokens_[index];
      if (text.substr(position, candidate.content.size()) == candidate.content) {
        match = &candidate;
        break;  // longest first
      }
    }
    if (match == nullptr) {
      ++position;
      continue;
    }
    size_t segment_end = position;
    if (match->lstrip) {
      while (segment_end > segment_begin && is_ascii_space(text[segment_end - 1])) --segment_end;
    }
    encode_plain(text.substr(segment_begin, segment_end - segment_begin), ids);
    ids.push_back(match->id);
    position += match->content.size();
    if (match->rstrip) {
      while (position < text.size() && is_ascii_space(text[position])) ++position;
    }
    segment_begin = position;
  }
  encode_plain(text.substr(segment_begin), ids);
  return ids;
}

std::string Tokenizer::decode(std::span<const int32_t> ids) const {
  std::string bytes;
  for (int32_t id : ids) {
    if (id < 0 || id >= size() || (id_to_token_[id].empty())) {
      throw std::runtime_error("tokenizer " + source_ + ": cannot decode id " + std::to_string(id));
    }
    const std::string& token = id_to_token_[id];
    if (is_added_[id]) {
      bytes += token;
      continue;
    }
    for (char32_t value : decode_utf8(token).values) {
      const int byte = code_point_to_byte(value);
      if (byte < 0) {
        throw std::runtime_error("tokenizer " + source_ + ": token " + std::to_string(id) +
                                 " is not byte-level");
      }
      bytes += static_cast<char>(byte);
    }
  }
  // Replace invalid UTF-8 sequences by U+FFFD, one per maximal invalid prefix.
  std::string text;
  text.reserve(bytes.size());
  size_t i = 0;
  while (i < bytes.size()) {
    const auto lead = static_cast<uint8_t>(bytes[i]);
    size_t length = lead < 0x80             ? 1
                    : (lead & 0xE0) == 0xC0 ? 2
                    : (lead & 0xF0) == 0xE0 ? 3
                    : (lead & 0xF8) == 0xF0 ? 4
                                            : 0;
    bool valid = length > 0 && i + length <= bytes.size();
    if (valid) {
      try {
        decode_utf8(std::string_view(bytes).substr(i, length));
      } catch (const std::runtime_error&) {
        valid = false;
      }
    }
    if (valid) {
      text.append(bytes, i, length);
      i += length;
    } else {
      text += "\xEF\xBF\xBD";
      ++i;
      while (i < bytes.size() && (static_cast<uint8_t>(bytes[i]) & 0xC0) == 0x80) ++i;
    }
  }
  return text;
}

int32_t Tokenizer::token_id(const std::string& token) const {
  const auto it = token_to_id_.find(token);
  if (it == token_to_id_.end())
    throw std::runtime_error("tokenizer " + source_ + ": no token \"" + token + "\"");
  return it->second;
}

std::string vla_instruction(std::string_view task) {
  return "What action should the robot take to " + std::string(task) + "?";
}

std::string render_chat_prompt(std::string_view user_text, int num_images,
                               const ChatTemplate& chat_template) {
  if (num_images < 0) throw std::runtime_error("render_chat_prompt: negative image count");
  std::string prompt =
      "<|im_start|>system\n" + chat_template.system_message + "<|im_end|>\n<|im_start|>user\n";
  for (int i = 0; i < num_images; ++i) prompt += chat_template.image_token;
  prompt += user_text;
  prompt += "<|im_end|>\n<|im_start|>assistant\n";
  return prompt;
}

std::string expand_image_tokens(std::string_view prompt, std::span<const int64_t> tokens_per_image,
                                std::string_view image_token) {
  std::string out;
  size_t position = 0;
  size_t image = 0;
  while (true) {
    const size_t found = prompt.find(image_token, position);
    if (found == std::string_view::npos) break;
    if (image >= tokens_per_image.size()) {
      throw std::runtime_error("expand_image_tokens: prompt has more than " +
                               std::to_string(tokens_per_image.size()) + " image tokens");
    }
    out.append(prompt.substr(position, found - position));
    for (int64_t k = 0; k < tokens_per_image[image]; ++k) out.append(image_token);
    ++image;
    position = found + image_token.size();
  }
  if (image != tokens_per_image.size()) {
    throw std::runtime_error("expand_image_tokens: prompt has " + std::to_string(image) +
                             " image tokens, " + std::to_string(tokens_per_image.size()) +
                             " images given");
  }
  out.append(prompt.substr(position));
  return out;
}

std::vector<int64_t> vla_prompt_ids(const Tokenizer& tokenizer, std::string_view task,
                                    std::span<const int64_t> tokens_per_image,
                                    std::span<const int64_t> suffix) {
  const std::string prompt = expand_image_tokens(
      render_chat_prompt(vla_instruction(task), static_cast<int>(tokens_per_image.size())),
      tokens_per_image);
  const std::vector<int32_t> ids32 = tokenizer.encode(prompt);
  std::vector<int64_t> ids(ids32.begin(), ids32.end());
  ids.insert(ids.end(), suffix.begin(), suffix.end());
  return ids;
}

}  // namespace policies::dream_vla
