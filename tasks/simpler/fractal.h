// The SimplerEnv-style "Fractal" suite (Google robot, RT-1 data): pick coke
// can (horizontal / vertical / standing, SimplerEnv's 5 x 5 grid), move {A}
// near {B} (SimplerEnv's 5 triplets x 6 source/target pairs x 2 layouts), and
// the drawer tasks of tasks/simpler/fractal_drawer.h.
//
// Success, as ManiSkill2_real2sim judges it each control step:
// - pick coke can: the can is lifted (above its settled height by > 1 cm while
//   touching nothing but the robot; forgotten whenever the gripper loses its
//   grasp), or it was lifted by > 2 cm on at least 5 steps.
// - move near: nothing knocked over (other objects keep their height within
//   2 cm; source and target within 15 cm), the source moved > 3 cm in xy and
//   more than any other object, its xy distance to the target is below the two
//   objects' half bounding-box diagonals + 10 cm, and the target is its nearest
//   object (within 1 cm).
#pragma once

#include <array>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "envs/env.h"
#include "tasks/episode_env.h"
#include "tasks/suite.h"

namespace tasks::simpler {

// Visual matching (false): every task once, variant "". Variant aggregation
// (true): coke and move-near tasks once per scene variant of SimplerEnv's
// aggregation (background_1/2, lighting_darker/brighter, distractors,
// table_texture_1/2); drawer tasks once per background and lighting variant
// and per cabinet variant. Names carry the variant ("task@variant").
std::vector<TaskDefinition> fractal_tasks(bool variant_aggregation);

// The environment of any Fractal task (drawer tasks go to
// make_fractal_drawer_env). Throws std::runtime_error naming the task if it is
// not a Fractal task.
std::unique_ptr<EpisodeEnv> make_fractal_env(std::shared_ptr<const TaskDefinition> task,
                                             envs::EnvSettings settings);

// Coke-can orientations of the pick tasks.
enum class CokeOrientation { kHorizontal, kVertical, kStanding };

// SimplerEnv's lift judge for one episode, fed once per control step.
class PickLiftJudge {
 public:
  void reset();
  // grasped: both fingers press the object; touching_other: it touches
  // anything but the robot; rise: its height above the settled height (m).
  // Returns success after this step.
  bool update(bool grasped, bool touching_other, double rise);
  bool success() const { return success_; }
  bool ever_grasped() const { return ever_grasped_; }

 private:
  bool lifted_ = false, success_ = false, ever_grasped_ = false;
  int significant_lifts_ = 0;
};

// One object's state for the move-near judge (world frame, m).
struct NearObject {
  std::array<double, 3> settled{};   // position after the reset settled
  std::array<double, 3> position{};  // now
  double half_diagonal = 0;          // half the bounding box's xy diagonal at reset
};

// SimplerEnv's move-near rule for objects[source] and objects[target].
bool move_near_success(const std::vector<NearObject>& objects, int source, int target);

// Names of the move-near objects of an episode (source, target, third) and
// their SimplerEnv layout; exposed for tests and tools.
struct MoveNearLayout {
  std::array<std::string, 3> kinds;                // triplet, in SimplerEnv's order
  int source = 0, target = 1;                      // indices into kinds
  std::array<std::array<double, 2>, 3> positions;  // xy, world, m
};
MoveNearLayout move_near_layout(int episode);  // 0 .. 59

}  // namespace tasks::simpler
