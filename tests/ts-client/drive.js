// Drives a skyengine-server with Skyvern's own TypeScript client, compiled
// from Skyvern's repository (not included here; see README.md).
//   node drive.js <client dir with dist/cjs> <base URL> <api key> <page URL>
// Prints one line per call: PASS or FAIL, the call, what came back.
"use strict";
const path = require("path");
const [clientDir, baseUrl, apiKey, pageUrl] = process.argv.slice(2);
const { SkyvernClient } = require(path.join(clientDir, "dist/cjs/index.js"));
const core = require(path.join(clientDir, "dist/cjs/core/index.js"));

const client = new SkyvernClient({ baseUrl, apiKey, maxRetries: 0 });
let failed = 0;

async function step(name, fn, check) {
  try {
    const v = await fn();
    const why = check ? check(v) : null;
    if (why) {
      failed++;
      console.log(`FAIL ${name}: ${why}: ${JSON.stringify(v).slice(0, 300)}`);
    } else {
      console.log(`PASS ${name}: ${JSON.stringify(v).slice(0, 160)}`);
    }
    return v;
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e.constructor.name} ${e.statusCode ?? ""} ${JSON.stringify(e.body ?? e.message).slice(0, 300)}`);
    return undefined;
  }
}

// The client has no method for the legacy /api/v1 task routes: its own
// fetcher, with the key, as its methods call it.
async function raw(method, p, body, queryParameters) {
  const r = await core.fetcher({
    url: core.url.join(baseUrl, p), method, queryParameters,
    headers: { "x-api-key": apiKey },
    contentType: body ? "application/json" : undefined,
    requestType: body ? "json" : undefined, body, maxRetries: 0,
  });
  if (!r.ok) throw Object.assign(new Error(`${method} ${p}`), { statusCode: r.error.statusCode, body: r.error.body ?? r.error });
  return r.body;
}

(async () => {
  await step("getVersion", () => client.getVersion(), (v) => (v.version ? null : "no version"));
  const run = await step("runTask v1",
    () => client.runTask({ prompt: "What is the heading?", url: pageUrl, engine: "skyvern-1.0", max_steps: 2 }),
    (v) => (v.run_id && v.status ? null : "no run_id/status"));
  const run2 = await step("runTask v2 (default engine)",
    () => client.runTask({ prompt: "What is the heading?", url: pageUrl, title: "ts client" }),
    (v) => (v.run_type === "task_v2" ? null : "not task_v2"));
  await step("getRun", () => client.getRun(run.run_id), (v) => (v.run_id === run.run_id ? null : "other run"));
  await step("getRunsV2", () => client.getRunsV2({ page: 1, page_size: 10 }),
    (v) => (Array.isArray(v) && v.some((r) => r.task_run_id === run.run_id || r.run_id === run.run_id) ? null : "run not listed"));
  await step("getRunArtifacts", () => client.getRunArtifacts(run.run_id), (v) => (Array.isArray(v) ? null : "not a list"));
  await step("getRunTimeline (v2)", () => client.getRunTimeline(run2.run_id), (v) => (Array.isArray(v) ? null : "not a list"));
  await step("cancelRun", () => client.cancelRun(run.run_id));
  await step("getRun after cancel", () => client.getRun(run.run_id), (v) => (v.status === "canceled" ? null : `status ${v.status}`));
  await step("bulkCancelRuns", () => client.bulkCancelRuns({ run_ids: [run2.run_id, "tsk_nope"] }),
    (v) => (v.cancelled?.includes(run2.run_id) ? null : "not cancelled"));
  await step("downloadFiles", () => client.downloadFiles({ navigation_goal: "Click Download report.", url: pageUrl }),
    (v) => (v.run_id ? null : "no run_id"));
  await step("uploadFile", () => client.uploadFile({ file: new Blob(["hello"], { type: "text/plain" }) }),
    (v) => (v.file_id || v.s3_uri ? null : "no file"));
  await step("sendTotpCode", () => client.sendTotpCode({ totp_identifier: "ts@example.com", content: "Your code is 123456" }),
    (v) => (v.totp_identifier ? null : "no totp_identifier"));
  await step("getBrowserSessions", () => client.getBrowserSessions(), (v) => (Array.isArray(v) ? null : "not a list"));
  await step("getRun unknown -> NotFoundError",
    () => client.getRun("tsk_nope").then(() => "no error", (e) => `${e.constructor.name} ${e.statusCode}`),
    (v) => (v === "NotFoundError 404" ? null : `got ${v}`));

  // Legacy task routes.
  const t = await step("POST /api/v1/tasks", () => raw("POST", "api/v1/tasks", { url: pageUrl, navigation_goal: "What is the heading?" }),
    (v) => (v.task_id ? null : "no task_id"));
  await step("GET /api/v1/tasks/{id}", () => raw("GET", `api/v1/tasks/${t.task_id}`), (v) => (v.task_id === t.task_id ? null : "other task"));
  await step("GET /api/v1/tasks", () => raw("GET", "api/v1/tasks", undefined, { page: "1", page_size: "10" }), (v) => (Array.isArray(v) ? null : "not a list"));
  await step("GET /api/v1/tasks/{id}/steps", () => raw("GET", `api/v1/tasks/${t.task_id}/steps`), (v) => (Array.isArray(v) ? null : "not a list"));
  await step("GET /api/v1/tasks/{id}/actions", () => raw("GET", `api/v1/tasks/${t.task_id}/actions`), (v) => (Array.isArray(v) ? null : "not a list"));
  await step("POST /api/v1/tasks/{id}/cancel", () => raw("POST", `api/v1/tasks/${t.task_id}/cancel`));
  await step("POST /api/v2/tasks", () => raw("POST", "api/v2/tasks", { user_prompt: "What is the heading?", url: pageUrl }),
    (v) => (v.task_id ? null : "no task_id"));
  console.log(failed ? `${failed} call(s) failed` : "all calls passed");
  process.exit(failed ? 1 : 0);
})();
