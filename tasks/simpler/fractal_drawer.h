// SimplerEnv-style Fractal drawer tasks (Google robot in front of a
// three-drawer cabinet): open / close the top, middle or bottom drawer, and
// "open the top drawer and place the apple into it".
//
// Layouts follow SimplerEnv's drawer evaluations: the robot base stands at one
// of the nine visual-matching poses (A0..C2: x, y and yaw in front of the
// cabinet); each drawer task also turns the base by -0.03, 0 or +0.03 rad
// about that pose (27 layouts: layout = pose * 3 + turn; the turns are ours,
// SimplerEnv runs the nine poses under four visual variants). The apple task uses the three
// poses A0, B0, C0 and a 3 x 3 grid of apple positions on the cabinet top
// (27 layouts: layout = pose * 9 + grid cell).
//
// Success (SimplerEnv's rules): open: drawer joint >= 0.15 m; close (the
// drawer starts at 0.2 m): joint <= 0.05 m; apple: the top drawer is open
// (> 0.05 m) and the apple has touched the drawer's bottom on at least 3
// control steps. The apple task's instruction reads "open top drawer" until
// the drawer is open (> 0.05 m), then "place apple into top drawer" (as
// SimplerEnv's environment words it from the drawer's state).
//
// The simulated robot stands still (at pose B1); each layout places the
// cabinet (a mocap body) and the apple where that layout's base pose would
// see them. SimplerEnv's cabinet model is not ours: the drawer fronts stand
// where this robot reaches every drawer from every layout.
//
// Hints for scripted experts (Observation::privileged): "handle" (the target
// drawer's handle bar centre; rotation: the cabinet's), "pull" (position =
// unit direction the drawers open along), "cabinet", "shoulder" (the arm's
// shoulder centre; rotation: the robot base's), apple task: "apple", "place"
// (where the apple rests in the open drawer's gap); privileged_values:
// "joint_position", "joint_goal", "drawer_level", "arm_reach", "tcp_offset",
// "cabinet_top_z", apple task: "apple_rest_height", "apple_radius".
// Observation::skill: "fractal_open_drawer", "fractal_close_drawer",
// "fractal_apple_in_drawer". metrics(): apple task {"grasp": apple ever held
// by both fingers}, otherwise none. Besides the robot's "overhead_camera"
// (observation names "agentview" and "image"), the scene has
// "drawer_side_camera", a side view of robot and cabinet for reviewing
// episodes.
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

// The 7 drawer tasks in order: open top / middle / bottom drawer, close top /
// middle / bottom drawer (group "drawer", 27 episodes, 113 steps), then "open
// the top drawer and place the apple into it" (group "apple_in_drawer", 27
// episodes, 200 steps). Family "fractal", 3 Hz, nominal variant "".
std::vector<TaskDefinition> fractal_drawer_tasks();

// Cabinet variants that variant aggregation adds for the drawer tasks, besides
// the Fractal scene variants (other carcass and front finishes and handles).
std::vector<std::string> fractal_cabinet_variants();

// Builds the environment of one drawer task (any variant: a cabinet variant or
// a Fractal scene variant). Throws std::runtime_error naming the task if it is
// not a drawer task or its variant is unknown.
std::unique_ptr<EpisodeEnv> make_fractal_drawer_env(std::shared_ptr<const TaskDefinition> task,
                                                    envs::EnvSettings settings);

// Facts of the drawer scene that tests and tools read.
inline constexpr double kDrawerOpenSuccess = 0.15;   // m, open task succeeds at or above
inline constexpr double kDrawerCloseSuccess = 0.05;  // m, close task succeeds at or below
inline constexpr double kDrawerCloseStart = 0.2;     // m, close tasks start this far open
inline constexpr double kDrawerOpened = 0.05;        // m, apple task: the drawer counts as open
inline constexpr double kDrawerTravel = 0.26;        // m, slide range 0 .. travel
inline constexpr int kAppleContactSteps = 3;         // control steps of apple-bottom contact

}  // namespace tasks::simpler
