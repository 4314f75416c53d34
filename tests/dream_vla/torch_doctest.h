// Include first in test files that use libtorch: its logging (glog) defines
// CHECK, CHECK_EQ, ... which would silently replace doctest's assertions.
#pragma once

#include <torch/torch.h>
#undef CHECK
#undef CHECK_EQ
#undef CHECK_NE
#undef CHECK_LT
#undef CHECK_LE
#undef CHECK_GT
#undef CHECK_GE
#include <doctest/doctest.h>
