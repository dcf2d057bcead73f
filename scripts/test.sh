#!/usr/bin/env bash
# README's second command: install what is missing, then three stages, each of which can fail the run:
#   1. the Release build (build/) and every test, through CTest (labels unit, kernel, e2e); then the unit and
#      kernel tests again with XGRAD_KERNELS=reference, so the portable kernels are tested on AVX-512
#      machines too; then examples/consumer, a user's project, built and run against it each way a user
#      takes xgrad (scripts/consumer.sh); with MPI, the data-parallel tests under mpirun at 2 and 4 ranks
#      and the fault tests (scripts/mpi_faults.sh);
#   2. the same tests built by clang with AddressSanitizer and UndefinedBehaviorSanitizer (build-sanitize/):
#      a sanitizer report ends its test with a failure;
#   3. each libFuzzer harness (fuzz/) for XGRAD_FUZZ_SECONDS seconds (default 30), two at a time, in the same
#      build: a crash, hang, memory blow-up or sanitizer report fails it.
# Every stage runs even if an earlier one failed; a summary closes the output, its last line
# "N passed, N failed, N skipped" counting tests of every run and fuzzers; a test case that cannot run on
# this CPU (no AVX-512) is counted as skipped, not passed. Exit status 0 only if nothing failed.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1

jobs=$(nproc)
fuzz_seconds=${XGRAD_FUZZ_SECONDS:-30}
started=$(date +%s)
passed=0
failed=0
skipped=0
summary=()

elapsed() { echo "$(( $(date +%s) - $1 )) s"; }

# Runs CTest in build dir $1 (stage name $2, log $dir/$3.log) with the CTest arguments and then the
# environment given after "--"; adds its counts.
run_ctest() {
  local dir=$1 name=$2 log=$1/$3.log t0 args=()
  shift 3
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do args+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  t0=$(date +%s)
  env "$@" ctest --test-dir "$dir" --output-on-failure "${args[@]}" 2>&1 | tee "$log"
  # CTest closes with "100% tests passed, 0 tests failed out of 268".
  # Skipped cases count as passed there and are listed after it as "  12 - name (Skipped)".
  local line total bad skip
  line=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -1)
  if [ -z "$line" ]; then
    failed=$((failed + 1))
    summary+=("$name: CTest did not finish (see $log)")
    return
  fi
  total=$(echo "$line" | grep -oE '[0-9]+$')
  bad=$(echo "$line" | grep -oE '[0-9]+ tests? failed' | grep -oE '^[0-9]+')
  skip=$(grep -cE '^[[:space:]]*[0-9]+ - .* \(Skipped\)$' "$log")
  passed=$((passed + total - bad - skip))
  failed=$((failed + bad))
  skipped=$((skipped + skip))
  summary+=("$name: $((total - bad - skip)) passed, $bad failed, $skip skipped ($(elapsed "$t0"))")
}

# 1. Release. Tests run with 2 OpenMP threads: they check numbers, not speed.
t0=$(date +%s)
if cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build -j"$jobs"; then
  summary+=("release build: $(elapsed "$t0")")
  for label in unit kernel e2e; do
    # unit and kernel cases are small and independent: two at a time; e2e cases run whole trainers, one
    # at a time.
    run_ctest build "release tests, $label" "ctest-$label" "-j$([ "$label" = e2e ] && echo 1 || echo 2)" \
      -L "^$label\$" -- OMP_NUM_THREADS=2 OMP_WAIT_POLICY=passive
  done
  # 1a. The portable kernels on this machine too (on a CPU without AVX-512 they are what ran above).
  run_ctest build "reference kernels (XGRAD_KERNELS=reference), unit + kernel" ctest-reference \
    -j2 -L "^(unit|kernel)\$" -- OMP_NUM_THREADS=2 OMP_WAIT_POLICY=passive XGRAD_KERNELS=reference
  # 1b. A user's project (examples/consumer) built on this build every way a user can take xgrad. The
  #     FetchContent way is add_subdirectory of a clone: on CI's clean clone it repeats the subdir way's
  #     library build (~75 s) and proves nothing more, so it runs on request (scripts/consumer.sh build fetch).
  t0=$(date +%s)
  bash scripts/consumer.sh build install pkg-config subdir deb | tee build/consumer.log
  while IFS= read -r line; do
    case "$line" in
      "consumer "*": passed") passed=$((passed + 1)); summary+=("$line") ;;
      "consumer "*": FAILED"*) failed=$((failed + 1)); summary+=("$line") ;;
      "consumer "*": skipped"*) summary+=("$line") ;;
    esac
  done <build/consumer.log
  summary+=("consumer builds: $(elapsed "$t0")")
else
  failed=$((failed + 1))
  summary+=("release build: FAILED")
fi

# 1c. Data-parallel (XGRAD_MPI builds only): tests/mpi/ under mpirun at 2 and 4 ranks, one OpenMP thread
#     each, then the fault tests (scripts/mpi_faults.sh). Catch's closing line gives the counts.
if [ -x build/tests/mpi/xgrad_mpi_tests ]; then
  mpirun_flags=(--oversubscribe)
  [ "$(id -u)" -ne 0 ] || mpirun_flags+=(--allow-run-as-root)
  for np in 2 4; do
    t0=$(date +%s)
    OMP_NUM_THREADS=1 timeout 300 mpirun "${mpirun_flags[@]}" -np "$np" build/tests/mpi/xgrad_mpi_tests --use-colour no 2>&1 |
      tee "build/mpi-tests-$np.log"
    # "All tests passed (N assertions in M test cases)" or "test cases: M | P passed | F failed".
    line=$(grep -E '^(All tests passed|test cases:)' "build/mpi-tests-$np.log" | tail -1)
    if [[ $line =~ in\ ([0-9]+)\ test\ case ]]; then
      mpi_ok=${BASH_REMATCH[1]} mpi_bad=0
    elif [[ $line =~ \|\ ([0-9]+)\ passed\ \|\ ([0-9]+)\ failed ]]; then
      mpi_ok=${BASH_REMATCH[1]} mpi_bad=${BASH_REMATCH[2]}
    else
      mpi_ok=0 mpi_bad=1
    fi
    passed=$((passed + mpi_ok))
    failed=$((failed + mpi_bad))
    summary+=("mpi tests at $np ranks: $mpi_ok passed, $mpi_bad failed ($(elapsed "$t0"))")
  done
  # The study's data-parallel preset at 4 ranks (a small budget): nine runs, BN per rank, SyncBatchNorm and
  # no BN at 2, 4 and 8 images per rank, written by rank 0 alone.
  t0=$(date +%s)
  study=build/mpi-study
  rm -rf "$study" && mkdir -p "$study"
  build/make_synthetic_data --format mnist --out "$study/data" --train 2000 --test 100 --seed 5 >/dev/null
  OMP_NUM_THREADS=1 timeout 300 mpirun "${mpirun_flags[@]}" -np 4 build/bn_vs_no_bn --preset data-parallel \
    --data "$study/data" --images 800 --eval-every-images 400 --eval-images 100 --out "$study/out" >"$study/log" 2>&1
  status=$?
  runs=$(grep -cE '^(batch|sync|none) sgd' "$study/out/data-parallel_summary.csv" 2>/dev/null)
  if [ "$status" -eq 0 ] && [ "${runs:-0}" -eq 9 ]; then
    passed=$((passed + 1))
    summary+=("mpi study (bn_vs_no_bn --preset data-parallel, 4 ranks): passed, 9 runs ($(elapsed "$t0"))")
  else
    failed=$((failed + 1))
    summary+=("mpi study (bn_vs_no_bn --preset data-parallel, 4 ranks): FAILED (status $status, ${runs:-0} runs; see $study/log)")
  fi
  bash scripts/mpi_faults.sh build | tee build/mpi-faults.log
  while IFS= read -r line; do
    case "$line" in
      "mpi fault "*": passed"*) passed=$((passed + 1)); summary+=("$line") ;;
      "mpi fault "*": FAILED"*) failed=$((failed + 1)); summary+=("$line") ;;
    esac
  done <build/mpi-faults.log
fi

# 2 and 3. One clang build serves both: the library carries libFuzzer's coverage instrumentation, which
# changes no result. Line tables make the sanitizers' reports name files and lines; -ffp-contract=off
# keeps clang from fusing a * b + c into an FMA where GCC (in ISO C++ mode) does not, so both builds
# compute the same bits.
t0=$(date +%s)
if cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=clang++ \
      "-DCMAKE_CXX_FLAGS=-gline-tables-only -ffp-contract=off" -DXGRAD_SANITIZE=ON -DXGRAD_FUZZ=ON &&
   cmake --build build-sanitize -j"$jobs" --target xgrad_tests fuzz_idx fuzz_cifar10 fuzz_checkpoint fuzz_cli; then
  summary+=("sanitizer build (clang, ASan + UBSan): $(elapsed "$t0")")
  # Two tests at a time: under the sanitizers much of a test's time is single-threaded bookkeeping, so a
  # second test fills the other core (each test case is its own process with its own temporary folder);
  # OpenMP threads wait passively so that four threads on two cores do not spin against each other.
  run_ctest build-sanitize "sanitizer tests (ASan + UBSan)" ctest -j2 -- OMP_NUM_THREADS=2 OMP_WAIT_POLICY=passive \
    ASAN_OPTIONS=detect_leaks=1:check_initialization_order=1:strict_init_order=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  t0=$(date +%s)
  fuzz_log=build-sanitize/fuzz-summary.log
  bash fuzz/run.sh build-sanitize "$fuzz_seconds" | tee "$fuzz_log"
  while IFS= read -r line; do
    case "$line" in
      fuzz_*": "*"no findings") passed=$((passed + 1)); summary+=("$line") ;;
      fuzz_*": FAILED"*) failed=$((failed + 1)); summary+=("$line") ;;
    esac
  done <"$fuzz_log"
  [ "$(grep -cE '^fuzz_[a-z0-9]+: ' "$fuzz_log")" -eq 4 ] || { failed=$((failed + 1)); summary+=("fuzzers: not all ran"); }
else
  failed=$((failed + 1))
  summary+=("sanitizer build: FAILED")
fi

echo
echo "== scripts/test.sh summary ($(elapsed "$started") in all) =="
printf '%s\n' "${summary[@]}"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
