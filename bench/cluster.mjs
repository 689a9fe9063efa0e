// Driver of bench/cluster.sh: submits the peer benchmark's job application
// (bench/pages/apply.html, "(bench page: job)" for the fake model) to one
// skyengine-server API process while worker processes on the same store
// execute the runs, and measures, from the runs' own timestamps
// (GET /v1/runs/{id}):
//   burst:   `runs` runs submitted back to back; runs per minute from the
//            first created_at to the last finished_at, and created ->
//            started_at per run (claim latency including the queue wait)
//   trickle: `seq` runs one at a time with idle workers; created ->
//            started_at per run (the claim latency alone)
// Usage: node cluster.mjs API KEY PAGES RUNS SEQ WARMUP
// Prints one JSON object on stdout.
const [api, key, pages, runsArg, seqArg, warmArg] = process.argv.slice(2);
const runs = Number(runsArg), seq = Number(seqArg), warm = Number(warmArg);
const h = { "x-api-key": key, "content-type": "application/json" };
const final = ["completed", "failed", "terminated", "timed_out", "canceled"];
const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

let n = 0;
function body() {
  n++;
  return JSON.stringify({
    prompt: "Apply for the job on behalf of the person in the payload (bench page: job)",
    url: `${pages}/apply.html`,
    engine: "skyvern-1.0",
    proxy_location: "NONE",
    navigation_payload: { name: `Chris P Bacon ${n}`, email: `chris${n}@pbacon.com` },
  });
}

async function submit() {
  const r = await fetch(`${api}/v1/run/tasks`, { method: "POST", headers: h, body: body() });
  if (r.status !== 200) throw new Error(`submit: HTTP ${r.status}: ${await r.text()}`);
  return (await r.json()).run_id;
}

// Wait (bounded) until every run is final; their final JSON.
async function waitAll(ids, timeoutMs) {
  const out = new Map();
  const end = Date.now() + timeoutMs;
  while (out.size < ids.length) {
    if (Date.now() > end) throw new Error(`${ids.length - out.size} runs not final in time`);
    for (const id of ids) {
      if (out.has(id)) continue;
      const g = await (await fetch(`${api}/v1/runs/${id}`, { headers: h })).json();
      if (final.includes(g.status)) out.set(id, g);
    }
    if (out.size < ids.length) await sleep(200);
  }
  const list = ids.map((id) => out.get(id));
  const bad = list.filter((g) => g.status !== "completed");
  if (bad.length)
    throw new Error(`${bad.length} runs did not complete, e.g. ${bad[0].run_id}: ` +
      `${bad[0].status}: ${bad[0].failure_reason}`);
  return list;
}

const ms = (s) => Date.parse(s);
function pct(a, p) {
  const s = a.slice().sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}
const claims = (list) => list.map((g) => ms(g.started_at) - ms(g.created_at));

// Warm-up: every worker process launches its browser on its first run.
const w = [];
for (let i = 0; i < warm; i++) w.push(await submit());
await waitAll(w, 600000);

const burstIds = [];
for (let i = 0; i < runs; i++) burstIds.push(await submit());
const burst = await waitAll(burstIds, 1800000);
const t0 = Math.min(...burst.map((g) => ms(g.created_at)));
const t1 = Math.max(...burst.map((g) => ms(g.finished_at)));
const bc = claims(burst);

const trickle = [];
for (let i = 0; i < seq; i++) trickle.push(...(await waitAll([await submit()], 600000)));
const tc = claims(trickle);

process.stdout.write(JSON.stringify({
  runs, seq,
  runs_per_min: +((runs * 60000) / (t1 - t0)).toFixed(1),
  burst_wall_ms: t1 - t0,
  burst_claim_p50_ms: pct(bc, 50), burst_claim_p99_ms: pct(bc, 99),
  idle_claim_p50_ms: pct(tc, 50), idle_claim_p99_ms: pct(tc, 99),
  run_ms_p50: pct(trickle.map((g) => ms(g.finished_at) - ms(g.started_at)), 50),
}) + "\n");
