// Suites: named lists of task files and their evaluation protocol.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tasks/bddl.h"
#include "tasks/scene.h"

namespace tasks {

struct Protocol {
  int max_steps = 220;          // policy steps per episode
  int wait_steps = 10;          // no-op steps [0,0,0,0,0,0,-1] after reset, not counted
  int episodes_per_task = 50;   // one per stored initial state
  int control_hz = 20;          // control steps per second
};

// A task loaded and ready to instantiate environments from (read-only, shared
// by workers).
struct TaskDefinition {
  std::string suite;
  int id = 0;
  std::string key;              // "suite/id"
  std::string family;           // "libero", "bridge" or "fractal"
  std::string name;             // e.g. "put_carrot_on_plate"; LIBERO-style: the task file's stem
  std::string instruction;      // the language instruction at the episode's start
  int episodes = 0;             // episodes the protocol defines (stored initial states or layouts)
  std::string group;            // what reports average over (e.g. "drawer"); "": the task itself
  std::string variant;          // visual variant of the scene; "": the nominal scene
  Protocol protocol;
  // LIBERO-style tasks only: the task file, its scene and stored initial states.
  TaskSpec spec;
  Scene scene;
  std::string init_states_file;
  std::vector<std::vector<double>> init_states;  // qpos per initial state
};

struct SuiteInfo {
  std::string name;             // e.g. "libero_spatial"
  std::string family;           // "libero", "bridge" or "fractal"
  Protocol protocol;
  std::vector<std::string> task_files;  // LIBERO-style: relative to the tasks directory, by task id
  // Other families: the suite's tasks, defined in code (suite, id and key unset).
  std::vector<TaskDefinition> (*definitions)() = nullptr;
  int task_count() const;
};

// Every registered suite, in a fixed order.
const std::vector<SuiteInfo>& suites();
// Throws std::runtime_error listing the valid suite names if unknown.
const SuiteInfo& find_suite(const std::string& name);

// Root of the task files (tasks/ in the source tree, or $VLA_TASKS_DIR).
std::string tasks_directory();

// Loads task `id` of `suite`. LIBERO-style: parses its BDDL, builds its scene,
// reads its stored initial states (unless `with_init_states` is false). Throws
// std::runtime_error naming the file and problem; an out-of-range id lists the
// valid range.
std::shared_ptr<const TaskDefinition> load_task(const std::string& suite, int id,
                                                bool with_init_states = true);

// A task id ("0", "12"): a non-negative decimal number, or -1 if `text` is not one.
int parse_task_id(const std::string& text);

// Parses "suite/id" (e.g. "libero_spatial/0").
std::shared_ptr<const TaskDefinition> load_task(const std::string& key, bool with_init_states = true);

}  // namespace tasks
