// Shared pieces for the procedural asset builders (envs/assets*.cc): MJCF
// formatting, rotations, geom writing with the naming and contact conventions
// of envs/assets.h, and container wall helpers. Internal to envs.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <functional>
#include <numbers>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "envs/assets.h"
#include "envs/mesh.h"

namespace envs::assets::detail {

using Vec3 = std::array<double, 3>;
using Quat = std::array<double, 4>;  // w, x, y, z
using Profile = std::vector<std::array<double, 2>>;

constexpr double kPi = std::numbers::pi;
constexpr int kRevolveSegments = 32;   // visual mesh segments around the axis
constexpr int kRingBoxes = 16;         // collision boxes around a container wall
constexpr double kWoodDensity = 600;   // kg/m^3, drawers
constexpr double kKnobDensity = 1200;  // kg/m^3, stove knob (plastic)

// ---------------------------------------------------------------------------
// Formatting.

inline std::string num(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.6g", std::abs(value) < 1e-12 ? 0.0 : value);
  return buffer;
}

template <size_t N>
inline std::string nums(const std::array<double, N>& values) {
  std::string out;
  for (size_t i = 0; i < N; ++i) {
    if (i > 0) out += ' ';
    out += num(values[i]);
  }
  return out;
}

inline std::string nums(const std::vector<double>& values) {
  std::string out;
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ' ';
    out += num(values[i]);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Rotations.

inline Quat multiply(const Quat& a, const Quat& b) {
  return {a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3],
          a[0] * b[1] + a[1] * b[0] + a[2] * b[3] - a[3] * b[2],
          a[0] * b[2] - a[1] * b[3] + a[2] * b[0] + a[3] * b[1],
          a[0] * b[3] + a[1] * b[2] - a[2] * b[1] + a[3] * b[0]};
}

inline Quat about_z(double angle) { return {std::cos(angle / 2), 0, 0, std::sin(angle / 2)}; }
inline Quat about_y(double angle) { return {std::cos(angle / 2), 0, std::sin(angle / 2), 0}; }
inline Quat about_x(double angle) { return {std::cos(angle / 2), std::sin(angle / 2), 0, 0}; }

// ---------------------------------------------------------------------------
// Geometry pieces and the writer that names them.

// One geom's shape and pose in its body's frame.
struct Part {
  std::string type;          // MJCF geom type: box, cylinder, capsule, mesh
  std::vector<double> size;  // MJCF size (half extents; radius, half length)
  Vec3 pos{};                // m
  Quat quat{1, 0, 0, 0};
  std::string mesh;  // mesh asset name when type == "mesh"
};

inline double volume(const Part& part) {
  if (part.type == "box") return 8 * part.size[0] * part.size[1] * part.size[2];
  const double r = part.size[0];
  if (part.type == "cylinder") return kPi * r * r * 2 * part.size[1];
  if (part.type == "capsule") return kPi * r * r * 2 * part.size[1] + 4.0 / 3.0 * kPi * r * r * r;
  if (part.type == "sphere") return 4.0 / 3.0 * kPi * r * r * r;
  throw std::logic_error("assets: no volume for geom type " + part.type);
}

inline Part box(const Vec3& half, const Vec3& pos, const Quat& quat = {1, 0, 0, 0}) {
  return {"box", {half[0], half[1], half[2]}, pos, quat, ""};
}

inline std::string shape_attributes(const Part& part) {
  std::string out = "type=\"" + part.type + "\"";
  if (part.type == "mesh") {
    out += " mesh=\"" + part.mesh + "\"";
  } else {
    out += " size=\"" + nums(part.size) + "\"";
  }
  out += " pos=\"" + nums(part.pos) + "\"";
  if (part.quat != Quat{1, 0, 0, 0}) out += " quat=\"" + nums(part.quat) + "\"";
  return out;
}

// Contact settings of an object's collision geoms.
struct Contact {
  int condim = 3;                                  // 4 adds torsional friction for grasping
  std::array<double, 3> friction{1, 0.005, 1e-4};  // sliding, torsional, rolling
};

// Writes geoms with object-wide unique names NAME_g<i> (collision) and NAME_v<i> (visual).
class GeomWriter {
 public:
  GeomWriter(std::string object_name, Contact contact)
      : object_name_(std::move(object_name)), contact_(contact) {}

  void set_contact(const Contact& contact) { contact_ = contact; }

  // A collision geom with an explicit mass (kg) or, if mass < 0, a density (kg/m^3).
  std::string collision(const Part& part, double mass, double density = -1) {
    std::string out =
        "<geom name=\"" + object_name_ + "_g" + std::to_string(collision_count_++) + "\" " +
        shape_attributes(part) + " group=\"3\" contype=\"1\" conaffinity=\"1\" condim=\"" +
        std::to_string(contact_.condim) + "\" friction=\"" + nums(contact_.friction) + "\"";
    out += mass >= 0 ? " mass=\"" + num(mass) + "\"" : " density=\"" + num(density) + "\"";
    return out + "/>\n";
  }

  // Collision geoms sharing `total_mass` (kg) in proportion to their volumes.
  std::string collision_with_mass(const std::vector<Part>& parts, double total_mass) {
    double total_volume = 0;
    for (const Part& part : parts) total_volume += volume(part);
    std::string out;
    for (const Part& part : parts) out += collision(part, total_mass * volume(part) / total_volume);
    return out;
  }

  std::string collision_with_density(const std::vector<Part>& parts, double density) {
    std::string out;
    for (const Part& part : parts) out += collision(part, -1, density);
    return out;
  }

  // A massless, non-colliding visual geom with a material (or plain rgba).
  std::string visual(const Part& part, const std::string& material, const std::string& name = "",
                     const std::array<double, 4>& rgba = {}) {
    const std::string geom_name =
        name.empty() ? object_name_ + "_v" + std::to_string(visual_count_++) : name;
    std::string out = "<geom name=\"" + geom_name + "\" " + shape_attributes(part) +
                      " group=\"1\" contype=\"0\" conaffinity=\"0\" mass=\"0\"";
    out += material.empty() ? " rgba=\"" + nums(rgba) + "\"" : " material=\"" + material + "\"";
    return out + "/>\n";
  }

  // Each part both as a collision geom (density) and as a visual geom.
  std::string solid(const std::vector<Part>& parts, double density, const std::string& material) {
    std::string out;
    for (const Part& part : parts) out += collision(part, -1, density) + visual(part, material);
    return out;
  }

 private:
  std::string object_name_;
  Contact contact_;
  int collision_count_ = 0;
  int visual_count_ = 0;
};

inline std::string site(const std::string& name, const Vec3& half, const Vec3& pos) {
  return "<site name=\"" + name + "\" type=\"box\" size=\"" + nums(half) + "\" pos=\"" + nums(pos) +
         "\" group=\"5\" rgba=\"0.2 0.8 0.2 0.3\"/>\n";
}

inline std::string material(const std::string& name, const std::array<double, 4>& rgba, double specular,
                     double shininess, const std::string& texture = "",
                     const std::string& texrepeat = "1 1") {
  std::string out = "<material name=\"" + name + "\" rgba=\"" + nums(rgba) + "\" specular=\"" +
                    num(specular) + "\" shininess=\"" + num(shininess) + "\"";
  if (!texture.empty()) {
    out += " texture=\"" + texture + "\" texrepeat=\"" + texrepeat + "\" texuniform=\"true\"";
  }
  return out + "/>\n";
}

// A speckled wood grain texture and its material.
inline std::string wood_assets(const std::string& name, const Vec3& base, const Vec3& grain) {
  return "<texture name=\"" + name + "_tex\" type=\"2d\" builtin=\"flat\" rgb1=\"" + nums(base) +
         "\" mark=\"random\" random=\"0.12\" markrgb=\"" + nums(grain) +
         "\" width=\"256\" height=\"256\"/>\n" +
         material(name, {1, 1, 1, 1}, 0.15, 0.2, name + "_tex", "6 6");
}

inline std::string body_open(const std::string& name, const Placement& placement) {
  std::string out = "<body name=\"" + name + "\" pos=\"" + nums(placement.position) + "\"";
  if (placement.yaw != 0) out += " quat=\"" + nums(about_z(placement.yaw)) + "\"";
  return out + ">\n";
}

// ---------------------------------------------------------------------------
// Containers: a revolved outer surface and a collision ring of tilted boxes.

// A ring of `count` boxes whose outer faces follow the segment p -> q of the
// outer wall profile (radius, z); the boxes are `thickness` thick inward.
inline std::vector<Part> wall_ring(const std::array<double, 2>& p, const std::array<double, 2>& q,
                            double thickness, int count) {
  const double dr = q[0] - p[0], dz = q[1] - p[1];
  const double length = std::hypot(dr, dz);
  const double tilt = std::atan2(dr, dz);  // from vertical, outward positive
  // Inward normal of the segment in the (radius, z) plane.
  const double normal_r = -dz / length, normal_z = dr / length;
  const double center_r = (p[0] + q[0]) / 2 + normal_r * thickness / 2;
  const double center_z = (p[1] + q[1]) / 2 + normal_z * thickness / 2;
  const double half_width = std::max(p[0], q[0]) * std::tan(kPi / count) * 1.05;
  std::vector<Part> parts;
  for (int i = 0; i < count; ++i) {
    const double angle = 2 * kPi * i / count;
    parts.push_back(box({thickness / 2, half_width, length / 2},
                        {center_r * std::cos(angle), center_r * std::sin(angle), center_z},
                        multiply(about_z(angle), about_y(tilt))));
  }
  return parts;
}

// A flat round base between heights bottom and top: a centre square foot and a
// ring of `count` radial boxes whose outer faces circumscribe `radius`. The ring
// is lifted 1 mm, so an object standing level touches its support with the foot
// only (4 contacts instead of 4 per box); tilted, the ring takes over.
inline std::vector<Part> base_disk(double radius, int count, double bottom, double top) {
  constexpr double kLift = 0.001;  // m
  const double half_z = (top - bottom) / 2;
  std::vector<Part> parts{box({radius / 2, radius / 2, half_z}, {0, 0, bottom + half_z})};
  for (const Part& part : wall_ring({0.45 * radius, bottom + kLift}, {radius, bottom + kLift},
                                    top - bottom - kLift, count)) {
    parts.push_back(part);
  }
  return parts;
}

// Samples an outer wall r(z) from the foot to the rim.
inline Profile sample(const std::function<std::array<double, 2>(double)>& curve, int steps) {
  Profile points;
  for (int i = 0; i <= steps; ++i) points.push_back(curve(double(i) / steps));
  return points;
}

// ---------------------------------------------------------------------------
// What every category builder returns.

struct Built {
  ObjectMjcf mjcf;
  ObjectInfo info;
};

inline Built free_object_shell(const std::string& category, const std::string& name) {
  Built built;
  built.info.name = name;
  built.info.category = category;
  return built;
}

inline Contact grasp_contact() { return Contact{4, {1, 0.005, 1e-4}}; }


// A category builder and the categories each builder file contributes.
using Builder = Built (*)(const std::string& name, const Placement& placement);
using BuilderList = std::vector<std::pair<std::string, Builder>>;

BuilderList tabletop_builders();  // envs/assets.cc: bowl, plate, ramekin, cookies
BuilderList object_builders();    // envs/assets_objects.cc: groceries, mugs, kitchenware, book
BuilderList fixture_builders();   // envs/assets_fixtures.cc: tables, floor, cabinets, stove, ...

}  // namespace envs::assets::detail
