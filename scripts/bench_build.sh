#!/usr/bin/env bash
# Builds the benchmarks in build-bench/ (installing Debian's libtorch-dev first unless
# XGRAD_BENCH_NO_TORCH=1): shared by scripts/bench.sh and scripts/bench_sweep.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ "${XGRAD_BENCH_NO_TORCH:-0}" != 1 ] &&
   ! dpkg-query -W -f='${Status}' libtorch-dev 2>/dev/null | grep -q "install ok installed"; then
  echo "bench: installing libtorch-dev (the reference; several hundred MB)"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends libtorch-dev
fi
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF
cmake --build build-bench -j"$(nproc)" --target xgrad_bench xgrad_bench_ops
