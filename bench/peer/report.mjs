// Merges the runners' results and the token counts into one JSON file and
// prints the table of the peer benchmark.
// Usage: node report.mjs --out peer.json --playwright pw.json
//          --stagehand default=sh-default.json,nosettle=sh-nosettle.json
//          --records default=rec-default.json,nosettle=rec-nosettle.json
//          [--skyengine default=sky.json,noshot=sky-noshot.json
//           --sky-records default=rec-sky.json,noshot=rec-sky-noshot.json]
// rows[]: {page, tool, mode, unit ("act" | "page"), n, median_ms, p90_ms,
// prompt_tokens (median per act, or the sum over a page's acts), ...}.
// Another tool (skyengine) can be added as more rows of the same shape.
import fs from "node:fs";
import os from "node:os";
import { countRequest, tokenReport } from "./tokens.mjs";
import { parseArgs, percentile } from "./common.mjs";

const args = parseArgs(process.argv.slice(2));
const pairs = (s) => Object.fromEntries((s ?? "").split(",").filter(Boolean)
  .map((kv) => kv.split("=")));
const readJson = (f) => JSON.parse(fs.readFileSync(f, "utf8"));

// Splits each timed act() at its model call(s): the time before the first
// request reached the model server (settle, snapshot, prompt), and the time
// after the last answer left it (answer parsing, the action itself).
function splitActs(timeline, records) {
  const byPage = {};
  for (const a of timeline) {
    if (a.warmup) continue;
    const calls = records.filter((x) => x.t_in >= a.t0 && x.t_in <= a.t1);
    const p = (byPage[a.page] ??= { pre: [], post: [], calls: [] });
    p.calls.push(calls.length);
    if (!calls.length) continue;
    p.pre.push(calls[0].t_in - a.t0);
    p.post.push(a.t1 - calls[calls.length - 1].t_out);
  }
  const out = {};
  const r1 = (v) => (v == null ? null : Math.round(v * 10) / 10);
  for (const [page, p] of Object.entries(byPage))
    out[page] = { before_model_median_ms: r1(percentile(p.pre, 50)),
      after_model_median_ms: r1(percentile(p.post, 50)),
      model_calls_per_act: r1(p.calls.reduce((a, b) => a + b, 0) / p.calls.length) };
  return out;
}

const rows = [];
const tools = {};
const tokens = {};
const pw = args.playwright ? readJson(args.playwright) : null;
if (pw) {
  tools["playwright-core"] = pw.version;
  for (const r of pw.runs) rows.push({ ...r, prompt_tokens: null });
}
const recs = pairs(args.records);
for (const [mode, file] of Object.entries(pairs(args.stagehand))) {
  const sh = readJson(file);
  tools.stagehand = sh.version;
  tokens[mode] = recs[mode] ? tokenReport(readJson(recs[mode])) : null;
  const timeline = sh.runs.find((r) => r.unit === "timeline")?.acts ?? [];
  const split = recs[mode] ? splitActs(timeline, readJson(recs[mode])) : {};
  for (const r of sh.runs) {
    if (r.unit === "timeline") continue;
    if (r.unit === "metrics") {
      rows.push(r);
      continue;
    }
    const t = tokens[mode]?.pages.find((p) => p.page === r.page);
    rows.push({ ...r,
      prompt_tokens: t ? (r.unit === "act" ? t.prompt_tokens_per_act : t.prompt_tokens_per_page)
        : null,
      tree_tokens: t ? (r.unit === "act" ? Math.round(t.tree_tokens_per_page / r.acts_per_page)
        : t.tree_tokens_per_page) : null,
      ...(r.unit === "act" ? split[r.page] ?? {} : {}) });
  }
}

// skyengine rows (bench_agent steps): one engine step per page, the model
// call excluded from median_ms. Tokens: the extract-actions request of
// step 0 on each page (servers.mjs marks it with sky_step0), counted
// like Stagehand's.
const skyRecs = pairs(args["sky-records"]);
for (const [mode, file] of Object.entries(pairs(args.skyengine))) {
  tools.skyengine = "this tree";
  const recs = skyRecs[mode] ? readJson(skyRecs[mode]) : [];
  for (const r of readJson(file)) {
    const xs = recs.filter((x) => x.tool === "skyengine" && x.sky_step0 === r.page)
      .map((x) => countRequest(JSON.parse(x.body)).prompt);
    rows.push({ ...r, prompt_tokens: xs.length ? percentile(xs, 50) : null });
  }
}

const result = {
  what: "peer benchmark: time per act()/action and prompt tokens, language model excluded",
  date: new Date().toISOString(),
  machine: { cpus: os.cpus().length, loadavg_at_end: os.loadavg().map((x) => +x.toFixed(2)),
    node: process.version },
  chromium: args.chromium ?? null,
  tools, token_encoding: "o200k_base (js-tiktoken)", rows, tokens,
};
fs.writeFileSync(args.out, JSON.stringify(result, null, 2) + "\n");

const pad = (s, n) => String(s ?? "-").padEnd(n);
const lpad = (s, n) => String(s ?? "-").padStart(n);
const floor = (page, unit) => rows.find((r) => r.tool === "playwright-core" &&
  r.mode === "default" && r.page === page && r.unit === unit)?.median_ms;
for (const unit of ["act", "page"]) {
  console.log(unit === "act"
    ? "\nPer act() / per direct action (ms; tokens = median prompt tokens of one act)"
    : "\nPer page: all acts of the step (login 3, job 3, table 1; tokens = sum)");
  console.log(pad("page", 7) + pad("tool", 17) + pad("mode", 10) + lpad("n", 4) +
    lpad("median", 9) + lpad("p90", 9) + lpad("x floor", 9) + lpad("tokens", 9) +
    lpad("fails", 7) + (unit === "act" ? lpad("pre-LLM", 9) + lpad("post-LLM", 9) : ""));
  for (const page of ["login", "job", "table"])
    for (const r of rows.filter((x) => x.page === page && x.unit === unit)) {
      const f = floor(page, unit);
      const x = f && r.median_ms != null ? (r.median_ms / f).toFixed(1) : null;
      console.log(pad(r.page, 7) + pad(r.tool, 17) + pad(r.mode, 10) + lpad(r.n, 4) +
        lpad(r.median_ms, 9) + lpad(r.p90_ms, 9) + lpad(x, 9) + lpad(r.prompt_tokens, 9) +
        lpad(r.failures + r.not_done, 7) + (unit === "act" ?
        lpad(r.before_model_median_ms, 9) + lpad(r.after_model_median_ms, 9) : ""));
    }
}
console.log("\nx floor: median / playwright-core default median on the same page. pre-LLM:" +
  " median ms from act() start to its model request (settle, snapshot, prompt); post-LLM:" +
  " from the model's answer to act() returning (parse, action). Tokens: o200k_base," +
  " messages + response schema.");
const skyRows = rows.filter((r) => r.tool === "skyengine");
if (skyRows.length) {
  console.log("\nskyengine step vs the peers doing the same on the page (ratio = peer / skyengine;" +
    " > 1: skyengine is faster or cheaper)");
  console.log(pad("page", 7) + pad("sky mode", 10) + lpad("sky ms", 8) + lpad("SH dflt", 9) +
    lpad("ratio", 7) + lpad("SH nosettle", 12) + lpad("ratio", 7) + lpad("PW dflt", 9) +
    lpad("ratio", 7) + lpad("sky tok", 9) + lpad("SH tok", 8) + lpad("ratio", 7));
  const peer = (page, tool, mode) => rows.find((x) => x.page === page && x.tool === tool &&
    x.mode === mode && x.unit === "page") ?? rows.find((x) => x.page === page &&
    x.tool === tool && x.mode === mode && x.unit === "act");
  const ratio = (a, b) => (a != null && b ? (a / b).toFixed(1) : "-");
  for (const r of skyRows) {
    const d = peer(r.page, "stagehand", "default"), n = peer(r.page, "stagehand", "nosettle");
    const p = peer(r.page, "playwright-core", "default");
    console.log(pad(r.page, 7) + pad(r.mode, 10) + lpad(Math.round(r.median_ms), 8) +
      lpad(d?.median_ms, 9) + lpad(ratio(d?.median_ms, r.median_ms), 7) +
      lpad(n?.median_ms, 12) + lpad(ratio(n?.median_ms, r.median_ms), 7) +
      lpad(p?.median_ms, 9) + lpad(ratio(p?.median_ms, r.median_ms), 7) +
      lpad(r.prompt_tokens, 9) + lpad(d?.prompt_tokens, 8) +
      lpad(ratio(d?.prompt_tokens, r.prompt_tokens), 7));
  }
}
console.log(`\nload average at end: ${result.machine.loadavg_at_end.join(" ")} ` +
  `(${result.machine.cpus} cpus); results in ${args.out}`);
