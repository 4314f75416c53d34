// The Panda model and its operational-space controller: init pose, step
// responses against the ideal critically damped response, holding still,
// the gripper, and a lifted grasp.
#include "envs/controller.h"

#include <doctest/doctest.h>
#include <mujoco/mujoco.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "envs/panda.h"

namespace {

using envs::Action;

constexpr int kSubsteps = 25;            // 2 ms physics steps per control step (20 Hz)
constexpr double kControlPeriod = 0.05;  // s

// Compiles an MJCF string through MuJoCo's virtual file system.
mjModel* compile(const std::string& mjcf) {
  mjVFS vfs;
  mj_defaultVFS(&vfs);
  mj_makeEmptyFileVFS(&vfs, "scene.xml", int(mjcf.size()));
  std::memcpy(vfs.filedata[mj_findFileVFS(&vfs, "scene.xml")], mjcf.data(), mjcf.size());
  char error[1024] = "";
  mjModel* model = mj_loadXML("scene.xml", &vfs, error, sizeof(error));
  mj_deleteVFS(&vfs);
  if (!model) throw std::runtime_error(std::string("scene did not compile: ") + error);
  return model;
}

// Floor, light, optional bodies (placed first, so the arm's dofs do not start
// at 0), and the Panda.
std::string scene_mjcf(const std::string& extra_bodies = "") {
  const envs::MjcfParts panda = envs::panda_mjcf();
  return "<mujoco model=\"panda_test\"><compiler angle=\"radian\" autolimits=\"true\"/>"
         "<option timestep=\"0.002\" cone=\"elliptic\" impratio=\"10\"/>"
         "<default>" +
         panda.defaults +
         "</default>"
         "<asset>" +
         panda.assets +
         "</asset>"
         "<worldbody><light pos=\"0 0 3\" dir=\"0 0 -1\"/>"
         "<geom name=\"floor\" type=\"plane\" size=\"3 3 0.1\"/>" +
         extra_bodies + panda.worldbody + "</worldbody><actuator>" + panda.actuators +
         "</actuator>"
         "<contact>" +
         panda.contacts +
         "</contact>"
         "<equality>" +
         panda.equalities + "</equality></mujoco>";
}

// Any MuJoCo warning fails the test that triggered it.
void require_no_warnings(const mjData* data) {
  for (int i = 0; i < mjNWARNING; ++i) {
    INFO("MuJoCo warning: ", std::string(mju_warningText(i, data->warning[i].lastinfo)));
    REQUIRE(data->warning[i].number == 0);
  }
}

double rotation_angle(const Eigen::Matrix3d& a, const Eigen::Matrix3d& b) {
  return Eigen::AngleAxisd(a * b.transpose()).angle();
}

struct PandaScene {
  std::unique_ptr<mjModel, decltype(&mj_deleteModel)> model;
  std::unique_ptr<mjData, decltype(&mj_deleteData)> data;
  std::unique_ptr<envs::OscController> controller;

  explicit PandaScene(const std::string& extra_bodies = "")
      : model(compile(scene_mjcf(extra_bodies)), mj_deleteModel), data(nullptr, mj_deleteData) {
    data.reset(mj_makeData(model.get()));
    for (int i = 0; i < 7; ++i) {
      const std::string name = "robot0_joint" + std::to_string(i + 1);
      data->qpos[model->jnt_qposadr[mj_name2id(model.get(), mjOBJ_JOINT, name.c_str())]] =
          envs::kPandaInitQpos[i];
    }
    for (int i = 1; i <= 2; ++i) data->qpos[finger_qpos(i)] = envs::kPandaFingerOpen;
    mj_forward(model.get(), data.get());
    controller = std::make_unique<envs::OscController>(model.get());
    controller->reset(data.get());
  }

  int finger_qpos(int index) const {
    const std::string name = "robot0_finger_joint" + std::to_string(index);
    return model->jnt_qposadr[mj_name2id(model.get(), mjOBJ_JOINT, name.c_str())];
  }
  double finger(int index) const { return data->qpos[finger_qpos(index)]; }

  // One 20 Hz control step with the goal set by the last set_action().
  void run_control_step() {
    for (int i = 0; i < kSubsteps; ++i) {
      controller->apply(model.get(), data.get());
      mj_step(model.get(), data.get());
    }
    require_no_warnings(data.get());
  }
  void step(const Action& action) {
    controller->set_action(data.get(), action);
    run_control_step();
  }

  Eigen::Vector3d tcp() const { return controller->tcp_position(data.get()); }
  Eigen::Matrix3d tcp_rotation() const { return controller->tcp_rotation(data.get()); }
  double position_error() const { return (controller->goal_position() - tcp()).norm(); }
  double rotation_error() const {
    return rotation_angle(controller->goal_rotation(), tcp_rotation());
  }
};

// Remaining fraction of a step for a critically damped system with kp after t seconds.
double ideal_remaining(double kp, double t) {
  const double omega = std::sqrt(kp);
  return (1 + omega * t) * std::exp(-omega * t);
}

// Distance the ideal 1-D critically damped system covers in `steps` control
// steps when every step sets its goal `delta` ahead of where it is.
double ideal_steady_motion(double kp, double kd, double delta, int steps) {
  constexpr double kTimestep = kControlPeriod / kSubsteps;
  double position = 0, velocity = 0;
  for (int step = 0; step < steps; ++step) {
    const double goal = position + delta;
    for (int i = 0; i < kSubsteps; ++i) {
      velocity += kTimestep * (kp * (goal - position) - kd * velocity);
      position += kTimestep * velocity;
    }
  }
  return position;
}

struct Stats {
  double sum = 0, max = 0;
  int count = 0;
  void add(double value) {
    sum += value;
    max = std::max(max, value);
    ++count;
  }
  double mean() const { return count ? sum / count : 0; }
};

}  // namespace

TEST_CASE("panda: the init posture puts the TCP in front of the base, pointing down") {
  PandaScene scene;
  const envs::PandaSettings defaults;
  const Eigen::Vector3d tcp = scene.tcp();
  const Eigen::Matrix3d rotation = scene.tcp_rotation();
  MESSAGE("init TCP ", tcp.transpose(), ", z axis ", rotation.col(2).transpose());
  const double reach = tcp.x() - defaults.base_position[0];
  CHECK(reach > 0.4);
  CHECK(reach < 0.55);
  CHECK(std::abs(tcp.y()) < 0.005);
  CHECK(tcp.z() > 1.0);
  CHECK(tcp.z() < 1.2);
  // Gripper z points down within 5 degrees; fingers close along world y.
  CHECK(rotation.col(2).dot(Eigen::Vector3d(0, 0, -1)) > std::cos(5 * M_PI / 180));
  CHECK(std::abs(rotation.col(1).y()) > 0.999);
  // Wrist camera looks down along the fingers (MuJoCo cameras look along -z).
  const int camera = mj_name2id(scene.model.get(), mjOBJ_CAMERA, "robot0_eye_in_hand");
  REQUIRE(camera >= 0);
  const double* camera_rotation = scene.data->cam_xmat + 9 * camera;
  CHECK(-camera_rotation[8] < -0.99);
  // No contacts at rest: the robot's own shapes do not touch.
  CHECK(scene.data->ncon == 0);
  // Visual geoms (group 1) never collide; collision geoms are group 3.
  const mjModel* model = scene.model.get();
  for (int geom = 0; geom < model->ngeom; ++geom) {
    const char* body = mj_id2name(model, mjOBJ_BODY, model->geom_bodyid[geom]);
    if (!body || std::string(body).rfind("robot0_", 0) != 0) continue;
    const bool collides = model->geom_contype[geom] || model->geom_conaffinity[geom];
    CHECK(model->geom_group[geom] == (collides ? 3 : 1));
  }
  // About 18 kg of arm plus the base.
  CHECK(std::abs(mj_getTotalmass(scene.model.get()) - 19.7) < 1.5);
}

TEST_CASE("panda: zero posture matches the published DH chain") {
  PandaScene scene;
  mjData* data = scene.data.get();
  for (int i = 0; i < 7; ++i) data->qpos[i] = 0;
  mj_forward(scene.model.get(), data);
  const envs::PandaSettings defaults;
  // Stretched out: a4 and a5 cancel, the flange sits a7 forward of the base axis
  // and d1 + d3 + d5 - flange up, pointing down.
  const int hand = mj_name2id(scene.model.get(), mjOBJ_BODY, "robot0_hand");
  const double* flange = data->xpos + 3 * hand;
  CHECK(flange[0] - defaults.base_position[0] == doctest::Approx(0.088).epsilon(1e-6));
  CHECK(std::abs(flange[1]) < 1e-9);
  CHECK(flange[2] - defaults.base_position[2] ==
        doctest::Approx(0.333 + 0.316 + 0.384 - 0.107).epsilon(1e-6));
  const Eigen::Vector3d tcp = scene.tcp();
  CHECK(tcp.z() - defaults.base_position[2] ==
        doctest::Approx(0.333 + 0.316 + 0.384 - 0.107 - envs::kPandaTcpOffset).epsilon(1e-6));
}

TEST_CASE("panda: OSC step responses follow the critically damped kp = 150 response") {
  PandaScene scene;
  const double kp = scene.controller->settings().kp;
  constexpr int kHoldSteps = 8;  // control steps the goal is held (0.4 s)
  const std::vector<Action> commands = {{0.5, 0, 0, 0, 0, 0, -1},
                                        {-0.5, 0, 0, 0, 0, 0, -1},
                                        {0, 0.5, 0, 0, 0, 0, -1},
                                        {0, -0.5, 0, 0, 0, 0, -1},
                                        {0, 0, 0.5, 0, 0, 0, -1},
                                        {0, 0, -0.5, 0, 0, 0, -1},
                                        {0, 0, 0, 0.3, 0, 0, -1},
                                        {0, 0, 0, -0.3, 0, 0, -1},
                                        {0, 0, 0, 0, 0.3, 0, -1},
                                        {0, 0, 0, 0, -0.3, 0, -1},
                                        {0, 0, 0, 0, 0, 0.3, -1},
                                        {0, 0, 0, 0, 0, -0.3, -1},
                                        {0.5, -0.5, 0.5, 0.3, -0.3, 0.3, -1},
                                        {-0.5, 0.5, -0.5, -0.3, 0.3, -0.3, -1},
                                        {1, 1, -1, 0, 0, 0, -1},
                                        {-1, -1, 1, 0, 0, 0, -1}};
  std::vector<Stats> position(kHoldSteps), rotation(kHoldSteps);
  Stats position_deviation, rotation_deviation;  // |measured - ideal| remaining fraction
  for (const Action& command : commands) {
    const Eigen::Vector3d start = scene.tcp();
    const Eigen::Matrix3d start_rotation = scene.tcp_rotation();
    scene.controller->set_action(scene.data.get(), command);
    const double position_step = (scene.controller->goal_position() - start).norm();
    const double rotation_step = rotation_angle(scene.controller->goal_rotation(), start_rotation);
    for (int k = 0; k < kHoldSteps; ++k) {
      scene.run_control_step();
      position[k].add(scene.position_error());
      rotation[k].add(scene.rotation_error());
      const double ideal = ideal_remaining(kp, (k + 1) * kControlPeriod);
      if (position_step > 1e-3) {
        position_deviation.add(std::abs(scene.position_error() / position_step - ideal));
      }
      if (rotation_step > 1e-3) {
        rotation_deviation.add(std::abs(scene.rotation_error() / rotation_step - ideal));
      }
    }
  }
  for (int k : {0, 2, 4, kHoldSteps - 1}) {
    MESSAGE("after ", k + 1, " control steps: position error mean ", position[k].mean() * 1e3,
            " mm, max ", position[k].max * 1e3, " mm; rotation error mean ", rotation[k].mean(),
            " rad, max ", rotation[k].max, " rad; ideal remaining fraction ",
            ideal_remaining(kp, (k + 1) * kControlPeriod));
  }
  MESSAGE("deviation from the ideal response (fraction of the step): position mean ",
          position_deviation.mean(), " max ", position_deviation.max, "; rotation mean ",
          rotation_deviation.mean(), " max ", rotation_deviation.max);
  // The response is the ideal critically damped one to within 5 % of the step.
  CHECK(position_deviation.max < 0.05);
  CHECK(rotation_deviation.max < 0.05);
  // After holding the goal for 0.4 s (ideal: 4.4 % of the step remains).
  CHECK(position[kHoldSteps - 1].mean() < 0.003);
  CHECK(position[kHoldSteps - 1].max < 0.005);
  CHECK(rotation[kHoldSteps - 1].mean() < 0.02);
  CHECK(rotation[kHoldSteps - 1].max < 0.03);
  // After 5 steps (ideal 19 %): a 25 mm step is within 6 mm.
  CHECK(position[4].mean() < 0.006);
}

TEST_CASE("panda: a steady delta command moves the TCP like the ideal controller") {
  PandaScene scene;
  const envs::OscSettings& settings = scene.controller->settings();
  const double kd = 2 * std::sqrt(settings.kp) * settings.damping_ratio;
  constexpr int kSteps = 12;
  // Each control step re-bases the goal on the lagging TCP, so the TCP covers
  // far less than the 25 mm requested per step; the ideal 1-D response says how much.
  const double ideal =
      ideal_steady_motion(settings.kp, kd, 0.5 * settings.max_delta_position, kSteps);
  for (int axis = 0; axis < 3; ++axis) {
    for (double sign : {1.0, -1.0}) {
      Action action{0, 0, 0, 0, 0, 0, -1};
      action[axis] = float(0.5 * sign);
      const Eigen::Vector3d start = scene.tcp();
      const Eigen::Matrix3d start_rotation = scene.tcp_rotation();
      for (int i = 0; i < kSteps; ++i) scene.step(action);
      const Eigen::Vector3d moved = scene.tcp() - start;
      Eigen::Vector3d off_axis = moved;
      off_axis[axis] = 0;
      const double rotation_drift = rotation_angle(scene.tcp_rotation(), start_rotation);
      MESSAGE("axis ", axis, " sign ", sign, ": moved ", moved[axis] * 1e3, " mm in ", kSteps,
              " steps (ideal ", ideal * 1e3, " mm), off axis ", off_axis.norm() * 1e3,
              " mm, rotation drift ", rotation_drift, " rad");
      CHECK(std::abs(moved[axis] * sign - ideal) < 0.05 * ideal);
      CHECK(off_axis.norm() < 0.003);
      CHECK(rotation_drift < 0.01);
      for (int i = 0; i < 10; ++i) scene.step(Action{0, 0, 0, 0, 0, 0, -1});
    }
  }
}

TEST_CASE("panda: zero action holds still, also while the null space moves the elbow") {
  PandaScene scene;
  // Start from a pose reached by motion, then pull the elbow elsewhere.
  // (zero actions re-base the goal on the moving TCP, so let it come to rest first).
  for (int i = 0; i < 6; ++i) scene.step(Action{0.5, -0.3, -0.5, 0, 0, 0, -1});
  for (int i = 0; i < 20; ++i) scene.step(Action{0, 0, 0, 0, 0, 0, -1});
  std::array<double, 7> posture = envs::kPandaInitQpos;
  posture[0] += 0.3;
  posture[2] -= 0.3;
  scene.controller->set_posture(posture);
  const Eigen::Vector3d start = scene.tcp();
  const Eigen::Matrix3d start_rotation = scene.tcp_rotation();
  const double elbow_start = scene.data->qpos[2];
  for (int i = 0; i < 200; ++i) scene.step(Action{0, 0, 0, 0, 0, 0, -1});
  const double drift = (scene.tcp() - start).norm();
  const double rotation_drift = rotation_angle(scene.tcp_rotation(), start_rotation);
  MESSAGE("drift after 200 steps: ", drift * 1e3, " mm, ", rotation_drift, " rad; joint 3 moved ",
          scene.data->qpos[2] - elbow_start, " rad");
  CHECK(drift < 0.002);
  CHECK(rotation_drift < 0.005);
  CHECK(scene.data->qpos[2] - elbow_start < -0.1);
}

TEST_CASE("panda: gripper opens and closes, fingers coupled") {
  PandaScene scene;
  for (int i = 0; i < 20; ++i) scene.step(Action{0, 0, 0, 0, 0, 0, 1});
  MESSAGE("closed: fingers ", scene.finger(1), " ", scene.finger(2), " m");
  CHECK(scene.finger(1) < 0.002);
  CHECK(scene.finger(2) < 0.002);
  CHECK(scene.controller->gripper_state() == doctest::Approx(1));
  for (int i = 0; i < 20; ++i) scene.step(Action{0, 0, 0, 0, 0, 0, -1});
  MESSAGE("open: fingers ", scene.finger(1), " ", scene.finger(2), " m");
  CHECK(scene.finger(1) > 0.038);
  CHECK(scene.finger(2) > 0.038);
  CHECK(std::abs(scene.finger(1) - scene.finger(2)) < 5e-4);
  // Closing takes several control steps, as with robosuite's Panda gripper.
  scene.step(Action{0, 0, 0, 0, 0, 0, 1});
  CHECK(scene.finger(1) > 0.02);
}

TEST_CASE("panda: grasps and lifts a 0.3 kg box") {
  // Table top at z 0.9; a 4 cm wide, 0.3 kg box under the TCP.
  PandaScene probe;
  const Eigen::Vector3d tcp = probe.tcp();
  const std::string table =
      "<body name=\"table\" pos=\"-0.1 0 0.45\"><geom type=\"box\" size=\"0.4 0.5 0.45\"/></body>"
      "<body name=\"box\" pos=\"" +
      std::to_string(tcp.x()) +
      " 0 0.93\"><freejoint/>"
      "<geom type=\"box\" size=\"0.02 0.02 0.03\" mass=\"0.3\" friction=\"1 0.005 "
      "0.0001\"/></body>";
  PandaScene scene(table);
  const int box = mj_name2id(scene.model.get(), mjOBJ_BODY, "box");
  auto box_position = [&] { return Eigen::Map<const Eigen::Vector3d>(scene.data->xpos + 3 * box); };
  for (int i = 0; i < 5; ++i) scene.step(Action{0, 0, 0, 0, 0, 0, -1});
  const double box_start_z = box_position().z();
  // Down until the pads are level with the box centre.
  for (int i = 0; i < 60 && scene.tcp().z() > box_start_z + 0.002; ++i) {
    const double dz = std::clamp((box_start_z - scene.tcp().z()) / 0.05, -1.0, 1.0);
    scene.step(Action{0, 0, float(dz), 0, 0, 0, -1});
  }
  for (int i = 0; i < 12; ++i) scene.step(Action{0, 0, 0, 0, 0, 0, 1});
  const double width = scene.finger(1) + scene.finger(2);
  const Eigen::Vector3d grasp_offset = box_position() - scene.tcp();
  for (int i = 0; i < 20; ++i) scene.step(Action{0, 0, 1, 0, 0, 0, 1});
  for (int i = 0; i < 20; ++i) scene.step(Action{0, 0, 0, 0, 0, 0, 1});
  const double lift = box_position().z() - box_start_z;
  const double slip = (box_position() - scene.tcp() - grasp_offset).norm();
  MESSAGE("grasp: finger gap ", width * 1e3, " mm, box lifted ", lift * 1e3, " mm, slip ",
          slip * 1e3, " mm");
  CHECK(std::abs(width - 0.04) < 0.002);
  CHECK(lift > 0.15);
  CHECK(slip < 0.003);
}

TEST_CASE("panda: bad input gives clear errors") {
  PandaScene scene;
  Action bad{0, 0, 0, 0, 0, 0, 0};
  bad[2] = std::nanf("");
  CHECK_THROWS_WITH_AS(scene.controller->set_action(scene.data.get(), bad),
                       doctest::Contains("action[2] is not finite"), std::runtime_error);
  std::unique_ptr<mjModel, decltype(&mj_deleteModel)> empty(
      compile("<mujoco><worldbody><geom type=\"plane\" size=\"1 1 0.1\"/></worldbody></mujoco>"),
      mj_deleteModel);
  CHECK_THROWS_WITH_AS(envs::OscController(empty.get()),
                       doctest::Contains("no site 'robot0_grip_site'"), std::runtime_error);
  envs::PandaSettings low;
  low.base_position = {0, 0, 0.01};
  CHECK_THROWS_AS(envs::panda_mjcf(low), std::runtime_error);
}
