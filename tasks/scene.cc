#include "tasks/scene.h"

#include <mujoco/mujoco.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>
#include <stdexcept>

#include "envs/mjcf_text.h"
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

// The middle of a region's first yaw range, or 0.
double region_yaw(const BddlRegion& region) {
  if (region.yaw_rotation.empty()) return 0;
  return 0.5 * (region.yaw_rotation[0][0] + region.yaw_rotation[0][1]);
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

// Asset facts, with the task file named in the error.
envs::assets::ObjectInfo asset_info(const std::string& where, const BddlObject& object) {
  try {
    return envs::assets::info(object.category, object.name);
  } catch (const std::exception& error) {
    throw std::runtime_error(where + object.name + ": " + error.what());
  }
}

envs::assets::ObjectMjcf asset_mjcf(const std::string& where, const BddlObject& object,
                                    const envs::assets::Placement& placement) {
  try {
    return envs::assets::make(object.category, object.name, placement);
  } catch (const std::exception& error) {
    throw std::runtime_error(where + object.name + ": " + error.what());
  }
}

// The object that exposes region site `site`, or nullptr.
const envs::assets::ObjectInfo* site_owner(const std::vector<envs::assets::ObjectInfo>& objects,
                                           const std::string& site) {
  for (const auto& object : objects) {
    if (std::find(object.region_sites.begin(), object.region_sites.end(), site) !=
        object.region_sites.end()) {
      return &object;
    }
  }
  return nullptr;
}

// Orders rules so that every support object comes before what stands on it.
std::vector<PlacementRule> dependency_order(std::vector<PlacementRule> rules,
                                            const std::string& where) {
  std::vector<PlacementRule> ordered;
  std::set<std::string> placed;
  std::set<std::string> movable;
  for (const PlacementRule& rule : rules) movable.insert(rule.object);
  while (!rules.empty()) {
    const auto ready = std::find_if(rules.begin(), rules.end(), [&](const PlacementRule& rule) {
      return !movable.count(rule.support) || placed.count(rule.support);
    });
    if (ready == rules.end()) {
      throw std::runtime_error(where + "objects stand on each other in a cycle (" +
                               rules.front().object + " on " + rules.front().support + ")");
    }
    placed.insert(ready->object);
    ordered.push_back(*ready);
    rules.erase(ready);
  }
  return ordered;
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
  std::ostringstream assets, worldbody;
  const std::string where = task.file + ": ";

  // The one surface fixture (a table or the floor) is the frame of every
  // region declared on it; it stands at the world origin.
  const BddlObject* surface = nullptr;
  envs::assets::ObjectInfo surface_info;
  for (const BddlObject& fixture : task.fixtures) {
    auto info = asset_info(where, fixture);
    if (!info.surface) continue;
    if (surface) {
      throw std::runtime_error(where + "two surface fixtures (" + surface->name + ", " +
                               fixture.name + "); a scene stands on exactly one");
    }
    surface = &fixture;
    surface_info = std::move(info);
  }
  if (!surface) {
    throw std::runtime_error(where +
                             "the scene needs one surface fixture (a table or the floor), e.g. "
                             "'main_table - table'");
  }
  scene.surface = surface->name;
  scene.table_top_z = surface_info.surface_top;
  const double top = scene.table_top_z;

  // Region sites on the surface are children of its body, so that a region's
  // parent object (for On) is the surface itself.
  std::ostringstream surface_sites;
  for (const BddlRegion& region : task.regions) {
    if (region.target != surface->name) continue;
    const auto bounds = region_bounds(region);
    const double cx = 0.5 * (bounds[0] + bounds[2]), cy = 0.5 * (bounds[1] + bounds[3]);
    const double hx = std::max(0.5 * (bounds[2] - bounds[0]), 1e-3);
    const double hy = std::max(0.5 * (bounds[3] - bounds[1]), 1e-3);
    surface_sites << "<site name=\"" << region.full_name() << "\" type=\"box\" group=\"5\" pos=\""
                  << vec3(cx, cy, top - 0.005) << "\" size=\"" << vec3(hx, hy, 0.005)
                  << "\" rgba=\"0 1 0 0.2\"/>\n";
    scene.region_sites[region.full_name()] = region.full_name();
  }
  {
    auto mjcf = asset_mjcf(where, *surface, {{0, 0, 0}, 0});
    const auto close = mjcf.body.rfind("</body>");
    if (close == std::string::npos) {
      throw std::runtime_error(where + "surface " + surface->name + " has no body element");
    }
    mjcf.body.insert(close, surface_sites.str());
    assets << mjcf.assets;
    worldbody << mjcf.body;
    scene.objects.push_back(surface_info);
  }

  // Where each fixture and object starts, from the :init section.
  struct Start {
    std::string op, target;
  };
  std::map<std::string, Start> start;
  for (const Predicate& atom : task.init) {
    if ((atom.op == "On" || atom.op == "In") && atom.args.size() == 2) {
      if (start.count(atom.args[0])) {
        throw std::runtime_error(where + std::to_string(atom.line) + ": " + atom.args[0] +
                                 " has a second start placement");
      }
      start[atom.args[0]] = {atom.op, atom.args[1]};
    }
  }

  // Fixtures are welded at the centre of their region on the surface.
  for (const BddlObject& fixture : task.fixtures) {
    if (&fixture == surface) continue;
    const auto it = start.find(fixture.name);
    const BddlRegion* region = it == start.end() ? nullptr : find_region(task, it->second.target);
    if (!region || region->target != surface->name) {
      throw std::runtime_error(where + "fixture " + fixture.name + " needs an (On " + fixture.name +
                               " <" + surface->name + " region>) init atom");
    }
    const auto bounds = region_bounds(*region);
    const auto info = asset_info(where, fixture);
    const envs::assets::Placement placement{
        {0.5 * (bounds[0] + bounds[2]), 0.5 * (bounds[1] + bounds[3]), top + info.bottom_z},
        region_yaw(*region)};
    const auto mjcf = asset_mjcf(where, fixture, placement);
    assets << mjcf.assets;
    worldbody << mjcf.body;
    scene.objects.push_back(info);
    for (const std::string& site : info.region_sites) scene.region_sites[site] = site;
  }

  // Objects start in a row high above the surface; init sampling places them.
  int slot = 0;
  for (const BddlObject& object : task.objects) {
    const auto info = asset_info(where, object);
    const envs::assets::Placement placement{{0.45, -0.5 + 0.12 * slot, top + 0.6}, 0};
    ++slot;
    const auto mjcf = asset_mjcf(where, object, placement);
    assets << mjcf.assets;
    worldbody << mjcf.body;
    scene.objects.push_back(info);
    for (const std::string& site : info.region_sites) scene.region_sites[site] = site;
  }

  // Placement rules: a surface region, a fixture's or object's region, or on
  // top of another object.
  std::vector<PlacementRule> rules;
  for (const BddlObject& object : task.objects) {
    const auto it = start.find(object.name);
    if (it == start.end()) {
      throw std::runtime_error(where + "object " + object.name + " has no (On " + object.name +
                               " <region or object>) init atom");
    }
    const auto& [op, target] = it->second;
    PlacementRule rule;
    rule.object = object.name;
    rule.inside = op == "In";
    if (const BddlRegion* region = find_region(task, target);
        region && region->target == surface->name) {
      rule.region_site = target;
      rule.support = surface->name;
      if (!region->yaw_rotation.empty()) rule.yaw_range = region->yaw_rotation.front();
    } else if (scene.region_sites.count(target)) {
      rule.region_site = scene.region_sites.at(target);
      const auto* owner = site_owner(scene.objects, rule.region_site);
      rule.support = owner ? owner->name : surface->name;
    } else if (const BddlObject* support = task.find_object(target);
               support && !task.is_fixture(target) && op == "On") {
      rule.support_object = target;
      rule.support = target;
    } else {
      throw std::runtime_error(where + "object " + object.name + " starts " + op + " " + target +
                               ", which is no region of the scene nor an object to stand on");
    }
    if (rule.support == object.name) {
      throw std::runtime_error(where + "object " + object.name + " cannot start on itself");
    }
    rules.push_back(rule);
  }
  scene.placements = dependency_order(std::move(rules), where);

  // Joints the :init section sets (open drawers and doors, stove knobs).
  for (const Predicate& atom : task.init) {
    if (atom.args.size() != 1) continue;
    const std::string& name = atom.args[0];
    if (atom.op == "Open" || atom.op == "Close") {
      const std::string state = atom.op == "Open" ? "open" : "closed";
      std::set<std::string> joints;
      for (const auto& object : scene.objects) {
        for (const auto& [region, joint] : object.region_joints) {
          if (region == name || object.name == name) joints.insert(joint);
        }
      }
      if (joints.empty()) {
        throw std::runtime_error(where + std::to_string(atom.line) + ": (" + atom.op + " " + name +
                                 "): nothing named '" + name + "' opens or closes");
      }
      for (const std::string& joint : joints) scene.joint_inits.push_back({joint, state});
    } else if (atom.op == "TurnOn" || atom.op == "TurnOff") {
      const auto* object = scene.find(name);
      if (!object || object->knob_joint.empty()) {
        throw std::runtime_error(where + std::to_string(atom.line) + ": (" + atom.op + " " + name +
                                 "): '" + name + "' has no knob");
      }
      scene.joint_inits.push_back({object->knob_joint, atom.op == "TurnOn" ? "on" : "off"});
    }
  }

  // The robot stands in front of the surface; the camera keeps its pose
  // relative to the surface.
  envs::PandaSettings panda;
  panda.base_position = {settings.robot_base_xy[0], settings.robot_base_xy[1],
                         top + settings.robot_base_above_surface};
  // A pedestal only where there is room for one under the base (not on the floor).
  panda.mount = panda.base_position[2] > 0.1;
  const envs::MjcfParts robot = envs::panda_mjcf(panda);
  const double shift = top - settings.reference_surface_z;
  const std::array<double, 3> camera{settings.agentview_position[0], settings.agentview_position[1],
                                     settings.agentview_position[2] + shift};
  const std::array<double, 3> target{settings.agentview_target[0], settings.agentview_target[1],
                                     settings.agentview_target[2] + shift};
  // The ground plane lies under a low surface (the floor) so the two never fight.
  const double ground_z = std::min(0.0, top - 0.01);

  std::ostringstream mjcf;
  mjcf
      << "<mujoco model=\"" << task.problem << "\">\n"
      << "<compiler angle=\"radian\" autolimits=\"true\"/>\n"
      << "<option timestep=\"0.002\" cone=\"elliptic\" impratio=\"10\"/>\n"
      << envs::mjcf::size_element(500)
      << "<visual>\n"
      << "  <global offwidth=\"224\" offheight=\"224\"/>\n"
      << "  <quality shadowsize=\"2048\" offsamples=\"0\"/>\n"
      << "  <headlight ambient=\"0.35 0.35 0.35\" diffuse=\"0.45 0.45 0.45\" specular=\"0.1 0.1 "
         "0.1\"/>\n"
      << "</visual>\n"
      << "<default>\n"
      << robot.defaults << "</default>\n"
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
      << "  <geom name=\"floor\" type=\"plane\" pos=\"0 0 " << ground_z
      << "\" size=\"4 4 0.05\" material=\"floor_material\"/>\n"
      << "  <geom name=\"back_wall\" type=\"box\" pos=\"-1.9 0 1.5\" size=\"0.02 3 1.5\""
         " material=\"wall_material\" contype=\"0\" conaffinity=\"0\"/>\n"
      << "  <camera name=\"agentview\" pos=\"" << vec3(camera[0], camera[1], camera[2])
      << "\" xyaxes=\"" << look_at(camera, target) << "\" fovy=\"" << settings.agentview_fovy
      << "\"/>\n"
      << robot.worldbody << worldbody.str() << "</worldbody>\n"
      << "<contact>\n"
      << robot.contacts << "</contact>\n"
      << "<equality>\n"
      << robot.equalities << "</equality>\n"
      << "<actuator>\n"
      << robot.actuators << "</actuator>\n"
      << "</mujoco>\n";
  scene.mjcf = mjcf.str();
  return scene;
}

}  // namespace tasks
