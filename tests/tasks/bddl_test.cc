#include "tasks/bddl.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace {

const std::string kBddlData = std::string(VLA_TEST_DATA_DIR) + "/bddl";

// The BddlError that parsing text throws; fails the test if none is thrown.
tasks::BddlError parse_error(const std::string& text, const std::string& file = "inline.bddl") {
  try {
    tasks::parse_bddl(text, file);
  } catch (const tasks::BddlError& error) {
    return error;
  }
  FAIL("expected a BddlError for:\n" << text);
  return tasks::BddlError(file, 0, "");
}

// A small valid task; tests below break one thing in it at a time. Sections
// sit on lines 1-7, extra_sections from line 8, the goal after them.
std::string minimal_task(const std::string& extra_sections = "",
                         const std::string& goal = "(And (On akita_black_bowl_1 plate_1))") {
  return "(define (problem LIBERO_Tabletop_Manipulation)\n"
         "  (:domain robosuite)\n"
         "  (:language put the bowl on the plate)\n"
         "  (:regions (plate_region (:target main_table) (:ranges ((0.0 0.0 0.1 0.1)))))\n"
         "  (:fixtures main_table - table)\n"
         "  (:objects akita_black_bowl_1 - akita_black_bowl plate_1 - plate)\n"
         "  (:init (On plate_1 main_table_plate_region))\n" +
         extra_sections + "  (:goal " + goal + "))\n";
}

}  // namespace

TEST_CASE("bddl: parses a libero_spatial-like file, every field") {
  const std::string path = kBddlData + "/valid/spatial_bowl_between_plate_and_ramekin.bddl";
  const tasks::TaskSpec spec = tasks::load_bddl(path);

  CHECK(spec.file == path);
  CHECK(spec.problem == "LIBERO_Tabletop_Manipulation");
  CHECK(spec.domain == "robosuite");
  // Words over two lines with extra spaces, joined by single spaces, lower case.
  CHECK(spec.language ==
        "pick up the black bowl between the plate and the ramekin and place it on the plate");

  REQUIRE(spec.regions.size() == 10);
  const tasks::BddlRegion& plate = spec.regions[0];
  CHECK(plate.name == "plate_region");
  CHECK(plate.target == "main_table");
  CHECK(plate.full_name() == "main_table_plate_region");
  CHECK(plate.line == 8);
  REQUIRE(plate.ranges.size() == 1);
  CHECK(plate.ranges[0] == std::array<double, 4>{0.04, 0.18, 0.06, 0.20});
  REQUIRE(plate.yaw_rotation.size() == 1);
  CHECK(plate.yaw_rotation[0] == std::array<double, 2>{0.0, 0.0});
  CHECK_FALSE(plate.rgba.has_value());

  const tasks::BddlRegion& between = spec.regions[1];
  CHECK(between.full_name() == "main_table_between_plate_ramekin_region");
  REQUIRE(between.ranges.size() == 2);
  CHECK(between.ranges[0] == std::array<double, 4>{-0.07, 0.18, -0.05, 0.20});
  CHECK(between.ranges[1] == std::array<double, 4>{-0.08, 0.17, -0.06, 0.19});
  CHECK(between.yaw_rotation.empty());

  const tasks::BddlRegion& box = spec.regions[3];
  CHECK(box.name == "box_region");
  REQUIRE(box.rgba.has_value());
  CHECK(*box.rgba == std::array<double, 4>{0.0, 0.0, 1.0, 0.25});

  const tasks::BddlRegion& cabinet = spec.regions[5];
  CHECK(cabinet.name == "cabinet_region");
  REQUIRE(cabinet.yaw_rotation.size() == 1);
  CHECK(cabinet.yaw_rotation[0][0] == doctest::Approx(2.65));
  CHECK(cabinet.yaw_rotation[0][1] == doctest::Approx(2.72));

  // Regions a fixture exposes: no ranges, target is the fixture.
  const tasks::BddlRegion& cook = spec.regions[9];
  CHECK(cook.full_name() == "flat_stove_1_cook_region");
  CHECK(cook.ranges.empty());
  CHECK(cook.yaw_rotation.empty());

  REQUIRE(spec.fixtures.size() == 3);
  CHECK(spec.fixtures[0].name == "main_table");
  CHECK(spec.fixtures[0].category == "table");
  CHECK(spec.fixtures[1].name == "wooden_cabinet_1");
  CHECK(spec.fixtures[1].category == "wooden_cabinet");
  CHECK(spec.fixtures[2].name == "flat_stove_1");
  CHECK(spec.fixtures[2].category == "flat_stove");

  // Two names before one '-' share the category.
  REQUIRE(spec.objects.size() == 5);
  CHECK(spec.objects[0].name == "akita_black_bowl_1");
  CHECK(spec.objects[0].category == "akita_black_bowl");
  CHECK(spec.objects[1].name == "akita_black_bowl_2");
  CHECK(spec.objects[1].category == "akita_black_bowl");
  CHECK(spec.objects[1].line == spec.objects[0].line);
  CHECK(spec.objects[2].name == "cookies_1");
  CHECK(spec.objects[3].name == "glazed_rim_porcelain_ramekin_1");
  CHECK(spec.objects[3].category == "glazed_rim_porcelain_ramekin");
  CHECK(spec.objects[4].name == "plate_1");
  CHECK(spec.objects[4].category == "plate");

  CHECK(spec.objects_of_interest == std::vector<std::string>{"akita_black_bowl_1", "plate_1"});

  REQUIRE(spec.init.size() == 7);
  CHECK(spec.init[0].op == "On");
  CHECK(spec.init[0].args ==
        std::vector<std::string>{"akita_black_bowl_1", "main_table_between_plate_ramekin_region"});
  CHECK(spec.init[0].children.empty());
  CHECK(spec.init[0].line == 97);
  // A trailing comment on the line is ignored.
  CHECK(spec.init[1].args ==
        std::vector<std::string>{"akita_black_bowl_2", "main_table_next_to_box_region"});
  CHECK(spec.init[6].args == std::vector<std::string>{"flat_stove_1", "main_table_stove_region"});

  CHECK(spec.goal.op == "And");
  CHECK(spec.goal.line == 107);
  REQUIRE(spec.goal.children.size() == 1);
  CHECK(spec.goal.children[0].op == "On");
  CHECK(spec.goal.children[0].args == std::vector<std::string>{"akita_black_bowl_1", "plate_1"});
  CHECK(spec.goal.to_string() == "(And (On akita_black_bowl_1 plate_1))");

  // Look-ups by the names predicates use.
  REQUIRE(spec.find_region("main_table_plate_region") != nullptr);
  CHECK(spec.find_region("main_table_plate_region")->name == "plate_region");
  CHECK(spec.find_region("wooden_cabinet_1_top_region")->target == "wooden_cabinet_1");
  CHECK(spec.find_region("plate_region") == nullptr);
  CHECK(spec.find_region("main_table_plate") == nullptr);
  REQUIRE(spec.find_object("plate_1") != nullptr);
  CHECK(spec.find_object("plate_1")->category == "plate");
  CHECK(spec.find_object("main_table")->category == "table");
  CHECK(spec.find_object("plate_2") == nullptr);
  CHECK(spec.is_fixture("wooden_cabinet_1"));
  CHECK_FALSE(spec.is_fixture("plate_1"));
}

TEST_CASE("bddl: parses a libero_goal-like file with drawers, stove and a nested goal") {
  const std::string path = kBddlData + "/valid/goal_drawer_and_stove.bddl";
  const tasks::TaskSpec spec = tasks::load_bddl(path);

  CHECK(spec.problem == "LIBERO_Kitchen_Tabletop_Manipulation");
  CHECK(spec.domain == "robosuite");
  CHECK(spec.language == "open the middle drawer, put the bowl inside and turn off the stove");

  REQUIRE(spec.regions.size() == 9);
  CHECK(spec.regions[0].full_name() == "kitchen_table_bowl_region");
  CHECK(spec.regions[0].ranges[0] == std::array<double, 4>{-0.11, -0.02, -0.09, 0.00});
  REQUIRE(spec.regions[1].yaw_rotation.size() == 1);
  CHECK(spec.regions[1].yaw_rotation[0][0] == doctest::Approx(-1.5707963267948966));
  CHECK(spec.regions[1].yaw_rotation[0][1] == doctest::Approx(-0.7853981633974483));
  CHECK(spec.regions[2].yaw_rotation[0][0] == doctest::Approx(3.141592653589793));
  CHECK(spec.regions[5].full_name() == "wooden_cabinet_1_middle_region");
  CHECK(spec.regions[8].full_name() == "flat_stove_1_cook_region");

  REQUIRE(spec.fixtures.size() == 3);
  CHECK(spec.fixtures[0].name == "kitchen_table");
  CHECK(spec.fixtures[0].category == "kitchen_table");
  REQUIRE(spec.objects.size() == 2);
  CHECK(spec.objects[1].name == "chefmate_8_frypan_1");
  CHECK(spec.objects[1].category == "chefmate_8_frypan");

  // A fixture's own region and a fixture may be objects of interest.
  CHECK(spec.objects_of_interest == std::vector<std::string>{"akita_black_bowl_1",
                                                             "wooden_cabinet_1_middle_region",
                                                             "flat_stove_1"});

  REQUIRE(spec.init.size() == 6);
  CHECK(spec.init[4].op == "Close");
  CHECK(spec.init[4].args == std::vector<std::string>{"wooden_cabinet_1_middle_region"});
  // LIBERO spells it "Turnon"; the op is stored in its canonical spelling.
  CHECK(spec.init[5].op == "TurnOn");
  CHECK(spec.init[5].args == std::vector<std::string>{"flat_stove_1"});
  CHECK(spec.init[5].line == 52);

  const tasks::Predicate& goal = spec.goal;
  CHECK(goal.op == "And");
  CHECK(goal.is_connective());
  CHECK(goal.args.empty());
  REQUIRE(goal.children.size() == 4);
  CHECK(goal.children[0].op == "Open");
  CHECK(goal.children[0].args == std::vector<std::string>{"wooden_cabinet_1_middle_region"});
  CHECK(goal.children[0].line == 56);
  CHECK(goal.children[1].op == "In");
  CHECK(goal.children[1].args ==
        std::vector<std::string>{"akita_black_bowl_1", "wooden_cabinet_1_middle_region"});
  const tasks::Predicate& not_on = goal.children[2];
  CHECK(not_on.op == "Not");
  REQUIRE(not_on.children.size() == 1);
  CHECK(not_on.children[0].op == "TurnOn");
  CHECK_FALSE(not_on.children[0].is_connective());
  const tasks::Predicate& either = goal.children[3];
  CHECK(either.op == "Or");
  CHECK(either.line == 59);
  REQUIRE(either.children.size() == 2);
  CHECK(either.children[0].args ==
        std::vector<std::string>{"chefmate_8_frypan_1", "flat_stove_1_cook_region"});
  CHECK(either.children[1].args ==
        std::vector<std::string>{"chefmate_8_frypan_1", "wooden_cabinet_1_top_side"});
  CHECK(either.children[1].line == 60);
  CHECK(goal.to_string() ==
        "(And (Open wooden_cabinet_1_middle_region) "
        "(In akita_black_bowl_1 wooden_cabinet_1_middle_region) (Not (TurnOn flat_stove_1)) "
        "(Or (On chefmate_8_frypan_1 flat_stove_1_cook_region) "
        "(On chefmate_8_frypan_1 wooden_cabinet_1_top_side)))");
}

TEST_CASE("bddl: each malformed file names the file, the line and what was expected") {
  struct Case {
    const char* file;      // under tests/data/bddl/malformed
    int line;              // where the error is reported
    const char* expected;  // part of the message
  };
  const Case cases[] = {
      {"unclosed_paren.bddl", 34, "expected ')' to close '(On ...)'"},
      {"unclosed_mid_file.bddl", 33, "expected ')' to close the list opened on this line"},
      {"unclosed_define.bddl", 2, "expected ')' to close '(define ...)'"},
      {"extra_close_paren.bddl", 26, "(define ...) closes on this line, expected end of file"},
      {"unknown_section.bddl", 27,
       "unknown section: expected one of (problem, :domain, "
       ":language, :regions, :fixtures, :objects, :obj_of_interest, "
       ":init, :goal), found '(:scene_properties ...)'"},
      {"missing_language.bddl", 2, "expected (:language ...) in (define ...), found none"},
      {"missing_goal.bddl", 2, "expected (:goal ...) in (define ...), found none"},
      {"range_three_numbers.bddl", 8,
       "expected 4 numbers (xmin ymin xmax ymax) in a range of region 'plate_region', found 3"},
      {"range_not_a_number.bddl", 13,
       "expected a number in a range of region 'bowl_region', found 'zero'"},
      {"range_xmin_above_xmax.bddl", 9,
       "expected xmin <= xmax in a range of region "
       "'plate_region', found xmin 0.30 > xmax 0.10"},
      {"object_declared_twice.bddl", 26, "object 'plate_1' declared twice (first on line 22)"},
      {"category_missing.bddl", 25, "expected a category after '-' in (:objects ...)"},
      {"undeclared_object.bddl", 38,
       "expected a declared fixture or object as first argument "
       "of On, found undeclared 'akita_black_bowl_2'"},
      {"undeclared_region.bddl", 33,
       "expected a declared fixture, object or region "
       "(<target>_<region>) in (On ...), found undeclared "
       "'kitchen_table_plate_region'"},
      {"unknown_predicate.bddl", 38,
       "expected one of (And, Or, Not, On, In, Open, Close, "
       "TurnOn, TurnOff, Up) in :goal, found 'Above'"},
      {"wrong_arity_on.bddl", 33, "expected 2 arguments for On, found 1"},
      {"wrong_arity_open.bddl", 38, "expected 1 argument for Open, found 2"},
  };
  for (const Case& test : cases) {
    const std::string path = kBddlData + "/malformed/" + test.file;
    CAPTURE(path);
    REQUIRE(std::filesystem::exists(path));
    bool thrown = false;
    try {
      tasks::load_bddl(path);
    } catch (const tasks::BddlError& error) {
      thrown = true;
      const std::string what = error.what();
      CAPTURE(what);
      CHECK(error.file() == path);
      CHECK(error.line() == test.line);
      CHECK(what.starts_with(path + ":" + std::to_string(test.line) + ": "));
      CHECK(what.find(test.expected) != std::string::npos);
    }
    CHECK(thrown);
  }
}

TEST_CASE("bddl: the minimal task used below is valid") {
  const tasks::TaskSpec spec = tasks::parse_bddl(minimal_task(), "inline.bddl");
  CHECK(spec.file == "inline.bddl");
  CHECK(spec.language == "put the bowl on the plate");
  CHECK(spec.goal.to_string() == "(And (On akita_black_bowl_1 plate_1))");
}

TEST_CASE("bddl: structural errors in inline text") {
  SUBCASE("empty text") {
    const tasks::BddlError error = parse_error("  ; only a comment\n");
    CHECK(error.line() == 1);
    CHECK(std::string(error.what()).find("expected (define ...), found end of file") !=
          std::string::npos);
  }
  SUBCASE("not a define") {
    const tasks::BddlError error = parse_error("\n(problem x)\n");
    CHECK(error.line() == 2);
    CHECK(error.message() == "expected (define ...), found '(problem ...)'");
  }
  SUBCASE("a ')' with no '('") {
    const tasks::BddlError error = parse_error("\n\n) (define)");
    CHECK(error.line() == 3);
    CHECK(error.message().find("expected '(' before ')'") != std::string::npos);
  }
  SUBCASE("a section twice") {
    const tasks::BddlError error = parse_error(minimal_task("  (:language again)\n"));
    CHECK(error.line() == 8);
    CHECK(error.message() == "expected one :language section, found a second (first on line 3)");
  }
  SUBCASE("more than one goal formula") {
    const tasks::BddlError error =
        parse_error(minimal_task("", "(On plate_1 main_table) (Up plate_1)"));
    CHECK(error.line() == 8);
    CHECK(error.message().find("expected one formula in (:goal ...)") != std::string::npos);
  }
  SUBCASE("nesting deeper than the limit") {
    const tasks::BddlError error = parse_error(std::string(100, '(') + std::string(100, ')'));
    CHECK(error.line() == 1);
    CHECK(error.message().find("nested parentheses") != std::string::npos);
  }
  SUBCASE("a list inside the language") {
    const tasks::BddlError error =
        parse_error("(define\n (:language put (the) bowl)\n (:goal (Up a)))");
    CHECK(error.line() == 2);
    CHECK(error.message() == "expected words in (:language ...), found '(the ...)'");
  }
}

TEST_CASE("bddl: region errors in inline text") {
  auto with_region = [](const std::string& region) {
    return "(define (problem p)\n"
           "  (:language go)\n"
           "  (:regions\n" +
           region +
           ")\n"
           "  (:fixtures main_table - table)\n"
           "  (:goal (Up main_table)))\n";
  };
  SUBCASE("no target") {
    const tasks::BddlError error = parse_error(with_region("(r (:ranges ((0 0 1 1))))"));
    CHECK(error.line() == 4);
    CHECK(error.message() == "expected (:target NAME) in region 'r', found none");
  }
  SUBCASE("unknown key") {
    const tasks::BddlError error = parse_error(with_region("(r (:target main_table) (:size 1))"));
    CHECK(error.message().find("expected a region key (:target, :ranges, :yaw_rotation, :rgba)") !=
          std::string::npos);
  }
  SUBCASE("ymin above ymax") {
    const tasks::BddlError error =
        parse_error(with_region("(r (:target main_table)\n (:ranges ((0 2 1 1))))"));
    CHECK(error.line() == 5);
    CHECK(error.message().find("expected ymin <= ymax") != std::string::npos);
  }
  SUBCASE("yaw min above max") {
    const tasks::BddlError error =
        parse_error(with_region("(r (:target main_table) (:yaw_rotation ((1.0 0.5))))"));
    CHECK(error.message().find("expected min <= max in the yaw rotation of region 'r'") !=
          std::string::npos);
  }
  SUBCASE("yaw of three numbers") {
    const tasks::BddlError error =
        parse_error(with_region("(r (:target main_table) (:yaw_rotation ((0 0 0))))"));
    CHECK(error.message().find("expected 2 numbers (min max)") != std::string::npos);
  }
  SUBCASE("rgba out of range") {
    const tasks::BddlError error =
        parse_error(with_region("(r (:target main_table) (:rgba (0 0 2 1)))"));
    CHECK(error.message().find("expected rgba components in [0, 1]") != std::string::npos);
  }
  SUBCASE("not-a-number and infinity are not numbers") {
    for (const char* bad : {"nan", "inf", "1.0x", "--1"}) {
      CAPTURE(bad);
      const tasks::BddlError error = parse_error(
          with_region("(r (:target main_table) (:ranges ((0 0 " + std::string(bad) + " 1))))"));
      CHECK(error.message().find("expected a number") != std::string::npos);
    }
  }
  SUBCASE("the same region twice") {
    const tasks::BddlError error =
        parse_error(with_region("(r (:target main_table))\n(r (:target main_table))"));
    CHECK(error.line() == 5);
    CHECK(error.message() == "region 'main_table_r' declared twice (first on line 4)");
  }
  SUBCASE("numbers in any usual spelling") {
    const tasks::TaskSpec spec = tasks::parse_bddl(
        with_region("(r (:target main_table) (:ranges ((-1e-2 +0 .5 1.))))"), "inline.bddl");
    CHECK(spec.regions[0].ranges[0] == std::array<double, 4>{-0.01, 0.0, 0.5, 1.0});
  }
}

TEST_CASE("bddl: declaration and predicate errors in inline text") {
  SUBCASE("names without '- CATEGORY'") {
    const tasks::BddlError error = parse_error(
        "(define (:language go)\n"
        "  (:objects bowl_1 - bowl\n"
        "    plate_1)\n"
        "  (:goal (Up bowl_1)))");
    CHECK(error.line() == 3);
    CHECK(error.message() ==
          "expected '- CATEGORY' after 'plate_1' in (:objects ...), found "
          "end of section");
  }
  SUBCASE("'-' with no names") {
    const tasks::BddlError error =
        parse_error("(define (:language go) (:objects - plate) (:goal (Up x)))");
    CHECK(error.message() == "expected names before '-' in (:objects ...), found none");
  }
  SUBCASE("Not with two formulas") {
    const tasks::BddlError error = parse_error(
        minimal_task("", "(Not (On akita_black_bowl_1 plate_1) (On plate_1 akita_black_bowl_1))"));
    CHECK(error.message() == "expected 1 sub-formula for Not, found 2");
  }
  SUBCASE("And with nothing") {
    const tasks::BddlError error = parse_error(minimal_task("", "(And)"));
    CHECK(error.message() == "expected one or more sub-formulas for And, found 0");
  }
  SUBCASE("connectives are not allowed in :init") {
    const tasks::BddlError error = parse_error(
        "(define (:language go)\n"
        "  (:objects plate_1 - plate)\n"
        "  (:init (Up plate_1)\n"
        "         (Not (Up plate_1)))\n"
        "  (:goal (Up plate_1)))");
    CHECK(error.line() == 4);
    CHECK(error.message() ==
          "unknown predicate: expected one of (On, In, Open, Close, TurnOn, "
          "TurnOff, Up) in :init, found 'Not'");
  }
  SUBCASE("a formula where a name belongs") {
    const tasks::BddlError error = parse_error(minimal_task("", "(Up (plate_1))"));
    CHECK(error.message() == "expected a name as argument of Up, found '(plate_1 ...)'");
  }
  SUBCASE("a bare name where a formula belongs") {
    const tasks::BddlError error = parse_error(minimal_task("", "(And plate_1)"));
    CHECK(error.message().find("expected a predicate (And, Or, Not, On, In, Open, Close, "
                               "TurnOn, TurnOff, Up) in :goal, found 'plate_1'") !=
          std::string::npos);
  }
  SUBCASE("an undeclared object of interest") {
    const tasks::BddlError error = parse_error(minimal_task("  (:obj_of_interest bowl_7)\n"));
    CHECK(error.line() == 8);
    CHECK(error.message().find("found undeclared 'bowl_7'") != std::string::npos);
  }
  SUBCASE("a declared name alone is not a region prefix") {
    // "plate_1" is declared, "plate_123" is not and must not pass as plate_1's region.
    const tasks::BddlError error =
        parse_error(minimal_task("", "(On akita_black_bowl_1 plate_123)"));
    CHECK(error.message().find("found undeclared 'plate_123'") != std::string::npos);
  }
}

TEST_CASE("bddl: keywords and ops in any case, names read in lower case") {
  const tasks::TaskSpec spec = tasks::parse_bddl(
      "(DEFINE (Problem Mixed_Case)\n"
      "  (:Domain RoboSuite)\n"
      "  (:LANGUAGE Put The Bowl   On The Plate)\n"
      "  (:Fixtures Main_Table - Table)\n"
      "  (:OBJECTS Bowl_1 - Bowl)\n"
      "  (:Goal (AND (on BOWL_1 main_table) (TURNOFF main_table_stove))))\n",
      "mixed.bddl");
  CHECK(spec.problem == "Mixed_Case");
  CHECK(spec.domain == "robosuite");
  CHECK(spec.language == "put the bowl on the plate");
  CHECK(spec.fixtures[0].name == "main_table");
  CHECK(spec.fixtures[0].category == "table");
  CHECK(spec.objects[0].name == "bowl_1");
  CHECK(spec.goal.to_string() == "(And (On bowl_1 main_table) (TurnOff main_table_stove))");
}

TEST_CASE("bddl: load_bddl names a file it cannot read") {
  const std::string missing = kBddlData + "/no_such_task.bddl";
  try {
    tasks::load_bddl(missing);
    FAIL("expected a BddlError");
  } catch (const tasks::BddlError& error) {
    CHECK(error.file() == missing);
    CHECK(error.line() == 0);
    CHECK(std::string(error.what()).starts_with(missing + ": cannot open file"));
  }
  CHECK_THROWS_WITH_AS(tasks::load_bddl(kBddlData), doctest::Contains("found a directory"),
                       tasks::BddlError);
}

TEST_CASE("bddl: every task file in the source tree and the valid test data loads") {
  int loaded = 0;
  for (const std::string& root : {std::string(VLA_SOURCE_DIR) + "/tasks", kBddlData + "/valid"}) {
    if (!std::filesystem::exists(root)) continue;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
      if (entry.path().extension() != ".bddl") continue;
      const std::string path = entry.path().string();
      CAPTURE(path);
      try {
        const tasks::TaskSpec spec = tasks::load_bddl(path);
        CHECK_FALSE(spec.language.empty());
        CHECK_FALSE(spec.goal.op.empty());
        ++loaded;
      } catch (const tasks::BddlError& error) {
        FAIL_CHECK(error.what());
      }
    }
  }
  MESSAGE("task files loaded: " << loaded);
  CHECK(loaded >= 2);
}

TEST_CASE("bddl: every truncation of a valid file fails with a BddlError, never otherwise") {
  const std::string path = kBddlData + "/valid/goal_drawer_and_stove.bddl";
  std::ifstream in(path);
  REQUIRE(in.good());
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  REQUIRE(text.size() > 1000);
  int errors = 0;
  // The last ')' sits before the final newline; every shorter prefix is malformed.
  const size_t last_paren = text.rfind(')');
  for (size_t length = 0; length <= last_paren; ++length) {
    try {
      tasks::parse_bddl(std::string_view(text).substr(0, length), path);
      FAIL_CHECK("a prefix of " << length << " characters parsed");
    } catch (const tasks::BddlError& error) {
      ++errors;
      CHECK(error.line() >= 1);
    }
  }
  CHECK(errors == static_cast<int>(last_paren + 1));
}
