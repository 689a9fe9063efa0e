#!/bin/sh
# Peer benchmark: Stagehand 3 act() (default settle and settle disabled) and
# playwright-core direct actions on the local pages of bench/pages/, with a
# zero-latency fake model; prints a table, writes bench/out/peer.json.
# Usage: bench/peer.sh [reps]   (default 20 timed repetitions per page, after
# 2 warm-ups; CHROMIUM=path to pick the browser). See bench/PEER.md.
# BUILD=dir (a RelWithDebInfo build with bench/bench_agent) adds skyengine's
# engine step on the same pages in the same run, screenshots on and off,
# and prints the ratios (bench/RESULTS.md); MODEL_MS=N adds the engine's
# step with screenshots on against a model answering after N ms.
set -eu
cd "$(dirname "$0")"
reps=${1:-20}
warmup=${WARMUP:-2}
out=out
mkdir -p "$out"

# Install the pinned peers when missing or when the lock file changed.
if [ ! -f peer/node_modules/.package-lock.json ] ||
   [ peer/package-lock.json -nt peer/node_modules/.package-lock.json ]; then
  (cd peer && npm ci --no-audit --no-fund --loglevel=error)
fi

srv=""
cleanup() {
  if [ -n "$srv" ]; then
    kill "$srv" 2>/dev/null || true
    wait "$srv" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

node peer/servers.mjs >"$out/peer-servers.json" 2>"$out/peer-servers.log" &
srv=$!
i=0
# Wait for the whole JSON line (the file can be seen half written).
until node -e 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))' \
    "$out/peer-servers.json" 2>/dev/null; do
  i=$((i + 1))
  if [ $i -gt 100 ] || ! kill -0 "$srv" 2>/dev/null; then
    echo "peer.sh: the page/model servers did not start:" >&2
    cat "$out/peer-servers.log" >&2
    exit 1
  fi
  sleep 0.1
done
field() { node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))[process.argv[2]])' "$out/peer-servers.json" "$1"; }
pages=$(field pages)
llm=$(field llm)
get() { node -e 'fetch(process.argv[1], {method: process.argv[2]}).then(r => r.text()).then(t => process.stdout.write(t))' "$@"; }
chromium=$(${CHROMIUM:-/usr/lib/chromium/chromium} --version 2>/dev/null || echo unknown)
echo "pages $pages, model $llm, $chromium, $reps reps after $warmup warm-ups" >&2

for mode in default nosettle; do
  get "${llm%/v1}/__reset" POST >/dev/null
  timeout 1200 node peer/stagehand.mjs --pages "$pages" --llm "$llm" --reps "$reps" \
    --warmup "$warmup" --modes "$mode" --out "$out/peer-stagehand-$mode.json"
  get "${llm%/v1}/__records" GET >"$out/peer-records-$mode.json"
done
timeout 600 node peer/playwright.mjs --pages "$pages" --reps "$reps" --warmup "$warmup" \
  --out "$out/peer-playwright.json"

sky=""
if [ -n "${BUILD:-}" ]; then
  ba="$BUILD/bench/bench_agent"
  [ -x "$ba" ] || ba="../$BUILD/bench/bench_agent"
  plugdir=$(cd "$(dirname "$ba")/../lib/skyengine/plugins" && pwd)
  for shot in 1 0; do
    mode=default; [ $shot -eq 1 ] || mode=noshot
    get "${llm%/v1}/__reset" POST >/dev/null
    SKYENGINE_PLUGIN_PATH="$plugdir" timeout 1200 "$ba" --pages "$pages" --llm "$llm" --reps "$reps" --warmup "$warmup" \
      --screenshots $shot --out "$out/sky-$mode.json" steps
    get "${llm%/v1}/__records" GET >"$out/sky-records-$mode.json"
  done
  # MODEL_MS=N: the engine's step once more, screenshots on, against a
  # model that answers after N ms (a second fake model server): the
  # step's screenshot is taken beside the model call, so with any real
  # model its capture is off the step's path (bench/RESULTS.md).
  if [ -n "${MODEL_MS:-}" ]; then
    LATENCY_MS=$MODEL_MS node peer/servers.mjs >"$out/peer-servers-slow.json" 2>>"$out/peer-servers.log" &
    srv2=$!
    i=0
    until node -e 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))' \
        "$out/peer-servers-slow.json" 2>/dev/null; do
      i=$((i + 1))
      [ $i -le 100 ] && kill -0 "$srv2" 2>/dev/null || { echo "peer.sh: the slow model did not start" >&2; exit 1; }
      sleep 0.1
    done
    llm2=$(node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).llm)' "$out/peer-servers-slow.json")
    echo "model answering after $MODEL_MS ms:" >&2
    SKYENGINE_PLUGIN_PATH="$plugdir" timeout 1200 "$ba" --pages "$pages" --llm "$llm2" --reps "$reps" --warmup "$warmup" \
      --screenshots 1 --out "$out/sky-model$MODEL_MS.json" steps
    kill "$srv2" 2>/dev/null || true
    wait "$srv2" 2>/dev/null || true
  fi
  sky="--skyengine default=$out/sky-default.json,noshot=$out/sky-noshot.json"
  sky="$sky --sky-records default=$out/sky-records-default.json,noshot=$out/sky-records-noshot.json"
fi

node peer/report.mjs --out "$out/peer.json" --chromium "$chromium" $sky \
  --playwright "$out/peer-playwright.json" \
  --stagehand "default=$out/peer-stagehand-default.json,nosettle=$out/peer-stagehand-nosettle.json" \
  --records "default=$out/peer-records-default.json,nosettle=$out/peer-records-nosettle.json"
