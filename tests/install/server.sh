#!/bin/sh
# The README's "Running the server", as a user types it, with no
# SKYENGINE_PLUGIN_PATH anywhere: the server and skyctl must find their
# plugins by themselves, from the build tree or from an install prefix.
#
#   server.sh build   <build dir> <work dir>
#   server.sh install <build dir>
#
# Starts the demo site, then skyengine-server --data ./skyengine-data
# (only --port 0 and --port-file added: tests must not take port 8000),
# reads the API key it prints once, submits the README's task with curl,
# waits for the run to finish and checks that it completed with
# {"application_success": true} and that the site received the
# application. Then `skyctl run` the same task in-process.
set -eu
mode=$1; build=$2; dir=${3:-}
unset SKYENGINE_PLUGIN_PATH # CTest sets it for every test
case $mode in
build)
	server="$build/tools/skyengine-server/skyengine-server"
	skyctl="$build/tools/skyctl/skyctl"
	site="$build/tools/demo-site/skyengine-demo-site"
	rm -rf "$dir"; mkdir -p "$dir"
	work=$dir
	;;
install)
	# a prefix outside the build tree, so nothing can come from there
	dir=$(mktemp -d "${TMPDIR:-/tmp}/skyengine-prefix.XXXXXX")
	cmake --install "$build" --prefix "$dir" >/dev/null
	server="$dir/bin/skyengine-server"
	skyctl="$dir/bin/skyctl"
	site="$dir/bin/skyengine-demo-site"
	work="$dir-work"; mkdir -p "$work"
	;;
*) echo "usage: server.sh build|install BUILD DIR" >&2; exit 2 ;;
esac
cd "$work"

pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null || :; done
	if [ "$mode" = install ] && [ "${KEEP:-}" != 1 ]; then rm -rf "$dir" "$dir-work"; fi
}
trap cleanup EXIT
"$site" --port 0 --port-file site.port >>site.log 2>&1 & # appends: emptied below
pids="$pids $!"
"$server" --data ./skyengine-data --port 0 --port-file server.port \
	>server.log 2>&1 &
pids="$pids $!"
for _ in $(seq 600); do
	[ -s site.port ] && [ -s server.port ] && break
	sleep 0.1
done
sport=$(cat site.port); port=$(cat server.port)
# "prints an API key once": the line after the announcement.
KEY=$(sed -n '/generated an API key/{n;p;}' server.log | tr -d ' ')
[ -n "$KEY" ] || { echo "no API key printed:"; cat server.log; exit 1; }

curl -s http://127.0.0.1:$port/v1/run/tasks -H "x-api-key: $KEY" \
	-H 'content-type: application/json' \
	-d '{"prompt": "Apply for a job on behalf of this person: name: Chris P Bacon. email: chris@pbacon.com",
	     "url": "http://127.0.0.1:'"$sport"'/", "data_extraction_schema": {"application_success": {"type": "boolean"}}}' \
	>submit.json
RUN_ID=$(sed -n 's/^{"run_id":"\([^"]*\)".*/\1/p' submit.json)
[ -n "$RUN_ID" ] || { echo "submit failed: $(cat submit.json)"; exit 1; }
status=
for _ in $(seq 1200); do # the run's own timeouts end it well before
	curl -s http://127.0.0.1:$port/v1/runs/$RUN_ID -H "x-api-key: $KEY" \
		>run.json
	status=$(sed -n 's/^{"run_id":"[^"]*","status":"\([a-z_]*\)".*/\1/p' run.json)
	case $status in created | queued | running) sleep 0.25 ;; *) break ;; esac
done
if [ "$status" != completed ]; then
	echo "run $RUN_ID: $status"; cat run.json; echo; cat server.log; exit 1
fi
grep -q '"output":{"application_success":true}' run.json
grep -q "application received from Chris P Bacon" site.log
echo "server ($mode): $RUN_ID completed, the site received the application"

: >site.log
"$skyctl" run 'Apply for a job on behalf of this person: name: Chris P Bacon. email: chris@pbacon.com' \
	--url "http://127.0.0.1:$sport/" \
	--schema '{"application_success": {"type": "boolean"}}' \
	--data ./skyctl-data >skyctl.out 2>skyctl.err ||
	{ echo "skyctl run failed:"; cat skyctl.err; exit 1; }
[ "$(cat skyctl.out)" = '{"application_success": true}' ]
grep -q "application received from Chris P Bacon" site.log
echo "skyctl run ($mode): completed, the site received the application"
echo OK
