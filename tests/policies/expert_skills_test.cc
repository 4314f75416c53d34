// The scripted expert's plan (sub-task order) and each of its skills on small
// scenes: drawers, the stove knob, pushing, placing into a drawer, two placements.
#include <doctest/doctest.h>

#include <cmath>
#include <memory>
#include <string>

#include "envs/random.h"
#include "policies/scripted/scripted.h"
#include "tasks/expert_plan.h"
#include "tasks/init_states.h"
#include "tasks/suite.h"
#include "tasks/task_env.h"

namespace {

std::shared_ptr<tasks::TaskDefinition> expert_task(const std::string& name) {
  auto task = std::make_shared<tasks::TaskDefinition>();
  task->suite = "expert";
  task->key = "expert/" + name;
  task->spec = tasks::load_bddl(std::string(VLA_TEST_DATA_DIR) + "/expert/" + name + ".bddl");
  task->scene = tasks::build_scene(task->spec);
  return task;
}

std::string plan_string(const tasks::ExpertPlan& plan) {
  std::string out;
  for (const tasks::SubTask& subtask : plan.subtasks()) {
    if (!out.empty()) out += ' ';
    out += tasks::skill_name(subtask.kind);
  }
  return out;
}

tasks::ExpertPlan make_plan(const tasks::TaskDefinition& task, const mjModel* model) {
  return tasks::ExpertPlan(task.spec.goal, task.scene, model, task.spec.file);
}

struct Outcome {
  int successes = 0;
  std::string log;  // per episode: steps or the failure, and the last skill
};

// Runs the expert from `episodes` sampled initial states under the LIBERO
// protocol (10 no-op steps, then at most `max_steps`).
Outcome run_expert(std::shared_ptr<const tasks::TaskDefinition> task, int episodes, int max_steps) {
  envs::EnvSettings settings;
  settings.cameras.clear();
  tasks::TaskEnv env(task, settings);
  REQUIRE_MESSAGE(env.plan() != nullptr, env.plan_error());
  tasks::InitStateSettings init;
  policies::scripted::ScriptedExpert expert;
  Outcome outcome;
  for (int episode = 0; episode < episodes; ++episode) {
    const uint64_t seed =
        envs::derive_seed(7, task->key + "/" + std::to_string(episode), "init_state");
    const std::vector<double> qpos = tasks::sample_init_state(*task, env.env(), seed, init).qpos;
    const envs::Observation* observation = &env.reset_qpos(qpos);
    for (int step = 0; step < 10; ++step) env.step({0, 0, 0, 0, 0, 0, -1});
    expert.reset(0, 0);
    bool success = false;
    int step = 0;
    std::string last_skill;
    for (; step < max_steps && !success; ++step) {
      const policies::PolicyQuery query{0, observation};
      const envs::Action action = expert.act({&query, 1}).front().front();
      last_skill = observation->skill;
      const tasks::StepResult result = env.step(action);
      observation = result.observation;
      success = result.success;
    }
    outcome.successes += success;
    outcome.log += ' ';
    outcome.log += std::to_string(episode);
    outcome.log += success ? ":" : ":fail@";
    outcome.log += success ? std::to_string(step) : last_skill;
  }
  return outcome;
}

}  // namespace

TEST_CASE("expert plan: a placement into a closed drawer opens it first, Close comes last") {
  auto task = expert_task("place_and_close");
  std::unique_ptr<mjModel, decltype(&mj_deleteModel)> model(
      envs::load_model_from_string(task->scene.mjcf), mj_deleteModel);
  const tasks::ExpertPlan plan = make_plan(*task, model.get());
  CHECK(plan_string(plan) == "open_drawer pick_place close_drawer");
  CHECK(plan.subtasks()[0].enables == 1);
  CHECK(plan.subtasks()[0].handle_site == "wooden_cabinet_1_bottom_handle");

  std::unique_ptr<mjData, decltype(&mj_deleteData)> data(mj_makeData(model.get()), mj_deleteData);
  const int drawer = model->jnt_qposadr[mj_name2id(model.get(), mjOBJ_JOINT,
                                                   "wooden_cabinet_1_bottom_drawer_joint")];
  const int bowl =
      model->jnt_qposadr[mj_name2id(model.get(), mjOBJ_JOINT, "akita_black_bowl_1_joint")];
  const int region = mj_name2id(model.get(), mjOBJ_SITE, "wooden_cabinet_1_bottom_region");
  // Closed drawer, bowl on the table: open it.
  tasks::set_robot_init_qpos(model.get(), data->qpos);
  mj_forward(model.get(), data.get());
  CHECK(plan.current(model.get(), data.get(), nullptr) == 0);
  // Open drawer: place the bowl.
  data->qpos[drawer] = -0.17;
  mj_forward(model.get(), data.get());
  CHECK(plan.current(model.get(), data.get(), nullptr) == 1);
  // Bowl inside: close the drawer; once closed, the opening is not needed again.
  for (int i = 0; i < 3; ++i) data->qpos[bowl + i] = data->site_xpos[3 * region + i];
  data->qpos[bowl + 2] -= model->site_size[3 * region + 2];
  mj_forward(model.get(), data.get());
  CHECK(plan.current(model.get(), data.get(), nullptr) == 2);
  data->qpos[drawer] = 0.005;
  for (int i = 0; i < 3; ++i) data->qpos[bowl + i] = 0;
  mj_forward(model.get(), data.get());
  for (int i = 0; i < 3; ++i) data->qpos[bowl + i] = data->site_xpos[3 * region + i];
  data->qpos[bowl + 2] -= model->site_size[3 * region + 2];
  mj_forward(model.get(), data.get());
  CHECK(plan.current(model.get(), data.get(), nullptr) == -1);
}

TEST_CASE("expert plan: an opened drawer stays done when let go a little, not when closed") {
  auto task = expert_task("open_drawer");
  std::unique_ptr<mjModel, decltype(&mj_deleteModel)> model(
      envs::load_model_from_string(task->scene.mjcf), mj_deleteModel);
  std::unique_ptr<mjData, decltype(&mj_deleteData)> data(mj_makeData(model.get()), mj_deleteData);
  const tasks::ExpertPlan plan = make_plan(*task, model.get());
  REQUIRE(plan_string(plan) == "open_drawer");
  const int drawer = model->jnt_qposadr[mj_name2id(model.get(), mjOBJ_JOINT,
                                                   "wooden_cabinet_1_middle_drawer_joint")];
  std::vector<char> reached;
  auto current_at = [&](double qpos) {
    data->qpos[drawer] = qpos;
    mj_forward(model.get(), data.get());
    return plan.current(model.get(), data.get(), &reached);
  };
  // Past the Open threshold (-0.14) but short of the skill's own goal: keep pulling.
  CHECK(current_at(-0.145) == 0);
  CHECK(current_at(-0.17) == -1);
  // Let go, the drawer slides back a little: still open, still done.
  CHECK(current_at(-0.15) == -1);
  // Pushed shut again: back to opening it.
  CHECK(current_at(-0.05) == 0);
  CHECK(current_at(-0.15) == 0);
}

TEST_CASE("task env: publishes the current sub-task and its hints without new map entries") {
  auto task = expert_task("stove_then_place");
  envs::EnvSettings settings;
  settings.cameras.clear();
  tasks::TaskEnv env(task, settings);
  const auto qpos = tasks::sample_init_state(*task, env.env(), 11, tasks::InitStateSettings{}).qpos;
  const envs::Observation& observation = env.reset_qpos(qpos);
  CHECK(observation.skill == "turn_on");
  CHECK(observation.skill_index == 0);
  const size_t poses = observation.privileged.size();
  const size_t values = observation.privileged_values.size();
  const envs::Pose& knob = observation.privileged.at("knob");
  // The knob sits at the stove's front right, on its top surface.
  CHECK(knob.position[2] > task->scene.table_top_z);
  CHECK(observation.privileged_values.at("joint_goal") == doctest::Approx(0.6));
  // Turn the knob on by hand: the plan moves on to the placement.
  const int knob_joint = mj_name2id(env.env().model(), mjOBJ_JOINT, "flat_stove_1_knob_joint");
  env.env().mutable_data()->qpos[env.env().model()->jnt_qposadr[knob_joint]] = 1.0;
  env.step({0, 0, 0, 0, 0, 0, -1});
  CHECK(observation.skill == "pick_place");
  CHECK(observation.skill_index == 1);
  CHECK(observation.privileged.size() == poses);
  CHECK(observation.privileged_values.size() == values);
  // The place point is above the stove's cook region.
  const auto& place = observation.privileged.at("place").position;
  const int region = mj_name2id(env.env().model(), mjOBJ_SITE, "flat_stove_1_cook_region");
  CHECK(std::hypot(place[0] - env.env().data()->site_xpos[3 * region],
                   place[1] - env.env().data()->site_xpos[3 * region + 1]) < 1e-9);
}

TEST_CASE(
    "expert plan: TurnOn before a placement; two placements in goal order; push for a plate") {
  {
    auto task = expert_task("stove_then_place");
    std::unique_ptr<mjModel, decltype(&mj_deleteModel)> model(
        envs::load_model_from_string(task->scene.mjcf), mj_deleteModel);
    CHECK(plan_string(make_plan(*task, model.get())) == "turn_on pick_place");
  }
  {
    auto task = expert_task("two_placements");
    std::unique_ptr<mjModel, decltype(&mj_deleteModel)> model(
        envs::load_model_from_string(task->scene.mjcf), mj_deleteModel);
    const tasks::ExpertPlan plan = make_plan(*task, model.get());
    REQUIRE(plan_string(plan) == "pick_place pick_place");
    CHECK(plan.subtasks()[0].object == "akita_black_bowl_1");
    CHECK(plan.subtasks()[1].target == "flat_stove_1_cook_region");
  }
  {
    auto task = expert_task("push_plate");
    std::unique_ptr<mjModel, decltype(&mj_deleteModel)> model(
        envs::load_model_from_string(task->scene.mjcf), mj_deleteModel);
    CHECK(plan_string(make_plan(*task, model.get())) == "push");
  }
}

TEST_CASE("task env: two placements into one region get spots apart") {
  auto task = tasks::load_task("libero_10/8");
  envs::EnvSettings settings;
  settings.cameras.clear();
  tasks::TaskEnv env(task, settings);
  const envs::Observation& observation = env.reset(0);
  REQUIRE(observation.skill == "pick_place");
  const mjModel* model = env.env().model();
  const int region = mj_name2id(model, mjOBJ_SITE, "flat_stove_1_cook_region");
  REQUIRE(region >= 0);
  // The first of the two moka pots goes to the region's -x -y side, 0.6 of its half size out.
  const double* center = env.env().data()->site_xpos + 3 * region;
  const double* size = model->site_size + 3 * region;
  const auto& place = observation.privileged.at("place").position;
  CHECK(place[0] - center[0] == doctest::Approx(-0.6 * size[0]).epsilon(0.01));
  CHECK(place[1] - center[1] == doctest::Approx(-0.6 * size[1]).epsilon(0.01));
}

TEST_CASE("expert plan: a goal it cannot plan is refused with the file named") {
  auto task = expert_task("open_drawer");
  std::unique_ptr<mjModel, decltype(&mj_deleteModel)> model(
      envs::load_model_from_string(task->scene.mjcf), mj_deleteModel);
  tasks::Predicate up;
  up.op = "Up";
  up.args = {"akita_black_bowl_1"};
  CHECK_THROWS_WITH_AS(tasks::ExpertPlan(up, task->scene, model.get(), "goal.bddl"),
                       doctest::Contains("goal.bddl"), std::runtime_error);
}

// Each skill from a few sampled states; the figures print with -s.
void check_scene(const char* scene, int episodes, int max_steps, int min_successes) {
  const Outcome outcome = run_expert(expert_task(scene), episodes, max_steps);
  MESSAGE(std::string(scene) << ": " << outcome.successes << "/" << episodes << outcome.log);
  CHECK_MESSAGE(outcome.successes >= min_successes, std::string(scene) << outcome.log);
}

TEST_CASE("expert skills: open a drawer") { check_scene("open_drawer", 3, 300, 3); }
TEST_CASE("expert skills: close an open drawer") { check_scene("close_drawer", 3, 300, 3); }
TEST_CASE("expert skills: turn on the stove") { check_scene("stove_on", 3, 300, 3); }
TEST_CASE("expert skills: push the plate into a table region") {
  check_scene("push_plate", 3, 400, 3);
}
TEST_CASE("expert skills: open a closed drawer and put the bowl inside") {
  check_scene("drawer_place", 3, 400, 3);
}
TEST_CASE("expert skills: two placements in turn") { check_scene("two_placements", 3, 520, 3); }
TEST_CASE("expert skills: bowl into an open drawer then close it") {
  check_scene("place_and_close", 3, 520, 3);
}
TEST_CASE("expert skills: turn on the stove then put the bowl on it") {
  check_scene("stove_then_place", 3, 400, 3);
}
