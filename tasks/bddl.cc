#include "tasks/bddl.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <utility>

namespace tasks {

std::string BddlRegion::full_name() const { return target + "_" + name; }

bool Predicate::is_connective() const { return op == "And" || op == "Or" || op == "Not"; }

std::string Predicate::to_string() const {
  std::string text = "(" + op;
  for (const std::string& arg : args) text += " " + arg;
  for (const Predicate& child : children) text += " " + child.to_string();
  return text + ")";
}

const BddlRegion* TaskSpec::find_region(std::string_view full_name) const {
  for (const BddlRegion& region : regions) {
    if (full_name.size() == region.target.size() + 1 + region.name.size() &&
        full_name.starts_with(region.target) && full_name[region.target.size()] == '_' &&
        full_name.ends_with(region.name)) {
      return &region;
    }
  }
  return nullptr;
}

const BddlObject* TaskSpec::find_object(std::string_view name) const {
  for (const auto* list : {&fixtures, &objects}) {
    for (const BddlObject& object : *list) {
      if (object.name == name) return &object;
    }
  }
  return nullptr;
}

bool TaskSpec::is_fixture(std::string_view name) const {
  return std::any_of(fixtures.begin(), fixtures.end(),
                     [&](const BddlObject& fixture) { return fixture.name == name; });
}

namespace {

std::string error_text(const std::string& file, int line, const std::string& message) {
  if (line <= 0) return file + ": " + message;
  return file + ":" + std::to_string(line) + ": " + message;
}

}  // namespace

BddlError::BddlError(const std::string& file, int line, const std::string& message)
    : std::runtime_error(error_text(file, line, message)),
      file_(file),
      line_(line),
      message_(message) {}

namespace {

// Deeper nesting than this is rejected (real files nest about 5 deep).
constexpr int kMaxNesting = 64;

// One s-expression: a symbol or a parenthesised list.
struct Node {
  bool is_list = false;
  std::string text;         // the symbol as written (symbols only)
  std::vector<Node> items;  // the elements (lists only)
  int line = 0;             // line of the symbol or of the opening '('
};

std::string lower(std::string_view text) {
  std::string result(text);
  for (char& c : result) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return result;
}

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

// How a node reads in an error message: 'symbol' or '(head ...)'.
std::string describe(const Node& node) {
  if (!node.is_list) return "'" + node.text + "'";
  if (node.items.empty()) return "'()'";
  if (!node.items[0].is_list) return "'(" + node.items[0].text + " ...)'";
  return "'((...) ...)'";
}

// The list's head keyword in lower case, or "" when it has no symbol head.
std::string head_of(const Node& node) {
  if (!node.is_list || node.items.empty() || node.items[0].is_list) return "";
  return lower(node.items[0].text);
}

// Splits text into a tree of nodes; the root list holds the top-level forms.
// Unbalanced parentheses are reported at the most likely culprit: the first
// list whose ')' sits left of the indentation of the line that opened it, or
// else the innermost list left open; a (define ...) that closes before the
// end of the file is reported on the line where it closes.
Node read_tree(std::string_view text, const std::string& file) {
  struct OpenList {
    Node node;
    int indent = 0;  // leading whitespace of the line holding its '('
  };
  Node root;
  root.is_list = true;
  root.line = 1;
  std::vector<OpenList> open;  // lists whose ')' has not been seen yet
  int line = 1;
  size_t line_start = 0;      // index of the current line's first character
  int misaligned_line = 0;    // first list closed left of its opening indentation
  int define_close_line = 0;  // where a top-level (define ...) closed
  size_t i = 0;
  auto append = [&](Node node) {
    (open.empty() ? root : open.back().node).items.push_back(std::move(node));
  };
  // Anything after a closed (define ...) means a ')' too many inside it.
  auto check_after_define = [&](const std::string& found) {
    if (define_close_line == 0 || !open.empty()) return;
    throw BddlError(file, define_close_line,
                    "unbalanced parentheses: (define ...) closes on this line, expected end of "
                    "file after it, found " +
                        found + " on line " + std::to_string(line));
  };
  while (i < text.size()) {
    const char c = text[i];
    if (c == '\n') {
      ++line;
      line_start = ++i;
    } else if (is_space(c)) {
      ++i;
    } else if (c == ';') {
      while (i < text.size() && text[i] != '\n') ++i;
    } else if (c == '(') {
      check_after_define("'('");
      if (static_cast<int>(open.size()) >= kMaxNesting) {
        throw BddlError(file, line,
                        "expected at most " + std::to_string(kMaxNesting) +
                            " nested parentheses, found deeper nesting");
      }
      OpenList list;
      list.node.is_list = true;
      list.node.line = line;
      while (line_start + list.indent < text.size() && text[line_start + list.indent] != '\n' &&
             is_space(text[line_start + list.indent])) {
        ++list.indent;
      }
      open.push_back(std::move(list));
      ++i;
    } else if (c == ')') {
      check_after_define("')'");
      if (open.empty()) {
        throw BddlError(file, line,
                        "unbalanced parentheses: expected '(' before ')', found a ')' "
                        "with no matching '('");
      }
      OpenList done = std::move(open.back());
      open.pop_back();
      const int column = static_cast<int>(i - line_start);
      if (misaligned_line == 0 && done.node.line != line && column < done.indent) {
        misaligned_line = done.node.line;
      }
      if (open.empty() && head_of(done.node) == "define") define_close_line = line;
      append(std::move(done.node));
      ++i;
    } else {
      const size_t start = i;
      while (i < text.size() && !is_space(text[i]) && text[i] != '(' && text[i] != ')' &&
             text[i] != ';') {
        ++i;
      }
      Node symbol;
      symbol.text = std::string(text.substr(start, i - start));
      symbol.line = line;
      if (define_close_line != 0) check_after_define(describe(symbol));
      append(std::move(symbol));
    }
  }
  if (!open.empty()) {
    const Node& innermost = open.back().node;
    const int culprit = misaligned_line != 0 ? misaligned_line : innermost.line;
    const std::string what = misaligned_line != 0      ? "the list"
                             : innermost.items.empty() ? "'('"
                                                       : describe(innermost);
    throw BddlError(file, culprit,
                    "unbalanced parentheses: expected ')' to close " + what +
                        " opened on this line, found end of file with " +
                        std::to_string(open.size()) + " list" + (open.size() == 1 ? "" : "s") +
                        " left open");
  }
  return root;
}

struct OpInfo {
  const char* name;  // canonical spelling
  bool connective;   // takes sub-formulas rather than names
  int arity;         // names for atoms, sub-formulas for Not; -1: one or more
};

constexpr OpInfo kOps[] = {
    {"And", true, -1},     {"Or", true, -1},   {"Not", true, 1},    {"On", false, 2},
    {"In", false, 2},      {"Open", false, 1}, {"Close", false, 1}, {"TurnOn", false, 1},
    {"TurnOff", false, 1}, {"Up", false, 1},
};

std::string op_list(bool include_connectives) {
  std::string list;
  for (const OpInfo& op : kOps) {
    if (op.connective && !include_connectives) continue;
    if (!list.empty()) list += ", ";
    list += op.name;
  }
  return list;
}

const OpInfo* find_op(std::string_view name) {
  const std::string wanted = lower(name);
  for (const OpInfo& op : kOps) {
    if (lower(op.name) == wanted) return &op;
  }
  return nullptr;
}

constexpr const char* kSectionList =
    "problem, :domain, :language, :regions, :fixtures, :objects, :obj_of_interest, :init, :goal";

// Builds a TaskSpec from the tree, checking structure and references.
class Parser {
 public:
  explicit Parser(const std::string& file) : file_(file) { spec_.file = file; }

  TaskSpec parse(const Node& root) {
    if (root.items.empty()) fail(1, "expected (define ...), found end of file");
    const Node& define = root.items[0];
    if (head_of(define) != "define") {
      fail(define.line, "expected (define ...), found " + describe(define));
    }
    read_sections(define);
    read_objects_of_interest();
    read_init();
    read_goal();
    return std::move(spec_);
  }

 private:
  [[noreturn]] void fail(int line, const std::string& message) const {
    throw BddlError(file_, line, message);
  }

  // Records each section once and parses those that need no declarations.
  void read_sections(const Node& define) {
    std::map<std::string, const Node*> seen;
    for (size_t i = 1; i < define.items.size(); ++i) {
      const Node& section = define.items[i];
      const std::string head = head_of(section);
      const bool known = head == "problem" || head == ":domain" || head == ":language" ||
                         head == ":regions" || head == ":fixtures" || head == ":objects" ||
                         head == ":obj_of_interest" || head == ":init" || head == ":goal";
      if (!known) {
        fail(section.line, "unknown section: expected one of (" + std::string(kSectionList) +
                               "), found " + describe(section));
      }
      if (auto [it, inserted] = seen.emplace(head, &section); !inserted) {
        fail(section.line, "expected one " + head + " section, found a second (first on line " +
                               std::to_string(it->second->line) + ")");
      }
      if (head == "problem") {
        spec_.problem = single_symbol(section, "a problem name", false);
      } else if (head == ":domain") {
        spec_.domain = single_symbol(section, "a domain name", true);
      } else if (head == ":language") {
        read_language(section);
      } else if (head == ":regions") {
        for (size_t r = 1; r < section.items.size(); ++r) read_region(section.items[r]);
      } else if (head == ":fixtures") {
        read_declarations(section, spec_.fixtures);
      } else if (head == ":objects") {
        read_declarations(section, spec_.objects);
      }
    }
    for (const char* required : {":language", ":goal"}) {
      if (!seen.contains(required)) {
        fail(define.line, "missing section: expected (" + std::string(required) +
                              " ...) in (define ...), found none");
      }
    }
    init_section_ = seen.contains(":init") ? seen[":init"] : nullptr;
    obj_of_interest_section_ =
        seen.contains(":obj_of_interest") ? seen[":obj_of_interest"] : nullptr;
    goal_section_ = seen[":goal"];
  }

  // (head NAME): the one symbol after the head.
  std::string single_symbol(const Node& section, const std::string& what, bool to_lower) const {
    if (section.items.size() != 2 || section.items[1].is_list) {
      const std::string found = section.items.size() == 2
                                    ? describe(section.items[1])
                                    : std::to_string(section.items.size() - 1) + " items";
      fail(section.line,
           "expected " + what + " in (" + section.items[0].text + " ...), found " + found);
    }
    return to_lower ? lower(section.items[1].text) : section.items[1].text;
  }

  void read_language(const Node& section) {
    std::string language;
    for (size_t i = 1; i < section.items.size(); ++i) {
      const Node& word = section.items[i];
      if (word.is_list) {
        fail(word.line, "expected words in (:language ...), found " + describe(word));
      }
      if (!language.empty()) language += ' ';
      language += lower(word.text);
    }
    if (language.empty()) fail(section.line, "expected words in (:language ...), found none");
    spec_.language = std::move(language);
  }

  double number(const Node& node, const std::string& where) const {
    if (node.is_list)
      fail(node.line, "expected a number in " + where + ", found " + describe(node));
    std::string_view text = node.text;
    if (text.starts_with('+')) text.remove_prefix(1);
    double value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || text.empty() ||
        !std::isfinite(value)) {
      fail(node.line, "expected a number in " + where + ", found " + describe(node));
    }
    return value;
  }

  // A list of exactly n numbers.
  template <size_t N>
  std::array<double, N> numbers(const Node& node, const std::string& what,
                                const std::string& where) const {
    if (!node.is_list) {
      fail(node.line, "expected (" + what + ") in " + where + ", found " + describe(node));
    }
    if (node.items.size() != N) {
      fail(node.line, "expected " + std::to_string(N) + " numbers (" + what + ") in " + where +
                          ", found " + std::to_string(node.items.size()));
    }
    std::array<double, N> values{};
    for (size_t i = 0; i < N; ++i) values[i] = number(node.items[i], where);
    return values;
  }

  // (:key (LIST...)): the single list holding one entry per range.
  const Node& wrapped_list(const Node& attribute, const std::string& what,
                           const std::string& where) const {
    if (attribute.items.size() != 2 || !attribute.items[1].is_list) {
      const std::string found = attribute.items.size() == 2
                                    ? describe(attribute.items[1])
                                    : std::to_string(attribute.items.size() - 1) + " items";
      fail(attribute.line, "expected (" + attribute.items[0].text + " (" + what + ")) in " + where +
                               ", found " + found);
    }
    return attribute.items[1];
  }

  void read_region(const Node& node) {
    if (!node.is_list || node.items.empty() || node.items[0].is_list) {
      fail(node.line,
           "expected a region (NAME (:target ...) ...) in (:regions ...), found " + describe(node));
    }
    BddlRegion region;
    region.name = lower(node.items[0].text);
    region.line = node.line;
    const std::string where = "region '" + region.name + "'";
    std::map<std::string, int> seen;
    for (size_t i = 1; i < node.items.size(); ++i) {
      const Node& attribute = node.items[i];
      const std::string key = head_of(attribute);
      const bool known =
          key == ":target" || key == ":ranges" || key == ":yaw_rotation" || key == ":rgba";
      if (!known) {
        fail(attribute.line, "expected a region key (:target, :ranges, :yaw_rotation, :rgba) in " +
                                 where + ", found " + describe(attribute));
      }
      if (auto [it, inserted] = seen.emplace(key, attribute.line); !inserted) {
        fail(attribute.line, "expected one " + key + " in " + where +
                                 ", found a second (first on line " + std::to_string(it->second) +
                                 ")");
      }
      if (key == ":target") {
        region.target = single_symbol(attribute, "a fixture or object name", true);
      } else if (key == ":ranges") {
        for (const Node& range :
             wrapped_list(attribute, "(xmin ymin xmax ymax) ...", where).items) {
          const auto box = numbers<4>(range, "xmin ymin xmax ymax", "a range of " + where);
          if (box[0] > box[2]) {
            fail(range.line, "expected xmin <= xmax in a range of " + where + ", found xmin " +
                                 range.items[0].text + " > xmax " + range.items[2].text);
          }
          if (box[1] > box[3]) {
            fail(range.line, "expected ymin <= ymax in a range of " + where + ", found ymin " +
                                 range.items[1].text + " > ymax " + range.items[3].text);
          }
          region.ranges.push_back(box);
        }
      } else if (key == ":yaw_rotation") {
        for (const Node& yaw : wrapped_list(attribute, "(min max) ...", where).items) {
          const auto bounds = numbers<2>(yaw, "min max", "the yaw rotation of " + where);
          if (bounds[0] > bounds[1]) {
            fail(yaw.line, "expected min <= max in the yaw rotation of " + where + ", found " +
                               yaw.items[0].text + " > " + yaw.items[1].text);
          }
          region.yaw_rotation.push_back(bounds);
        }
      } else {
        const auto rgba = numbers<4>(wrapped_list(attribute, "r g b a", where), "r g b a",
                                     "the rgba of " + where);
        for (size_t c = 0; c < 4; ++c) {
          if (rgba[c] < 0 || rgba[c] > 1) {
            fail(attribute.line, "expected rgba components in [0, 1] in " + where + ", found " +
                                     attribute.items[1].items[c].text);
          }
        }
        region.rgba = rgba;
      }
    }
    if (region.target.empty()) {
      fail(node.line, "expected (:target NAME) in " + where + ", found none");
    }
    for (const BddlRegion& other : spec_.regions) {
      if (other.full_name() == region.full_name()) {
        fail(node.line, "region '" + region.full_name() + "' declared twice (first on line " +
                            std::to_string(other.line) + ")");
      }
    }
    spec_.regions.push_back(std::move(region));
  }

  // NAME... - CATEGORY, repeated.
  void read_declarations(const Node& section, std::vector<BddlObject>& out) {
    const std::string where = "(" + section.items[0].text + " ...)";
    std::vector<const Node*> pending;
    for (size_t i = 1; i < section.items.size(); ++i) {
      const Node& item = section.items[i];
      if (item.is_list)
        fail(item.line, "expected a name in " + where + ", found " + describe(item));
      if (item.text != "-") {
        pending.push_back(&item);
        continue;
      }
      if (pending.empty()) {
        fail(item.line, "expected names before '-' in " + where + ", found none");
      }
      if (i + 1 >= section.items.size() || section.items[i + 1].is_list ||
          section.items[i + 1].text == "-") {
        const std::string found =
            i + 1 >= section.items.size() ? "end of section" : describe(section.items[i + 1]);
        fail(item.line, "expected a category after '-' in " + where + ", found " + found);
      }
      const std::string category = lower(section.items[++i].text);
      for (const Node* name_node : pending) declare(*name_node, category, out);
      pending.clear();
    }
    if (!pending.empty()) {
      fail(pending.front()->line, "expected '- CATEGORY' after '" + pending.front()->text +
                                      "' in " + where + ", found end of section");
    }
  }

  void declare(const Node& name_node, const std::string& category, std::vector<BddlObject>& out) {
    const std::string name = lower(name_node.text);
    if (auto [it, inserted] = declared_.emplace(name, name_node.line); !inserted) {
      fail(name_node.line, "object '" + name + "' declared twice (first on line " +
                               std::to_string(it->second) + ")");
    }
    out.push_back(BddlObject{name, category, name_node.line});
  }

  // A declared name, a declared region's full name, or "<declared name>_...".
  bool is_reference(const std::string& name) const {
    if (declared_.contains(name)) return true;
    for (const auto& [declared, line] : declared_) {
      if (name.size() > declared.size() + 1 && name.starts_with(declared) &&
          name[declared.size()] == '_') {
        return true;
      }
    }
    return false;
  }

  void check_reference(const Node& node, const std::string& where) const {
    if (!is_reference(lower(node.text))) {
      fail(node.line, "expected a declared fixture, object or region (<target>_<region>) in " +
                          where + ", found undeclared '" + node.text + "'");
    }
  }

  void read_objects_of_interest() {
    if (obj_of_interest_section_ == nullptr) return;
    for (size_t i = 1; i < obj_of_interest_section_->items.size(); ++i) {
      const Node& item = obj_of_interest_section_->items[i];
      if (item.is_list) {
        fail(item.line, "expected a name in (:obj_of_interest ...), found " + describe(item));
      }
      check_reference(item, "(:obj_of_interest ...)");
      spec_.objects_of_interest.push_back(lower(item.text));
    }
  }

  void read_init() {
    if (init_section_ == nullptr) return;
    for (size_t i = 1; i < init_section_->items.size(); ++i) {
      spec_.init.push_back(read_formula(init_section_->items[i], false, ":init"));
    }
  }

  void read_goal() {
    const Node& section = *goal_section_;
    if (section.items.size() != 2) {
      fail(section.line, "expected one formula in (:goal ...) (join several with And), found " +
                             std::to_string(section.items.size() - 1));
    }
    spec_.goal = read_formula(section.items[1], true, ":goal");
  }

  Predicate read_formula(const Node& node, bool allow_connectives, const std::string& section) {
    const std::string valid = op_list(allow_connectives);
    if (!node.is_list || node.items.empty() || node.items[0].is_list) {
      fail(node.line,
           "expected a predicate (" + valid + ") in " + section + ", found " + describe(node));
    }
    const OpInfo* op = find_op(node.items[0].text);
    if (op == nullptr || (op->connective && !allow_connectives)) {
      fail(node.line, "unknown predicate: expected one of (" + valid + ") in " + section +
                          ", found '" + node.items[0].text + "'");
    }
    Predicate predicate;
    predicate.op = op->name;
    predicate.line = node.line;
    const size_t count = node.items.size() - 1;
    if (op->connective) {
      if ((op->arity < 0 && count == 0) || (op->arity > 0 && count != size_t(op->arity))) {
        fail(node.line, "expected " + std::string(op->arity < 0 ? "one or more" : "1") +
                            " sub-formula" + (op->arity < 0 ? "s" : "") + " for " + op->name +
                            ", found " + std::to_string(count));
      }
      for (size_t i = 1; i < node.items.size(); ++i) {
        predicate.children.push_back(read_formula(node.items[i], true, section));
      }
      return predicate;
    }
    if (count != size_t(op->arity)) {
      fail(node.line, "wrong arity: expected " + std::to_string(op->arity) + " argument" +
                          (op->arity == 1 ? "" : "s") + " for " + op->name + ", found " +
                          std::to_string(count));
    }
    for (size_t i = 1; i < node.items.size(); ++i) {
      const Node& arg = node.items[i];
      if (arg.is_list) {
        fail(arg.line, "expected a name as argument of " + std::string(op->name) + ", found " +
                           describe(arg));
      }
      const std::string name = lower(arg.text);
      const bool must_be_object =
          i == 1 && (predicate.op == "On" || predicate.op == "In" || predicate.op == "Up");
      if (must_be_object && !declared_.contains(name)) {
        fail(arg.line, "expected a declared fixture or object as first argument of " +
                           predicate.op + ", found undeclared '" + arg.text + "'");
      }
      check_reference(arg, "(" + predicate.op + " ...)");
      predicate.args.push_back(name);
    }
    return predicate;
  }

  const std::string& file_;
  TaskSpec spec_;
  std::map<std::string, int> declared_;  // fixture and object names -> declaration line
  const Node* init_section_ = nullptr;
  const Node* obj_of_interest_section_ = nullptr;
  const Node* goal_section_ = nullptr;
};

}  // namespace

TaskSpec parse_bddl(std::string_view text, const std::string& file_name) {
  const Node root = read_tree(text, file_name);
  return Parser(file_name).parse(root);
}

TaskSpec load_bddl(const std::string& path) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    throw BddlError(path, 0, "expected a BDDL file, found a directory");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw BddlError(path, 0, std::string("cannot open file: ") + std::strerror(errno));
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) throw BddlError(path, 0, "cannot read file");
  return parse_bddl(contents.str(), path);
}

}  // namespace tasks
