// The Fractal suite: task lists, every coke / move-near task in every variant
// builds and resets at rest without success, SimplerEnv's layouts, and the
// success rules on constructed states.
#include "tasks/simpler/fractal.h"

#include <doctest/doctest.h>
#include <mujoco/mujoco.h>

#include <cmath>
#include <memory>
#include <set>
#include <string>

#include "tasks/simpler/fractal_drawer.h"
#include "tasks/simpler/fractal_scene.h"

namespace {

using tasks::simpler::NearObject;

bool own_task(const tasks::TaskDefinition& task) {
  return task.name.rfind("pick_coke_can", 0) == 0 || task.name.rfind("move_near", 0) == 0;
}

std::unique_ptr<tasks::EpisodeEnv> make_env(const tasks::TaskDefinition& task) {
  envs::EnvSettings settings;
  settings.cameras = {};
  return tasks::simpler::make_fractal_env(std::make_shared<tasks::TaskDefinition>(task), settings);
}

// World positions of every free body, by body id.
std::vector<std::array<double, 3>> free_body_positions(const envs::Env& env) {
  const mjModel* m = env.model();
  std::vector<std::array<double, 3>> out;
  for (int j = 0; j < m->njnt; ++j) {
    if (m->jnt_type[j] != mjJNT_FREE) continue;
    const double* q = env.data()->qpos + m->jnt_qposadr[j];
    out.push_back({q[0], q[1], q[2]});
  }
  return out;
}

}  // namespace

TEST_CASE("fractal: visual matching lists each task once, variant aggregation once per variant") {
  const auto vm = tasks::simpler::fractal_tasks(false);
  const auto drawers = tasks::simpler::fractal_drawer_tasks();
  REQUIRE(vm.size() == 4 + drawers.size());
  CHECK(vm[0].name == "pick_coke_can_horizontal");
  CHECK(vm[1].name == "pick_coke_can_vertical");
  CHECK(vm[2].name == "pick_coke_can_standing");
  CHECK(vm[3].name == "move_near");
  for (int i = 0; i < 3; ++i) {
    CHECK(vm[i].episodes == 25);
    CHECK(vm[i].group == "pick_coke_can");
    CHECK(vm[i].instruction == "pick coke can");
  }
  CHECK(vm[3].episodes == 60);
  CHECK(vm[3].group == "move_near");
  for (const auto& task : vm) {
    CHECK(task.family == "fractal");
    CHECK(task.variant.empty());
    CHECK(task.protocol.control_hz == 3);
    CHECK(task.protocol.wait_steps == 0);
    if (own_task(task)) CHECK(task.protocol.max_steps == 80);
  }

  const auto va = tasks::simpler::fractal_tasks(true);
  std::set<std::string> names;
  int own = 0;
  for (const auto& task : va) {
    CHECK_FALSE(task.variant.empty());
    CHECK(task.name.find("@" + task.variant) != std::string::npos);
    names.insert(task.name);
    if (own_task(task)) ++own;
  }
  CHECK(names.size() == va.size());
  CHECK(own == 4 * 7);  // 7 scene variants
  CHECK(names.count("pick_coke_can_horizontal@lighting_darker") == 1);
  CHECK(names.count("move_near@distractors") == 1);
  CHECK(va.size() == 28 + drawers.size() * (4 + tasks::simpler::fractal_cabinet_variants().size()));
}

TEST_CASE("fractal: move-near layouts follow SimplerEnv's episode order") {
  const auto first = tasks::simpler::move_near_layout(0);
  CHECK(first.kinds[0] == "blue_plastic_bottle");
  CHECK(first.source == 0);
  CHECK(first.target == 1);
  CHECK(first.positions[0][0] == doctest::Approx(-0.33));
  CHECK(first.positions[0][1] == doctest::Approx(0.04));
  // Episode 19: triplet 1, pair 1 (0 -> 2), second layout.
  const auto e19 = tasks::simpler::move_near_layout(19);
  CHECK(e19.kinds[0] == "opened_7up_can");
  CHECK(e19.source == 0);
  CHECK(e19.target == 2);
  CHECK(e19.positions[0][0] == doctest::Approx(-0.13));
  const auto last = tasks::simpler::move_near_layout(59);
  CHECK(last.kinds[2] == "opened_redbull_can");
  CHECK(last.source == 2);
  CHECK(last.target == 1);
  CHECK_THROWS_AS(tasks::simpler::move_near_layout(60), std::runtime_error);
}

TEST_CASE("fractal: every coke and move-near task builds in every variant and rests at reset") {
  for (const auto& task : tasks::simpler::fractal_tasks(true)) {
    if (!own_task(task)) continue;
    CAPTURE(task.name);
    auto env = make_env(task);
    for (int episode : {0, task.episodes - 1}) {
      CAPTURE(episode);
      const envs::Observation& obs = env->reset(episode);
      CHECK_FALSE(env->goal_holds());
      CHECK(env->metrics().at("grasp") == 0);
      CHECK(obs.skill == (task.name.rfind("move_near", 0) == 0 ? "fractal_move_near"
                                                               : "fractal_pick_lift"));
      CHECK(obs.privileged.count("grasp") == 1);
      const auto before = free_body_positions(env->env());
      // Holding still: nothing succeeds, nothing moves.
      for (int i = 0; i < 3; ++i) CHECK_FALSE(env->step({0, 0, 0, 0, 0, 0, -1}).success);
      const auto after = free_body_positions(env->env());
      double moved = 0;
      for (size_t i = 0; i < before.size(); ++i) {
        moved = std::max(moved, std::hypot(after[i][0] - before[i][0], after[i][1] - before[i][1],
                                           after[i][2] - before[i][2]));
      }
      CHECK(moved < 0.002);
    }
  }
}

TEST_CASE("fractal: the move-near instruction names the episode's objects") {
  auto env = make_env(tasks::simpler::fractal_tasks(false)[3]);
  CHECK(env->reset(0).instruction == "move blue plastic bottle near pepsi can");
  CHECK(env->reset(14).instruction == "move apple near 7up can");
  CHECK(env->reset(59).instruction == "move redbull can near pepsi can");
}

TEST_CASE("fractal: the lift judge follows SimplerEnv's rule") {
  tasks::simpler::PickLiftJudge judge;
  judge.reset();
  CHECK_FALSE(judge.update(false, true, 0));
  CHECK_FALSE(judge.update(true, true, 0.015));  // still touching the table
  CHECK(judge.update(true, false, 0.015));       // grasped, clear, > 1 cm
  CHECK(judge.ever_grasped());
  CHECK_FALSE(judge.update(false, true, 0.0));   // dropped: forgotten
  judge.reset();
  CHECK_FALSE(judge.update(true, false, 0.008));  // below 1 cm
  // Five significant lifts keep the success after the can is put down.
  judge.reset();
  for (int i = 0; i < 5; ++i) judge.update(true, false, 0.03);
  CHECK(judge.update(false, true, 0));
}

TEST_CASE("fractal: the move-near rule on constructed states") {
  auto at = [](double x, double y, double z) { return std::array<double, 3>{x, y, z}; };
  std::vector<NearObject> objects(3);
  objects[0].settled = at(-0.33, 0.04, 0.93);
  objects[1].settled = at(-0.33, 0.34, 0.93);
  objects[2].settled = at(-0.13, 0.19, 0.93);
  for (auto& o : objects) {
    o.position = o.settled;
    o.half_diagonal = 0.047;
  }
  CHECK_FALSE(tasks::simpler::move_near_success(objects, 0, 1));  // nothing moved
  objects[0].position = at(-0.33, 0.24, 0.93);
  CHECK(tasks::simpler::move_near_success(objects, 0, 1));
  // Knocking the third object over fails.
  objects[2].position = at(-0.13, 0.19, 0.9);
  CHECK_FALSE(tasks::simpler::move_near_success(objects, 0, 1));
  objects[2].position = objects[2].settled;
  // Too far from the target.
  objects[0].position = at(-0.33, 0.08, 0.93);
  CHECK_FALSE(tasks::simpler::move_near_success(objects, 0, 1));
  // Nearer the third object than the target.
  objects[0].position = at(-0.17, 0.21, 0.93);
  CHECK_FALSE(tasks::simpler::move_near_success(objects, 0, 1));
  // The target moved more than the source.
  objects[0].position = at(-0.33, 0.24, 0.93);
  objects[1].position = at(-0.33, 0.55, 0.93);
  CHECK_FALSE(tasks::simpler::move_near_success(objects, 0, 1));
}

TEST_CASE("fractal: a move-near episode succeeds once the source is set beside the target") {
  auto env = make_env(tasks::simpler::fractal_tasks(false)[3]);
  env->reset(0);  // bottle (-0.33, 0.04) near pepsi can (-0.33, 0.34)
  envs::Env& sim = env->env();
  const mjModel* m = sim.model();
  const int joint = mj_name2id(m, mjOBJ_JOINT, "blue_plastic_bottle_joint");
  REQUIRE(joint >= 0);
  mjData* d = sim.mutable_data();
  d->qpos[m->jnt_qposadr[joint] + 1] = 0.22;
  mj_forward(m, d);
  CHECK(env->step({0, 0, 0, 0, 0, 0, -1}).success);
}

TEST_CASE("fractal: scene variants and objects reject unknown names") {
  tasks::simpler::FractalSceneSettings settings;
  settings.variant = "background_9";
  CHECK_THROWS_AS(tasks::simpler::fractal_scene_mjcf(settings), std::runtime_error);
  settings.variant = "distractors";
  settings.table = false;
  CHECK_THROWS_AS(tasks::simpler::fractal_scene_mjcf(settings), std::runtime_error);
  CHECK_THROWS_AS(tasks::simpler::fractal_object_info("banana"), std::runtime_error);
  CHECK(tasks::simpler::fractal_camera_fovy() ==
        doctest::Approx(2 * std::atan(256.0 / 425.0) * 180 / M_PI));
}
