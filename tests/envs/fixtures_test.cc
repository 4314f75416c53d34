// Fixtures, surfaces and the basket simulated in MuJoCo: drawers and the
// microwave door move and stay, containers hold what is put in them, and the
// region, handle and surface facts match the geometry.
#include <doctest/doctest.h>
#include <mujoco/mujoco.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "envs/assets.h"
#include "mujoco_scene.h"

namespace {

namespace assets = envs::assets;

using namespace test_scene;

// A bare scene: ground plane, light, the given objects and extra worldbody elements.
Scene load(const std::vector<assets::ObjectMjcf>& objects, const std::string& extra_bodies = "") {
  return test_scene::load(scene_xml(objects, extra_bodies));
}

// A free body holding the given <geom> elements.
std::string free_body(const std::string& name, const std::array<double, 3>& pos, double yaw,
                      const std::string& geoms) {
  char head[200];
  std::snprintf(head, sizeof(head), "<body name=\"%s\" pos=\"%g %g %g\" quat=\"%g 0 0 %g\">",
                name.c_str(), pos[0], pos[1], pos[2], std::cos(yaw / 2), std::sin(yaw / 2));
  return std::string(head) + "<freejoint name=\"" + name + "_joint\"/>" + geoms + "</body>\n";
}

// Geoms of an upright cylinder (mug, can, bottle) with its origin at the bottom
// centre. Like the project's round objects it stands on a square foot inside
// its outline (cylinder-box contacts give a single point); the foot is thick
// enough that a dropped object's soft-contact penetration cannot carry it
// through a container floor.
std::string cylinder_geoms(double radius, double half_height, double mass) {
  const std::string contact = " condim=\"4\" friction=\"1 0.005 0.0001\"";
  const double foot = 0.7 * radius;
  return "<geom type=\"cylinder\" size=\"" + std::to_string(radius) + " " +
         std::to_string(half_height) + "\" pos=\"0 0 " + std::to_string(half_height) +
         "\" mass=\"" + std::to_string(0.9 * mass) + "\"" + contact + "/>" +
         "<geom type=\"box\" size=\"" + std::to_string(foot) + " " + std::to_string(foot) +
         " 0.012\" pos=\"0 0 0.012\" mass=\"" + std::to_string(0.1 * mass) + "\"" + contact + "/>";
}

std::string box_geom(const std::array<double, 3>& half, double mass) {
  char text[200];
  std::snprintf(text, sizeof(text),
                "<geom type=\"box\" size=\"%g %g %g\" mass=\"%g\" condim=\"4\" "
                "friction=\"1 0.005 0.0001\"/>",
                half[0], half[1], half[2], mass);
  return text;
}

int joint_id(const Scene& scene, const std::string& joint) {
  const int id = id_of(scene, mjOBJ_JOINT, joint);
  REQUIRE_MESSAGE(id >= 0, joint);
  return id;
}

double joint_qpos(const Scene& scene, const std::string& joint) {
  return scene.data->qpos[scene.model->jnt_qposadr[joint_id(scene, joint)]];
}

const mjtNum* body_pos(const Scene& scene, const std::string& body) {
  const int id = id_of(scene, mjOBJ_BODY, body);
  REQUIRE_MESSAGE(id > 0, body);
  return scene.data->xpos + 3 * id;
}

// Cosine of the angle between a body's z axis and world z.
double uprightness(const Scene& scene, const std::string& body) {
  return scene.data->xmat[9 * id_of(scene, mjOBJ_BODY, body) + 8];
}

// A world point in a site's frame, and the site's half extents.
struct SiteView {
  std::array<double, 3> local{};
  std::array<double, 3> half{};
};

SiteView in_site_frame(const Scene& scene, const std::string& site, const mjtNum* point) {
  const int id = id_of(scene, mjOBJ_SITE, site);
  REQUIRE_MESSAGE(id >= 0, site);
  const mjtNum* origin = scene.data->site_xpos + 3 * id;
  const mjtNum* rotation = scene.data->site_xmat + 9 * id;
  SiteView view;
  for (int axis = 0; axis < 3; ++axis) {
    for (int k = 0; k < 3; ++k) view.local[axis] += rotation[3 * k + axis] * (point[k] - origin[k]);
    view.half[axis] = scene.model->site_size[3 * id + axis];
  }
  return view;
}

// The In rule: inside the box, with the lower bound 1 cm lower.
bool inside_region(const Scene& scene, const std::string& site, const mjtNum* point) {
  const SiteView view = in_site_frame(scene, site, point);
  return std::abs(view.local[0]) <= view.half[0] && std::abs(view.local[1]) <= view.half[1] &&
         view.local[2] >= -view.half[2] - 0.01 && view.local[2] <= view.half[2];
}

// The On(region) rule's geometry: xy inside, z in [size_z - 0.005, size_z + 0.10].
bool on_region(const Scene& scene, const std::string& site, const mjtNum* point) {
  const SiteView view = in_site_frame(scene, site, point);
  return std::abs(view.local[0]) <= view.half[0] && std::abs(view.local[1]) <= view.half[1] &&
         view.local[2] >= view.half[2] - 0.005 && view.local[2] <= view.half[2] + 0.10;
}

// Whether a geom of body `a` touches a geom in the subtree of body `root`.
bool touching(const Scene& scene, const std::string& a, const std::string& root) {
  const int body_a = id_of(scene, mjOBJ_BODY, a), body_root = id_of(scene, mjOBJ_BODY, root);
  const mjModel* model = scene.model.get();
  for (int i = 0; i < scene.data->ncon; ++i) {
    const int b1 = model->geom_bodyid[scene.data->contact[i].geom1];
    const int b2 = model->geom_bodyid[scene.data->contact[i].geom2];
    if ((b1 == body_a && in_subtree(model, b2, body_root)) ||
        (b2 == body_a && in_subtree(model, b1, body_root))) {
      return true;
    }
  }
  return false;
}

// Distance from a world point to the surface of a box, capsule or cylinder
// geom (0 inside).
double distance_to_geom(const Scene& scene, int geom, const mjtNum* point) {
  const mjtNum* origin = scene.data->geom_xpos + 3 * geom;
  const mjtNum* rotation = scene.data->geom_xmat + 9 * geom;
  const mjtNum* size = scene.model->geom_size + 3 * geom;
  double p[3] = {0, 0, 0};
  for (int axis = 0; axis < 3; ++axis) {
    for (int k = 0; k < 3; ++k) p[axis] += rotation[3 * k + axis] * (point[k] - origin[k]);
  }
  switch (scene.model->geom_type[geom]) {
    case mjGEOM_BOX: {
      double squared = 0;
      for (int axis = 0; axis < 3; ++axis) {
        const double out = std::max(std::abs(p[axis]) - size[axis], 0.0);
        squared += out * out;
      }
      return std::sqrt(squared);
    }
    case mjGEOM_CAPSULE: {
      const double z = std::clamp(p[2], -size[1], size[1]);
      return std::max(std::sqrt(p[0] * p[0] + p[1] * p[1] + (p[2] - z) * (p[2] - z)) - size[0],
                      0.0);
    }
    case mjGEOM_CYLINDER: {
      const double radial = std::max(std::hypot(p[0], p[1]) - size[0], 0.0);
      const double axial = std::max(std::abs(p[2]) - size[1], 0.0);
      return std::hypot(radial, axial);
    }
    default:
      return 1e9;
  }
}

constexpr double kCos3Degrees = 0.99863;
constexpr double kCos10Degrees = 0.98481;

}  // namespace

TEST_CASE("fixtures: new categories are registered with their facts") {
  for (const char* category : {"white_cabinet", "microwave", "wine_rack", "desk_caddy", "basket",
                               "kitchen_table", "living_room_table", "study_table", "floor"}) {
    CHECK_MESSAGE(assets::is_known(category), category);
  }
  CHECK(assets::info("wine_rack", "rack").region_sites ==
        std::vector<std::string>{"rack_top_region"});
  CHECK(assets::info("microwave", "oven").region_sites ==
        std::vector<std::string>{"oven_heating_region", "oven_top_side"});
  const assets::ObjectInfo caddy = assets::info("desk_caddy", "caddy");
  for (const char* which : {"back", "front", "left", "right"}) {
    const std::string region = std::string("caddy_") + which + "_contain_region";
    CHECK_MESSAGE(std::count(caddy.region_sites.begin(), caddy.region_sites.end(), region) == 1,
                  region);
  }
  CHECK(assets::info("basket", "b").region_sites == std::vector<std::string>{"b_contain_region"});
  CHECK_FALSE(assets::info("basket", "b").fixture);
  for (const char* fixture : {"white_cabinet", "microwave", "wine_rack", "desk_caddy"}) {
    CHECK_MESSAGE(assets::info(fixture, "f").fixture, fixture);
    CHECK_FALSE(assets::info(fixture, "f").surface);
  }
}

TEST_CASE("fixtures: white cabinet drawers open when pulled past -0.14 and close when pushed") {
  const assets::ObjectInfo info = assets::info("white_cabinet", "cab");
  REQUIRE(info.region_sites.size() == 4);
  CHECK(info.region_sites.back() == "cab_top_side");
  for (const char* level : {"top", "middle", "bottom"}) {
    const std::string joint = std::string("cab_") + level + "_drawer_joint";
    CHECK(info.region_joints.at(std::string("cab_") + level + "_region") == joint);
    CHECK(info.handle_sites.at(joint) == std::string("cab_") + level + "_handle");
  }

  Scene scene = load({assets::make("white_cabinet", "cab", {{0, 0, 0}, 0.3})});
  for (const char* level : {"top", "bottom"}) {
    CAPTURE(level);
    const std::string joint = std::string("cab_") + level + "_drawer_joint";
    const int drawer = id_of(scene, mjOBJ_BODY, std::string("cab_") + level + "_drawer");
    REQUIRE(drawer > 0);
    CHECK(scene.model->jnt_type[joint_id(scene, joint)] == mjJNT_SLIDE);
    // Pull toward the cabinet's front with 10 N.
    const double pull[2] = {-10 * std::cos(0.3), -10 * std::sin(0.3)};
    scene.data->xfrc_applied[6 * drawer] = pull[0];
    scene.data->xfrc_applied[6 * drawer + 1] = pull[1];
    simulate(scene, 1.0);
    CHECK(joint_qpos(scene, joint) < -0.14);
    // Released, it stays open.
    scene.data->xfrc_applied[6 * drawer] = scene.data->xfrc_applied[6 * drawer + 1] = 0;
    simulate(scene, 0.3);
    const double resting = joint_qpos(scene, joint);
    simulate(scene, 0.5);
    CHECK(std::abs(joint_qpos(scene, joint) - resting) < 1e-3);
    CHECK(joint_qpos(scene, joint) < -0.14);
    // Pushed, it closes.
    scene.data->xfrc_applied[6 * drawer] = -pull[0];
    scene.data->xfrc_applied[6 * drawer + 1] = -pull[1];
    simulate(scene, 1.0);
    CHECK(joint_qpos(scene, joint) > 0.0);
    scene.data->xfrc_applied[6 * drawer] = scene.data->xfrc_applied[6 * drawer + 1] = 0;
  }
  CHECK(std::abs(joint_qpos(scene, "cab_middle_drawer_joint")) < 1e-3);
  CHECK_MESSAGE(warnings(scene.data.get()).empty(), warnings(scene.data.get()));
}

TEST_CASE("fixtures: the microwave door swings open from a torque, stays open, and closes") {
  const assets::ObjectInfo info = assets::info("microwave", "oven");
  const std::string joint = "oven_door_joint";
  // (Open oven) and the heating region both read the door's hinge.
  CHECK(info.region_joints.at("oven") == joint);
  CHECK(info.region_joints.at("oven_heating_region") == joint);
  CHECK(info.handle_sites.at(joint) == "oven_door_handle");

  Scene scene = load({assets::make("microwave", "oven", {{0.1, 0.2, 0}, 0.4})});
  const int hinge = joint_id(scene, joint);
  CHECK(scene.model->jnt_type[hinge] == mjJNT_HINGE);
  CHECK(scene.model->jnt_range[2 * hinge] == doctest::Approx(-2.2));
  CHECK(scene.model->jnt_range[2 * hinge + 1] == doctest::Approx(0.0));
  const int dof = scene.model->jnt_dofadr[hinge];

  // Closed and left alone, it stays closed (Close: qpos > -0.005).
  simulate(scene, 0.5);
  CHECK(joint_qpos(scene, joint) > -0.005);

  // Opening swings the handle toward the front of the oven.
  const int handle = id_of(scene, mjOBJ_SITE, "oven_door_handle");
  const int heating = id_of(scene, mjOBJ_SITE, "oven_heating_region");
  auto handle_front_distance = [&] {
    // Distance of the handle in front of the cavity centre along the oven's -x axis.
    const mjtNum* h = scene.data->site_xpos + 3 * handle;
    const mjtNum* c = scene.data->site_xpos + 3 * heating;
    return -(std::cos(0.4) * (h[0] - c[0]) + std::sin(0.4) * (h[1] - c[1]));
  };
  const double closed_front = handle_front_distance();
  scene.data->qfrc_applied[dof] = -0.5;
  simulate(scene, 0.3);
  CHECK(handle_front_distance() > closed_front + 0.05);
  simulate(scene, 1.2);
  CHECK(joint_qpos(scene, joint) < -1.3);
  CHECK(joint_qpos(scene, joint) > -2.25);

  // Released, it stays where it was left.
  scene.data->qfrc_applied[dof] = 0;
  simulate(scene, 0.3);
  const double resting = joint_qpos(scene, joint);
  simulate(scene, 1.0);
  CHECK(std::abs(joint_qpos(scene, joint) - resting) < 0.01);
  CHECK(joint_qpos(scene, joint) < -1.3);

  // Pushed back, it closes.
  scene.data->qfrc_applied[dof] = 0.5;
  simulate(scene, 2.5);
  CHECK(joint_qpos(scene, joint) > -0.005);
  CHECK_MESSAGE(warnings(scene.data.get()).empty(), warnings(scene.data.get()));
}

TEST_CASE("fixtures: a mug-sized cylinder inside the microwave is In its heating region") {
  Scene scene = load({assets::make("microwave", "oven", {{0, 0, 0}, 0})},
                     free_body("mug", {0, 0, 0.035}, 0, cylinder_geoms(0.04, 0.045, 0.3)));
  const int heating = id_of(scene, mjOBJ_SITE, "oven_heating_region");
  const mjtNum* half = scene.model->site_size + 3 * heating;
  const mjtNum* centre = scene.data->site_xpos + 3 * heating;
  // The cavity leaves room around a mug (r 0.04, h 0.09) for a gripper, with
  // its floor about 3 cm above the table.
  CHECK(2 * half[0] >= 0.08 + 0.15);
  CHECK(2 * half[1] >= 0.08 + 0.2);
  CHECK(2 * half[2] >= 0.09 + 0.12);
  CHECK(centre[2] - half[2] == doctest::Approx(0.03).epsilon(0.2));

  // Put the mug at the cavity centre with the door open, then close the door.
  const int mug_qpos = scene.model->jnt_qposadr[joint_id(scene, "mug_joint")];
  scene.data->qpos[mug_qpos] = centre[0];
  scene.data->qpos[mug_qpos + 1] = centre[1];
  const int hinge = joint_id(scene, "oven_door_joint");
  scene.data->qpos[scene.model->jnt_qposadr[hinge]] = -1.6;
  simulate(scene, 0.5);
  scene.data->qfrc_applied[scene.model->jnt_dofadr[hinge]] = 0.5;
  simulate(scene, 1.5);
  CHECK(joint_qpos(scene, "oven_door_joint") > -0.005);
  CHECK(inside_region(scene, "oven_heating_region", body_pos(scene, "mug")));
  CHECK(uprightness(scene, "mug") > kCos3Degrees);
  // Outside the oven, it is not In the region.
  const mjtNum outside[3] = {-0.3, 0, 0.03};
  CHECK_FALSE(inside_region(scene, "oven_heating_region", outside));
  CHECK_MESSAGE(warnings(scene.data.get()).empty(), warnings(scene.data.get()));
}

TEST_CASE("fixtures: a wine bottle dropped into the rack's holder stands On its top region") {
  const double yaw = 0.3;
  Scene scene = load({assets::make("wine_rack", "rack", {{0.2, -0.1, 0}, yaw})},
                     free_body("bottle", {0.2 + 0.006, -0.1 + 0.004, 0.25 + 0.02}, 0,
                               cylinder_geoms(0.035, 0.15, 0.6)));
  simulate(scene, 1.5);
  CHECK(uprightness(scene, "bottle") > kCos3Degrees);
  CHECK(on_region(scene, "rack_top_region", body_pos(scene, "bottle")));
  CHECK(touching(scene, "bottle", "rack"));
  // Its bottom rests on the flat spot at the region's top face.
  const SiteView view = in_site_frame(scene, "rack_top_region", body_pos(scene, "bottle"));
  CHECK(std::abs(view.local[2] - view.half[2]) < 0.003);
  // A bottle standing beside the holder on the table is not On it.
  const mjtNum beside[3] = {0.2, 0.3, 0.0};
  CHECK_FALSE(on_region(scene, "rack_top_region", beside));
  CHECK_MESSAGE(warnings(scene.data.get()).empty(), warnings(scene.data.get()));
}

TEST_CASE("fixtures: a book lowered into the caddy's back compartment stays upright inside it") {
  const double yaw = 0.5;
  const assets::ObjectMjcf caddy = assets::make("desk_caddy", "caddy", {{0.1, 0.1, 0}, yaw});
  // Centre of the back compartment: find it from the region site.
  Scene probe = load({caddy});
  const int back = id_of(probe, mjOBJ_SITE, "caddy_back_contain_region");
  const mjtNum* centre = probe.data->site_xpos + 3 * back;
  const mjtNum* half = probe.model->site_size + 3 * back;
  // Room for a 0.035 x 0.13 book with clearance for the fingers' approach.
  CHECK(2 * half[0] >= 0.05);
  CHECK(2 * half[0] <= 0.07);
  CHECK(2 * half[1] >= 0.17);

  // The book (0.035 thick along its y, 0.13 wide along its x, 0.19 tall),
  // yawed to the slot, lowered until 1 cm above the compartment floor.
  const double floor_z = centre[2] - half[2];
  Scene scene =
      load({caddy}, free_body("book", {centre[0] + 0.003, centre[1], floor_z + 0.095 + 0.01},
                              yaw + 1.5707963, box_geom({0.065, 0.0175, 0.095}, 0.25)));
  simulate(scene, 1.5);
  CHECK(uprightness(scene, "book") > kCos10Degrees);
  CHECK(inside_region(scene, "caddy_back_contain_region", body_pos(scene, "book")));
  CHECK_FALSE(inside_region(scene, "caddy_front_contain_region", body_pos(scene, "book")));
  CHECK(std::abs(body_pos(scene, "book")[2] - (floor_z + 0.095)) < 0.01);
  CHECK_MESSAGE(warnings(scene.data.get()).empty(), warnings(scene.data.get()));
}

TEST_CASE("fixtures: two cans dropped into the basket are In it and the basket does not tip") {
  const assets::ObjectInfo info = assets::info("basket", "basket");
  const double yaw = 0.2;
  const double c = std::cos(yaw), s = std::sin(yaw);
  // Cans (r 0.033, h 0.09) side by side, one near a corner, released above the rim.
  const std::array<std::array<double, 2>, 2> spots{{{-0.06, 0.0}, {0.07, 0.04}}};
  std::string cans;
  for (size_t i = 0; i < spots.size(); ++i) {
    const double x = 0.1 + c * spots[i][0] - s * spots[i][1];
    const double y = c * spots[i][1] + s * spots[i][0];
    cans += free_body("can" + std::to_string(i), {x, y, 0.09 + 0.03 + 0.04 * i}, 0,
                      cylinder_geoms(0.033, 0.045, 0.35));
  }
  Scene scene = load({assets::make("basket", "basket", {{0.1, 0, info.bottom_z}, yaw})}, cans);
  CHECK(scene.model->body_subtreemass[id_of(scene, mjOBJ_BODY, "basket")] ==
        doctest::Approx(0.3).epsilon(0.01));
  simulate(scene, 1.5);
  for (size_t i = 0; i < spots.size(); ++i) {
    CAPTURE(i);
    CHECK(
        inside_region(scene, "basket_contain_region", body_pos(scene, "can" + std::to_string(i))));
  }
  CHECK(uprightness(scene, "basket") > kCos3Degrees);
  const mjtNum* basket = body_pos(scene, "basket");
  CHECK(std::hypot(basket[0] - 0.1, basket[1]) < 0.01);
  CHECK(std::abs(basket[2] - info.bottom_z) < 0.003);
  const mjtNum beside[3] = {0.1, 0.3, 0.05};
  CHECK_FALSE(inside_region(scene, "basket_contain_region", beside));
  CHECK_MESSAGE(warnings(scene.data.get()).empty(), warnings(scene.data.get()));
}

TEST_CASE("fixtures: surfaces report their top and an object dropped on one stands there") {
  const std::vector<std::pair<std::string, double>> surfaces{{"table", 0.9},
                                                             {"kitchen_table", 0.9},
                                                             {"living_room_table", 0.9},
                                                             {"study_table", 0.9},
                                                             {"floor", 0.005}};
  for (const auto& [category, top] : surfaces) {
    CAPTURE(category);
    const assets::ObjectInfo info = assets::info(category, "surface");
    CHECK(info.surface);
    CHECK(info.fixture);
    CHECK(info.surface_top == doctest::Approx(top));
    // A 5 cm cube dropped from 2 cm above the top; the surface is raised 0.1 m
    // so the ground plane cannot hold the cube instead.
    Scene scene = load({assets::make(category, "surface", {{0, 0, 0.1}, 0.3})},
                       free_body("cube", {0.1, -0.15, 0.1 + top + 0.025 + 0.02}, 0.2,
                                 box_geom({0.025, 0.025, 0.025}, 0.1)));
    simulate(scene, 1.0);
    CHECK(std::abs(body_pos(scene, "cube")[2] - (0.1 + top + 0.025)) < 0.002);
    CHECK(uprightness(scene, "cube") > kCos3Degrees);
    CHECK_MESSAGE(warnings(scene.data.get()).empty(), warnings(scene.data.get()));
  }
  CHECK_FALSE(assets::info("basket", "b").surface);
}

TEST_CASE("fixtures: every handle site sits on a collision geom of its handle") {
  int handles_seen = 0;
  for (const std::string& category : assets::categories()) {
    const assets::ObjectInfo info = assets::info(category, "thing");
    if (info.handle_sites.empty()) continue;
    CAPTURE(category);
    Scene scene = load({assets::make(category, "thing", {{0.2, 0.1, 0}, 0.7})});
    for (const auto& [joint, handle] : info.handle_sites) {
      CAPTURE(handle);
      const int site = id_of(scene, mjOBJ_SITE, handle);
      REQUIRE(site >= 0);
      CHECK(scene.model->site_group[site] == 5);
      // The handle moves with the part its joint opens.
      CHECK(scene.model->site_bodyid[site] == scene.model->jnt_bodyid[joint_id(scene, joint)]);
      double nearest = 1e9;
      for (int g = 0; g < scene.model->ngeom; ++g) {
        if (scene.model->geom_bodyid[g] != scene.model->site_bodyid[site]) continue;
        if (scene.model->geom_group[g] != 3) continue;
        nearest = std::min(nearest, distance_to_geom(scene, g, scene.data->site_xpos + 3 * site));
      }
      CHECK(nearest < 0.01);
      ++handles_seen;
    }
  }
  // Three drawers in each cabinet and the microwave door.
  CHECK(handles_seen == 7);
}
