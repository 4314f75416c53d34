// Goal predicates (LIBERO's On, In, Open, Close, TurnOn, TurnOff, Up, with
// And/Or/Not), resolved once against a compiled model and checked each step.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <mujoco/mujoco.h>

#include "tasks/bddl.h"
#include "tasks/scene.h"

namespace tasks {

// Thresholds from LIBERO (m, rad); see reference/BENCHMARKS.md.
struct PredicateSettings {
  double on_xy_distance = 0.03;          // On(object, object): xy distance below
  double region_z_below = 0.005;         // On(object, region): origin may sit this far below the top face
  double region_z_above = 0.10;          // ... and at most this far above it
  double in_z_slack = 0.01;              // In(object, region): lower z bound this much lower
  double drawer_open = -0.14;            // slide qpos below: open
  double drawer_closed = 0.0;            // slide qpos above: closed
  double door_open = -1.3;               // hinge qpos below: open (microwave)
  double door_closed = -0.005;           // hinge qpos above: closed
  double knob_on = 0.5;                  // knob qpos at or above: on
  double knob_off = 0.0;                 // knob qpos below: off
  double up_height = 0.1;                // Up(object): origin this high above the table top
};

class Goal {
 public:
  // Resolves every name in `formula` against `model`; throws std::runtime_error
  // naming the predicate (file:line) and the unknown name.
  Goal(const Predicate& formula, const Scene& scene, const mjModel* model,
       const std::string& file, PredicateSettings settings = {});
  ~Goal();
  Goal(Goal&&) noexcept;
  Goal& operator=(Goal&&) noexcept;

  bool holds(const mjModel* model, const mjData* data) const;

  // True if any geom of body subtree `a` touches any geom of subtree `b`.
  static bool in_contact(const mjModel* model, const mjData* data, const std::vector<char>& a,
                         const std::vector<char>& b);
  // Membership mask (model nbody) of the subtree rooted at `body`.
  static std::vector<char> subtree_mask(const mjModel* model, int body);

  struct Node;  // a compiled formula node (defined in the source)

 private:
  std::unique_ptr<Node> root_;
  PredicateSettings settings_;
  double table_top_ = 0;  // m
};

}  // namespace tasks
