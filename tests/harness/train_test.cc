// `vla-harness train` end to end: scripted demonstrations in, a checkpoint in
// the published layout out. A run stopped and resumed equals an uninterrupted
// one, the loss falls on a handful of demos, the checkpoint runs as the
// dream-vla policy, and bad input is refused with one clear message.
#include <doctest/doctest.h>

#ifdef VLA_WITH_TORCH

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "policies/dream_vla/tokenizer.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace {

const std::string kBinary = VLA_BINARY;

// A per-process scratch directory (ctest may run test cases in parallel).
fs::path scratch(const std::string& name) {
  const fs::path path =
      fs::temp_directory_path() / ("vla_train_test_" + std::to_string(getpid()) + "_" + name);
  fs::remove_all(path);
  return path;
}

// Two 64 px demonstrations of each of two libero_object tasks, recorded once.
const std::string& demos_file() {
  static const std::string path = [] {
    const fs::path file = scratch("demos.hdf5");
    const auto output = test_util::run_command(
        kBinary + " demos --suite libero_object --tasks 0,1 --episodes-per-task 2 --image-size 64" +
        " --quiet --out " + file.string() + " 2>&1");
    INFO(output.text);
    REQUIRE(output.status == 0);
    return file.string();
  }();
  return path;
}

std::string train_command(const fs::path& out, const std::string& extra,
                          const std::string& batch_size = "4", const std::string& image_size = "56") {
  return kBinary + " train --demos " + demos_file() + " --out " + out.string() +
         " --config tiny --threads 1 --warmup-steps 2 --quiet --batch-size " + batch_size +
         " --image-size " + image_size + " " + extra + " 2>&1";
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

nlohmann::json read_json(const fs::path& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

}  // namespace

TEST_CASE("train: a run stopped with --until and resumed equals an uninterrupted run") {
  const fs::path whole = scratch("whole"), parts = scratch("parts");
  auto output = test_util::run_command(train_command(whole, "--steps 6"));
  INFO(output.text);
  REQUIRE(output.status == 0);
  output = test_util::run_command(train_command(parts, "--steps 6 --until 3"));
  REQUIRE(output.status == 0);
  CHECK(read_json(parts / "train_state" / "state.json")["step"] == 3);
  CHECK(read_bytes(parts / "model.safetensors") != read_bytes(whole / "model.safetensors"));
  output = test_util::run_command(train_command(parts, "--steps 6"));
  REQUIRE(output.status == 0);
  CHECK(output.text.find("at step 6 (from 3)") != std::string::npos);
  CHECK(read_bytes(parts / "model.safetensors") == read_bytes(whole / "model.safetensors"));

  // The loader layout: config, weights, tokenizer, processor, statistics.
  for (const char* file : {"config.json", "model.safetensors", "tokenizer.json",
                           "preprocessor_config.json", "dataset_statistics.json"}) {
    CHECK_MESSAGE(fs::exists(whole / file), file);
  }
  const auto statistics = read_json(whole / "dataset_statistics.json");
  REQUIRE(statistics.size() == 1);
  const auto& action = statistics.begin().value()["action"];
  CHECK(action["q01"].size() == 7);
  CHECK(action["mask"][6] == false);  // the gripper stays in [0, 1]
  CHECK(statistics.begin().value()["proprio"]["q99"].size() == 8);
  CHECK(read_json(whole / "config.json")["vla_action_config"]["image_size"] == 56);

  // The learned merges shorten the prompt and round-trip.
  const auto tokenizer = policies::dream_vla::Tokenizer::load((whole / "tokenizer.json").string());
  const std::string prompt = policies::dream_vla::render_chat_prompt(
      policies::dream_vla::vla_instruction("pick up the alphabet soup and place it in the basket"), 2);
  const auto ids = tokenizer.encode(prompt);
  CHECK(ids.size() * 2 < prompt.size());
  CHECK(tokenizer.decode(ids) == prompt);
  fs::remove_all(whole);
  fs::remove_all(parts);
}

TEST_CASE("train: SIGTERM stops the run with a checkpoint, and a rerun resumes") {
  const fs::path out = scratch("signal");
  auto output = test_util::run_command("timeout -s TERM 8 " + train_command(out, "--steps 1000000"));
  INFO(output.text);
  CHECK(output.status == 124);  // timeout's status once it had to send TERM
  CHECK(output.text.find("stopped by a signal at step") != std::string::npos);
  const int64_t step = read_json(out / "train_state" / "state.json")["step"];
  CHECK(step >= 1);
  output = test_util::run_command(train_command(out, "--steps 1000000 --until " + std::to_string(step + 1)));
  CHECK(output.status == 0);
  CHECK(output.text.find("(from " + std::to_string(step) + ")") != std::string::npos);
  fs::remove_all(out);
}

TEST_CASE("train: the loss falls on a handful of demos and the checkpoint runs as the policy") {
  const fs::path out = scratch("fit");
  auto output = test_util::run_command(
      train_command(out, "--steps 80 --lr 1e-3 --log-every 10 --no-augment", "8"));
  INFO(output.text);
  REQUIRE(output.status == 0);
  std::ifstream log(out / "train_state" / "log.jsonl");
  std::vector<double> losses;
  for (std::string line; std::getline(log, line);) losses.push_back(nlohmann::json::parse(line)["loss"]);
  REQUIRE(losses.size() == 8);
  CHECK(losses.back() < 0.9 * losses.front());  // flow matching keeps an irreducible part

  const fs::path run = scratch("fit_eval");
  output = test_util::run_command(kBinary + " eval --suite libero_object --tasks 0 --episodes-per-task 1" +
                                  " --quiet --policy dream-vla:" + out.string() + " --out " + run.string() + " 2>&1");
  INFO(output.text);
  REQUIRE(output.status == 0);
  std::ifstream episodes(run / "episodes.jsonl");
  std::string header, line;
  std::getline(episodes, header);
  REQUIRE(std::getline(episodes, line));
  CHECK(nlohmann::json::parse(line)["end_reason"] != "error");
  fs::remove_all(out);
  fs::remove_all(run);
}

TEST_CASE("train: bad input gets one clear error") {
  const fs::path out = scratch("bad");
  auto output = test_util::run_command(kBinary + " train --demos /nonexistent/demos.hdf5 --out " +
                                       out.string() + " 2>&1");
  CHECK(output.status != 0);
  CHECK(output.text.find("/nonexistent/demos.hdf5: no such file") != std::string::npos);

  output = test_util::run_command(train_command(out, "--steps 2", "4", "60"));
  CHECK(output.status != 0);
  CHECK(output.text.find("--image-size 60 is not a positive multiple of 28") != std::string::npos);

  REQUIRE(test_util::run_command(train_command(out, "--steps 2")).status == 0);
  output = test_util::run_command(train_command(out, "--steps 2 --seed 5"));
  CHECK(output.status != 0);
  CHECK(output.text.find("holds a run with other settings (seed was 0, now 5)") != std::string::npos);

  const fs::path other = scratch("not_a_run");
  fs::create_directories(other);
  std::ofstream(other / "notes.txt") << "x";
  output = test_util::run_command(train_command(other, "--steps 2"));
  CHECK(output.status != 0);
  CHECK(output.text.find("holds no training run") != std::string::npos);
  fs::remove_all(out);
  fs::remove_all(other);
}

#endif  // VLA_WITH_TORCH
