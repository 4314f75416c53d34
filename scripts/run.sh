#!/usr/bin/env bash
# Command 1: set up, build, and evaluate the shipped tiny Dream-VLA on three
# LIBERO-style suites (every stored initial state of every task).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
exec build/vla-harness eval --suite libero_spatial,libero_object,libero_goal \
  --policy dream-vla:models/dream-vla-tiny --seed 7 --workers "$(nproc)" \
  --out results/runs/default "$@"
