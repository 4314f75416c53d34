// A scripted expert's plan for a task: the goal formula split into ordered
// sub-tasks (pick and place, push, open or close a drawer or door, turn a
// knob), each with the single atom that says it is done.
#pragma once

#include <mujoco/mujoco.h>

#include <memory>
#include <string>
#include <vector>

#include "tasks/bddl.h"
#include "tasks/predicates.h"
#include "tasks/scene.h"

namespace tasks {

enum class SkillKind {
  kPickPlace,
  kPush,
  kOpenDrawer,
  kCloseDrawer,
  kOpenDoor,
  kCloseDoor,
  kTurnOn,
  kTurnOff
};

// "pick_place", "push", "open_drawer", ... (the name published to the expert).
const char* skill_name(SkillKind kind);

struct ExpertPlanSettings {
  double push_min_width =
      0.075;  // m, objects wider than this in every direction (and no rim) are pushed
  double drawer_open_goal = -0.155;  // slide qpos an opening drawer must pass (predicate: -0.14)
  double knob_on_goal = 0.6;         // rad, knob qpos a turn-on must reach (predicate: 0.5)
  double knob_off_goal = -0.1;       // rad, knob qpos a turn-off must reach (predicate: 0.0)
  std::string hand_body = "robot0_hand";  // a placement is done only once this hand lets go
};

struct SubTask {
  SkillKind kind = SkillKind::kPickPlace;
  std::string object;  // object moved (pick_place, push) or fixture with the knob (turn_on/off)
  std::string target;  // region or object it goes to; region opened or closed (drawer, door)
  std::string joint;   // joint acted on (drawers, doors, knobs); "" otherwise
  std::string handle_site;  // site of the drawer or door handle; "" otherwise
  double joint_goal = 0;    // qpos the skill drives the joint past (drawers, doors, knobs)
  Predicate done;           // formula that holds once this sub-task is finished
  int enables = -1;         // prerequisite of sub-task `enables`: skipped once that one is done
};

class ExpertPlan {
 public:
  // Splits `goal` (an And of atoms; Or takes its first branch, Not of a joint
  // atom becomes the opposite atom) into ordered sub-tasks: knobs first, then
  // openings, then placements in goal order (each placement into a region
  // behind a closed drawer or door preceded by opening it), then closings.
  // Throws std::runtime_error naming `file` for a formula it cannot plan.
  ExpertPlan(const Predicate& goal, const Scene& scene, const mjModel* model,
             const std::string& file, ExpertPlanSettings settings = {});
  ~ExpertPlan();
  ExpertPlan(ExpertPlan&&) noexcept;
  ExpertPlan& operator=(ExpertPlan&&) noexcept;

  const std::vector<SubTask>& subtasks() const { return subtasks_; }
  // Index of the sub-task to work on now: the first one not done (a finished
  // one whose atom became false again counts as not done); -1 when all are
  // done. `reached` (one flag per sub-task, cleared at each episode start)
  // remembers which joint skills have reached their own goal: from then on
  // the atom alone says they are done, so that letting go of a handle does
  // not send the expert back.
  int current(const mjModel* model, const mjData* data, std::vector<char>* reached) const;
  // Whether sub-task `index` is done in the state `data` (see current()).
  bool done(int index, const mjModel* model, const mjData* data, std::vector<char>* reached) const;

 private:
  std::vector<SubTask> subtasks_;
  std::vector<Goal> done_;       // compiled SubTask::done, per sub-task
  std::vector<int> joint_qpos_;  // qpos address of SubTask::joint, -1 if none
  std::vector<char> hand_mask_;  // bodies of the hand and fingers (empty if the model has none)
  std::vector<std::vector<char>> object_masks_;  // per sub-task: the placed object's bodies
};

}  // namespace tasks
