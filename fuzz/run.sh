#!/usr/bin/env bash
# Runs each libFuzzer harness of a fuzz build (fuzz/CMakeLists.txt) for a bounded time, starting from the
# seeds in fuzz/corpus/<name> and the kept findings in tests/data/fuzz_regressions/<name>. New corpus
# entries go to BUILD/fuzz-work (discarded), findings to BUILD/fuzz-findings. Prints one line per fuzzer
# ("fuzz_idx: 123456 runs in 60 s, no findings") and fails if any fuzzer crashed, hung, ran out of memory
# or had a sanitizer report. The fuzzers run side by side, one per core (libFuzzer is single-threaded; OpenMP
# is held to one thread). Usage: fuzz/run.sh BUILD_DIR SECONDS_EACH
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:?usage: fuzz/run.sh BUILD_DIR SECONDS_EACH}
seconds=${2:?usage: fuzz/run.sh BUILD_DIR SECONDS_EACH}

# The harnesses write each input to a file (the readers take paths): memory-backed files run 3x faster.
[ -d /dev/shm ] && [ -w /dev/shm ] && export TMPDIR=/dev/shm

names=(idx cifar10 checkpoint cli)
parallel=$(nproc)

# Runs fuzzer $1 for the given time; its libFuzzer output goes to BUILD/fuzz-$1.log.
fuzz_one() {
  local name=$1 fuzzer="$build/fuzz/fuzz_$1" work="$build/fuzz-work/$1" findings="$build/fuzz-findings/$1"
  rm -rf "$work" "$findings"
  mkdir -p "$work" "$findings"
  local seeds=(fuzz/corpus/$name)
  [ -d tests/data/fuzz_regressions/$name ] && seeds+=(tests/data/fuzz_regressions/$name)
  local options=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=512 -print_final_stats=1
                 -artifact_prefix="$findings/")
  [ -f fuzz/$name.dict ] && options+=(-dict=fuzz/$name.dict)
  # -timeout: one input taking 10 s is a hang. -malloc_limit_mb: a reader asking for 512 MB for an input of a
  # few KB is a bug. Leak checking stays on (ASan's default).
  OMP_NUM_THREADS=1 "$fuzzer" "${options[@]}" "$work" "${seeds[@]}" >"$build/fuzz-$name.log" 2>&1
  echo $? >"$build/fuzz-$name.status"
}

running=0
for name in "${names[@]}"; do
  if [ "$running" -ge "$parallel" ]; then
    wait -n
    running=$((running - 1))
  fi
  fuzz_one "$name" &
  running=$((running + 1))
done
wait

status=0
for name in "${names[@]}"; do
  log="$build/fuzz-$name.log"
  findings="$build/fuzz-findings/$name"
  code=$(cat "$build/fuzz-$name.status" 2>/dev/null || echo "missing")
  runs=$(grep -oE '^Done [0-9]+ runs in [0-9]+ second' "$log" | grep -oE '[0-9]+' | head -1)
  secs=$(grep -oE '^Done [0-9]+ runs in [0-9]+ second' "$log" | grep -oE '[0-9]+' | tail -1)
  if [ "$code" = 0 ] && [ -n "$runs" ] && [ -z "$(ls -A "$findings")" ]; then
    echo "fuzz_$name: $runs runs in $secs s, no findings"
  else
    status=1
    echo "fuzz_$name: FAILED (exit $code); the end of $log:"
    tail -n 40 "$log"
    for f in "$findings"/*; do
      [ -e "$f" ] && echo "finding $f (base64): $(base64 -w0 "$f" | head -c 2000)"
    done
  fi
done
exit $status
