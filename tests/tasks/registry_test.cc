// Every registered task end to end: LIBERO-style tasks load with their stored
// initial states, reset, step, render both cameras, and never start with
// their goal true; the stored states are settled; the SimplerEnv-style tasks
// and variants build, reset, step and render too; `tasks --json` lists the
// published suites.
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "tasks/episode_env.h"
#include "tasks/init_states.h"
#include "tasks/suite.h"
#include "tasks/task_env.h"
#include "test_util.h"

namespace {

// Every LIBERO-style task (with stored initial states), or every task of the other families.
std::vector<std::string> all_task_keys(bool libero = true) {
  std::vector<std::string> keys;
  for (const tasks::SuiteInfo& suite : tasks::suites()) {
    if ((suite.family == "libero") != libero) continue;
    for (int id = 0; id < suite.task_count(); ++id) {
      keys.push_back(suite.name + "/" + std::to_string(id));
    }
  }
  return keys;
}

// An image with some contrast (not one flat colour).
bool has_content(const envs::Image& image) {
  if (image.pixels.empty()) return false;
  const auto [low, high] = std::minmax_element(image.pixels.begin(), image.pixels.end());
  return *high - *low > 40;
}

}  // namespace

TEST_CASE("registry: the four LIBERO suites with ten tasks each and their protocols") {
  const std::vector<std::pair<std::string, int>> expected = {
      {"libero_spatial", 220}, {"libero_object", 280}, {"libero_goal", 300}, {"libero_10", 520}};
  REQUIRE(tasks::suites().size() == expected.size() + 3);
  for (size_t i = 0; i < expected.size(); ++i) {
    const tasks::SuiteInfo& suite = tasks::suites()[i];
    INFO(suite.name);
    CHECK(suite.name == expected[i].first);
    CHECK(suite.family == "libero");
    CHECK(suite.task_files.size() == 10);
    CHECK(suite.protocol.max_steps == expected[i].second);
    CHECK(suite.protocol.wait_steps == 10);
    CHECK(suite.protocol.episodes_per_task == 50);
  }
}

TEST_CASE("registry: Bridge and Fractal suites, their tasks, protocols and variants") {
  const tasks::SuiteInfo& bridge = tasks::find_suite("bridge");
  REQUIRE(bridge.task_count() == 4);
  const std::vector<std::pair<std::string, int>> bridge_steps = {
      {"put the spoon on the towel", 60}, {"put carrot on plate", 60},
      {"stack the green block on the yellow block", 60}, {"put eggplant into yellow basket", 120}};
  for (int id = 0; id < 4; ++id) {
    const auto task = tasks::load_task("bridge", id);
    INFO(task->key);
    CHECK(task->family == "bridge");
    CHECK(task->instruction == bridge_steps[id].first);
    CHECK(task->protocol.max_steps == bridge_steps[id].second);
    CHECK(task->episodes == 24);
    CHECK(task->protocol.control_hz == 5);
  }
  // Visual matching: the nominal scene only; variant aggregation: every task in
  // several variants, none nominal, drawer tasks also in cabinet variants.
  const tasks::SuiteInfo& vm = tasks::find_suite("fractal_vm");
  const tasks::SuiteInfo& va = tasks::find_suite("fractal_va");
  std::map<std::string, int> vm_groups, va_variants;
  for (int id = 0; id < vm.task_count(); ++id) {
    const auto task = tasks::load_task("fractal_vm", id);
    CHECK(task->variant.empty());
    CHECK(task->protocol.control_hz == 3);
    ++vm_groups[task->group];
  }
  CHECK(vm_groups["pick_coke_can"] == 3);
  CHECK(vm_groups["move_near"] == 1);
  CHECK(vm_groups["drawer"] == 6);
  CHECK(vm_groups["apple_in_drawer"] == 1);
  bool cabinet_variant = false;
  for (int id = 0; id < va.task_count(); ++id) {
    const auto task = tasks::load_task("fractal_va", id);
    INFO(task->key << " " << task->name);
    CHECK_FALSE(task->variant.empty());
    ++va_variants[task->group + "@" + task->variant];
    cabinet_variant = cabinet_variant || task->variant.find("cabinet") != std::string::npos;
  }
  CHECK(cabinet_variant);
  CHECK(va_variants.count("pick_coke_can@lighting_darker"));
  CHECK(va_variants.count("move_near@background_1"));
  CHECK(va.task_count() > 4 * vm.task_count());
}

TEST_CASE("registry: every Bridge and Fractal task and variant builds, resets, steps, renders") {
  envs::EnvSettings settings;
  settings.cameras.clear();
  for (const std::string& key : all_task_keys(false)) {
    INFO("task " << key);
    std::shared_ptr<const tasks::TaskDefinition> task;
    REQUIRE_NOTHROW(task = tasks::load_task(key));
    std::unique_ptr<tasks::EpisodeEnv> env;
    REQUIRE_NOTHROW(env = tasks::make_episode_env(task, settings));
    for (int episode : {0, task->episodes - 1}) {
      INFO("episode " << episode);
      const envs::Observation& observation = env->reset(episode);
      // Move near names its objects per episode; every other task has one instruction.
      CHECK_FALSE(observation.instruction.empty());
      if (task->group != "move_near") CHECK(observation.instruction == task->instruction);
      CHECK_FALSE(env->goal_holds());
      bool success = false;
      for (int step = 0; step < 3; ++step) {
        success = success || env->step(envs::Action{0, 0, 0, 0, 0, 0, -1}).success;
      }
      CHECK_FALSE(success);
    }
    // The suite's camera, under the name policies ask for.
    envs::Image image;
    env->env().render("agentview", &image);
    CHECK(has_content(image));
  }
}

TEST_CASE("registry: every task loads, resets, steps, renders both cameras, goal false") {
  envs::EnvSettings settings;
  settings.cameras.clear();
  settings.render.width = settings.render.height = 64;
  for (const std::string& key : all_task_keys()) {
    INFO("task " << key);
    std::shared_ptr<const tasks::TaskDefinition> task;
    REQUIRE_NOTHROW(task = tasks::load_task(key));
    REQUIRE(task->init_states.size() == 50);
    tasks::TaskEnv env(task, settings);
    env.reset(0);
    CHECK_FALSE(env.goal_holds());
    bool success = false;
    for (int step = 0; step < 20; ++step) {
      success = success || env.step(envs::Action{0, 0, 0, 0, 0, 0, -1}).success;
    }
    CHECK_FALSE(success);
    for (const std::string camera : {"agentview", "eye_in_hand"}) {
      INFO("camera " << camera);
      envs::Image image;
      env.env().render(camera, &image);
      CHECK(image.width == 64);
      CHECK(has_content(image));
    }
  }
}

TEST_CASE("registry: stored states never start with the goal true, first and last are settled") {
  tasks::InitStateSettings verify;
  for (const std::string& key : all_task_keys()) {
    INFO("task " << key);
    const auto task = tasks::load_task(key);
    envs::EnvSettings settings;
    settings.cameras.clear();
    envs::Env env(task->scene.mjcf, settings);
    std::unique_ptr<mjData, decltype(&mj_deleteData)> data(mj_makeData(env.model()), mj_deleteData);
    for (size_t i = 0; i < task->init_states.size(); ++i) {
      INFO("state " << i);
      CHECK_FALSE(tasks::goal_holds_at(*task, env.model(), data.get(), task->init_states[i]));
    }
    for (size_t i : {size_t(0), task->init_states.size() - 1}) {
      INFO("state " << i);
      const tasks::Drift drift =
          tasks::measure_drift(*task, env, task->init_states[i], verify.verify_steps);
      INFO(drift.object << " moved " << drift.distance * 100 << " cm in 1 s");
      CHECK(drift.distance < verify.max_drift);
    }
  }
}

TEST_CASE("registry: tasks --json lists the 40 published instructions in task-id order") {
  const std::string command = std::string(VLA_BINARY) + " tasks --json";
  const test_util::CommandOutput output = test_util::run_command(command);
  REQUIRE(output.status == 0);
  const nlohmann::json listing = nlohmann::json::parse(output.text);

  std::ifstream in(std::string(VLA_TEST_DATA_DIR) + "/libero_instructions.json");
  REQUIRE(in);
  const nlohmann::json published = nlohmann::json::parse(in);

  int count = 0;
  REQUIRE(listing.at("suites").size() == published.size() + 3);
  for (const auto& suite : listing.at("suites")) {
    const std::string name = suite.at("name");
    if (suite.at("family") != "libero") continue;
    INFO("suite " << name);
    REQUIRE(published.contains(name));
    CHECK(suite.at("family") == "libero");
    CHECK(suite.at("protocol").at("episodes_per_task") == 50);
    const auto& tasks = suite.at("tasks");
    REQUIRE(tasks.size() == published[name].size());
    for (size_t id = 0; id < tasks.size(); ++id) {
      CHECK(tasks[id].at("id") == id);
      CHECK(tasks[id].at("key") == name + "/" + std::to_string(id));
      CHECK(tasks[id].at("instruction") == published[name][id]);
      CHECK(tasks[id].at("file").get<std::string>().find(name) != std::string::npos);
      ++count;
    }
  }
  CHECK(count == 40);
}
