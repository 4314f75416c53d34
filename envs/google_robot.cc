#include "envs/google_robot.h"

#include <cmath>
#include <cstdio>
#include <initializer_list>
#include <utility>
#include <vector>

#include "envs/mjcf_text.h"

namespace envs {
namespace {

using mjcf::num;
using mjcf::vec;

using Point = std::array<double, 3>;

// Appends the geoms of one body; every name and class carries the robot prefix.
class Writer {
 public:
  Writer(std::string* out, const std::string& prefix) : out_(out), prefix_(prefix) {}

  // Visual shapes (group 1, no contacts).
  void capsule(const Point& from, const Point& to, double radius, const char* material) {
    segment("capsule", from, to, radius, material);
  }
  void cylinder(const Point& from, const Point& to, double radius, const char* material) {
    segment("cylinder", from, to, radius, material);
  }
  void box(const Point& pos, const Point& half, const char* material) {
    *out_ += "<geom class=\"" + prefix_ + "visual\" type=\"box\" pos=\"" +
             vec({pos[0], pos[1], pos[2]}) + "\" size=\"" + vec({half[0], half[1], half[2]}) +
             "\" material=\"" + prefix_ + material + "\"/>\n";
  }
  // Collision shapes (group 3).
  void collision_capsule(const Point& from, const Point& to, double radius) {
    *out_ += "<geom class=\"" + prefix_ + "collision\" type=\"capsule\" fromto=\"" +
             vec({from[0], from[1], from[2], to[0], to[1], to[2]}) + "\" size=\"" + num(radius) +
             "\"/>\n";
  }
  void collision_cylinder(const Point& from, const Point& to, double radius) {
    *out_ += "<geom class=\"" + prefix_ + "collision\" type=\"cylinder\" fromto=\"" +
             vec({from[0], from[1], from[2], to[0], to[1], to[2]}) + "\" size=\"" + num(radius) +
             "\"/>\n";
  }
  void collision_box(const Point& pos, const Point& half, const std::string& name = "") {
    *out_ += "<geom ";
    if (!name.empty()) *out_ += "name=\"" + prefix_ + name + "\" ";
    *out_ += "class=\"" + prefix_ + "collision\" type=\"box\" pos=\"" +
             vec({pos[0], pos[1], pos[2]}) + "\" size=\"" + vec({half[0], half[1], half[2]}) +
             "\"/>\n";
  }
  // Mass (kg) at `com` with principal moments (kg m^2).
  void inertial(double mass, const Point& com, const Point& moments) {
    *out_ += "<inertial pos=\"" + vec({com[0], com[1], com[2]}) + "\" mass=\"" + num(mass) +
             "\" diaginertia=\"" + vec({moments[0], moments[1], moments[2]}) + "\"/>\n";
  }
  void joint(int index, const char* axis, const char* joint_class) {
    const auto& range = kGoogleRobotJointLimits[index - 1];
    *out_ += "<joint name=\"" + prefix_ + "joint" + std::to_string(index) + "\" class=\"" +
             prefix_ + joint_class + "\" axis=\"" + axis + "\" range=\"" +
             vec({range[0], range[1]}) + "\"/>\n";
  }
  void open_body(const std::string& name, const Point& pos) {
    *out_ += "<body name=\"" + prefix_ + name + "\" pos=\"" + vec({pos[0], pos[1], pos[2]}) +
             "\">\n";
  }
  void close_body() { *out_ += "</body>\n"; }

 private:
  void segment(const char* type, const Point& from, const Point& to, double radius,
               const char* material) {
    *out_ += std::string("<geom class=\"") + prefix_ + "visual\" type=\"" + type +
             "\" fromto=\"" + vec({from[0], from[1], from[2], to[0], to[1], to[2]}) +
             "\" size=\"" + num(radius) + "\" material=\"" + prefix_ + material + "\"/>\n";
  }

  std::string* out_;
  const std::string& prefix_;
};

// A joint housing drum about the y axis (pitch joints) or x axis (roll joints).
void drum_y(Writer& w, double radius, double half_width) {
  w.cylinder({0, -half_width, 0}, {0, half_width, 0}, radius, "white");
  w.cylinder({0, half_width, 0}, {0, half_width + 0.004, 0}, radius * 0.75, "dark_grey");
  w.cylinder({0, -half_width - 0.004, 0}, {0, -half_width, 0}, radius * 0.75, "dark_grey");
}

// One finger in its own frame (the gripper frame: x along the fingers); it
// slides along +y and its pad's inner face lies on y = 0.
void finger(std::string* out, const std::string& p, int index) {
  Writer w(out, p);
  w.inertial(0.05, {0.16, 0.011, 0}, {2e-5, 2e-5, 5e-6});
  // Finger plate, from the palm to the tip.
  w.box({0.16, 0.011, 0}, {0.04, 0.005, 0.014}, "black");
  w.collision_box({0.16, 0.011, 0}, {0.04, 0.005, 0.014});
  // Fingertip pad: soft, high friction, torsional friction for stable grasps.
  *out += "<geom name=\"" + p + "pad" + std::to_string(index) + "\" class=\"" + p +
          "pad\" type=\"box\" pos=\"0.177 0.003 0\" size=\"0.022 0.003 0.013\"/>\n";
  w.box({0.177, 0.003, 0}, {0.022, 0.003, 0.013}, "pad");
}

}  // namespace

MjcfParts google_robot_mjcf(const GoogleRobotSettings& settings) {
  const std::string& p = settings.prefix;
  MjcfParts parts;

  auto add_default = [&](const std::string& name, const std::string& element) {
    parts.defaults += "<default class=\"" + p + name + "\">" + element + "</default>\n";
  };
  add_default("visual", R"(<geom contype="0" conaffinity="0" group="1" density="0"/>)");
  add_default("collision", R"(<geom group="3" rgba="0.5 0.6 0.9 0.4" density="0" condim="3"/>)");
  add_default("pad", R"(<geom group="3" rgba="0.9 0.5 0.3 0.6" density="0" condim="4" )"
                     R"(friction="2 0.05 0.0001" solref="0.005 1" solimp="0.95 0.99 0.001"/>)");
  // Damping near critical for each servo's gain and the inertia it moves.
  add_default("shoulder_joint", R"(<joint type="hinge" armature="0.1" damping="90"/>)");
  add_default("elbow_joint", R"(<joint type="hinge" armature="0.08" damping="50"/>)");
  add_default("wrist_joint", R"(<joint type="hinge" armature="0.03" damping="10"/>)");
  add_default("finger_joint", R"(<joint type="slide" axis="0 1 0" range="0 )" +
                                  num(kGoogleRobotFingerOpen) +
                                  R"(" armature="0.05" damping="15" solreflimit="0.004 1"/>)");

  auto add_material = [&](const std::string& name, const std::string& attributes) {
    parts.assets += "<material name=\"" + p + name + "\" " + attributes + "/>\n";
  };
  add_material("white", R"(rgba="0.9 0.9 0.88 1" specular="0.5" shininess="0.5")");
  add_material("light_grey", R"(rgba="0.72 0.73 0.74 1" specular="0.4" shininess="0.4")");
  add_material("dark_grey", R"(rgba="0.25 0.26 0.28 1" specular="0.3" shininess="0.3")");
  add_material("black", R"(rgba="0.1 0.1 0.11 1" specular="0.3" shininess="0.3")");
  add_material("pad", R"(rgba="0.05 0.05 0.05 1" specular="0.1")");
  add_material("lens", R"(rgba="0.02 0.02 0.05 1" specular="0.9" shininess="0.9")");

  std::string& out = parts.worldbody;
  Writer w(&out, p);
  const Point& base = settings.base_position;
  const double half_yaw = settings.base_yaw / 2;

  // Static base: the round mobile base, the torso column and the head.
  out += "<body name=\"" + p + "base\" pos=\"" + vec({base[0], base[1], base[2]}) + "\" quat=\"" +
         vec({std::cos(half_yaw), 0, 0, std::sin(half_yaw)}) + "\">\n";
  w.inertial(40, {0, 0, 0.3}, {3, 3, 2});
  const double r = kGoogleRobotBaseRadius, h = kGoogleRobotBaseHeight;
  w.cylinder({0, 0, 0.03}, {0, 0, h}, r, "dark_grey");
  w.cylinder({0, 0, 0}, {0, 0, 0.03}, r - 0.02, "black");
  w.cylinder({0, 0, h}, {0, 0, h + 0.02}, r - 0.03, "light_grey");
  w.collision_cylinder({0, 0, 0}, {0, 0, h + 0.02}, r);
  // Torso: a column from the base up to the head, shoulder block in front.
  const double torso_top = kGoogleRobotHead[2] - 0.08;
  w.box({-0.06, 0, (h + torso_top) / 2}, {0.1, 0.13, (torso_top - h) / 2}, "white");
  w.collision_box({-0.06, 0, (h + torso_top) / 2}, {0.1, 0.13, (torso_top - h) / 2});
  const Point& s = kGoogleRobotShoulder;
  // Head: a rounded block with the camera lens facing forward and down.
  const Point& head = kGoogleRobotHead;
  w.box({head[0] - 0.06, 0, head[2]}, {0.08, 0.11, 0.07}, "white");
  w.collision_box({head[0] - 0.06, 0, head[2]}, {0.08, 0.11, 0.07});
  w.box({head[0] + 0.021, 0, head[2] - 0.01}, {0.002, 0.06, 0.025}, "lens");
  out += "<site name=\"" + p + "head_site\" pos=\"" + vec({head[0], head[1], head[2]}) +
         "\" size=\"0.01\" group=\"4\" rgba=\"0 0 1 0.5\"/>\n";

  // Link 1: shoulder yaw.
  w.open_body("link1", s);
  w.inertial(1.0, {0, 0, 0}, {0.003, 0.003, 0.003});
  w.joint(1, "0 0 1", "shoulder_joint");
  w.cylinder({0, 0, -0.07}, {0, 0, 0.07}, 0.07, "light_grey");
  // Link 2: shoulder pitch.
  w.open_body("link2", {0, 0, 0});
  w.inertial(0.4, {0, 0, 0}, {0.001, 0.001, 0.001});
  w.joint(2, "0 1 0", "shoulder_joint");
  drum_y(w, 0.058, 0.065);
  w.collision_cylinder({0, -0.065, 0}, {0, 0.065, 0}, 0.06);
  // Link 3: upper-arm roll and the upper arm.
  const double upper = kGoogleRobotUpperArm;
  w.open_body("link3", {0, 0, 0});
  w.inertial(1.5, {upper / 2, 0, 0}, {0.003, 0.02, 0.02});
  w.joint(3, "1 0 0", "shoulder_joint");
  w.capsule({0.06, 0, 0}, {upper - 0.06, 0, 0}, 0.048, "white");
  w.cylinder({0.05, 0, 0}, {0.07, 0, 0}, 0.051, "dark_grey");
  w.collision_capsule({0.09, 0, 0}, {upper - 0.07, 0, 0}, 0.049);
  // Link 4: elbow pitch.
  w.open_body("link4", {upper, 0, 0});
  w.inertial(0.4, {0, 0, 0}, {0.001, 0.001, 0.001});
  w.joint(4, "0 1 0", "elbow_joint");
  drum_y(w, 0.052, 0.058);
  w.collision_cylinder({0, -0.058, 0}, {0, 0.058, 0}, 0.054);
  // Link 5: forearm roll and the forearm.
  const double forearm = kGoogleRobotForearm;
  w.open_body("link5", {0, 0, 0});
  w.inertial(1.0, {forearm / 2, 0, 0}, {0.002, 0.012, 0.012});
  w.joint(5, "1 0 0", "elbow_joint");
  w.capsule({0.06, 0, 0}, {forearm - 0.06, 0, 0}, 0.042, "white");
  w.cylinder({0.05, 0, 0}, {0.065, 0, 0}, 0.045, "dark_grey");
  w.collision_capsule({0.08, 0, 0}, {forearm - 0.065, 0, 0}, 0.043);
  // Link 6: wrist pitch.
  w.open_body("link6", {forearm, 0, 0});
  w.inertial(0.3, {0, 0, 0}, {0.0005, 0.0005, 0.0005});
  w.joint(6, "0 1 0", "wrist_joint");
  drum_y(w, 0.05, 0.055);
  w.collision_cylinder({0, -0.055, 0}, {0, 0.055, 0}, 0.052);
  // Link 7: tool roll, the gripper housing and the fingers.
  w.open_body("link7", {0, 0, 0});
  w.inertial(0.7, {0.08, 0, 0}, {0.002, 0.002, 0.002});
  w.joint(7, "1 0 0", "wrist_joint");
  w.cylinder({0.045, 0, 0}, {0.06, 0, 0}, 0.045, "dark_grey");
  w.box({0.09, 0, 0}, {0.03, 0.07, 0.038}, "light_grey");
  w.box({0.1185, 0, 0}, {0.0015, 0.066, 0.034}, "dark_grey");
  w.collision_box({0.085, 0, 0}, {0.035, 0.07, 0.038}, "palm");
  out += "<site name=\"" + p + "grip_site\" pos=\"" + num(kGoogleRobotTcpOffset) +
         " 0 0\" quat=\"0.7071068 0 0.7071068 0\" size=\"0.005\" rgba=\"1 0 0 0.5\" "
         "group=\"4\"/>\n";
  // Finger 1 opens along +y; finger 2 is the same part turned half a turn
  // about the gripper's x axis, opening along -y.
  w.open_body("finger1", {0, 0, 0});
  out += "<joint name=\"" + p + "finger_joint1\" class=\"" + p + "finger_joint\"/>\n";
  finger(&out, p, 1);
  w.close_body();
  out += "<body name=\"" + p + "finger2\" quat=\"0 1 0 0\">\n";
  out += "<joint name=\"" + p + "finger_joint2\" class=\"" + p + "finger_joint\"/>\n";
  finger(&out, p, 2);
  w.close_body();
  for (int i = 0; i < 8; ++i) w.close_body();  // link7 .. base

  // Joint position servos: gains for millimetre tracking against the arm's
  // weight, torques limited like a human-safe arm.
  const double kp[7] = {3000, 3000, 2000, 2000, 800, 800, 400};
  const double torque[7] = {150, 150, 100, 100, 40, 40, 25};
  for (int i = 0; i < 7; ++i) {
    const std::string index = std::to_string(i + 1);
    const auto& range = kGoogleRobotJointLimits[i];
    parts.actuators += "<position name=\"" + p + "pos_j" + index + "\" joint=\"" + p + "joint" +
                       index + "\" kp=\"" + num(kp[i]) + "\" ctrlrange=\"" +
                       vec({range[0], range[1]}) + "\" forcerange=\"" +
                       vec({-torque[i], torque[i]}) + "\"/>\n";
  }
  // Finger servos: targets below 0 squeeze what is held with up to 40 N.
  for (int i = 1; i <= 2; ++i) {
    const std::string index = std::to_string(i);
    parts.actuators += "<position name=\"" + p + "gripper_finger" + index + "\" joint=\"" + p +
                       "finger_joint" + index + "\" kp=\"1000\" ctrlrange=\"-0.01 " +
                       num(kGoogleRobotFingerOpen) + "\" forcerange=\"-40 40\"/>\n";
  }

  // Adjacent links, links whose housings overlap, and the fingers.
  const std::vector<std::pair<std::string, std::string>> excluded = {
      {"base", "link1"},    {"base", "link2"},    {"base", "link3"},    {"link1", "link2"},
      {"link1", "link3"},   {"link2", "link3"},   {"link2", "link4"},   {"link3", "link4"},
      {"link3", "link5"},   {"link4", "link5"},   {"link4", "link6"},   {"link5", "link6"},
      {"link5", "link7"},   {"link6", "link7"},   {"link6", "finger1"}, {"link6", "finger2"},
      {"link7", "finger1"}, {"link7", "finger2"}, {"finger1", "finger2"}};
  for (const auto& [a, b] : excluded) {
    parts.contacts += "<exclude body1=\"" + p + a + "\" body2=\"" + p + b + "\"/>\n";
  }

  // The fingers move together, as the real gripper's linkage does.
  parts.equalities += "<joint joint1=\"" + p + "finger_joint1\" joint2=\"" + p +
                      "finger_joint2\" polycoef=\"0 1 0 0 0\" solref=\"0.005 1\"/>\n";
  return parts;
}

}  // namespace envs
