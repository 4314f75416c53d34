// The Fractal drawer tasks: definitions, every task and layout builds and
// resets without succeeding, layouts place the cabinet where SimplerEnv's base
// poses see it, open / close / apple-in-drawer predicates on constructed
// states, the apple task's instruction switch, variants and bad input.
#include "tasks/simpler/fractal_drawer.h"

#include <doctest/doctest.h>

#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>

#include "tasks/simpler/fractal_scene.h"

namespace {

using tasks::simpler::fractal_drawer_tasks;

std::shared_ptr<tasks::TaskDefinition> drawer_task(int index, const std::string& variant = "") {
  auto task = std::make_shared<tasks::TaskDefinition>(fractal_drawer_tasks().at(index));
  task->suite = "fractal_test";
  task->id = index;
  task->key = "fractal_test/" + std::to_string(index);
  task->variant = variant;
  return task;
}

std::unique_ptr<tasks::EpisodeEnv> make_env(const std::shared_ptr<tasks::TaskDefinition>& task) {
  envs::EnvSettings settings;
  settings.cameras.clear();
  return tasks::simpler::make_fractal_drawer_env(task, settings);
}

int qpos_of(const tasks::EpisodeEnv& env, const std::string& joint) {
  const mjModel* model = const_cast<tasks::EpisodeEnv&>(env).env().model();
  const int id = mj_name2id(model, mjOBJ_JOINT, joint.c_str());
  REQUIRE(id >= 0);
  return model->jnt_qposadr[id];
}

// Sets drawer joint `joint` to `position` (m) at rest and recomputes the state.
void set_drawer(tasks::EpisodeEnv* env, const std::string& joint, double position) {
  mjData* data = env->env().mutable_data();
  data->qpos[qpos_of(*env, joint)] = position;
  mj_forward(env->env().model(), data);
}

constexpr envs::Action kNoOp{0, 0, 0, 0, 0, 0, -1};

double horizontal_distance(const envs::Pose& a, const envs::Pose& b) {
  return std::hypot(a.position[0] - b.position[0], a.position[1] - b.position[1]);
}

}  // namespace

TEST_CASE("fractal drawer: seven tasks with SimplerEnv's instructions and protocol") {
  const auto definitions = fractal_drawer_tasks();
  REQUIRE(definitions.size() == 7);
  const char* instructions[7] = {"open top drawer",  "open middle drawer",  "open bottom drawer",
                                 "close top drawer", "close middle drawer", "close bottom drawer",
                                 "open top drawer"};
  for (int i = 0; i < 7; ++i) {
    const tasks::TaskDefinition& task = definitions[i];
    INFO(task.name);
    CHECK(task.family == "fractal");
    CHECK(task.instruction == instructions[i]);
    CHECK(task.episodes == 27);
    CHECK(task.protocol.episodes_per_task == 27);
    CHECK(task.protocol.control_hz == 3);
    CHECK(task.protocol.wait_steps == 0);
    CHECK(task.group == (i < 6 ? "drawer" : "apple_in_drawer"));
    CHECK(task.protocol.max_steps == (i < 6 ? 113 : 200));
    CHECK(task.variant.empty());
  }
  CHECK(tasks::simpler::fractal_cabinet_variants() ==
        std::vector<std::string>{"cabinet_1", "cabinet_2"});
}

TEST_CASE("fractal drawer: every task and layout resets, nothing succeeds at reset") {
  const char* levels[3] = {"top", "middle", "bottom"};
  for (int index = 0; index < 7; ++index) {
    const auto task = drawer_task(index);
    INFO(task->name);
    const auto env = make_env(task);
    const std::string joint =
        std::string("cabinet_") + levels[index < 6 ? index % 3 : 0] + "_drawer_joint";
    for (int episode = 0; episode < task->episodes; ++episode) {
      INFO("episode " << episode);
      const envs::Observation& observation = env->reset(episode);
      CHECK_FALSE(env->goal_holds());
      CHECK(observation.instruction == task->instruction);
      const double start = index >= 3 && index < 6 ? tasks::simpler::kDrawerCloseStart : 0.0;
      CHECK(env->env().data()->qpos[qpos_of(*env, joint)] == doctest::Approx(start));
      CHECK(observation.privileged_values.at("joint_position") == doctest::Approx(start));
      // The cabinet faces the robot: its drawers open toward the shoulder.
      const envs::Pose& handle = observation.privileged.at("handle");
      const envs::Pose& pull = observation.privileged.at("pull");
      const envs::Pose& shoulder = observation.privileged.at("shoulder");
      double toward = 0;
      for (int i = 0; i < 2; ++i) {
        toward += pull.position[i] * (shoulder.position[i] - handle.position[i]);
      }
      CHECK(toward > 0.1);
    }
    const char* skill = index < 3   ? "fractal_open_drawer"
                        : index < 6 ? "fractal_close_drawer"
                                    : "fractal_apple_in_drawer";
    CHECK(env->env().observation().skill == skill);
  }
}

TEST_CASE("fractal drawer: layouts put the cabinet where SimplerEnv's base poses see it") {
  const auto env = make_env(drawer_task(0));
  // Layouts 1 (A0, x 0.644), 7 (A2, x 0.889): same turn, 0.245 m further back.
  const envs::Observation near = env->reset(1);
  const envs::Observation far = env->reset(7);
  const double near_distance =
      horizontal_distance(near.privileged.at("handle"), near.privileged.at("shoulder"));
  const double far_distance =
      horizontal_distance(far.privileged.at("handle"), far.privileged.at("shoulder"));
  CHECK(far_distance - near_distance == doctest::Approx(0.245).epsilon(0.1));
  // Turns of one base pose differ by 0.03 rad: the pull direction turns with them.
  const envs::Observation turned_left = env->reset(0);
  const envs::Observation turned_right = env->reset(2);
  const auto& a = turned_left.privileged.at("pull").position;
  const auto& b = turned_right.privileged.at("pull").position;
  CHECK(std::acos(a[0] * b[0] + a[1] * b[1]) == doctest::Approx(0.06).epsilon(0.01));
}

TEST_CASE("fractal drawer: open and close predicates on set joint values") {
  auto open = make_env(drawer_task(1));  // open middle drawer
  open->reset(4);
  set_drawer(open.get(), "cabinet_middle_drawer_joint", 0.14);
  CHECK_FALSE(open->goal_holds());
  set_drawer(open.get(), "cabinet_middle_drawer_joint", 0.16);
  CHECK(open->goal_holds());
  // Another drawer open does not count.
  set_drawer(open.get(), "cabinet_middle_drawer_joint", 0.0);
  set_drawer(open.get(), "cabinet_top_drawer_joint", 0.2);
  CHECK_FALSE(open->goal_holds());

  auto close = make_env(drawer_task(5));  // close bottom drawer
  close->reset(20);
  set_drawer(close.get(), "cabinet_bottom_drawer_joint", 0.06);
  CHECK_FALSE(close->goal_holds());
  set_drawer(close.get(), "cabinet_bottom_drawer_joint", 0.04);
  CHECK(close->goal_holds());
}

TEST_CASE("fractal drawer: apple in the open top drawer succeeds, elsewhere it does not") {
  auto env = make_env(drawer_task(6));
  const int apple = qpos_of(*env, "apple_joint");
  // Apple resting on the drawer's bottom, drawer open: success after three steps of contact.
  env->reset(0);
  set_drawer(env.get(), "cabinet_top_drawer_joint", 0.2);
  // Hints are refreshed by a step.
  envs::Observation observation = *env->step(kNoOp).observation;
  const envs::Pose place = observation.privileged.at("place");
  mjData* data = env->env().mutable_data();
  for (int i = 0; i < 3; ++i) data->qpos[apple + i] = place.position[i];
  data->qpos[apple + 2] += 0.002;
  mj_forward(env->env().model(), data);
  bool success = false;
  for (int step = 0; step < 4; ++step) success = env->step(kNoOp).success;
  CHECK(success);
  CHECK(env->goal_holds());
  // Never grasped.
  CHECK(env->metrics().at("grasp") == 0);

  // Apple left on the cabinet top, drawer open: no success.
  env->reset(4);
  set_drawer(env.get(), "cabinet_top_drawer_joint", 0.2);
  success = false;
  for (int step = 0; step < 5; ++step) success = success || env->step(kNoOp).success;
  CHECK_FALSE(success);

  // Apple inside the closed drawer (under the top): touching the bottom, but the drawer is shut.
  env->reset(8);
  observation = *env->step(kNoOp).observation;
  const envs::Pose floor_place = observation.privileged.at("place");
  const envs::Pose& pull = observation.privileged.at("pull");
  data = env->env().mutable_data();
  for (int i = 0; i < 3; ++i) data->qpos[apple + i] = floor_place.position[i];
  // Deeper into the drawer, clear of its front panel.
  for (int i = 0; i < 2; ++i) data->qpos[apple + i] -= 0.12 * pull.position[i];
  data->qpos[apple + 2] += 0.002;
  mj_forward(env->env().model(), data);
  success = false;
  for (int step = 0; step < 5; ++step) success = success || env->step(kNoOp).success;
  CHECK_FALSE(success);
  CHECK(env->env().data()->qpos[qpos_of(*env, "cabinet_top_drawer_joint")] <
        tasks::simpler::kDrawerOpened);
}

TEST_CASE("fractal drawer: the apple task's instruction switches once the top drawer is open") {
  auto env = make_env(drawer_task(6));
  CHECK(env->reset(13).instruction == "open top drawer");
  set_drawer(env.get(), "cabinet_top_drawer_joint", 0.03);
  CHECK(env->step(kNoOp).observation->instruction == "open top drawer");
  set_drawer(env.get(), "cabinet_top_drawer_joint", 0.12);
  CHECK(env->step(kNoOp).observation->instruction == "place apple into top drawer");
  // A new episode starts over.
  CHECK(env->reset(14).instruction == "open top drawer");
}

TEST_CASE("fractal drawer: nothing moves after reset") {
  auto env = make_env(drawer_task(6));
  for (int episode : {0, 13, 26}) {
    INFO("episode " << episode);
    const envs::Observation start = env->reset(episode);
    const double q = start.privileged_values.at("joint_position");
    envs::Observation end;
    for (int step = 0; step < 3; ++step) end = *env->step(kNoOp).observation;
    const auto& a = start.privileged.at("apple").position;
    const auto& b = end.privileged.at("apple").position;
    CHECK(std::hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]) < 0.005);
    CHECK(std::abs(end.privileged_values.at("joint_position") - q) < 0.002);
  }
}

TEST_CASE("fractal drawer: cabinet and scene variants build, bad input is refused") {
  std::vector<std::string> variants = tasks::simpler::fractal_cabinet_variants();
  for (const char* variant : {"background_1", "lighting_darker"}) {
    variants.push_back(variant);
  }
  for (const std::string& variant : variants) {
    INFO(variant);
    auto task = drawer_task(3, variant);
    task->name += "@" + variant;
    auto env = make_env(task);
    env->reset(5);
    CHECK_FALSE(env->goal_holds());
    CHECK(env->step(kNoOp).observation != nullptr);
  }
  CHECK_THROWS_AS(make_env(drawer_task(0, "cabinet_9")), std::runtime_error);
  CHECK_THROWS_AS(make_env(drawer_task(0, "distractors")), std::runtime_error);
  auto not_drawer = drawer_task(0);
  not_drawer->name = "pick_coke_can";
  CHECK_THROWS_AS(make_env(not_drawer), std::runtime_error);
  auto env = make_env(drawer_task(0));
  CHECK_THROWS_AS(env->reset(27), std::runtime_error);
  CHECK_THROWS_AS(env->reset(-1), std::runtime_error);
}
