// Free objects beyond the tabletop basics: groceries, mugs, kitchenware and
// books (see envs/assets.h for the conventions).
//
// Every object here stands upright with its origin at the bottom centre
// (bottom_z = 0). Round bodies stand on a square collision foot and float
// kFootLift above a level support, so a box support touches them with four
// box-box contacts; tilted, the round body takes over.
#include "envs/assets_build.h"

namespace envs::assets::detail {

namespace {

using Rgba = std::array<double, 4>;

constexpr double kFootLift = 0.0015;   // gap under a round body standing on its foot, m
constexpr double kFootHeight = 0.004;  // square foot height, m
constexpr double kFootShare = 0.65;    // foot half side / body radius
constexpr double kSkin = 0.0005;       // printed labels stand this far off a surface, m
constexpr int kBottleSegments = 32;    // segments of revolved bottle and can meshes
constexpr int kRoundFaces = 16;        // faces of the collision polygon of a round body

// A collision or visual part with its volume (m^3), which meshes cannot compute.
struct Piece {
  Part part;
  double volume = 0;
};

Piece solid_piece(const Part& part) { return {part, volume(part)}; }

Part cylinder(double radius, double bottom, double top) {
  return {"cylinder", {radius, (top - bottom) / 2}, {0, 0, (bottom + top) / 2}, {1, 0, 0, 0}, ""};
}

// A round solid as flat-faced boxes: each covers two opposite faces of a
// regular `count`-gon (circumradius `radius`, scaled along y by `squash`), so
// a gripper pad or a support meets a flat face with several contacts instead
// of a curved surface with one. An oval (squash < 1) takes two crossed boxes.
std::vector<Piece> polygon_prism(double radius, double bottom, double top, int count,
                                 double squash = 1) {
  const double half_z = (top - bottom) / 2;
  const Vec3 center{0, 0, (bottom + top) / 2};
  if (squash != 1) {
    return {solid_piece(box({0.94 * radius, 0.55 * squash * radius, half_z}, center)),
            solid_piece(box({0.55 * radius, 0.94 * squash * radius, half_z}, center))};
  }
  const double apothem = radius * std::cos(kPi / count);
  const double half_side = radius * std::sin(kPi / count);
  std::vector<Piece> pieces;
  for (int i = 0; i < count / 2; ++i) {
    pieces.push_back(
        solid_piece(box({apothem, half_side, half_z}, center, about_z(2 * kPi * i / count))));
  }
  return pieces;
}

Part capsule(double radius, double half_length, const Vec3& pos, const Quat& quat) {
  return {"capsule", {radius, half_length}, pos, quat, ""};
}

Part mesh_part(const std::string& mesh, const Vec3& pos = {}, const Quat& quat = {1, 0, 0, 0}) {
  return {"mesh", {}, pos, quat, mesh};
}

// Square foot under a round body of the given radius.
Part foot(double radius) {
  const double half = kFootShare * radius;
  return box({half, half, kFootHeight / 2}, {0, 0, kFootHeight / 2});
}

std::string free_joint(const std::string& name) {
  return "<freejoint name=\"" + name + "_joint\"/>\n";
}

// Collision geoms sharing `shared_mass` (kg) in proportion to their volumes;
// the first piece carries `ballast` (kg) on top of its share.
std::string collision_by_volume(GeomWriter& writer, const std::vector<Piece>& pieces,
                                double shared_mass, double ballast = 0) {
  double total_volume = 0;
  for (const Piece& piece : pieces) total_volume += piece.volume;
  std::string out;
  for (size_t i = 0; i < pieces.size(); ++i) {
    const double share = shared_mass * pieces[i].volume / total_volume;
    out += writer.collision(pieces[i].part, share + (i == 0 ? ballast : 0));
  }
  return out;
}

// Matte printed colour and shiny metal or glass.
std::string paint(const std::string& name, const Rgba& rgba) {
  return material(name, rgba, 0.25, 0.3);
}
std::string gloss(const std::string& name, const Rgba& rgba) {
  return material(name, rgba, 0.8, 0.8);
}

// Stretches a mesh along y (oval bottles).
Mesh scale_y(Mesh mesh, double factor) {
  for (size_t i = 1; i < mesh.vertices.size(); i += 3) {
    mesh.vertices[i] = static_cast<float>(mesh.vertices[i] * factor);
  }
  return mesh;
}

// A prism: a convex counter-clockwise polygon in the (x, z) plane extruded
// along y over [-half_y, half_y], with outward faces.
Mesh extrude_y(const std::vector<std::array<double, 2>>& polygon, double half_y) {
  Mesh mesh;
  const int count = static_cast<int>(polygon.size());
  for (double y : {-half_y, half_y}) {
    for (const auto& point : polygon) {
      for (double value : {point[0], y, point[1]})
        mesh.vertices.push_back(static_cast<float>(value));
    }
  }
  // Caps: a counter-clockwise (x, z) polygon faces -y as given.
  for (int i = 1; i + 1 < count; ++i) {
    mesh.faces.insert(mesh.faces.end(), {0, i, i + 1});
    mesh.faces.insert(mesh.faces.end(), {count, count + i + 1, count + i});
  }
  for (int i = 0; i < count; ++i) {
    const int a = i, b = (i + 1) % count;
    mesh.faces.insert(mesh.faces.end(), {a, b + count, b});
    mesh.faces.insert(mesh.faces.end(), {a, a + count, b + count});
  }
  return mesh;
}

// ---------------------------------------------------------------------------
// Groceries.

// A food can: two label colours split at a height, a small emblem on the -x side.
struct CanLook {
  double radius = 0.032;  // m
  double height = 0.09;   // m
  double mass = 0.35;     // kg
  double split = 0.5;     // label split height / can height
  Rgba lower{}, upper{};  // label colours below and above the split
  Rgba emblem{};          // emblem on the -x side
};

Built can(const std::string& category, const std::string& name, const Placement& placement,
          const CanLook& look) {
  constexpr double kLid = 0.004;  // silver lid and bottom rim height, m
  const double r = look.radius, h = look.height;
  const double split_z = kLid + look.split * (h - 2 * kLid);

  Built built = free_object_shell(category, name);
  GeomWriter writer(name, grasp_contact());
  built.mjcf.assets = gloss(name + "_tin", {0.78, 0.79, 0.8, 1}) +
                      paint(name + "_lower", look.lower) + paint(name + "_upper", look.upper) +
                      paint(name + "_emblem", look.emblem);
  std::vector<Piece> pieces = polygon_prism(r, kFootLift, h, kRoundFaces);
  pieces.insert(pieces.begin(), solid_piece(foot(r)));
  built.mjcf.body =
      body_open(name, placement) + free_joint(name) +
      collision_by_volume(writer, pieces, look.mass) +
      writer.visual(cylinder(r - 0.001, 0, kLid), name + "_tin") +
      writer.visual(cylinder(r, kLid, split_z), name + "_lower") +
      writer.visual(cylinder(r, split_z, h - kLid), name + "_upper") +
      writer.visual(cylinder(r - 0.001, h - kLid, h), name + "_tin") +
      writer.visual(box({0.002, 0.011, 0.011}, {-r + 0.0015, 0, split_z}), name + "_emblem") +
      "</body>\n";
  built.info.half_extents = {r, r, h / 2};
  return built;
}

Built alphabet_soup(const std::string& name, const Placement& placement) {
  return can("alphabet_soup", name, placement,
             {0.032,
              0.09,
              0.35,
              0.55,
              {0.93, 0.92, 0.88, 1},
              {0.78, 0.08, 0.08, 1},
              {0.85, 0.68, 0.2, 1}});
}

Built tomato_sauce(const std::string& name, const Placement& placement) {
  return can(
      "tomato_sauce", name, placement,
      {0.03, 0.08, 0.3, 0.65, {0.47, 0.05, 0.06, 1}, {0.16, 0.5, 0.16, 1}, {0.95, 0.93, 0.85, 1}});
}

// A printed box: body colour, a band around the sides and a panel on top.
struct BoxLook {
  Vec3 size{};        // full width (x), depth (y), height (z), m
  double mass = 0.1;  // kg
  Rgba body{}, band{}, panel{};
  double band_bottom = 0.3, band_top = 0.75;  // band span / height
};

Built printed_box(const std::string& category, const std::string& name, const Placement& placement,
                  const BoxLook& look) {
  const Vec3 half{look.size[0] / 2, look.size[1] / 2, look.size[2] / 2};
  const double band_low = look.band_bottom * look.size[2];
  const double band_high = look.band_top * look.size[2];

  Built built = free_object_shell(category, name);
  GeomWriter writer(name, grasp_contact());
  built.mjcf.assets = paint(name + "_body", look.body) + paint(name + "_band", look.band) +
                      paint(name + "_panel", look.panel);
  built.mjcf.body =
      body_open(name, placement) + free_joint(name) +
      writer.collision(box(half, {0, 0, half[2]}), look.mass) +
      writer.visual(box(half, {0, 0, half[2]}), name + "_body") +
      writer.visual(box({half[0] + kSkin, half[1] + kSkin, (band_high - band_low) / 2},
                        {0, 0, (band_low + band_high) / 2}),
                    name + "_band") +
      writer.visual(box({0.65 * half[0], 0.6 * half[1], kSkin}, {0, 0, look.size[2]}),
                    name + "_panel") +
      "</body>\n";
  built.info.half_extents = half;
  return built;
}

Built cream_cheese(const std::string& name, const Placement& placement) {
  return printed_box("cream_cheese", name, placement,
                     {{0.062, 0.044, 0.03},
                      0.12,
                      {0.66, 0.68, 0.72, 1},
                      {0.12, 0.28, 0.72, 1},
                      {0.96, 0.96, 0.97, 1},
                      0.25,
                      0.8});
}

Built butter(const std::string& name, const Placement& placement) {
  return printed_box("butter", name, placement,
                     {{0.064, 0.042, 0.034},
                      0.12,
                      {0.96, 0.84, 0.26, 1},
                      {0.97, 0.96, 0.92, 1},
                      {0.8, 0.12, 0.1, 1},
                      0.3,
                      0.7});
}

Built chocolate_pudding(const std::string& name, const Placement& placement) {
  return printed_box("chocolate_pudding", name, placement,
                     {{0.06, 0.05, 0.036},
                      0.1,
                      {0.33, 0.18, 0.08, 1},
                      {0.95, 0.5, 0.08, 1},
                      {0.96, 0.9, 0.8, 1},
                      0.2,
                      0.65});
}

// A gable-top carton: square body, a roof ridge along y and a sealed fin on top.
Built carton(const std::string& category, const std::string& name, const Placement& placement,
             const Rgba& body_colour, const Rgba& print_colour) {
  constexpr double kHalf = 0.03;    // body half width, m
  constexpr double kEave = 0.1;     // body top, m
  constexpr double kRidge = 0.122;  // roof ridge, m
  constexpr double kTop = 0.13;     // fin top, m
  constexpr double kMass = 0.35;    // kg
  const Mesh roof = extrude_y({{-kHalf, kEave}, {kHalf, kEave}, {0, kRidge}}, kHalf);

  Built built = free_object_shell(category, name);
  GeomWriter writer(name, grasp_contact());
  built.mjcf.assets = mesh_mjcf(name + "_roof", roof) + "\n" + paint(name + "_body", body_colour) +
                      paint(name + "_print", print_colour);
  const Part body = box({kHalf, kHalf, kEave / 2}, {0, 0, kEave / 2});
  const Part fin = box({0.002, kHalf, (kTop - kRidge) / 2}, {0, 0, (kRidge + kTop) / 2});
  const std::vector<Piece> pieces{
      solid_piece(body), {mesh_part(name + "_roof"), signed_volume(roof)}, solid_piece(fin)};
  built.mjcf.body =
      body_open(name, placement) + free_joint(name) + collision_by_volume(writer, pieces, kMass) +
      writer.visual(body, name + "_body") +
      writer.visual(box({kHalf + kSkin, kHalf + kSkin, 0.028}, {0, 0, 0.048}), name + "_print") +
      writer.visual(mesh_part(name + "_roof"), name + "_print") +
      writer.visual(fin, name + "_body") + "</body>\n";
  built.info.half_extents = {kHalf, kHalf, kTop / 2};
  return built;
}

Built milk(const std::string& name, const Placement& placement) {
  return carton("milk", name, placement, {0.96, 0.96, 0.95, 1}, {0.15, 0.35, 0.8, 1});
}

Built orange_juice(const std::string& name, const Placement& placement) {
  return carton("orange_juice", name, placement, {0.98, 0.55, 0.1, 1}, {0.2, 0.58, 0.2, 1});
}

// A bottle: body and rounded shoulder (one convex revolved mesh, oval when
// squash < 1), a round neck and a cap or foil.
struct BottleLook {
  double radius = 0.03;        // body radius along x, m
  double squash = 1;           // body radius along y / along x
  double body_top = 0.1;       // where the shoulder starts, m
  double shoulder_top = 0.13;  // where the neck starts, m
  double neck_radius = 0.012;  // m
  double neck_top = 0.135;     // m
  double cap_radius = 0.015;   // m
  double cap_top = 0.15;       // m
  double mass = 0.4;           // kg
  double ballast = 0;          // part of `mass` in the foot (thick glass bottom), kg
  double label_bottom = 0.03, label_top = 0.08;  // label band span, m
  Rgba body{}, label{}, cap{};
  bool glass = false;  // glossy body
};

Built bottle(const std::string& category, const std::string& name, const Placement& placement,
             const BottleLook& look) {
  const double r = look.radius;
  Profile shoulder{{0, look.body_top}};
  for (int i = 0; i <= 8; ++i) {
    const double u = i / 8.0;
    shoulder.push_back({look.neck_radius + (r - look.neck_radius) * std::cos(kPi / 2 * u),
                        look.body_top + (look.shoulder_top - look.body_top) * u});
  }
  shoulder.push_back({0, look.shoulder_top});
  Profile profile{{0, 0}, {r - 0.003, 0}, {r, 0.003}};
  profile.insert(profile.end(), shoulder.begin() + 1, shoulder.end());
  const Mesh body = scale_y(revolve(profile, kBottleSegments), look.squash);
  const Mesh shoulder_hull = scale_y(revolve(shoulder, kBottleSegments), look.squash);
  const Mesh label = scale_y(revolve({{0, look.label_bottom},
                                      {r + kSkin, look.label_bottom},
                                      {r + kSkin, look.label_top},
                                      {0, look.label_top}},
                                     kBottleSegments),
                             look.squash);

  Built built = free_object_shell(category, name);
  GeomWriter writer(name, grasp_contact());
  built.mjcf.assets = mesh_mjcf(name + "_body_mesh", body) + "\n" +
                      mesh_mjcf(name + "_shoulder_mesh", shoulder_hull) + "\n" +
                      mesh_mjcf(name + "_label_mesh", label) + "\n" +
                      (look.glass ? gloss(name + "_body", look.body)
                                  : material(name + "_body", look.body, 0.5, 0.6)) +
                      paint(name + "_label", look.label) + gloss(name + "_cap", look.cap);
  // Collision: foot, flat-faced body, the convex shoulder, flat-faced neck and cap.
  std::vector<Piece> pieces{solid_piece(foot(r * std::min(1.0, look.squash)))};
  const auto add = [&pieces](const std::vector<Piece>& more) {
    pieces.insert(pieces.end(), more.begin(), more.end());
  };
  add(polygon_prism(r, kFootLift, look.body_top, kRoundFaces, look.squash));
  pieces.push_back({mesh_part(name + "_shoulder_mesh"), signed_volume(shoulder_hull)});
  add(polygon_prism(look.neck_radius, look.shoulder_top, look.neck_top, 8));
  add(polygon_prism(look.cap_radius, look.neck_top, look.cap_top, 8));
  built.mjcf.body =
      body_open(name, placement) + free_joint(name) +
      collision_by_volume(writer, pieces, look.mass - look.ballast, look.ballast) +
      writer.visual(mesh_part(name + "_body_mesh"), name + "_body") +
      writer.visual(cylinder(look.neck_radius, look.shoulder_top, look.neck_top), name + "_body") +
      writer.visual(mesh_part(name + "_label_mesh"), name + "_label") +
      writer.visual(cylinder(look.cap_radius, look.neck_top, look.cap_top), name + "_cap") +
      "</body>\n";
  built.info.half_extents = {r, r * look.squash, look.cap_top / 2};
  return built;
}

Built ketchup(const std::string& name, const Placement& placement) {
  BottleLook look;
  look.radius = 0.03;
  look.squash = 0.75;
  look.body_top = 0.095;
  look.shoulder_top = 0.125;
  look.neck_radius = 0.013;
  look.neck_top = 0.128;
  look.cap_radius = 0.016;
  look.cap_top = 0.15;
  look.mass = 0.4;
  look.label_bottom = 0.03;
  look.label_top = 0.075;
  look.body = {0.72, 0.06, 0.04, 1};
  look.label = {0.97, 0.95, 0.88, 1};
  look.cap = {0.97, 0.96, 0.94, 1};
  return bottle("ketchup", name, placement, look);
}

Built bbq_sauce(const std::string& name, const Placement& placement) {
  BottleLook look;
  look.radius = 0.031;
  look.squash = 0.8;
  look.body_top = 0.1;
  look.shoulder_top = 0.135;
  look.neck_radius = 0.012;
  look.neck_top = 0.14;
  look.cap_radius = 0.015;
  look.cap_top = 0.16;
  look.mass = 0.45;
  look.label_bottom = 0.025;
  look.label_top = 0.08;
  look.body = {0.22, 0.09, 0.04, 1};
  look.label = {0.88, 0.22, 0.1, 1};
  look.cap = {0.05, 0.05, 0.05, 1};
  return bottle("bbq_sauce", name, placement, look);
}

Built salad_dressing(const std::string& name, const Placement& placement) {
  BottleLook look;
  look.radius = 0.028;
  look.body_top = 0.12;
  look.shoulder_top = 0.15;
  look.neck_radius = 0.011;
  look.neck_top = 0.155;
  look.cap_radius = 0.014;
  look.cap_top = 0.175;
  look.mass = 0.4;
  look.label_bottom = 0.035;
  look.label_top = 0.09;
  look.body = {0.93, 0.88, 0.6, 1};
  look.label = {0.3, 0.55, 0.2, 1};
  look.cap = {0.15, 0.42, 0.15, 1};
  return bottle("salad_dressing", name, placement, look);
}

// ---------------------------------------------------------------------------
// Mugs.

struct MugLook {
  Rgba outside{};         // outer glaze
  Rgba inside{};          // inner glaze, rim and the band above the sleeve
  double sleeve_top = 0;  // outer glaze covers the wall up to here; 0: all `inside` colour, m
};

// A mug with its handle along +x of the body frame: origin at the bottom centre.
Built mug(const std::string& category, const std::string& name, const Placement& placement,
          const MugLook& look) {
  constexpr double kRadius = 0.04;                     // outer radius, m
  constexpr double kHeight = 0.09;                     // m
  constexpr double kWall = 0.006;                      // m
  constexpr double kFloor = 0.008;                     // inner floor height, m
  constexpr double kMass = 0.3;                        // kg
  constexpr double kReach = 0.024;                     // handle grip centre beyond the wall, m
  constexpr double kGrip = 0.0045;                     // handle bar radius, m
  constexpr double kArmLow = 0.022, kArmHigh = 0.068;  // handle arm heights, m
  constexpr double kInner = kRadius - kWall;

  const Profile profile{{0, 0},
                        {kRadius - 0.004, 0},
                        {kRadius, 0.004},
                        {kRadius, kHeight - 0.002},
                        {kRadius - 0.002, kHeight},
                        {kInner + 0.002, kHeight},
                        {kInner, kHeight - 0.002},
                        {kInner, kFloor + 0.003},
                        {kInner - 0.003, kFloor},
                        {0, kFloor}};

  Built built = free_object_shell(category, name);
  GeomWriter writer(name, grasp_contact());
  built.mjcf.assets = mesh_mjcf(name + "_mesh", revolve(profile, kRevolveSegments)) + "\n" +
                      material(name + "_inside", look.inside, 0.6, 0.7) +
                      material(name + "_outside", look.outside, 0.6, 0.7);
  std::string visuals = writer.visual(mesh_part(name + "_mesh"), name + "_inside");
  if (look.sleeve_top > 0) {
    const Profile sleeve{{kRadius - 0.001, 0.003},
                         {kRadius + kSkin, 0.003},
                         {kRadius + kSkin, look.sleeve_top},
                         {kRadius - 0.001, look.sleeve_top}};
    built.mjcf.assets += mesh_mjcf(name + "_sleeve", revolve(sleeve, kRevolveSegments)) + "\n";
    visuals += writer.visual(mesh_part(name + "_sleeve"), name + "_outside");
  }

  // Handle along +x: two arms from the wall and an upright grip.
  const double grip_x = kRadius + kReach;
  const double arm_half = (kReach + 0.004) / 2;
  const double arm_x = kRadius - 0.004 + arm_half;
  const double grip_half = (kArmHigh - kArmLow) / 2;
  const Quat along_x = about_y(kPi / 2);
  for (double z : {kArmLow, kArmHigh}) {
    visuals += writer.visual(capsule(kGrip, arm_half, {arm_x, 0, z}, along_x), name + "_outside");
  }
  visuals += writer.visual(capsule(kGrip, grip_half, {grip_x, 0, (kArmLow + kArmHigh) / 2}, {}),
                           name + "_outside");

  // The base stays inside the wall's radius so its corners do not stick out.
  std::vector<Part> parts = base_disk(kRadius - 0.002, 8, 0, kFloor);
  for (const Part& part : wall_ring({kRadius, 0.002}, {kRadius, kHeight}, kWall, kRingBoxes)) {
    parts.push_back(part);
  }
  for (double z : {kArmLow, kArmHigh}) {
    parts.push_back(box({arm_half, 0.005, 0.004}, {arm_x, 0, z}));
  }
  parts.push_back(box({0.004, 0.005, grip_half + 0.004}, {grip_x, 0, (kArmLow + kArmHigh) / 2}));

  built.mjcf.body = body_open(name, placement) + free_joint(name) +
                    writer.collision_with_mass(parts, kMass) + visuals +
                    site(name + "_contain_region", {0.022, 0.022, (kHeight - kFloor) / 2},
                         {0, 0, (kHeight + kFloor) / 2}) +
                    "</body>\n";
  built.info.region_sites = {name + "_contain_region"};
  built.info.half_extents = {grip_x + kGrip, kRadius, kHeight / 2};
  built.info.rim_wall = kWall;
  return built;
}

Built porcelain_mug(const std::string& name, const Placement& placement) {
  return mug("porcelain_mug", name, placement, {{0.95, 0.95, 0.93, 1}, {0.95, 0.95, 0.93, 1}, 0});
}

Built white_yellow_mug(const std::string& name, const Placement& placement) {
  return mug("white_yellow_mug", name, placement,
             {{0.96, 0.96, 0.94, 1}, {0.97, 0.8, 0.18, 1}, 0.062});
}

Built red_coffee_mug(const std::string& name, const Placement& placement) {
  return mug("red_coffee_mug", name, placement, {{0.72, 0.07, 0.07, 1}, {0.72, 0.07, 0.07, 1}, 0});
}

// ---------------------------------------------------------------------------
// Kitchenware and a book.

// Octagonal aluminium moka pot: a wide lower chamber, a waist, an upper chamber
// with a lid and knob, a black handle along +x and the spout along -x. Flats of
// the octagon face +-x and +-y; the gripper pinches the upper chamber across y.
Built moka_pot(const std::string& name, const Placement& placement) {
  constexpr double kMass = 0.4;  // kg
  const Quat flats = about_z(kPi / 8);
  const std::vector<std::pair<std::string, Profile>> sections{
      {"lower", {{0, 0}, {0.046, 0}, {0.048, 0.003}, {0.044, 0.065}, {0.04, 0.072}, {0, 0.072}}},
      {"waist", {{0, 0.072}, {0.03, 0.072}, {0.03, 0.086}, {0, 0.086}}},
      {"upper", {{0, 0.086}, {0.03, 0.086}, {0.0345, 0.145}, {0, 0.145}}},
      {"lid", {{0, 0.145}, {0.0345, 0.145}, {0.0345, 0.151}, {0.02, 0.16}, {0, 0.16}}}};

  Built built = free_object_shell("moka_pot", name);
  GeomWriter writer(name, grasp_contact());
  built.mjcf.assets = gloss(name + "_aluminium", {0.72, 0.73, 0.75, 1}) +
                      material(name + "_bakelite", {0.04, 0.04, 0.04, 1}, 0.3, 0.3);
  std::vector<Piece> pieces{solid_piece(foot(0.044))};
  std::string visuals;
  for (const auto& [section, profile] : sections) {
    const Mesh mesh = revolve(profile, 8);
    const std::string mesh_name = name + "_" + section;
    built.mjcf.assets += mesh_mjcf(mesh_name, mesh) + "\n";
    if (section == "upper") {
      // Where the gripper takes hold: flat faces at the top's width.
      const std::vector<Piece> upper = polygon_prism(0.0345, 0.086, 0.151, 8);
      pieces.insert(pieces.end(), upper.begin(), upper.end());
    } else {
      // The lower chamber floats on the foot like every round body.
      const double lift = section == "lower" ? kFootLift : 0;
      pieces.push_back({mesh_part(mesh_name, {0, 0, lift}, flats), signed_volume(mesh)});
    }
    visuals += writer.visual(mesh_part(mesh_name, {}, flats), name + "_aluminium");
  }
  const Part knob = cylinder(0.008, 0.16, 0.17);
  const Part bracket = box({0.011, 0.006, 0.005}, {0.04, 0, 0.138});
  const Part grip = box({0.007, 0.007, 0.026}, {0.055, 0, 0.112}, about_y(0.25));
  const Part spout = box({0.009, 0.006, 0.005}, {-0.036, 0, 0.14});
  for (const Part& part : {knob, bracket, grip}) {
    pieces.push_back(solid_piece(part));
    visuals += writer.visual(part, name + "_bakelite");
  }
  pieces.push_back(solid_piece(spout));
  visuals += writer.visual(spout, name + "_aluminium");

  built.mjcf.body = body_open(name, placement) + free_joint(name) +
                    collision_by_volume(writer, pieces, kMass) + visuals + "</body>\n";
  built.info.half_extents = {0.07, 0.045, 0.085};
  return built;
}

// Dark green half bottle of wine (0.25 m, 375 ml) with a label and a foil
// cap; its thick bottom keeps the centre of mass low.
Built wine_bottle(const std::string& name, const Placement& placement) {
  BottleLook look;
  look.radius = 0.033;
  look.body_top = 0.155;
  look.shoulder_top = 0.195;
  look.neck_radius = 0.012;
  look.neck_top = 0.215;
  look.cap_radius = 0.0135;
  look.cap_top = 0.25;
  look.mass = 0.5;
  look.ballast = 0.12;
  look.label_bottom = 0.055;
  look.label_top = 0.125;
  look.body = {0.05, 0.22, 0.1, 1};
  look.label = {0.93, 0.9, 0.8, 1};
  look.cap = {0.45, 0.05, 0.08, 1};
  look.glass = true;
  return bottle("wine_bottle", name, placement, look);
}

// Black non-stick frying pan (8 inch) with its handle along +x.
Built chefmate_8_frypan(const std::string& name, const Placement& placement) {
  constexpr double kRadius = 0.1;         // rim radius, m
  constexpr double kFootRadius = 0.075;   // flat underside radius, m
  constexpr double kHeight = 0.04;        // rim height, m
  constexpr double kFloor = 0.005;        // cooking surface height, m
  constexpr double kMass = 0.7;           // kg
  constexpr double kHandleLength = 0.13;  // m, beyond the rim
  const Profile profile{{0, 0},
                        {kFootRadius, 0},
                        {kRadius, kHeight - 0.002},
                        {kRadius - 0.002, kHeight},
                        {kRadius - 0.005, kHeight - 0.001},
                        {kFootRadius - 0.003, kFloor},
                        {0, kFloor}};

  Built built = free_object_shell("chefmate_8_frypan", name);
  GeomWriter writer(name, grasp_contact());
  built.mjcf.assets = mesh_mjcf(name + "_mesh", revolve(profile, kRevolveSegments)) + "\n" +
                      material(name + "_coating", {0.06, 0.06, 0.065, 1}, 0.5, 0.5) +
                      material(name + "_handle", {0.03, 0.03, 0.03, 1}, 0.2, 0.2) +
                      gloss(name + "_steel", {0.7, 0.7, 0.72, 1});
  std::vector<Part> parts = base_disk(kFootRadius, 8, 0, kFloor);
  for (const Part& part :
       wall_ring({kFootRadius + 0.002, 0.002}, {kRadius, kHeight - 0.003}, 0.004, kRingBoxes)) {
    parts.push_back(part);
  }
  const Part handle =
      box({kHandleLength / 2, 0.011, 0.006}, {kRadius - 0.005 + kHandleLength / 2, 0, 0.03});
  parts.push_back(handle);
  built.mjcf.body =
      body_open(name, placement) + free_joint(name) + writer.collision_with_mass(parts, kMass) +
      writer.visual(mesh_part(name + "_mesh"), name + "_coating") +
      writer.visual(handle, name + "_handle") +
      writer.visual(box({0.012, 0.0115, 0.0065}, {kRadius + 0.01, 0, 0.03}), name + "_steel") +
      "</body>\n";
  built.info.half_extents = {kRadius - 0.005 + kHandleLength, kRadius, kHeight / 2};
  return built;
}

// A hardcover book standing on its bottom edge: covers face +-y, the spine
// faces -x and the page edges show at +x and on top.
Built black_book(const std::string& name, const Placement& placement) {
  constexpr Vec3 kHalf{0.065, 0.0175, 0.095};  // half width, thickness, height, m
  constexpr double kMass = 0.4;                // kg
  constexpr double kCover = 0.002;             // cover board thickness, m

  Built built = free_object_shell("black_book", name);
  GeomWriter writer(name, grasp_contact());
  built.mjcf.assets =
      paint(name + "_cover", {0.05, 0.05, 0.06, 1}) + paint(name + "_pages", {0.93, 0.9, 0.8, 1}) +
      paint(name + "_spine", {0.62, 0.1, 0.12, 1}) + gloss(name + "_title", {0.85, 0.68, 0.22, 1});
  const Part body = box(kHalf, {0, 0, kHalf[2]});
  // Page block: inset between the covers, flush with the fore edge and top.
  const Vec3 pages_half{kHalf[0] - kCover / 2 + kSkin / 2, kHalf[1] - kCover,
                        kHalf[2] - kCover / 2 + kSkin / 2};
  built.mjcf.body =
      body_open(name, placement) + free_joint(name) + writer.collision(body, kMass) +
      writer.visual(body, name + "_cover") +
      writer.visual(box(pages_half, {kHalf[0] + kSkin - pages_half[0], 0,
                                     2 * kHalf[2] + kSkin - pages_half[2]}),
                    name + "_pages") +
      writer.visual(box({kSkin, kHalf[1] + kSkin, kHalf[2] - 0.004}, {-kHalf[0], 0, kHalf[2]}),
                    name + "_spine") +
      writer.visual(box({0.04, kSkin, 0.012}, {0, -kHalf[1], 0.14}), name + "_title") +
      writer.visual(box({kSkin * 2, 0.008, 0.03}, {-kHalf[0], 0, 0.14}), name + "_title") +
      "</body>\n";
  built.info.half_extents = kHalf;
  return built;
}

}  // namespace

BuilderList object_builders() {
  return {{"alphabet_soup", &alphabet_soup},
          {"tomato_sauce", &tomato_sauce},
          {"cream_cheese", &cream_cheese},
          {"butter", &butter},
          {"chocolate_pudding", &chocolate_pudding},
          {"milk", &milk},
          {"orange_juice", &orange_juice},
          {"ketchup", &ketchup},
          {"bbq_sauce", &bbq_sauce},
          {"salad_dressing", &salad_dressing},
          {"porcelain_mug", &porcelain_mug},
          {"white_yellow_mug", &white_yellow_mug},
          {"red_coffee_mug", &red_coffee_mug},
          {"moka_pot", &moka_pot},
          {"wine_bottle", &wine_bottle},
          {"chefmate_8_frypan", &chefmate_8_frypan},
          {"black_book", &black_book}};
}

}  // namespace envs::assets::detail
