// A WidowX-250-style 6-DoF arm with a parallel gripper, as MJCF built in code.
//
// Kinematics follow the published WidowX 250 6DOF (wx250s) layout, in the
// base frame (x forward, z up): waist (z) 0.072 m above the base, shoulder (y)
// 0.03865 m higher, elbow (y) at +0.04975 x, +0.25 z, forearm roll (x) 0.175 m
// ahead, wrist angle (y) 0.075 m ahead, wrist rotate (x) 0.065 m ahead; the
// fingers sit 0.066 m beyond the wrist-rotate joint and the TCP 0.0936 m.
// With all joints at 0 the arm is an upright upper arm and a level forearm.
// Names (with the default prefix "robot0_"):
//   joints    robot0_joint1 .. robot0_joint6 (hinge: waist, shoulder, elbow,
//             forearm_roll, wrist_angle, wrist_rotate), robot0_finger_joint1/2
//             (slide, 0 = closed .. kWidowXFingerOpen = open, each finger)
//   actuators robot0_pos_j1 .. robot0_pos_j6 (position servos, ctrlrange =
//             joint range), robot0_gripper_finger1/2 (position servos on the
//             finger joints, ctrl = finger opening in m; fed the same command)
//   bodies    robot0_base, robot0_shoulder_link, robot0_upper_arm_link,
//             robot0_upper_forearm_link, robot0_lower_forearm_link,
//             robot0_wrist_link, robot0_gripper_link, robot0_leftfinger,
//             robot0_rightfinger
//   sites     robot0_grip_site (TCP between the fingertip pads; z along the
//             fingers, fingers close along its y axis)
//   geoms     robot0_pad1, robot0_pad2 (fingertip pads, high friction)
// Geom groups: visual geoms are group 1 (no contacts), collision geoms group 3.
#pragma once

#include <array>
#include <string>

#include "envs/panda.h"  // MjcfParts

namespace envs {

struct WidowXSettings {
  std::string prefix = "robot0_";                           // name prefix of every element
  std::array<double, 3> base_position{0.147, 0.028, 0.87};  // m, world; Bridge table mount
  double base_yaw = 3.141592653589793;                      // rad about world z (pi: faces -x)
};

// Pieces to splice into a scene (see MjcfParts in envs/panda.h). The scene
// must set <compiler angle="radian" autolimits="true"/> and a 2 ms timestep.
MjcfParts widowx_mjcf(const WidowXSettings& settings = {});

// Published joint limits (rad, joints 1-6).
inline constexpr std::array<std::array<double, 2>, 6> kWidowXJointLimits = {{{-3.1415, 3.1415},
                                                                             {-1.8850, 1.9897},
                                                                             {-2.1468, 1.6057},
                                                                             {-3.1415, 3.1415},
                                                                             {-1.7453, 2.1468},
                                                                             {-3.1415, 3.1415}}};

// The Bridge rest posture (rad, joints 1-6): the gripper points down about
// 0.29 m in front of the base and 0.14 m above it.
inline constexpr std::array<double, 6> kWidowXInitQpos = {-0.01840777, 0.0398835,  0.22242722,
                                                          -0.00460194, 1.36524296, 0.00153398};
// The sink setup's rest posture (rad, joints 1-6).
inline constexpr std::array<double, 6> kWidowXSinkInitQpos = {
    -0.2600599, -0.12875618, 0.04461369, -0.00652761, 1.7033415, -0.26983038};

// Finger travel (m, per finger; 0 closes the pads on each other) and the TCP's
// distance from the wrist-rotate joint along the gripper axis (m).
inline constexpr double kWidowXFingerOpen = 0.032;
inline constexpr double kWidowXTcpOffset = 0.093575;

}  // namespace envs
