// playwright-core side of the peer benchmark, the floor of a popular driver:
// the same actions as Stagehand's act() calls, done directly by CSS
// selector (fill, fill, click) on this machine's Chromium, each call timed.
// Mode "default" is Playwright as written by a user: a click that starts a
// navigation waits until that navigation commits. Mode "nowait" passes
// noWaitAfter to the clicks, which returns once the click is dispatched, as
// Stagehand's act() does.
// Usage: node playwright.mjs --pages URL [--reps 20] [--warmup 2] [--out file.json]
import fs from "node:fs";
import { chromium } from "playwright-core";
import { scenarios } from "./scenarios.mjs";
import { chromiumPath, chromiumFlags, dropProxyEnv, stats, parseArgs, requireArgs, reap,
  waitForUrl } from "./common.mjs";

const args = parseArgs(process.argv.slice(2));
requireArgs(args, ["pages"], "playwright.mjs");
const reps = Number(args.reps ?? 20);
const warmup = Number(args.warmup ?? 2);
dropProxyEnv();

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

// Playwright's own --disable-features list already holds
// NetworkTimeServiceQuerying, so ours is not added (it would replace theirs).
// It makes a fresh temporary profile itself and removes it on close.
const browser = await chromium.launch({
  executablePath: chromiumPath(), headless: true, args: chromiumFlags,
});
let pid = 0;
const runs = [];
try {
  // The browser process is the launcher's child; find its pid through the
  // CDP SystemInfo so it can be reaped if close() fails.
  const cdp = await browser.newBrowserCDPSession();
  const info = await cdp.send("SystemInfo.getProcessInfo").catch(() => null);
  liveChrome = info?.processInfo?.find((p) => p.type === "browser")?.id ?? pid;
  await cdp.detach();
  const context = await browser.newContext({ viewport: { width: 1288, height: 711 } });
  const page = await context.newPage();
  for (const mode of ["default", "nowait"])
  for (const sc of scenarios) {
    const perAct = sc.steps.map(() => []);
    const perPage = [];
    let failures = 0, notDone = 0;
    for (let r = 0; r < warmup + reps; r++) {
      await page.goto(args.pages + sc.path, { waitUntil: "load" });
      let sum = 0, ok = true;
      for (let i = 0; i < sc.steps.length; i++) {
        const st = sc.steps[i];
        const t0 = performance.now();
        try {
          if (st.method === "fill") await page.fill(st.selector, st.args[0]);
          else if (st.method === "click")
            await page.click(st.selector, mode === "nowait" ? { noWaitAfter: true } : {});
          else throw new Error(`method ${st.method}`);
        } catch (e) {
          ok = false;
          failures++;
          if (failures <= 3) process.stderr.write(`playwright ${sc.page}: ${e.message}\n`);
        }
        const dt = performance.now() - t0;
        sum += dt;
        if (r >= warmup) perAct[i].push(dt);
      }
      if (!(await waitForUrl(() => page.url(), sc.done.urlIncludes))) {
        ok = false;
        notDone++;
      }
      if (r >= warmup && ok) perPage.push(sum);
    }
    const acts = perAct.flat();
    runs.push({ page: sc.page, tool: "playwright-core", mode, unit: "act",
      acts_per_page: sc.steps.length, failures, not_done: notDone, ...stats(acts),
      per_step: sc.steps.map((st, i) => ({ selector: st.selector, method: st.method,
        ...stats(perAct[i]) })) });
    runs.push({ page: sc.page, tool: "playwright-core", mode, unit: "page",
      acts_per_page: sc.steps.length, failures, not_done: notDone, ...stats(perPage) });
    process.stderr.write(`playwright-core ${mode} ${sc.page}: median action ${stats(acts).median_ms} ms, ` +
      `${failures} failed, ${notDone} pages not done\n`);
  }
} finally {
  await browser.close().catch(() => {});
  await reap(liveChrome);
  liveChrome = 0;
}
const result = { tool: "playwright-core", version: JSON.parse(fs.readFileSync(
  new URL("./node_modules/playwright-core/package.json", import.meta.url))).version,
  reps, warmup, runs };
if (args.out) fs.writeFileSync(args.out, JSON.stringify(result, null, 2) + "\n");
else process.stdout.write(JSON.stringify(result, null, 2) + "\n");
