#include "tasks/simpler/bridge.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <stdexcept>
#include <utility>

#include "envs/mjcf_text.h"
#include "envs/widowx.h"

namespace tasks::simpler {
namespace {

using Vec3 = std::array<double, 3>;
using Quat = std::array<double, 4>;  // w, x, y, z

constexpr double kPi = std::numbers::pi;
constexpr double kTableTop = 0.87;      // m, the Bridge table's surface
constexpr double kSinkTableTop = 0.85;  // m, the sink scene's table surface
constexpr double kSinkFloor = 0.04;     // m, basin floors above the sink's base
constexpr double kSinkWall = 0.10;      // m, the sink's rim above its base
constexpr double kSettleSeconds = 0.6;  // s of physics that settles a fresh layout
const Vec3 kSinkCenter{-0.16, 0.13, kSinkTableTop};
const Vec3 kBasketCenter{-0.125, 0.025, kSinkTableTop + kSinkFloor};

std::string num(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.6g", std::abs(value) < 1e-12 ? 0.0 : value);
  return buffer;
}
std::string nums(const Vec3& v) { return num(v[0]) + " " + num(v[1]) + " " + num(v[2]); }
std::string nums(const Quat& q) {
  return num(q[0]) + " " + num(q[1]) + " " + num(q[2]) + " " + num(q[3]);
}
Quat about_z(double angle) { return {std::cos(angle / 2), 0, 0, std::sin(angle / 2)}; }

// One geom of an object: a box, capsule, ellipsoid or cylinder in the body frame.
struct Shape {
  std::string type;
  Vec3 size;
  Vec3 pos{};
  Quat quat{1, 0, 0, 0};
  std::string material;
  bool collide = true;  // a collision geom (group 3) besides the visual one (group 1)
};

// Writes geoms of one body: visual copies in group 1, collision ones in group 3.
std::string shapes_xml(const std::string& name, const std::vector<Shape>& shapes, double density,
                       const std::string& contact) {
  std::string out;
  int collision = 0, visual = 0;
  for (const Shape& s : shapes) {
    std::string shape =
        "type=\"" + s.type + "\" size=\"" + nums(s.size) + "\" pos=\"" + nums(s.pos) + "\"";
    if (s.quat != Quat{1, 0, 0, 0}) shape += " quat=\"" + nums(s.quat) + "\"";
    if (s.collide) {
      out += "<geom name=\"" + name + "_g" + std::to_string(collision++) + "\" " + shape +
             " group=\"3\" " + contact + " density=\"" + num(density) + "\"/>\n";
    }
    if (!s.material.empty()) {
      out += "<geom name=\"" + name + "_v" + std::to_string(visual++) + "\" " + shape +
             " group=\"1\" contype=\"0\" conaffinity=\"0\" mass=\"0\" material=\"" + s.material +
             "\"/>\n";
    }
  }
  return out;
}

const std::string kObjectContact =
    "contype=\"1\" conaffinity=\"1\" condim=\"4\" friction=\"0.8 0.01 0.0001\"";
const std::string kFixtureContact = "contype=\"1\" conaffinity=\"1\" condim=\"3\" friction=\"0.8\"";

// A free object: its shapes, density, the half extents of its box (centred on
// the body origin; the success rule's box) and where the gripper takes it.
struct ObjectSpec {
  std::string name;
  std::vector<Shape> shapes;
  double density;
  Vec3 half;
  Vec3 grasp{};  // TCP point when closing, body frame (z measured from the origin)
};

ObjectSpec spoon() {
  // A toy spoon: a flat bowl at +x and a handle, grasped across the handle.
  return {"spoon",
          {{"box", {0.025, 0.0165, 0.008}, {0.045, 0, 0}, {1, 0, 0, 0}, "", true},
           {"box", {0.045, 0.0075, 0.006}, {-0.025, 0, -0.002}, {1, 0, 0, 0}, "", true},
           {"ellipsoid", {0.027, 0.0175, 0.008}, {0.045, 0, 0}, {1, 0, 0, 0}, "spoon_mat", false},
           {"box", {0.045, 0.0072, 0.0058}, {-0.025, 0, -0.002}, {1, 0, 0, 0}, "spoon_mat", false}},
          1200,
          {0.07, 0.0165, 0.008},
          {-0.01, 0, 0}};
}

ObjectSpec towel() {
  return {"towel",
          {{"box", {0.05, 0.05, 0.005}, {}, {1, 0, 0, 0}, "towel_mat", true}},
          330,
          {0.05, 0.05, 0.005}};
}

ObjectSpec carrot() {
  // Body, tapering tip at +x, leaves at -x; flat-sided so it lies still.
  const Quat along_x{0.7071068, 0, 0.7071068, 0};
  return {
      "carrot",
      {{"box", {0.04, 0.015, 0.015}, {-0.005, 0, 0}, {1, 0, 0, 0}, "", true},
       {"box", {0.0125, 0.009, 0.009}, {0.0475, 0, -0.006}, {1, 0, 0, 0}, "", true},
       {"box", {0.008, 0.008, 0.008}, {-0.052, 0, 0}, {1, 0, 0, 0}, "", true},
       {"capsule", {0.0155, 0.035, 0}, {-0.008, 0, 0}, along_x, "carrot_mat", false},
       {"capsule", {0.01, 0.014, 0}, {0.042, 0, -0.004}, along_x, "carrot_mat", false},
       {"box", {0.012, 0.006, 0.004}, {-0.05, 0.004, 0.004}, {1, 0, 0, 0}, "leaf_mat", false},
       {"box", {0.012, 0.004, 0.006}, {-0.05, -0.004, -0.002}, {1, 0, 0, 0}, "leaf_mat", false}},
      700,
      {0.06, 0.0155, 0.015}};
}

ObjectSpec plate() {
  // Four flat boxes at 45 degree steps make a near-round plate that lies flat.
  const double radius = 0.055, half_z = 0.003;
  ObjectSpec spec{"plate", {}, 1000, {radius, radius, half_z}};
  for (int i = 0; i < 4; ++i) {
    spec.shapes.push_back({"box",
                           {radius * std::cos(kPi / 8), radius * std::sin(kPi / 8), half_z},
                           {},
                           about_z(i * kPi / 4),
                           "",
                           true});
  }
  spec.shapes.push_back({"cylinder", {radius, half_z, 0}, {}, {1, 0, 0, 0}, "plate_mat", false});
  spec.shapes.push_back(
      {"cylinder", {0.035, 0.0005, 0}, {0, 0, half_z}, {1, 0, 0, 0}, "plate_center_mat", false});
  return spec;
}

ObjectSpec block(const std::string& name, const std::string& material) {
  return {name,
          {{"box", {0.015, 0.015, 0.015}, {}, {1, 0, 0, 0}, material, true}},
          1000,
          {0.015, 0.015, 0.015}};
}

ObjectSpec eggplant() {
  const Quat along_x{0.7071068, 0, 0.7071068, 0};
  return {
      "eggplant",
      {{"box", {0.026, 0.0185, 0.0185}, {0.005, 0, 0}, {1, 0, 0, 0}, "", true},
       {"box", {0.009, 0.012, 0.012}, {-0.03, 0, -0.0065}, {1, 0, 0, 0}, "", true},
       {"ellipsoid", {0.032, 0.0185, 0.0185}, {0.007, 0, 0}, {1, 0, 0, 0}, "eggplant_mat", false},
       {"ellipsoid",
        {0.014, 0.012, 0.012},
        {-0.022, 0, -0.0065},
        {1, 0, 0, 0},
        "eggplant_mat",
        false},
       {"cylinder", {0.009, 0.005, 0}, {-0.034, 0, -0.0055}, along_x, "leaf_mat", false}},
      400,
      {0.039, 0.0185, 0.0185}};
}

// The toy sink: a base slab, outer walls, a divider between the right basin
// (the eggplant's) and the left one, and a tap; plus the yellow basket.
std::string sink_xml() {
  const double hx = 0.135, hy = 0.197, t = 0.02;
  const double wall_z = (kSinkFloor + kSinkWall) / 2, wall_h = (kSinkWall - kSinkFloor) / 2;
  std::vector<Shape> shapes = {
      {"box", {hx, hy, kSinkFloor / 2}, {0, 0, kSinkFloor / 2}, {1, 0, 0, 0}, "sink_mat", true},
      {"box", {hx, t / 2, wall_h}, {0, hy - t / 2, wall_z}, {1, 0, 0, 0}, "sink_mat", true},
      {"box", {hx, t / 2, wall_h}, {0, -hy + t / 2, wall_z}, {1, 0, 0, 0}, "sink_mat", true},
      {"box", {t / 2, hy, wall_h}, {hx - t / 2, 0, wall_z}, {1, 0, 0, 0}, "sink_mat", true},
      {"box", {t / 2, hy, wall_h}, {-hx + t / 2, 0, wall_z}, {1, 0, 0, 0}, "sink_mat", true},
      // Divider at local y -0.0275 between the basins, lower than the rim.
      {"box", {hx, 0.0075, 0.02}, {0, -0.0275, kSinkFloor + 0.02}, {1, 0, 0, 0}, "sink_mat", true},
      // Basin floors, a little darker.
      {"box", {hx - t, 0.09, 0.0005}, {0, 0.085, kSinkFloor}, {1, 0, 0, 0}, "basin_mat", false},
      // Tap at the far side.
      {"box",
       {0.012, 0.012, 0.05},
       {-hx + 0.012, 0.09, kSinkWall + 0.05},
       {1, 0, 0, 0},
       "tap_mat",
       true},
      {"box",
       {0.04, 0.008, 0.008},
       {-hx + 0.05, 0.09, kSinkWall + 0.092},
       {1, 0, 0, 0},
       "tap_mat",
       true},
  };
  std::string out = "<body name=\"sink\" pos=\"" + nums(kSinkCenter) + "\">\n" +
                    shapes_xml("sink", shapes, 500, kFixtureContact) + "</body>\n";
  // Basket: floor and four walls (convex boxes), yellow; region site on its floor.
  const double bx = 0.075, by = 0.055, bt = 0.006, bh = 0.045;
  std::vector<Shape> basket = {
      {"box", {bx, by, bt / 2}, {0, 0, bt / 2}, {1, 0, 0, 0}, "basket_mat", true},
      {"box", {bx, bt / 2, bh / 2}, {0, by - bt / 2, bh / 2}, {1, 0, 0, 0}, "basket_mat", true},
      {"box", {bx, bt / 2, bh / 2}, {0, -by + bt / 2, bh / 2}, {1, 0, 0, 0}, "basket_mat", true},
      {"box", {bt / 2, by, bh / 2}, {bx - bt / 2, 0, bh / 2}, {1, 0, 0, 0}, "basket_mat", true},
      {"box", {bt / 2, by, bh / 2}, {-bx + bt / 2, 0, bh / 2}, {1, 0, 0, 0}, "basket_mat", true},
  };
  out += "<body name=\"basket\" pos=\"" + nums(kBasketCenter) + "\">\n" +
         shapes_xml("basket", basket, 500, kFixtureContact) +
         "<site name=\"basket_region\" type=\"box\" size=\"0.065 0.04 0.001\" pos=\"0 0 " +
         num(bt + 0.001) + "\" group=\"5\" rgba=\"0.2 0.8 0.2 0.3\"/>\n</body>\n";
  return out;
}

std::string object_body(const ObjectSpec& spec) {
  return "<body name=\"" + spec.name + "\" pos=\"0 0 2\">\n<freejoint name=\"" + spec.name +
         "_joint\"/>\n" + shapes_xml(spec.name, spec.shapes, spec.density, kObjectContact) +
         "</body>\n";
}

// The four tasks' facts.
struct TaskFacts {
  const char* name;
  const char* instruction;
  int max_steps;
};
constexpr std::array<TaskFacts, 4> kTasks = {{
    {"put_spoon_on_towel", "put the spoon on the towel", 60},
    {"put_carrot_on_plate", "put carrot on plate", 60},
    {"stack_green_block_on_yellow_block", "stack the green block on the yellow block", 60},
    {"put_eggplant_in_basket", "put eggplant into yellow basket", 120},
}};

int task_index(const std::string& name) {
  for (size_t i = 0; i < kTasks.size(); ++i) {
    if (name == kTasks[i].name) return int(i);
  }
  std::string valid;
  for (const TaskFacts& facts : kTasks)
    valid += std::string(valid.empty() ? "" : ", ") + facts.name;
  throw std::runtime_error("unknown Bridge task '" + name + "' (valid: " + valid + ")");
}

// The four corners of a square of half edge `half` around (-0.16, 0), in
// SimplerEnv's order, as ordered (source, target) pairs of different corners.
void corner_pairs(double half,
                  std::vector<std::pair<std::array<double, 2>, std::array<double, 2>>>* pairs) {
  const std::array<std::array<int, 2>, 4> signs = {{{-1, -1}, {-1, 1}, {1, -1}, {1, 1}}};
  std::array<std::array<double, 2>, 4> corners;
  for (int i = 0; i < 4; ++i) corners[i] = {-0.16 + signs[i][0] * half, signs[i][1] * half};
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 4; ++j) {
      if (i != j) pairs->push_back({corners[i], corners[j]});
    }
  }
}

std::string scene_xml(int kind) {
  const bool sink = kind == 3;
  envs::WidowXSettings robot_settings;
  if (sink) robot_settings.base_position = {0.127, 0.06, kSinkTableTop};
  const envs::MjcfParts robot = envs::widowx_mjcf(robot_settings);
  const double top = sink ? kSinkTableTop : kTableTop;

  std::string objects;
  switch (kind) {
    case 0:
      objects = object_body(spoon()) + object_body(towel());
      break;
    case 1:
      objects = object_body(carrot()) + object_body(plate());
      break;
    case 2:
      objects = object_body(block("green_block", "green_mat")) +
                object_body(block("yellow_block", "yellow_mat"));
      break;
    default:
      objects = object_body(eggplant()) + sink_xml();
      break;
  }
  // Third-person camera as in SimplerEnv (relative to the base, which faces
  // -x): 42.1 degrees vertical field of view (fy 623.6 px at 480 px).
  const Vec3 camera = sink ? Vec3{0.13, 0.27, 1.24} : Vec3{0.147, 0.188, 1.23};
  const std::string axes = sink ? "-0.410365 0.911921 0 -0.630683 -0.283808 0.722282"
                                : "-0.483933 0.875105 0 -0.602558 -0.333214 0.725184";
  std::string xml =
      "<mujoco model=\"bridge\">\n"
      "<compiler angle=\"radian\" autolimits=\"true\"/>\n"
      "<option timestep=\"0.002\" cone=\"elliptic\" impratio=\"10\"/>\n" +
      envs::mjcf::size_element(250) +
      "<visual>\n  <global offwidth=\"640\" offheight=\"480\"/>\n"
      "  <quality shadowsize=\"2048\" offsamples=\"0\"/>\n"
      "  <headlight ambient=\"0.4 0.4 0.4\" diffuse=\"0.4 0.4 0.4\" specular=\"0.1 0.1 0.1\"/>\n"
      "</visual>\n<default>\n" +
      robot.defaults + "</default>\n<asset>\n" + robot.assets +
      "<texture name=\"floor_tex\" type=\"2d\" builtin=\"checker\" rgb1=\"0.42 0.36 0.3\" "
      "rgb2=\"0.38 0.32 0.27\" width=\"256\" height=\"256\"/>\n"
      "<material name=\"floor_mat\" texture=\"floor_tex\" texrepeat=\"8 8\"/>\n"
      "<texture name=\"table_tex\" type=\"2d\" builtin=\"flat\" rgb1=\"0.62 0.5 0.38\" "
      "mark=\"random\" random=\"0.1\" markrgb=\"0.55 0.43 0.32\" width=\"256\" height=\"256\"/>\n"
      "<material name=\"table_mat\" texture=\"table_tex\" texrepeat=\"4 4\" specular=\"0.2\"/>\n"
      "<material name=\"wall_mat\" rgba=\"0.85 0.84 0.8 1\"/>\n"
      "<texture name=\"towel_tex\" type=\"2d\" builtin=\"checker\" rgb1=\"0.25 0.45 0.8\" "
      "rgb2=\"0.9 0.9 0.92\" width=\"64\" height=\"64\"/>\n"
      "<material name=\"towel_mat\" texture=\"towel_tex\" texrepeat=\"3 3\" specular=\"0\"/>\n"
      "<material name=\"spoon_mat\" rgba=\"0.78 0.79 0.8 1\" specular=\"0.8\" shininess=\"0.8\"/>\n"
      "<material name=\"carrot_mat\" rgba=\"0.93 0.45 0.08 1\" specular=\"0.2\"/>\n"
      "<material name=\"leaf_mat\" rgba=\"0.2 0.55 0.15 1\"/>\n"
      "<material name=\"plate_mat\" rgba=\"0.95 0.95 0.93 1\" specular=\"0.5\"/>\n"
      "<material name=\"plate_center_mat\" rgba=\"0.88 0.88 0.86 1\" specular=\"0.5\"/>\n"
      "<material name=\"green_mat\" rgba=\"0.1 0.7 0.2 1\"/>\n"
      "<material name=\"yellow_mat\" rgba=\"0.95 0.85 0.1 1\"/>\n"
      "<material name=\"eggplant_mat\" rgba=\"0.3 0.1 0.35 1\" specular=\"0.6\"/>\n"
      "<material name=\"sink_mat\" rgba=\"0.75 0.76 0.78 1\" specular=\"0.4\"/>\n"
      "<material name=\"basin_mat\" rgba=\"0.6 0.62 0.65 1\"/>\n"
      "<material name=\"tap_mat\" rgba=\"0.55 0.55 0.58 1\" specular=\"0.8\"/>\n"
      "<material name=\"basket_mat\" rgba=\"0.95 0.8 0.1 1\"/>\n"
      "</asset>\n<worldbody>\n"
      "<light name=\"sun\" directional=\"true\" pos=\"0 0 3\" dir=\"0.1 0.1 -1\" "
      "diffuse=\"0.5 0.5 0.5\" specular=\"0.2 0.2 0.2\" castshadow=\"true\"/>\n"
      "<light name=\"fill\" pos=\"0.6 0.6 2\" dir=\"-0.4 -0.4 -1\" diffuse=\"0.2 0.2 0.2\" "
      "castshadow=\"false\"/>\n"
      "<geom name=\"floor\" type=\"plane\" size=\"3 3 0.05\" material=\"floor_mat\"/>\n"
      "<geom name=\"table\" type=\"box\" pos=\"-0.1 0.02 " +
      num(top / 2) + "\" size=\"0.45 0.5 " + num(top / 2) +
      "\" material=\"table_mat\" group=\"1\"/>\n"
      "<geom name=\"back_wall\" type=\"box\" pos=\"-0.62 0 1.2\" size=\"0.02 1.5 1.2\" "
      "material=\"wall_mat\" contype=\"0\" conaffinity=\"0\"/>\n"
      "<geom name=\"side_wall\" type=\"box\" pos=\"0 -0.6 1.2\" size=\"1.5 0.02 1.2\" "
      "material=\"wall_mat\" contype=\"0\" conaffinity=\"0\"/>\n"
      "<camera name=\"3rd_view_camera\" pos=\"" +
      nums(camera) + "\" xyaxes=\"" + axes + "\" fovy=\"42.1\"/>\n" + robot.worldbody + objects +
      "</worldbody>\n<actuator>\n" + robot.actuators + "</actuator>\n<contact>\n" + robot.contacts +
      "</contact>\n<equality>\n" + robot.equalities + "</equality>\n</mujoco>\n";
  return xml;
}

envs::EnvSettings bridge_settings(envs::EnvSettings settings) {
  settings.substeps = 100;  // 5 Hz at 2 ms
  settings.control = envs::ArmControl::kIk;
  settings.ik.gripper_speed = 0.02;  // a full open-close swing over one control step
  settings.render.width = 640;
  settings.render.height = 480;
  settings.camera_aliases.emplace("agentview", "3rd_view_camera");
  return settings;
}

int body_id(const mjModel* m, const std::string& name) {
  const int id = mj_name2id(m, mjOBJ_BODY, name.c_str());
  if (id < 0) throw std::runtime_error("Bridge scene has no body '" + name + "'");
  return id;
}

// World rotation matrix of a body (row-major 3x3).
const double* body_rotation(const mjData* d, int body) { return d->xmat + 9 * body; }

}  // namespace

std::vector<TaskDefinition> bridge_tasks() {
  std::vector<TaskDefinition> tasks;
  for (const TaskFacts& facts : kTasks) {
    TaskDefinition task;
    task.family = "bridge";
    task.name = facts.name;
    task.instruction = facts.instruction;
    task.episodes = kBridgeEpisodes;
    task.protocol.max_steps = facts.max_steps;
    task.protocol.wait_steps = 0;
    task.protocol.episodes_per_task = kBridgeEpisodes;
    task.protocol.control_hz = 5;
    tasks.push_back(std::move(task));
  }
  return tasks;
}

BridgeLayout bridge_layout(const std::string& task_name, int episode) {
  const int kind = task_index(task_name);
  if (episode < 0 || episode >= kBridgeEpisodes) {
    throw std::runtime_error("Bridge task " + task_name + ": episode " + std::to_string(episode) +
                             " out of range 0.." + std::to_string(kBridgeEpisodes - 1));
  }
  BridgeLayout layout;
  if (kind == 3) {
    const std::array<double, 3> yaws = {0, kPi / 4, -kPi / 4};
    const int cell = episode / 3;  // x-major over a 2 x 4 grid
    const double x = -0.105 + (cell / 4 == 0 ? -0.01 : 0.01);
    const double y = 0.206 - 0.015 + 0.01 * (cell % 4);
    layout.source_xy = {x, y};
    layout.target_xy = {kBasketCenter[0], kBasketCenter[1]};
    layout.source_yaw = yaws[episode % 3];
    return layout;
  }
  std::vector<std::pair<std::array<double, 2>, std::array<double, 2>>> pairs;
  std::vector<double> yaws;
  if (kind == 2) {
    corner_pairs(0.05, &pairs);
    corner_pairs(0.1, &pairs);
    yaws = {0};
  } else {
    corner_pairs(0.075, &pairs);
    yaws = kind == 0 ? std::vector<double>{0, kPi / 2} : std::vector<double>{kPi, -kPi / 2};
  }
  const int count = int(yaws.size());
  layout.source_xy = pairs[episode / count].first;
  layout.target_xy = pairs[episode / count].second;
  layout.source_yaw = yaws[episode % count];
  return layout;
}

BridgeEnv::BridgeEnv(std::shared_ptr<const TaskDefinition> task, envs::EnvSettings settings)
    : task_(std::move(task)),
      kind_(task_index(task_ ? task_->name : std::string())),
      env_(scene_xml(kind_), bridge_settings(std::move(settings))) {
  const mjModel* m = env_.model();
  const std::array<std::array<const char*, 2>, 4> names = {{{"spoon", "towel"},
                                                            {"carrot", "plate"},
                                                            {"green_block", "yellow_block"},
                                                            {"eggplant", "basket"}}};
  source_body_ = body_id(m, names[kind_][0]);
  target_body_ = body_id(m, names[kind_][1]);
  source_qpos_ = m->jnt_qposadr[m->body_jntadr[source_body_]];
  if (m->body_jntnum[target_body_] > 0) target_qpos_ = m->jnt_qposadr[m->body_jntadr[target_body_]];
  const std::array<ObjectSpec, 4> sources = {spoon(), carrot(), block("green_block", ""),
                                             eggplant()};
  source_half_ = sources[kind_].half;
  grasp_offset_ = sources[kind_].grasp;
  switch (kind_) {
    case 0:
      target_half_ = towel().half;
      break;
    case 1:
      target_half_ = plate().half;
      break;
    case 2:
      target_half_ = block("yellow_block", "").half;
      break;
    default:
      target_half_ = {0.065, 0.04, 0.001};
      target_site_ = mj_name2id(m, mjOBJ_SITE, "basket_region");
      break;
  }
  contact_rule_ = kind_ == 1 || kind_ == 2;
  z_gap_ = kind_ == 3 ? kBridgeBasketZGap : kBridgeZGap;
  clear_top_ = kind_ == 3 ? kSinkTableTop + kSinkWall : 0;

  const std::string& prefix = env_.settings().robot_prefix;
  robot_body_.assign(m->nbody, 0);
  for (int b = 0; b < m->nbody; ++b) {
    const char* name = mj_id2name(m, mjOBJ_BODY, b);
    robot_body_[b] = name != nullptr && std::string(name).rfind(prefix, 0) == 0;
  }
  left_finger_ = body_id(m, prefix + "leftfinger");
  right_finger_ = body_id(m, prefix + "rightfinger");
  settled_.resize(kBridgeEpisodes);

  envs::Observation& observation = env_.observation();
  observation.instruction = task_->instruction;
  observation.skill = "bridge_pick_place";
  observation.skill_index = 0;
  source_pose_ = &observation.privileged["source"];
  target_pose_ = &observation.privileged["target"];
  grasp_pose_ = &observation.privileged["bridge_grasp"];
  place_pose_ = &observation.privileged["bridge_place"];
  grasp_yaw_ = &observation.privileged_values["bridge_grasp_yaw"];
  grasp_symmetry_ = &observation.privileged_values["bridge_grasp_symmetry"];
  grasped_ = &observation.privileged_values["bridge_grasped"];
  carry_z_ = &observation.privileged_values["bridge_carry_z"];
  hover_z_ = &observation.privileged_values["bridge_hover_z"];
  metrics_["grasp"] = 0;
  grasp_metric_ = &metrics_["grasp"];
}

void BridgeEnv::settle_layout(int episode) {
  const mjModel* m = env_.model();
  const BridgeLayout layout = bridge_layout(task_->name, episode);
  const bool sink = kind_ == 3;
  const std::array<double, 6>& arm = sink ? envs::kWidowXSinkInitQpos : envs::kWidowXInitQpos;
  std::vector<double> qpos(m->qpos0, m->qpos0 + m->nq);
  for (int i = 0; i < 6; ++i) qpos[i] = arm[i];
  qpos[6] = qpos[7] = envs::kWidowXFingerOpen;
  // Objects rest on their support: the table, or the sink's basin floor.
  const double support = sink ? kSinkTableTop + kSinkFloor : kTableTop;
  auto place = [&](int address, const std::array<double, 2>& xy, double half_z, double yaw) {
    const Quat q = about_z(yaw);
    qpos[address] = xy[0];
    qpos[address + 1] = xy[1];
    qpos[address + 2] = support + half_z + 0.0005;
    for (int k = 0; k < 4; ++k) qpos[address + 3 + k] = q[k];
  };
  place(source_qpos_, layout.source_xy, source_half_[2], layout.source_yaw);
  if (target_qpos_ >= 0) place(target_qpos_, layout.target_xy, target_half_[2], 0);
  env_.reset(envs::ResetSpec{qpos, {}, {}, task_->instruction});
  // Let the objects settle with the arm held still, then keep their poses.
  mjData* d = env_.mutable_data();
  for (int i = 0; i < 6; ++i) d->ctrl[i] = arm[i];
  d->ctrl[6] = d->ctrl[7] = envs::kWidowXFingerOpen;
  const int steps = int(kSettleSeconds / m->opt.timestep);
  for (int s = 0; s < steps; ++s) {
    std::copy(qpos.begin(), qpos.begin() + 8, d->qpos);  // the arm stays put
    std::fill(d->qvel, d->qvel + 8, 0.0);
    mj_step(m, d);
  }
  std::vector<double> settled = qpos;
  for (int address : {source_qpos_, target_qpos_}) {
    if (address >= 0)
      std::copy(d->qpos + address, d->qpos + address + 7, settled.begin() + address);
  }
  settled_[episode] = std::move(settled);
}

const envs::Observation& BridgeEnv::reset(
    int episode, const std::map<std::string, envs::CameraPerturbation>& cameras) {
  if (episode < 0 || episode >= kBridgeEpisodes) {
    throw std::runtime_error("Bridge task " + task_->name + ": episode " + std::to_string(episode) +
                             " out of range 0.." + std::to_string(kBridgeEpisodes - 1));
  }
  if (settled_[episode].empty()) settle_layout(episode);
  env_.reset(envs::ResetSpec{settled_[episode], {}, cameras, task_->instruction});
  *grasp_metric_ = 0;
  success_ = false;
  publish();
  return env_.observation();
}

StepResult BridgeEnv::step(const envs::Action& action) {
  const envs::Observation& observation = env_.step(action);
  publish();
  return {&observation, success_};
}

const envs::Observation& BridgeEnv::refresh() {
  mj_forward(env_.model(), env_.mutable_data());
  env_.observe();
  publish();
  return env_.observation();
}

bool BridgeEnv::goal_holds() const { return source_on_target(); }

std::array<double, 3> BridgeEnv::target_center() const {
  const mjData* d = env_.data();
  const double* p =
      target_site_ >= 0 ? d->site_xpos + 3 * target_site_ : d->xpos + 3 * target_body_;
  return {p[0], p[1], p[2]};
}

bool BridgeEnv::source_grasped() const {
  const mjModel* m = env_.model();
  const mjData* d = env_.data();
  bool touched[2] = {false, false};
  const double cos_limit = std::cos(60 * kPi / 180);
  for (int i = 0; i < d->ncon; ++i) {
    const mjContact& contact = d->contact[i];
    const int b1 = m->geom_bodyid[contact.geom1], b2 = m->geom_bodyid[contact.geom2];
    int finger_body = -1;
    double sign = 1;  // normal from the finger to the source
    if (b2 == source_body_ && (b1 == left_finger_ || b1 == right_finger_)) {
      finger_body = b1;
    } else if (b1 == source_body_ && (b2 == left_finger_ || b2 == right_finger_)) {
      finger_body = b2;
      sign = -1;
    }
    if (finger_body < 0) continue;
    mjtNum force[6];
    mj_contactForce(m, d, i, force);
    if (force[0] <= 1e-6) continue;
    // Each finger opens along its body's +y axis, so it presses along -y.
    const double* r = body_rotation(d, finger_body);
    const double closing[3] = {-r[1], -r[4], -r[7]};
    const double along = sign * (contact.frame[0] * closing[0] + contact.frame[1] * closing[1] +
                                 contact.frame[2] * closing[2]);
    if (along >= cos_limit) touched[finger_body == left_finger_ ? 0 : 1] = true;
  }
  return touched[0] && touched[1];
}

bool BridgeEnv::source_on_target() const {
  const mjModel* m = env_.model();
  const mjData* d = env_.data();
  const double* source = d->xpos + 3 * source_body_;
  const std::array<double, 3> target = target_center();
  const double dx = source[0] - target[0], dy = source[1] - target[1], dz = source[2] - target[2];
  if (std::hypot(dx, dy) > std::hypot(target_half_[0], target_half_[1]) + kBridgeXyMargin) {
    return false;
  }
  if (dz <= 0 || dz - target_half_[2] - source_half_[2] > z_gap_) return false;
  if (!contact_rule_) return true;
  for (int i = 0; i < d->ncon; ++i) {
    const mjContact& contact = d->contact[i];
    const int b1 = m->geom_bodyid[contact.geom1], b2 = m->geom_bodyid[contact.geom2];
    int other = -1;
    if (b1 == source_body_) other = b2;
    if (b2 == source_body_) other = b1;
    if (other < 0 || other == target_body_ || robot_body_[other]) continue;
    mjtNum force[6];
    mj_contactForce(m, d, i, force);
    if (force[0] > 1e-6) return false;
  }
  return true;
}

void BridgeEnv::publish() {
  const mjData* d = env_.data();
  const double* sp = d->xpos + 3 * source_body_;
  const double* sq = d->xquat + 4 * source_body_;
  const double* r = body_rotation(d, source_body_);
  std::copy(sp, sp + 3, source_pose_->position.begin());
  std::copy(sq, sq + 4, source_pose_->quaternion.begin());
  const std::array<double, 3> target = target_center();
  target_pose_->position = target;
  const double* tq = d->xquat + 4 * target_body_;
  std::copy(tq, tq + 4, target_pose_->quaternion.begin());

  // Grasp: TCP at the grasp point, no lower than 1.6 cm above the source's
  // bottom (the fingertips reach 1.45 cm past the TCP); fingers close across
  // the source's local y axis.
  Vec3 grasp;
  for (int k = 0; k < 3; ++k) {
    grasp[k] = sp[k] + r[3 * k] * grasp_offset_[0] + r[3 * k + 1] * grasp_offset_[1] +
               r[3 * k + 2] * grasp_offset_[2];
  }
  const double bottom = sp[2] - source_half_[2];
  grasp[2] = std::max(grasp[2], bottom + 0.016);
  grasp_pose_->position = grasp;
  const double yaw = std::atan2(r[4], r[1]);  // world angle of the source's y axis
  *grasp_yaw_ = yaw;
  *grasp_symmetry_ = kind_ == 2 ? kPi / 2 : kPi;  // a block can be taken across either side
  grasp_pose_->quaternion = about_z(yaw);

  // Place: where the TCP goes so that the source (as held now) sits centred
  // 1.2 cm above the target's top.
  const Vec3& tcp = env_.observation().privileged.at("eef").position;
  const double target_top = target[2] + target_half_[2];
  const Vec3 wanted{target[0], target[1], target_top + source_half_[2] + 0.012};
  for (int k = 0; k < 3; ++k) place_pose_->position[k] = tcp[k] + wanted[k] - sp[k];
  // Carry height: the held source's bottom clears the target and fixtures by 4 cm.
  const double held_offset = tcp[2] - bottom;
  *carry_z_ = std::max(target_top, clear_top_) + held_offset + 0.04;
  *hover_z_ = std::max(grasp[2] + 0.06, clear_top_ + 0.06);

  const bool grasped = source_grasped();
  *grasped_ = grasped ? 1 : 0;
  if (grasped) *grasp_metric_ = 1;
  success_ = source_on_target();
}

std::unique_ptr<EpisodeEnv> make_bridge_env(std::shared_ptr<const TaskDefinition> task,
                                            envs::EnvSettings settings) {
  if (!task) throw std::runtime_error("make_bridge_env: no task");
  return std::make_unique<BridgeEnv>(std::move(task), std::move(settings));
}

}  // namespace tasks::simpler
