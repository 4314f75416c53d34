#include "tasks/suite.h"

#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <stdexcept>

#include "envs/env.h"
#include "tasks/init_states.h"
#include "tasks/simpler/bridge.h"
#include "tasks/simpler/fractal.h"

namespace tasks {

namespace {

// Task files taskNN.bddl, NN = 00 .. count-1, of one suite folder.
std::vector<std::string> numbered_task_files(const std::string& folder, int count) {
  std::vector<std::string> files;
  for (int id = 0; id < count; ++id) {
    files.push_back(folder + "/task" + (id < 10 ? "0" : "") + std::to_string(id) + ".bddl");
  }
  return files;
}

std::vector<TaskDefinition> fractal_visual_matching() { return simpler::fractal_tasks(false); }
std::vector<TaskDefinition> fractal_variant_aggregation() { return simpler::fractal_tasks(true); }

}  // namespace

const std::vector<SuiteInfo>& suites() {
  // Protocols as the VLA papers run LIBERO: max steps per suite, 10 no-op
  // steps, 50 episodes per task from the stored initial states, 20 Hz.
  static const std::vector<SuiteInfo> all = {
      {"libero_spatial", "libero", Protocol{220, 10, 50, 20},
       numbered_task_files("libero/libero_spatial", 10)},
      {"libero_object", "libero", Protocol{280, 10, 50, 20},
       numbered_task_files("libero/libero_object", 10)},
      {"libero_goal", "libero", Protocol{300, 10, 50, 20},
       numbered_task_files("libero/libero_goal", 10)},
      {"libero_10", "libero", Protocol{520, 10, 50, 20},
       numbered_task_files("libero/libero_10", 10)},
      // SimplerEnv-style suites: tasks, layouts and protocols defined in code
      // (each task carries its own max steps and episode count).
      {"bridge", "bridge", Protocol{60, 0, 24, 5}, {}, simpler::bridge_tasks},
      {"fractal_vm", "fractal", Protocol{80, 0, 25, 3}, {}, fractal_visual_matching},
      {"fractal_va", "fractal", Protocol{80, 0, 25, 3}, {}, fractal_variant_aggregation},
  };
  return all;
}

int SuiteInfo::task_count() const {
  if (definitions) {
    static std::mutex mutex;
    static std::map<const SuiteInfo*, int> counts;
    std::lock_guard lock(mutex);
    auto [entry, added] = counts.try_emplace(this, 0);
    if (added) entry->second = int(definitions().size());
    return entry->second;
  }
  return int(task_files.size());
}

const SuiteInfo& find_suite(const std::string& name) {
  std::string valid;
  for (const SuiteInfo& suite : suites()) {
    if (suite.name == name) return suite;
    valid += (valid.empty() ? "" : ", ") + suite.name;
  }
  throw std::runtime_error("unknown suite '" + name + "' (valid: " + valid + ")");
}

std::string tasks_directory() {
  if (const char* dir = std::getenv("VLA_TASKS_DIR")) return dir;
  return VLA_TASKS_DIR;
}

std::shared_ptr<const TaskDefinition> load_task(const std::string& suite_name, int id,
                                                bool with_init_states) {
  const SuiteInfo& suite = find_suite(suite_name);
  const int count = suite.task_count();
  if (id < 0 || id >= count) {
    throw std::runtime_error("suite " + suite.name + " has no task " + std::to_string(id) +
                             " (valid: 0.." + std::to_string(count - 1) + ")");
  }
  auto task = std::make_shared<TaskDefinition>();
  if (suite.definitions) *task = suite.definitions()[size_t(id)];
  task->suite = suite.name;
  task->id = id;
  task->key = suite.name + "/" + std::to_string(id);
  task->family = suite.family;
  if (suite.definitions) return task;

  task->protocol = suite.protocol;
  const std::filesystem::path file =
      std::filesystem::path(tasks_directory()) / suite.task_files[id];
  task->name = file.stem().string();
  task->spec = load_bddl(file.string());
  task->instruction = task->spec.language;
  task->scene = build_scene(task->spec);
  task->init_states_file = std::filesystem::path(file).replace_extension(".init.json").string();
  if (with_init_states) {
    std::unique_ptr<mjModel, decltype(&mj_deleteModel)> model(
        envs::load_model_from_string(task->scene.mjcf), mj_deleteModel);
    task->init_states = load_init_states(task->init_states_file, model.get());
    task->episodes = int(task->init_states.size());
  }
  return task;
}

int parse_task_id(const std::string& text) {
  if (text.empty() || text.size() > 6) return -1;
  int id = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return -1;
    id = id * 10 + (c - '0');
  }
  return id;
}

std::shared_ptr<const TaskDefinition> load_task(const std::string& key, bool with_init_states) {
  const auto slash = key.rfind('/');
  if (slash == std::string::npos || slash + 1 == key.size()) {
    throw std::runtime_error("task '" + key +
                             "' is not of the form suite/id (e.g. libero_spatial/0)");
  }
  const std::string id_text = key.substr(slash + 1);
  const int id = parse_task_id(id_text);
  if (id < 0) {
    throw std::runtime_error("task '" + key + "': '" + id_text + "' is not a task id number");
  }
  return load_task(key.substr(0, slash), id, with_init_states);
}

}  // namespace tasks
