#!/usr/bin/env bash
# Data-parallel faults, end to end under mpirun (scripts/test.sh's MPI stage runs this):
#   kill   mpirun -np 2 train_mnist on synthetic data; rank 1 is killed with SIGKILL mid-epoch 2: the whole
#          job must end within 10 s with mpirun's message naming the killed rank, and the checkpoint of
#          epoch 1 must be intact and resumable (a 1-process run resumes from it).
#   term   SIGTERM to rank 1 alone, and   usr1   SIGUSR1 to mpirun (which forwards it to every rank; it keeps
#          SIGINT and SIGTERM for itself and kills the job): every rank stops after the same step, rank 0 saves
#          the checkpoint of that step and the report (which names the signal), mpirun exits with 128 + the
#          signal's number, and one process resumes from that very step.
#   nan    nan_on_one_rank: one rank's loss turns NaN while the others wait in an allreduce: the job must
#          end within 10 s, non-zero, with that rank's message.
# Usage: scripts/mpi_faults.sh BUILD_DIR. Prints "mpi fault <name>: passed|FAILED (...)" per test, the
# programs' output before it; exits non-zero if any failed. Writes only under BUILD_DIR/mpi-faults/.
set -uo pipefail
cd "$(dirname "$0")/.."
build=$(cd "$1" && pwd)
work=$build/mpi-faults
rm -rf "$work" && mkdir -p "$work"
mpirun_flags=(--oversubscribe)
[ "$(id -u)" -ne 0 ] || mpirun_flags+=(--allow-run-as-root)
export OMP_NUM_THREADS=1
failed=0

verdict() {  # name, ok (0/1), detail
  if [ "$2" -eq 0 ]; then echo "mpi fault $1: passed ($3)"; else echo "mpi fault $1: FAILED ($3)"; failed=1; fi
}

# kill: 20000 synthetic digits (a few seconds an epoch, so the kill lands inside epoch 2 on a fast machine
# too), batch 32, 3 epochs with a checkpoint after each.
"$build/make_synthetic_data" --format mnist --out "$work/data" --train 20000 --test 200 --seed 3 >/dev/null
mpirun "${mpirun_flags[@]}" -np 2 "$build/train_mnist" --data "$work/data" --epochs 3 --batch-size 32 \
  --checkpoint "$work/ckpt.json" >"$work/kill.log" 2>&1 &
job=$!
# Wait for the checkpoint of epoch 1, then a moment into epoch 2.
for _ in $(seq 600); do [ -f "$work/ckpt.json" ] && break; sleep 0.1; done
sleep 0.5
victim=""
for pid in $(pgrep -f "$build/train_mnist"); do
  if tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qx 'OMPI_COMM_WORLD_RANK=1'; then victim=$pid; fi
done
if [ -z "$victim" ] || [ ! -f "$work/ckpt.json" ]; then
  kill "$job" 2>/dev/null
  verdict kill 1 "no rank 1 to kill or no checkpoint after epoch 1 (see $work/kill.log)"
else
  start=$(date +%s.%N)
  kill -KILL "$victim"
  wait "$job"
  status=$?
  took=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
  cat "$work/kill.log"
  ok=1
  if [ "$status" -ne 0 ] && awk -v t="$took" 'BEGIN { exit !(t < 10) }' && grep -q "signal 9" "$work/kill.log"; then
    ok=0
  fi
  # The checkpoint of epoch 1 (or 2) is whole: one process resumes from it and finishes epoch 3.
  if [ "$ok" -eq 0 ]; then
    "$build/train_mnist" --data "$work/data" --epochs 3 --batch-size 32 --resume "$work/ckpt.json" \
      >"$work/resume.log" 2>&1 || ok=1
    grep "resumed from" "$work/resume.log"
  fi
  verdict kill "$ok" "rank 1 SIGKILLed; mpirun exited with status $status after ${took} s; resume at 1 rank: $(tail -1 "$work/resume.log" 2>/dev/null)"
fi

# term / usr1: one epoch of 20000 digits, the signal sent once rank 0's progress line shows training.
stop_test() {  # name, signal, target (rank1 | mpirun), expected status
  local name=$1 sig=$2 target=$3 expected=$4 dir="$work/$1" pid="" status took ok=1 step
  mkdir -p "$dir"
  mpirun "${mpirun_flags[@]}" -np 2 "$build/train_mnist" --data "$work/data" --epochs 1 --batch-size 32 \
    --checkpoint "$dir/ckpt.json" --report "$dir/report.json" >"$dir/run.log" 2>&1 &
  local job=$!
  for _ in $(seq 600); do grep -q "epoch 1/1 [0-9]" "$dir/run.log" 2>/dev/null && break; sleep 0.1; done
  if [ "$target" = mpirun ]; then
    pid=$job
  else
    for p in $(pgrep -f "$build/train_mnist"); do
      if tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx 'OMPI_COMM_WORLD_RANK=1'; then pid=$p; fi
    done
  fi
  if [ -z "$pid" ]; then
    kill "$job" 2>/dev/null
    verdict "$name" 1 "no process to signal (see $dir/run.log)"
    return
  fi
  local start
  start=$(date +%s.%N)
  kill "-$sig" "$pid"
  wait "$job"
  status=$?
  took=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
  tr '\r' '\n' <"$dir/run.log" | grep -v "^epoch 1/1 " | head -3
  step=$(grep -oE "\"step\": *[0-9]+" "$dir/report.json" 2>/dev/null | grep -oE "[0-9]+$" | tail -1)
  if [ "$status" -eq "$expected" ] && [ -n "$step" ] && grep -q "\"signal\": *\"SIG$sig\"" "$dir/report.json" &&
     "$build/train_mnist" --data "$work/data" --epochs 1 --batch-size 32 --resume "$dir/ckpt.json" \
       >"$dir/resume.log" 2>&1 && grep -q "resumed from .* after step $step of epoch 1" "$dir/resume.log"; then
    ok=0
  fi
  verdict "$name" "$ok" "SIG$sig to $target; mpirun exited with status $status after ${took} s, the job stopped after step ${step:-?}; resume at 1 rank: $(grep "resumed from" "$dir/resume.log" 2>/dev/null)"
}
stop_test term TERM rank1 143
stop_test usr1 USR1 mpirun 138

# nan: the fault program at 2 ranks.
start=$(date +%s.%N)
timeout 60 mpirun "${mpirun_flags[@]}" -np 2 "$build/tests/mpi/nan_on_one_rank" >"$work/nan.log" 2>&1
status=$?
took=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
cat "$work/nan.log"
ok=1
if [ "$status" -ne 0 ] && [ "$status" -ne 124 ] && awk -v t="$took" 'BEGIN { exit !(t < 10) }' &&
   grep -q "rank 1 of 2): training stopped: the loss is NaN" "$work/nan.log"; then ok=0; fi
verdict nan "$ok" "NaN loss on rank 1 of 2; mpirun exited with status $status after ${took} s"
exit $failed
