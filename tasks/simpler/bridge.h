// SimplerEnv-style "Bridge" tasks: a WidowX-style arm at a toy-kitchen table,
// one third-person camera (640x480), 5 Hz delta end-effector control.
//
//   0 put the spoon on the towel                 60 steps
//   1 put carrot on plate                        60 steps
//   2 stack the green block on the yellow block  60 steps
//   3 put eggplant into yellow basket            120 steps (toy sink scene)
//
// Layouts follow SimplerEnv's put-on evaluations: tasks 0-2 place the source
// and the target on two different corners of a square grid around (-0.16, 0)
// (half edge 0.075 m; the blocks use two grids, 0.05 and 0.1 m), ordered
// (source, target) corner pairs times the source's yaw choices = 24 layouts
// (layout = pair * yaws + yaw). The eggplant starts in the sink's right basin
// on a 2 x 4 grid around (-0.105, 0.206) (+/- 0.01 m in x, +/- 0.015 m in y)
// with yaw 0 or +/- pi/4 (layout = cell * 3 + yaw); the yellow basket stands in
// the left basin at (-0.125, 0.025).
//
// Success (SimplerEnv's rule): the source's centre lies within the target's
// half xy diagonal + 3 mm of the target's centre, above it, with a z gap
// (centre offset minus both half heights) of at most 2 cm (6 cm for the
// basket); for the carrot and the blocks the source must also touch nothing
// but the target and the robot (the spoon and the eggplant may rest partly on
// the table or basin). The robot need not let go. The "grasp" metric is 1 once
// both fingers have pressed on the source (force within 60 degrees of their
// closing directions).
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

// The four tasks in order; family "bridge", 24 episodes, 5 Hz, no wait steps.
std::vector<TaskDefinition> bridge_tasks();

// Builds the environment of one Bridge task. Throws std::runtime_error naming
// the task if it is not a Bridge task.
std::unique_ptr<EpisodeEnv> make_bridge_env(std::shared_ptr<const TaskDefinition> task,
                                            envs::EnvSettings settings);

// Where one episode puts the source and the target (world xy, m; yaw, rad).
struct BridgeLayout {
  std::array<double, 2> source_xy{}, target_xy{};
  double source_yaw = 0;
};
// Throws std::runtime_error naming the task and the valid range.
BridgeLayout bridge_layout(const std::string& task_name, int episode);

inline constexpr int kBridgeEpisodes = 24;
inline constexpr double kBridgeXyMargin = 0.003;   // m added to the target's half diagonal
inline constexpr double kBridgeZGap = 0.02;        // m, largest gap between source and target
inline constexpr double kBridgeBasketZGap = 0.06;  // m, the basket's gap

class BridgeEnv : public EpisodeEnv {
 public:
  // Compiles the task's scene. Throws std::runtime_error for an unknown task.
  BridgeEnv(std::shared_ptr<const TaskDefinition> task, envs::EnvSettings settings);

  const envs::Observation& reset(
      int episode, const std::map<std::string, envs::CameraPerturbation>& cameras = {}) override;
  StepResult step(const envs::Action& action) override;
  bool goal_holds() const override;
  envs::Env& env() override { return env_; }
  const TaskDefinition& task() const override { return *task_; }
  const std::map<std::string, double>& metrics() const override { return metrics_; }

  // Both fingers press on the source now.
  bool source_grasped() const;
  // Model ids of the source body and the target body (the basket for task 3).
  int source_body() const { return source_body_; }
  int target_body() const { return target_body_; }
  // qpos address of the source's free joint (x y z qw qx qy qz).
  int source_qpos() const { return source_qpos_; }
  // World centre of the target's reference box (the basket's floor region for task 3).
  std::array<double, 3> target_center() const;
  // Half extents (m) of the source's and the target's boxes of the success rule.
  const std::array<double, 3>& source_half() const { return source_half_; }
  const std::array<double, 3>& target_half() const { return target_half_; }
  // Republishes hints and metrics after the caller edited the state (tests).
  const envs::Observation& refresh();

 private:
  struct Kind;
  void settle_layout(int episode);
  void publish();
  bool source_on_target() const;

  std::shared_ptr<const TaskDefinition> task_;
  int kind_ = 0;  // task index 0..3
  envs::Env env_;
  int source_body_ = -1, target_body_ = -1, target_site_ = -1;
  int source_qpos_ = -1, target_qpos_ = -1;
  std::array<double, 3> source_half_{}, target_half_{};
  std::array<double, 3> grasp_offset_{};  // TCP point on the source when closing, source frame
  double clear_top_ = 0;                  // m, highest fixture edge the carry must clear
  bool contact_rule_ = false;             // source may touch only the target and the robot
  double z_gap_ = kBridgeZGap;
  std::vector<char> robot_body_;  // per body: part of the robot
  int left_finger_ = -1, right_finger_ = -1;
  std::vector<std::vector<double>> settled_;  // per episode: settled qpos (empty until used)
  std::map<std::string, double> metrics_;
  bool success_ = false;
  // Hint entries, created once so that steps do not allocate.
  envs::Pose *source_pose_ = nullptr, *target_pose_ = nullptr, *grasp_pose_ = nullptr,
             *place_pose_ = nullptr;
  double *grasp_yaw_ = nullptr, *grasp_symmetry_ = nullptr, *grasped_ = nullptr,
         *carry_z_ = nullptr, *hover_z_ = nullptr, *grasp_metric_ = nullptr;
};

}  // namespace tasks::simpler
