// The inverse-kinematics delta end-effector controller on a small 6-joint
// position-controlled arm built here: delta commands reach their targets,
// deltas accumulate on the target, unreachable targets stay bounded, the
// gripper follows its command, and a malformed robot is refused by name.
#include "envs/ik_controller.h"

#include <doctest/doctest.h>
#include <mujoco/mujoco.h>

#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>

#include "envs/env.h"

namespace {

// A 6-joint arm (yaw, pitch, pitch, roll, pitch, roll) with a two-finger
// gripper, following the robot naming convention. `servos` = false leaves out
// the arm's position actuators.
std::string arm_mjcf(bool servos = true) {
  std::string actuators;
  if (servos) {
    for (int i = 1; i <= 6; ++i) {
      actuators += "<position name=\"r_pos_j" + std::to_string(i) + "\" joint=\"r_joint" +
                   std::to_string(i) + "\" kp=\"400\" ctrlrange=\"-3 3\"/>";
    }
  }
  return R"(<mujoco><compiler angle="radian" autolimits="true"/>
<option timestep="0.002"/>
<default><joint damping="2" armature="0.05"/><geom contype="0" conaffinity="0" density="500"/></default>
<worldbody><light pos="0 0 3" dir="0 0 -1"/><camera name="overhead" pos="0 0 2"/>
<body name="r_base" pos="0 0 0">
 <joint name="r_joint1" axis="0 0 1" range="-3 3"/><geom type="cylinder" size="0.04 0.05"/>
 <body pos="0 0 0.1"><joint name="r_joint2" axis="0 1 0" range="-2 2"/>
  <geom type="capsule" fromto="0 0 0 0 0 0.3" size="0.03"/>
  <body pos="0 0 0.3"><joint name="r_joint3" axis="0 1 0" range="-2.5 2.5"/>
   <geom type="capsule" fromto="0 0 0 0.3 0 0" size="0.025"/>
   <body pos="0.3 0 0"><joint name="r_joint4" axis="1 0 0" range="-3 3"/>
    <geom type="capsule" fromto="0 0 0 0.05 0 0" size="0.02"/>
    <body pos="0.05 0 0"><joint name="r_joint5" axis="0 1 0" range="-2 2"/>
     <geom type="capsule" fromto="0 0 0 0.06 0 0" size="0.02"/>
     <body pos="0.06 0 0"><joint name="r_joint6" axis="1 0 0" range="-3 3"/>
      <geom type="box" size="0.01 0.04 0.01"/>
      <site name="r_grip_site" pos="0.06 0 0" zaxis="1 0 0"/>
      <body pos="0.03 0.02 0"><joint name="r_finger_joint1" type="slide" axis="0 1 0" range="0 0.03"/>
       <geom type="box" size="0.02 0.005 0.01" mass="0.02"/></body>
      <body pos="0.03 -0.02 0"><joint name="r_finger_joint2" type="slide" axis="0 -1 0" range="0 0.03"/>
       <geom type="box" size="0.02 0.005 0.01" mass="0.02"/></body>
     </body></body></body></body></body></body>
</worldbody>
<actuator>)" + actuators +
         R"(<position name="r_gripper_finger1" joint="r_finger_joint1" kp="100" ctrlrange="0 0.03"/>
<position name="r_gripper_finger2" joint="r_finger_joint2" kp="100" ctrlrange="0 0.03"/>
</actuator></mujoco>)";
}

envs::EnvSettings arm_settings() {
  envs::EnvSettings settings;
  settings.cameras.clear();
  settings.robot_prefix = "r_";
  settings.control = envs::ArmControl::kIk;
  settings.substeps = 100;  // 5 Hz
  return settings;
}

envs::ResetSpec bent_arm() {
  envs::ResetSpec spec;
  spec.qpos = {0, 0.6, 0.9, 0, 0.8, 0, 0.03, 0.03};
  return spec;
}

std::array<double, 3> tcp(const envs::Env& env) {
  const int site = mj_name2id(env.model(), mjOBJ_SITE, "r_grip_site");
  const double* p = env.data()->site_xpos + 3 * site;
  return {p[0], p[1], p[2]};
}

double distance(const std::array<double, 3>& a, const std::array<double, 3>& b) {
  return std::sqrt((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) +
                   (a[2] - b[2]) * (a[2] - b[2]));
}

}  // namespace

TEST_CASE("ik controller: delta commands move the TCP by the commanded metres") {
  envs::Env env(arm_mjcf(), arm_settings());
  // Hold still first so the arm settles on its servos.
  env.reset(bent_arm());
  for (int i = 0; i < 3; ++i) env.step({0, 0, 0, 0, 0, 0, -1});
  const auto start = tcp(env);
  // 4 cm forward, 3 cm left, 2 cm down, in three steps each way, then hold.
  const std::array<double, 3> delta = {0.04, 0.03, -0.02};
  for (int i = 0; i < 3; ++i) {
    env.step({float(delta[0] / 3), float(delta[1] / 3), float(delta[2] / 3), 0, 0, 0, -1});
  }
  for (int i = 0; i < 3; ++i) env.step({0, 0, 0, 0, 0, 0, -1});
  const auto end = tcp(env);
  const std::array<double, 3> goal = {start[0] + delta[0], start[1] + delta[1], start[2] + delta[2]};
  INFO("end ", end[0], " ", end[1], " ", end[2], " goal ", goal[0], " ", goal[1], " ", goal[2]);
  CHECK(distance(end, goal) < 0.004);
}

TEST_CASE("ik controller: rotation deltas turn the TCP about the world axis") {
  envs::Env env(arm_mjcf(), arm_settings());
  env.reset(bent_arm());
  for (int i = 0; i < 3; ++i) env.step({0, 0, 0, 0, 0, 0, -1});
  const int site = mj_name2id(env.model(), mjOBJ_SITE, "r_grip_site");
  double before[4], after[4], relative[4], inverse[4];
  mju_mat2Quat(before, env.data()->site_xmat + 9 * site);
  for (int i = 0; i < 2; ++i) env.step({0, 0, 0, 0, 0, 0.15f, -1});  // 0.3 rad about world z
  for (int i = 0; i < 3; ++i) env.step({0, 0, 0, 0, 0, 0, -1});
  mju_mat2Quat(after, env.data()->site_xmat + 9 * site);
  mju_negQuat(inverse, before);
  mju_mulQuat(relative, after, inverse);  // world-frame rotation from before to after
  const auto axis_angle = envs::quat_to_axis_angle(relative);
  CHECK(axis_angle[2] == doctest::Approx(0.3).epsilon(0.05));
  CHECK(std::abs(axis_angle[0]) < 0.03);
  CHECK(std::abs(axis_angle[1]) < 0.03);
}

TEST_CASE("ik controller: deltas accumulate on the target, unreachable targets stay bounded") {
  const mjModel* model = nullptr;
  envs::Env env(arm_mjcf(), arm_settings());
  model = env.model();
  env.reset(bent_arm());
  envs::IkController controller(model, "r_");
  controller.reset(env.data());
  const Eigen::Vector3d start = controller.target_position();
  controller.set_action(env.data(), {0.01f, 0, 0, 0, 0, 0, -1});
  controller.set_action(env.data(), {0.01f, 0, 0, 0, 0, 0, -1});
  CHECK((controller.target_position() - start).x() == doctest::Approx(0.02));
  CHECK(controller.residual() < 1e-3);
  // 3 m away is out of reach: the solve ends with a large residual, joints within limits.
  controller.set_action(env.data(), {1, 1, 1, 0, 0, 0, -1});
  CHECK(controller.residual() > 0.5);
}

TEST_CASE("ik controller: the gripper closes and opens on command") {
  envs::Env env(arm_mjcf(), arm_settings());
  env.reset(bent_arm());
  const int finger = env.model()->jnt_qposadr[mj_name2id(env.model(), mjOBJ_JOINT, "r_finger_joint1")];
  env.step({0, 0, 0, 0, 0, 0, 1});
  CHECK(env.data()->qpos[finger] < 0.003);
  env.step({0, 0, 0, 0, 0, 0, -1});
  CHECK(env.data()->qpos[finger] > 0.027);
}

TEST_CASE("ik controller: a robot without its servos is refused by name") {
  auto settings = arm_settings();
  try {
    envs::Env env(arm_mjcf(false), settings);
    FAIL("expected an error");
  } catch (const std::runtime_error& error) {
    CHECK(std::string(error.what()).find("r_pos_j1") != std::string::npos);
  }
  settings.robot_prefix = "x_";
  CHECK_THROWS_WITH_AS(envs::Env(arm_mjcf(), settings), doctest::Contains("x_grip_site"),
                       std::runtime_error);
}
