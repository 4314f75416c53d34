#include "envs/mesh.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <stdexcept>

namespace envs {

namespace {

// Twice the signed area of the (radius, z) polygon; positive when counter-clockwise.
double twice_signed_area(const std::vector<std::array<double, 2>>& profile) {
  double sum = 0;
  for (size_t i = 0; i < profile.size(); ++i) {
    const auto& a = profile[i];
    const auto& b = profile[(i + 1) % profile.size()];
    sum += a[0] * b[1] - b[0] * a[1];
  }
  return sum;
}

void append_number(std::string& out, double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.6g", value);
  out += buffer;
}

}  // namespace

Mesh revolve(const std::vector<std::array<double, 2>>& profile, int segments) {
  if (segments < 3) {
    throw std::runtime_error("revolve: segments must be at least 3, got " +
                             std::to_string(segments));
  }
  if (profile.size() < 3) {
    throw std::runtime_error("revolve: the profile needs at least 3 points, got " +
                             std::to_string(profile.size()));
  }
  for (const auto& point : profile) {
    if (!(point[0] >= 0) || !std::isfinite(point[0]) || !std::isfinite(point[1])) {
      throw std::runtime_error("revolve: profile radius must be finite and >= 0, got " +
                               std::to_string(point[0]));
    }
  }
  const double area = twice_signed_area(profile);
  if (std::abs(area) < 1e-12) {
    throw std::runtime_error("revolve: the profile encloses no area");
  }
  // Counter-clockwise in the (radius, z) plane gives outward normals below.
  std::vector<std::array<double, 2>> points = profile;
  if (area < 0) std::reverse(points.begin(), points.end());

  // Vertex index of each profile point at each angle (poles get one vertex).
  Mesh mesh;
  std::vector<int> first_vertex(points.size());
  for (size_t i = 0; i < points.size(); ++i) {
    first_vertex[i] = static_cast<int>(mesh.vertices.size() / 3);
    const bool pole = points[i][0] == 0;
    const int count = pole ? 1 : segments;
    for (int k = 0; k < count; ++k) {
      const double angle = 2 * std::numbers::pi * k / segments;
      mesh.vertices.push_back(static_cast<float>(points[i][0] * std::cos(angle)));
      mesh.vertices.push_back(static_cast<float>(points[i][0] * std::sin(angle)));
      mesh.vertices.push_back(static_cast<float>(points[i][1]));
    }
  }
  auto vertex = [&](size_t point, int k) {
    return points[point][0] == 0 ? first_vertex[point] : first_vertex[point] + k % segments;
  };

  // One band of triangles per profile edge a -> b.
  for (size_t i = 0; i < points.size(); ++i) {
    const size_t a = i;
    const size_t b = (i + 1) % points.size();
    const bool a_pole = points[a][0] == 0;
    const bool b_pole = points[b][0] == 0;
    if (a_pole && b_pole) continue;
    for (int k = 0; k < segments; ++k) {
      const int a0 = vertex(a, k), a1 = vertex(a, k + 1);
      const int b0 = vertex(b, k), b1 = vertex(b, k + 1);
      if (!a_pole) mesh.faces.insert(mesh.faces.end(), {a0, a1, b0});
      if (!b_pole) mesh.faces.insert(mesh.faces.end(), {b0, a1, b1});
    }
  }
  return mesh;
}

Mesh box_mesh(const std::array<double, 3>& half_extents) {
  Mesh mesh;
  for (int corner = 0; corner < 8; ++corner) {
    for (int axis = 0; axis < 3; ++axis) {
      const double sign = (corner >> axis) & 1 ? 1.0 : -1.0;
      mesh.vertices.push_back(static_cast<float>(sign * half_extents[axis]));
    }
  }
  // Corner index bits: x = 1, y = 2, z = 4. Two triangles per face, outward.
  mesh.faces = {0, 2, 3, 0, 3, 1,   // -z
                4, 5, 7, 4, 7, 6,   // +z
                0, 1, 5, 0, 5, 4,   // -y
                2, 6, 7, 2, 7, 3,   // +y
                0, 4, 6, 0, 6, 2,   // -x
                1, 3, 7, 1, 7, 5};  // +x
  return mesh;
}

double signed_volume(const Mesh& mesh) {
  double six_volume = 0;
  for (size_t f = 0; f + 2 < mesh.faces.size(); f += 3) {
    const float* p = &mesh.vertices[3 * mesh.faces[f]];
    const float* q = &mesh.vertices[3 * mesh.faces[f + 1]];
    const float* r = &mesh.vertices[3 * mesh.faces[f + 2]];
    six_volume += double(p[0]) * (double(q[1]) * r[2] - double(q[2]) * r[1]) -
                  double(p[1]) * (double(q[0]) * r[2] - double(q[2]) * r[0]) +
                  double(p[2]) * (double(q[0]) * r[1] - double(q[1]) * r[0]);
  }
  return six_volume / 6;
}

std::string mesh_mjcf(const std::string& name, const Mesh& mesh) {
  std::string out = "<mesh name=\"" + name + "\" vertex=\"";
  out.reserve(out.size() + 10 * mesh.vertices.size() + 5 * mesh.faces.size() + 16);
  for (size_t i = 0; i < mesh.vertices.size(); ++i) {
    if (i > 0) out += ' ';
    append_number(out, mesh.vertices[i]);
  }
  out += "\" face=\"";
  for (size_t i = 0; i < mesh.faces.size(); ++i) {
    if (i > 0) out += ' ';
    out += std::to_string(mesh.faces[i]);
  }
  out += "\"/>";
  return out;
}

}  // namespace envs
