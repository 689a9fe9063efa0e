#!/bin/sh
# Cluster benchmark (issue 16, docs/deploy.md): runs per minute with 1, 2
# and 3 worker processes (skyengine-server --worker-only, each with its own
# data dir and browser) plus one API process (--no-execute) on one shared
# store, with the peer benchmark's zero-latency fake model and demo pages
# (bench/peer/servers.mjs, bench/pages/apply.html: the "job" scenario; the
# model answers at once, so the browser and the store are what is timed).
# Claim latency is created_at -> started_at of GET /v1/runs/{id}: in a
# burst (queue wait included) and for runs submitted one at a time to idle
# workers. Then the store's own throughput (bench/bench_store: created/s,
# transitions/s, reads/s), SQLite and, with STORE=pg, PostgreSQL beside it.
#
# Usage: BUILD=build bench/cluster.sh [runs]   (default 30 runs per burst)
#   STORE=sqlite (default): the processes share one SQLite file
#   STORE=pg: a throwaway PostgreSQL (initdb + pg_ctl in a temp dir, unix
#             socket only, stopped at the end; as user postgres when run
#             as root) with a fresh database per configuration
#   WORKERS="1 2 3"  worker process counts; THREADS=2 runs per process
#   SEQ=20 runs one at a time for the idle claim latency
#   STORE_RUNS=2000 runs per thread for bench_store
# BUILD must have bench/bench_store (-DSKY_BUILD_BENCH=ON, the default).
set -eu
cd "$(dirname "$0")"
runs=${1:-30}
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$(cd .. && pwd)/$BUILD ;; esac
STORE=${STORE:-sqlite}
WORKERS=${WORKERS:-1 2 3}
THREADS=${THREADS:-2}
SEQ=${SEQ:-20}
STORE_RUNS=${STORE_RUNS:-2000}
server=$BUILD/tools/skyengine-server/skyengine-server
bstore=$BUILD/bench/bench_store
[ -x "$server" ] || { echo "cluster.sh: no $server (BUILD=build dir)" >&2; exit 1; }
[ -x "$bstore" ] || { echo "cluster.sh: no $bstore (configure with -DSKY_BUILD_BENCH=ON)" >&2; exit 1; }
case $STORE in sqlite|pg) ;; *) echo "cluster.sh: STORE=sqlite or pg" >&2; exit 2 ;; esac
export LATENCY_MS=0
out=out
mkdir -p "$out"
tmp=$(mktemp -d)
pids=""
srv=""
pgbin=""
as=""
cleanup() {
  for p in $pids; do kill "$p" 2>/dev/null || true; done
  for p in $pids; do wait "$p" 2>/dev/null || true; done
  if [ -n "$srv" ]; then kill "$srv" 2>/dev/null || true; wait "$srv" 2>/dev/null || true; fi
  if [ -n "$pgbin" ] && [ -f "$tmp/pg/data/postmaster.pid" ]; then
    $as "$pgbin/pg_ctl" -D "$tmp/pg/data" -m immediate stop >/dev/null 2>&1 || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the throwaway PostgreSQL ---------------------------------------------
pgsock=$tmp/pg/sock
pgport=5432 # only names the socket file in $pgsock: no TCP port is opened
pg_start() {
  pgbin=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
  [ -x "$pgbin/initdb" ] || { echo "cluster.sh: no initdb (apt-get install postgresql-15)" >&2; exit 1; }
  mkdir -p "$tmp/pg/data" "$pgsock"
  if [ "$(id -u)" = 0 ]; then # initdb refuses root
    chmod 711 "$tmp"
    chown -R postgres "$tmp/pg"
    as="runuser -u postgres --"
  fi
  $as "$pgbin/initdb" -D "$tmp/pg/data" -A trust -U sky --no-sync >"$tmp/pg/initdb.log" 2>&1 ||
    { cat "$tmp/pg/initdb.log" >&2; exit 1; }
  $as "$pgbin/pg_ctl" -D "$tmp/pg/data" -l "$tmp/pg/server.log" -w \
    -o "-c listen_addresses= -k $pgsock -p $pgport" start >/dev/null ||
    { cat "$tmp/pg/server.log" >&2; exit 1; }
  echo "cluster.sh: $("$pgbin/postgres" --version), socket $pgsock (default settings: fsync on)" >&2
}
pg_url() { echo "postgresql:///$1?host=$pgsock&port=$pgport&user=sky"; }
pg_createdb() { "$pgbin/createdb" -h "$pgsock" -p $pgport -U sky "$1"; }
[ "$STORE" = pg ] && pg_start

# --- the pages and the model ------------------------------------------------
node peer/servers.mjs >"$tmp/servers.json" 2>"$tmp/servers.log" &
srv=$!
i=0
until node -e 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))' "$tmp/servers.json" 2>/dev/null; do
  i=$((i + 1))
  if [ $i -gt 100 ] || ! kill -0 "$srv" 2>/dev/null; then
    echo "cluster.sh: the page/model servers did not start" >&2; cat "$tmp/servers.log" >&2; exit 1
  fi
  sleep 0.1
done
field() { node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))[process.argv[2]])' "$tmp/servers.json" "$1"; }
pages=$(field pages)
llm=$(field llm)

export OPENAI_API_KEY=sk-bench-cluster-0123456789abcdef
export SKYENGINE_LLM=openai
key=bench-cluster-key-0123456789
printf '%s' "{\"llm\":{\"base_url\":\"$llm\",\"model\":\"gpt-4o\"},\"agent\":{\"check_goal\":0}}" >"$tmp/config.json"

# wait_for FILE PATTERN PID LOG: the file contains the pattern (bounded;
# fails with the process's log when it exits first)
wait_for() {
  i=0
  until grep -q "$2" "$1" 2>/dev/null; do
    i=$((i + 1))
    if [ $i -gt 600 ] || ! kill -0 "$3" 2>/dev/null; then
      echo "cluster.sh: a server did not start:" >&2; cat "$4" >&2; exit 1
    fi
    sleep 0.1
  done
}

echo "cluster.sh: STORE=$STORE, workers {$WORKERS} x $THREADS runs each, $runs runs per burst, $SEQ one at a time, pages $pages, model latency 0 ms, $(nproc) cores" >&2
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%s\n' "workers runs_per_min burst_claim_p50 burst_claim_p99 idle_claim_p50 idle_claim_p99 run_p50" >"$tmp/rows"
for n in $WORKERS; do
  d=$tmp/w$n
  mkdir -p "$d"
  if [ "$STORE" = pg ]; then
    pg_createdb "bench_w$n"
    store=$(pg_url "bench_w$n")
  else
    store=$d/shared.db
  fi
  pids=""
  "$server" --data "$d/api" --port 0 --port-file "$d/port" --api-key "$key" --no-execute \
    --store "$store" --config "$tmp/config.json" >"$d/api.log" 2>&1 &
  pids="$pids $!"
  wait_for "$d/port" . $! "$d/api.log"
  i=1
  while [ $i -le "$n" ]; do
    "$server" --data "$d/worker$i" --worker-only --workers "$THREADS" --api-key "$key" \
      --store "$store" --config "$tmp/config.json" >"$d/worker$i.log" 2>&1 &
    pids="$pids $!"
    wait_for "$d/worker$i.log" "no listener" $! "$d/worker$i.log"
    i=$((i + 1))
  done
  api="http://127.0.0.1:$(cat "$d/port")"
  res=$(timeout 2400 node cluster.mjs "$api" "$key" "$pages" "$runs" "$SEQ" $((n * THREADS)))
  echo "  $n worker process(es): $res" >&2
  echo "$res" | node -e '
    let s = ""; process.stdin.on("data", (c) => s += c).on("end", () => {
      const r = JSON.parse(s);
      console.log([process.argv[1], r.runs_per_min, r.burst_claim_p50_ms, r.burst_claim_p99_ms,
        r.idle_claim_p50_ms, r.idle_claim_p99_ms, r.run_ms_p50].join(" "));
    });' "$n" >>"$tmp/rows"
  for p in $pids; do kill "$p" 2>/dev/null || true; done
  for p in $pids; do wait "$p" 2>/dev/null || true; done
  pids=""
done
echo "load average after the runs: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| worker processes (x $THREADS runs) | runs/min | claim p50 / p99, burst of $runs | claim p50 / p99, one at a time ($SEQ) | run p50 (started -> finished) |"
echo "|---:|---:|---:|---:|---:|"
tail -n +2 "$tmp/rows" | while read -r w rpm b50 b99 i50 i99 r50; do
  echo "| $w | $rpm | $b50 / $b99 ms | $i50 / $i99 ms | $r50 ms |"
done
cp "$tmp/rows" "$out/cluster-$STORE.txt"

echo
if [ "$STORE" = pg ]; then
  pg_createdb bench_store
  "$bstore" "$STORE_RUNS" 4 "$(pg_url bench_store)"
else
  "$bstore" "$STORE_RUNS" 4
fi
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
