#include "tasks/scene.h"

#include <cmath>
#include <sstream>
#include <stdexcept>

#include <mujoco/mujoco.h>

#include "envs/panda.h"

namespace tasks {

namespace {

std::string vec3(double x, double y, double z) {
  std::ostringstream out;
  out.precision(6);
  out << x << " " << y << " " << z;
  return out.str();
}

// The region's range boxes as one bounding box (xmin, ymin, xmax, ymax).
std::array<double, 4> region_bounds(const BddlRegion& region) {
  std::array<double, 4> bounds = region.ranges.front();
  for (const auto& range : region.ranges) {
    bounds[0] = std::min(bounds[0], range[0]);
    bounds[1] = std::min(bounds[1], range[1]);
    bounds[2] = std::max(bounds[2], range[2]);
    bounds[3] = std::max(bounds[3], range[3]);
  }
  return bounds;
}

// A camera's xyaxes attribute for looking from `position` at `target`, z up.
std::string look_at(const std::array<double, 3>& position, const std::array<double, 3>& target) {
  double forward[3] = {target[0] - position[0], target[1] - position[1], target[2] - position[2]};
  double up[3] = {0, 0, 1}, right[3], camera_up[3];
  mju_normalize3(forward);
  mju_cross(right, forward, up);
  mju_normalize3(right);
  mju_cross(camera_up, right, forward);
  std::ostringstream out;
  out.precision(6);
  out << right[0] << " " << right[1] << " " << right[2] << " " << camera_up[0] << " "
      << camera_up[1] << " " << camera_up[2];
  return out.str();
}

const BddlRegion* find_region(const TaskSpec& task, const std::string& full_name) {
  for (const BddlRegion& region : task.regions) {
    if (region.full_name() == full_name) return &region;
  }
  return nullptr;
}

}  // namespace

const envs::assets::ObjectInfo* Scene::find(const std::string& name) const {
  for (const auto& object : objects) {
    if (object.name == name) return &object;
  }
  return nullptr;
}

Scene build_scene(const TaskSpec& task, const SceneSettings& settings) {
  Scene scene;
  scene.table_top_z = settings.table_top_z;
  std::ostringstream assets, worldbody;
  const std::string where = task.file + ": ";

  // The table is the frame of every table region.
  bool has_table = false;
  for (const BddlObject& fixture : task.fixtures) {
    if (fixture.category == "table") {
      const auto table = envs::assets::make("table", fixture.name, {{0, 0, 0}, 0});
      assets << table.assets;
      worldbody << table.body;
      scene.objects.push_back(envs::assets::info("table", fixture.name));
      has_table = true;
    }
  }
  if (!has_table) throw std::runtime_error(where + "the scene builder needs a fixture of category table");
  const std::string table_name = scene.objects.front().name;

  // Region sites on the table; fixture regions come with the fixtures.
  for (const BddlRegion& region : task.regions) {
    if (region.target != table_name) continue;
    const auto bounds = region_bounds(region);
    const double cx = 0.5 * (bounds[0] + bounds[2]), cy = 0.5 * (bounds[1] + bounds[3]);
    const double hx = std::max(0.5 * (bounds[2] - bounds[0]), 1e-3);
    const double hy = std::max(0.5 * (bounds[3] - bounds[1]), 1e-3);
    worldbody << "<site name=\"" << region.full_name() << "\" type=\"box\" group=\"5\" pos=\""
              << vec3(cx, cy, settings.table_top_z - 0.005) << "\" size=\"" << vec3(hx, hy, 0.005)
              << "\" rgba=\"0 1 0 0.2\"/>\n";
    scene.region_sites[region.full_name()] = region.full_name();
  }

  // Where each fixture and object starts, from the :init section.
  std::map<std::string, std::string> start_region;
  for (const Predicate& atom : task.init) {
    if (atom.op == "On" && atom.args.size() == 2) start_region[atom.args[0]] = atom.args[1];
  }

  // Fixtures are welded at the centre of their region on the table.
  for (const BddlObject& fixture : task.fixtures) {
    if (fixture.category == "table") continue;
    const auto it = start_region.find(fixture.name);
    const BddlRegion* region = it == start_region.end() ? nullptr : find_region(task, it->second);
    if (!region || region->target != table_name) {
      throw std::runtime_error(where + "fixture " + fixture.name +
                               " needs an (On " + fixture.name + " <table region>) init atom");
    }
    const auto bounds = region_bounds(*region);
    const auto info = envs::assets::info(fixture.category, fixture.name);
    const double yaw = region->yaw_rotation.empty()
                           ? 0.0
                           : 0.5 * (region->yaw_rotation[0][0] + region->yaw_rotation[0][1]);
    const envs::assets::Placement placement{
        {0.5 * (bounds[0] + bounds[2]), 0.5 * (bounds[1] + bounds[3]),
         settings.table_top_z + info.bottom_z},
        yaw};
    const auto mjcf = envs::assets::make(fixture.category, fixture.name, placement);
    assets << mjcf.assets;
    worldbody << mjcf.body;
    scene.objects.push_back(info);
    for (const std::string& site : info.region_sites) scene.region_sites[site] = site;
  }

  // Objects start in a row above the table's far edge; init sampling places them.
  int slot = 0;
  for (const BddlObject& object : task.objects) {
    const auto info = envs::assets::info(object.category, object.name);
    const envs::assets::Placement placement{{0.45, -0.5 + 0.12 * slot, 1.5}, 0};
    ++slot;
    const auto mjcf = envs::assets::make(object.category, object.name, placement);
    assets << mjcf.assets;
    worldbody << mjcf.body;
    scene.objects.push_back(info);
    for (const std::string& site : info.region_sites) scene.region_sites[site] = site;
    const auto it = start_region.find(object.name);
    if (it == start_region.end()) {
      throw std::runtime_error(where + "object " + object.name + " has no (On " + object.name +
                               " <region>) init atom");
    }
    if (!scene.region_sites.count(it->second) && !find_region(task, it->second)) {
      throw std::runtime_error(where + "object " + object.name + " starts in unknown region " +
                               it->second);
    }
    PlacementRule rule{object.name, it->second, {0, 0}};
    if (const BddlRegion* region = find_region(task, it->second);
        region && !region->yaw_rotation.empty()) {
      rule.yaw_range = region->yaw_rotation.front();
    }
    scene.placements.push_back(rule);
  }

  const envs::MjcfParts robot = envs::panda_mjcf();
  std::ostringstream mjcf;
  mjcf << "<mujoco model=\"" << task.problem << "\">\n"
       << "<compiler angle=\"radian\" autolimits=\"true\"/>\n"
       << "<option timestep=\"0.002\" cone=\"elliptic\" impratio=\"10\"/>\n"
       << "<size njmax=\"6000\" nconmax=\"1500\"/>\n"
       << "<visual>\n"
       << "  <global offwidth=\"224\" offheight=\"224\"/>\n"
       << "  <quality shadowsize=\"2048\" offsamples=\"0\"/>\n"
       << "  <headlight ambient=\"0.35 0.35 0.35\" diffuse=\"0.45 0.45 0.45\" specular=\"0.1 0.1 0.1\"/>\n"
       << "</visual>\n"
       << "<default>\n" << robot.defaults << "</default>\n"
       << "<asset>\n"
       << "  <texture name=\"floor_texture\" type=\"2d\" builtin=\"checker\" rgb1=\"0.55 0.55 0.52\""
          " rgb2=\"0.45 0.45 0.42\" width=\"256\" height=\"256\"/>\n"
       << "  <material name=\"floor_material\" texture=\"floor_texture\" texrepeat=\"6 6\"/>\n"
       << "  <texture name=\"wall_texture\" type=\"2d\" builtin=\"flat\" rgb1=\"0.82 0.8 0.76\""
          " width=\"16\" height=\"16\"/>\n"
       << "  <material name=\"wall_material\" texture=\"wall_texture\"/>\n"
       << robot.assets << assets.str() << "</asset>\n"
       << "<worldbody>\n"
       << "  <light name=\"sun\" directional=\"true\" pos=\"0 0 4\" dir=\"0.2 0.1 -1\""
          " diffuse=\"0.6 0.6 0.6\" specular=\"0.2 0.2 0.2\" castshadow=\"true\"/>\n"
       << "  <light name=\"fill\" pos=\"1.5 0 2.5\" dir=\"-0.6 0 -1\" diffuse=\"0.25 0.25 0.25\""
          " castshadow=\"false\"/>\n"
       << "  <geom name=\"floor\" type=\"plane\" size=\"4 4 0.05\" material=\"floor_material\"/>\n"
       << "  <geom name=\"back_wall\" type=\"box\" pos=\"-1.9 0 1.5\" size=\"0.02 3 1.5\""
          " material=\"wall_material\" contype=\"0\" conaffinity=\"0\"/>\n"
       << "  <camera name=\"agentview\" pos=\""
       << vec3(settings.agentview_position[0], settings.agentview_position[1],
               settings.agentview_position[2])
       << "\" xyaxes=\"" << look_at(settings.agentview_position, settings.agentview_target)
       << "\" fovy=\"" << settings.agentview_fovy << "\"/>\n"
       << robot.worldbody << worldbody.str() << "</worldbody>\n"
       << "<contact>\n" << robot.contacts << "</contact>\n"
       << "<equality>\n" << robot.equalities << "</equality>\n"
       << "<actuator>\n" << robot.actuators << "</actuator>\n"
       << "</mujoco>\n";
  scene.mjcf = mjcf.str();
  return scene;
}

}  // namespace tasks
