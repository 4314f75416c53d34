// Task files in LIBERO's BDDL: an s-expression problem definition with regions,
// fixtures, objects, initial placements and a goal formula.
//
//   (define (problem LIBERO_Tabletop_Manipulation)
//     (:domain robosuite)
//     (:language put the bowl on the plate)
//     (:regions (plate_region (:target main_table) (:ranges ((-0.01 0.24 0.01 0.26)))))
//     (:fixtures main_table - table)
//     (:objects akita_black_bowl_1 - akita_black_bowl  plate_1 - plate)
//     (:obj_of_interest akita_black_bowl_1 plate_1)
//     (:init (On plate_1 main_table_plate_region))
//     (:goal (And (On akita_black_bowl_1 plate_1))))
//
// As in LIBERO, every symbol except the problem name is read in lower case
// (keywords, names, categories and the language words), and `;` starts a
// comment that runs to the end of the line. Predicate ops are stored in their
// canonical spelling ("TurnOn", also when the file says "Turnon").
//
// Names that predicates may refer to:
//   - a declared fixture or object, e.g. "plate_1";
//   - a declared region, by its full name "<target>_<region name>": region
//     "plate_region" on target "main_table" is "main_table_plate_region";
//   - a region that a fixture or object exposes itself, spelled
//     "<declared name>_<anything>", e.g. "wooden_cabinet_1_top_region" or
//     "flat_stove_1_cook_region".
// The first argument of On, In and Up must be a declared fixture or object.
// A region's :target need not be declared (LIBERO files list regions of
// fixtures a scene leaves out); such a region cannot be referred to.
#pragma once

#include <array>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace tasks {

// A named placement box on a target fixture or object.
struct BddlRegion {
  std::string name;                           // as declared, e.g. "plate_region"
  std::string target;                         // fixture or object it lies on, e.g. "main_table"
  std::vector<std::array<double, 4>> ranges;  // (xmin ymin xmax ymax), m, target's frame
  std::vector<std::array<double, 2>> yaw_rotation;  // (min max), rad
  std::optional<std::array<double, 4>> rgba;        // display colour, each in [0, 1]
  int line = 0;                                     // source line of the declaration

  // The name predicates use: target + "_" + name.
  std::string full_name() const;
};

// A declared fixture or object instance and its category.
struct BddlObject {
  std::string name;      // instance name, e.g. "akita_black_bowl_1"
  std::string category;  // asset category, e.g. "akita_black_bowl"
  int line = 0;          // source line of the declaration
};

// One node of an :init or :goal formula: a logical connective with children
// (And, Or, Not) or an atom with name arguments (On, In, Open, ...).
struct Predicate {
  std::string op;                   // "And", "Or", "Not", "On", "In", "Open", "Close",
                                    // "TurnOn", "TurnOff", "Up"
  std::vector<std::string> args;    // atom arguments (atoms only)
  std::vector<Predicate> children;  // sub-formulas (And, Or, Not only)
  int line = 0;                     // source line, for error messages

  // True for And, Or and Not.
  bool is_connective() const;
  // The formula in BDDL syntax, e.g. "(And (On bowl_1 plate_1))".
  std::string to_string() const;
};

// Everything one task file declares.
struct TaskSpec {
  std::string file;  // path it was loaded from
  std::string problem, domain, language;
  std::vector<BddlRegion> regions;
  std::vector<BddlObject> fixtures, objects;
  std::vector<std::string> objects_of_interest;
  std::vector<Predicate> init;  // atoms, in file order
  Predicate goal;               // usually And(...)

  // The region with this full name ("<target>_<name>"), or nullptr.
  const BddlRegion* find_region(std::string_view full_name) const;
  // The fixture or object with this name, or nullptr.
  const BddlObject* find_object(std::string_view name) const;
  // True if the name is a declared fixture.
  bool is_fixture(std::string_view name) const;
};

// A malformed task file. what() reads "FILE:LINE: MESSAGE" ("FILE: MESSAGE"
// when no line applies), with MESSAGE usually "expected X, found Y".
class BddlError : public std::runtime_error {
 public:
  BddlError(const std::string& file, int line, const std::string& message);

  const std::string& file() const { return file_; }
  int line() const { return line_; }  // 1-based; 0 when the file as a whole is at fault
  const std::string& message() const { return message_; }

 private:
  std::string file_;
  int line_;
  std::string message_;
};

// Parses and validates BDDL text; file_name is used in error messages and
// stored in TaskSpec::file. Throws BddlError.
TaskSpec parse_bddl(std::string_view text, const std::string& file_name);

// Reads and parses the file at path. Throws BddlError if it cannot be read or
// is malformed.
TaskSpec load_bddl(const std::string& path);

}  // namespace tasks
