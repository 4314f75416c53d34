// Fixtures and surfaces: tables, the floor, cabinets, the stove and other
// welded furniture (see envs/assets.h for the conventions).
#include "envs/assets_build.h"

namespace envs::assets::detail {

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
  built.info.surface = true;
  built.info.surface_top = kHeight;
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

BuilderList fixture_builders() {
  return {{"table", &table}, {"wooden_cabinet", &wooden_cabinet}, {"flat_stove", &flat_stove}};
}

}  // namespace envs::assets::detail
