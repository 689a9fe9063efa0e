#!/bin/sh
# Store throughput: runs created/s, status transitions/s and reads/s on a
# fresh SQLite file, single-threaded and with 4 threads.
# Usage: bench/store.sh [runs-per-thread] [threads]   (BUILD=dir to pick
# the build tree; default build, configured RelWithDebInfo if missing)
set -eu
cd "$(dirname "$0")/.."
build=${BUILD:-build}
if [ ! -x "$build/bench/bench_store" ]; then
  [ -f "$build/CMakeCache.txt" ] ||
    cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build" -j 2 --target bench_store >/dev/null
fi
exec "$build/bench/bench_store" "${1:-5000}" "${2:-4}"
