// A Google-robot-style (RT-1 "Fractal" data) mobile manipulator as MJCF built
// in code: a 7-DoF arm with a two-finger parallel gripper on a static mobile
// base and torso (the base does not drive; SimplerEnv's "google_robot_static").
//
// Frame: the robot frame's origin is on the floor at the base's centre, x
// forward (toward the table), y left, z up; the settings place and turn it.
// Kinematics (robot frame, all joints at 0: arm straight forward, level):
//   shoulder (joints 1 yaw about z, 2 pitch about y, 3 roll about x) at
//   kGoogleRobotShoulder; elbow (joint 4 pitch about y) kGoogleRobotUpperArm
//   further along x; forearm roll (5); wrist (joint 6 pitch about y)
//   kGoogleRobotForearm further; tool roll (7); the TCP kGoogleRobotTcpOffset
//   beyond the wrist. Positive pitch turns the arm downward.
// Names (with the default prefix "robot0_"):
//   joints    robot0_joint1 .. robot0_joint7 (hinge), robot0_finger_joint1/2
//             (slide, 0 = closed .. kGoogleRobotFingerOpen = open, each finger)
//   actuators robot0_pos_j1 .. robot0_pos_j7 (position servos, ctrl = joint
//             target in rad, ctrlrange = joint range), robot0_gripper_finger1/2
//             (position servos on the fingers, ctrl = opening in m)
//   bodies    robot0_base (static base, torso and head), robot0_link1 ..
//             robot0_link7 (link7 carries the gripper), robot0_finger1/2
//   sites     robot0_grip_site (TCP between the fingertip pads; z along the
//             fingers, fingers close along its y axis), robot0_head_site (the
//             head camera's mount point, for scenes that place a camera there)
// Geom groups: visual geoms are group 1 (no contacts), collision geoms group 3.
#pragma once

#include <array>
#include <numbers>
#include <string>

#include "envs/panda.h"  // MjcfParts

namespace envs {

struct GoogleRobotSettings {
  std::string prefix = "robot0_";                  // name prefix of every element
  std::array<double, 3> base_position{0.35, 0.20, 0};  // m, world: base centre on the floor
  double base_yaw = std::numbers::pi;              // rad about world z (pi: facing -x)
};

MjcfParts google_robot_mjcf(const GoogleRobotSettings& settings = {});

// Arm geometry (robot frame, m).
inline constexpr std::array<double, 3> kGoogleRobotShoulder = {0.10, 0, 1.02};
inline constexpr double kGoogleRobotUpperArm = 0.38;    // shoulder to elbow
inline constexpr double kGoogleRobotForearm = 0.35;     // elbow to wrist
inline constexpr double kGoogleRobotTcpOffset = 0.175;  // wrist to TCP (fingertip pads)
// Head camera mount (robot frame, m) and its downward tilt (rad): where
// SimplerEnv-style scenes put the overhead camera.
inline constexpr std::array<double, 3> kGoogleRobotHead = {-0.02, 0, 1.45};
inline constexpr double kGoogleRobotHeadTilt = 0.74;
// Radius of the round mobile base (m); it is kGoogleRobotBaseHeight tall.
inline constexpr double kGoogleRobotBaseRadius = 0.3;
inline constexpr double kGoogleRobotBaseHeight = 0.32;

// The initial arm posture (rad, joints 1-7), as in SimplerEnv's RT-1 start
// pose: the gripper points down about 0.2 m above a 0.87 m table, 0.5 m in
// front of the base (TCP at robot-frame (0.50, 0, 1.07)), elbow out to the
// robot's right, fingers closing along the robot's y axis.
inline constexpr std::array<double, 7> kGoogleRobotInitQpos = {-0.9187, -0.3557, 1.9492, 1.7841,
                                                              -1.1275, 1.8387, 0.9949};

// Joint limits (rad, joints 1-7).
inline constexpr std::array<std::array<double, 2>, 7> kGoogleRobotJointLimits = {{{-2.6, 2.6},
                                                                                  {-2.0, 2.0},
                                                                                  {-2.9, 2.9},
                                                                                  {-2.6, 2.6},
                                                                                  {-2.9, 2.9},
                                                                                  {-2.1, 2.1},
                                                                                  {-3.05, 3.05}}};

// Finger travel (m, per finger): the gripper opens to 2 x this.
inline constexpr double kGoogleRobotFingerOpen = 0.05;

}  // namespace envs
