#include "tasks/simpler/fractal_scene.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <numbers>
#include <sstream>
#include <stdexcept>

#include "envs/mjcf_text.h"

namespace tasks::simpler {
namespace {

std::string num(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.6g", std::abs(value) < 1e-12 ? 0.0 : value);
  return buffer;
}

template <size_t N>
std::string nums(const std::array<double, N>& values) {
  std::string out;
  for (size_t i = 0; i < N; ++i) {
    if (i > 0) out += ' ';
    out += num(values[i]);
  }
  return out;
}

using Vec3 = std::array<double, 3>;

// Half side of a regular octagon over its apothem: tan(22.5 degrees).
constexpr double kOctagonSide = 0.41421356;

// Rotates a robot-frame vector by the base yaw into the world frame.
Vec3 yaw_rotate(const Vec3& v, double yaw) {
  const double c = std::cos(yaw), s = std::sin(yaw);
  return {c * v[0] - s * v[1], s * v[0] + c * v[1], v[2]};
}

// How one variant looks: finishes of walls, floor and counter, light levels.
struct Look {
  std::string wall_texture, floor_texture, top_texture;  // <texture> attributes (no name)
  std::string top_rgba = "1 1 1 1";
  double light_scale = 1;  // scales the directional lights' diffuse
  double ambient = 0.3;    // headlight ambient
  bool distractors = false;
};

Look look_of(const std::string& variant) {
  Look look;
  look.wall_texture = R"(type="2d" builtin="flat" rgb1="0.86 0.84 0.8" width="16" height="16")";
  look.floor_texture =
      R"(type="2d" builtin="checker" rgb1="0.42 0.36 0.3" rgb2="0.38 0.32 0.27" width="256" height="256")";
  look.top_texture =
      R"(type="2d" builtin="flat" rgb1="0.78 0.76 0.72" mark="random" random="0.08" markrgb="0.66 0.64 0.6" width="256" height="256")";
  if (variant == "background_1") {
    look.wall_texture =
        R"(type="2d" builtin="gradient" rgb1="0.32 0.4 0.5" rgb2="0.18 0.22 0.3" width="64" height="64")";
    look.floor_texture =
        R"(type="2d" builtin="checker" rgb1="0.25 0.2 0.16" rgb2="0.2 0.15 0.12" width="256" height="256")";
  } else if (variant == "background_2") {
    look.wall_texture =
        R"(type="2d" builtin="checker" rgb1="0.7 0.78 0.62" rgb2="0.6 0.68 0.52" width="128" height="128")";
    look.floor_texture =
        R"(type="2d" builtin="checker" rgb1="0.85 0.85 0.82" rgb2="0.6 0.6 0.6" width="256" height="256")";
  } else if (variant == "lighting_darker") {
    look.light_scale = 0.4;
    look.ambient = 0.15;
  } else if (variant == "lighting_brighter") {
    look.light_scale = 1.6;
    look.ambient = 0.45;
  } else if (variant == "distractors") {
    look.distractors = true;
  } else if (variant == "table_texture_1") {
    look.top_texture =
        R"(type="2d" builtin="flat" rgb1="0.45 0.3 0.18" mark="random" random="0.2" markrgb="0.3 0.19 0.1" width="256" height="256")";
  } else if (variant == "table_texture_2") {
    look.top_texture =
        R"(type="2d" builtin="checker" rgb1="0.92 0.92 0.9" rgb2="0.35 0.45 0.6" width="256" height="256")";
  }
  return look;
}

// Geoms of one object kind, in its own frame (axis along z for cans and the
// bottle), centred on the body origin.
std::string object_geoms(const FractalObjectInfo& info, const std::string& name) {
  std::string out;
  int collision = 0, visual = 0;
  auto collide = [&](const std::string& shape, double mass) {
    out += "<geom name=\"" + name + "_g" + std::to_string(collision++) + "\" " + shape +
           " group=\"3\" condim=\"4\" friction=\"1 0.005 0.0001\" mass=\"" + num(mass) + "\"/>\n";
  };
  auto show = [&](const std::string& shape, const std::string& rgba) {
    out += "<geom name=\"" + name + "_v" + std::to_string(visual++) + "\" " + shape +
           " group=\"1\" contype=\"0\" conaffinity=\"0\" mass=\"0\" rgba=\"" + rgba + "\"/>\n";
  };
  const std::string& kind = info.kind;
  const double mass = info.mass;
  if (kind.find("can") != std::string::npos) {
    const double r = info.size[0] / 2, half = info.size[2] / 2;
    std::string body = "0.75 0.05 0.05 1", band = "0.95 0.95 0.95 1";
    if (kind == "opened_pepsi_can") body = "0.08 0.2 0.6 1", band = "0.85 0.1 0.15 1";
    if (kind == "opened_7up_can") body = "0.1 0.55 0.2 1", band = "0.95 0.9 0.3 1";
    if (kind == "opened_redbull_can") body = "0.25 0.35 0.65 1", band = "0.78 0.78 0.8 1";
    // An octagonal prism: four slats across the diameter, turned by 45
    // degrees each, whose ends are the octagon's faces. It stands on a flat
    // base and, lying, rests on a face instead of rolling away.
    for (int k = 0; k < 4; ++k) {
      collide("type=\"box\" size=\"" + num(r) + " " + num(r * kOctagonSide) + " " + num(half) +
                  "\" euler=\"0 0 " + num(k * std::numbers::pi / 4) + "\"",
              mass / 4);
    }
    show("type=\"cylinder\" size=\"" + num(r) + " " + num(half - 0.012) + "\" pos=\"0 0 -0.006\"",
         body);
    show("type=\"cylinder\" size=\"" + num(r * 1.002) + " " + num(half * 0.18) + "\" pos=\"0 0 " +
             num(half * 0.2) + "\"",
         band);
    show("type=\"cylinder\" size=\"" + num(r * 0.96) + " 0.006\" pos=\"0 0 " + num(-half + 0.006) +
             "\"",
         "0.8 0.8 0.82 1");
    show("type=\"cylinder\" size=\"" + num(r * 0.82) + " 0.006\" pos=\"0 0 " + num(half - 0.006) +
             "\"",
         "0.8 0.8 0.82 1");
  } else if (kind == "blue_plastic_bottle") {
    const double r = info.size[0] / 2, half = info.size[2] / 2;
    for (int k = 0; k < 4; ++k) {
      collide("type=\"box\" size=\"" + num(r) + " " + num(r * kOctagonSide) + " " +
                  num(half * 0.7) + "\" pos=\"0 0 " + num(-half * 0.3) + "\" euler=\"0 0 " +
                  num(k * std::numbers::pi / 4) + "\"",
              mass * 0.85 / 4);
    }
    collide("type=\"capsule\" size=\"" + num(r * 0.45) + " " + num(half * 0.18) + "\" pos=\"0 0 " +
                num(half * 0.6) + "\"",
            mass * 0.15);
    show("type=\"cylinder\" size=\"" + num(r) + " " + num(half * 0.7) + "\" pos=\"0 0 " +
             num(-half * 0.3) + "\"",
         "0.2 0.45 0.85 0.9");
    show("type=\"cylinder\" size=\"" + num(r * 1.01) + " " + num(half * 0.15) + "\" pos=\"0 0 " +
             num(-half * 0.1) + "\"",
         "0.9 0.92 0.95 1");
    show("type=\"capsule\" size=\"" + num(r * 0.45) + " " + num(half * 0.18) + "\" pos=\"0 0 " +
             num(half * 0.6) + "\"",
         "0.25 0.5 0.9 0.9");
    show("type=\"cylinder\" size=\"" + num(r * 0.38) + " " + num(half * 0.06) + "\" pos=\"0 0 " +
             num(half * 0.94) + "\"",
         "0.1 0.2 0.7 1");
  } else if (kind == "apple" || kind == "orange") {
    const double r = info.size[0] / 2;
    const double lift = info.rest_height - r;  // the flat foot below the sphere
    collide("type=\"sphere\" size=\"" + num(r) + "\"", mass * 0.9);
    collide("type=\"cylinder\" size=\"" + num(r * 0.45) + " 0.004\" pos=\"0 0 " +
                num(-info.rest_height + 0.004) + "\"",
            mass * 0.1);
    (void)lift;
    const std::string rgba = kind == "apple" ? "0.75 0.08 0.06 1" : "0.95 0.5 0.05 1";
    show("type=\"sphere\" size=\"" + num(r) + "\"", rgba);
    show("type=\"cylinder\" size=\"" + num(r * 0.45) + " 0.004\" pos=\"0 0 " +
             num(-info.rest_height + 0.004) + "\"",
         rgba);
    if (kind == "apple") {
      show("type=\"cylinder\" size=\"0.003 0.01\" pos=\"0 0 " + num(r + 0.006) + "\"",
           "0.3 0.2 0.1 1");
    }
  } else if (kind == "sponge") {
    const std::array<double, 3> half{info.size[0] / 2, info.size[1] / 2, info.size[2] / 2};
    collide("type=\"box\" size=\"" + nums(half) + "\"", mass);
    show("type=\"box\" size=\"" + num(half[0]) + " " + num(half[1]) + " " + num(half[2] * 0.7) +
             "\" pos=\"0 0 " + num(-half[2] * 0.3) + "\"",
         "0.95 0.8 0.15 1");
    show("type=\"box\" size=\"" + num(half[0]) + " " + num(half[1]) + " " + num(half[2] * 0.3) +
             "\" pos=\"0 0 " + num(half[2] * 0.7) + "\"",
         "0.15 0.55 0.25 1");
  }
  return out;
}

const std::map<std::string, FractalObjectInfo>& object_table() {
  // Upright: cans and the bottle stand on their base.
  static const std::map<std::string, FractalObjectInfo> table = [] {
    std::map<std::string, FractalObjectInfo> t;
    auto add = [&](const std::string& kind, const std::string& words, std::array<double, 3> size,
                   double mass, double rest_height) {
      t[kind] = FractalObjectInfo{kind, words, size, mass, {1, 0, 0, 0}, rest_height};
    };
    add("coke_can", "coke can", {0.066, 0.066, 0.122}, 0.37, 0.061);
    add("opened_coke_can", "coke can", {0.066, 0.066, 0.122}, 0.03, 0.061);
    add("opened_pepsi_can", "pepsi can", {0.066, 0.066, 0.122}, 0.03, 0.061);
    add("opened_7up_can", "7up can", {0.066, 0.066, 0.122}, 0.03, 0.061);
    add("opened_redbull_can", "redbull can", {0.054, 0.054, 0.134}, 0.03, 0.067);
    add("blue_plastic_bottle", "blue plastic bottle", {0.066, 0.066, 0.2}, 0.05, 0.1);
    add("apple", "apple", {0.08, 0.08, 0.084}, 0.12, 0.044);
    add("orange", "orange", {0.074, 0.074, 0.078}, 0.1, 0.041);
    add("sponge", "sponge", {0.1, 0.065, 0.04}, 0.04, 0.02);
    return t;
  }();
  return table;
}

}  // namespace

double fractal_camera_fovy() {
  return 2 * std::atan(0.5 * kFractalImageHeight / kFractalFocalLength) * 180 / std::numbers::pi;
}

const std::vector<std::string>& fractal_scene_variants() {
  static const std::vector<std::string> variants = {
      "",         "background_1",    "background_2",    "lighting_darker", "lighting_brighter",
      "distractors", "table_texture_1", "table_texture_2"};
  return variants;
}

bool is_fractal_scene_variant(const std::string& variant) {
  const auto& all = fractal_scene_variants();
  return std::find(all.begin(), all.end(), variant) != all.end();
}

const std::vector<std::string>& fractal_object_kinds() {
  static const std::vector<std::string> kinds = [] {
    std::vector<std::string> out;
    for (const auto& [kind, info] : object_table()) out.push_back(kind);
    return out;
  }();
  return kinds;
}

const FractalObjectInfo& fractal_object_info(const std::string& kind) {
  const auto& table = object_table();
  const auto found = table.find(kind);
  if (found == table.end()) {
    std::string valid;
    for (const auto& k : fractal_object_kinds()) valid += (valid.empty() ? "" : ", ") + k;
    throw std::runtime_error("unknown Fractal object kind '" + kind + "' (valid: " + valid + ")");
  }
  return found->second;
}

std::string fractal_object_body(const std::string& kind, const std::string& name,
                                const std::array<double, 3>& position,
                                const std::array<double, 4>& quat) {
  const FractalObjectInfo& info = fractal_object_info(kind);
  if (name.empty()) throw std::runtime_error("fractal_object_body: empty name for kind " + kind);
  return "<body name=\"" + name + "\" pos=\"" + nums(position) + "\" quat=\"" + nums(quat) +
         "\">\n<freejoint name=\"" + name + "_joint\"/>\n" + object_geoms(info, name) +
         "</body>\n";
}

const std::vector<std::pair<std::string, std::string>>& fractal_distractors() {
  static const std::vector<std::pair<std::string, std::string>> distractors = {
      {"distractor_pepsi_can", "opened_pepsi_can"},
      {"distractor_apple", "apple"},
      {"distractor_sponge", "sponge"},
      {"distractor_orange", "orange"}};
  return distractors;
}

std::string fractal_scene_mjcf(const FractalSceneSettings& settings) {
  if (!is_fractal_scene_variant(settings.variant)) {
    std::string valid;
    for (const auto& v : fractal_scene_variants()) valid += (valid.empty() ? "\"" : ", \"") + v + "\"";
    throw std::runtime_error("unknown Fractal scene variant '" + settings.variant +
                             "' (valid: " + valid + ")");
  }
  const bool needs_table =
      settings.variant == "distractors" || settings.variant.rfind("table_texture", 0) == 0;
  if (needs_table && !settings.table) {
    throw std::runtime_error("Fractal scene variant '" + settings.variant +
                             "' needs the counter (settings.table is false)");
  }
  const Look look = look_of(settings.variant);
  const envs::MjcfParts robot = envs::google_robot_mjcf(settings.robot);

  // Overhead camera on the robot's head, looking forward and down, far enough
  // in front of the head's lens block that the tilted view clears it.
  const double yaw = settings.robot.base_yaw;
  const auto& base = settings.robot.base_position;
  const Vec3 head_offset{envs::kGoogleRobotHead[0] + 0.05, envs::kGoogleRobotHead[1],
                         envs::kGoogleRobotHead[2] - 0.01};
  const Vec3 head = yaw_rotate(head_offset, yaw);
  const Vec3 camera{base[0] + head[0], base[1] + head[1], base[2] + head[2]};
  const double tilt = envs::kGoogleRobotHeadTilt;
  // Image right = robot -y; image up = camera y = z_cam x x_cam with z_cam = -forward.
  const Vec3 right = yaw_rotate({0, -1, 0}, yaw);
  const Vec3 up = yaw_rotate({std::sin(tilt), 0, std::cos(tilt)}, yaw);

  const double s = look.light_scale;
  auto light = [&](double level) { return num(level * s) + " " + num(level * s) + " " + num(level * s); };
  const std::string ambient = num(look.ambient) + " " + num(look.ambient) + " " + num(look.ambient);

  std::ostringstream mjcf;
  mjcf << "<mujoco model=\"fractal\">\n"
       << "<compiler angle=\"radian\" autolimits=\"true\"/>\n"
       << "<option timestep=\"0.002\" cone=\"elliptic\" impratio=\"10\"/>\n"
       << envs::mjcf::size_element(500)
       << "<visual>\n"
       << "  <global offwidth=\"" << kFractalImageWidth << "\" offheight=\"" << kFractalImageHeight
       << "\"/>\n"
       << "  <quality shadowsize=\"2048\" offsamples=\"0\"/>\n"
       << "  <headlight ambient=\"" << ambient << "\" diffuse=\"0 0 0\" specular=\"0 0 0\"/>\n"
       << "</visual>\n"
       << "<default>\n"
       << robot.defaults << settings.defaults << "</default>\n"
       << "<asset>\n"
       << "  <texture name=\"fractal_wall_texture\" " << look.wall_texture << "/>\n"
       << "  <material name=\"fractal_wall\" texture=\"fractal_wall_texture\" texrepeat=\"4 4\""
          " specular=\"0.1\"/>\n"
       << "  <texture name=\"fractal_floor_texture\" " << look.floor_texture << "/>\n"
       << "  <material name=\"fractal_floor\" texture=\"fractal_floor_texture\" texrepeat=\"8 8\""
          " specular=\"0.2\"/>\n"
       << "  <texture name=\"fractal_top_texture\" " << look.top_texture << "/>\n"
       << "  <material name=\"fractal_table_top\" texture=\"fractal_top_texture\" texrepeat=\"3 3\""
          " texuniform=\"true\" rgba=\"" << look.top_rgba << "\" specular=\"0.3\" shininess=\"0.4\"/>\n"
       << "  <material name=\"fractal_cabinet\" rgba=\"0.93 0.93 0.91 1\" specular=\"0.2\"/>\n"
       << "  <material name=\"fractal_trim\" rgba=\"0.35 0.35 0.36 1\" specular=\"0.4\"/>\n"
       << robot.assets << settings.assets << "</asset>\n"
       << "<worldbody>\n"
       // SimplerEnv-style lights: one from above (shadows), two side fills.
       << "  <light name=\"key\" directional=\"true\" pos=\"0 0 4\" dir=\"0 0 -1\" diffuse=\""
       << light(0.55) << "\" specular=\"0.15 0.15 0.15\" castshadow=\"true\"/>\n"
       << "  <light name=\"fill1\" directional=\"true\" pos=\"0 0 4\" dir=\"-1 -0.5 -1\" diffuse=\""
       << light(0.22) << "\" specular=\"0 0 0\" castshadow=\"false\"/>\n"
       << "  <light name=\"fill2\" directional=\"true\" pos=\"0 0 4\" dir=\"1 1 -1\" diffuse=\""
       << light(0.22) << "\" specular=\"0 0 0\" castshadow=\"false\"/>\n"
       << "  <geom name=\"floor\" type=\"plane\" size=\"5 5 0.05\" material=\"fractal_floor\""
          " group=\"1\"/>\n"
       << "  <geom name=\"back_wall\" type=\"box\" pos=\"-1.6 0.2 1.5\" size=\"0.02 3 1.5\""
          " material=\"fractal_wall\" contype=\"0\" conaffinity=\"0\" group=\"1\"/>\n"
       << "  <geom name=\"side_wall\" type=\"box\" pos=\"0 -1.8 1.5\" size=\"3 0.02 1.5\""
          " material=\"fractal_wall\" contype=\"0\" conaffinity=\"0\" group=\"1\"/>\n"
       << "  <camera name=\"overhead_camera\" pos=\"" << nums(camera) << "\" xyaxes=\""
       << nums(right) << " " << nums(up) << "\" fovy=\"" << num(fractal_camera_fovy()) << "\"/>\n";
  if (settings.table) {
    // The counter: a top slab over white cabinets with a dark plinth.
    const double front = kFractalTableFront, depth = kFractalTableDepth;
    const double cx = front - depth / 2, cy = kFractalTableCenterY, hw = kFractalTableHalfWidth;
    const double top = kFractalTableHeight, slab = 0.03;
    mjcf << "  <body name=\"table\" pos=\"" << num(cx) << " " << num(cy) << " 0\">\n"
         << "    <geom name=\"table_top\" type=\"box\" pos=\"0 0 " << num(top - slab / 2)
         << "\" size=\"" << num(depth / 2) << " " << num(hw) << " " << num(slab / 2)
         << "\" material=\"fractal_table_top\" condim=\"3\" friction=\"1 0.005 0.0001\"/>\n"
         << "    <geom name=\"table_cabinet\" type=\"box\" pos=\"" << num(-0.03) << " 0 "
         << num((top - slab) / 2) << "\" size=\"" << num(depth / 2 - 0.03) << " " << num(hw - 0.01)
         << " " << num((top - slab) / 2) << "\" material=\"fractal_cabinet\"/>\n"
         << "    <geom name=\"table_plinth\" type=\"box\" pos=\"" << num(depth / 2 - 0.03 - 0.005)
         << " 0 0.05\" size=\"0.006 " << num(hw - 0.01) << " 0.05\" material=\"fractal_trim\""
            " contype=\"0\" conaffinity=\"0\" group=\"1\"/>\n";
    // Door seams and handles on the cabinet fronts (visual only).
    for (int i = -3; i <= 3; ++i) {
      const double y = i * hw / 3.5;
      mjcf << "    <geom type=\"box\" pos=\"" << num(depth / 2 - 0.03 + 0.001) << " " << num(y)
           << " 0.5\" size=\"0.002 0.003 0.32\" material=\"fractal_trim\" contype=\"0\""
              " conaffinity=\"0\" group=\"1\"/>\n"
           << "    <geom type=\"box\" pos=\"" << num(depth / 2 - 0.03 + 0.008) << " "
           << num(y + 0.07) << " 0.74\" size=\"0.006 0.05 0.006\" material=\"fractal_trim\""
              " contype=\"0\" conaffinity=\"0\" group=\"1\"/>\n";
    }
    mjcf << "  </body>\n";
  }
  if (look.distractors) {
    // Parked on the floor behind the robot until the episode places them.
    int index = 0;
    for (const auto& [name, kind] : fractal_distractors()) {
      const FractalObjectInfo& info = fractal_object_info(kind);
      mjcf << fractal_object_body(kind, name, {2.0, -1.0 + 0.3 * index++, info.rest_height + 0.001},
                                  info.rest_quat);
    }
  }
  mjcf << robot.worldbody << settings.worldbody << "</worldbody>\n"
       << "<contact>\n"
       << robot.contacts << settings.contacts << "</contact>\n"
       << "<equality>\n"
       << robot.equalities << settings.equalities << "</equality>\n"
       << "<actuator>\n"
       << robot.actuators << "</actuator>\n"
       << "</mujoco>\n";
  return mjcf.str();
}

}  // namespace tasks::simpler
