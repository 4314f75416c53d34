// The Franka Emika Panda arm with its parallel gripper, as MJCF built in code.
//
// Kinematics follow Franka's published modified-DH layout (d1 0.333, d3 0.316,
// d5 0.384, a4 0.0825, a5 -0.0825, a7 0.088, flange 0.107 m); each link body's
// frame is the DH frame of its joint, so every joint axis is the body's z axis.
// Names (with the default prefix "robot0_"):
//   joints    robot0_joint1 .. robot0_joint7 (hinge), robot0_finger_joint1/2
//             (slide, 0 = closed .. 0.04 m = open, each finger)
//   actuators robot0_torque_j1 .. robot0_torque_j7 (motors, N m),
//             robot0_gripper_finger1/2 (position servos on the finger joints,
//             ctrl = finger opening target in m; fed the same command)
//   bodies    robot0_base, robot0_link1 .. robot0_link7, robot0_hand,
//             robot0_leftfinger, robot0_rightfinger
//   sites     robot0_grip_site (TCP between the fingertip pads; z along the
//             fingers, fingers close along its y axis)
//   cameras   robot0_eye_in_hand (on the hand, looking along the fingers)
// Geom groups: visual geoms are group 1 (no contacts), collision geoms group 3
// (hidden by MuJoCo's default visual options).
#pragma once

#include <array>
#include <string>

namespace envs {

struct PandaSettings {
  std::string prefix = "robot0_";                        // name prefix of every element
  std::array<double, 3> base_position{-0.66, 0, 0.912};  // m, world; LIBERO-style table mount
  bool mount = true;                                     // a pedestal under the base, down to z = 0
};

// Pieces to splice into a scene's sections:
//   defaults   <default class=...> elements, to go inside the scene's top <default>
//   assets     <material> elements, inside <asset>
//   worldbody  the robot's base body, inside <worldbody>
//   actuators  inside <actuator>
//   contacts   <exclude> elements, inside <contact>
//   equalities inside <equality> (couples the two fingers)
// The scene must set <compiler angle="radian" autolimits="true"/> (joint ranges
// are in rad) and should use a 2 ms timestep (what the gains were tuned for).
struct MjcfParts {
  std::string defaults, assets, worldbody, actuators, contacts, equalities;
};

MjcfParts panda_mjcf(const PandaSettings& settings = {});

// LIBERO's initial arm posture (rad, joints 1-7): the gripper points down,
// about 0.5 m in front of the base.
inline constexpr std::array<double, 7> kPandaInitQpos = {
    0, -0.161, 0, -2.4446, 0, 2.2268, 0.7853981633974483};

// Published joint limits (rad, joints 1-7) and joint torque limits (N m).
inline constexpr std::array<std::array<double, 2>, 7> kPandaJointLimits = {{{-2.8973, 2.8973},
                                                                            {-1.7628, 1.7628},
                                                                            {-2.8973, 2.8973},
                                                                            {-3.0718, -0.0698},
                                                                            {-2.8973, 2.8973},
                                                                            {-0.0175, 3.7525},
                                                                            {-2.8973, 2.8973}}};
inline constexpr std::array<double, 7> kPandaTorqueLimits = {87, 87, 87, 87, 12, 12, 12};

// Finger travel (m, per finger) and the TCP's distance from the hand frame (m).
inline constexpr double kPandaFingerOpen = 0.04;
inline constexpr double kPandaTcpOffset = 0.1034;

}  // namespace envs
