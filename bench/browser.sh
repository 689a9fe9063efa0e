#!/bin/sh
# Browser benchmark: snapshot time and size against Chromium's own
# snapshots, click/type against a bare CDP floor, PSS per context.
# Usage: bench/browser.sh [build-dir] [--memory | --no-memory | --settle | --spare | --capture]
# (--capture: only what a screenshot costs: wall and the browser's CPU per capture)
# (--spare: only what the spare context costs in memory)
# (--settle: only the settle on the late-content pages of tests/pages/browser/settle/)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
shift 2>/dev/null || true
cmake --build "$build" --target bench_browser browser-cdp -j2 >/dev/null
echo "# bench_browser on $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%MZ)"
echo "# $(/usr/lib/chromium/chromium --version 2>/dev/null)"
BENCH_PAGES="$here/pages" BENCH_SETTLE="$here/../tests/pages/browser" SKYENGINE_PLUGIN_PATH="$build/lib/skyengine/plugins" SKYENGINE_LOG=error \
	"$build/bench/bench_browser" "$@"
