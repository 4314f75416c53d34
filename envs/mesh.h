// Triangle meshes generated in code for procedural scene assets, and their
// MJCF form (inline <mesh vertex=".." face=".."/>).
#pragma once

#include <array>
#include <string>
#include <vector>

namespace envs {

// An indexed triangle mesh. Faces are counter-clockwise seen from outside.
struct Mesh {
  std::vector<float> vertices;  // x, y, z per vertex (m)
  std::vector<int> faces;       // three vertex indices per triangle
};

// Revolves a closed profile polygon about the z axis. Each profile point is
// (radius, z) in m with radius >= 0; the polygon closes from the last point back
// to the first. Points with radius 0 become single pole vertices, so a profile
// that starts and ends on the axis gives a closed solid, and one off the axis
// gives a closed ring. Either winding of the profile is accepted; the result
// always has outward normals. Throws std::runtime_error on a bad profile
// (fewer than 3 points, negative radius, zero area) or segments < 3.
Mesh revolve(const std::vector<std::array<double, 2>>& profile, int segments);

// An axis-aligned box centred at the origin with the given half extents (m).
Mesh box_mesh(const std::array<double, 3>& half_extents);

// Signed volume enclosed by the mesh (m^3); positive when faces point outward.
double signed_volume(const Mesh& mesh);

// The MJCF element <mesh name="NAME" vertex="..." face="..."/>.
std::string mesh_mjcf(const std::string& name, const Mesh& mesh);

}  // namespace envs
