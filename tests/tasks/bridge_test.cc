// Bridge tasks: definitions, SimplerEnv's episode layouts, resets that settle
// and stay still, the success rule on constructed states, the grasp metric.
#include "tasks/simpler/bridge.h"

#include <doctest/doctest.h>
#include <mujoco/mujoco.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <set>
#include <stdexcept>
#include <utility>

namespace {

using tasks::simpler::BridgeEnv;

std::unique_ptr<BridgeEnv> make_env(int task) {
  auto definition = std::make_shared<tasks::TaskDefinition>(tasks::simpler::bridge_tasks()[task]);
  envs::EnvSettings settings;
  settings.cameras = {};
  return std::make_unique<BridgeEnv>(definition, settings);
}

std::array<double, 3> body_position(BridgeEnv& env, int body) {
  const double* p = env.env().data()->xpos + 3 * body;
  return {p[0], p[1], p[2]};
}

double distance(const std::array<double, 3>& a, const std::array<double, 3>& b) {
  return std::hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
}

// Puts the source at `position` (upright, yaw 0) at rest and recomputes everything.
void put_source(BridgeEnv& env, const std::array<double, 3>& position) {
  mjData* d = env.env().mutable_data();
  const int a = env.source_qpos();
  for (int k = 0; k < 3; ++k) d->qpos[a + k] = position[k];
  d->qpos[a + 3] = 1;
  d->qpos[a + 4] = d->qpos[a + 5] = d->qpos[a + 6] = 0;
  std::fill(d->qvel, d->qvel + env.env().model()->nv, 0.0);
  env.refresh();
}

// Moves the commanded TCP toward `goal` in steps of at most 3 cm.
void move_to(BridgeEnv& env, const std::array<double, 3>& goal, float gripper, int steps) {
  for (int s = 0; s < steps; ++s) {
    const auto& tcp = env.env().observation().privileged.at("eef").position;
    envs::Action action{0, 0, 0, 0, 0, 0, gripper};
    const double dx = goal[0] - tcp[0], dy = goal[1] - tcp[1], dz = goal[2] - tcp[2];
    const double length = std::hypot(dx, dy, dz);
    const double scale = length > 0.03 ? 0.03 / length : 1.0;
    action[0] = float(dx * scale), action[1] = float(dy * scale), action[2] = float(dz * scale);
    env.step(action);
  }
}

}  // namespace

TEST_CASE("bridge tasks: four definitions with SimplerEnv's instructions and protocol") {
  const auto definitions = tasks::simpler::bridge_tasks();
  REQUIRE(definitions.size() == 4);
  const char* instructions[] = {"put the spoon on the towel", "put carrot on plate",
                                "stack the green block on the yellow block",
                                "put eggplant into yellow basket"};
  const int steps[] = {60, 60, 60, 120};
  for (int i = 0; i < 4; ++i) {
    CHECK(definitions[i].family == "bridge");
    CHECK(definitions[i].instruction == instructions[i]);
    CHECK(definitions[i].protocol.max_steps == steps[i]);
    CHECK(definitions[i].protocol.control_hz == 5);
    CHECK(definitions[i].protocol.wait_steps == 0);
    CHECK(definitions[i].episodes == 24);
  }
}

TEST_CASE("bridge layouts: 24 distinct SimplerEnv layouts per task") {
  for (const auto& definition : tasks::simpler::bridge_tasks()) {
    std::set<std::array<double, 5>> seen;
    for (int e = 0; e < 24; ++e) {
      const auto layout = tasks::simpler::bridge_layout(definition.name, e);
      seen.insert({layout.source_xy[0], layout.source_xy[1], layout.target_xy[0],
                   layout.target_xy[1], layout.source_yaw});
      // Source and target never start on top of each other.
      CHECK(std::hypot(layout.source_xy[0] - layout.target_xy[0],
                       layout.source_xy[1] - layout.target_xy[1]) > 0.09);
    }
    CHECK(seen.size() == 24);
    CHECK_THROWS_AS(tasks::simpler::bridge_layout(definition.name, 24), std::runtime_error);
  }
  // First layouts as SimplerEnv orders them: corner (-1,-1) to (-1,+1), yaw choices inner.
  const auto carrot0 = tasks::simpler::bridge_layout("put_carrot_on_plate", 0);
  CHECK(carrot0.source_xy[0] == doctest::Approx(-0.235));
  CHECK(carrot0.source_xy[1] == doctest::Approx(-0.075));
  CHECK(carrot0.target_xy[1] == doctest::Approx(0.075));
  CHECK(carrot0.source_yaw == doctest::Approx(M_PI));
  CHECK(tasks::simpler::bridge_layout("put_carrot_on_plate", 1).source_yaw ==
        doctest::Approx(-M_PI / 2));
  CHECK_THROWS_AS(tasks::simpler::bridge_layout("fly_to_the_moon", 0), std::runtime_error);
}

TEST_CASE("bridge resets: every layout builds, settles where asked, and does not succeed") {
  for (int task = 0; task < 4; ++task) {
    auto env = make_env(task);
    const std::string& name = env->task().name;
    for (int e = 0; e < 24; ++e) {
      const envs::Observation& observation = env->reset(e);
      CAPTURE(name);
      CAPTURE(e);
      CHECK_FALSE(env->goal_holds());
      CHECK(env->metrics().at("grasp") == 0);
      CHECK(observation.skill == "bridge_pick_place");
      CHECK(observation.instruction == env->task().instruction);
      const auto layout = tasks::simpler::bridge_layout(name, e);
      const auto source = body_position(*env, env->source_body());
      CHECK(std::hypot(source[0] - layout.source_xy[0], source[1] - layout.source_xy[1]) < 0.005);
    }
  }
}

TEST_CASE("bridge resets: nothing moves over 1 s of no-op") {
  for (int task = 0; task < 4; ++task) {
    auto env = make_env(task);
    for (int e : {0, 13, 23}) {
      const envs::Observation& observation = env->reset(e);
      const auto source = body_position(*env, env->source_body());
      const auto target = body_position(*env, env->target_body());
      const auto tcp = observation.privileged.at("eef").position;
      bool success = false;
      for (int s = 0; s < 5; ++s) success |= env->step({0, 0, 0, 0, 0, 0, -1}).success;
      CAPTURE(task);
      CAPTURE(e);
      CHECK_FALSE(success);
      CHECK(distance(source, body_position(*env, env->source_body())) < 0.005);
      CHECK(distance(target, body_position(*env, env->target_body())) < 0.005);
      CHECK(distance(tcp, env->env().observation().privileged.at("eef").position) < 0.005);
    }
  }
}

TEST_CASE("bridge success rule: on the target holds, beside or high above does not") {
  for (int task = 0; task < 4; ++task) {
    auto env = make_env(task);
    env->reset(0);
    const auto target = env->target_center();
    const double on_z = target[2] + env->target_half()[2] + env->source_half()[2] + 0.001;
    CAPTURE(task);
    put_source(*env, {target[0], target[1], on_z});
    CHECK(env->goal_holds());
    const double diagonal = std::hypot(env->target_half()[0], env->target_half()[1]);
    put_source(*env, {target[0] + diagonal + 0.02, target[1], on_z});
    CHECK_FALSE(env->goal_holds());
    const double gap = task == 3 ? tasks::simpler::kBridgeBasketZGap : tasks::simpler::kBridgeZGap;
    put_source(*env, {target[0], target[1], on_z + gap + 0.01});
    CHECK_FALSE(env->goal_holds());
    // Just inside the xy margin still counts where contacts do not matter
    // (the spoon and the eggplant may rest partly elsewhere).
    if (task == 0 || task == 3) {
      put_source(*env, {target[0] + diagonal + 0.002, target[1], on_z});
      CHECK(env->goal_holds());
    }
  }
}

TEST_CASE("bridge success rule: the carrot touching the table beside the plate fails") {
  auto env = make_env(1);
  env->reset(0);
  const auto target = env->target_center();
  // Within the xy rule (half diagonal 7.8 cm) but resting on the table.
  const double table_z = 0.87 + env->source_half()[2];
  put_source(*env, {target[0] + 0.07, target[1], table_z - 0.0005});
  CHECK_FALSE(env->goal_holds());
}

TEST_CASE("bridge grasp metric: set when the gripper holds the source") {
  auto env = make_env(2);
  env->reset(0);
  const auto grasp = env->env().observation().privileged.at("bridge_grasp").position;
  move_to(*env, {grasp[0], grasp[1], grasp[2] + 0.06}, -1, 6);
  move_to(*env, grasp, -1, 5);
  CHECK_FALSE(env->source_grasped());
  CHECK(env->metrics().at("grasp") == 0);
  move_to(*env, grasp, 1, 2);
  move_to(*env, {grasp[0], grasp[1], grasp[2] + 0.05}, 1, 3);
  CHECK(env->source_grasped());
  CHECK(env->metrics().at("grasp") == 1);
  CHECK(body_position(*env, env->source_body())[2] > 0.87 + 0.015 + 0.04);
  // Opening drops it; the metric keeps the episode's record.
  move_to(*env, {grasp[0], grasp[1], grasp[2] + 0.05}, -1, 2);
  CHECK_FALSE(env->source_grasped());
  CHECK(env->metrics().at("grasp") == 1);
}

TEST_CASE("bridge env: bad episode index is a clear error") {
  auto env = make_env(0);
  CHECK_THROWS_AS(env->reset(24), std::runtime_error);
  CHECK_THROWS_AS(env->reset(-1), std::runtime_error);
  auto definition = std::make_shared<tasks::TaskDefinition>();
  definition->name = "no_such_task";
  CHECK_THROWS_AS(tasks::simpler::make_bridge_env(definition, {}), std::runtime_error);
}
