#include "envs/assets.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <numbers>
#include <stdexcept>

#include "envs/mesh.h"

namespace envs::assets {

namespace {

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

std::string nums(const std::vector<double>& values) {
  std::string out;
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ' ';
    out += num(values[i]);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Rotations.

Quat multiply(const Quat& a, const Quat& b) {
  return {a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3],
          a[0] * b[1] + a[1] * b[0] + a[2] * b[3] - a[3] * b[2],
          a[0] * b[2] - a[1] * b[3] + a[2] * b[0] + a[3] * b[1],
          a[0] * b[3] + a[1] * b[2] - a[2] * b[1] + a[3] * b[0]};
}

Quat about_z(double angle) { return {std::cos(angle / 2), 0, 0, std::sin(angle / 2)}; }
Quat about_y(double angle) { return {std::cos(angle / 2), 0, std::sin(angle / 2), 0}; }
Quat about_x(double angle) { return {std::cos(angle / 2), std::sin(angle / 2), 0, 0}; }

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

double volume(const Part& part) {
  if (part.type == "box") return 8 * part.size[0] * part.size[1] * part.size[2];
  const double r = part.size[0];
  if (part.type == "cylinder") return kPi * r * r * 2 * part.size[1];
  if (part.type == "capsule") return kPi * r * r * 2 * part.size[1] + 4.0 / 3.0 * kPi * r * r * r;
  if (part.type == "sphere") return 4.0 / 3.0 * kPi * r * r * r;
  throw std::logic_error("assets: no volume for geom type " + part.type);
}

Part box(const Vec3& half, const Vec3& pos, const Quat& quat = {1, 0, 0, 0}) {
  return {"box", {half[0], half[1], half[2]}, pos, quat, ""};
}

std::string shape_attributes(const Part& part) {
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

std::string site(const std::string& name, const Vec3& half, const Vec3& pos) {
  return "<site name=\"" + name + "\" type=\"box\" size=\"" + nums(half) + "\" pos=\"" + nums(pos) +
         "\" group=\"5\" rgba=\"0.2 0.8 0.2 0.3\"/>\n";
}

std::string material(const std::string& name, const std::array<double, 4>& rgba, double specular,
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
std::string wood_assets(const std::string& name, const Vec3& base, const Vec3& grain) {
  return "<texture name=\"" + name + "_tex\" type=\"2d\" builtin=\"flat\" rgb1=\"" + nums(base) +
         "\" mark=\"random\" random=\"0.12\" markrgb=\"" + nums(grain) +
         "\" width=\"256\" height=\"256\"/>\n" +
         material(name, {1, 1, 1, 1}, 0.15, 0.2, name + "_tex", "6 6");
}

std::string body_open(const std::string& name, const Placement& placement) {
  std::string out = "<body name=\"" + name + "\" pos=\"" + nums(placement.position) + "\"";
  if (placement.yaw != 0) out += " quat=\"" + nums(about_z(placement.yaw)) + "\"";
  return out + ">\n";
}

// ---------------------------------------------------------------------------
// Containers: a revolved outer surface and a collision ring of tilted boxes.

// A ring of `count` boxes whose outer faces follow the segment p -> q of the
// outer wall profile (radius, z); the boxes are `thickness` thick inward.
std::vector<Part> wall_ring(const std::array<double, 2>& p, const std::array<double, 2>& q,
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
std::vector<Part> base_disk(double radius, int count, double bottom, double top) {
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
Profile sample(const std::function<std::array<double, 2>(double)>& curve, int steps) {
  Profile points;
  for (int i = 0; i <= steps; ++i) points.push_back(curve(double(i) / steps));
  return points;
}

// ---------------------------------------------------------------------------
// Categories. Each builder fills both the MJCF and the info of one instance.

struct Built {
  ObjectMjcf mjcf;
  ObjectInfo info;
};

Built free_object_shell(const std::string& category, const std::string& name) {
  Built built;
  built.info.name = name;
  built.info.category = category;
  return built;
}

Contact grasp_contact() { return Contact{4, {1, 0.005, 1e-4}}; }

// Black glossy bowl: origin at the bottom centre.
Built akita_black_bowl(const std::string& name, const Placement& placement) {
  constexpr double kRimRadius = 0.065;   // outer radius at the rim, m
  constexpr double kFootRadius = 0.036;  // outer radius at the bottom, m
  constexpr double kHeight = 0.055;      // m
  constexpr double kWall = 0.006;        // wall thickness at the rim, m
  constexpr double kFloor = 0.008;       // inner floor height, m
  constexpr double kMass = 0.15;         // kg
  auto outer = [&](double u) -> std::array<double, 2> {
    return {kFootRadius + (kRimRadius - kFootRadius) * std::sin(kPi / 2 * u), kHeight * u};
  };

  // Visual: foot, outer wall, flat rim, inner wall, inner floor.
  Profile profile{{0, 0}};
  for (const auto& point : sample(outer, 16)) profile.push_back(point);
  for (int i = 16; i >= 0; --i) {
    const double u = double(i) / 16;
    const auto point = outer(u);
    if (point[1] < kFloor) break;
    profile.push_back({point[0] - kWall, point[1]});
  }
  profile.push_back({outer(kFloor / kHeight)[0] - kWall, kFloor});
  profile.push_back({0, kFloor});

  Built built = free_object_shell("akita_black_bowl", name);
  GeomWriter writer(name, grasp_contact());
  built.mjcf.assets = mesh_mjcf(name + "_mesh", revolve(profile, kRevolveSegments)) + "\n" +
                      material(name + "_glaze", {0.04, 0.04, 0.045, 1}, 0.9, 0.8);

  // Collision: base disk plus two rings following the curved wall.
  std::vector<Part> parts = base_disk(kFootRadius, 8, 0, kFloor);
  const auto foot = outer(0.06), middle = outer(0.45), rim = outer(1.0);
  for (const Part& part : wall_ring(foot, middle, kWall, kRingBoxes)) parts.push_back(part);
  for (const Part& part : wall_ring(middle, rim, kWall, kRingBoxes)) parts.push_back(part);

  built.mjcf.body = body_open(name, placement) + "<freejoint name=\"" + name + "_joint\"/>\n" +
                    writer.collision_with_mass(parts, kMass) +
                    writer.visual({"mesh", {}, {}, {1, 0, 0, 0}, name + "_mesh"}, name + "_glaze") +
                    site(name + "_contain_region", {0.035, 0.035, (kHeight - kFloor) / 2},
                         {0, 0, (kHeight + kFloor) / 2}) +
                    "</body>\n";
  built.info.region_sites = {name + "_contain_region"};
  built.info.bottom_z = 0;
  built.info.half_extents = {kRimRadius, kRimRadius, kHeight / 2};
  built.info.rim_wall = kWall;
  return built;
}

// White plate with a raised rim: origin at the bottom centre.
Built plate(const std::string& name, const Placement& placement) {
  constexpr double kRadius = 0.10;       // m
  constexpr double kFootRadius = 0.07;   // flat underside radius, m
  constexpr double kHeight = 0.02;       // rim top height, m
  constexpr double kSurface = 0.006;     // upper surface height of the flat centre, m
  constexpr double kWellRadius = 0.075;  // radius where the rim starts rising, m
  constexpr double kMass = 0.2;          // kg

  const Profile profile{{0, 0},
                        {kFootRadius, 0},
                        {kFootRadius + 0.004, 0.002},
                        {kRadius - 0.003, kHeight - 0.005},
                        {kRadius, kHeight - 0.002},
                        {kRadius - 0.002, kHeight},
                        {kRadius - 0.006, kHeight - 0.0005},
                        {kWellRadius, kSurface},
                        {0, kSurface}};

  Built built = free_object_shell("plate", name);
  GeomWriter writer(name, grasp_contact());
  built.mjcf.assets = mesh_mjcf(name + "_mesh", revolve(profile, kRevolveSegments)) + "\n" +
                      material(name + "_porcelain", {0.95, 0.93, 0.86, 1}, 0.5, 0.6);

  // Collision: flat base and a low ring along the rising rim.
  std::vector<Part> parts = base_disk(kWellRadius, 12, 0, kSurface);
  for (const Part& part :
       wall_ring({kFootRadius + 0.002, 0.002}, {kRadius, kHeight - 0.004}, 0.005, kRingBoxes)) {
    parts.push_back(part);
  }

  built.mjcf.body =
      body_open(name, placement) + "<freejoint name=\"" + name + "_joint\"/>\n" +
      writer.collision_with_mass(parts, kMass) +
      writer.visual({"mesh", {}, {}, {1, 0, 0, 0}, name + "_mesh"}, name + "_porcelain") +
      site(name + "_contain_region", {0.065, 0.065, kSurface / 2}, {0, 0, kSurface / 2}) +
      "</body>\n";
  built.info.region_sites = {name + "_contain_region"};
  built.info.bottom_z = 0;
  built.info.half_extents = {kRadius, kRadius, kHeight / 2};
  return built;
}

// Small white ramekin with a dark glazed rim band: origin at the bottom centre.
Built glazed_rim_porcelain_ramekin(const std::string& name, const Placement& placement) {
  constexpr double kRadius = 0.045;  // outer radius, m
  constexpr double kHeight = 0.045;  // m
  constexpr double kWall = 0.005;    // m
  constexpr double kFloor = 0.008;   // inner floor height, m
  constexpr double kBand = 0.007;    // glazed rim band height, m
  constexpr double kMass = 0.1;      // kg
  constexpr double kInner = kRadius - kWall;
  constexpr double kBandBottom = kHeight - kBand;

  const Profile body_profile{{0, 0},
                             {0.040, 0},
                             {0.0435, 0.003},
                             {kRadius, 0.010},
                             {kRadius, kBandBottom},
                             {kInner, kBandBottom},
                             {kInner, kFloor + 0.003},
                             {kInner - 0.003, kFloor},
                             {0, kFloor}};
  const Profile band_profile{{kRadius, kBandBottom},      {kRadius, kHeight - 0.0015},
                             {kRadius - 0.0015, kHeight}, {kInner + 0.0015, kHeight},
                             {kInner, kHeight - 0.0015},  {kInner, kBandBottom}};

  Built built = free_object_shell("glazed_rim_porcelain_ramekin", name);
  GeomWriter writer(name, grasp_contact());
  built.mjcf.assets = mesh_mjcf(name + "_body_mesh", revolve(body_profile, kRevolveSegments)) +
                      "\n" +
                      mesh_mjcf(name + "_band_mesh", revolve(band_profile, kRevolveSegments)) +
                      "\n" + material(name + "_porcelain", {0.96, 0.95, 0.92, 1}, 0.5, 0.6) +
                      material(name + "_rim_glaze", {0.22, 0.13, 0.08, 1}, 0.8, 0.8);

  std::vector<Part> parts = base_disk(0.040, 8, 0, kFloor);
  for (const Part& part : wall_ring({0.0435, 0.003}, {kRadius, kHeight}, kWall, kRingBoxes)) {
    parts.push_back(part);
  }

  built.mjcf.body =
      body_open(name, placement) + "<freejoint name=\"" + name + "_joint\"/>\n" +
      writer.collision_with_mass(parts, kMass) +
      writer.visual({"mesh", {}, {}, {1, 0, 0, 0}, name + "_body_mesh"}, name + "_porcelain") +
      writer.visual({"mesh", {}, {}, {1, 0, 0, 0}, name + "_band_mesh"}, name + "_rim_glaze") +
      site(name + "_contain_region", {0.028, 0.028, (kHeight - kFloor) / 2},
           {0, 0, (kHeight + kFloor) / 2}) +
      "</body>\n";
  built.info.region_sites = {name + "_contain_region"};
  built.info.bottom_z = 0;
  built.info.half_extents = {kRadius, kRadius, kHeight / 2};
  built.info.rim_wall = kWall;
  return built;
}

// Printed cookie box lying flat, long axis along y: origin at the box centre.
Built cookies(const std::string& name, const Placement& placement) {
  constexpr Vec3 kHalf{0.055, 0.08, 0.025};  // half extents, m
  constexpr double kMass = 0.1;              // kg

  Built built = free_object_shell("cookies", name);
  GeomWriter writer(name, grasp_contact());
  built.mjcf.assets = material(name + "_print", {0.12, 0.28, 0.62, 1}, 0.3, 0.4) +
                      material(name + "_label", {0.96, 0.86, 0.55, 1}, 0.3, 0.4) +
                      material(name + "_stripe", {0.78, 0.16, 0.12, 1}, 0.3, 0.4);
  const double skin = 0.0005;  // printed layers stand this far off the box, m
  built.mjcf.body =
      body_open(name, placement) + "<freejoint name=\"" + name + "_joint\"/>\n" +
      writer.collision(box(kHalf, {}), kMass) + writer.visual(box(kHalf, {}), name + "_print") +
      // Label panels on the two large faces and a stripe around the sides.
      writer.visual(box({0.042, 0.062, skin}, {0, 0.004, kHalf[2]}), name + "_label") +
      writer.visual(box({0.042, 0.062, skin}, {0, 0.004, -kHalf[2]}), name + "_label") +
      writer.visual(box({kHalf[0] + skin, kHalf[1] + skin, 0.005}, {0, 0, -0.012}),
                    name + "_stripe") +
      writer.visual(box({0.03, 0.012, skin * 2}, {0, -0.052, kHalf[2]}), name + "_stripe") +
      "</body>\n";
  built.info.bottom_z = kHalf[2];
  built.info.half_extents = kHalf;
  return built;
}

// Wooden table: origin on the floor below the top's centre, top surface at z = 0.9.
Built table(const std::string& name, const Placement& placement) {
  constexpr Vec3 kTopHalf{0.5, 0.6, 0.025};  // table top half extents, m
  constexpr double kHeight = 0.9;            // top surface height, m
  constexpr double kLegHalf = 0.025;         // leg half width, m

  Built built = free_object_shell("table", name);
  built.info.fixture = true;
  GeomWriter writer(name, Contact{});
  built.mjcf.assets = wood_assets(name + "_wood", {0.62, 0.45, 0.28}, {0.56, 0.4, 0.24});

  std::vector<Part> parts{box(kTopHalf, {0, 0, kHeight - kTopHalf[2]})};
  const double leg_half_z = (kHeight - 2 * kTopHalf[2]) / 2;
  for (double sx : {-1.0, 1.0}) {
    for (double sy : {-1.0, 1.0}) {
      parts.push_back(box({kLegHalf, kLegHalf, leg_half_z},
                          {sx * (kTopHalf[0] - 0.05), sy * (kTopHalf[1] - 0.05), leg_half_z}));
    }
  }
  built.mjcf.body =
      body_open(name, placement) + writer.solid(parts, kWoodDensity, name + "_wood") + "</body>\n";
  built.info.bottom_z = 0;
  built.info.half_extents = {kTopHalf[0], kTopHalf[1], kHeight / 2};
  return built;
}

// Wooden cabinet with three drawers: origin at the bottom centre, front at -x.
Built wooden_cabinet(const std::string& name, const Placement& placement) {
  constexpr double kDepth = 0.25;              // along x, m
  constexpr double kWidth = 0.30;              // along y, m
  constexpr double kHeight = 0.45;             // m
  constexpr double kPanel = 0.012;             // carcass panel thickness, m
  constexpr double kClearance = 0.003;         // gap between drawer and carcass, m
  constexpr double kDrawerWall = 0.008;        // drawer base and wall thickness, m
  constexpr double kDrawerWallHeight = 0.09;   // drawer side wall height, m
  constexpr double kHandleReach = 0.03;        // handle bar centre in front of the drawer front, m
  constexpr double kHandleRadius = 0.006;      // m
  constexpr double kHandleHalfLength = 0.045;  // m
  const double bay_height = (kHeight - 4 * kPanel) / 3;

  Built built = free_object_shell("wooden_cabinet", name);
  built.info.fixture = true;
  GeomWriter writer(name, Contact{});
  built.mjcf.assets = wood_assets(name + "_wood", {0.45, 0.28, 0.15}, {0.4, 0.24, 0.12}) +
                      wood_assets(name + "_front", {0.58, 0.38, 0.21}, {0.52, 0.33, 0.18}) +
                      material(name + "_metal", {0.7, 0.7, 0.72, 1}, 0.8, 0.7);

  // Carcass: sides, back, bottom, top and the two dividers between bays.
  const double half_inner_width = kWidth / 2 - kPanel;
  std::vector<Part> carcass{
      box({kDepth / 2, kPanel / 2, kHeight / 2}, {0, -kWidth / 2 + kPanel / 2, kHeight / 2}),
      box({kDepth / 2, kPanel / 2, kHeight / 2}, {0, kWidth / 2 - kPanel / 2, kHeight / 2}),
      box({kPanel / 2, half_inner_width, kHeight / 2}, {kDepth / 2 - kPanel / 2, 0, kHeight / 2})};
  for (int level = 0; level < 4; ++level) {
    const double z = kPanel / 2 + level * (bay_height + kPanel);
    carcass.push_back(
        box({kDepth / 2 - kPanel / 2, half_inner_width, kPanel / 2}, {-kPanel / 2, 0, z}));
  }
  std::string body =
      body_open(name, placement) + writer.solid(carcass, kWoodDensity, name + "_wood");

  // Drawers, bottom to top; each body's frame sits at its bay's floor.
  const char* levels[3] = {"bottom", "middle", "top"};
  const double front_x = -kDepth / 2;                       // front face of the carcass
  const double inner_front_x = front_x + kPanel;            // back face of the drawer front
  const double inner_back_x = kDepth / 2 - kPanel - 0.008;  // outer face of the drawer back
  const double half_width = half_inner_width - kClearance;
  const double interior_half_depth = (inner_back_x - kDrawerWall - inner_front_x) / 2;
  const double interior_center_x = inner_front_x + interior_half_depth;
  const double box_half_depth = (inner_back_x - inner_front_x) / 2;
  const double box_center_x = (inner_back_x + inner_front_x) / 2;
  const double wall_half_z = kDrawerWallHeight / 2;
  for (int i = 0; i < 3; ++i) {
    const std::string drawer = name + "_" + levels[i] + "_drawer";
    const double floor_z = kPanel + i * (bay_height + kPanel);
    const double wall_z = kClearance + wall_half_z;
    const std::vector<Part> drawer_box{// Front panel, base, two sides, back.
                                       box({kPanel / 2, half_width, bay_height / 2 - kClearance},
                                           {front_x + kPanel / 2, 0, bay_height / 2}),
                                       box({box_half_depth, half_width, kDrawerWall / 2},
                                           {box_center_x, 0, kClearance + kDrawerWall / 2}),
                                       box({box_half_depth, kDrawerWall / 2, wall_half_z},
                                           {box_center_x, -half_width + kDrawerWall / 2, wall_z}),
                                       box({box_half_depth, kDrawerWall / 2, wall_half_z},
                                           {box_center_x, half_width - kDrawerWall / 2, wall_z}),
                                       box({kDrawerWall / 2, half_width, wall_half_z},
                                           {inner_back_x - kDrawerWall / 2, 0, wall_z})};
    // Handle: a bar along y held off the front by two posts.
    const double handle_z = bay_height * 0.6;
    const double post_half_x = (kHandleReach - kHandleRadius) / 2;
    const std::vector<Part> handle{
        {"capsule",
         {kHandleRadius, kHandleHalfLength},
         {front_x - kHandleReach, 0, handle_z},
         about_x(kPi / 2),
         ""},
        box({post_half_x, 0.004, 0.004},
            {front_x - post_half_x, -kHandleHalfLength + 0.004, handle_z}),
        box({post_half_x, 0.004, 0.004},
            {front_x - post_half_x, kHandleHalfLength - 0.004, handle_z})};

    const std::string region = name + "_" + levels[i] + "_region";
    const std::string joint = drawer + "_joint";
    body += "<body name=\"" + drawer + "\" pos=\"0 0 " + num(floor_z) + "\">\n" + "<joint name=\"" +
            joint +
            "\" type=\"slide\" axis=\"1 0 0\" limited=\"true\" range=\"-0.18 0.01\" "
            "damping=\"10\" frictionloss=\"0.2\" armature=\"0.05\"/>\n" +
            writer.solid(drawer_box, kWoodDensity, name + "_front");
    for (const Part& part : handle) {
      body += writer.collision(part, -1, kWoodDensity) + writer.visual(part, name + "_metal");
    }
    const double region_bottom = kClearance + kDrawerWall;
    const double region_top = kClearance + kDrawerWallHeight;
    body += site(region,
                 {interior_half_depth, half_width - kDrawerWall, (region_top - region_bottom) / 2},
                 {interior_center_x, 0, (region_top + region_bottom) / 2}) +
            "</body>\n";
    built.info.region_sites.push_back(region);
    built.info.region_joints[region] = joint;
  }

  const std::string top_side = name + "_top_side";
  body += site(top_side, {kDepth / 2 - 0.01, kWidth / 2 - 0.01, 0.005}, {0, 0, kHeight - 0.005}) +
          "</body>\n";
  built.info.region_sites.push_back(top_side);
  built.mjcf.body = body;
  built.info.bottom_z = 0;
  const double reach = kDepth / 2 + kHandleReach + kHandleRadius;
  built.info.half_extents = {reach, kWidth / 2, kHeight / 2};
  return built;
}

// Flat induction stove with one knob: origin at the bottom centre, knob at the
// front right (-x, +y). The burner's visual geoms NAME_burner and
// NAME_burner_inner carry plain rgba (no material), so a renderer may recolour
// them at run time when the knob is on.
Built flat_stove(const std::string& name, const Placement& placement) {
  constexpr Vec3 kHalf{0.125, 0.125, 0.02};  // half extents of the slab, m
  constexpr double kKnobRadius = 0.016;      // m
  constexpr double kKnobHalfHeight = 0.008;  // m
  constexpr double kLine = 0.0008;           // height of the drawn burner rings, m
  const double top = 2 * kHalf[2];

  Built built = free_object_shell("flat_stove", name);
  built.info.fixture = true;
  GeomWriter writer(name, Contact{});
  const Profile outer_ring{{0.062, top}, {0.075, top}, {0.075, top + kLine}, {0.062, top + kLine}};
  const Profile inner_ring{{0.03, top}, {0.036, top}, {0.036, top + kLine}, {0.03, top + kLine}};
  built.mjcf.assets = mesh_mjcf(name + "_burner_mesh", revolve(outer_ring, 48)) + "\n" +
                      mesh_mjcf(name + "_burner_inner_mesh", revolve(inner_ring, 48)) + "\n" +
                      material(name + "_glass", {0.05, 0.05, 0.06, 1}, 0.9, 0.9) +
                      material(name + "_frame", {0.55, 0.55, 0.57, 1}, 0.6, 0.5) +
                      material(name + "_knob", {0.15, 0.15, 0.15, 1}, 0.5, 0.5) +
                      material(name + "_mark", {0.9, 0.9, 0.9, 1}, 0.3, 0.3);

  const std::array<double, 4> burner_rgba{0.35, 0.33, 0.33, 1};
  std::string body =
      body_open(name, placement) + writer.collision(box(kHalf, {0, 0, kHalf[2]}), 5) +
      writer.visual(box({kHalf[0], kHalf[1], kHalf[2] - 0.001}, {0, 0, kHalf[2] - 0.001}),
                    name + "_frame") +
      writer.visual(box({kHalf[0] - 0.006, kHalf[1] - 0.006, 0.001}, {0, 0, top - 0.001}),
                    name + "_glass") +
      writer.visual({"mesh", {}, {}, {1, 0, 0, 0}, name + "_burner_mesh"}, "", name + "_burner",
                    burner_rgba) +
      writer.visual({"mesh", {}, {}, {1, 0, 0, 0}, name + "_burner_inner_mesh"}, "",
                    name + "_burner_inner", burner_rgba);

  // Knob: a hinged dial on the top surface with a fin to turn it by.
  const std::string joint = name + "_knob_joint";
  const std::vector<Part> knob{
      {"cylinder", {kKnobRadius, kKnobHalfHeight}, {0, 0, kKnobHalfHeight}, {1, 0, 0, 0}, ""},
      box({kKnobRadius - 0.002, 0.003, 0.006}, {0, 0, 2 * kKnobHalfHeight + 0.006})};
  writer.set_contact(grasp_contact());
  body += "<body name=\"" + name + "_knob\" pos=\"-0.095 0.095 " + num(top) + "\">\n" +
          "<joint name=\"" + joint +
          "\" type=\"hinge\" axis=\"0 0 1\" limited=\"true\" range=\"-0.5 1.6\" damping=\"0.005\" "
          "frictionloss=\"0.002\" armature=\"0.0005\"/>\n";
  body += writer.collision(knob[0], -1, kKnobDensity) + writer.visual(knob[0], name + "_knob") +
          writer.collision(knob[1], -1, kKnobDensity) + writer.visual(knob[1], name + "_knob") +
          writer.visual(
              box({0.004, 0.0015, 0.0005}, {kKnobRadius - 0.006, 0, 2 * kKnobHalfHeight + 0.0005}),
              name + "_mark") +
          "</body>\n";

  const std::string region = name + "_cook_region";
  body += site(region, {0.07, 0.07, 0.005}, {0, 0, top - 0.005}) + "</body>\n";
  built.mjcf.body = body;
  built.info.region_sites = {region};
  built.info.knob_joint = joint;
  built.info.bottom_z = 0;
  built.info.half_extents = {kHalf[0], kHalf[1], (top + 2 * kKnobHalfHeight + 0.012) / 2};
  return built;
}

// ---------------------------------------------------------------------------
// Registry.

using Builder = Built (*)(const std::string& name, const Placement& placement);

const std::vector<std::pair<std::string, Builder>>& registry() {
  static const std::vector<std::pair<std::string, Builder>> entries{
      {"table", &table},           {"akita_black_bowl", &akita_black_bowl},
      {"plate", &plate},           {"glazed_rim_porcelain_ramekin", &glazed_rim_porcelain_ramekin},
      {"cookies", &cookies},       {"wooden_cabinet", &wooden_cabinet},
      {"flat_stove", &flat_stove},
  };
  return entries;
}

Built build(const std::string& category, const std::string& name, const Placement& placement) {
  for (const auto& [known, builder] : registry()) {
    if (known != category) continue;
    if (name.empty()) {
      throw std::runtime_error("assets: empty instance name for category '" + category + "'");
    }
    return builder(name, placement);
  }
  std::string valid;
  for (const auto& [known, builder] : registry()) valid += (valid.empty() ? "" : ", ") + known;
  throw std::runtime_error("assets: unknown object category '" + category + "' (valid: " + valid +
                           ")");
}

}  // namespace

std::vector<std::string> categories() {
  std::vector<std::string> names;
  for (const auto& [category, builder] : registry()) names.push_back(category);
  return names;
}

bool is_known(const std::string& category) {
  for (const auto& [known, builder] : registry()) {
    if (known == category) return true;
  }
  return false;
}

ObjectMjcf make(const std::string& category, const std::string& name, const Placement& placement) {
  return build(category, name, placement).mjcf;
}

ObjectInfo info(const std::string& category, const std::string& name) {
  return build(category, name, Placement{}).info;
}

}  // namespace envs::assets
