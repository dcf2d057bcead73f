#!/usr/bin/env bash
# Builds and runs the benchmarks of bench/: training and inference of the reference MNIST network, xgrad
# beside libtorch (Debian's libtorch-dev, installed here if missing: it is large, so neither
# scripts/setup.sh nor the tests need it), then the per-op kernel timings. Reports go to runs/.
#   scripts/bench.sh                 # full run: 1 and 2 threads, 9 windows, ~2 minutes
#   scripts/bench.sh --quick         # 3 short windows, to check that it works
#   scripts/bench.sh -- --windows 15 # anything after -- goes to xgrad_bench
# Set XGRAD_BENCH_NO_TORCH=1 to skip installing libtorch (the benchmark then says it was absent).
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "usage: scripts/bench.sh [--quick] [-- xgrad_bench options]" >&2; exit 2 ;;
  esac
  shift
done

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

build=build-bench
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF
cmake --build "$build" -j"$(nproc)" --target xgrad_bench xgrad_bench_ops

mkdir -p runs
windows=(--windows 9 --window-seconds 0.4)
[ "$quick" = 1 ] && windows=(--windows 3 --window-seconds 0.2 --warmup-seconds 0.2)
echo "== training and inference (runs/bench.json) =="
"$build/bench/xgrad_bench" --threads 1,2 "${windows[@]}" --report runs/bench.json "${extra[@]}"
echo "== per-op kernels (runs/bench_ops.json) =="
ops_windows=(--windows 7)
[ "$quick" = 1 ] && ops_windows=(--windows 3 --window-seconds 0.05)
"$build/bench/xgrad_bench_ops" --threads 1,2 "${ops_windows[@]}" --report runs/bench_ops.json
