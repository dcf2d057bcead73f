#!/usr/bin/env bash
# What `#include <xgrad/xgrad.hpp>` costs a user's compile: the median of 5 compiles of a file holding only
# that include, against the median of 5 of a file including <iostream>, <vector>, <functional> and <memory>,
# with the same flags (g++ -std=c++20 -O2 -fopenmp -c). Prints both medians, the ratio and the preprocessed
# line counts; exits 1 if the ratio is above the target, 1.5.
#   bash scripts/include_cost.sh [include-dir]     (default build/include, the build tree's <xgrad/...>)
# Timings are only meaningful on a quiet machine.
set -euo pipefail
cd "$(dirname "$0")/.."
include=${1:-build/include}
[ -f "$include/xgrad/xgrad.hpp" ] || { echo "no $include/xgrad/xgrad.hpp: build (or install) first" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '#include <xgrad/xgrad.hpp>\n' >"$work/xgrad.cpp"
printf '#include <iostream>\n#include <vector>\n#include <functional>\n#include <memory>\n' >"$work/std.cpp"
flags=(-std=c++20 -O2 -fopenmp -c)

# Median wall time in seconds of 5 compiles of $1.
median() {
  local times=() t0 t1
  for _ in 1 2 3 4 5; do
    t0=$(date +%s.%N)
    g++ "${flags[@]}" -I"$include" "$1" -o "$work/out.o"
    t1=$(date +%s.%N)
    times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')")
  done
  printf '%s\n' "${times[@]}" | sort -g | sed -n 3p
}

lines() { g++ -std=c++20 -fopenmp -E -I"$include" "$1" | wc -l; }

x=$(median "$work/xgrad.cpp")
s=$(median "$work/std.cpp")
ratio=$(awk -v x="$x" -v s="$s" 'BEGIN { print x / s }')
printf 'xgrad.hpp: %.3f s (%d preprocessed lines)\n' "$x" "$(lines "$work/xgrad.cpp")"
printf 'iostream + vector + functional + memory: %.3f s (%d preprocessed lines)\n' "$s" "$(lines "$work/std.cpp")"
printf 'ratio: %.2f (target <= 1.5; g++ %s, median of 5)\n' "$ratio" "$(g++ -dumpversion)"
awk -v r="$ratio" 'BEGIN { exit !(r <= 1.5) }'
