#!/usr/bin/env bash
# Command 1: set up, build, and run the default evaluation.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
exec build/vla-harness eval --suite libero_spatial --tasks 0 --policy scripted \
  --episodes-per-task 50 --seed 7 --out results/runs/default "$@"
