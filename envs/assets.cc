#include "envs/assets.h"

#include "envs/assets_build.h"

namespace envs::assets {

namespace detail {

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

BuilderList tabletop_builders() {
  return {{"akita_black_bowl", &akita_black_bowl},
          {"plate", &plate},
          {"glazed_rim_porcelain_ramekin", &glazed_rim_porcelain_ramekin},
          {"cookies", &cookies}};
}

}  // namespace detail

// ---------------------------------------------------------------------------
// Registry.

namespace {

using detail::Built;

const detail::BuilderList& registry() {
  static const detail::BuilderList entries = [] {
    detail::BuilderList all;
    for (auto* list : {&detail::fixture_builders, &detail::tabletop_builders, &detail::object_builders}) {
      for (auto& entry : list()) all.push_back(entry);
    }
    return all;
  }();
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
