#!/bin/sh
# Install the build into a scratch prefix, then build and run a small
# program against it twice: with find_package(skyengine) and with
# pkg-config; build the example plugin against the installed plugin
# headers and run a task with it. Proves the install, headers, libraries,
# package files and the plugin ABI as an outside plugin sees it.
set -eu
build=$1; prefix=$2; src=$3
rm -rf "$prefix" "$prefix-consumer"
cmake --install "$build" --prefix "$prefix" >/dev/null
libdir=$(ls -d "$prefix"/lib* | head -n1)
test -f "$prefix/include/skyengine.h"
test -f "$prefix/include/skyengine/plugin/plugin.h"
# plugins: checked once real plugins are installed (see below)

# 1. CMake package
cmake -S "$src/tests/install/consumer" -B "$prefix-consumer" \
      -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$prefix-consumer" >/dev/null
out=$(LD_LIBRARY_PATH="$libdir" "$prefix-consumer/consumer" "$prefix-consumer/data")
echo "cmake consumer: $out"
echo "$out" | grep -q "^skyengine 1\." 

# 2. pkg-config
PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --exists skyengine skyengine-plugin
cc -std=c11 -o "$prefix-consumer/consumer-pc" "$src/tests/install/consumer/consumer.c" \
   $(PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --cflags --libs skyengine)
out2=$(LD_LIBRARY_PATH="$libdir" "$prefix-consumer/consumer-pc" "$prefix-consumer/data2")
echo "pkg-config consumer: $out2"
[ "$out" = "$out2" ]
plugindir=$(PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --variable=plugindir skyengine-plugin)
test -d "$plugindir"
# 3. an out-of-tree plugin built with skyengine-plugin.pc only
PKG_CONFIG_PATH="$libdir/pkgconfig" make -s -C "$prefix-consumer" \
     -f "$src/examples/plugin-hello/Makefile" VPATH="$src/examples/plugin-hello" \
     llm-hello.so >/dev/null
nm -D --defined-only "$prefix-consumer/llm-hello.so" | grep -q " sky_plugin_load$"
nm -D --defined-only "$prefix-consumer/llm-hello.so" | grep -q " sky_plugin_abi$"
# only the two entry points are exported (hidden visibility)
[ "$(nm -D --defined-only "$prefix-consumer/llm-hello.so" | grep -c ' T ')" -eq 2 ]
# 4. examples/embed.c against the install: a real task on the installed
#    plugins (offline planner, Chromium) and the installed demo site.
cc -std=c11 -o "$prefix-consumer/embed" "$src/examples/embed.c" \
   $(PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --cflags --libs skyengine)
"$prefix/bin/skyengine-demo-site" --port 0 --port-file "$prefix-consumer/site.port" \
   >"$prefix-consumer/site.log" 2>&1 &
site=$!
trap 'kill $site 2>/dev/null; wait $site 2>/dev/null' EXIT
for _ in $(seq 100); do [ -s "$prefix-consumer/site.port" ] && break; sleep 0.1; done
port=$(cat "$prefix-consumer/site.port")
(cd "$prefix-consumer" && env -u SKYENGINE_PLUGIN_PATH LD_LIBRARY_PATH="$libdir" \
   SKYENGINE_DATA="$prefix-consumer/embed-data" ./embed \
   "Apply for a job on behalf of this person: name: Chris P Bacon. email: chris@pbacon.com" \
   "http://127.0.0.1:$port/" '{"application_success": {"type": "boolean"}}' \
   >"$prefix-consumer/embed.out")
grep -q '"application_success":true' "$prefix-consumer/embed.out"
grep -q "application received from Chris P Bacon" "$prefix-consumer/site.log"
echo "embed: completed, the site received the application"
# 5. the out-of-tree plugin of step 3, loaded by the installed library
#    and run: the engine plans with llm-hello, which reads its reason
#    from the engine's config through its host context.
(cd "$prefix-consumer" && env LD_LIBRARY_PATH="$libdir" \
   SKYENGINE_PLUGIN_PATH="$prefix-consumer" SKYENGINE_LLM=hello \
   SKYENGINE_HELLO_REASON="hello from outside the tree" \
   SKYENGINE_DATA="$prefix-consumer/hello-data" ./embed \
   "Say hello" "http://127.0.0.1:$port/" \
   >"$prefix-consumer/hello.out" 2>"$prefix-consumer/hello.err") || true
# embed prints the output on stdout and "run <id> <status> after <n>
# steps: <reason>" on stderr.
grep -q '^run tsk_[a-z0-9_]* terminated after .*hello from outside the tree' \
   "$prefix-consumer/hello.err" || {
   cat "$prefix-consumer/hello.out" "$prefix-consumer/hello.err"; exit 1; }
echo "llm-hello: loaded from outside the tree, it planned the run"
echo OK
