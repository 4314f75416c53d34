// The Google-robot-style arm: model structure, the initial posture, delta
// pose tracking through the IK controller at 3 Hz, and the gripper.
#include "envs/google_robot.h"

#include <doctest/doctest.h>
#include <mujoco/mujoco.h>

#include <cmath>
#include <string>

#include "envs/env.h"

namespace {

constexpr int kSubsteps = 167;  // 2 ms physics steps per 3 Hz control step

// A floor and the robot at the default base pose (facing -x).
std::string scene(const envs::GoogleRobotSettings& settings = {}) {
  const envs::MjcfParts robot = envs::google_robot_mjcf(settings);
  return "<mujoco><compiler angle=\"radian\" autolimits=\"true\"/>"
         "<option timestep=\"0.002\"/><default>" +
         robot.defaults + "</default><asset>" + robot.assets +
         "</asset><worldbody><geom name=\"floor\" type=\"plane\" size=\"3 3 0.1\"/>" +
         robot.worldbody + "</worldbody><actuator>" + robot.actuators +
         "</actuator><contact>" + robot.contacts + "</contact><equality>" + robot.equalities +
         "</equality></mujoco>";
}

envs::EnvSettings ik_settings() {
  envs::EnvSettings settings;
  settings.cameras = {};
  settings.control = envs::ArmControl::kIk;
  settings.substeps = kSubsteps;
  return settings;
}

// Resets with the arm at its initial posture and the gripper open.
const envs::Observation& reset_to_init(envs::Env& env) {
  const mjModel* m = env.model();
  envs::ResetSpec spec;
  spec.qpos.assign(m->qpos0, m->qpos0 + m->nq);
  for (int i = 0; i < 7; ++i) {
    const std::string name = "robot0_joint" + std::to_string(i + 1);
    spec.qpos[m->jnt_qposadr[mj_name2id(m, mjOBJ_JOINT, name.c_str())]] =
        envs::kGoogleRobotInitQpos[i];
  }
  return env.reset(spec);
}

double distance(const std::array<double, 3>& a, const std::array<double, 3>& b) {
  return std::sqrt((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) +
                   (a[2] - b[2]) * (a[2] - b[2]));
}

}  // namespace

TEST_CASE("google robot: the model follows the naming convention") {
  envs::Env env(scene(), ik_settings());
  const mjModel* m = env.model();
  for (int i = 1; i <= 7; ++i) {
    const std::string joint = "robot0_joint" + std::to_string(i);
    const std::string actuator = "robot0_pos_j" + std::to_string(i);
    const int joint_id = mj_name2id(m, mjOBJ_JOINT, joint.c_str());
    const int actuator_id = mj_name2id(m, mjOBJ_ACTUATOR, actuator.c_str());
    REQUIRE(joint_id >= 0);
    REQUIRE(actuator_id >= 0);
    CHECK(m->jnt_type[joint_id] == mjJNT_HINGE);
    CHECK(m->actuator_trnid[2 * actuator_id] == joint_id);
    CHECK(m->actuator_ctrlrange[2 * actuator_id] == doctest::Approx(m->jnt_range[2 * joint_id]));
  }
  CHECK(mj_name2id(m, mjOBJ_SITE, "robot0_grip_site") >= 0);
  CHECK(mj_name2id(m, mjOBJ_ACTUATOR, "robot0_gripper_finger1") >= 0);
  CHECK(mj_name2id(m, mjOBJ_JOINT, "robot0_finger_joint2") >= 0);
  // Everything but the arm is static: 7 arm joints and 2 fingers.
  CHECK(m->njnt == 9);
}

TEST_CASE("google robot: the initial posture holds the gripper down in front of the base") {
  envs::Env env(scene(), ik_settings());
  const envs::Observation& obs = reset_to_init(env);
  // Robot frame (0.50, 0, 1.07) at base (0.35, 0.20), yaw pi.
  const std::array<double, 3> expected{0.35 - 0.50, 0.20, 1.07};
  CHECK(distance(obs.privileged.at("eef").position, expected) < 0.005);
  const int site = mj_name2id(env.model(), mjOBJ_SITE, "robot0_grip_site");
  const double* rotation = env.data()->site_xmat + 9 * site;
  CHECK(rotation[8] < -0.999);  // site z (the fingers) points down
  // Holding still for a few steps: no drift, no contacts with the floor.
  const std::array<double, 3> start = obs.privileged.at("eef").position;
  for (int i = 0; i < 3; ++i) env.step({0, 0, 0, 0, 0, 0, -1});
  CHECK(distance(env.observation().privileged.at("eef").position, start) < 0.002);
}

TEST_CASE("google robot: delta commands are tracked within a few millimetres") {
  envs::Env env(scene(), ik_settings());
  reset_to_init(env);
  std::array<double, 3> goal = env.observation().privileged.at("eef").position;
  const std::array<std::array<float, 3>, 5> moves = {
      {{0.05f, 0, 0}, {0, 0.05f, 0}, {0, 0, -0.05f}, {-0.04f, -0.03f, 0.02f}, {0, -0.05f, -0.04f}}};
  double worst = 0;
  for (const auto& move : moves) {
    envs::Action action{move[0], move[1], move[2], 0, 0, 0, -1};
    for (int i = 0; i < 3; ++i) goal[i] += move[i];
    const envs::Observation& obs = env.step(action);
    worst = std::max(worst, distance(obs.privileged.at("eef").position, goal));
  }
  MESSAGE("worst tracking error " << worst * 1000 << " mm");
  CHECK(worst < 0.004);
  // A turn about the vertical: the fingers' closing direction follows.
  const int site = mj_name2id(env.model(), mjOBJ_SITE, "robot0_grip_site");
  const double* before = env.data()->site_xmat + 9 * site;
  const double y0[2] = {before[1], before[4]};
  env.step({0, 0, 0, 0, 0, 0.4f, -1});
  env.step({0, 0, 0, 0, 0, 0, -1});
  const double* after = env.data()->site_xmat + 9 * site;
  const double turned = std::atan2(y0[0] * after[4] - y0[1] * after[1], y0[0] * after[1] + y0[1] * after[4]);
  CHECK(turned == doctest::Approx(0.4).epsilon(0.05));
}

TEST_CASE("google robot: the gripper closes and opens") {
  envs::Env env(scene(), ik_settings());
  reset_to_init(env);
  env.step({0, 0, 0, 0, 0, 0, -1});
  CHECK(env.observation().proprio[6] == doctest::Approx(envs::kGoogleRobotFingerOpen).epsilon(0.02));
  CHECK(env.observation().proprio[7] == doctest::Approx(envs::kGoogleRobotFingerOpen).epsilon(0.02));
  env.step({0, 0, 0, 0, 0, 0, 1});
  CHECK(env.observation().proprio[6] < 0.002);
  CHECK(env.observation().proprio[7] < 0.002);
  env.step({0, 0, 0, 0, 0, 0, -1});
  CHECK(env.observation().proprio[6] > 0.045);
}
