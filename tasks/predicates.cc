#include "tasks/predicates.h"

#include <cmath>
#include <stdexcept>

namespace tasks {

struct Goal::Node {
  enum class Kind { kAnd, kOr, kNot, kOnObject, kOnRegion, kIn, kJointBelow, kJointAbove, kUp };
  Kind kind = Kind::kAnd;
  std::vector<Node> children;
  int body_a = -1, body_b = -1;      // object bodies
  int site = -1;                     // region site
  int qpos_address = -1;             // joint predicates
  double threshold = 0;
  std::vector<char> subtree_a, subtree_b;
};

std::vector<char> Goal::subtree_mask(const mjModel* model, int body) {
  std::vector<char> mask(model->nbody, 0);
  for (int i = 0; i < model->nbody; ++i) {
    for (int b = i; b > 0; b = model->body_parentid[b]) {
      if (b == body) {
        mask[i] = 1;
        break;
      }
    }
  }
  if (body == 0) mask[0] = 1;
  return mask;
}

bool Goal::in_contact(const mjModel* model, const mjData* data, const std::vector<char>& a,
                      const std::vector<char>& b) {
  for (int i = 0; i < data->ncon; ++i) {
    const int body1 = model->geom_bodyid[data->contact[i].geom1];
    const int body2 = model->geom_bodyid[data->contact[i].geom2];
    if ((a[body1] && b[body2]) || (a[body2] && b[body1])) return true;
  }
  return false;
}

namespace {

// Position of world point `point` in the frame of site `site`.
void to_site_frame(const mjData* data, int site, const double point[3], double local[3]) {
  double offset[3];
  mju_sub3(offset, point, data->site_xpos + 3 * site);
  mju_mulMatTVec(local, data->site_xmat + 9 * site, offset, 3, 3);
}

// The free-standing object (child of the world) that owns `body`.
int root_body(const mjModel* model, int body) {
  while (body > 0 && model->body_parentid[body] != 0) body = model->body_parentid[body];
  return body;
}

}  // namespace

static Goal::Node build(const Predicate& predicate, const Scene& scene, const mjModel* model,
                        const std::string& file, const PredicateSettings& settings) {
  using Kind = Goal::Node::Kind;
  Goal::Node node;
  const std::string where = file + ":" + std::to_string(predicate.line) + ": (" + predicate.op;
  auto body_id = [&](const std::string& name) {
    const int id = mj_name2id(model, mjOBJ_BODY, name.c_str());
    if (id < 0) throw std::runtime_error(where + " ...): no object named '" + name + "' in the scene");
    return id;
  };
  auto site_id = [&](const std::string& name) {
    const auto it = scene.region_sites.find(name);
    const int id = mj_name2id(model, mjOBJ_SITE, it == scene.region_sites.end() ? name.c_str()
                                                                                   : it->second.c_str());
    return id;
  };
  auto region_parent = [&](int site) {
    const int root = root_body(model, model->site_bodyid[site]);
    if (root > 0) return root;
    // Table regions are world sites; their parent is the surface (table or floor).
    for (const auto& object : scene.objects) {
      if (object.surface) return body_id(object.name);
    }
    return 0;
  };
  auto joint_qpos = [&](const std::string& joint) {
    const int id = mj_name2id(model, mjOBJ_JOINT, joint.c_str());
    if (id < 0) throw std::runtime_error(where + " ...): no joint '" + joint + "' in the scene");
    return std::pair{model->jnt_qposadr[id], model->jnt_type[id]};
  };
  // The joint that opens region `name` (a drawer or door), from the assets' metadata.
  auto region_joint = [&](const std::string& name) -> std::string {
    for (const auto& object : scene.objects) {
      const auto it = object.region_joints.find(name);
      if (it != object.region_joints.end()) return it->second;
    }
    throw std::runtime_error(where + " " + name + "): region '" + name + "' cannot be opened or closed");
  };

  const std::string& op = predicate.op;
  if (op == "And" || op == "Or" || op == "Not") {
    node.kind = op == "And" ? Kind::kAnd : op == "Or" ? Kind::kOr : Kind::kNot;
    for (const Predicate& child : predicate.children) {
      node.children.push_back(build(child, scene, model, file, settings));
    }
    if (node.kind == Kind::kNot && node.children.size() != 1) {
      throw std::runtime_error(where + "): Not takes exactly one formula");
    }
    return node;
  }
  if (op == "On" || op == "In") {
    node.body_a = body_id(predicate.args.at(0));
    node.subtree_a = Goal::subtree_mask(model, node.body_a);
    const std::string& target = predicate.args.at(1);
    const int site = site_id(target);
    if (op == "On" && site < 0) {
      node.kind = Kind::kOnObject;
      node.body_b = body_id(target);
    } else {
      if (site < 0) {
        throw std::runtime_error(where + " ...): no region named '" + target + "' in the scene");
      }
      node.kind = op == "On" ? Kind::kOnRegion : Kind::kIn;
      node.site = site;
      node.body_b = region_parent(site);
    }
    node.subtree_b = Goal::subtree_mask(model, node.body_b);
    return node;
  }
  if (op == "Open" || op == "Close") {
    const auto [address, type] = joint_qpos(region_joint(predicate.args.at(0)));
    node.qpos_address = address;
    const bool slide = type == mjJNT_SLIDE;
    node.kind = op == "Open" ? Kind::kJointBelow : Kind::kJointAbove;
    node.threshold = op == "Open" ? (slide ? settings.drawer_open : settings.door_open)
                                  : (slide ? settings.drawer_closed : settings.door_closed);
    return node;
  }
  if (op == "TurnOn" || op == "TurnOff") {
    const std::string& name = predicate.args.at(0);
    const envs::assets::ObjectInfo* object = scene.find(name);
    if (!object || object->knob_joint.empty()) {
      throw std::runtime_error(where + " " + name + "): '" + name + "' has no knob");
    }
    node.qpos_address = joint_qpos(object->knob_joint).first;
    // TurnOn: qpos >= on; TurnOff: qpos < off.
    node.kind = op == "TurnOn" ? Kind::kJointAbove : Kind::kJointBelow;
    node.threshold = op == "TurnOn" ? std::nextafter(settings.knob_on, -1.0) : settings.knob_off;
    return node;
  }
  if (op == "Up") {
    node.kind = Kind::kUp;
    node.body_a = body_id(predicate.args.at(0));
    return node;
  }
  throw std::runtime_error(where + "): predicate not supported by the simulator");
}

Goal::Goal(const Predicate& formula, const Scene& scene, const mjModel* model,
           const std::string& file, PredicateSettings settings)
    : root_(std::make_unique<Node>(build(formula, scene, model, file, settings))),
      settings_(settings),
      table_top_(scene.table_top_z) {}

Goal::~Goal() = default;
Goal::Goal(Goal&&) noexcept = default;
Goal& Goal::operator=(Goal&&) noexcept = default;

static bool evaluate(const Goal::Node& node, const mjModel* model, const mjData* data,
                     const PredicateSettings& settings, double table_top) {
  using Kind = Goal::Node::Kind;
  switch (node.kind) {
    case Kind::kAnd:
      for (const auto& child : node.children) {
        if (!evaluate(child, model, data, settings, table_top)) return false;
      }
      return true;
    case Kind::kOr:
      for (const auto& child : node.children) {
        if (evaluate(child, model, data, settings, table_top)) return true;
      }
      return false;
    case Kind::kNot:
      return !evaluate(node.children.front(), model, data, settings, table_top);
    case Kind::kOnObject: {
      const double* a = data->xpos + 3 * node.body_a;
      const double* b = data->xpos + 3 * node.body_b;
      return b[2] <= a[2] && std::hypot(a[0] - b[0], a[1] - b[1]) < settings.on_xy_distance &&
             Goal::in_contact(model, data, node.subtree_a, node.subtree_b);
    }
    case Kind::kOnRegion:
    case Kind::kIn: {
      double local[3];
      to_site_frame(data, node.site, data->xpos + 3 * node.body_a, local);
      const double* size = model->site_size + 3 * node.site;
      if (std::abs(local[0]) > size[0] || std::abs(local[1]) > size[1]) return false;
      if (node.kind == Kind::kIn) {
        return local[2] >= -size[2] - settings.in_z_slack && local[2] <= size[2];
      }
      // Height of the object's origin above the region's top face.
      const double height = local[2] - size[2];
      return height >= -settings.region_z_below && height <= settings.region_z_above &&
             Goal::in_contact(model, data, node.subtree_a, node.subtree_b);
    }
    case Kind::kJointBelow:
      return data->qpos[node.qpos_address] < node.threshold;
    case Kind::kJointAbove:
      return data->qpos[node.qpos_address] > node.threshold;
    case Kind::kUp:
      return data->xpos[3 * node.body_a + 2] >= table_top + settings.up_height;
  }
  return false;
}

bool Goal::holds(const mjModel* model, const mjData* data) const {
  return evaluate(*root_, model, data, settings_, table_top_);
}

}  // namespace tasks
