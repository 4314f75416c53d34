// Procedural assets: mesh generators, and every object category loaded and
// simulated in MuJoCo (settling, containment, drawers, stove knob).
#include "envs/assets.h"

#include <doctest/doctest.h>
#include <mujoco/mujoco.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <numbers>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "envs/mesh.h"
#include "mujoco_scene.h"

namespace {

namespace assets = envs::assets;

using namespace test_scene;

// Linear speed of a free body (m/s) and angular speed (rad/s).
std::pair<double, double> speeds(const Scene& scene, const std::string& joint) {
  const int dof = scene.model->jnt_dofadr[id_of(scene, mjOBJ_JOINT, joint)];
  const mjtNum* v = scene.data->qvel + dof;
  return {std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]),
          std::sqrt(v[3] * v[3] + v[4] * v[4] + v[5] * v[5])};
}

// Cosine of the angle between a body's z axis and world z.
double uprightness(const Scene& scene, int body) { return scene.data->xmat[9 * body + 8]; }

double joint_qpos(const Scene& scene, const std::string& joint) {
  return scene.data->qpos[scene.model->jnt_qposadr[id_of(scene, mjOBJ_JOINT, joint)]];
}

// Every directed edge appears once and its reverse appears once.
bool closed_and_oriented(const envs::Mesh& mesh) {
  std::map<std::pair<int, int>, int> edges;
  for (size_t f = 0; f + 2 < mesh.faces.size(); f += 3) {
    for (int k = 0; k < 3; ++k) {
      ++edges[{mesh.faces[f + k], mesh.faces[f + (k + 1) % 3]}];
    }
  }
  for (const auto& [edge, count] : edges) {
    if (count != 1) return false;
    const auto reverse = edges.find({edge.second, edge.first});
    if (reverse == edges.end() || reverse->second != 1) return false;
  }
  return !edges.empty();
}

constexpr double kCos3Degrees = 0.99863;

}  // namespace

TEST_CASE("mesh: revolved solids and rings are closed, oriented and of the right volume") {
  constexpr double kPi = std::numbers::pi;
  constexpr int kSegments = 32;
  // Area of the regular polygon that approximates a circle of radius r.
  auto polygon_area = [&](double r) {
    return kSegments / 2.0 * r * r * std::sin(2 * kPi / kSegments);
  };

  const std::vector<std::array<double, 2>> cylinder{{0, 0}, {0.05, 0}, {0.05, 0.1}, {0, 0.1}};
  const std::vector<std::array<double, 2>> ring{{0.03, 0}, {0.05, 0}, {0.05, 0.02}, {0.03, 0.02}};
  const std::vector<std::array<double, 2>> cup{{0, 0},        {0.04, 0},      {0.05, 0.06},
                                               {0.045, 0.06}, {0.035, 0.005}, {0, 0.005}};
  const std::vector<std::pair<const char*, std::vector<std::array<double, 2>>>> cases{
      {"cylinder", cylinder}, {"ring", ring}, {"cup", cup}};
  for (const auto& [label, profile] : cases) {
    CAPTURE(label);
    const envs::Mesh mesh = envs::revolve(profile, kSegments);
    CHECK(closed_and_oriented(mesh));
    CHECK(envs::signed_volume(mesh) > 0);
    // The reversed profile gives the same outward mesh.
    const std::vector<std::array<double, 2>> reversed(profile.rbegin(), profile.rend());
    const envs::Mesh mirrored = envs::revolve(reversed, kSegments);
    CHECK(closed_and_oriented(mirrored));
    CHECK(envs::signed_volume(mirrored) ==
          doctest::Approx(envs::signed_volume(mesh)).epsilon(1e-6));
  }
  CHECK(envs::signed_volume(envs::revolve(cylinder, kSegments)) ==
        doctest::Approx(polygon_area(0.05) * 0.1).epsilon(1e-4));
  CHECK(envs::signed_volume(envs::revolve(ring, kSegments)) ==
        doctest::Approx((polygon_area(0.05) - polygon_area(0.03)) * 0.02).epsilon(1e-4));
  // A solid has one pole vertex per axis point; a ring has none.
  CHECK(envs::revolve(cylinder, kSegments).vertices.size() == 3 * (2 * kSegments + 2));
  CHECK(envs::revolve(ring, kSegments).vertices.size() == 3 * 4 * kSegments);

  const envs::Mesh box = envs::box_mesh({0.1, 0.2, 0.3});
  CHECK(closed_and_oriented(box));
  CHECK(envs::signed_volume(box) == doctest::Approx(0.2 * 0.4 * 0.6).epsilon(1e-5));

  CHECK_THROWS_AS(envs::revolve({{0, 0}, {0.1, 0}}, kSegments), std::runtime_error);
  CHECK_THROWS_AS(envs::revolve(cylinder, 2), std::runtime_error);
  CHECK_THROWS_AS(envs::revolve({{0, 0}, {-0.1, 0}, {0, 0.1}}, kSegments), std::runtime_error);
  CHECK_THROWS_AS(envs::revolve({{0, 0}, {0.1, 0}, {0.2, 0}}, kSegments), std::runtime_error);
}

TEST_CASE("mesh: mesh_mjcf gives meshes MuJoCo loads as generated") {
  const envs::Mesh cup = envs::revolve(
      {{0, 0}, {0.04, 0}, {0.05, 0.06}, {0.045, 0.06}, {0.035, 0.005}, {0, 0.005}}, 24);
  const std::string xml = "<mujoco><asset>" + envs::mesh_mjcf("cup", cup) +
                          "</asset><worldbody><body><freejoint/>"
                          "<geom type=\"mesh\" mesh=\"cup\" mass=\"0\"/>"
                          "<geom type=\"sphere\" size=\"0.01\"/></body></worldbody></mujoco>";
  Scene scene = load(xml);
  REQUIRE(scene.model->nmesh == 1);
  CHECK(scene.model->mesh_vertnum[0] == static_cast<int>(cup.vertices.size() / 3));
  CHECK(scene.model->mesh_facenum[0] == static_cast<int>(cup.faces.size() / 3));
  // MuJoCo moves the mesh to its principal axes; its shortest extent is the height.
  const float* vertices = scene.model->mesh_vert + 3 * scene.model->mesh_vertadr[0];
  std::array<double, 3> extents{};
  for (int axis = 0; axis < 3; ++axis) {
    double lowest = 1, highest = -1;
    for (int v = 0; v < scene.model->mesh_vertnum[0]; ++v) {
      lowest = std::min<double>(lowest, vertices[3 * v + axis]);
      highest = std::max<double>(highest, vertices[3 * v + axis]);
    }
    extents[axis] = highest - lowest;
  }
  std::sort(extents.begin(), extents.end());
  CHECK(extents[0] == doctest::Approx(0.06).epsilon(1e-4));
  CHECK(extents[2] <= 0.1 + 1e-6);
  CHECK(extents[1] >= 0.099);
}

TEST_CASE("assets: unknown categories and empty names are clear errors") {
  CHECK_FALSE(assets::is_known("flying_teapot"));
  CHECK(assets::is_known("akita_black_bowl"));
  try {
    assets::make("flying_teapot", "teapot_1", {});
    FAIL("no exception for an unknown category");
  } catch (const std::runtime_error& error) {
    const std::string message = error.what();
    CHECK(message.find("flying_teapot") != std::string::npos);
    for (const std::string& category : assets::categories()) {
      CHECK_MESSAGE(message.find(category) != std::string::npos, category);
    }
  }
  CHECK_THROWS_AS(assets::info("flying_teapot", "teapot_1"), std::runtime_error);
  CHECK_THROWS_AS(assets::make("plate", "", {}), std::runtime_error);
  const std::vector<std::string> listed = assets::categories();
  const std::set<std::string> all(listed.begin(), listed.end());
  CHECK(all.size() == listed.size());
  for (const char* needed : {"table", "akita_black_bowl", "plate", "glazed_rim_porcelain_ramekin",
                             "cookies", "wooden_cabinet", "flat_stove"}) {
    CHECK_MESSAGE(all.count(needed) == 1, needed);
  }
}

TEST_CASE("assets: every category loads, follows the naming rules and settles on the floor") {
  const std::map<std::string, double> expected_mass{{"akita_black_bowl", 0.15},
                                                    {"plate", 0.2},
                                                    {"glazed_rim_porcelain_ramekin", 0.1},
                                                    {"cookies", 0.1},
                                                    {"basket", 0.3}};
  for (const std::string& category : assets::categories()) {
    CAPTURE(category);
    const std::string name = category + "_1";
    const assets::ObjectInfo info = assets::info(category, name);
    CHECK(info.name == name);
    CHECK(info.category == category);
    const double drop = info.fixture ? 0.0 : 0.02;
    Scene scene =
        load(scene_xml({assets::make(category, name, {{0.1, -0.2, info.bottom_z + drop}, 0.3})}));
    const mjModel* model = scene.model.get();
    const int body = id_of(scene, mjOBJ_BODY, name);
    REQUIRE(body > 0);

    // A free object has exactly its freejoint; a fixture is welded.
    const int freejoint = id_of(scene, mjOBJ_JOINT, name + "_joint");
    CHECK((freejoint >= 0) == !info.fixture);
    if (!info.fixture) {
      CHECK(model->jnt_type[freejoint] == mjJNT_FREE);
      // Known masses exactly; every other free object a believable hand-held weight.
      const double mass = model->body_subtreemass[body];
      if (const auto it = expected_mass.find(category); it != expected_mass.end()) {
        CHECK(mass == doctest::Approx(it->second).epsilon(0.01));
      } else {
        CHECK(mass > 0.02);
        CHECK(mass < 2.0);
      }
    }

    // Geoms: all in the object's subtree; collision in group 3, visuals never collide.
    int collision_geoms = 0, visual_geoms = 0;
    for (int g = 0; g < model->ngeom; ++g) {
      if (!in_subtree(model, model->geom_bodyid[g], body)) continue;
      const char* geom_name = mj_id2name(model, mjOBJ_GEOM, g);
      REQUIRE(geom_name != nullptr);
      CHECK(std::string(geom_name).rfind(name + "_", 0) == 0);
      if (model->geom_group[g] == 3) {
        ++collision_geoms;
        CHECK(model->geom_contype[g] == 1);
        CHECK(model->geom_conaffinity[g] == 1);
        CHECK(model->geom_friction[3 * g] == doctest::Approx(1.0));
      } else {
        ++visual_geoms;
        CHECK((model->geom_group[g] == 1 || model->geom_group[g] == 2));
        CHECK(model->geom_contype[g] == 0);
        CHECK(model->geom_conaffinity[g] == 0);
      }
    }
    CHECK(collision_geoms > 0);
    CHECK(visual_geoms > 0);
    CHECK(id_of(scene, mjOBJ_GEOM, name + "_g0") >= 0);

    // Region sites, drawer joints and the knob joint exist in the object's subtree.
    for (const std::string& region : info.region_sites) {
      CAPTURE(region);
      const int site = id_of(scene, mjOBJ_SITE, region);
      REQUIRE(site >= 0);
      CHECK(model->site_type[site] == mjGEOM_BOX);
      CHECK(in_subtree(model, model->site_bodyid[site], body));
    }
    for (const auto& [region, joint] : info.region_joints) {
      const int joint_id = id_of(scene, mjOBJ_JOINT, joint);
      REQUIRE_MESSAGE(joint_id >= 0, joint);
      CAPTURE(region);
      // Drawers slide and carry their region; doors hinge in front of a fixed
      // cavity. A key may also name the whole fixture (Open microwave_1).
      const bool slide = model->jnt_type[joint_id] == mjJNT_SLIDE;
      CHECK((slide || model->jnt_type[joint_id] == mjJNT_HINGE));
      CHECK(in_subtree(model, model->jnt_bodyid[joint_id], body));
      const int site = id_of(scene, mjOBJ_SITE, region);
      CHECK((site >= 0 || region == name));
      if (slide && site >= 0) CHECK(model->site_bodyid[site] == model->jnt_bodyid[joint_id]);
    }
    if (!info.knob_joint.empty()) {
      const int knob = id_of(scene, mjOBJ_JOINT, info.knob_joint);
      REQUIRE(knob >= 0);
      CHECK(model->jnt_type[knob] == mjJNT_HINGE);
    }

    // The yaw of the placement is the body's heading.
    CHECK(scene.data->xquat[4 * body] == doctest::Approx(std::cos(0.15)));
    CHECK(scene.data->xquat[4 * body + 3] == doctest::Approx(std::sin(0.15)));

    simulate(scene, 1.0);
    CHECK_MESSAGE(warnings(scene.data.get()).empty(), warnings(scene.data.get()));
    const mjtNum* position = scene.data->xpos + 3 * body;
    CHECK(std::abs(position[0] - 0.1) < 0.005);
    CHECK(std::abs(position[1] + 0.2) < 0.005);
    CHECK(std::abs(position[2] - info.bottom_z) < 0.005);
    CHECK(uprightness(scene, body) > kCos3Degrees);
    if (!info.fixture) {
      const auto [linear, angular] = speeds(scene, name + "_joint");
      CHECK(linear < 0.01);
      CHECK(angular < 0.1);
    }
    // The bounding box covers the rest height.
    CHECK(info.half_extents[0] > 0);
    CHECK(info.half_extents[1] > 0);
    CHECK(2 * info.half_extents[2] >= info.bottom_z);
  }
}

TEST_CASE("assets: free objects rest upright on a table top at their bottom_z") {
  const assets::ObjectInfo table = assets::info("table", "main_table");
  for (const std::string& category : assets::categories()) {
    const assets::ObjectInfo info = assets::info(category, "object_1");
    if (info.fixture) continue;
    CAPTURE(category);
    Scene scene = load(scene_xml(
        {assets::make("table", "main_table", {}),
         assets::make(category, "object_1", {{0.1, 0.1, 0.9 + info.bottom_z + 0.01}, 1.0})}));
    simulate(scene, 1.0);
    CHECK_MESSAGE(warnings(scene.data.get()).empty(), warnings(scene.data.get()));
    const int body = id_of(scene, mjOBJ_BODY, "object_1");
    CHECK(std::abs(scene.data->xpos[3 * body + 2] - (0.9 + info.bottom_z)) < 0.005);
    CHECK(uprightness(scene, body) > kCos3Degrees);
    const auto [linear, angular] = speeds(scene, "object_1_joint");
    CHECK(linear < 0.01);
    CHECK(angular < 0.1);
    CHECK(table.fixture);
  }
}

TEST_CASE("assets: bowl and ramekin hold a dropped sphere and a sphere stays on the plate") {
  struct Case {
    std::string category;
    double inner_radius;  // sphere centre must stay within this radius of the axis, m
    double rim_height;    // and below this height, m
    double floor_height;  // and its bottom at or above this height, m
    double push;          // sideways speed of the dropped sphere, m/s
  };
  for (const Case& test : {Case{"akita_black_bowl", 0.059, 0.055, 0.006, 0.3},
                           Case{"glazed_rim_porcelain_ramekin", 0.040, 0.045, 0.006, 0.1},
                           Case{"plate", 0.1, 0.03, 0.0055, 0.3}}) {
    CAPTURE(test.category);
    // A 2 cm sphere dropped off-centre from above, with a sideways push.
    const std::string sphere =
        "<body name=\"ball\" pos=\"0.015 0.01 0.09\"><freejoint name=\"ball_joint\"/>"
        "<geom type=\"sphere\" size=\"0.01\" mass=\"0.02\" condim=\"4\" friction=\"1 0.005 "
        "0.0001\"/></body>";
    Scene scene =
        load(scene_xml({assets::make(test.category, "holder", {{0, 0, 0}, 0.2})}, sphere));
    const int ball_dof = scene.model->jnt_dofadr[id_of(scene, mjOBJ_JOINT, "ball_joint")];
    scene.data->qvel[ball_dof] = test.push;
    simulate(scene, 1.5);
    CHECK_MESSAGE(warnings(scene.data.get()).empty(), warnings(scene.data.get()));
    const int holder = id_of(scene, mjOBJ_BODY, "holder");
    const int ball = id_of(scene, mjOBJ_BODY, "ball");
    const mjtNum* p = scene.data->xpos + 3 * ball;
    const mjtNum* h = scene.data->xpos + 3 * holder;
    const double radial = std::hypot(p[0] - h[0], p[1] - h[1]);
    CHECK(radial < test.inner_radius);
    CHECK(p[2] - 0.01 >= test.floor_height);
    CHECK(p[2] < test.rim_height);
    CHECK(uprightness(scene, holder) > kCos3Degrees);
  }
}

TEST_CASE("assets: cabinet drawers open when pulled, close when pushed, carry their regions") {
  const assets::ObjectInfo info = assets::info("wooden_cabinet", "wooden_cabinet_1");
  REQUIRE(info.region_sites.size() == 4);
  for (const char* level : {"top", "middle", "bottom"}) {
    const std::string region = std::string("wooden_cabinet_1_") + level + "_region";
    REQUIRE(info.region_joints.count(region) == 1);
    CHECK(info.region_joints.at(region) ==
          std::string("wooden_cabinet_1_") + level + "_drawer_joint");
  }
  CHECK(info.region_sites.back() == "wooden_cabinet_1_top_side");

  Scene scene =
      load(scene_xml({assets::make("wooden_cabinet", "wooden_cabinet_1", {{0, 0, 0}, 0})}));
  const mjModel* model = scene.model.get();
  const int drawer = id_of(scene, mjOBJ_BODY, "wooden_cabinet_1_top_drawer");
  REQUIRE(drawer > 0);
  const std::string joint = "wooden_cabinet_1_top_drawer_joint";
  const int joint_id = id_of(scene, mjOBJ_JOINT, joint);
  CHECK(model->jnt_range[2 * joint_id] == doctest::Approx(-0.18));
  CHECK(model->jnt_range[2 * joint_id + 1] == doctest::Approx(0.01));
  const int region = id_of(scene, mjOBJ_SITE, "wooden_cabinet_1_top_region");
  const double region_x_closed = scene.data->site_xpos[3 * region];

  // The top region sits inside the top drawer, below the cabinet's top side.
  const int top_side = id_of(scene, mjOBJ_SITE, "wooden_cabinet_1_top_side");
  CHECK(scene.data->site_xpos[3 * region + 2] < scene.data->site_xpos[3 * top_side + 2]);
  CHECK(scene.data->site_xpos[3 * top_side + 2] == doctest::Approx(0.445));

  // Pull toward the front (-x) with 10 N.
  scene.data->xfrc_applied[6 * drawer] = -10;
  simulate(scene, 1.0);
  CHECK(joint_qpos(scene, joint) < -0.14);
  CHECK(joint_qpos(scene, joint) > -0.185);
  CHECK(scene.data->site_xpos[3 * region] - region_x_closed ==
        doctest::Approx(joint_qpos(scene, joint)).epsilon(1e-6));
  CHECK(std::abs(joint_qpos(scene, "wooden_cabinet_1_middle_drawer_joint")) < 1e-3);

  // Released, it stays open.
  scene.data->xfrc_applied[6 * drawer] = 0;
  simulate(scene, 0.5);
  const double resting = joint_qpos(scene, joint);
  simulate(scene, 0.5);
  CHECK(std::abs(joint_qpos(scene, joint) - resting) < 1e-3);
  CHECK(joint_qpos(scene, joint) < -0.14);

  // Push it back in.
  scene.data->xfrc_applied[6 * drawer] = 10;
  simulate(scene, 1.0);
  CHECK(joint_qpos(scene, joint) > 0.0);
  CHECK(std::abs(scene.data->site_xpos[3 * region] - region_x_closed) < 0.011);
  CHECK_MESSAGE(warnings(scene.data.get()).empty(), warnings(scene.data.get()));
}

TEST_CASE("assets: a torque turns the stove knob on and back off") {
  const assets::ObjectInfo info = assets::info("flat_stove", "flat_stove_1");
  REQUIRE(info.knob_joint == "flat_stove_1_knob_joint");
  REQUIRE(info.region_sites == std::vector<std::string>{"flat_stove_1_cook_region"});
  Scene scene = load(scene_xml({assets::make("flat_stove", "flat_stove_1", {})}));
  const int joint = id_of(scene, mjOBJ_JOINT, info.knob_joint);
  const int dof = scene.model->jnt_dofadr[joint];
  CHECK(scene.model->jnt_range[2 * joint] == doctest::Approx(-0.5));
  CHECK(scene.model->jnt_range[2 * joint + 1] == doctest::Approx(1.6));
  CHECK(joint_qpos(scene, info.knob_joint) == doctest::Approx(0.0));

  // Left alone, the knob stays off.
  simulate(scene, 0.5);
  CHECK(std::abs(joint_qpos(scene, info.knob_joint)) < 1e-3);

  scene.data->qfrc_applied[dof] = 0.05;
  simulate(scene, 1.0);
  CHECK(joint_qpos(scene, info.knob_joint) >= 0.5);
  CHECK(joint_qpos(scene, info.knob_joint) < 1.62);

  scene.data->qfrc_applied[dof] = -0.05;
  simulate(scene, 1.0);
  CHECK(joint_qpos(scene, info.knob_joint) < 0.0);
  CHECK(joint_qpos(scene, info.knob_joint) > -0.52);
  CHECK_MESSAGE(warnings(scene.data.get()).empty(), warnings(scene.data.get()));
}

TEST_CASE("assets: a LIBERO-spatial-like table scene with two bowls settles without warnings") {
  const std::vector<std::pair<std::string, std::string>> objects{
      {"akita_black_bowl", "akita_black_bowl_1"},
      {"akita_black_bowl", "akita_black_bowl_2"},
      {"plate", "plate_1"},
      {"glazed_rim_porcelain_ramekin", "ramekin_1"},
      {"cookies", "cookies_1"}};
  const std::vector<std::array<double, 2>> spots{
      {-0.15, -0.2}, {0.05, 0.15}, {-0.05, 0.0}, {0.12, -0.05}, {-0.15, 0.25}};
  std::vector<assets::ObjectMjcf> parts{
      assets::make("table", "main_table", {}),
      assets::make("wooden_cabinet", "wooden_cabinet_1", {{0.35, -0.3, 0.9}, 0}),
      assets::make("flat_stove", "flat_stove_1", {{0.3, 0.3, 0.9}, 0})};
  for (size_t i = 0; i < objects.size(); ++i) {
    const double bottom = assets::info(objects[i].first, objects[i].second).bottom_z;
    parts.push_back(assets::make(objects[i].first, objects[i].second,
                                 {{spots[i][0], spots[i][1], 0.9 + bottom + 0.005}, 0.4 * i}));
  }
  Scene scene = load(scene_xml(parts));
  simulate(scene, 1.0);
  CHECK_MESSAGE(warnings(scene.data.get()).empty(), warnings(scene.data.get()));
  for (size_t i = 0; i < objects.size(); ++i) {
    CAPTURE(objects[i].second);
    const int body = id_of(scene, mjOBJ_BODY, objects[i].second);
    const double bottom = assets::info(objects[i].first, objects[i].second).bottom_z;
    CHECK(std::abs(scene.data->xpos[3 * body] - spots[i][0]) < 0.005);
    CHECK(std::abs(scene.data->xpos[3 * body + 1] - spots[i][1]) < 0.005);
    CHECK(std::abs(scene.data->xpos[3 * body + 2] - (0.9 + bottom)) < 0.005);
  }
}

TEST_CASE("assets: open round containers report the rim wall a gripper pinches") {
  CHECK(envs::assets::info("akita_black_bowl", "b").rim_wall == doctest::Approx(0.006));
  CHECK(envs::assets::info("glazed_rim_porcelain_ramekin", "r").rim_wall == doctest::Approx(0.005));
  CHECK(envs::assets::info("plate", "p").rim_wall == 0);
  CHECK(envs::assets::info("cookies", "c").rim_wall == 0);
}
