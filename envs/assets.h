// Procedural scene assets: LIBERO-style objects and fixtures built as MJCF in
// code (our own geometry with LIBERO-like sizes and looks).
//
// Conventions shared by every category:
// - The caller's scene needs <compiler angle="radian"/> (hinge ranges are in rad).
// - A free object is one body NAME with <freejoint name="NAME_joint"/>; a
//   fixture has no joint (welded). Jointed parts (drawers, knobs) are child
//   bodies of NAME, so the subtree of NAME holds every geom of the object.
// - Collision geoms are NAME_g0, NAME_g1, ... in group 3 (hidden in renders),
//   contype = conaffinity = 1, friction 1. Visual geoms are NAME_v0, ... in
//   group 1 with contype = conaffinity = 0 and no mass. Containers (bowl,
//   plate, ramekin, drawers) collide through convex pieces (a base and a ring
//   of boxes); their smooth look comes from a revolved visual mesh.
// - Region sites are boxes (size = half extents) in site group 5; their top
//   face lies on the supporting surface (On) or they span the cavity (In).
// - Fixtures face -x in their own frame (drawer fronts, stove knob): placed
//   with yaw 0 at the back of the table they face a robot standing at -x.
// - Drawer slides: axis +x, qpos 0 closed, negative pulled open toward -x.
// - Assets (meshes, materials, textures) are prefixed by the instance name, so
//   several instances of one category can share a scene.
#pragma once

#include <array>
#include <map>
#include <string>
#include <vector>

namespace envs::assets {

// Where a body's origin goes in the world.
struct Placement {
  std::array<double, 3> position{};  // m, world frame
  double yaw = 0;                    // rad about world z
};

// MJCF pieces of one object instance.
struct ObjectMjcf {
  std::string assets;  // <mesh>/<material>/<texture> elements for <asset>
  std::string body;    // one complete <body name="NAME" ...> element for <worldbody>
};

// What task logic and placement need to know about an object instance.
struct ObjectInfo {
  std::string name, category;
  bool fixture = false;                   // fixtures are welded (no freejoint)
  std::vector<std::string> region_sites;  // box sites "NAME_<region>" (size = half extents)
  std::map<std::string, std::string> region_joints;  // region site -> joint that opens it (drawer)
  std::string knob_joint;                            // stove knob hinge ("" if none)
  // Where a gripper takes hold of each opening joint: joint -> site at the
  // handle (drawer handle bar, door handle); group 5, size = half extents.
  std::map<std::string, std::string> handle_sites;
  // Surfaces (tables, the floor) carry the scene: the top face's height above
  // the body origin, m. Objects and other fixtures stand on it.
  bool surface = false;
  double surface_top = 0;
  double bottom_z = 0;                               // body origin height above the lowest point, m
  // Half sizes of the object's bounding box in its own frame, m. The box is
  // centred on the body origin in x and y (symmetric cover where a handle or
  // knob sticks out) and spans z from -bottom_z to 2 * half_extents[2] - bottom_z.
  std::array<double, 3> half_extents{};
  // Wall thickness at the rim of an open round container (bowl, ramekin),
  // which a parallel gripper pinches; 0 for anything else. m.
  double rim_wall = 0;
};

// Every category make() can build, in a stable order.
std::vector<std::string> categories();

bool is_known(const std::string& category);

// Builds the MJCF of one instance. Throws std::runtime_error naming the
// category and listing the valid ones if it is unknown, or if name is empty.
ObjectMjcf make(const std::string& category, const std::string& name, const Placement& placement);

// Facts about an instance named `name` (same rules and errors as make()).
ObjectInfo info(const std::string& category, const std::string& name);

}  // namespace envs::assets
