#!/usr/bin/env bash
# Data-parallel scaling of train_mnist on this machine (for the lead to run when the machine is quiet:
# numbers taken while others compile mean nothing). One epoch of 8192 synthetic digits at global batch 256,
# plain BN, for each configuration:
#   1 rank x 1 thread, 1 rank x 2 threads, 2 ranks x 1 thread, 4 ranks x 1 thread (shared memory, vader),
#   2 ranks x 1 thread over Open MPI's TCP transport (--mca btl self,tcp on the loopback device: a network
#   stack in the path, not a wire).
# Prints a table: images/s (all ranks, over the slowest rank's time) and the gradients' allreduce time per
# step (rank 0's, waiting included), from the trainer's report. Usage: scripts/mpi_scaling.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=$(cd "${1:-build}" && pwd)
work=$build/mpi-scaling
rm -rf "$work" && mkdir -p "$work"
mpirun_flags=(--oversubscribe --bind-to none)
[ "$(id -u)" -ne 0 ] || mpirun_flags+=(--allow-run-as-root)
"$build/make_synthetic_data" --format mnist --out "$work/data" --train 8192 --test 256 --seed 1 >/dev/null
train=("$build/train_mnist" --data "$work/data" --epochs 1 --batch-size 256 --schedule none)

printf '%-34s %10s %18s\n' configuration "images/s" "allreduce ms/step"
row() {  # name, report
  python3 - "$1" "$2" <<'PY'
import json, sys
r = json.load(open(sys.argv[2]))
a = r.get("allreduce_seconds_per_step")
print(f"{sys.argv[1]:<34} {r['epochs'][-1]['images_per_second']:>10.0f} {('%.2f' % (a * 1e3)) if a is not None else '-':>18}")
PY
}
OMP_NUM_THREADS=1 "${train[@]}" --threads 1 --report "$work/1x1.json" >/dev/null 2>&1 && row "1 rank x 1 thread" "$work/1x1.json"
OMP_NUM_THREADS=2 "${train[@]}" --threads 2 --report "$work/1x2.json" >/dev/null 2>&1 && row "1 rank x 2 threads" "$work/1x2.json"
for np in 2 4; do
  mpirun "${mpirun_flags[@]}" -np "$np" -x OMP_NUM_THREADS=1 "${train[@]}" --threads 1 --report "$work/${np}x1.json" \
    >/dev/null 2>&1 && row "$np ranks x 1 thread (shared memory)" "$work/${np}x1.json"
done
mpirun "${mpirun_flags[@]}" --mca btl self,tcp --mca btl_tcp_if_include lo -np 2 -x OMP_NUM_THREADS=1 \
  "${train[@]}" --threads 1 --report "$work/tcp.json" >/dev/null 2>&1 && row "2 ranks x 1 thread (TCP, loopback)" "$work/tcp.json"
