// The shipped tiny Dream-VLA (models/dream-vla-tiny): the files the loader
// reads are there and small, its recorded evaluation is of this model under the
// default command's plan, and it still succeeds where that evaluation says it
// did (episodes derive from their ids, so the same episodes can be re-run).
// Likewise its camera-randomized twin (models/dream-vla-tiny-cam3) and the
// camera sweep of both (results/camera-sweep).
#include <doctest/doctest.h>

#ifdef VLA_WITH_TORCH

#include <unistd.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "harness/results.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace {

const fs::path kModel = fs::path(VLA_SOURCE_DIR) / "models" / "dream-vla-tiny";
const fs::path kRecord = kModel / "eval" / "main";  // its recorded evaluation
// The twin trained on camera-randomized demos, and both models' camera sweep.
const fs::path kModelCam3 = fs::path(VLA_SOURCE_DIR) / "models" / "dream-vla-tiny-cam3";
const fs::path kCameraSweep = fs::path(VLA_SOURCE_DIR) / "results" / "camera-sweep";

// An episode that ran to its end: neither an env "error" nor a "policy_error".
bool finished(const std::string& end_reason) {
  return end_reason == "success" || end_reason == "max_steps";
}

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
  for (const auto& episode : record.episodes) CHECK(finished(episode.end_reason));
}

namespace {

// Re-runs states 0 and 1 of a task of `suite` on which `record` succeeded on
// both, with the record's camera level, and returns how many succeed again.
int rerun_recorded_successes(const fs::path& model, const fs::path& record,
                             const std::string& suite) {
  const harness::RecordedRun recorded = harness::read_run(record.string());
  std::map<int, int> first_two_successes;
  for (const auto& episode : recorded.episodes) {
    if (episode.suite == suite && episode.init_state < 2 && episode.success) {
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
  std::string camera;
  const nlohmann::json& plan = recorded.context.at("plan");
  if (plan.contains("camera") && plan["camera"].value("level", -1) >= 0) {  // -1: unperturbed
    camera = " --camera-level " + std::to_string(plan["camera"]["level"].get<int>()) +
             " --camera-mode " + plan["camera"]["mode"].get<std::string>();
  }
  const fs::path out =
      fs::temp_directory_path() / ("vla_shipped_model_" + std::to_string(getpid()));
  fs::remove_all(out);
  // Episode ids, and so the states and camera draws, do not depend on
  // --episodes-per-task: these are the record's first two episodes of the task.
  const auto output = test_util::run_command(
      std::string(VLA_BINARY) + " eval --suite " + suite + " --tasks " + std::to_string(task) +
      " --episodes-per-task 2 --seed 7 --workers 1 --quiet --policy dream-vla:" + model.string() +
      camera + " --out " + out.string() + " 2>&1");
  INFO(output.text);
  REQUIRE(output.status == 0);
  const auto episodes = harness::read_run(out.string()).episodes;
  REQUIRE(episodes.size() == 2);
  int successes = 0;
  for (const auto& episode : episodes) successes += episode.success;
  fs::remove_all(out);
  return successes;
}

}  // namespace

TEST_CASE("shipped model: it succeeds again where its recorded evaluation succeeded") {
  // Both succeeded in the record; one may flip where another BLAS build rounds differently.
  CHECK(rerun_recorded_successes(kModel, kRecord, "libero_object") >= 1);
}

TEST_CASE("shipped model: the camera sweep covers both models at levels 0 to 5") {
  std::map<std::string, std::set<int>> levels;  // "policy suite" -> camera levels
  for (const auto& entry : fs::directory_iterator(kCameraSweep)) {
    if (!fs::is_regular_file(entry.path() / "episodes.jsonl")) continue;
    const harness::RecordedRun record = harness::read_run(entry.path().string());
    INFO(entry.path().string());
    REQUIRE(record.has_context);
    const nlohmann::json& plan = record.context.at("plan");
    CHECK(plan.at("episodes_per_task") == 5);
    CHECK(record.episodes.size() == 50);
    for (const auto& episode : record.episodes) CHECK(finished(episode.end_reason));
    const std::string key =
        plan.at("policy").get<std::string>() + " " + plan.at("suites")[0].get<std::string>();
    levels[key].insert(plan.at("camera").at("level").get<int>());
  }
  const std::set<int> all{0, 1, 2, 3, 4, 5};
  for (const char* policy : {"dream-vla:models/dream-vla-tiny", "dream-vla:models/dream-vla-tiny-cam3"}) {
    for (const char* suite : {"libero_spatial", "libero_object"}) {
      const std::string key = std::string(policy) + " " + suite;
      INFO(key);
      CHECK(levels[key] == all);
    }
  }
  CHECK(fs::is_regular_file(kCameraSweep / "report" / "camera.svg"));
  for (const char* name : {"config.json", "model.safetensors", "tokenizer.json",
                           "preprocessor_config.json", "dataset_statistics.json", "README.md"}) {
    INFO(name);
    CHECK(fs::is_regular_file(kModelCam3 / name));
  }
}

TEST_CASE("shipped model: the camera-randomized twin succeeds again at camera level 3") {
  const fs::path record =
      kCameraSweep / "libero_spatial__dream-vla-models-dream-vla-tiny-cam3__cam3__seed7";
  CHECK(rerun_recorded_successes(kModelCam3, record, "libero_spatial") >= 1);
}

#endif  // VLA_WITH_TORCH
