// Turns a parsed task (BDDL) into a MuJoCo scene: table, fixtures, objects,
// the Panda, cameras, lights and the task's region sites.
#pragma once

#include <array>
#include <map>
#include <string>
#include <vector>

#include "envs/assets.h"
#include "tasks/bddl.h"

namespace tasks {

struct SceneSettings {
  std::array<double, 3> agentview_position{0.6586, 0.0, 1.6104};  // m, LIBERO's agentview
  std::array<double, 3> agentview_target{-0.25, 0.0, 0.92};        // m, point the camera looks at
  double agentview_fovy = 45;                                       // degrees
  double table_top_z = 0.9;                                         // m
};

// Where an object is initially placed: a region on a target.
struct PlacementRule {
  std::string object;       // object name (free body)
  std::string region_site;  // site of the region it starts in (a box: half extents = size)
  std::array<double, 2> yaw_range{0, 0};  // rad, added to the site's yaw
};

struct Scene {
  std::string mjcf;                                     // the complete MJCF document
  std::vector<envs::assets::ObjectInfo> objects;        // table, fixtures and objects
  std::vector<PlacementRule> placements;                // objects placed by init sampling
  std::map<std::string, std::string> region_sites;      // BDDL region full name -> site name
  double table_top_z = 0.9;                             // m
  const envs::assets::ObjectInfo* find(const std::string& name) const;
};

// Builds the scene of `task`. Throws std::runtime_error (naming the task file)
// for unknown categories or placements the builder does not support.
Scene build_scene(const TaskSpec& task, const SceneSettings& settings = {});

}  // namespace tasks
