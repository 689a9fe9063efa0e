#!/bin/sh
# API throughput of skyengine-server with runs parked (--no-execute, so
# the browser is not the bottleneck): wrk against GET /v1/runs/{id} and
# POST /v1/run/tasks on loopback. Prints requests/s and latency
# percentiles. Usage: bench/api.sh [build-dir] [seconds] [connections]
set -eu
build=${1:-build}
secs=${2:-10}
conns=${3:-64}
command -v wrk >/dev/null || { echo "bench/api.sh: needs wrk (apt-get install wrk)" >&2; exit 1; }
srv="$build/tools/skyengine-server/skyengine-server"
tmp=$(mktemp -d)
key=bench-key-0123456789
"$srv" --port 0 --port-file "$tmp/port" --data "$tmp/data" --no-execute \
  --api-key "$key" >"$tmp/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
port=$(cat "$tmp/port")
base="http://127.0.0.1:$port"
body='{"prompt":"Apply for a job on behalf of this person: name: Chris P Bacon. email: chris@pbacon.com","url":"https://example.com/jobs/1","data_extraction_schema":{"application_success":{"type":"boolean"}}}'
id=$(curl -s -H "x-api-key: $key" -H 'content-type: application/json' -d "$body" "$base/v1/run/tasks" |
     sed 's/.*"run_id":"\([^"]*\)".*/\1/')
cat >"$tmp/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '$body'
wrk.headers["content-type"] = "application/json"
wrk.headers["x-api-key"] = "$key"
LUA
echo "skyengine-server on $base, $conns connections, $secs s each, 2 wrk threads"
echo "== GET /v1/runs/$id"
wrk -t2 -c"$conns" -d"${secs}s" --latency -H "x-api-key: $key" "$base/v1/runs/$id" |
  grep -E "Requests/sec|Latency |50%|90%|99%|Non-2xx|errors"
echo "== POST /v1/run/tasks (each request stores a new run)"
wrk -t2 -c"$conns" -d"${secs}s" --latency -s "$tmp/post.lua" "$base/v1/run/tasks" |
  grep -E "Requests/sec|Latency |50%|90%|99%|Non-2xx|errors"
echo "== GET /api/v1/heartbeat (floor: no auth, no store)"
wrk -t2 -c"$conns" -d"${secs}s" --latency "$base/api/v1/heartbeat" |
  grep -E "Requests/sec|99%"
