#!/usr/bin/env bash
# README's second command: install what is missing, build, and run the whole test suite through CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$(nproc)"
# Tests run one at a time with 2 OpenMP threads: they check numbers, not speed.
OMP_NUM_THREADS=2 ctest --test-dir build --output-on-failure -j1
