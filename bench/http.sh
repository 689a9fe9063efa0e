#!/bin/sh
# Request overhead of skyengine's HTTP client (libskyengine/net) on
# loopback, against a raw blocking-socket request measured in the same
# run: a small GET, then a 256 KiB POST (about an LLM request with a
# screenshot). Usage: bench/http.sh [build-dir] [requests]
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}
n=${2:-2000}
if [ ! -x "$build/bench/bench_http" ]; then
  cmake --build "$build" --target bench_http >/dev/null
fi
"$build/bench/bench_http" "$n" 0
echo
"$build/bench/bench_http" "$n" 262144
