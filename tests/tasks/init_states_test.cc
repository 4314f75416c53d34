// Stored initial states: present, matching the scene, inside their regions,
// and reproducible from their seed.
#include "tasks/init_states.h"

#include <doctest/doctest.h>

#include <cmath>

#include "envs/random.h"
#include "tasks/suite.h"

TEST_CASE("init states: every registered task has 50 stored states that fit its scene") {
  for (const tasks::SuiteInfo& suite : tasks::suites()) {
    for (int id = 0; id < int(suite.task_files.size()); ++id) {
      INFO(suite.name << "/" << id);
      const auto task = tasks::load_task(suite.name, id);
      CHECK(task->init_states.size() == size_t(suite.protocol.episodes_per_task));
    }
  }
}

TEST_CASE("init states: objects start inside their BDDL regions, upright, and states differ") {
  const auto task = tasks::load_task("libero_spatial/0");
  std::unique_ptr<mjModel, decltype(&mj_deleteModel)> model(
      envs::load_model_from_string(task->scene.mjcf), mj_deleteModel);
  std::unique_ptr<mjData, decltype(&mj_deleteData)> data(mj_makeData(model.get()), mj_deleteData);
  for (size_t i = 0; i < task->init_states.size(); ++i) {
    std::copy(task->init_states[i].begin(), task->init_states[i].end(), data->qpos);
    mj_forward(model.get(), data.get());
    for (const tasks::PlacementRule& rule : task->scene.placements) {
      INFO("state " << i << " object " << rule.object);
      REQUIRE_FALSE(rule.region_site.empty());
      const int site = mj_name2id(model.get(), mjOBJ_SITE, rule.region_site.c_str());
      const int body = mj_name2id(model.get(), mjOBJ_BODY, rule.object.c_str());
      REQUIRE(site >= 0);
      const double* size = model->site_size + 3 * site;
      // Settling may nudge an object by a few millimetres.
      CHECK(std::abs(data->xpos[3 * body] - data->site_xpos[3 * site]) <= size[0] + 0.01);
      CHECK(std::abs(data->xpos[3 * body + 1] - data->site_xpos[3 * site + 1]) <= size[1] + 0.01);
      // Resting on the table: upright (z axis of the body up).
      CHECK(data->xmat[9 * body + 8] > 0.99);
    }
  }
  CHECK(task->init_states[0] != task->init_states[1]);
}

TEST_CASE("init states: objects stand on objects and in opened drawers where the task says") {
  // libero_spatial/3: the bowl starts on the cookie box; /4: in the opened top drawer.
  const auto on_box = tasks::load_task("libero_spatial/3");
  const auto in_drawer = tasks::load_task("libero_spatial/4");
  for (const auto& task : {on_box, in_drawer}) {
    INFO(task->key);
    std::unique_ptr<mjModel, decltype(&mj_deleteModel)> model(
        envs::load_model_from_string(task->scene.mjcf), mj_deleteModel);
    std::unique_ptr<mjData, decltype(&mj_deleteData)> data(mj_makeData(model.get()), mj_deleteData);
    const auto& state = task->init_states[0];
    std::copy(state.begin(), state.end(), data->qpos);
    mj_forward(model.get(), data.get());
    const int bowl = mj_name2id(model.get(), mjOBJ_BODY, "akita_black_bowl_1");
    const double bowl_z = data->xpos[3 * bowl + 2];
    if (task == on_box) {
      const int box = mj_name2id(model.get(), mjOBJ_BODY, "cookies_1");
      CHECK(bowl_z > data->xpos[3 * box + 2] + 0.02);
      CHECK(std::hypot(data->xpos[3 * bowl] - data->xpos[3 * box],
                       data->xpos[3 * bowl + 1] - data->xpos[3 * box + 1]) < 0.03);
    } else {
      const int joint = mj_name2id(model.get(), mjOBJ_JOINT, "wooden_cabinet_1_top_drawer_joint");
      REQUIRE(joint >= 0);
      CHECK(state[model->jnt_qposadr[joint]] < -0.14);  // the drawer starts open
      const int site = mj_name2id(model.get(), mjOBJ_SITE, "wooden_cabinet_1_top_region");
      const double* size = model->site_size + 3 * site;
      double local[3], offset[3];
      mju_sub3(offset, data->xpos + 3 * bowl, data->site_xpos + 3 * site);
      mju_mulMatTVec(local, data->site_xmat + 9 * site, offset, 3, 3);
      CHECK(std::abs(local[0]) < size[0]);
      CHECK(std::abs(local[1]) < size[1]);
      CHECK(local[2] < size[2]);
    }
  }
}

TEST_CASE("init states: sampling is a function of the seed alone, every state is verified") {
  auto task = tasks::load_task("libero_spatial/0", false);
  envs::EnvSettings settings;
  settings.cameras.clear();
  envs::Env env(task->scene.mjcf, settings);
  tasks::InitStateSettings init;
  init.settle_steps = 5;
  const auto a = tasks::sample_init_state(*task, env, 1234, init);
  const auto b = tasks::sample_init_state(*task, env, 1234, init);
  const auto c = tasks::sample_init_state(*task, env, 1235, init);
  CHECK(a.qpos == b.qpos);
  CHECK(a.rejected == b.rejected);
  CHECK(a.qpos != c.qpos);
  CHECK(a.rejected == int(a.reasons.size()));
  // The returned state passed the checks: nothing moves, the goal is false.
  CHECK(tasks::measure_drift(*task, env, a.qpos, init.verify_steps).distance < init.max_drift);
  std::unique_ptr<mjData, decltype(&mj_deleteData)> data(mj_makeData(env.model()), mj_deleteData);
  CHECK_FALSE(tasks::goal_holds_at(*task, env.model(), data.get(), a.qpos));
}

TEST_CASE("init states: a sample whose goal already holds is rejected and the next one drawn") {
  // A task whose goal is where the bowl starts: every sample is rejected.
  tasks::TaskDefinition task = *tasks::load_task("libero_spatial/0", false);
  task.spec.goal =
      tasks::parse_bddl(
          "(define (problem p) (:domain robosuite) (:language l) (:regions (plate_region (:target "
          "main_table) (:ranges ((0 0 0.1 0.1))))) (:fixtures main_table - table) (:objects "
          "plate_1 - "
          "plate) (:init (On plate_1 main_table_plate_region)) (:goal (And (On plate_1 "
          "main_table_plate_region))))",
          "inline.bddl")
          .goal;
  envs::EnvSettings settings;
  settings.cameras.clear();
  envs::Env env(task.scene.mjcf, settings);
  tasks::InitStateSettings init;
  init.settle_steps = 5;
  init.max_samples = 3;
  CHECK_THROWS_WITH_AS(tasks::sample_init_state(task, env, 1, init),
                       doctest::Contains("goal already true"), std::runtime_error);
}

TEST_CASE("init states: a file made for another scene layout is refused with a clear message") {
  const auto task = tasks::load_task("libero_spatial/0", false);
  std::unique_ptr<mjModel, decltype(&mj_deleteModel)> other(
      envs::load_model_from_string("<mujoco><worldbody><body><freejoint/><geom size='0.1'/></body>"
                                   "</worldbody></mujoco>"),
      mj_deleteModel);
  CHECK_THROWS_WITH_AS(tasks::load_init_states(task->init_states_file, other.get()),
                       doctest::Contains("different scene layout"), std::runtime_error);
  CHECK_THROWS_WITH_AS(tasks::load_init_states("/nonexistent/file.json", other.get()),
                       doctest::Contains("/nonexistent/file.json"), std::runtime_error);
}
