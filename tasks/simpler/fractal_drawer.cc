#include "tasks/simpler/fractal_drawer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <stdexcept>

#include "envs/google_robot.h"
#include "tasks/simpler/fractal_scene.h"

namespace tasks::simpler {

namespace {

constexpr double kPi = std::numbers::pi;

// ---------------------------------------------------------------------------
// The tasks.

enum class DrawerTaskKind { kOpen, kClose, kApple };

struct DrawerTaskFacts {
  const char* name;
  DrawerTaskKind kind;
  int level;  // 0 bottom, 1 middle, 2 top
};

constexpr DrawerTaskFacts kDrawerTasks[] = {
    {"open_top_drawer", DrawerTaskKind::kOpen, 2},
    {"open_middle_drawer", DrawerTaskKind::kOpen, 1},
    {"open_bottom_drawer", DrawerTaskKind::kOpen, 0},
    {"close_top_drawer", DrawerTaskKind::kClose, 2},
    {"close_middle_drawer", DrawerTaskKind::kClose, 1},
    {"close_bottom_drawer", DrawerTaskKind::kClose, 0},
    {"place_apple_into_top_drawer", DrawerTaskKind::kApple, 2},
};

constexpr const char* kLevelNames[3] = {"bottom", "middle", "top"};
constexpr int kLayouts = 27;       // episodes per task
constexpr int kDrawerSteps = 113;  // SimplerEnv's max episode steps, drawer tasks
constexpr int kAppleSteps = 200;   // ... apple task
constexpr int kControlHz = 3;
constexpr int kSubsteps = 167;  // 2 ms physics steps per control step (3 Hz)

const DrawerTaskFacts& facts_of(const TaskDefinition& task) {
  for (const DrawerTaskFacts& facts : kDrawerTasks) {
    if (task.name == facts.name || task.name.rfind(std::string(facts.name) + "@", 0) == 0) {
      return facts;
    }
  }
  throw std::runtime_error("task " + task.key + " ('" + task.name +
                           "') is not a Fractal drawer task");
}

// ---------------------------------------------------------------------------
// Layouts: robot base poses in SimplerEnv's world frame (the cabinet's drawer
// fronts face +x at kCabinetFrontX).

struct Pose2 {
  double x = 0, y = 0, yaw = 0;  // m, m, rad
};

Pose2 compose(const Pose2& a, const Pose2& b) {
  const double c = std::cos(a.yaw), s = std::sin(a.yaw);
  return {a.x + c * b.x - s * b.y, a.y + s * b.x + c * b.y, a.yaw + b.yaw};
}

Pose2 inverse(const Pose2& a) {
  const double c = std::cos(a.yaw), s = std::sin(a.yaw);
  return {-(c * a.x + s * a.y), -(-s * a.x + c * a.y), -a.yaw};
}

// SimplerEnv's nine visual-matching base poses A0..C2: x, y, and the turn
// about z added to facing -x.
constexpr Pose2 kBasePoses[9] = {
    {0.644, -0.179, -0.03}, {0.765, -0.182, -0.02}, {0.889, -0.203, -0.06},
    {0.652, 0.009, 0},      {0.752, 0.009, 0},      {0.851, 0.035, 0},
    {0.665, 0.224, 0},      {0.765, 0.222, -0.025}, {0.865, 0.222, -0.025}};
constexpr double kTurns[3] = {-0.03, 0, 0.03};  // rad, extra base turn per drawer layout
constexpr int kApplePoses[3] = {0, 3, 6};       // A0, B0, C0
// Apple grid on the cabinet top (SimplerEnv: x -0.08 .. -0.02, y -0.02 .. 0.08,
// 3 x 3); x counts from the cabinet's front edge, toward the robot.
constexpr double kAppleX[3] = {-0.08, -0.05, -0.02};
constexpr double kAppleY[3] = {-0.02, 0.03, 0.08};

// The arm's start postures (rad, joints 1-7): the elbow raised in front of
// the shoulder, forearm down, the hand level and pointing forward with the
// fingers closing vertically. Drawer tasks: TCP about 0.69 m ahead of the
// base at 0.94 m. Apple task: TCP about 0.6 m ahead at 1.05 m, above the
// cabinet top and the apple on it.
constexpr std::array<double, 7> kDrawerInitQpos = {0, -0.7, 0, 1.9, 0, -1.2, kPi / 2};
constexpr std::array<double, 7> kAppleInitQpos = {0, -1.12, 0, 2.22, 0, -1.10, kPi / 2};

// Where the simulated robot stands (the MJCF base pose): pose B1. Episodes
// place the cabinet and the apple relative to it as the layout's base pose
// sees them.
constexpr Pose2 kModelBase{0.752, 0.009, kPi};

// ---------------------------------------------------------------------------
// The cabinet: a counter-height station with three drawers over a closed
// cupboard. Its frame: origin on the floor below the middle of the drawer
// fronts' plane, x out of the fronts (the pull direction), z up.

// SimplerEnv world x of the drawer fronts (m). SimplerEnv's cabinet model is
// not ours; the fronts stand where this robot reaches every drawer from every
// layout (nearest base 0.56 m, farthest 0.81 m away).
constexpr double kCabinetFrontX = 0.08;
constexpr double kCabinetCenterY = 0.0;     // m, SimplerEnv world y of the cabinet's middle
constexpr double kWidth = 0.46;             // m, along y
constexpr double kDepth = 0.50;             // m, along x
constexpr double kPanel = 0.015;            // m, carcass panels
constexpr double kCupboardTop = 0.42;       // m, top of the closed cupboard under the drawers
constexpr double kBay = 0.11;               // m, height of each drawer bay
constexpr double kTopSlab = 0.03;           // m, the top's thickness
constexpr double kTopOverhang = 0.02;       // m, the top reaches past the fronts
constexpr double kClearance = 0.003;        // m, between drawer and carcass
constexpr double kFront = 0.018;            // m, drawer front thickness
constexpr double kDrawerWall = 0.01;        // m, drawer base and wall thickness
constexpr double kDrawerWallHeight = 0.07;  // m
constexpr double kDrawerDepth = 0.44;       // m, front face to the back wall's back face
constexpr double kHandleReach = 0.05;       // m, bar axis in front of the drawer front
constexpr double kHandleRadius = 0.008;     // m
constexpr double kHandleHalfLength = 0.07;  // m

double bay_floor(int level) { return kCupboardTop + kPanel + level * (kBay + kPanel); }
double top_surface() { return bay_floor(3) + kTopSlab; }
double handle_height(int level) { return bay_floor(level) + kBay * 0.55; }

// Looks of the cabinet (nominal and the aggregation's cabinet variants).
struct CabinetLook {
  std::array<double, 4> carcass, front, handle;  // rgba
  std::array<double, 3> grain;                   // texture mark colour (wood), or none
  bool wood = true;
  double handle_half_length = kHandleHalfLength;  // m
  double handle_radius = kHandleRadius;           // m
};

CabinetLook cabinet_look(const std::string& variant) {
  if (variant == "cabinet_1") {
    // White painted station, black bar handles.
    return {{0.9, 0.9, 0.88, 1},
            {0.95, 0.95, 0.93, 1},
            {0.08, 0.08, 0.09, 1},
            {0, 0, 0},
            false,
            0.08,
            0.007};
  }
  if (variant == "cabinet_2") {
    // Dark walnut carcass, blue-grey fronts, long brushed-steel handles.
    return {{0.3, 0.19, 0.11, 1},
            {0.36, 0.43, 0.5, 1},
            {0.75, 0.76, 0.78, 1},
            {0.24, 0.14, 0.08},
            true,
            0.1,
            0.009};
  }
  // Nominal: light oak with steel handles.
  return {{0.7, 0.52, 0.33, 1}, {0.78, 0.6, 0.4, 1}, {0.62, 0.63, 0.65, 1}, {0.6, 0.44, 0.27}, true,
          kHandleHalfLength,    kHandleRadius};
}

std::string num(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.6g", std::abs(value) < 1e-12 ? 0.0 : value);
  return buffer;
}

std::string nums(std::initializer_list<double> values) {
  std::string out;
  for (double value : values) {
    if (!out.empty()) out += ' ';
    out += num(value);
  }
  return out;
}

template <size_t N>
std::string nums(const std::array<double, N>& values) {
  std::string out;
  for (double value : values) {
    if (!out.empty()) out += ' ';
    out += num(value);
  }
  return out;
}

// A box geom: collision (group 3) or visual (group 1, no contacts).
std::string box_geom(const std::string& name, const std::array<double, 3>& half,
                     const std::array<double, 3>& pos, const std::string& material, bool collide) {
  std::string out = "<geom";
  if (!name.empty()) out += " name=\"" + name + "\"";
  out += " type=\"box\" size=\"" + nums(half) + "\" pos=\"" + nums(pos) + "\"";
  if (collide) {
    out +=
        " group=\"3\" contype=\"1\" conaffinity=\"1\" condim=\"3\" friction=\"0.8 0.005 0.0001\""
        " density=\"500\"";
  } else {
    out +=
        " group=\"1\" contype=\"0\" conaffinity=\"0\" density=\"0\" material=\"" + material + "\"";
  }
  return out + "/>\n";
}

// Collision and visual copies of one box.
std::string solid_box(const std::string& name, const std::array<double, 3>& half,
                      const std::array<double, 3>& pos, const std::string& material) {
  return box_geom(name, half, pos, material, true) + box_geom("", half, pos, material, false);
}

std::string cabinet_assets(const CabinetLook& look) {
  std::string out;
  auto material = [&](const std::string& name, const std::array<double, 4>& rgba, bool textured,
                      double specular) {
    if (textured) {
      out += "<texture name=\"" + name + "_texture\" type=\"2d\" builtin=\"flat\" rgb1=\"" +
             nums({rgba[0], rgba[1], rgba[2]}) + "\" mark=\"random\" random=\"0.15\" markrgb=\"" +
             nums(look.grain) + "\" width=\"256\" height=\"256\"/>\n";
      out += "<material name=\"" + name + "\" texture=\"" + name +
             "_texture\" texrepeat=\"4 4\" texuniform=\"true\" specular=\"" + num(specular) +
             "\" shininess=\"0.3\"/>\n";
    } else {
      out += "<material name=\"" + name + "\" rgba=\"" + nums(rgba) + "\" specular=\"" +
             num(specular) + "\" shininess=\"0.4\"/>\n";
    }
  };
  material("cabinet_carcass", look.carcass, look.wood, 0.15);
  material("cabinet_front", look.front, look.wood, 0.2);
  material("cabinet_handle", look.handle, false, 0.8);
  out += "<material name=\"cabinet_inside\" rgba=\"0.55 0.5 0.45 1\" specular=\"0.05\"/>\n";
  return out;
}

// The cabinet as a mocap body (episodes move it) with the drawers as children
// on slide joints. Names: body "cabinet"; drawers "cabinet_<level>_drawer"
// with joint "..._joint", bottom geom "..._bottom"; sites
// "cabinet_<level>_handle" (bar centre) and "cabinet_<level>_floor" (inside
// the drawer, middle of its bottom's top face).
std::string cabinet_body(const CabinetLook& look) {
  const double half_width = kWidth / 2;
  const double back = -kDepth;
  const double top_z = top_surface();
  std::string out = "<body name=\"cabinet\" mocap=\"true\" pos=\"0 0 0\">\n";
  // Carcass: sides, back, the cupboard under the drawers, dividers, the top.
  // Lifted 2 mm off the floor (the cabinet does not move; no floor contacts).
  const double lift = 0.002;
  const double side_half_z = (bay_floor(3) - lift) / 2;
  for (double side : {-1.0, 1.0}) {
    out += solid_box("", {kDepth / 2, kPanel / 2, side_half_z},
                     {back / 2, side * (half_width - kPanel / 2), lift + side_half_z},
                     "cabinet_carcass");
  }
  out += solid_box("", {kPanel / 2, half_width - kPanel, side_half_z},
                   {back + kPanel / 2, 0, lift + side_half_z}, "cabinet_carcass");
  const double cupboard_half_z = (kCupboardTop - lift) / 2;
  out += solid_box("", {kDepth / 2, half_width - kPanel, cupboard_half_z},
                   {back / 2, 0, lift + cupboard_half_z}, "cabinet_carcass");
  // Cupboard door seams (visual).
  out += box_geom("", {0.001, 0.002, cupboard_half_z - 0.03}, {0.001, 0, lift + cupboard_half_z},
                  "cabinet_inside", false);
  for (int level = 0; level < 3; ++level) {
    const double z = bay_floor(level) - kPanel / 2;
    out += solid_box("", {kDepth / 2, half_width - kPanel, kPanel / 2}, {back / 2, 0, z},
                     "cabinet_carcass");
  }
  out += solid_box("cabinet_top", {(kDepth + kTopOverhang) / 2, half_width + 0.01, kTopSlab / 2},
                   {(back + kTopOverhang) / 2, 0, top_z - kTopSlab / 2}, "cabinet_carcass");

  // Drawers: bodies at their bay floor, x = 0 at the closed front face.
  const double drawer_half_width = half_width - kPanel - kClearance;
  const double box_half_depth = (kDrawerDepth - kFront) / 2;
  const double box_center_x = -kFront - box_half_depth;
  const double wall_half_z = kDrawerWallHeight / 2;
  const double wall_z = kClearance + wall_half_z;
  for (int level = 0; level < 3; ++level) {
    const std::string drawer = std::string("cabinet_") + kLevelNames[level] + "_drawer";
    out += "<body name=\"" + drawer + "\" pos=\"0 0 " + num(bay_floor(level)) + "\">\n";
    out += "<joint name=\"" + drawer + "_joint\" type=\"slide\" axis=\"1 0 0\" range=\"0 " +
           num(kDrawerTravel) + "\" damping=\"4\" frictionloss=\"0.3\" armature=\"0.05\"/>\n";
    // Front panel, bottom, two sides, back.
    out += solid_box("", {kFront / 2, drawer_half_width, kBay / 2 - kClearance},
                     {-kFront / 2, 0, kBay / 2}, "cabinet_front");
    out += solid_box(drawer + "_bottom", {box_half_depth, drawer_half_width, kDrawerWall / 2},
                     {box_center_x, 0, kClearance + kDrawerWall / 2}, "cabinet_inside");
    for (double side : {-1.0, 1.0}) {
      out += solid_box("", {box_half_depth, kDrawerWall / 2, wall_half_z},
                       {box_center_x, side * (drawer_half_width - kDrawerWall / 2), wall_z},
                       "cabinet_inside");
    }
    out += solid_box("", {kDrawerWall / 2, drawer_half_width, wall_half_z},
                     {-kDrawerDepth + kDrawerWall / 2, 0, wall_z}, "cabinet_inside");
    // Handle: a bar along y on two posts.
    const double handle_z = handle_height(level) - bay_floor(level);
    const double post_half_x = (kHandleReach - look.handle_radius) / 2;
    out += "<geom type=\"capsule\" size=\"" + nums({look.handle_radius, look.handle_half_length}) +
           "\" pos=\"" + nums({kHandleReach, 0, handle_z}) +
           "\" quat=\"0.7071068 0.7071068 0 0\" group=\"3\" contype=\"1\" conaffinity=\"1\" "
           "condim=\"4\" friction=\"1 0.005 0.0001\" density=\"2000\"/>\n";
    out += "<geom type=\"capsule\" size=\"" + nums({look.handle_radius, look.handle_half_length}) +
           "\" pos=\"" + nums({kHandleReach, 0, handle_z}) +
           "\" quat=\"0.7071068 0.7071068 0 0\" group=\"1\" contype=\"0\" conaffinity=\"0\" "
           "density=\"0\" material=\"cabinet_handle\"/>\n";
    for (double side : {-1.0, 1.0}) {
      out += solid_box("", {post_half_x, 0.005, 0.005},
                       {post_half_x, side * (look.handle_half_length - 0.005), handle_z},
                       "cabinet_handle");
    }
    out += "<site name=\"cabinet_" + std::string(kLevelNames[level]) +
           "_handle\" type=\"sphere\" size=\"0.006\" pos=\"" + nums({kHandleReach, 0, handle_z}) +
           "\" group=\"5\" rgba=\"0.2 0.8 0.2 0.5\"/>\n";
    out += "<site name=\"cabinet_" + std::string(kLevelNames[level]) +
           "_floor\" type=\"sphere\" size=\"0.006\" pos=\"" +
           nums({box_center_x, 0, kClearance + kDrawerWall}) +
           "\" group=\"5\" rgba=\"0.2 0.8 0.2 0.5\"/>\n";
    out += "</body>\n";
  }
  return out + "</body>\n";
}

// ---------------------------------------------------------------------------
// The environment.

class FractalDrawerEnv : public EpisodeEnv {
 public:
  FractalDrawerEnv(std::shared_ptr<const TaskDefinition> task, envs::EnvSettings settings);

  const envs::Observation& reset(
      int episode, const std::map<std::string, envs::CameraPerturbation>& cameras) override;
  StepResult step(const envs::Action& action) override;
  bool goal_holds() const override;
  envs::Env& env() override { return env_; }
  const TaskDefinition& task() const override { return *task_; }
  const std::map<std::string, double>& metrics() const override { return metrics_; }

 private:
  static std::string scene_mjcf(const TaskDefinition& task, const DrawerTaskFacts& facts);
  static envs::EnvSettings with_family_settings(envs::EnvSettings settings);
  int id(mjtObj type, const std::string& name) const;
  // Whether the apple touches geom `geom`, or (geom < 0) either finger.
  bool apple_touches(int geom) const;
  // Hints and instruction from the current state; counts apple contacts.
  void publish(bool count_contacts);

  std::shared_ptr<const TaskDefinition> task_;
  DrawerTaskFacts facts_;
  envs::Env env_;
  std::map<std::string, double> metrics_;
  // Model ids.
  int cabinet_body_ = -1, cabinet_mocap_ = -1, joint_qpos_ = -1, handle_site_ = -1,
      floor_site_ = -1;
  int top_joint_qpos_ = -1, top_bottom_geom_ = -1;
  int apple_body_ = -1, apple_qpos_ = -1, finger_body_[2] = {-1, -1};
  int base_body_ = -1, shoulder_body_ = -1, elbow_body_ = -1, wrist_body_ = -1, grip_site_ = -1;
  std::array<int, 7> arm_qpos_{};
  std::array<int, 2> finger_qpos_{};
  std::array<int, 3> drawer_qpos_{};
  const FractalObjectInfo* apple_info_ = nullptr;  // apple task only
  // Episode state.
  int apple_contact_steps_ = 0;
  bool grasped_ = false;
  // Hint entries, created once so that steps do not allocate.
  envs::Pose *handle_ = nullptr, *pull_ = nullptr, *place_ = nullptr, *cabinet_ = nullptr,
             *shoulder_ = nullptr;
  double *joint_position_ = nullptr, *joint_goal_ = nullptr, *top_z_ = nullptr,
         *apple_rest_ = nullptr, *apple_radius_ = nullptr, *level_ = nullptr, *arm_reach_ = nullptr,
         *tcp_offset_ = nullptr;
  double* grasp_metric_ = nullptr;
};

envs::EnvSettings FractalDrawerEnv::with_family_settings(envs::EnvSettings settings) {
  settings.control = envs::ArmControl::kIk;
  settings.ik.max_delta_position = 1.0;  // actions are metres
  settings.ik.max_delta_rotation = 1.0;  // and radians
  settings.substeps = kSubsteps;
  settings.render.width = kFractalImageWidth;
  settings.render.height = kFractalImageHeight;
  settings.robot_prefix = "robot0_";
  // Policies name the camera "agentview" or "image"; the scene calls it overhead_camera.
  settings.camera_aliases.emplace("agentview", "overhead_camera");
  settings.camera_aliases.emplace("image", "overhead_camera");
  return settings;
}

std::string FractalDrawerEnv::scene_mjcf(const TaskDefinition& task, const DrawerTaskFacts& facts) {
  const std::vector<std::string> cabinets = fractal_cabinet_variants();
  const bool cabinet_variant =
      std::find(cabinets.begin(), cabinets.end(), task.variant) != cabinets.end();
  if (!cabinet_variant && !is_fractal_scene_variant(task.variant)) {
    std::string valid;
    for (const auto& v : fractal_scene_variants()) valid += "'" + v + "' ";
    for (const auto& v : cabinets) valid += "'" + v + "' ";
    throw std::runtime_error("task " + task.key + ": unknown drawer scene variant '" +
                             task.variant + "' (valid: " + valid + ")");
  }
  FractalSceneSettings scene;
  scene.variant = cabinet_variant ? "" : task.variant;
  scene.table = false;
  scene.robot.base_position = {kModelBase.x, kModelBase.y, 0};
  scene.robot.base_yaw = kModelBase.yaw;
  const CabinetLook look = cabinet_look(cabinet_variant ? task.variant : "");
  scene.assets = cabinet_assets(look);
  // A side view of the robot and the cabinet (for reviewing episodes; not an observation camera).
  scene.worldbody =
      cabinet_body(look) +
      "<camera name=\"drawer_side_camera\" pos=\"0.45 -1.9 0.95\" xyaxes=\"1 0 0 0 0 1\" "
      "fovy=\"45\"/>\n";
  if (facts.kind == DrawerTaskKind::kApple) {
    const FractalObjectInfo& apple = fractal_object_info("apple");
    scene.worldbody += fractal_object_body("apple", "apple", {0, 0, 2.0}, apple.rest_quat);
  }
  try {
    return fractal_scene_mjcf(scene);
  } catch (const std::runtime_error& error) {
    throw std::runtime_error("task " + task.key + ": " + error.what());
  }
}

FractalDrawerEnv::FractalDrawerEnv(std::shared_ptr<const TaskDefinition> task,
                                   envs::EnvSettings settings)
    : task_(std::move(task)),
      facts_(facts_of(*task_)),
      env_(scene_mjcf(*task_, facts_), with_family_settings(std::move(settings))) {
  const mjModel* m = env_.model();
  cabinet_body_ = id(mjOBJ_BODY, "cabinet");
  cabinet_mocap_ = m->body_mocapid[cabinet_body_];
  const std::string level = kLevelNames[facts_.level];
  joint_qpos_ = m->jnt_qposadr[id(mjOBJ_JOINT, "cabinet_" + level + "_drawer_joint")];
  handle_site_ = id(mjOBJ_SITE, "cabinet_" + level + "_handle");
  floor_site_ = id(mjOBJ_SITE, "cabinet_" + level + "_floor");
  top_joint_qpos_ = m->jnt_qposadr[id(mjOBJ_JOINT, "cabinet_top_drawer_joint")];
  top_bottom_geom_ = id(mjOBJ_GEOM, "cabinet_top_drawer_bottom");
  for (int i = 0; i < 3; ++i) {
    drawer_qpos_[i] =
        m->jnt_qposadr[id(mjOBJ_JOINT, std::string("cabinet_") + kLevelNames[i] + "_drawer_joint")];
  }
  const std::string& prefix = env_.settings().robot_prefix;
  for (int i = 0; i < 7; ++i) {
    arm_qpos_[i] = m->jnt_qposadr[id(mjOBJ_JOINT, prefix + "joint" + std::to_string(i + 1))];
  }
  for (int i = 0; i < 2; ++i) {
    finger_qpos_[i] =
        m->jnt_qposadr[id(mjOBJ_JOINT, prefix + "finger_joint" + std::to_string(i + 1))];
    finger_body_[i] = id(mjOBJ_BODY, prefix + "finger" + std::to_string(i + 1));
  }
  base_body_ = id(mjOBJ_BODY, prefix + "base");
  shoulder_body_ = id(mjOBJ_BODY, prefix + "link2");
  elbow_body_ = id(mjOBJ_BODY, prefix + "link4");
  wrist_body_ = id(mjOBJ_BODY, prefix + "link6");
  grip_site_ = id(mjOBJ_SITE, prefix + "grip_site");
  if (facts_.kind == DrawerTaskKind::kApple) {
    apple_body_ = id(mjOBJ_BODY, "apple");
    apple_info_ = &fractal_object_info("apple");
    apple_qpos_ = m->jnt_qposadr[id(mjOBJ_JOINT, "apple_joint")];
    env_.track_bodies({"apple"});
    metrics_["grasp"] = 0;
    grasp_metric_ = &metrics_["grasp"];
  }

  envs::Observation& observation = env_.observation();
  handle_ = &observation.privileged["handle"];
  pull_ = &observation.privileged["pull"];
  place_ = &observation.privileged["place"];
  cabinet_ = &observation.privileged["cabinet"];
  shoulder_ = &observation.privileged["shoulder"];
  arm_reach_ = &observation.privileged_values["arm_reach"];
  tcp_offset_ = &observation.privileged_values["tcp_offset"];
  joint_position_ = &observation.privileged_values["joint_position"];
  joint_goal_ = &observation.privileged_values["joint_goal"];
  top_z_ = &observation.privileged_values["cabinet_top_z"];
  apple_rest_ = &observation.privileged_values["apple_rest_height"];
  apple_radius_ = &observation.privileged_values["apple_radius"];
  level_ = &observation.privileged_values["drawer_level"];
  switch (facts_.kind) {
    case DrawerTaskKind::kOpen:
      observation.skill = "fractal_open_drawer";
      break;
    case DrawerTaskKind::kClose:
      observation.skill = "fractal_close_drawer";
      break;
    case DrawerTaskKind::kApple:
      observation.skill = "fractal_apple_in_drawer";
      break;
  }
  observation.skill_index = 0;
}

int FractalDrawerEnv::id(mjtObj type, const std::string& name) const {
  const int found = mj_name2id(env_.model(), type, name.c_str());
  if (found < 0) {
    throw std::runtime_error("task " + task_->key + ": drawer scene has no element '" + name + "'");
  }
  return found;
}

const envs::Observation& FractalDrawerEnv::reset(
    int episode, const std::map<std::string, envs::CameraPerturbation>& cameras) {
  if (episode < 0 || episode >= kLayouts) {
    throw std::runtime_error("task " + task_->key + ": episode " + std::to_string(episode) +
                             " out of range 0.." + std::to_string(kLayouts - 1));
  }
  const bool apple = facts_.kind == DrawerTaskKind::kApple;
  // The layout's base pose in SimplerEnv's frame, and the cabinet there.
  const Pose2 layout = apple ? kBasePoses[kApplePoses[episode / 9]] : kBasePoses[episode / 3];
  const double turn = apple ? 0 : kTurns[episode % 3];
  const Pose2 base{layout.x, layout.y, kPi + layout.yaw + turn};
  // Simulated world = model base o base^-1 o SimplerEnv world.
  const Pose2 to_model = compose(kModelBase, inverse(base));
  const Pose2 cabinet = compose(to_model, {kCabinetFrontX, kCabinetCenterY, 0});

  const mjModel* m = env_.model();
  envs::ResetSpec spec;
  spec.qpos.assign(m->qpos0, m->qpos0 + m->nq);
  const std::array<double, 7>& arm = apple ? kAppleInitQpos : kDrawerInitQpos;
  for (int i = 0; i < 7; ++i) spec.qpos[arm_qpos_[i]] = arm[i];
  for (int i = 0; i < 2; ++i) spec.qpos[finger_qpos_[i]] = envs::kGoogleRobotFingerOpen;
  for (int i = 0; i < 3; ++i) spec.qpos[drawer_qpos_[i]] = 0;
  if (facts_.kind == DrawerTaskKind::kClose) spec.qpos[joint_qpos_] = kDrawerCloseStart;
  if (apple) {
    const FractalObjectInfo& info = fractal_object_info("apple");
    const int cell = episode % 9;
    const Pose2 spot = compose(
        to_model, {kCabinetFrontX + kAppleX[cell / 3], kCabinetCenterY + kAppleY[cell % 3], 0});
    double* q = spec.qpos.data() + apple_qpos_;
    q[0] = spot.x;
    q[1] = spot.y;
    q[2] = top_surface() + info.rest_height + 0.0005;
    std::copy(info.rest_quat.begin(), info.rest_quat.end(), q + 3);
  }
  spec.cameras = cameras;
  spec.instruction = task_->instruction;
  env_.reset(spec);

  // Place the cabinet (a mocap body), then refresh the state and observation.
  mjData* d = env_.mutable_data();
  d->mocap_pos[3 * cabinet_mocap_ + 0] = cabinet.x;
  d->mocap_pos[3 * cabinet_mocap_ + 1] = cabinet.y;
  d->mocap_pos[3 * cabinet_mocap_ + 2] = 0;
  d->mocap_quat[4 * cabinet_mocap_ + 0] = std::cos(cabinet.yaw / 2);
  d->mocap_quat[4 * cabinet_mocap_ + 1] = 0;
  d->mocap_quat[4 * cabinet_mocap_ + 2] = 0;
  d->mocap_quat[4 * cabinet_mocap_ + 3] = std::sin(cabinet.yaw / 2);
  mj_forward(m, d);
  apple_contact_steps_ = 0;
  grasped_ = false;
  if (grasp_metric_) *grasp_metric_ = 0;
  publish(false);
  return env_.observe();
}

StepResult FractalDrawerEnv::step(const envs::Action& action) {
  env_.step(action);
  publish(true);
  return {&env_.observation(), goal_holds()};
}

bool FractalDrawerEnv::apple_touches(int geom) const {
  const mjModel* m = env_.model();
  const mjData* d = env_.data();
  for (int i = 0; i < d->ncon; ++i) {
    const mjContact& contact = d->contact[i];
    int other = -1;
    if (m->geom_bodyid[contact.geom1] == apple_body_) other = contact.geom2;
    if (m->geom_bodyid[contact.geom2] == apple_body_) other = contact.geom1;
    if (other < 0) continue;
    const int body = m->geom_bodyid[other];
    if (geom >= 0 ? other == geom : body == finger_body_[0] || body == finger_body_[1]) return true;
  }
  return false;
}

void FractalDrawerEnv::publish(bool count_contacts) {
  const mjModel* m = env_.model();
  const mjData* d = env_.data();
  envs::Observation& observation = env_.observation();
  const double q = d->qpos[joint_qpos_];
  *joint_position_ = q;
  switch (facts_.kind) {
    case DrawerTaskKind::kOpen:
    case DrawerTaskKind::kApple:
      // Open enough for success (and, apple task, for the apple to pass the
      // gap), no further: the arm stays clear of the torso at near layouts.
      *joint_goal_ = facts_.kind == DrawerTaskKind::kOpen ? 0.19 : 0.17;
      break;
    case DrawerTaskKind::kClose:
      *joint_goal_ = 0.01;
      break;
  }
  *level_ = facts_.level;
  *top_z_ = top_surface();
  // The handle bar's centre; pull = the cabinet's x axis (the drawers open along it).
  std::copy(d->site_xpos + 3 * handle_site_, d->site_xpos + 3 * handle_site_ + 3,
            handle_->position.begin());
  const double* quat = d->mocap_quat + 4 * cabinet_mocap_;
  std::copy(quat, quat + 4, handle_->quaternion.begin());
  const double* xmat = d->xmat + 9 * cabinet_body_;
  pull_->position = {xmat[0], xmat[3], xmat[6]};
  std::copy(d->mocap_pos + 3 * cabinet_mocap_, d->mocap_pos + 3 * cabinet_mocap_ + 3,
            cabinet_->position.begin());
  std::copy(quat, quat + 4, cabinet_->quaternion.begin());
  // The arm: shoulder centre, shoulder-to-wrist reach, wrist-to-TCP offset.
  auto point = [&](int body) { return d->xpos + 3 * body; };
  std::copy(point(shoulder_body_), point(shoulder_body_) + 3, shoulder_->position.begin());
  std::copy(d->xquat + 4 * base_body_, d->xquat + 4 * base_body_ + 4,
            shoulder_->quaternion.begin());
  *arm_reach_ = mju_dist3(point(shoulder_body_), point(elbow_body_)) +
                mju_dist3(point(elbow_body_), point(wrist_body_));
  *tcp_offset_ = mju_dist3(point(wrist_body_), d->site_xpos + 3 * grip_site_);
  if (facts_.kind != DrawerTaskKind::kApple) return;

  // Apple task: where the apple goes (the middle of the drawer's open gap,
  // resting on its bottom), contacts, grasp, instruction.
  const FractalObjectInfo& info = *apple_info_;
  *apple_rest_ = info.rest_height;
  *apple_radius_ = info.size[0] / 2;
  const double* floor = d->site_xpos + 3 * floor_site_;
  // Along the pull axis: from the top's front edge to the drawer front's inner face.
  const double gap_start = kTopOverhang, gap_end = q - kFront;
  const double along = (gap_start + gap_end) / 2;
  const double* cabinet_pos = d->mocap_pos + 3 * cabinet_mocap_;
  // Floor site in the cabinet frame along x, to re-centre the place point in the gap.
  const double floor_along =
      (floor[0] - cabinet_pos[0]) * xmat[0] + (floor[1] - cabinet_pos[1]) * xmat[3];
  for (int i = 0; i < 2; ++i) {
    place_->position[i] = floor[i] + (along - floor_along) * (i == 0 ? xmat[0] : xmat[3]);
  }
  place_->position[2] = floor[2] + info.rest_height;
  std::copy(quat, quat + 4, place_->quaternion.begin());

  if (count_contacts && apple_touches(top_bottom_geom_)) ++apple_contact_steps_;
  if (apple_touches(-1)) {
    // Both fingers on the apple.
    bool first = false, second = false;
    for (int i = 0; i < d->ncon; ++i) {
      const mjContact& contact = d->contact[i];
      const int b1 = m->geom_bodyid[contact.geom1], b2 = m->geom_bodyid[contact.geom2];
      const int other = b1 == apple_body_ ? b2 : (b2 == apple_body_ ? b1 : -1);
      first = first || other == finger_body_[0];
      second = second || other == finger_body_[1];
    }
    if (first && second) grasped_ = true;
  }
  *grasp_metric_ = grasped_ ? 1 : 0;
  // SimplerEnv: "open top drawer" until the drawer is open, then the placing instruction.
  const bool opened = d->qpos[top_joint_qpos_] > kDrawerOpened;
  observation.instruction = opened ? "place apple into top drawer" : "open top drawer";
}

bool FractalDrawerEnv::goal_holds() const {
  const double q = env_.data()->qpos[joint_qpos_];
  switch (facts_.kind) {
    case DrawerTaskKind::kOpen:
      return q >= kDrawerOpenSuccess;
    case DrawerTaskKind::kClose:
      return q <= kDrawerCloseSuccess;
    case DrawerTaskKind::kApple:
      return q > kDrawerOpened && apple_contact_steps_ >= kAppleContactSteps;
  }
  return false;
}

}  // namespace

std::vector<TaskDefinition> fractal_drawer_tasks() {
  std::vector<TaskDefinition> tasks;
  for (const DrawerTaskFacts& facts : kDrawerTasks) {
    TaskDefinition task;
    task.family = "fractal";
    task.name = facts.name;
    const std::string level = kLevelNames[facts.level];
    switch (facts.kind) {
      case DrawerTaskKind::kOpen:
        task.instruction = "open " + level + " drawer";
        break;
      case DrawerTaskKind::kClose:
        task.instruction = "close " + level + " drawer";
        break;
      case DrawerTaskKind::kApple:
        task.instruction = "open " + level + " drawer";
        break;
    }
    task.episodes = kLayouts;
    task.group = facts.kind == DrawerTaskKind::kApple ? "apple_in_drawer" : "drawer";
    task.protocol.max_steps = facts.kind == DrawerTaskKind::kApple ? kAppleSteps : kDrawerSteps;
    task.protocol.wait_steps = 0;
    task.protocol.episodes_per_task = kLayouts;
    task.protocol.control_hz = kControlHz;
    tasks.push_back(std::move(task));
  }
  return tasks;
}

std::vector<std::string> fractal_cabinet_variants() { return {"cabinet_1", "cabinet_2"}; }

std::unique_ptr<EpisodeEnv> make_fractal_drawer_env(std::shared_ptr<const TaskDefinition> task,
                                                    envs::EnvSettings settings) {
  if (!task) throw std::runtime_error("make_fractal_drawer_env: no task");
  return std::make_unique<FractalDrawerEnv>(std::move(task), std::move(settings));
}

}  // namespace tasks::simpler
