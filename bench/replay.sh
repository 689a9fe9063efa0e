#!/bin/sh
# Replay benchmark (issue 18, docs/replay.md): the same job application as
# an agent run and as a replay of the plan that run left, side by side:
# the run's own time (started_at -> finished_at), the wall time from the
# submit to the final status over the Tasks API (skyengine-server),
# model calls and tokens (counted at the fake model), with the fake
# OpenAI-compatible model of the peer benchmark (bench/peer/servers.mjs)
# answering each call after LATENCY_MS (default 1500 ms: what a user waits
# for a real model). The page is bench/pages/apply.html.
#
# Usage: BUILD=build bench/replay.sh [reps]   (default 5 pairs; each pair is
# an agent run with one person's payload, then a replay with another's).
# PROFILE=1 also prints each run's steps and where their time went.
set -eu
cd "$(dirname "$0")"
reps=${1:-5}
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$(cd .. && pwd)/$BUILD ;; esac
skyctl=$BUILD/tools/skyctl/skyctl
[ -x "$skyctl" ] || { echo "replay.sh: no $skyctl (BUILD=build dir)" >&2; exit 1; }
export LATENCY_MS=${LATENCY_MS:-1500}
out=out
mkdir -p "$out"
tmp=$(mktemp -d)
srv=""
cleanup() {
  if [ -n "$srv" ]; then kill "$srv" 2>/dev/null || true; wait "$srv" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

node peer/servers.mjs >"$tmp/servers.json" 2>"$tmp/servers.log" &
srv=$!
i=0
until node -e 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))' "$tmp/servers.json" 2>/dev/null; do
  i=$((i + 1))
  if [ $i -gt 100 ] || ! kill -0 "$srv" 2>/dev/null; then
    echo "replay.sh: the page/model servers did not start" >&2; cat "$tmp/servers.log" >&2; exit 1
  fi
  sleep 0.1
done
field() { node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))[process.argv[2]])' "$tmp/servers.json" "$1"; }
pages=$(field pages)
llm=$(field llm)
get() { node -e 'fetch(process.argv[1], {method: process.argv[2]}).then(r => r.text()).then(t => process.stdout.write(t))' "$@"; }
# Model calls and tokens (the fake model's usage: bytes / 4) since the reset.
usage() {
  get "${llm%/v1}/__records" GET | node -e '
    let s = ""; process.stdin.on("data", (c) => s += c).on("end", () => {
      const r = JSON.parse(s);
      let tok = 0;
      for (const x of r) tok += Math.ceil(Buffer.byteLength(x.body) / 4) + Math.ceil(x.answer.length / 4);
      process.stdout.write(r.length + " " + tok);
    });'
}

export OPENAI_API_KEY=sk-bench-replay-0123456789abcdef
export SKYENGINE_LLM=openai
server=$BUILD/tools/skyengine-server/skyengine-server
[ -x "$server" ] || { echo "replay.sh: no $server" >&2; exit 1; }
key=bench-replay-key-0123456789
printf '%s' "{\"llm\":{\"base_url\":\"$llm\",\"model\":\"gpt-4o\"},\"agent\":{\"check_goal\":0}}" >"$tmp/config.json"
"$server" --data "$tmp/data" --port 0 --port-file "$tmp/port" --api-key "$key" \
  --config "$tmp/config.json" >"$tmp/server.log" 2>&1 &
eng=$!
i=0
until [ -s "$tmp/port" ]; do
  i=$((i + 1)); [ $i -lt 100 ] || { echo "replay.sh: the server did not start" >&2; cat "$tmp/server.log" >&2; exit 1; }
  sleep 0.1
done
api="http://127.0.0.1:$(cat "$tmp/port")"
# Submit a run and wait for it: prints "run_ms wall_ms start_ms" (run_ms:
# the run's started_at -> finished_at; wall: submit -> seen final; start:
# started_at -> its first step, i.e. opening the browser context and the
# start URL).
run() {
  node -e '
    const [api, key, body] = process.argv.slice(1);
    const h = { "x-api-key": key, "content-type": "application/json" };
    const t0 = Date.now();
    const r = await (await fetch(api + "/v1/run/tasks", { method: "POST", headers: h, body })).json();
    for (;;) {
      const g = await (await fetch(api + "/v1/runs/" + r.run_id, { headers: h })).json();
      if (["completed", "failed", "terminated", "timed_out", "canceled"].includes(g.status)) {
        const wall = Date.now() - t0;
        if (g.status !== "completed") { console.error(g.run_id + ": " + g.status + ": " + g.failure_reason); process.exit(1); }
        const sr = g.script_run;
        if (sr && sr.ai_fallback_triggered) { console.error("the replay fell back to the agent"); process.exit(1); }
        if (process.env.PROFILE) {
          // Where the time of the run went: its steps (timings_ms) between
          // started_at and finished_at.
          const st = await (await fetch(api + "/api/v1/tasks/" + g.run_id + "/steps", { headers: h })).json();
          const t0r = Date.parse(g.started_at);
          console.error("   run " + g.run_id + " created " + g.created_at + " started +" + (t0r - Date.parse(g.created_at)) + " ms");
          for (const s of st) {
            const o = typeof s.output === "string" ? JSON.parse(s.output) : s.output;
            console.error("   step " + s.order + ": +" + (Date.parse(s.created_at) - t0r) + " .. +" +
              (Date.parse(s.modified_at) - t0r) + " ms " + JSON.stringify(o && o.timings_ms));
          }
          console.error("   finished +" + (Date.parse(g.finished_at) - t0r) + " ms");
        }
        // The time before its first step: the browser context and the
        // start URL, which agent and replay both pay.
        const st0 = await (await fetch(api + "/api/v1/tasks/" + g.run_id + "/steps", { headers: h })).json();
        const first = st0.length ? Date.parse(st0[0].created_at) - Date.parse(g.started_at) : 0;
        process.stdout.write((Date.parse(g.finished_at) - Date.parse(g.started_at)) + " " + wall + " " + first);
        break;
      }
      await new Promise((ok) => setTimeout(ok, 20));
    }' "$api" "$key" "$1"
}
body() { # cache_key payload [run_with]
  printf '{"prompt":"%s","url":"%s/apply.html","engine":"skyvern-1.0","proxy_location":"NONE","cache_key":"%s","navigation_payload":%s%s}' \
    "$goal" "$pages" "$1" "$2" "${3:+,\"run_with\":\"$3\"}"
}
goal="Apply for the job on behalf of the person in the payload (bench page: job)"
p1='{"name":"Chris P Bacon","email":"chris@pbacon.com"}'
p2='{"name":"Ada Lovelace","email":"ada@example.org"}'

echo "replay.sh: $reps pairs, model latency ${LATENCY_MS} ms, pages $pages" >&2
# Warm-up: the browser starts once, outside the numbers.
run "$(body warmup "$p1")" >/dev/null
printf '%s\n' "kind run_ms wall_ms start_ms model_calls tokens" >"$tmp/rows"
n=0
while [ $n -lt "$reps" ]; do
  n=$((n + 1))
  for kind in agent replay; do
    get "${llm%/v1}/__reset" POST >/dev/null
    if [ $kind = agent ]; then b=$(body "pair-$n" "$p1"); else b=$(body "pair-$n" "$p2" code); fi
    t=$(run "$b")
    u=$(usage)
    echo "$kind $t $u" >>"$tmp/rows"
    echo "  pair $n $kind: run/wall/start ms $t, model calls/tokens $u" >&2
  done
done
kill "$eng" 2>/dev/null || true
wait "$eng" 2>/dev/null || true
node -e '
  const rows = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").slice(1).map((l) => l.split(" "));
  const med = (a) => { a = a.slice().sort((x, y) => x - y); return a[Math.floor((a.length - 1) / 2)]; };
  const pick = (k, i) => rows.filter((r) => r[0] === k).map((r) => Number(r[i]));
  const res = {};
  const steps = (k) => rows.filter((r) => r[0] === k).map((r) => Number(r[1]) - Number(r[3]));
  for (const k of ["agent", "replay"]) res[k] = { run_ms: med(pick(k, 1)), wall_ms: med(pick(k, 2)),
    start_ms: med(pick(k, 3)), steps_ms: med(steps(k)), model_calls: med(pick(k, 4)), tokens: med(pick(k, 5)) };
  res.latency_ms = Number(process.env.LATENCY_MS); res.pairs = pick("agent", 1).length;
  res.ratio_run = +(res.replay.run_ms / res.agent.run_ms).toFixed(3);
  res.ratio_steps = +(res.replay.steps_ms / res.agent.steps_ms).toFixed(3);
  res.load = require("os").loadavg().map((x) => +x.toFixed(2));
  console.log("| | run (started -> finished) | of which before the first step | from the first step | wall (submit -> seen final) | model calls | tokens |");
  console.log("|---|---:|---:|---:|---:|---:|---:|");
  for (const k of ["agent", "replay"])
    console.log(`| ${k} | ${res[k].run_ms} ms | ${res[k].start_ms} ms | ${res[k].steps_ms} ms | ${res[k].wall_ms} ms | ${res[k].model_calls} | ${res[k].tokens} |`);
  console.log(`replay / agent run time: ${res.ratio_run}; from the first step: ${res.ratio_steps} (medians of ${res.pairs} pairs, model latency ${res.latency_ms} ms, load average ${res.load.join(" ")})`);
  require("fs").writeFileSync(process.argv[2], JSON.stringify(res, null, 1) + "\n");
' "$tmp/rows" "$out/replay.json"
