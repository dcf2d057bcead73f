#!/usr/bin/env bash
# Builds and runs the benchmarks of bench/: training and inference of the reference MNIST network and of
# the CIFAR-style ResNet-9, xgrad beside libtorch (Debian's libtorch-dev, installed here if missing: it is
# large, so neither scripts/setup.sh nor the tests need it), then the per-op kernel timings. Reports go to
# runs/.
#   scripts/bench.sh                 # full run, ~15 minutes: both networks interleaved at 1 and 2 threads,
#                                    #   then each framework alone in its own process over an epoch
#   scripts/bench.sh --quick         # short windows and stretches, to check that it works
#   scripts/bench.sh --network mnist # one network only
#   scripts/bench.sh -- --windows 15 # anything after -- goes to the interleaved xgrad_bench runs
# The batch-size sweep (images/s and peak memory against batch size, with a picture) is
# scripts/bench_sweep.sh. Set XGRAD_BENCH_NO_TORCH=1 to skip installing libtorch.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
networks=(mnist resnet9)
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --network) shift; networks=("$1") ;;
    --) shift; extra=("$@"); break ;;
    *) echo "usage: scripts/bench.sh [--quick] [--network mnist|resnet9] [-- xgrad_bench options]" >&2; exit 2 ;;
  esac
  shift
done

bash scripts/bench_build.sh
bench=build-bench/bench/xgrad_bench
mkdir -p runs

for net in "${networks[@]}"; do
  batch=64
  windows=(--windows 9 --window-seconds 0.4)
  if [ "$net" = resnet9 ]; then batch=128; windows=(--windows 5 --window-seconds 1 --warmup-seconds 2); fi
  [ "$quick" = 1 ] && windows=(--windows 3 --window-seconds 0.2 --warmup-seconds 0.2)
  echo "== $net: training and inference, interleaved windows (runs/bench_$net.json) =="
  "$bench" --network "$net" --batch "$batch" --threads 1,2 "${windows[@]}" --report "runs/bench_$net.json" "${extra[@]}"

  # Each framework alone, in a process of its own, over an epoch (the quick run: a tenth), training with BN
  # at 2 threads; the two alternate, three times for MNIST (one epoch of ResNet-9 takes minutes: once).
  images=()
  [ "$quick" = 1 ] && images=(--images $([ "$net" = resnet9 ] && echo 512 || echo 6000))
  repeats=3
  [ "$net" = resnet9 ] && repeats=1
  echo "== $net: each framework alone over an epoch (runs/bench_${net}_standalone_*.json) =="
  frameworks=(xgrad)
  grep -q '"libtorch": true' "runs/bench_$net.json" && frameworks+=(libtorch)
  for r in $(seq 1 "$repeats"); do
    for fw in "${frameworks[@]}"; do
      "$bench" --network "$net" --batch "$batch" --threads 2 --cases train_bn --standalone "$fw" "${images[@]}" \
        --report "runs/bench_${net}_standalone_${fw}_$r.json"
    done
  done
done

echo "== per-op kernels (runs/bench_ops.json) =="
ops_windows=(--windows 7)
[ "$quick" = 1 ] && ops_windows=(--windows 3 --window-seconds 0.05)
build-bench/bench/xgrad_bench_ops --threads 1,2 "${ops_windows[@]}" --report runs/bench_ops.json
