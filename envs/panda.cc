#include "envs/panda.h"

#include <cstdio>
#include <stdexcept>
#include <vector>

namespace envs {
namespace {

// Shortest round-trip-safe text for a number in MJCF attributes.
std::string num(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.7g", value);
  return buffer;
}

std::string vec(std::initializer_list<double> values) {
  std::string text;
  for (double value : values) {
    if (!text.empty()) text += ' ';
    text += num(value);
  }
  return text;
}

using Point = std::array<double, 3>;

// A capsule or cylinder between two points of a body (m).
struct Segment {
  Point from, to;
  double radius;
};

// Mass properties of one link in its own frame.
struct Inertia {
  double mass;     // kg
  Point com;       // m
  Point diagonal;  // kg m^2, principal moments along the body axes
};

// Appends MJCF for one body's geoms; all names carry the robot prefix.
class BodyWriter {
 public:
  BodyWriter(std::string* out, const std::string& prefix) : out_(out), prefix_(prefix) {}

  void capsule(const Segment& s, const std::string& material) { shape("capsule", s, material); }
  void cylinder(const Segment& s, const std::string& material) { shape("cylinder", s, material); }
  void box(const Point& pos, const Point& half, const std::string& material) {
    *out_ += "<geom class=\"" + prefix_ + "visual\" type=\"box\" pos=\"" +
             vec({pos[0], pos[1], pos[2]}) + "\" size=\"" + vec({half[0], half[1], half[2]}) +
             "\" material=\"" + prefix_ + material + "\"/>\n";
  }
  // Collision capsule (group 3).
  void collision(const Segment& s) {
    *out_ += "<geom class=\"" + prefix_ + "collision\" type=\"capsule\" fromto=\"" + fromto(s) +
             "\" size=\"" + num(s.radius) + "\"/>\n";
  }
  void inertial(const Inertia& inertia) {
    *out_ += "<inertial pos=\"" + vec({inertia.com[0], inertia.com[1], inertia.com[2]}) +
             "\" mass=\"" + num(inertia.mass) + "\" diaginertia=\"" +
             vec({inertia.diagonal[0], inertia.diagonal[1], inertia.diagonal[2]}) + "\"/>\n";
  }

 private:
  static std::string fromto(const Segment& s) {
    return vec({s.from[0], s.from[1], s.from[2], s.to[0], s.to[1], s.to[2]});
  }
  void shape(const char* type, const Segment& s, const std::string& material) {
    *out_ += std::string("<geom class=\"") + prefix_ + "visual\" type=\"" + type + "\" fromto=\"" +
             fromto(s) + "\" size=\"" + num(s.radius) + "\" material=\"" + prefix_ + material +
             "\"/>\n";
  }

  std::string* out_;
  const std::string& prefix_;
};

// A joint housing: a white drum about an axis with dark end caps.
void housing(BodyWriter& body, const Point& center, const Point& axis, double radius,
             double half_length) {
  auto at = [&](double t) {
    return Point{center[0] + axis[0] * t, center[1] + axis[1] * t, center[2] + axis[2] * t};
  };
  body.cylinder({at(-half_length), at(half_length), radius}, "white");
  body.cylinder({at(half_length), at(half_length + 0.004), radius * 0.8}, "dark_grey");
  body.cylinder({at(-half_length - 0.004), at(-half_length), radius * 0.8}, "dark_grey");
}

// One finger in its own frame: it slides along +y, the pad faces -y.
void finger(std::string* out, const std::string& p, int index) {
  BodyWriter body(out, p);
  body.inertial({0.015, {0, 0.007, 0.027}, {4e-6, 4e-6, 1.5e-6}});
  // Upper block near the hand, tapering to the tip.
  body.box({0, 0.009, 0.012}, {0.0105, 0.009, 0.012}, "black");
  body.box({0, 0.0065, 0.038}, {0.0095, 0.0055, 0.015}, "black");
  *out += "<geom class=\"" + p +
          "collision\" type=\"box\" pos=\"0 0.009 0.013\" size=\"0.0105 0.009 0.013\"/>\n";
  *out += "<geom class=\"" + p +
          "collision\" type=\"box\" pos=\"0 0.0075 0.039\" size=\"0.0095 0.0045 0.014\"/>\n";
  // Fingertip pad: high friction, torsional friction for stable grasps.
  *out += "<geom name=\"" + p + "pad" + std::to_string(index) + "\" class=\"" + p +
          "pad\" type=\"box\" pos=\"0 0.003 0.042\" size=\"0.009 0.003 0.012\"/>\n";
  body.box({0, 0.0012, 0.042}, {0.0085, 0.0012, 0.0115}, "pad");
}

}  // namespace

MjcfParts panda_mjcf(const PandaSettings& settings) {
  const std::string& p = settings.prefix;
  const Point& base = settings.base_position;
  if (settings.mount && base[2] <= 0.05) {
    throw std::runtime_error("panda_mjcf: base z " + num(base[2]) +
                             " m leaves no room for the mount pedestal (needs > 0.05 m)");
  }
  MjcfParts parts;

  // Default classes: visual geoms (group 1, no contacts), collision geoms
  // (group 3), fingertip pads, and joint dynamics.
  auto add_default = [&](const std::string& name, const std::string& element) {
    parts.defaults += "<default class=\"" + p + name + "\">" + element + "</default>\n";
  };
  add_default("visual", R"(<geom contype="0" conaffinity="0" group="1" density="0"/>)");
  add_default("collision", R"(<geom group="3" rgba="0.5 0.6 0.9 0.4" density="0" condim="3"/>)");
  add_default("pad", R"(<geom group="3" rgba="0.9 0.5 0.3 0.6" density="0" condim="4" )"
                     R"(friction="2 0.05 0.0001" solref="0.005 1" solimp="0.95 0.99 0.001"/>)");
  add_default("arm_joint", R"(<joint type="hinge" axis="0 0 1" armature="0.1" damping="0.1"/>)");
  add_default("wrist_joint",
              R"(<joint type="hinge" axis="0 0 1" armature="0.05" damping="0.01"/>)");
  add_default("finger_joint", R"(<joint type="slide" axis="0 1 0" range="0 )" +
                                  num(kPandaFingerOpen) +
                                  R"(" armature="0.1" damping="20" solreflimit="0.004 1"/>)");

  auto add_material = [&](const std::string& name, const std::string& attributes) {
    parts.assets += "<material name=\"" + p + name + "\" " + attributes + "/>\n";
  };
  add_material("white", R"(rgba="0.93 0.93 0.92 1" specular="0.4" shininess="0.5")");
  add_material("dark_grey", R"(rgba="0.28 0.28 0.3 1" specular="0.3" shininess="0.3")");
  add_material("black", R"(rgba="0.13 0.13 0.14 1" specular="0.3" shininess="0.3")");
  add_material("pad", R"(rgba="0.05 0.05 0.05 1" specular="0.1")");
  add_material("mount", R"(rgba="0.18 0.18 0.19 1" specular="0.2")");

  std::string& w = parts.worldbody;
  BodyWriter body(&w, p);
  auto joint = [&](int index, const char* joint_class) {
    const auto& range = kPandaJointLimits[index - 1];
    w += "<joint name=\"" + p + "joint" + std::to_string(index) + "\" class=\"" + p + joint_class +
         "\" range=\"" + vec({range[0], range[1]}) + "\"/>\n";
  };
  // Unit quaternions of the DH frame rotations about x by +90 and -90 degrees.
  const std::string rot_x_pos = "0.7071068 0.7071068 0 0";
  const std::string rot_x_neg = "0.7071068 -0.7071068 0 0";

  // Base (link0) and its pedestal.
  w += "<body name=\"" + p + "base\" pos=\"" + vec({base[0], base[1], base[2]}) + "\">\n";
  body.inertial({2.9, {-0.03, 0, 0.06}, {0.01, 0.012, 0.012}});
  if (settings.mount) {
    const double height = base[2];
    w += "<geom name=\"" + p + "mount\" class=\"" + p +
         "collision\" type=\"cylinder\" pos=\"-0.02 0 " + num(-height / 2) + "\" size=\"0.13 " +
         num(height / 2) + "\"/>\n";
    body.cylinder({{-0.02, 0, -height}, {-0.02, 0, -0.02}, 0.13}, "mount");
    body.box({-0.02, 0, -0.012}, {0.16, 0.16, 0.012}, "mount");
  }
  body.cylinder({{0, 0, 0}, {0, 0, 0.14}, 0.075}, "white");
  body.box({-0.07, 0, 0.05}, {0.06, 0.06, 0.05}, "white");
  body.cylinder({{0, 0, 0.14}, {0, 0, 0.145}, 0.06}, "dark_grey");
  body.collision({{0, 0, 0.02}, {0, 0, 0.12}, 0.08});
  body.collision({{-0.11, 0, 0.05}, {-0.05, 0, 0.05}, 0.05});

  // Link 1: vertical column up to the shoulder.
  w += "<body name=\"" + p + "link1\" pos=\"0 0 0.333\">\n";
  body.inertial({4.97, {0, -0.01, -0.07}, {0.021, 0.021, 0.009}});
  joint(1, "arm_joint");
  body.cylinder({{0, 0, -0.188}, {0, 0, -0.05}, 0.06}, "white");
  body.capsule({{0, 0, -0.06}, {0, 0, 0}, 0.06}, "white");
  body.collision({{0, 0, -0.17}, {0, 0, -0.06}, 0.065});

  // Link 2: shoulder drum (joint 2) and the lower half of the upper arm.
  w += "<body name=\"" + p + "link2\" quat=\"" + rot_x_neg + "\">\n";
  body.inertial({0.65, {0, -0.05, 0}, {0.0027, 0.001, 0.0027}});
  joint(2, "arm_joint");
  housing(body, {0, 0, 0}, {0, 0, 1}, 0.06, 0.06);
  body.capsule({{0, 0, 0}, {0, -0.19, 0}, 0.056}, "white");
  body.collision({{0, 0, -0.05}, {0, 0, 0.05}, 0.065});
  body.collision({{0, -0.06, 0}, {0, -0.19, 0}, 0.06});

  // Link 3: upper half of the upper arm, reaching over to the elbow.
  w += "<body name=\"" + p + "link3\" pos=\"0 -0.316 0\" quat=\"" + rot_x_pos + "\">\n";
  body.inertial({3.23, {0.03, 0, -0.06}, {0.013, 0.013, 0.005}});
  joint(3, "arm_joint");
  body.capsule({{0, 0, -0.15}, {0, 0, -0.02}, 0.056}, "white");
  body.capsule({{0, 0, -0.02}, {0.05, 0, 0}, 0.055}, "white");
  body.collision({{0, 0, -0.14}, {0, 0, -0.02}, 0.06});

  // Link 4: elbow drum (joint 4) and the start of the forearm.
  w += "<body name=\"" + p + "link4\" pos=\"0.0825 0 0\" quat=\"" + rot_x_pos + "\">\n";
  body.inertial({3.59, {-0.03, 0.05, 0}, {0.014, 0.006, 0.014}});
  joint(4, "arm_joint");
  housing(body, {0, 0, 0}, {0, 0, 1}, 0.06, 0.06);
  body.capsule({{0, 0, 0}, {-0.02, 0.1, 0}, 0.055}, "white");
  body.collision({{0, 0, -0.05}, {0, 0, 0.05}, 0.065});
  body.collision({{-0.005, 0.03, 0}, {-0.02, 0.1, 0}, 0.058});

  // Link 5: the forearm, stepping over to the wrist axis.
  w += "<body name=\"" + p + "link5\" pos=\"-0.0825 0.384 0\" quat=\"" + rot_x_neg + "\">\n";
  body.inertial({1.23, {0.01, 0, -0.15}, {0.01, 0.01, 0.0015}});
  joint(5, "wrist_joint");
  body.capsule({{0.0625, 0, -0.284}, {0.01, 0, -0.19}, 0.052}, "white");
  body.capsule({{0.01, 0, -0.19}, {0, 0, -0.06}, 0.05}, "white");
  body.cylinder({{0, 0, -0.06}, {0, 0, -0.045}, 0.048}, "dark_grey");
  body.collision({{0.05, 0, -0.26}, {0.01, 0, -0.19}, 0.055});
  body.collision({{0.01, 0, -0.19}, {0, 0, -0.07}, 0.052});

  // Link 6: wrist drum (joint 6) and the arm over to joint 7.
  w += "<body name=\"" + p + "link6\" quat=\"" + rot_x_pos + "\">\n";
  body.inertial({1.67, {0.05, 0, 0}, {0.002, 0.004, 0.004}});
  joint(6, "wrist_joint");
  housing(body, {0, 0, 0}, {0, 0, 1}, 0.05, 0.055);
  body.capsule({{0, 0, 0}, {0.088, 0, 0}, 0.048}, "white");
  body.collision({{0, 0, -0.05}, {0, 0, 0.05}, 0.055});
  body.collision({{0.02, 0, 0}, {0.088, 0, 0}, 0.05});

  // Link 7: the last drum (joint 7) and the flange.
  w += "<body name=\"" + p + "link7\" pos=\"0.088 0 0\" quat=\"" + rot_x_pos + "\">\n";
  body.inertial({0.74, {0, 0, 0.05}, {0.0015, 0.0015, 0.001}});
  joint(7, "wrist_joint");
  body.cylinder({{0, 0, -0.03}, {0, 0, 0.06}, 0.05}, "white");
  body.cylinder({{0, 0, 0.06}, {0, 0, 0.1}, 0.042}, "dark_grey");
  body.cylinder({{0, 0, 0.1}, {0, 0, 0.107}, 0.045}, "black");
  body.collision({{0, 0, -0.02}, {0, 0, 0.09}, 0.052});

  // Hand: rotated -45 degrees about the flange axis, as on the real arm.
  w += "<body name=\"" + p + "hand\" pos=\"0 0 0.107\" quat=\"0.9238795 0 0 -0.3826834\">\n";
  body.inertial({0.73, {0, 0, 0.03}, {0.0025, 0.0004, 0.0025}});
  body.cylinder({{0, 0, 0}, {0, 0, 0.008}, 0.042}, "black");
  body.capsule({{0, -0.072, 0.033}, {0, 0.072, 0.033}, 0.028}, "black");
  body.box({0, 0, 0.056}, {0.022, 0.045, 0.004}, "dark_grey");
  body.collision({{0, -0.075, 0.033}, {0, 0.075, 0.033}, 0.03});
  w += "<site name=\"" + p + "grip_site\" pos=\"0 0 " + num(kPandaTcpOffset) +
       "\" size=\"0.004\" rgba=\"1 0 0 0.5\" group=\"4\"/>\n";
  // Wrist camera beside the hand, image up = hand x, looking along the fingers.
  w += "<camera name=\"" + p +
       "eye_in_hand\" pos=\"0.05 0 0\" quat=\"0 0.7071068 0.7071068 0\" fovy=\"75\"/>\n";
  // Left finger opens along +y of the hand; the right finger is the same part
  // turned half a turn about the hand's z axis.
  w += "<body name=\"" + p + "leftfinger\" pos=\"0 0 0.0584\">\n";
  w += "<joint name=\"" + p + "finger_joint1\" class=\"" + p + "finger_joint\"/>\n";
  finger(&w, p, 1);
  w += "</body>\n";
  w += "<body name=\"" + p + "rightfinger\" pos=\"0 0 0.0584\" quat=\"0 0 0 1\">\n";
  w += "<joint name=\"" + p + "finger_joint2\" class=\"" + p + "finger_joint\"/>\n";
  finger(&w, p, 2);
  w += "</body>\n";
  w += "</body>\n";                              // hand
  for (int i = 0; i < 8; ++i) w += "</body>\n";  // link7 .. base

  // Motors at the joints, limited to the published torque limits.
  for (int i = 0; i < 7; ++i) {
    const std::string index = std::to_string(i + 1);
    parts.actuators += "<motor name=\"" + p + "torque_j" + index + "\" joint=\"" + p + "joint" +
                       index + "\" ctrlrange=\"" +
                       vec({-kPandaTorqueLimits[i], kPandaTorqueLimits[i]}) + "\"/>\n";
  }
  // Finger position servos: targets below 0 squeeze what is held (or the
  // closed stops) with up to kp * 0.01 m of force per finger.
  for (int i = 1; i <= 2; ++i) {
    const std::string index = std::to_string(i);
    parts.actuators += "<position name=\"" + p + "gripper_finger" + index + "\" joint=\"" + p +
                       "finger_joint" + index + "\" kp=\"1000\" ctrlrange=\"-0.01 " +
                       num(kPandaFingerOpen) + "\" forcerange=\"-40 40\"/>\n";
  }

  // Adjacent links, and links whose simplified shapes overlap at the elbow and wrist.
  const std::vector<std::pair<std::string, std::string>> excluded = {
      {"base", "link1"},      {"base", "link2"},       {"link1", "link2"},
      {"link1", "link3"},     {"link2", "link3"},      {"link2", "link4"},
      {"link3", "link4"},     {"link3", "link5"},      {"link4", "link5"},
      {"link4", "link6"},     {"link5", "link6"},      {"link5", "link7"},
      {"link6", "link7"},     {"link6", "hand"},       {"link7", "hand"},
      {"hand", "leftfinger"}, {"hand", "rightfinger"}, {"leftfinger", "rightfinger"}};
  for (const auto& [a, b] : excluded) {
    parts.contacts += "<exclude body1=\"" + p + a + "\" body2=\"" + p + b + "\"/>\n";
  }

  // The fingers move together, as the real gripper's coupling does.
  parts.equalities += "<joint joint1=\"" + p + "finger_joint1\" joint2=\"" + p +
                      "finger_joint2\" polycoef=\"0 1 0 0 0\" solref=\"0.005 1\"/>\n";
  return parts;
}

}  // namespace envs
