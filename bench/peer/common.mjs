// Helpers shared by the peer runners: Chromium path and flags, statistics,
// a fresh profile directory, argument parsing and reaping a browser by pid.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export function chromiumPath() {
  for (const p of [process.env.CHROMIUM, "/usr/lib/chromium/chromium", "/usr/bin/chromium"])
    if (p && fs.existsSync(p)) return p;
  throw new Error("no Chromium found (set CHROMIUM=/path/to/chromium)");
}

// The project's headless flags (HELPER-RULES.md). Chromium honours only the
// last --disable-features, and both chrome-launcher (Stagehand) and
// Playwright put their own earlier on the command line, so this one repeats
// theirs and adds ours; it goes last.
export const chromiumFlags = [
  "--no-sandbox", "--disable-gpu", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--no-proxy-server",
];
export function disableFeatures(theirs) {
  return "--disable-features=" + [...theirs, "NetworkTimeServiceQuerying"].join(",");
}

// Chromium inherits $http_proxy (lws-cdp-notes §5): the runners clean it.
export function dropProxyEnv() {
  for (const k of Object.keys(process.env))
    if (/^(https?|all|no)_proxy$/i.test(k)) delete process.env[k];
}

export function freshProfile(tag) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `peer-${tag}-`));
}

export function rmProfile(dir) {
  try {
    fs.rmSync(dir, { recursive: true, force: true });
  } catch {
    /* best effort */
  }
}

// Nearest-rank percentile of a sample (ms).
export function percentile(xs, p) {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const k = Math.max(0, Math.ceil((p / 100) * s.length) - 1);
  return s[k];
}

export function stats(xs) {
  const r = (v) => (v == null ? null : Math.round(v * 10) / 10);
  return { n: xs.length, median_ms: r(percentile(xs, 50)), p90_ms: r(percentile(xs, 90)),
    min_ms: r(xs.length ? Math.min(...xs) : null), max_ms: r(xs.length ? Math.max(...xs) : null) };
}

export function parseArgs(argv) {
  const a = {};
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m) throw new Error(`bad argument ${argv[i]}`);
    a[m[1]] = m[2] ?? argv[++i];
  }
  return a;
}

// Exits with a usage message when a required --name is missing or not
// an http URL on 127.0.0.1 (the benchmark stays on loopback).
export function requireArgs(a, names, prog) {
  for (const n of names) {
    const v = a[n];
    if (!v || !/^http:\/\/127\.0\.0\.1:\d+(\/|$)/.test(v)) {
      process.stderr.write(`${prog}: --${n} must be an http://127.0.0.1:PORT URL` +
        ` (got ${v ?? "nothing"}); run bench/peer.sh\n`);
      process.exit(2);
    }
  }
  for (const n of ["reps", "warmup"])
    if (a[n] != null && !/^\d+$/.test(a[n])) {
      process.stderr.write(`${prog}: --${n} must be a whole number\n`);
      process.exit(2);
    }
}

export function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// Make sure a browser we launched is gone: its tool closed it already in
// the normal case; otherwise SIGKILL its process group (both launchers
// start Chromium as a group leader) and wait for the pid to disappear
// (Node reaps its own children).
export async function reap(pid) {
  if (!pid) return;
  const deadline = Date.now() + 5000;
  while (alive(pid) && Date.now() < deadline) await sleep(50);
  if (!alive(pid)) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* gone */
    }
  }
  while (alive(pid) && Date.now() < deadline + 5000) await sleep(50);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function waitForUrl(getUrl, needle, ms = 5000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const u = getUrl();
    if (u.includes(needle)) return true;
    if (Date.now() > deadline) return false;
    await sleep(10);
  }
}
