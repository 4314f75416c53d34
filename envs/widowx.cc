#include "envs/widowx.h"

#include <cmath>
#include <cstdio>
#include <initializer_list>
#include <vector>

#include "envs/mjcf_text.h"

namespace envs {
namespace {

using mjcf::num;
using mjcf::vec;

using Point = std::array<double, 3>;

std::string point(const Point& p) { return vec({p[0], p[1], p[2]}); }

// Appends one body's geoms; every name and class carries the robot prefix.
class LinkWriter {
 public:
  LinkWriter(std::string* out, const std::string& prefix) : out_(out), prefix_(prefix) {}

  // A visual box (group 1) and, if `collide`, the same box as a collision geom (group 3).
  void box(const Point& pos, const Point& half, const std::string& material, bool collide) {
    const std::string shape =
        "type=\"box\" pos=\"" + point(pos) + "\" size=\"" + point(half) + "\"";
    *out_ += "<geom class=\"" + prefix_ + "visual\" " + shape + " material=\"" + prefix_ +
             material + "\"/>\n";
    if (collide) *out_ += "<geom class=\"" + prefix_ + "collision\" " + shape + "/>\n";
  }
  // A visual capsule or cylinder between two points and, if `collide`, a collision capsule.
  void segment(const char* type, const Point& from, const Point& to, double radius,
               const std::string& material, bool collide) {
    const std::string ends =
        "fromto=\"" + point(from) + " " + point(to) + "\" size=\"" + num(radius) + "\"";
    *out_ += std::string("<geom class=\"") + prefix_ + "visual\" type=\"" + type + "\" " + ends +
             " material=\"" + prefix_ + material + "\"/>\n";
    if (collide) {
      *out_ += "<geom class=\"" + prefix_ + "collision\" type=\"capsule\" " + ends + "/>\n";
    }
  }
  void inertial(double mass, const Point& com, const Point& diagonal) {
    *out_ += "<inertial pos=\"" + point(com) + "\" mass=\"" + num(mass) + "\" diaginertia=\"" +
             point(diagonal) + "\"/>\n";
  }

 private:
  std::string* out_;
  const std::string& prefix_;
};

// A Dynamixel-style servo housing (dark box) centred at `pos`.
void servo(LinkWriter& link, const Point& pos, const Point& half) {
  link.box(pos, half, "servo", false);
}

// One finger in its own frame: it slides along +y; the pad's inner face lies
// on y = 0 (so the pads meet at joint position 0) and reaches x = 0.042.
void finger(std::string* out, const std::string& p, int index) {
  LinkWriter link(out, p);
  link.inertial(0.016, {0.021, 0.007, 0}, {4e-6, 2e-6, 4e-6});
  // Finger plate behind the pad, from the carriage to the tip.
  link.box({0.021, 0.0065, 0}, {0.021, 0.0035, 0.011}, "black", true);
  // Fingertip pad: high friction, torsional friction for stable grasps.
  *out += "<geom name=\"" + p + "pad" + std::to_string(index) + "\" class=\"" + p +
          "pad\" type=\"box\" pos=\"0.0275 0.0015 0\" size=\"0.0145 0.0015 0.0095\"/>\n";
  link.box({0.0275, 0.0015, 0}, {0.0145, 0.0015, 0.0095}, "pad", false);
}

}  // namespace

MjcfParts widowx_mjcf(const WidowXSettings& settings) {
  const std::string& p = settings.prefix;
  const Point& base = settings.base_position;
  MjcfParts parts;

  auto add_default = [&](const std::string& name, const std::string& element) {
    parts.defaults += "<default class=\"" + p + name + "\">" + element + "</default>\n";
  };
  add_default("visual", R"(<geom contype="0" conaffinity="0" group="1" density="0"/>)");
  add_default("collision", R"(<geom group="3" rgba="0.5 0.6 0.9 0.4" density="0" condim="3"/>)");
  add_default("pad", R"(<geom group="3" rgba="0.9 0.5 0.3 0.6" density="0" condim="4" )"
                     R"(friction="2 0.05 0.0001" solref="0.005 1" solimp="0.95 0.99 0.001"/>)");
  add_default("finger_joint", R"(<joint type="slide" axis="0 1 0" range="0 )" +
                                  num(kWidowXFingerOpen) +
                                  R"(" armature="0.05" damping="10" solreflimit="0.004 1"/>)");

  auto add_material = [&](const std::string& name, const std::string& attributes) {
    parts.assets += "<material name=\"" + p + name + "\" " + attributes + "/>\n";
  };
  add_material("black", R"(rgba="0.1 0.1 0.11 1" specular="0.4" shininess="0.4")");
  add_material("servo", R"(rgba="0.16 0.16 0.17 1" specular="0.3" shininess="0.3")");
  add_material("bracket", R"(rgba="0.22 0.22 0.23 1" specular="0.5" shininess="0.5")");
  add_material("pad", R"(rgba="0.05 0.05 0.05 1" specular="0.1")");

  // Joint dynamics per joint: armature (kg m^2) and damping (N m s/rad) sized
  // with the position gains (N m/rad) below for fast, well-damped tracking.
  struct JointDynamics {
    double kp, armature, damping;
  };
  const std::array<JointDynamics, 6> dynamics = {{{600, 0.06, 14},
                                                  {800, 0.08, 20},
                                                  {600, 0.05, 12},
                                                  {150, 0.01, 2.5},
                                                  {200, 0.012, 3},
                                                  {80, 0.005, 1.2}}};
  std::string& w = parts.worldbody;
  LinkWriter link(&w, p);
  auto joint = [&](int index, const char* axis) {
    const auto& range = kWidowXJointLimits[index - 1];
    const JointDynamics& d = dynamics[index - 1];
    w += "<joint name=\"" + p + "joint" + std::to_string(index) + "\" type=\"hinge\" axis=\"" +
         axis + "\" range=\"" + vec({range[0], range[1]}) + "\" armature=\"" + num(d.armature) +
         "\" damping=\"" + num(d.damping) + "\"/>\n";
  };
  auto open_body = [&](const std::string& name, const Point& pos) {
    w += "<body name=\"" + p + name + "\" pos=\"" + point(pos) + "\">\n";
  };

  // Base: a flat plate with the waist servo.
  w += "<body name=\"" + p + "base\" pos=\"" + point(base) + "\" quat=\"" +
       vec({std::cos(settings.base_yaw / 2), 0, 0, std::sin(settings.base_yaw / 2)}) + "\">\n";
  link.inertial(0.54, {-0.02, 0, 0.02}, {0.0021, 0.0007, 0.0025});
  link.box({-0.03, 0, 0.006}, {0.075, 0.065, 0.006}, "black", true);
  link.box({-0.01, 0, 0.039}, {0.045, 0.045, 0.027}, "bracket", true);

  // Shoulder: the waist turntable carrying the shoulder servos.
  open_body("shoulder_link", {0, 0, 0.072});
  link.inertial(0.48, {0, 0, 0.007}, {0.00038, 0.00056, 0.00059});
  joint(1, "0 0 1");
  link.segment("cylinder", {0, 0, 0}, {0, 0, 0.012}, 0.045, "bracket", false);
  servo(link, {0, 0, 0.032}, {0.02, 0.035, 0.02});
  link.box({0, 0, 0.022}, {0.03, 0.042, 0.022}, "servo", true);

  // Upper arm: from the shoulder axis up and slightly forward to the elbow.
  open_body("upper_arm_link", {0, 0, 0.03865});
  link.inertial(0.43, {0.017, 0, 0.191}, {0.0035, 0.0036, 0.00046});
  joint(2, "0 1 0");
  link.segment("capsule", {0, 0, 0}, {0.04975, 0, 0.25}, 0.02, "bracket", true);
  servo(link, {0, 0, 0}, {0.018, 0.035, 0.018});
  servo(link, {0.045, 0, 0.22}, {0.018, 0.022, 0.025});

  // Upper forearm: the level tube from the elbow to the forearm-roll servo.
  open_body("upper_forearm_link", {0.04975, 0, 0.25});
  link.inertial(0.235, {0.108, 0, 0}, {0.00004, 0.00089, 0.00089});
  joint(3, "0 1 0");
  servo(link, {0, 0, 0}, {0.02, 0.03, 0.018});
  link.segment("capsule", {0.02, 0, 0}, {0.175, 0, 0}, 0.018, "black", true);
  servo(link, {0.155, 0, 0}, {0.02, 0.018, 0.018});

  // Lower forearm: after the forearm roll, up to the wrist-angle servo.
  open_body("lower_forearm_link", {0.175, 0, 0});
  link.inertial(0.22, {0.037, 0.005, 0}, {0.00006, 0.00017, 0.00018});
  joint(4, "1 0 0");
  link.segment("capsule", {0.01, 0, 0}, {0.06, 0, 0}, 0.017, "bracket", true);
  servo(link, {0.07, 0, 0}, {0.015, 0.024, 0.015});

  // Wrist: the wrist-angle bracket carrying the wrist-rotate servo.
  open_body("wrist_link", {0.075, 0, 0});
  link.inertial(0.085, {0.042, 0, 0.01}, {0.00003, 0.00003, 0.00003});
  joint(5, "0 1 0");
  link.box({0.035, 0, 0}, {0.025, 0.018, 0.016}, "servo", true);

  // Gripper: the rotating carriage with the finger rails and the TCP site.
  open_body("gripper_link", {0.065, 0, 0});
  link.inertial(0.11, {0.03, 0, 0}, {0.00004, 0.00003, 0.00003});
  joint(6, "1 0 0");
  link.box({0.022, 0, 0}, {0.022, 0.02, 0.018}, "servo", true);
  link.box({0.056, 0, 0}, {0.01, 0.046, 0.016}, "bracket", true);
  w += "<site name=\"" + p + "grip_site\" pos=\"" + num(kWidowXTcpOffset) +
       " 0 0\" quat=\"0.7071068 0 0.7071068 0\" size=\"0.004\" rgba=\"1 0 0 0.5\" group=\"4\"/>\n";
  // Left finger opens along +y of the carriage; the right finger is the same
  // part turned half a turn about the gripper axis.
  w += "<body name=\"" + p + "leftfinger\" pos=\"0.066 0 0\">\n";
  w += "<joint name=\"" + p + "finger_joint1\" class=\"" + p + "finger_joint\"/>\n";
  finger(&w, p, 1);
  w += "</body>\n";
  w += "<body name=\"" + p + "rightfinger\" pos=\"0.066 0 0\" quat=\"0 1 0 0\">\n";
  w += "<joint name=\"" + p + "finger_joint2\" class=\"" + p + "finger_joint\"/>\n";
  finger(&w, p, 2);
  w += "</body>\n";
  for (int i = 0; i < 7; ++i) w += "</body>\n";  // gripper_link .. base

  // Position servos on the arm joints, ctrlrange = joint range.
  for (int i = 0; i < 6; ++i) {
    const std::string index = std::to_string(i + 1);
    const auto& range = kWidowXJointLimits[i];
    parts.actuators += "<position name=\"" + p + "pos_j" + index + "\" joint=\"" + p + "joint" +
                       index + "\" kp=\"" + num(dynamics[i].kp) + "\" ctrlrange=\"" +
                       vec({range[0], range[1]}) + "\" forcerange=\"" +
                       vec({i < 2 ? -200.0 : -100.0, i < 2 ? 200.0 : 100.0}) + "\"/>\n";
  }
  // Finger position servos: targets below 0 squeeze what is held with up to
  // kp * 0.01 m of force per finger.
  for (int i = 1; i <= 2; ++i) {
    const std::string index = std::to_string(i);
    parts.actuators += "<position name=\"" + p + "gripper_finger" + index + "\" joint=\"" + p +
                       "finger_joint" + index + "\" kp=\"1000\" ctrlrange=\"-0.01 " +
                       num(kWidowXFingerOpen) + "\" forcerange=\"-20 20\"/>\n";
  }

  const std::vector<std::pair<std::string, std::string>> excluded = {
      {"base", "shoulder_link"},
      {"base", "upper_arm_link"},
      {"shoulder_link", "upper_arm_link"},
      {"upper_arm_link", "upper_forearm_link"},
      {"upper_forearm_link", "lower_forearm_link"},
      {"upper_forearm_link", "wrist_link"},
      {"lower_forearm_link", "wrist_link"},
      {"lower_forearm_link", "gripper_link"},
      {"wrist_link", "gripper_link"},
      {"gripper_link", "leftfinger"},
      {"gripper_link", "rightfinger"},
      {"leftfinger", "rightfinger"}};
  for (const auto& [a, b] : excluded) {
    parts.contacts += "<exclude body1=\"" + p + a + "\" body2=\"" + p + b + "\"/>\n";
  }
  parts.equalities += "<joint joint1=\"" + p + "finger_joint1\" joint2=\"" + p +
                      "finger_joint2\" polycoef=\"0 1 0 0 0\" solref=\"0.005 1\"/>\n";
  return parts;
}

}  // namespace envs
