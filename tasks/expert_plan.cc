#include "tasks/expert_plan.h"

#include <algorithm>
#include <stdexcept>

namespace tasks {

const char* skill_name(SkillKind kind) {
  switch (kind) {
    case SkillKind::kPickPlace:
      return "pick_place";
    case SkillKind::kPush:
      return "push";
    case SkillKind::kOpenDrawer:
      return "open_drawer";
    case SkillKind::kCloseDrawer:
      return "close_drawer";
    case SkillKind::kOpenDoor:
      return "open_door";
    case SkillKind::kCloseDoor:
      return "close_door";
    case SkillKind::kTurnOn:
      return "turn_on";
    case SkillKind::kTurnOff:
      return "turn_off";
  }
  return "";
}

namespace {

// One goal atom to plan for, and the formula that says it holds.
struct Atom {
  std::string op;
  std::vector<std::string> args;
  Predicate done;
};

// Flattens And, takes Or's first branch, and turns Not of a joint atom into
// the opposite atom.
void collect_atoms(const Predicate& formula, const std::string& file, std::vector<Atom>* atoms) {
  const std::string where = file + ":" + std::to_string(formula.line) + ": ";
  if (formula.op == "And") {
    for (const Predicate& child : formula.children) collect_atoms(child, file, atoms);
    return;
  }
  if (formula.op == "Or") {
    if (formula.children.empty()) throw std::runtime_error(where + "expert plan: empty Or");
    std::vector<Atom> first;
    collect_atoms(formula.children.front(), file, &first);
    // The whole Or says the branch is done.
    if (first.size() == 1) first.front().done = formula;
    atoms->insert(atoms->end(), first.begin(), first.end());
    return;
  }
  if (formula.op == "Not") {
    const Predicate& inner = formula.children.at(0);
    static const std::vector<std::pair<std::string, std::string>> opposite = {
        {"TurnOn", "TurnOff"}, {"TurnOff", "TurnOn"}, {"Open", "Close"}, {"Close", "Open"}};
    for (const auto& [from, to] : opposite) {
      if (inner.op == from) {
        atoms->push_back({to, inner.args, formula});
        return;
      }
    }
    throw std::runtime_error(where + "expert plan: cannot plan for " + formula.to_string());
  }
  atoms->push_back({formula.op, formula.args, formula});
}

// The fixture or object that owns region `region` and the joint that opens it.
const envs::assets::ObjectInfo* region_owner(const Scene& scene, const std::string& site,
                                             std::string* joint) {
  for (const auto& object : scene.objects) {
    const auto it = object.region_joints.find(site);
    if (it != object.region_joints.end()) {
      *joint = it->second;
      return &object;
    }
  }
  return nullptr;
}

}  // namespace

ExpertPlan::ExpertPlan(const Predicate& goal, const Scene& scene, const mjModel* model,
                       const std::string& file, ExpertPlanSettings settings) {
  std::vector<Atom> atoms;
  collect_atoms(goal, file, &atoms);
  auto site_of = [&](const std::string& region) {
    const auto it = scene.region_sites.find(region);
    return it == scene.region_sites.end() ? region : it->second;
  };
  auto joint_id = [&](const std::string& joint) {
    const int id = mj_name2id(model, mjOBJ_JOINT, joint.c_str());
    if (id < 0) throw std::runtime_error(file + ": expert plan: no joint '" + joint + "'");
    return id;
  };
  // An opening or closing sub-task for region (or fixture) `region`.
  auto joint_subtask = [&](const std::string& region, bool open, const Predicate& done) {
    std::string joint;
    const envs::assets::ObjectInfo* owner = region_owner(scene, site_of(region), &joint);
    if (!owner) {
      throw std::runtime_error(file + ": expert plan: region '" + region +
                               "' has no drawer or door to open or close");
    }
    const bool slide = model->jnt_type[joint_id(joint)] == mjJNT_SLIDE;
    SubTask task;
    task.kind = slide ? (open ? SkillKind::kOpenDrawer : SkillKind::kCloseDrawer)
                      : (open ? SkillKind::kOpenDoor : SkillKind::kCloseDoor);
    task.target = region;
    task.joint = joint;
    const auto handle = owner->handle_sites.find(joint);
    if (handle == owner->handle_sites.end()) {
      throw std::runtime_error(file + ": expert plan: joint '" + joint + "' has no handle site");
    }
    task.handle_site = handle->second;
    const PredicateSettings thresholds;
    task.joint_goal = slide ? (open ? settings.drawer_open_goal : thresholds.drawer_closed)
                            : (open ? thresholds.door_open : thresholds.door_closed);
    task.done = done;
    return task;
  };

  std::vector<SubTask> knobs, openings, placements, closings;
  for (const Atom& atom : atoms) {
    if (atom.op == "TurnOn" || atom.op == "TurnOff") {
      const envs::assets::ObjectInfo* fixture = scene.find(atom.args.at(0));
      if (!fixture || fixture->knob_joint.empty()) {
        throw std::runtime_error(file + ": expert plan: '" + atom.args.at(0) + "' has no knob");
      }
      SubTask task;
      task.kind = atom.op == "TurnOn" ? SkillKind::kTurnOn : SkillKind::kTurnOff;
      task.object = atom.args[0];
      task.joint = fixture->knob_joint;
      task.joint_goal = atom.op == "TurnOn" ? settings.knob_on_goal : settings.knob_off_goal;
      task.done = atom.done;
      knobs.push_back(task);
    } else if (atom.op == "Open" || atom.op == "Close") {
      SubTask task = joint_subtask(atom.args.at(0), atom.op == "Open", atom.done);
      (atom.op == "Open" ? openings : closings).push_back(task);
    } else if (atom.op == "On" || atom.op == "In") {
      const std::string& object = atom.args.at(0);
      const std::string& target = atom.args.at(1);
      const envs::assets::ObjectInfo* info = scene.find(object);
      if (!info) throw std::runtime_error(file + ": expert plan: no object '" + object + "'");
      SubTask task;
      task.object = object;
      task.target = target;
      task.done = atom.done;
      // Wide objects without a rim to pinch go to a surface region by pushing.
      const int site = mj_name2id(model, mjOBJ_SITE, site_of(target).c_str());
      const int surface = scene.surface.empty()
                              ? 0
                              : std::max(0, mj_name2id(model, mjOBJ_BODY, scene.surface.c_str()));
      const bool surface_region =
          site >= 0 && (model->site_bodyid[site] == 0 || model->site_bodyid[site] == surface);
      const bool wide =
          2 * std::min(info->half_extents[0], info->half_extents[1]) > settings.push_min_width;
      task.kind =
          surface_region && wide && info->rim_wall <= 0 ? SkillKind::kPush : SkillKind::kPickPlace;
      // A region inside a drawer or behind a door: open it first (skipped
      // while open, and once the placement is done).
      std::string joint;
      if (site >= 0 && region_owner(scene, site_of(target), &joint)) {
        Predicate open;
        open.op = "Open";
        open.args = {target};
        open.line = atom.done.line;
        bool explicit_open = false;
        for (const SubTask& opening : openings) explicit_open |= opening.joint == joint;
        for (const Atom& other : atoms) {
          explicit_open |= other.op == "Open" && !other.args.empty() && other.args[0] == target;
        }
        if (!explicit_open) {
          SubTask prerequisite = joint_subtask(target, true, open);
          prerequisite.enables = 1;  // relative: the placement right after it
          placements.push_back(prerequisite);
        }
      }
      placements.push_back(task);
    } else {
      throw std::runtime_error(file + ": expert plan: cannot plan for (" + atom.op + " ...)");
    }
  }
  for (auto* group : {&knobs, &openings, &placements, &closings}) {
    for (SubTask& task : *group) {
      if (task.enables >= 0) task.enables += int(subtasks_.size());
      subtasks_.push_back(task);
    }
  }
  for (const SubTask& task : subtasks_) {
    done_.emplace_back(task.done, scene, model, file);
    joint_qpos_.push_back(task.joint.empty() ? -1 : model->jnt_qposadr[joint_id(task.joint)]);
    const int object = task.kind == SkillKind::kPickPlace
                           ? mj_name2id(model, mjOBJ_BODY, task.object.c_str())
                           : -1;
    object_masks_.push_back(object > 0 ? Goal::subtree_mask(model, object) : std::vector<char>{});
  }
  const int hand = mj_name2id(model, mjOBJ_BODY, settings.hand_body.c_str());
  if (hand > 0) hand_mask_ = Goal::subtree_mask(model, hand);
}

ExpertPlan::~ExpertPlan() = default;
ExpertPlan::ExpertPlan(ExpertPlan&&) noexcept = default;
ExpertPlan& ExpertPlan::operator=(ExpertPlan&&) noexcept = default;

bool ExpertPlan::done(int index, const mjModel* model, const mjData* data,
                      std::vector<char>* reached) const {
  const SubTask& task = subtasks_.at(index);
  const bool tracked = reached && int(reached->size()) == int(subtasks_.size());
  if (!done_[index].holds(model, data)) {
    // Undone: its own goal must be reached again.
    if (tracked) (*reached)[index] = 0;
    return false;
  }
  // Joints must first pass the skill's own goal, a margin beyond the predicate's threshold.
  // A placed object still in the hand is not placed yet.
  if (!hand_mask_.empty() && !object_masks_[index].empty() &&
      Goal::in_contact(model, data, object_masks_[index], hand_mask_)) {
    return false;
  }
  const int address = joint_qpos_[index];
  if (address < 0) return true;
  if (tracked && (*reached)[index]) return true;
  const double qpos = data->qpos[address];
  bool past_goal = true;
  switch (task.kind) {
    case SkillKind::kOpenDrawer:
    case SkillKind::kOpenDoor:
    case SkillKind::kTurnOff:
      past_goal = qpos <= task.joint_goal;
      break;
    case SkillKind::kTurnOn:
      past_goal = qpos >= task.joint_goal;
      break;
    default:
      break;
  }
  if (past_goal && reached) {
    reached->resize(subtasks_.size(), 0);
    (*reached)[index] = 1;
  }
  return past_goal;
}

int ExpertPlan::current(const mjModel* model, const mjData* data,
                        std::vector<char>* reached) const {
  for (int i = 0; i < int(subtasks_.size()); ++i) {
    const int enables = subtasks_[i].enables;
    if (enables >= 0 && done(enables, model, data, reached)) continue;
    if (!done(i, model, data, reached)) return i;
  }
  return -1;
}

}  // namespace tasks
