// Goal predicates, each true and false on constructed states.
#include <doctest/doctest.h>

#include <memory>

#include "envs/env.h"
#include "tasks/init_states.h"
#include "tasks/predicates.h"
#include "tasks/scene.h"

namespace {

constexpr const char* kTask = R"(
(define (problem predicate_test)
  (:domain robosuite)
  (:language test predicates)
  (:regions
    (cabinet_region (:target main_table) (:ranges ((0.04 -0.46 0.06 -0.44))) (:yaw_rotation ((0 0))))
    (stove_region (:target main_table) (:ranges ((0.09 0.41 0.11 0.43))) (:yaw_rotation ((0 0))))
    (bowl_region (:target main_table) (:ranges ((-0.06 -0.01 -0.04 0.01))))
    (plate_region (:target main_table) (:ranges ((-0.06 0.19 -0.04 0.21))))
    (front_region (:target main_table) (:ranges ((-0.2 -0.1 -0.1 0.1))))
  )
  (:fixtures main_table - table wooden_cabinet_1 - wooden_cabinet flat_stove_1 - flat_stove)
  (:objects akita_black_bowl_1 - akita_black_bowl plate_1 - plate)
  (:init
    (On wooden_cabinet_1 main_table_cabinet_region)
    (On flat_stove_1 main_table_stove_region)
    (On akita_black_bowl_1 main_table_bowl_region)
    (On plate_1 main_table_plate_region))
  (:goal (And (On akita_black_bowl_1 plate_1)))
)
)";

// A compiled scene with helpers to place objects and evaluate formulas.
struct Fixture {
  tasks::TaskSpec spec = tasks::parse_bddl(kTask, "predicate_test.bddl");
  tasks::Scene scene = tasks::build_scene(spec);
  std::unique_ptr<mjModel, decltype(&mj_deleteModel)> model{envs::load_model_from_string(scene.mjcf),
                                                             mj_deleteModel};
  std::unique_ptr<mjData, decltype(&mj_deleteData)> data{mj_makeData(model.get()), mj_deleteData};

  Fixture() {
    tasks::set_robot_init_qpos(model.get(), data->qpos);
    place("akita_black_bowl_1", -0.05, 0.0, 0.9);
    place("plate_1", -0.05, 0.2, 0.9);
  }
  void place(const char* object, double x, double y, double z) {
    const int joint = mj_name2id(model.get(), mjOBJ_JOINT, (std::string(object) + "_joint").c_str());
    double* q = data->qpos + model->jnt_qposadr[joint];
    q[0] = x, q[1] = y, q[2] = z, q[3] = 1, q[4] = q[5] = q[6] = 0;
  }
  void set_joint(const char* joint, double value) {
    data->qpos[model->jnt_qposadr[mj_name2id(model.get(), mjOBJ_JOINT, joint)]] = value;
  }
  // Lets contacts form and objects come to rest.
  void settle(int steps = 300) {
    mj_forward(model.get(), data.get());
    for (int i = 0; i < steps; ++i) mj_step(model.get(), data.get());
    mj_forward(model.get(), data.get());
  }
  bool holds(const char* formula) {
    const std::string text = std::string(R"((define (problem p) (:domain robosuite) (:language x)
      (:regions (front_region (:target main_table) (:ranges ((-0.2 -0.1 -0.1 0.1)))))
      (:fixtures main_table - table wooden_cabinet_1 - wooden_cabinet flat_stove_1 - flat_stove)
      (:objects akita_black_bowl_1 - akita_black_bowl plate_1 - plate)
      (:goal )") + formula + "))";
    const tasks::TaskSpec goal_spec = tasks::parse_bddl(text, "goal.bddl");
    tasks::Goal goal(goal_spec.goal, scene, model.get(), "goal.bddl");
    return goal.holds(model.get(), data.get());
  }
};

}  // namespace

TEST_CASE("predicates: On(object, object) needs contact, xy within 3 cm and the right order") {
  Fixture f;
  f.settle();
  CHECK_FALSE(f.holds("(On akita_black_bowl_1 plate_1)"));
  f.place("akita_black_bowl_1", -0.05, 0.2, 0.91);  // onto the plate
  f.settle();
  CHECK(f.holds("(On akita_black_bowl_1 plate_1)"));
  CHECK_FALSE(f.holds("(On plate_1 akita_black_bowl_1)"));  // the plate is below the bowl
  f.place("akita_black_bowl_1", -0.05 + 0.035, 0.2, 0.91);  // on it, but 3.5 cm off centre
  f.settle(50);
  CHECK_FALSE(f.holds("(On akita_black_bowl_1 plate_1)"));
  f.place("akita_black_bowl_1", -0.05, 0.2, 1.1);  // above it, no contact
  mj_forward(f.model.get(), f.data.get());
  CHECK_FALSE(f.holds("(On akita_black_bowl_1 plate_1)"));
}

TEST_CASE("predicates: On(object, region) and In(object, region)") {
  Fixture f;
  f.settle();
  CHECK_FALSE(f.holds("(On akita_black_bowl_1 main_table_front_region)"));
  f.place("akita_black_bowl_1", -0.15, 0.0, 0.9);
  f.settle();
  CHECK(f.holds("(On akita_black_bowl_1 main_table_front_region)"));
  // Lifted 20 cm: out of the region's height band.
  f.place("akita_black_bowl_1", -0.15, 0.0, 1.1);
  mj_forward(f.model.get(), f.data.get());
  CHECK_FALSE(f.holds("(On akita_black_bowl_1 main_table_front_region)"));

  // In the open top drawer's region.
  f.set_joint("wooden_cabinet_1_top_drawer_joint", -0.16);
  mj_forward(f.model.get(), f.data.get());
  const int site = mj_name2id(f.model.get(), mjOBJ_SITE, "wooden_cabinet_1_top_region");
  REQUIRE(site >= 0);
  const double* centre = f.data->site_xpos + 3 * site;
  f.place("akita_black_bowl_1", centre[0], centre[1], centre[2]);
  mj_forward(f.model.get(), f.data.get());
  CHECK(f.holds("(In akita_black_bowl_1 wooden_cabinet_1_top_region)"));
  CHECK_FALSE(f.holds("(In akita_black_bowl_1 wooden_cabinet_1_bottom_region)"));
}

TEST_CASE("predicates: Open and Close follow the drawer slide thresholds") {
  Fixture f;
  f.set_joint("wooden_cabinet_1_middle_drawer_joint", 0.005);
  mj_forward(f.model.get(), f.data.get());
  CHECK(f.holds("(Close wooden_cabinet_1_middle_region)"));
  CHECK_FALSE(f.holds("(Open wooden_cabinet_1_middle_region)"));
  f.set_joint("wooden_cabinet_1_middle_drawer_joint", -0.10);
  mj_forward(f.model.get(), f.data.get());
  CHECK_FALSE(f.holds("(Close wooden_cabinet_1_middle_region)"));
  CHECK_FALSE(f.holds("(Open wooden_cabinet_1_middle_region)"));
  f.set_joint("wooden_cabinet_1_middle_drawer_joint", -0.15);
  mj_forward(f.model.get(), f.data.get());
  CHECK(f.holds("(Open wooden_cabinet_1_middle_region)"));
  // Another drawer's state does not leak.
  CHECK_FALSE(f.holds("(Open wooden_cabinet_1_top_region)"));
}

TEST_CASE("predicates: TurnOn and TurnOff follow the stove knob") {
  Fixture f;
  mj_forward(f.model.get(), f.data.get());
  CHECK_FALSE(f.holds("(TurnOn flat_stove_1)"));
  CHECK_FALSE(f.holds("(TurnOff flat_stove_1)"));  // 0 is neither
  f.set_joint("flat_stove_1_knob_joint", 0.5);
  CHECK(f.holds("(TurnOn flat_stove_1)"));
  f.set_joint("flat_stove_1_knob_joint", -0.1);
  CHECK(f.holds("(TurnOff flat_stove_1)"));
  CHECK_FALSE(f.holds("(TurnOn flat_stove_1)"));
}

TEST_CASE("predicates: Up, And, Or, Not") {
  Fixture f;
  f.settle();
  CHECK_FALSE(f.holds("(Up akita_black_bowl_1)"));
  f.place("akita_black_bowl_1", -0.05, 0.0, 1.05);
  mj_forward(f.model.get(), f.data.get());
  CHECK(f.holds("(Up akita_black_bowl_1)"));
  CHECK(f.holds("(And (Up akita_black_bowl_1) (Not (Up plate_1)))"));
  CHECK_FALSE(f.holds("(And (Up akita_black_bowl_1) (Up plate_1))"));
  CHECK(f.holds("(Or (Up plate_1) (Up akita_black_bowl_1))"));
  CHECK_FALSE(f.holds("(Or (Up plate_1) (TurnOn flat_stove_1))"));
}

TEST_CASE("predicates: names the simulator cannot resolve are refused with file and line") {
  Fixture f;
  CHECK_THROWS_WITH_AS(f.holds("(TurnOn plate_1)"), doctest::Contains("goal.bddl:"), std::runtime_error);
  CHECK_THROWS_WITH_AS(f.holds("(Open wooden_cabinet_1_top_side)"),
                       doctest::Contains("cannot be opened"), std::runtime_error);
}
