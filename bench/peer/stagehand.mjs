// Stagehand 3 side of the peer benchmark: one Stagehand (env LOCAL, this
// machine's Chromium, model client pointed at servers.mjs) per settle mode;
// each page's act() calls are timed one by one, N times after a warm-up.
// Usage: node stagehand.mjs --pages URL --llm URL/v1 [--reps 20] [--warmup 2]
//        [--modes default,nosettle] [--out file.json]
// Writes {"tool": "stagehand", "runs": [...]} (per act and per page) to
// --out; the prompt-token counts are added later by tokens.mjs from the
// model server's records.
import fs from "node:fs";
import { Stagehand } from "@browserbasehq/stagehand";
import { Launcher } from "chrome-launcher";
import { scenarios } from "./scenarios.mjs";
import { chromiumPath, chromiumFlags, disableFeatures, dropProxyEnv, freshProfile, rmProfile,
  stats, parseArgs, requireArgs, reap, waitForUrl } from "./common.mjs";

const args = parseArgs(process.argv.slice(2));
requireArgs(args, ["pages", "llm"], "stagehand.mjs");
const reps = Number(args.reps ?? 20);
const warmup = Number(args.warmup ?? 2);
const modes = (args.modes ?? "default,nosettle").split(",");
dropProxyEnv();

// chrome-launcher's and Stagehand's own --disable-features lists (Stagehand
// adds SitePerProcess; its flag list is not exported), merged with ours.
const theirFeatures = [];
for (const f of Launcher.defaultFlags())
  if (f.startsWith("--disable-features=")) theirFeatures.push(...f.slice(19).split(","));
theirFeatures.push("SitePerProcess");

const modeOpts = {
  // Stagehand's default: no domSettleTimeout, i.e. waitForDomNetworkQuiet
  // with its 5 s budget; it returns after 500 ms without network requests.
  default: {},
  // Settle disabled: a budget of 0 makes waitForDomNetworkQuiet return at once.
  nosettle: { domSettleTimeout: 0 },
};

let liveChrome = 0;
const cleanup = () => {
  if (liveChrome) {
    try {
      process.kill(-liveChrome, "SIGKILL");
    } catch { /* gone */ }
  }
};
process.on("exit", cleanup);
for (const sig of ["SIGINT", "SIGTERM"])
  process.on(sig, () => {
    cleanup();
    process.exit(130);
  });

async function runMode(mode) {
  const profile = freshProfile(`stagehand-${mode}`);
  const sh = new Stagehand({
    env: "LOCAL",
    verbose: 0,
    disablePino: true,
    model: { modelName: "openai/gpt-4.1-mini", apiKey: "sk-local-bench", baseURL: args.llm },
    localBrowserLaunchOptions: {
      executablePath: chromiumPath(),
      headless: true,
      userDataDir: profile,
      args: [...chromiumFlags, disableFeatures(theirFeatures)],
    },
    ...modeOpts[mode],
  });
  const out = [];
  const timeline = [];
  let pid = 0;
  try {
    await sh.init();
    pid = sh.state?.chrome?.pid ?? sh.state?.chrome?.process?.pid ?? 0;
    liveChrome = pid;
    const page = sh.context.pages()[0];
    for (const sc of scenarios) {
      const perAct = sc.steps.map(() => []);
      const perPage = [];
      let failures = 0, notDone = 0;
      for (let r = 0; r < warmup + reps; r++) {
        await page.goto(args.pages + sc.path, { waitUntil: "load" });
        let sum = 0, ok = true;
        for (let i = 0; i < sc.steps.length; i++) {
          const t0 = performance.now();
          const res = await sh.act(sc.steps[i].instruction);
          const t1 = performance.now();
          const dt = t1 - t0;
          timeline.push({ page: sc.page, step: i, rep: r, warmup: r < warmup,
            t0: performance.timeOrigin + t0, t1: performance.timeOrigin + t1 });
          if (!res.success) {
            ok = false;
            failures++;
            if (failures <= 3)
              process.stderr.write(`stagehand ${mode} ${sc.page}: act failed: ${res.message}\n`);
          }
          sum += dt;
          if (r >= warmup) perAct[i].push(dt);
        }
        // Not timed: the actions must really have happened.
        if (!(await waitForUrl(() => page.url(), sc.done.urlIncludes))) {
          ok = false;
          notDone++;
        }
        if (r >= warmup && ok) perPage.push(sum);
      }
      const acts = perAct.flat();
      out.push({ page: sc.page, tool: "stagehand", mode, unit: "act",
        acts_per_page: sc.steps.length, failures, not_done: notDone, ...stats(acts),
        per_step: sc.steps.map((st, i) => ({ instruction: st.instruction, ...stats(perAct[i]) })) });
      out.push({ page: sc.page, tool: "stagehand", mode, unit: "page",
        acts_per_page: sc.steps.length, failures, not_done: notDone, ...stats(perPage) });
      process.stderr.write(`stagehand ${mode} ${sc.page}: median act ` +
        `${stats(acts).median_ms} ms, ${failures} failed acts, ${notDone} pages not done\n`);
    }
    const m = await sh.metrics;
    out.push({ tool: "stagehand", mode, unit: "timeline", acts: timeline });
    out.push({ tool: "stagehand", mode, unit: "metrics",
      acts: timeline.length,
      act_prompt_tokens_reported: m.actPromptTokens ?? null,
      act_inference_time_ms_reported: m.actInferenceTimeMs ?? null });
  } finally {
    await sh.close().catch(() => {});
    await reap(pid);
    liveChrome = 0;
    rmProfile(profile);
  }
  return out;
}

const runs = [];
for (const mode of modes) runs.push(...(await runMode(mode)));
const result = { tool: "stagehand", version: JSON.parse(fs.readFileSync(
  new URL("./node_modules/@browserbasehq/stagehand/package.json", import.meta.url))).version,
  reps, warmup, runs };
if (args.out) fs.writeFileSync(args.out, JSON.stringify(result, null, 2) + "\n");
else process.stdout.write(JSON.stringify(result, null, 2) + "\n");
