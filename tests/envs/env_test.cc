// Env: determinism, instability detection, camera perturbation, rendering.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "envs/env.h"
#include "tasks/task_env.h"
#include "test_util.h"

namespace {

std::shared_ptr<const tasks::TaskDefinition> task0() {
  static auto task = tasks::load_task("libero_spatial/0");
  return task;
}

envs::EnvSettings physics_only() {
  envs::EnvSettings settings;
  settings.cameras.clear();
  return settings;
}

// Pixel (column, row) where world point `point` appears in camera `camera`.
std::pair<int, int> project(const mjModel* model, const mjData* data, int camera,
                            const double point[3], int width, int height) {
  double offset[3], local[3];
  mju_sub3(offset, point, data->cam_xpos + 3 * camera);
  mju_mulMatTVec(local, data->cam_xmat + 9 * camera, offset, 3, 3);
  const double focal = 0.5 * height / std::tan(model->cam_fovy[camera] * M_PI / 360);
  const double depth = -local[2];
  return {int(width / 2.0 + focal * local[0] / depth), int(height / 2.0 - focal * local[1] / depth)};
}

double brightness(const envs::Image& image, int column, int row) {
  const uint8_t* p = image.pixels.data() + (size_t(row) * image.width + column) * 3;
  return (p[0] + p[1] + p[2]) / 3.0;
}

}  // namespace

TEST_CASE("env: same initial state and actions give the same trajectory bit for bit") {
  auto run = [] {
    tasks::TaskEnv env(task0(), physics_only());
    env.reset(3);
    std::vector<double> trajectory;
    for (int step = 0; step < 40; ++step) {
      const float phase = float(step) / 10;
      env.step({0.3f * std::sin(phase), 0.3f * std::cos(phase), -0.2f, 0.05f, 0, 0.1f,
                step < 20 ? -1.0f : 1.0f});
      const mjData* data = env.env().data();
      trajectory.insert(trajectory.end(), data->qpos, data->qpos + env.env().model()->nq);
    }
    return trajectory;
  };
  const auto first = run();
  const auto second = run();
  REQUIRE(first.size() == second.size());
  CHECK(std::memcmp(first.data(), second.data(), first.size() * sizeof(double)) == 0);
}

TEST_CASE("env: a diverging simulation raises SimulationError instead of going on") {
  tasks::TaskEnv env(task0(), physics_only());
  env.reset(0);
  test_util::ExpectMujocoWarnings expect;
  mjData* data = env.env().mutable_data();
  for (int i = 0; i < env.env().model()->nv; ++i) data->qvel[i] = 1e12;
  CHECK_THROWS_AS(env.step({0, 0, 0, 0, 0, 0, -1}), envs::SimulationError);
  env.reset(0);
  CHECK_THROWS_AS(env.step({NAN, 0, 0, 0, 0, 0, -1}), envs::SimulationError);
}

TEST_CASE("env: MuJoCo's fatal errors throw SimulationError, and the environment goes on") {
  tasks::TaskEnv env(task0(), physics_only());
  env.reset(0);
  mjData* data = env.env().mutable_data();
  // More stack than the model has: mju_error, which would exit the process.
  CHECK_THROWS_AS(mj_stackAlloc(data, int(env.env().model()->nstack) + 1), envs::SimulationError);
  env.reset(0);
  CHECK_NOTHROW(env.step({0, 0, 0, 0, 0, 0, -1}));
}

TEST_CASE("env: a scene's mjData is sized to its contacts (tens of MB, not GB)") {
  tasks::TaskEnv env(task0(), physics_only());
  const mjModel* model = env.env().model();
  const mjData* data = env.env().data();
  CHECK(model->nconmax == 500);
  CHECK(model->njmax == 2000);
  CHECK(model->nstack == 2000000);
  const double bytes = double(data->nbuffer) + double(data->nstack) * sizeof(mjtNum);
  CHECK(bytes < 100e6);
}

TEST_CASE("env: proprio is eef position, axis-angle and two finger joints") {
  tasks::TaskEnv env(task0(), physics_only());
  const envs::Observation& observation = env.reset(0);
  REQUIRE(observation.proprio.size() == 8);
  const mjModel* model = env.env().model();
  const int site = mj_name2id(model, mjOBJ_SITE, "robot0_grip_site");
  for (int i = 0; i < 3; ++i) {
    CHECK(observation.proprio[i] == doctest::Approx(env.env().data()->site_xpos[3 * site + i]));
  }
  // Gripper pointing down: a rotation of about pi.
  const double angle = std::hypot(observation.proprio[3], observation.proprio[4], observation.proprio[5]);
  CHECK(angle == doctest::Approx(M_PI).epsilon(0.05));
  CHECK(observation.proprio[6] == doctest::Approx(0.04).epsilon(0.05));
  CHECK(observation.instruction ==
        "pick up the black bowl between the plate and the ramekin and place it on the plate");
}

TEST_CASE("render: agentview is not constant and shows the bowls, plate and ramekin where they are") {
  envs::EnvSettings settings;
  settings.cameras = {"agentview", "eye_in_hand"};
  settings.render.width = settings.render.height = 128;
  tasks::TaskEnv env(task0(), settings);
  const envs::Observation& observation = env.reset(0);
  const envs::Image& image = observation.images.at("agentview");
  REQUIRE(image.width == 128);
  REQUIRE(image.pixels.size() == 128u * 128 * 3);
  double sum = 0, sum_sq = 0;
  for (uint8_t v : image.pixels) sum += v, sum_sq += double(v) * v;
  const double mean = sum / image.pixels.size();
  const double variance = sum_sq / image.pixels.size() - mean * mean;
  MESSAGE("agentview mean " << mean << " stddev " << std::sqrt(variance));
  CHECK(std::sqrt(variance) > 20);

  const mjModel* model = env.env().model();
  const mjData* data = env.env().data();
  const int camera = mj_name2id(model, mjOBJ_CAMERA, "agentview");
  auto pixel_at = [&](const char* body, double lift) {
    const int id = mj_name2id(model, mjOBJ_BODY, body);
    double point[3] = {data->xpos[3 * id], data->xpos[3 * id + 1], data->xpos[3 * id + 2] + lift};
    const auto [column, row] = project(model, data, camera, point, 128, 128);
    REQUIRE(column >= 0);
    REQUIRE(column < 128);
    REQUIRE(row >= 0);
    REQUIRE(row < 128);
    return brightness(image, column, row);
  };
  // The brightest pixel within 2 px of a point (small far objects: a pixel may
  // land on a dark rim band).
  auto brightest_near = [&](const char* body, double lift) {
    const int id = mj_name2id(model, mjOBJ_BODY, body);
    double point[3] = {data->xpos[3 * id], data->xpos[3 * id + 1], data->xpos[3 * id + 2] + lift};
    const auto [column, row] = project(model, data, camera, point, 128, 128);
    double best = 0;
    for (int dr = -2; dr <= 2; ++dr) {
      for (int dc = -2; dc <= 2; ++dc) {
        const int c = std::clamp(column + dc, 0, 127), r = std::clamp(row + dr, 0, 127);
        best = std::max(best, double(brightness(image, c, r)));
      }
    }
    return best;
  };
  // Whether the camera's line of sight to a point first meets a visual geom of `body`.
  auto visible = [&](const char* body, double lift) {
    const int id = mj_name2id(model, mjOBJ_BODY, body);
    const double* eye = data->cam_xpos + 3 * camera;
    const double point[3] = {data->xpos[3 * id], data->xpos[3 * id + 1],
                             data->xpos[3 * id + 2] + lift};
    const double direction[3] = {point[0] - eye[0], point[1] - eye[1], point[2] - eye[2]};
    const mjtByte groups[mjNGROUP] = {1, 1, 1, 0, 0, 0};  // rendered groups only
    int geom = -1;
    mj_ray(model, data, eye, direction, groups, 1, -1, &geom);
    return geom >= 0 && model->geom_bodyid[geom] == id;
  };
  // Inside a black bowl it is dark; the plate and ramekin are light (checked
  // where nothing stands between them and the camera).
  int seen = 0;
  for (const char* bowl : {"akita_black_bowl_1", "akita_black_bowl_2"}) {
    if (!visible(bowl, 0.01)) continue;
    CHECK(pixel_at(bowl, 0.01) < 60);
    ++seen;
  }
  for (const char* light : {"plate_1", "glazed_rim_porcelain_ramekin_1"}) {
    if (!visible(light, 0.01)) continue;
    CHECK(brightest_near(light, 0.01) > 150);
    ++seen;
  }
  CHECK(seen >= 3);

  // The wrist camera sees something else than the agentview.
  const envs::Image& wrist = observation.images.at("eye_in_hand");
  CHECK(wrist.pixels != image.pixels);
}

TEST_CASE("render: a camera perturbation moves the picture and a plain reset restores it") {
  envs::EnvSettings settings;
  settings.cameras = {"agentview"};
  settings.render.width = settings.render.height = 64;
  tasks::TaskEnv env(task0(), settings);
  const std::vector<uint8_t> original = env.reset(0).images.at("agentview").pixels;
  envs::CameraPerturbation perturbation;
  perturbation.position_offset = {0.05, 0.05, 0};
  perturbation.rotation_offset = {0, 0, 0.1};
  const std::vector<uint8_t> moved = env.reset(0, {{"agentview", perturbation}}).images.at("agentview").pixels;
  CHECK(moved != original);
  const std::vector<uint8_t> restored = env.reset(0).images.at("agentview").pixels;
  CHECK(restored == original);
  CHECK_THROWS_WITH_AS(env.reset(0, {{"no_such_camera", perturbation}}),
                       doctest::Contains("no_such_camera"), std::runtime_error);
}

TEST_CASE("render: the shadows setting changes the picture") {
  auto render = [](bool shadows) {
    envs::EnvSettings settings;
    settings.cameras = {"agentview"};
    settings.render.width = settings.render.height = 64;
    settings.render.shadows = shadows;
    tasks::TaskEnv env(task0(), settings);
    return env.reset(0).images.at("agentview").pixels;
  };
  CHECK(render(true) != render(false));
}
