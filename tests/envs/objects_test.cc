// Free objects of the LIBERO-style suites (groceries, mugs, kitchenware, a
// book): resting pose on a table, bounding boxes, grasp widths, mugs as
// containers and groceries a camera can tell apart.
#include <doctest/doctest.h>
#include <mujoco/mujoco.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <numbers>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "envs/assets.h"
#include "mujoco_scene.h"

namespace {

namespace assets = envs::assets;

using Vec3 = std::array<double, 3>;
using namespace test_scene;

const std::vector<std::string> kGroceries{
    "alphabet_soup", "tomato_sauce", "cream_cheese", "butter",    "chocolate_pudding",
    "milk",          "orange_juice", "ketchup",      "bbq_sauce", "salad_dressing"};
const std::vector<std::string> kMugs{"porcelain_mug", "white_yellow_mug", "red_coffee_mug"};
const std::vector<std::string> kKitchenware{"moka_pot", "wine_bottle", "chefmate_8_frypan",
                                            "black_book"};

constexpr double kTableTop = 0.9;  // m
constexpr double kCos3Degrees = 0.99863;
constexpr double kMaxGraspWidth = 0.065;  // m, across the Panda's fingers
constexpr double kPadHalfHeight = 0.012;  // m, fingertip pad half height

std::vector<std::string> all_objects() {
  std::vector<std::string> all = kGroceries;
  all.insert(all.end(), kMugs.begin(), kMugs.end());
  all.insert(all.end(), kKitchenware.begin(), kKitchenware.end());
  return all;
}

// One object alone at the world origin with yaw 0: body frame = world frame.
Scene load_alone(const std::string& category, const std::string& name) {
  return load(scene_xml({assets::make(category, name, {})}));
}

int warning_count(const mjData* data) {
  int count = 0;
  for (int i = 0; i < mjNWARNING; ++i) count += data->warning[i].number;
  return count;
}

int body_id(const Scene& scene, const std::string& name) {
  return mj_name2id(scene.model.get(), mjOBJ_BODY, name.c_str());
}

// Axis-aligned world bounds of a set of points.
struct Bounds {
  Vec3 low{std::numeric_limits<double>::max(), std::numeric_limits<double>::max(),
           std::numeric_limits<double>::max()};
  Vec3 high{-std::numeric_limits<double>::max(), -std::numeric_limits<double>::max(),
            -std::numeric_limits<double>::max()};
  void add(const Vec3& point) {
    for (int axis = 0; axis < 3; ++axis) {
      low[axis] = std::min(low[axis], point[axis]);
      high[axis] = std::max(high[axis], point[axis]);
    }
  }
  void add(const Bounds& other) {
    add(other.low);
    add(other.high);
  }
  bool empty() const { return low[0] > high[0]; }
  double width(int axis) const { return high[axis] - low[axis]; }
};

// World bounds of one geom: box corners, the corners of a round shape's
// bounding box (exact for upright cylinders), or mesh vertices.
Bounds geom_bounds(const mjModel* model, const mjData* data, int geom) {
  const double* size = model->geom_size + 3 * geom;
  const double* center = data->geom_xpos + 3 * geom;
  const double* rotation = data->geom_xmat + 9 * geom;
  std::vector<Vec3> local;
  const int type = model->geom_type[geom];
  if (type == mjGEOM_MESH) {
    const int mesh = model->geom_dataid[geom];
    const float* vertices = model->mesh_vert + 3 * model->mesh_vertadr[mesh];
    for (int v = 0; v < model->mesh_vertnum[mesh]; ++v) {
      local.push_back({vertices[3 * v], vertices[3 * v + 1], vertices[3 * v + 2]});
    }
  } else {
    Vec3 half{size[0], size[1], size[2]};
    if (type == mjGEOM_CYLINDER) half = {size[0], size[0], size[1]};
    if (type == mjGEOM_CAPSULE) half = {size[0], size[0], size[1] + size[0]};
    if (type == mjGEOM_SPHERE) half = {size[0], size[0], size[0]};
    for (int corner = 0; corner < 8; ++corner) {
      local.push_back({(corner & 1 ? 1 : -1) * half[0], (corner & 2 ? 1 : -1) * half[1],
                       (corner & 4 ? 1 : -1) * half[2]});
    }
  }
  Bounds bounds;
  for (const Vec3& point : local) {
    Vec3 world;
    for (int row = 0; row < 3; ++row) {
      world[row] = center[row] + rotation[3 * row] * point[0] + rotation[3 * row + 1] * point[1] +
                   rotation[3 * row + 2] * point[2];
    }
    bounds.add(world);
  }
  return bounds;
}

// Collision geoms (group 3) of a body.
std::vector<int> collision_geoms(const mjModel* model, int body) {
  std::vector<int> geoms;
  for (int g = 0; g < model->ngeom; ++g) {
    if (model->geom_bodyid[g] == body && model->geom_group[g] == 3) geoms.push_back(g);
  }
  return geoms;
}

// Union of the bounds of the collision geoms that reach into a box region.
Bounds bounds_within(const Scene& scene, int body, const Vec3& low, const Vec3& high) {
  Bounds all;
  for (int g : collision_geoms(scene.model.get(), body)) {
    const Bounds bounds = geom_bounds(scene.model.get(), scene.data.get(), g);
    bool overlaps = true;
    for (int axis = 0; axis < 3; ++axis) {
      overlaps = overlaps && bounds.high[axis] > low[axis] && bounds.low[axis] < high[axis];
    }
    if (overlaps) all.add(bounds);
  }
  return all;
}

// Volume enclosed by a compiled mesh (m^3).
double mesh_volume(const mjModel* model, int mesh) {
  const float* vertices = model->mesh_vert + 3 * model->mesh_vertadr[mesh];
  const int* faces = model->mesh_face + 3 * model->mesh_faceadr[mesh];
  double sum = 0;
  for (int f = 0; f < model->mesh_facenum[mesh]; ++f) {
    const float* a = vertices + 3 * faces[3 * f];
    const float* b = vertices + 3 * faces[3 * f + 1];
    const float* c = vertices + 3 * faces[3 * f + 2];
    sum += a[0] * (b[1] * c[2] - b[2] * c[1]) - a[1] * (b[0] * c[2] - b[2] * c[0]) +
           a[2] * (b[0] * c[1] - b[1] * c[0]);
  }
  return std::abs(sum) / 6;
}

double visual_volume(const mjModel* model, int geom) {
  const double* size = model->geom_size + 3 * geom;
  constexpr double kPi = std::numbers::pi;
  switch (model->geom_type[geom]) {
    case mjGEOM_BOX:
      return 8 * size[0] * size[1] * size[2];
    case mjGEOM_CYLINDER:
      return kPi * size[0] * size[0] * 2 * size[1];
    case mjGEOM_CAPSULE:
      return kPi * size[0] * size[0] * (2 * size[1] + 4.0 / 3.0 * size[0]);
    case mjGEOM_MESH:
      return mesh_volume(model, model->geom_dataid[geom]);
    default:
      return 0;
  }
}

// The two material colours (rgb) that fill the most visual volume, largest first.
std::array<Vec3, 2> main_colours(const Scene& scene, int body) {
  const mjModel* model = scene.model.get();
  std::map<int, double> volume_by_material;
  for (int g = 0; g < model->ngeom; ++g) {
    if (model->geom_bodyid[g] != body || model->geom_group[g] != 1) continue;
    REQUIRE(model->geom_matid[g] >= 0);
    volume_by_material[model->geom_matid[g]] += visual_volume(model, g);
  }
  std::vector<std::pair<double, int>> ranked;
  for (const auto& [material, volume] : volume_by_material) ranked.push_back({volume, material});
  std::sort(ranked.rbegin(), ranked.rend());
  REQUIRE(ranked.size() >= 2);
  std::array<Vec3, 2> colours{};
  for (int i = 0; i < 2; ++i) {
    const float* rgba = model->mat_rgba + 4 * ranked[i].second;
    colours[i] = {rgba[0], rgba[1], rgba[2]};
  }
  return colours;
}

double colour_distance(const Vec3& a, const Vec3& b) {
  return std::sqrt((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) +
                   (a[2] - b[2]) * (a[2] - b[2]));
}

}  // namespace

TEST_CASE("objects: every grocery, mug, kitchenware and book category is registered") {
  for (const std::string& category : all_objects()) {
    CAPTURE(category);
    CHECK(assets::is_known(category));
    const assets::ObjectInfo info = assets::info(category, "x");
    CHECK_FALSE(info.fixture);
    CHECK(info.bottom_z == 0);
  }
}

TEST_CASE("objects: half_extents cover the collision geoms and reach their extremes") {
  for (const std::string& category : all_objects()) {
    CAPTURE(category);
    const assets::ObjectInfo info = assets::info(category, "object_1");
    Scene scene = load_alone(category, "object_1");
    const int body = body_id(scene, "object_1");
    Bounds all;
    for (int g : collision_geoms(scene.model.get(), body)) {
      all.add(geom_bounds(scene.model.get(), scene.data.get(), g));
    }
    REQUIRE_FALSE(all.empty());
    const auto& half = info.half_extents;
    const Vec3 low{-half[0], -half[1], -info.bottom_z};
    const Vec3 high{half[0], half[1], 2 * half[2] - info.bottom_z};
    // Ring boxes overlap a little at their corners beyond the round outline.
    constexpr double kTolerance = 5e-4;  // m
    constexpr double kSlack = 0.005;     // the box may exceed the geoms by this much, m
    for (int axis = 0; axis < 3; ++axis) {
      CAPTURE(axis);
      CHECK(all.low[axis] >= low[axis] - kTolerance);
      CHECK(all.high[axis] <= high[axis] + kTolerance);
      // Symmetric in x and y: at least one side reaches the box.
      CHECK(std::max(high[axis] - all.high[axis], all.low[axis] - low[axis]) >= -kTolerance);
      CHECK(std::min(high[axis] - all.high[axis], all.low[axis] - low[axis]) <= kSlack);
    }
    // The bottom is exactly at the origin height minus bottom_z; the top reaches the box.
    CHECK(all.low[2] == doctest::Approx(-info.bottom_z).epsilon(1e-4));
    CHECK(all.high[2] >= high[2] - kSlack);
  }
}

TEST_CASE("objects: each rests upright on a table top at its bottom_z when released from 2 cm") {
  for (const std::string& category : all_objects()) {
    CAPTURE(category);
    const assets::ObjectInfo info = assets::info(category, "object_1");
    for (double yaw : {0.4, 2.3}) {
      CAPTURE(yaw);
      Scene scene =
          load(scene_xml({assets::make("table", "main_table", {}),
                          assets::make(category, "object_1",
                                       {{0.1, -0.1, kTableTop + info.bottom_z + 0.02}, yaw})}));
      simulate(scene, 1.0);
      CHECK(warning_count(scene.data.get()) == 0);
      const int body = body_id(scene, "object_1");
      const double* position = scene.data->xpos + 3 * body;
      CHECK(std::abs(position[2] - (kTableTop + info.bottom_z)) < 0.003);
      CHECK(std::hypot(position[0] - 0.1, position[1] + 0.1) < 0.005);
      CHECK(scene.data->xmat[9 * body + 8] > kCos3Degrees);
    }
  }
}

TEST_CASE("objects: the picked objects fit a top-down Panda grasp 2 cm below their top") {
  // Objects with a handle (along +x) or a long side are pinched across y only.
  const std::set<std::string> pinched_across_y{"moka_pot", "black_book"};
  for (const std::string& category : all_objects()) {
    if (category == "chefmate_8_frypan") continue;  // a distractor, never picked
    const assets::ObjectInfo info = assets::info(category, "object_1");
    if (info.rim_wall > 0) continue;  // open containers: next test
    CAPTURE(category);
    Scene scene = load_alone(category, "object_1");
    const int body = body_id(scene, "object_1");
    const double grasp_z = 2 * info.half_extents[2] - info.bottom_z - 0.02;
    const double inf = 1.0;
    const Bounds band = bounds_within(scene, body, {-inf, -inf, grasp_z - kPadHalfHeight},
                                      {inf, inf, grasp_z + kPadHalfHeight});
    REQUIRE_FALSE(band.empty());
    CAPTURE(band.width(0));
    CAPTURE(band.width(1));
    CHECK(band.width(1) <= kMaxGraspWidth);
    if (pinched_across_y.count(category) == 0) CHECK(band.width(0) <= kMaxGraspWidth);
  }
}

TEST_CASE("objects: mugs are pinched at the -y rim wall, their handle stays along +x") {
  for (const std::string& category : kMugs) {
    CAPTURE(category);
    const assets::ObjectInfo info = assets::info(category, "mug");
    REQUIRE(info.rim_wall > 0);
    REQUIRE(info.region_sites == std::vector<std::string>{"mug_contain_region"});
    Scene scene = load_alone(category, "mug");
    const int body = body_id(scene, "mug");
    const double top = 2 * info.half_extents[2] - info.bottom_z;
    const double radius = info.half_extents[1];
    // The wall crossing the -y axis near the rim: as thick as rim_wall, its
    // outer face at -half_extents[1].
    const Bounds wall = bounds_within(scene, body, {-0.002, -1, top - 0.03}, {0.002, 0, top});
    REQUIRE_FALSE(wall.empty());
    CHECK(wall.low[1] == doctest::Approx(-radius).epsilon(0.02));
    CHECK(wall.width(1) >= info.rim_wall - 1e-4);
    CHECK(wall.width(1) <= info.rim_wall + 0.002);
    // Everything beyond the wall's radius is the handle, on the +x side only.
    for (int g : collision_geoms(scene.model.get(), body)) {
      const Bounds bounds = geom_bounds(scene.model.get(), scene.data.get(), g);
      if (bounds.high[0] <= radius + 1e-3) continue;
      CHECK(bounds.low[0] > radius - 0.01);
      CHECK(std::max(std::abs(bounds.low[1]), std::abs(bounds.high[1])) < 0.01);
    }
    CHECK(info.half_extents[0] > radius + 0.02);
  }
}

TEST_CASE("objects: mugs hold a dropped small sphere") {
  for (const std::string& category : kMugs) {
    CAPTURE(category);
    const std::string sphere =
        "<body name=\"ball\" pos=\"0.012 0.008 0.14\"><freejoint name=\"ball_joint\"/>"
        "<geom type=\"sphere\" size=\"0.01\" mass=\"0.02\" condim=\"4\" friction=\"1 0.005 "
        "0.0001\"/></body>";
    Scene scene = load(scene_xml({assets::make(category, "mug", {{0, 0, 0}, 0.4})}, sphere));
    const int ball_dof =
        scene.model->jnt_dofadr[mj_name2id(scene.model.get(), mjOBJ_JOINT, "ball_joint")];
    scene.data->qvel[ball_dof] = 0.15;  // sideways push toward the wall, m/s
    simulate(scene, 1.5);
    CHECK(warning_count(scene.data.get()) == 0);
    const double* ball = scene.data->xpos + 3 * body_id(scene, "ball");
    const double* mug = scene.data->xpos + 3 * body_id(scene, "mug");
    CHECK(std::hypot(ball[0] - mug[0], ball[1] - mug[1]) < 0.034 - 0.01 + 1e-3);
    CHECK(ball[2] - 0.01 > 0.006);
    CHECK(ball[2] < 0.09);
    CHECK(scene.data->xmat[9 * body_id(scene, "mug") + 8] > kCos3Degrees);
    // The ball rests inside the mug's contain region.
    const int region = mj_name2id(scene.model.get(), mjOBJ_SITE, "mug_contain_region");
    const double* site = scene.data->site_xpos + 3 * region;
    const double* size = scene.model->site_size + 3 * region;
    CHECK(std::abs(ball[2] - site[2]) < size[2]);
  }
}

TEST_CASE("objects: the ten groceries differ clearly in their main colours") {
  constexpr double kMargin = 0.3;  // summed rgb distance of the two main colours
  std::vector<std::array<Vec3, 2>> colours;
  for (const std::string& category : kGroceries) {
    Scene scene = load_alone(category, "item");
    colours.push_back(main_colours(scene, body_id(scene, "item")));
  }
  double closest = 10;
  for (size_t i = 0; i < kGroceries.size(); ++i) {
    for (size_t j = i + 1; j < kGroceries.size(); ++j) {
      CAPTURE(kGroceries[i]);
      CAPTURE(kGroceries[j]);
      const double distance = colour_distance(colours[i][0], colours[j][0]) +
                              colour_distance(colours[i][1], colours[j][1]);
      closest = std::min(closest, distance);
      CHECK(distance > kMargin);
    }
  }
  MESSAGE("closest pair of grocery colour signatures: " << closest);
}

TEST_CASE("objects: two Panda-sized pads lift each picked object at the expert's grasp point") {
  // A hand on a vertical slide with two pads closing along y with 10 N each
  // (the Panda's fingertip pads and grip force), placed where the expert grasps:
  // 2 cm below the top centre, or 1.5 cm below the rim on the -y wall.
  for (const std::string& category : all_objects()) {
    if (category == "chefmate_8_frypan") continue;
    CAPTURE(category);
    const assets::ObjectInfo info = assets::info(category, "object_1");
    const double top = 2 * info.half_extents[2] - info.bottom_z;
    const bool rim = info.rim_wall > 0;
    const double grasp_y = rim ? -(info.half_extents[1] - info.rim_wall - 0.002) : 0;
    const double grasp_z = top - (rim ? 0.015 : 0.02);
    const std::string pad =
        "<geom type=\"box\" size=\"0.009 0.003 0.012\" mass=\"0.05\" condim=\"4\" "
        "friction=\"1 0.005 0.0001\"/>";
    const std::string hand =
        "<body name=\"hand\" pos=\"0 " + std::to_string(grasp_y) + " " + std::to_string(grasp_z) +
        "\"><joint name=\"lift\" type=\"slide\" axis=\"0 0 1\" damping=\"100\"/>"
        "<geom type=\"box\" size=\"0.01 0.05 0.005\" pos=\"0 0 0.08\" mass=\"0.5\" contype=\"0\" "
        "conaffinity=\"0\"/>"
        "<body pos=\"0 0.045 0\"><joint name=\"left\" type=\"slide\" axis=\"0 -1 0\" "
        "range=\"0 0.045\" damping=\"20\"/>" +
        pad +
        "</body>"
        "<body pos=\"0 -0.045 0\"><joint name=\"right\" type=\"slide\" axis=\"0 1 0\" "
        "range=\"0 0.045\" damping=\"20\"/>" +
        pad + "</body></body>";
    std::string xml =
        scene_xml({assets::make(category, "object_1", {{0, 0, info.bottom_z + 0.001}, 0})}, hand);
    xml.insert(xml.find("</mujoco>"),
               "<actuator><position joint=\"lift\" kp=\"5000\"/>"
               "<position joint=\"left\" kp=\"1000\" forcelimited=\"true\" forcerange=\"-10 10\"/>"
               "<position joint=\"right\" kp=\"1000\" forcelimited=\"true\" "
               "forcerange=\"-10 10\"/></actuator>\n");
    Scene scene = load(xml);
    const int object = body_id(scene, "object_1");
    simulate(scene, 0.3);
    scene.data->ctrl[1] = scene.data->ctrl[2] = 0.045;  // close
    simulate(scene, 0.5);
    // Lift 10 cm at 0.1 m/s, then hold.
    for (int step = 1; step <= 10; ++step) {
      scene.data->ctrl[0] = 0.01 * step;
      simulate(scene, 0.1);
    }
    simulate(scene, 0.5);
    CHECK(warning_count(scene.data.get()) == 0);
    const double lifted = scene.data->xpos[3 * object + 2] - info.bottom_z;
    CAPTURE(lifted);
    CHECK(lifted > 0.07);
    // Still held a second later, not slipping out.
    simulate(scene, 1.0);
    CHECK(scene.data->xpos[3 * object + 2] - info.bottom_z == doctest::Approx(lifted).epsilon(0.1));
  }
}
