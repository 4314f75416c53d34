// The shipped tiny Dream-VLA (models/dream-vla-tiny): the files the loader
// reads are there and small, its recorded evaluation is of this model under the
// default command's plan, and it still succeeds where that evaluation says it
// did (episodes derive from their ids, so the same episodes can be re-run).
#include <doctest/doctest.h>

#ifdef VLA_WITH_TORCH

#include <unistd.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "harness/results.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace {

const fs::path kModel = fs::path(VLA_SOURCE_DIR) / "models" / "dream-vla-tiny";
const fs::path kRecord = kModel / "eval" / "main";  // its recorded evaluation

}  // namespace

TEST_CASE("shipped model: the checkpoint files are there and at most 25 MB") {
  uintmax_t bytes = 0;
  for (const char* name : {"config.json", "model.safetensors", "tokenizer.json",
                           "preprocessor_config.json", "dataset_statistics.json", "README.md"}) {
    INFO(name);
    REQUIRE(fs::is_regular_file(kModel / name));
    bytes += fs::file_size(kModel / name);
  }
  CHECK(bytes <= 25u * 1024 * 1024);
}

TEST_CASE("shipped model: the recorded evaluation is of this model, every state of each suite") {
  const harness::RecordedRun record = harness::read_run(kRecord.string());
  REQUIRE(record.has_context);
  const nlohmann::json& plan = record.context.at("plan");
  CHECK(plan.at("policy") == "dream-vla:models/dream-vla-tiny");
  CHECK(plan.at("suites") ==
        std::vector<std::string>{"libero_spatial", "libero_object", "libero_goal"});
  CHECK(plan.at("episodes") == 1500);
  CHECK(record.episodes.size() == 1500);
  for (const auto& episode : record.episodes) CHECK(episode.end_reason != "error");
}

TEST_CASE("shipped model: it succeeds again where its recorded evaluation succeeded") {
  // A libero_object task whose first two states both succeeded in the record.
  std::map<int, int> first_two_successes;
  for (const auto& episode : harness::read_run(kRecord.string()).episodes) {
    if (episode.suite == "libero_object" && episode.init_state < 2 && episode.success) {
      ++first_two_successes[episode.task_id];
    }
  }
  int task = -1;
  for (const auto& [id, count] : first_two_successes) {
    if (count == 2) {
      task = id;
      break;
    }
  }
  REQUIRE(task >= 0);
  const fs::path out =
      fs::temp_directory_path() / ("vla_shipped_model_" + std::to_string(getpid()));
  fs::remove_all(out);
  const auto output = test_util::run_command(
      std::string(VLA_BINARY) + " eval --suite libero_object --tasks " + std::to_string(task) +
      " --episodes-per-task 2 --seed 7 --workers 1 --quiet --policy dream-vla:" + kModel.string() +
      " --out " + out.string() + " 2>&1");
  INFO(output.text);
  REQUIRE(output.status == 0);
  const auto episodes = harness::read_run(out.string()).episodes;
  REQUIRE(episodes.size() == 2);
  int successes = 0;
  for (const auto& episode : episodes) successes += episode.success;
  // Both succeeded in the record; one may flip where another BLAS build rounds differently.
  CHECK(successes >= 1);
  fs::remove_all(out);
}

#endif  // VLA_WITH_TORCH
