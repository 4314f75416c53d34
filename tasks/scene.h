// Turns a parsed task (BDDL) into a MuJoCo scene: the surface (a table or the
// floor), fixtures, objects, the Panda, cameras, lights and the task's region
// sites.
#pragma once

#include <array>
#include <map>
#include <string>
#include <vector>

#include "envs/assets.h"
#include "tasks/bddl.h"

namespace tasks {

struct SceneSettings {
  // Agentview for a surface whose top is at 0.9 m; the camera and the point it
  // looks at move up or down with the scene's actual surface height.
  std::array<double, 3> agentview_position{0.6586, 0.0, 1.6104};  // m, LIBERO's agentview
  std::array<double, 3> agentview_target{-0.25, 0.0, 0.92};       // m, point the camera looks at
  double agentview_fovy = 45;                                     // degrees
  double reference_surface_z = 0.9;  // m, surface height the two points above are given for
  std::array<double, 2> robot_base_xy{-0.66, 0.0};  // m, Panda base relative to the surface centre
  double robot_base_above_surface = 0.012;          // m, Panda base height above the surface top
};

// Where an object initially goes. Exactly one of region_site / support_object
// is set.
struct PlacementRule {
  std::string object;          // object name (free body)
  std::string region_site;     // site of the region it starts in (a box: half extents = size)
  std::string support_object;  // free object it stands on, e.g. "cookies_1" for (On bowl cookies_1)
  std::string support;         // body the object rests on or in: surface, fixture or object
  bool inside = false;         // (In obj region): rests on the region's floor, not its top face
  std::array<double, 2> yaw_range{0, 0};  // rad, added to the site's (or support's) yaw
};

// A joint that the :init section sets: (Open/Close <region or fixture>),
// (TurnOn/TurnOff <fixture>).
struct JointInit {
  std::string joint;  // joint name
  std::string state;  // "open", "closed", "on" or "off"
};

struct Scene {
  std::string mjcf;                                 // the complete MJCF document
  std::vector<envs::assets::ObjectInfo> objects;    // surface, fixtures and objects
  std::vector<PlacementRule> placements;            // in dependency order: supports first
  std::vector<JointInit> joint_inits;               // joints the :init section sets
  std::map<std::string, std::string> region_sites;  // BDDL region full name -> site name
  std::string surface;                              // name of the surface fixture
  double table_top_z = 0.9;                         // m, top of the surface
  const envs::assets::ObjectInfo* find(const std::string& name) const;
};

// Builds the scene of `task`. Throws std::runtime_error (naming the task file)
// for unknown categories, a missing or second surface, or placements the
// builder does not support.
Scene build_scene(const TaskSpec& task, const SceneSettings& settings = {});

}  // namespace tasks
