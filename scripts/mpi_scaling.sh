#!/usr/bin/env bash
# Data-parallel scaling of train_mnist on this machine (for the lead to run when the machine is quiet:
# numbers taken while others compile mean nothing). One epoch of 8192 synthetic digits at global batch 256,
# plain BN, for each configuration:
#   1 rank x 1 thread, 1 rank x 2 threads, 2 ranks x 1 thread, 4 ranks x 1 thread (shared memory, vader),
#   2 ranks x 1 thread over Open MPI's TCP transport (--mca btl self,tcp on the loopback device: a network
#   stack in the path, not a wire), and the same between two network namespaces joined by a veth pair (as
#   root: two "nodes" of one machine, each rank with its own network stack; mpirun launches the second
#   through scripts/netns_agent.sh in ssh's place).
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

printf '%-42s %10s %18s\n' configuration "images/s" "allreduce ms/step"
row() {  # name, report
  python3 - "$1" "$2" <<'PY'
import json, sys
r = json.load(open(sys.argv[2]))
a = r.get("allreduce_seconds_per_step")
print(f"{sys.argv[1]:<42} {r['epochs'][-1]['images_per_second']:>10.0f} {('%.2f' % (a * 1e3)) if a is not None else '-':>18}")
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

# Two network namespaces joined by a veth pair, 10.77.0.1 and 10.77.0.2; removed on exit.
if [ "$(id -u)" -eq 0 ] && command -v ip >/dev/null; then
  cleanup() { ip netns del xgrad_node_a 2>/dev/null || true; ip netns del xgrad_node_b 2>/dev/null || true; }
  trap cleanup EXIT
  cleanup
  ip netns add xgrad_node_a && ip netns add xgrad_node_b &&
    ip link add xgrad_veth_a type veth peer name xgrad_veth_b &&
    ip link set xgrad_veth_a netns xgrad_node_a && ip link set xgrad_veth_b netns xgrad_node_b &&
    ip -n xgrad_node_a addr add 10.77.0.1/24 dev xgrad_veth_a && ip -n xgrad_node_b addr add 10.77.0.2/24 dev xgrad_veth_b &&
    for n in a b; do ip -n "xgrad_node_$n" link set "xgrad_veth_$n" up && ip -n "xgrad_node_$n" link set lo up; done &&
    ip netns exec xgrad_node_a mpirun "${mpirun_flags[@]}" --mca plm_rsh_agent "$(pwd)/scripts/netns_agent.sh" \
      --mca btl self,tcp --mca btl_tcp_if_include 10.77.0.0/24 --mca oob_tcp_if_include 10.77.0.0/24 \
      -H 10.77.0.1:1,10.77.0.2:1 -np 2 -x OMP_NUM_THREADS=1 "${train[@]}" --threads 1 --report "$work/veth.json" \
      >"$work/veth.log" 2>&1 && row "2 ranks x 1 thread (TCP, veth, 2 netns)" "$work/veth.json"
else
  echo "2 ranks over a veth pair: skipped (needs root and iproute2)"
fi
