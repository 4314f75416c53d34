// Stored initial states: present, matching the scene, inside their regions,
// and reproducible from their seed.
#include <doctest/doctest.h>

#include <cmath>

#include "envs/random.h"
#include "tasks/init_states.h"
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

TEST_CASE("init states: objects start settled inside their BDDL regions, and states differ") {
  const auto task = tasks::load_task("libero_spatial/0");
  std::unique_ptr<mjModel, decltype(&mj_deleteModel)> model(
      envs::load_model_from_string(task->scene.mjcf), mj_deleteModel);
  std::unique_ptr<mjData, decltype(&mj_deleteData)> data(mj_makeData(model.get()), mj_deleteData);
  for (size_t i = 0; i < task->init_states.size(); ++i) {
    std::copy(task->init_states[i].begin(), task->init_states[i].end(), data->qpos);
    mj_forward(model.get(), data.get());
    for (const tasks::PlacementRule& rule : task->scene.placements) {
      INFO("state " << i << " object " << rule.object);
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

TEST_CASE("init states: sampling is a function of the seed alone") {
  auto task = tasks::load_task("libero_spatial/0", false);
  envs::EnvSettings settings;
  settings.cameras.clear();
  envs::Env env(task->scene.mjcf, settings);
  tasks::InitStateSettings init;
  init.settle_steps = 5;
  const auto a = tasks::sample_init_state(*task, env, 1234, init);
  const auto b = tasks::sample_init_state(*task, env, 1234, init);
  const auto c = tasks::sample_init_state(*task, env, 1235, init);
  CHECK(a == b);
  CHECK(a != c);
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
