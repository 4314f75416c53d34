// Fixtures and surfaces: tables, the floor, cabinets, the stove, the microwave
// and other welded furniture, and the basket (see envs/assets.h for the
// conventions).
#include "envs/assets_build.h"

namespace envs::assets::detail {

namespace {

constexpr double kPaintDensity = 600;  // kg/m^3, painted wood and sheet metal furniture

// ---------------------------------------------------------------------------
// Surfaces.

// The look of a table.
enum class TableFinish {
  kOak,     // plain wooden table
  kStone,   // light grey stone counter on steel legs (kitchen)
  kWalnut,  // dark walnut (living room)
  kBirch,   // light birch with a felt desk mat (study)
};

// Table of 1.0 x 1.2 m: origin on the floor below the top's centre, top surface at z = 0.9.
Built surface_table(const std::string& category, const std::string& name,
                    const Placement& placement, TableFinish finish) {
  constexpr Vec3 kTopHalf{0.5, 0.6, 0.025};  // table top half extents, m
  constexpr double kHeight = 0.9;            // top surface height, m
  constexpr double kLegHalf = 0.025;         // leg half width, m

  Built built = free_object_shell(category, name);
  built.info.fixture = true;
  GeomWriter writer(name, Contact{});
  std::string top_material = name + "_wood";
  std::string leg_material = top_material;
  switch (finish) {
    case TableFinish::kOak:
      built.mjcf.assets = wood_assets(top_material, {0.62, 0.45, 0.28}, {0.56, 0.4, 0.24});
      break;
    case TableFinish::kStone:
      top_material = name + "_stone";
      leg_material = name + "_steel";
      built.mjcf.assets =
          "<texture name=\"" + top_material +
          "_tex\" type=\"2d\" builtin=\"flat\" rgb1=\"0.8 0.8 0.78\" mark=\"random\" "
          "random=\"0.3\" markrgb=\"0.6 0.6 0.6\" width=\"512\" height=\"512\"/>\n" +
          material(top_material, {1, 1, 1, 1}, 0.5, 0.6, top_material + "_tex", "3 3") +
          material(leg_material, {0.6, 0.61, 0.63, 1}, 0.7, 0.6) +
          material(name + "_edge", {0.5, 0.5, 0.5, 1}, 0.4, 0.5);
      break;
    case TableFinish::kWalnut:
      built.mjcf.assets = wood_assets(top_material, {0.3, 0.18, 0.1}, {0.22, 0.12, 0.06});
      break;
    case TableFinish::kBirch:
      built.mjcf.assets = wood_assets(top_material, {0.86, 0.75, 0.57}, {0.8, 0.68, 0.5}) +
                          material(name + "_mat", {0.16, 0.27, 0.22, 1}, 0.05, 0.1) +
                          material(name + "_mat_edge", {0.08, 0.08, 0.08, 1}, 0.1, 0.1);
      break;
  }

  std::vector<Part> legs;
  const double leg_half_z = (kHeight - 2 * kTopHalf[2]) / 2;
  for (double sx : {-1.0, 1.0}) {
    for (double sy : {-1.0, 1.0}) {
      legs.push_back(box({kLegHalf, kLegHalf, leg_half_z},
                         {sx * (kTopHalf[0] - 0.05), sy * (kTopHalf[1] - 0.05), leg_half_z}));
    }
  }
  std::string body =
      body_open(name, placement) +
      writer.solid({box(kTopHalf, {0, 0, kHeight - kTopHalf[2]})}, kWoodDensity, top_material) +
      writer.solid(legs, kWoodDensity, leg_material);
  if (finish == TableFinish::kStone) {
    // A darker band along the counter's lower edge, just proud of its sides.
    body += writer.visual(box({kTopHalf[0] + 0.002, kTopHalf[1] + 0.002, 0.006},
                              {0, 0, kHeight - 2 * kTopHalf[2] + 0.006}),
                          name + "_edge");
  }
  if (finish == TableFinish::kBirch) {
    // A felt desk mat with a dark edge, flush with the top (visual only).
    body +=
        writer.visual(box({0.23, 0.36, 0.0006}, {-0.05, 0, kHeight - 0.0004}), name + "_mat_edge") +
        writer.visual(box({0.22, 0.35, 0.0006}, {-0.05, 0, kHeight - 0.0002}), name + "_mat");
  }
  built.mjcf.body = body + "</body>\n";
  built.info.bottom_z = 0;
  built.info.half_extents = {kTopHalf[0], kTopHalf[1], kHeight / 2};
  built.info.surface = true;
  built.info.surface_top = kHeight;
  return built;
}

// ---------------------------------------------------------------------------
// Three-drawer cabinets.

enum class CabinetFinish {
  kWood,        // dark wood carcass, lighter wood fronts, steel handles
  kWhitePaint,  // white painted carcass and fronts, dark handles
};

// Cabinet with three drawers: origin at the bottom centre, front at -x.
Built drawer_cabinet(const std::string& category, const std::string& name,
                     const Placement& placement, CabinetFinish finish) {
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

  Built built = free_object_shell(category, name);
  built.info.fixture = true;
  GeomWriter writer(name, Contact{});
  const std::string carcass_material = name + "_carcass";
  const std::string front_material = name + "_front";
  const std::string handle_material = name + "_handle";
  if (finish == CabinetFinish::kWood) {
    built.mjcf.assets = wood_assets(carcass_material, {0.45, 0.28, 0.15}, {0.4, 0.24, 0.12}) +
                        wood_assets(front_material, {0.58, 0.38, 0.21}, {0.52, 0.33, 0.18}) +
                        material(handle_material, {0.7, 0.7, 0.72, 1}, 0.8, 0.7);
  } else {
    built.mjcf.assets = wood_assets(carcass_material, {0.88, 0.88, 0.86}, {0.83, 0.83, 0.81}) +
                        wood_assets(front_material, {0.95, 0.95, 0.93}, {0.91, 0.91, 0.89}) +
                        material(handle_material, {0.1, 0.1, 0.11, 1}, 0.5, 0.5);
  }

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
      body_open(name, placement) + writer.solid(carcass, kWoodDensity, carcass_material);

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
    const Vec3 bar_center{front_x - kHandleReach, 0, handle_z};
    const std::vector<Part> handle{
        {"capsule", {kHandleRadius, kHandleHalfLength}, bar_center, about_x(kPi / 2), ""},
        box({post_half_x, 0.004, 0.004},
            {front_x - post_half_x, -kHandleHalfLength + 0.004, handle_z}),
        box({post_half_x, 0.004, 0.004},
            {front_x - post_half_x, kHandleHalfLength - 0.004, handle_z})};

    const std::string region = name + "_" + levels[i] + "_region";
    const std::string joint = drawer + "_joint";
    const std::string handle_site = name + "_" + levels[i] + "_handle";
    body += "<body name=\"" + drawer + "\" pos=\"0 0 " + num(floor_z) + "\">\n" + "<joint name=\"" +
            joint +
            "\" type=\"slide\" axis=\"1 0 0\" limited=\"true\" range=\"-0.18 0.01\" "
            "damping=\"10\" frictionloss=\"0.2\" armature=\"0.05\"/>\n" +
            writer.solid(drawer_box, kWoodDensity, front_material);
    for (const Part& part : handle) {
      body += writer.collision(part, -1, kWoodDensity) + writer.visual(part, handle_material);
    }
    const double region_bottom = kClearance + kDrawerWall;
    const double region_top = kClearance + kDrawerWallHeight;
    body += site(region,
                 {interior_half_depth, half_width - kDrawerWall, (region_top - region_bottom) / 2},
                 {interior_center_x, 0, (region_top + region_bottom) / 2}) +
            site(handle_site, {kHandleRadius, kHandleHalfLength, kHandleRadius}, bar_center) +
            "</body>\n";
    built.info.region_sites.push_back(region);
    built.info.region_joints[region] = joint;
    built.info.handle_sites[joint] = handle_site;
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

}  // namespace

Built table(const std::string& name, const Placement& placement) {
  return surface_table("table", name, placement, TableFinish::kOak);
}

Built kitchen_table(const std::string& name, const Placement& placement) {
  return surface_table("kitchen_table", name, placement, TableFinish::kStone);
}

Built living_room_table(const std::string& name, const Placement& placement) {
  return surface_table("living_room_table", name, placement, TableFinish::kWalnut);
}

Built study_table(const std::string& name, const Placement& placement) {
  return surface_table("study_table", name, placement, TableFinish::kBirch);
}

// A patterned rug of 1.2 x 1.4 m on the floor: origin at its bottom centre
// (placed at floor level), top face 5 mm up.
Built floor_rug(const std::string& name, const Placement& placement) {
  constexpr Vec3 kHalf{0.6, 0.7, 0.0025};  // half extents, m
  constexpr double kBorder = 0.06;         // width of the rug's border, m

  Built built = free_object_shell("floor", name);
  built.info.fixture = true;
  GeomWriter writer(name, Contact{});
  built.mjcf.assets =
      "<texture name=\"" + name +
      "_pattern\" type=\"2d\" builtin=\"checker\" rgb1=\"0.62 0.5 0.38\" "
      "rgb2=\"0.55 0.42 0.32\" mark=\"edge\" markrgb=\"0.45 0.33 0.25\" "
      "width=\"128\" height=\"128\"/>\n" +
      material(name + "_field", {1, 1, 1, 1}, 0.05, 0.05, name + "_pattern", "5 5") +
      material(name + "_border", {0.35, 0.2, 0.16, 1}, 0.05, 0.05);
  built.mjcf.body =
      body_open(name, placement) + writer.collision(box(kHalf, {0, 0, kHalf[2]}), -1, 300) +
      writer.visual(box({kHalf[0], kHalf[1], kHalf[2] - 0.0002}, {0, 0, kHalf[2] - 0.0002}),
                    name + "_border") +
      writer.visual(
          box({kHalf[0] - kBorder, kHalf[1] - kBorder, 0.0002}, {0, 0, 2 * kHalf[2] - 0.0002}),
          name + "_field") +
      "</body>\n";
  built.info.bottom_z = 0;
  built.info.half_extents = kHalf;
  built.info.surface = true;
  built.info.surface_top = 2 * kHalf[2];
  return built;
}

Built wooden_cabinet(const std::string& name, const Placement& placement) {
  return drawer_cabinet("wooden_cabinet", name, placement, CabinetFinish::kWood);
}

Built white_cabinet(const std::string& name, const Placement& placement) {
  return drawer_cabinet("white_cabinet", name, placement, CabinetFinish::kWhitePaint);
}

// Microwave oven: origin at the bottom centre, door at the front (-x), control
// panel on the -y side. The door hinges about a vertical axis at the front edge
// of the +y side: qpos 0 closed, negative swings its free edge toward the front.
Built microwave(const std::string& name, const Placement& placement) {
  constexpr double kDepth = 0.32;             // along x, m
  constexpr double kWidth = 0.45;             // along y, m
  constexpr double kHeight = 0.32;            // m
  constexpr double kWall = 0.015;             // shell thickness, m
  constexpr double kFloorTop = 0.03;          // cavity floor height, m
  constexpr double kPanelWidth = 0.11;        // control panel width along y, m
  constexpr double kDoorGap = 0.003;          // gap between the closed door and the front, m
  constexpr double kDoorThick = 0.02;         // m
  constexpr double kHandleReach = 0.03;       // handle bar centre in front of the door, m
  constexpr double kHandleRadius = 0.007;     // m
  constexpr double kHandleHalfLength = 0.07;  // m
  const double front_x = -kDepth / 2;
  const double wall_bottom = kFloorTop, wall_top = kHeight - kWall;
  const double wall_half_z = (wall_top - wall_bottom) / 2, wall_z = (wall_top + wall_bottom) / 2;
  // Cavity bounds.
  const double cavity_x0 = front_x, cavity_x1 = kDepth / 2 - kWall;
  const double cavity_y0 = -kWidth / 2 + kPanelWidth, cavity_y1 = kWidth / 2 - kWall;

  Built built = free_object_shell("microwave", name);
  built.info.fixture = true;
  GeomWriter writer(name, Contact{});
  built.mjcf.assets = material(name + "_shell", {0.86, 0.86, 0.84, 1}, 0.4, 0.4) +
                      material(name + "_liner", {0.72, 0.72, 0.7, 1}, 0.2, 0.2) +
                      material(name + "_dark", {0.08, 0.08, 0.09, 1}, 0.5, 0.6) +
                      material(name + "_glass", {0.1, 0.11, 0.12, 0.85}, 0.9, 0.9) +
                      material(name + "_display", {0.15, 0.45, 0.3, 1}, 0.3, 0.3) +
                      material(name + "_button", {0.55, 0.56, 0.58, 1}, 0.5, 0.5) +
                      material(name + "_metal", {0.75, 0.75, 0.77, 1}, 0.8, 0.7);

  // Shell: floor slab, ceiling, back, the +y side and the control panel block.
  const double side_half_x = (kDepth - kWall) / 2, side_x = front_x + side_half_x;
  const std::vector<Part> shell{
      box({kDepth / 2, kWidth / 2, kFloorTop / 2}, {0, 0, kFloorTop / 2}),
      box({kDepth / 2, kWidth / 2, kWall / 2}, {0, 0, kHeight - kWall / 2}),
      box({kWall / 2, kWidth / 2, wall_half_z}, {kDepth / 2 - kWall / 2, 0, wall_z}),
      box({side_half_x, kWall / 2, wall_half_z}, {side_x, kWidth / 2 - kWall / 2, wall_z}),
      box({side_half_x, kPanelWidth / 2, wall_half_z},
          {side_x, -kWidth / 2 + kPanelWidth / 2, wall_z})};
  std::string body = body_open(name, placement);
  for (const Part& part : shell) {
    body += writer.collision(part, -1, kPaintDensity) + writer.visual(part, name + "_shell");
  }
  // Cavity liner, a dark foot band, and the control panel's face: display, buttons, dial.
  const double panel_y = -kWidth / 2 + kPanelWidth / 2;
  body += writer.visual(box({0.0005, (cavity_y1 - cavity_y0) / 2, wall_half_z},
                            {cavity_x1 - 0.0005, (cavity_y0 + cavity_y1) / 2, wall_z}),
                        name + "_liner") +
          writer.visual(box({kDepth / 2 + 0.0005, kWidth / 2 + 0.0005, 0.004}, {0, 0, 0.004}),
                        name + "_dark") +
          writer.visual(box({0.001, kPanelWidth / 2 - 0.008, wall_half_z - 0.008},
                            {front_x - 0.001, panel_y, wall_z}),
                        name + "_dark") +
          writer.visual(box({0.0015, 0.035, 0.014}, {front_x - 0.002, panel_y, wall_top - 0.035}),
                        name + "_display");
  for (int row = 0; row < 3; ++row) {
    for (int column = 0; column < 2; ++column) {
      body += writer.visual(
          box({0.002, 0.015, 0.008},
              {front_x - 0.003, panel_y + (column - 0.5) * 0.04, wall_top - 0.08 - row * 0.027}),
          name + "_button");
    }
  }
  body += writer.visual({"cylinder",
                         {0.022, 0.006},
                         {front_x - 0.007, panel_y, wall_bottom + 0.045},
                         about_y(kPi / 2),
                         ""},
                        name + "_button");

  // Door: a slab hinged at its +y edge, a window, and a vertical handle bar at its free edge.
  const double door_length = kWidth - kPanelWidth + 0.002;  // along y when closed, m
  const double door_bottom = 0.01, door_top = kHeight - 0.008;
  const double door_half_z = (door_top - door_bottom) / 2, door_z = (door_top + door_bottom) / 2;
  const std::string joint = name + "_door_joint";
  const std::string handle_site = name + "_door_handle";
  const Vec3 bar_center{-kDoorThick / 2 - kHandleReach, -door_length + 0.03, door_z};
  const double post_half_x = (kHandleReach - kHandleRadius) / 2;
  const std::vector<Part> handle{
      {"capsule", {kHandleRadius, kHandleHalfLength}, bar_center, {1, 0, 0, 0}, ""},
      box({post_half_x, 0.005, 0.005},
          {-kDoorThick / 2 - post_half_x, bar_center[1], door_z - kHandleHalfLength + 0.01}),
      box({post_half_x, 0.005, 0.005},
          {-kDoorThick / 2 - post_half_x, bar_center[1], door_z + kHandleHalfLength - 0.01})};
  body += "<body name=\"" + name + "_door\" pos=\"" +
          nums(Vec3{front_x - kDoorGap - kDoorThick / 2, kWidth / 2, 0}) + "\">\n" +
          "<joint name=\"" + joint +
          "\" type=\"hinge\" axis=\"0 0 1\" limited=\"true\" range=\"-2.2 0\" damping=\"0.3\" "
          "frictionloss=\"0.1\" armature=\"0.01\"/>\n";
  const Part slab =
      box({kDoorThick / 2, door_length / 2, door_half_z}, {0, -door_length / 2, door_z});
  body += writer.collision(slab, -1, kPaintDensity) + writer.visual(slab, name + "_shell") +
          writer.visual(box({0.001, door_length / 2 - 0.025, door_half_z - 0.025},
                            {-kDoorThick / 2 - 0.001, -door_length / 2 + 0.01, door_z}),
                        name + "_dark") +
          writer.visual(box({0.0015, door_length / 2 - 0.06, door_half_z - 0.05},
                            {-kDoorThick / 2 - 0.002, -door_length / 2 + 0.02, door_z}),
                        name + "_glass");
  writer.set_contact(grasp_contact());
  for (const Part& part : handle) {
    body += writer.collision(part, -1, kPaintDensity) + writer.visual(part, name + "_metal");
  }
  body += site(handle_site, {kHandleRadius, kHandleRadius, kHandleHalfLength}, bar_center) +
          "</body>\n";

  // Regions: the cavity (In) and the top (On).
  const std::string heating = name + "_heating_region";
  const std::string top_side = name + "_top_side";
  body +=
      site(heating,
           {(cavity_x1 - cavity_x0) / 2 - 0.005, (cavity_y1 - cavity_y0) / 2 - 0.005, wall_half_z},
           {(cavity_x0 + cavity_x1) / 2, (cavity_y0 + cavity_y1) / 2, wall_z}) +
      site(top_side, {kDepth / 2 - 0.01, kWidth / 2 - 0.01, 0.005}, {0, 0, kHeight - 0.005}) +
      "</body>\n";
  built.mjcf.body = body;
  built.info.region_sites = {heating, top_side};
  built.info.region_joints = {{name, joint}, {heating, joint}};
  built.info.handle_sites = {{joint, handle_site}};
  built.info.bottom_z = 0;
  const double reach = kDepth / 2 + kDoorGap + kDoorThick + kHandleReach + kHandleRadius;
  built.info.half_extents = {reach, kWidth / 2, kHeight / 2};
  return built;
}

// Wooden wine rack: origin at the bottom centre, bottle cubbies facing -x, and
// on top a round holder in which one bottle stands upright.
Built wine_rack(const std::string& name, const Placement& placement) {
  constexpr double kDepth = 0.20;         // along x, m
  constexpr double kWidth = 0.28;         // along y, m
  constexpr double kHeight = 0.25;        // top board's upper face, m
  constexpr double kBoard = 0.015;        // board thickness, m
  constexpr double kHolderInner = 0.045;  // inner radius of the holder ring, m
  constexpr double kHolderWall = 0.01;    // m
  constexpr double kHolderHeight = 0.05;  // m
  constexpr int kColumns = 3, kRows = 2;  // bottle cubbies on the front
  const double inner_half_y = kWidth / 2 - kBoard;
  const double inner_half_z = (kHeight - 2 * kBoard) / 2;

  Built built = free_object_shell("wine_rack", name);
  built.info.fixture = true;
  GeomWriter writer(name, Contact{});
  const Profile ring{{kHolderInner, kHeight},
                     {kHolderInner + kHolderWall, kHeight},
                     {kHolderInner + kHolderWall, kHeight + kHolderHeight},
                     {kHolderInner, kHeight + kHolderHeight}};
  built.mjcf.assets = wood_assets(name + "_wood", {0.5, 0.3, 0.16}, {0.44, 0.25, 0.13}) +
                      material(name + "_shadow", {0.12, 0.08, 0.05, 1}, 0.05, 0.05) +
                      material(name + "_iron", {0.12, 0.12, 0.12, 1}, 0.6, 0.5) +
                      material(name + "_bottle", {0.08, 0.22, 0.1, 1}, 0.9, 0.9) +
                      material(name + "_cork", {0.75, 0.6, 0.4, 1}, 0.1, 0.1) +
                      mesh_mjcf(name + "_holder_mesh", revolve(ring, kRevolveSegments)) + "\n";

  // Frame: two sides, bottom and top boards, back panel.
  const std::vector<Part> frame{
      box({kDepth / 2, kBoard / 2, kHeight / 2}, {0, -kWidth / 2 + kBoard / 2, kHeight / 2}),
      box({kDepth / 2, kBoard / 2, kHeight / 2}, {0, kWidth / 2 - kBoard / 2, kHeight / 2}),
      box({kDepth / 2, inner_half_y, kBoard / 2}, {0, 0, kBoard / 2}),
      box({kDepth / 2, inner_half_y, kBoard / 2}, {0, 0, kHeight - kBoard / 2}),
      box({kBoard / 2, inner_half_y, inner_half_z}, {kDepth / 2 - kBoard / 2, 0, kHeight / 2})};
  std::string body = body_open(name, placement) + writer.solid(frame, kWoodDensity, name + "_wood");

  // Cubbies (visual): dark back, a shelf and dividers, bottles lying neck out.
  const double cell_y = 2 * inner_half_y / kColumns, cell_z = 2 * inner_half_z / kRows;
  body += writer.visual(
      box({0.001, inner_half_y, inner_half_z}, {kDepth / 2 - kBoard - 0.001, 0, kHeight / 2}),
      name + "_shadow");
  for (int row = 1; row < kRows; ++row) {
    body += writer.visual(box({kDepth / 2 - kBoard / 2, inner_half_y, 0.005},
                              {-kBoard / 2, 0, kBoard + row * cell_z}),
                          name + "_wood");
  }
  for (int column = 1; column < kColumns; ++column) {
    body += writer.visual(box({kDepth / 2 - kBoard / 2, 0.005, inner_half_z},
                              {-kBoard / 2, -inner_half_y + column * cell_y, kHeight / 2}),
                          name + "_wood");
  }
  const Quat along_x = about_y(kPi / 2);
  for (int row = 0; row < kRows; ++row) {
    for (int column = 0; column < kColumns; ++column) {
      if ((row + column) % 3 == 2) continue;  // a few empty cubbies
      const double y = -inner_half_y + (column + 0.5) * cell_y;
      const double z = kBoard + (row + 0.5) * cell_z - 0.005;
      body +=
          writer.visual({"cylinder", {0.032, 0.06}, {0.025, y, z}, along_x, ""}, name + "_bottle") +
          writer.visual({"cylinder", {0.013, 0.03}, {-0.061, y, z}, along_x, ""},
                        name + "_bottle") +
          writer.visual({"cylinder", {0.0105, 0.006}, {-0.092, y, z}, along_x, ""}, name + "_cork");
    }
  }

  // Holder: a ring of boxes around a flat spot at the centre of the top board.
  const double holder_radius = kHolderInner + kHolderWall;
  body += writer.collision_with_density(
              wall_ring({holder_radius, kHeight}, {holder_radius, kHeight + kHolderHeight},
                        kHolderWall, 12),
              kWoodDensity) +
          writer.visual({"mesh", {}, {}, {1, 0, 0, 0}, name + "_holder_mesh"}, name + "_iron");

  const std::string region = name + "_top_region";
  body += site(region, {0.035, 0.035, 0.005}, {0, 0, kHeight - 0.005}) + "</body>\n";
  built.mjcf.body = body;
  built.info.region_sites = {region};
  built.info.bottom_z = 0;
  built.info.half_extents = {kDepth / 2, kWidth / 2, (kHeight + kHolderHeight) / 2};
  return built;
}

// Desk caddy: origin at the bottom centre, front at -x. A tall narrow back
// compartment runs along y (books stand in it facing the front); in front of
// it, three low compartments: right (-y), front (middle) and left (+y).
Built desk_caddy(const std::string& name, const Placement& placement) {
  constexpr double kDepth = 0.20;        // along x, m
  constexpr double kWidth = 0.30;        // along y, m
  constexpr double kWall = 0.008;        // wall and base thickness, m
  constexpr double kBackHeight = 0.10;   // back and rear side walls, m
  constexpr double kDivider = 0.08;      // wall between the back and front compartments, m
  constexpr double kFrontHeight = 0.06;  // front compartments' walls, m
  constexpr double kBackInner = 0.06;    // back compartment's inner depth along x, m
  constexpr double kRegionHeight = 0.2;  // contain regions reach this far above the floor, m
  const double back_x1 = kDepth / 2 - kWall, back_x0 = back_x1 - kBackInner;
  const double front_x0 = -kDepth / 2 + kWall, front_x1 = back_x0 - kWall;
  const double inner_half_y = kWidth / 2 - kWall;
  const double split_y = 0.046;  // centre of the two dividers between front compartments, m

  Built built = free_object_shell("desk_caddy", name);
  built.info.fixture = true;
  GeomWriter writer(name, Contact{});
  built.mjcf.assets = wood_assets(name + "_wood", {0.55, 0.37, 0.22}, {0.48, 0.31, 0.18}) +
                      material(name + "_felt", {0.1, 0.1, 0.11, 1}, 0.05, 0.05);

  auto wall = [&](double x0, double x1, double y0, double y1, double top) {
    return box({(x1 - x0) / 2, (y1 - y0) / 2, (top - kWall) / 2},
               {(x0 + x1) / 2, (y0 + y1) / 2, (top + kWall) / 2});
  };
  const double hy = kWidth / 2;
  const std::vector<Part> parts{
      box({kDepth / 2, kWidth / 2, kWall / 2}, {0, 0, kWall / 2}),     // base
      wall(back_x1, kDepth / 2, -hy, hy, kBackHeight),                 // back
      wall(front_x1, back_x0, -inner_half_y, inner_half_y, kDivider),  // divider
      wall(-kDepth / 2, front_x0, -hy, hy, kFrontHeight),              // front
      wall(front_x1, kDepth / 2, -hy, -inner_half_y, kBackHeight),     // rear sides
      wall(front_x1, kDepth / 2, inner_half_y, hy, kBackHeight),
      wall(front_x0, front_x1, -hy, -inner_half_y, kFrontHeight),  // front sides
      wall(front_x0, front_x1, inner_half_y, hy, kFrontHeight),
      wall(front_x0, front_x1, -split_y - kWall / 2, -split_y + kWall / 2, kFrontHeight),
      wall(front_x0, front_x1, split_y - kWall / 2, split_y + kWall / 2, kFrontHeight)};
  std::string body =
      body_open(name, placement) + writer.solid(parts, kWoodDensity, name + "_wood") +
      writer.visual(
          box({kBackInner / 2, inner_half_y, 0.0005}, {(back_x0 + back_x1) / 2, 0, kWall + 0.0005}),
          name + "_felt");

  // Contain regions span each compartment from its floor up.
  auto region = [&](const std::string& which, double x0, double x1, double y0, double y1) {
    const std::string site_name = name + "_" + which + "_contain_region";
    built.info.region_sites.push_back(site_name);
    return site(site_name, {(x1 - x0) / 2 - 0.003, (y1 - y0) / 2 - 0.003, kRegionHeight / 2},
                {(x0 + x1) / 2, (y0 + y1) / 2, kWall + kRegionHeight / 2});
  };
  const double gap = split_y - kWall / 2;
  body += region("back", back_x0, back_x1, -inner_half_y, inner_half_y) +
          region("front", front_x0, front_x1, -gap, gap) +
          region("left", front_x0, front_x1, split_y + kWall / 2, inner_half_y) +
          region("right", front_x0, front_x1, -inner_half_y, -split_y - kWall / 2) + "</body>\n";
  built.mjcf.body = body;
  built.info.bottom_z = 0;
  built.info.half_extents = {kDepth / 2, kWidth / 2, kBackHeight / 2};
  return built;
}

// Woven basket (a free object): origin at the bottom centre, long side along x.
Built basket(const std::string& name, const Placement& placement) {
  constexpr double kHalfX = 0.13, kHalfY = 0.10;  // outer half extents, m
  constexpr double kHeight = 0.09;                // rim height, m
  constexpr double kWall = 0.006;                 // m
  constexpr double kBase = 0.016;                 // floor thickness, m
  constexpr double kLift = 0.002;                 // walls stop short of the ground, m
  constexpr double kMass = 0.3;                   // kg
  constexpr double kRegionAbove = 0.04;           // contain region reaches above the rim, m

  Built built = free_object_shell("basket", name);
  GeomWriter writer(name, grasp_contact());
  built.mjcf.assets = "<texture name=\"" + name +
                      "_weave\" type=\"2d\" builtin=\"checker\" rgb1=\"0.76 0.58 0.34\" "
                      "rgb2=\"0.6 0.43 0.22\" width=\"64\" height=\"64\"/>\n" +
                      material(name + "_wicker", {1, 1, 1, 1}, 0.1, 0.1, name + "_weave", "40 40") +
                      material(name + "_rim", {0.5, 0.34, 0.17, 1}, 0.15, 0.2) +
                      material(name + "_shadow", {0.2, 0.13, 0.07, 1}, 0.05, 0.05);

  const double wall_half_z = (kHeight - kLift) / 2, wall_z = (kHeight + kLift) / 2;
  const std::vector<Part> parts{
      box({kHalfX, kHalfY, kBase / 2}, {0, 0, kBase / 2}),
      box({kWall / 2, kHalfY, wall_half_z}, {-kHalfX + kWall / 2, 0, wall_z}),
      box({kWall / 2, kHalfY, wall_half_z}, {kHalfX - kWall / 2, 0, wall_z}),
      box({kHalfX - kWall, kWall / 2, wall_half_z}, {0, -kHalfY + kWall / 2, wall_z}),
      box({kHalfX - kWall, kWall / 2, wall_half_z}, {0, kHalfY - kWall / 2, wall_z})};
  std::string body = body_open(name, placement) + "<freejoint name=\"" + name + "_joint\"/>\n" +
                     writer.collision_with_mass(parts, kMass);
  for (const Part& part : parts) body += writer.visual(part, name + "_wicker");
  // A braided rim band and a hand hole in each short side.
  constexpr double kBand = 0.0025;  // how far the rim band stands proud of the wall, m
  const std::vector<Part> rim{
      box({kWall / 2 + kBand, kHalfY + kBand, 0.007}, {-kHalfX + kWall / 2, 0, kHeight - 0.007}),
      box({kWall / 2 + kBand, kHalfY + kBand, 0.007}, {kHalfX - kWall / 2, 0, kHeight - 0.007}),
      box({kHalfX, kWall / 2 + kBand, 0.007}, {0, -kHalfY + kWall / 2, kHeight - 0.007}),
      box({kHalfX, kWall / 2 + kBand, 0.007}, {0, kHalfY - kWall / 2, kHeight - 0.007})};
  for (const Part& part : rim) body += writer.visual(part, name + "_rim");
  for (double side : {-1.0, 1.0}) {
    body += writer.visual(
        box({kWall / 2 + 0.0005, 0.035, 0.009}, {side * (kHalfX - kWall / 2), 0, kHeight - 0.026}),
        name + "_shadow");
  }

  const std::string region = name + "_contain_region";
  const double region_top = kHeight + kRegionAbove;
  body += site(region, {kHalfX - kWall - 0.005, kHalfY - kWall - 0.005, (region_top - kBase) / 2},
               {0, 0, (region_top + kBase) / 2}) +
          "</body>\n";
  built.mjcf.body = body;
  built.info.region_sites = {region};
  built.info.bottom_z = 0;
  built.info.half_extents = {kHalfX + kBand, kHalfY + kBand, kHeight / 2};
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
  return {{"table", &table},
          {"kitchen_table", &kitchen_table},
          {"living_room_table", &living_room_table},
          {"study_table", &study_table},
          {"floor", &floor_rug},
          {"wooden_cabinet", &wooden_cabinet},
          {"white_cabinet", &white_cabinet},
          {"flat_stove", &flat_stove},
          {"microwave", &microwave},
          {"wine_rack", &wine_rack},
          {"desk_caddy", &desk_caddy},
          {"basket", &basket}};
}

}  // namespace envs::assets::detail
