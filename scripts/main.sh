#!/usr/bin/env bash
# README's first command: install what is missing, build, fetch the real MNIST, and train on it.
# Extra arguments go to train_mnist (e.g. --epochs 1).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$(nproc)"
bash scripts/fetch_data.sh
mkdir -p runs
./build/train_mnist --data datasets/mnist --threads "$(nproc)" --report runs/mnist_report.json \
  --checkpoint runs/mnist_checkpoint.json "$@"
