// The WidowX-style arm: the model compiles, its rest posture puts the gripper
// above the table pointing down, the IK controller moves the TCP where delta
// commands ask, and the gripper opens and closes.
#include "envs/widowx.h"

#include <doctest/doctest.h>
#include <mujoco/mujoco.h>

#include <array>
#include <cmath>
#include <string>
#include <vector>

#include "envs/env.h"

namespace {

std::string widowx_scene() {
  const envs::MjcfParts robot = envs::widowx_mjcf();
  return "<mujoco model=\"widowx_test\">\n"
         "<compiler angle=\"radian\" autolimits=\"true\"/>\n"
         "<option timestep=\"0.002\" cone=\"elliptic\" impratio=\"10\"/>\n"
         "<default>\n" +
         robot.defaults + "</default>\n<asset>\n" + robot.assets +
         "</asset>\n<worldbody>\n"
         "<light pos=\"0 0 3\" dir=\"0 0 -1\"/>\n"
         "<geom name=\"floor\" type=\"plane\" size=\"3 3 0.1\"/>\n"
         "<geom name=\"table\" type=\"box\" pos=\"-0.1 0 0.435\" size=\"0.4 0.4 0.435\"/>\n" +
         robot.worldbody + "</worldbody>\n<actuator>\n" + robot.actuators +
         "</actuator>\n<contact>\n" + robot.contacts + "</contact>\n<equality>\n" +
         robot.equalities + "</equality>\n</mujoco>\n";
}

envs::EnvSettings widowx_settings() {
  envs::EnvSettings settings;
  settings.cameras = {};
  settings.substeps = 100;  // 5 Hz
  settings.control = envs::ArmControl::kIk;
  return settings;
}

envs::ResetSpec rest_posture(const mjModel* model) {
  envs::ResetSpec spec;
  spec.qpos.assign(model->qpos0, model->qpos0 + model->nq);
  for (int i = 0; i < 6; ++i) spec.qpos[i] = envs::kWidowXInitQpos[i];
  spec.qpos[6] = spec.qpos[7] = envs::kWidowXFingerOpen;
  return spec;
}

std::array<double, 3> tcp(const envs::Observation& observation) {
  return observation.privileged.at("eef").position;
}

}  // namespace

TEST_CASE("widowx model compiles with the naming convention") {
  envs::Env env(widowx_scene(), widowx_settings());
  const mjModel* m = env.model();
  CHECK(m->nq == 8);
  CHECK(m->nu == 8);
  for (int i = 1; i <= 6; ++i) {
    CHECK(mj_name2id(m, mjOBJ_JOINT, ("robot0_joint" + std::to_string(i)).c_str()) >= 0);
    CHECK(mj_name2id(m, mjOBJ_ACTUATOR, ("robot0_pos_j" + std::to_string(i)).c_str()) >= 0);
  }
  CHECK(mj_name2id(m, mjOBJ_SITE, "robot0_grip_site") >= 0);
  // Arm mass near the real arm's (about 2.3 kg with the base).
  double mass = 0;
  for (int b = 1; b < m->nbody; ++b) mass += m->body_mass[b];
  CHECK(mass > 1.8);
  CHECK(mass < 3.0);
}

TEST_CASE("widowx rest posture points the gripper down in front of the base") {
  envs::Env env(widowx_scene(), widowx_settings());
  const envs::Observation& observation = env.reset(rest_posture(env.model()));
  const std::array<double, 3> p = tcp(observation);
  // Base at (0.147, 0.028, 0.87) facing -x: the TCP is ~0.29 m ahead, ~0.14 m up.
  CHECK(p[0] == doctest::Approx(0.147 - 0.292).epsilon(0.02));
  CHECK(p[1] == doctest::Approx(0.028).epsilon(0.02));
  CHECK(p[2] == doctest::Approx(0.87 + 0.135).epsilon(0.01));
  // Site z (along the fingers) points nearly straight down.
  const int site = mj_name2id(env.model(), mjOBJ_SITE, "robot0_grip_site");
  const double* rotation = env.data()->site_xmat + 9 * site;
  CHECK(rotation[8] < -0.99);
}

TEST_CASE("widowx IK moves the TCP by the commanded deltas and holds still on no-ops") {
  envs::Env env(widowx_scene(), widowx_settings());
  const std::array<double, 3> start = tcp(env.reset(rest_posture(env.model())));
  struct Move {
    std::array<float, 3> delta;  // m per step
    int steps;
  };
  const std::vector<Move> moves = {{{-0.02f, 0, 0}, 4},
                                   {{0, 0.025f, 0}, 3},
                                   {{0, 0, -0.03f}, 3},
                                   {{0.015f, -0.02f, 0.01f}, 4},
                                   {{0, 0, 0}, 2}};
  std::array<double, 3> expected = start;
  double worst = 0;
  for (const Move& move : moves) {
    for (int s = 0; s < move.steps; ++s) {
      envs::Action action{move.delta[0], move.delta[1], move.delta[2], 0, 0, 0, -1};
      const std::array<double, 3> p = tcp(env.step(action));
      for (int k = 0; k < 3; ++k) expected[k] += move.delta[k];
      const double error = std::hypot(p[0] - expected[0], p[1] - expected[1], p[2] - expected[2]);
      worst = std::max(worst, error);
    }
  }
  MESSAGE("worst TCP tracking error (m): " << worst);
  CHECK(worst < 0.004);
  // A rotation about world z turns the gripper and keeps it pointing down.
  const int site = mj_name2id(env.model(), mjOBJ_SITE, "robot0_grip_site");
  const double y_before =
      std::atan2(env.data()->site_xmat[9 * site + 4], env.data()->site_xmat[9 * site + 1]);
  for (int s = 0; s < 3; ++s) env.step({0, 0, 0, 0, 0, 0.25f, -1});
  env.step({0, 0, 0, 0, 0, 0, -1});
  const double* r = env.data()->site_xmat + 9 * site;
  const double y_after = std::atan2(r[4], r[1]);
  double turned = y_after - y_before;
  if (turned > M_PI) turned -= 2 * M_PI;
  if (turned < -M_PI) turned += 2 * M_PI;
  CHECK(turned == doctest::Approx(0.75).epsilon(0.03));
  CHECK(r[8] < -0.99);
}

TEST_CASE("widowx gripper opens and closes") {
  envs::Env env(widowx_scene(), widowx_settings());
  env.reset(rest_posture(env.model()));
  const envs::Observation& closed = env.step({0, 0, 0, 0, 0, 0, 1});
  CHECK(closed.proprio[6] < 0.002);
  CHECK(closed.proprio[7] < 0.002);
  const envs::Observation& opened = env.step({0, 0, 0, 0, 0, 0, -1});
  CHECK(opened.proprio[6] == doctest::Approx(envs::kWidowXFingerOpen).epsilon(0.05));
  CHECK(opened.proprio[7] == doctest::Approx(envs::kWidowXFingerOpen).epsilon(0.05));
}
