#!/usr/bin/env bash
# Builds and runs examples/consumer (a user's project) against xgrad every way a user can take it:
#   install   cmake --install of build/ into a scratch prefix, then find_package(xgrad 0.2 CONFIG)
#   pkg-config  g++ with `pkg-config --cflags --libs xgrad` from that prefix
#   subdir    add_subdirectory of this checkout
#   fetch     FetchContent from this checkout as a git URL (its HEAD commit)
#   deb       cpack -G DEB, apt-get install ./xgrad_*.deb, find_package with no prefix, then removes it
#             (only as root, and only when no other xgrad package is installed)
# Usage: scripts/consumer.sh BUILD_DIR [WAY...] (default: all). Prints "consumer <way>: passed|FAILED" per way
# and exits non-zero if any failed. Everything it writes is under BUILD_DIR/consumer/.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build=$(cd "$1" && pwd)
shift
ways=("$@")
[ ${#ways[@]} -gt 0 ] || ways=(install pkg-config subdir fetch deb)
work=$build/consumer
rm -rf "$work" && mkdir -p "$work"
failed=0

# Configures, builds and runs the consumer in $work/$1 with the CMake arguments after it.
build_and_run() {
  local dir=$work/$1
  shift
  cmake -S "$root/examples/consumer" -B "$dir" -DCMAKE_BUILD_TYPE=Release "$@" >"$dir.log" 2>&1 &&
    cmake --build "$dir" -j"$(nproc)" >>"$dir.log" 2>&1 && "$dir/consumer"
}

install_prefix() {
  [ -d "$work/prefix" ] || cmake --install "$build" --prefix "$work/prefix" >"$work/install.log" 2>&1
}

for way in "${ways[@]}"; do
  echo "== consumer: $way"
  case "$way" in
    install) install_prefix && build_and_run install "-DCMAKE_PREFIX_PATH=$work/prefix" ;;
    pkg-config)
      install_prefix &&
        PKG_CONFIG_PATH=$work/prefix/lib/pkgconfig g++ -O2 "$root/examples/consumer/main.cpp" -o "$work/pc_consumer" \
          $(PKG_CONFIG_PATH=$work/prefix/lib/pkgconfig pkg-config --cflags --libs xgrad) && "$work/pc_consumer" ;;
    subdir) build_and_run subdir "-DXGRAD_SOURCE_DIR=$root" ;;
    fetch) build_and_run fetch "-DXGRAD_GIT_URL=file://$root" "-DXGRAD_GIT_TAG=$(git -C "$root" rev-parse HEAD)" ;;
    deb)
      if [ "$(id -u)" -ne 0 ] || dpkg-query -W xgrad >/dev/null 2>&1; then
        echo "consumer deb: skipped (needs root and no xgrad package already installed)"
        continue
      fi
      (cd "$build" && cpack -G DEB -B "$work/package" >"$work/cpack.log" 2>&1) &&
        apt-get install -y -qq "$work"/package/xgrad_*.deb >"$work/apt.log" 2>&1 &&
        build_and_run deb
      status=$?
      dpkg-query -W xgrad >/dev/null 2>&1 && apt-get remove -y -qq xgrad >>"$work/apt.log" 2>&1
      [ $status -eq 0 ] ;;
    *) echo "unknown way: $way"; false ;;
  esac
  if [ $? -eq 0 ]; then
    echo "consumer $way: passed"
  else
    echo "consumer $way: FAILED (logs in $work)"
    failed=$((failed + 1))
  fi
done
[ "$failed" -eq 0 ]
