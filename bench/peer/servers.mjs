// The two loopback servers of the peer benchmark, in one process apart from
// the measured one: the static pages of bench/pages/, and a zero-latency
// OpenAI-compatible model that answers Stagehand's act() requests at once
// from scenarios.mjs and records every request body.
//
// Prints one JSON line {"pages": "http://127.0.0.1:P", "llm":
// "http://127.0.0.1:Q/v1"} on stdout when both listen. Endpoints of the model:
//   POST /v1/responses         (Responses API: what Stagehand 3 uses by default)
//   POST /v1/chat/completions  (Chat Completions: openaiEndpointFormat "chat")
//   GET  /__records            every request recorded since the last reset
//   POST /__reset              forget the records
// Each record has t_in / t_out (epoch ms, sub-ms): when the request was
// fully read and when the answer was written, to split an act() into the
// time before the model call and the time after it.
// No tokenizer runs here: counting is done offline from the records so the
// model's answer is never delayed. The usage it reports is bytes/4, an
// estimate, only so that Stagehand's own metrics path is exercised.
import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { stepForPrompt, findInTree } from "./scenarios.mjs";
import { isSkyengine, skyAnswer } from "./skyengine.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const pagesDir = path.resolve(here, "..", "pages");
const types = { ".html": "text/html; charset=utf-8", ".js": "text/javascript",
  ".css": "text/css", ".json": "application/json" };

function servePage(req, res) {
  const url = new URL(req.url, "http://x");
  let p = decodeURIComponent(url.pathname);
  if (p.endsWith("/")) p += "index.html";
  const file = path.resolve(pagesDir, "." + p);
  if (!file.startsWith(pagesDir + path.sep)) {
    res.writeHead(403).end();
    return;
  }
  fs.readFile(file, (err, data) => {
    if (err) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
      return;
    }
    res.writeHead(200, {
      "content-type": types[path.extname(file)] || "application/octet-stream",
      "cache-control": "no-store",
    });
    res.end(data);
  });
}

// All text a request carries in its messages (Responses "input" or Chat
// "messages"; string contents or arrays of text parts).
function promptText(body) {
  const msgs = body.input ?? body.messages ?? [];
  const parts = [];
  for (const m of Array.isArray(msgs) ? msgs : [msgs]) {
    if (typeof m === "string") parts.push(m);
    else if (typeof m.content === "string") parts.push(m.content);
    else if (Array.isArray(m.content))
      for (const c of m.content) if (typeof c.text === "string") parts.push(c.text);
  }
  return parts.join("\n");
}

// The act answer for this prompt: the scenario's element, or a null action
// (what a model says when nothing matches) with the reason in `miss`.
function answer(text) {
  const step = stepForPrompt(text);
  if (!step) return { obj: { action: null, twoStep: false }, miss: "no step" };
  const id = findInTree(text, step.target);
  if (!id) return { obj: { action: null, twoStep: false }, miss: "no element" };
  return {
    obj: {
      action: {
        elementId: id,
        description: `${step.target.role} ${step.target.name}`,
        method: step.method,
        arguments: step.args,
      },
      twoStep: false,
    },
  };
}

const records = [];
let seq = 0;
const latencyMs = Number(process.env.LATENCY_MS ?? 0);

function llm(req, res) {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const tIn = performance.timeOrigin + performance.now();
    const raw = Buffer.concat(chunks).toString("utf8");
    const url = new URL(req.url, "http://x");
    if (req.method === "GET" && url.pathname === "/__records") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(records));
      return;
    }
    if (req.method === "POST" && url.pathname === "/__reset") {
      records.length = 0;
      res.writeHead(204).end();
      return;
    }
    const isResponses = url.pathname === "/v1/responses";
    const isChat = url.pathname === "/v1/chat/completions";
    if (req.method !== "POST" || (!isResponses && !isChat)) {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: "unknown endpoint " + url.pathname,
        type: "invalid_request_error", code: "not_found" } }));
      return;
    }
    let body;
    try {
      body = JSON.parse(raw);
    } catch {
      res.writeHead(400, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: "bad JSON", type: "invalid_request_error",
        code: "bad_json" } }));
      return;
    }
    const text = promptText(body);
    const sky = isSkyengine(text);
    const { obj, miss, step0 } = sky ? skyAnswer(text) : answer(text);
    const out = JSON.stringify(obj);
    const n = ++seq;
    const inTok = Math.ceil(Buffer.byteLength(raw) / 4);
    const outTok = Math.ceil(out.length / 4);
    const rec = { seq: n, endpoint: url.pathname, t_in: tIn, t_out: null, miss: miss ?? null,
      body: raw, answer: out, tool: sky ? "skyengine" : "stagehand", sky_step0: step0 ?? null };
    records.push(rec);
    const created = Math.floor(Date.now() / 1000);
    let reply;
    if (isResponses) {
      reply = {
        id: `resp_${n}`, object: "response", created_at: created, model: body.model,
        status: "completed",
        output: [{ type: "message", id: `msg_${n}`, role: "assistant", status: "completed",
          content: [{ type: "output_text", text: out, annotations: [] }] }],
        usage: { input_tokens: inTok, output_tokens: outTok, total_tokens: inTok + outTok,
          input_tokens_details: { cached_tokens: 0 },
          output_tokens_details: { reasoning_tokens: 0 } },
      };
    } else {
      reply = {
        id: `chatcmpl-${n}`, object: "chat.completion", created, model: body.model,
        choices: [{ index: 0, message: { role: "assistant", content: out },
          finish_reason: "stop" }],
        usage: { prompt_tokens: inTok, completion_tokens: outTok,
          total_tokens: inTok + outTok },
      };
    }
    const send = () => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(reply));
      rec.t_out = performance.timeOrigin + performance.now();
    };
    // LATENCY_MS (bench/replay.sh): a model's think time, simulated.
    if (latencyMs > 0) setTimeout(send, latencyMs);
    else send();
  });
}

const pages = http.createServer(servePage);
const model = http.createServer(llm);
const listen = (srv) => new Promise((ok, fail) => {
  srv.once("error", fail);
  srv.listen(0, "127.0.0.1", () => ok(srv.address().port));
});
const [pp, mp] = await Promise.all([listen(pages), listen(model)]);
process.stdout.write(JSON.stringify({ pages: `http://127.0.0.1:${pp}`,
  llm: `http://127.0.0.1:${mp}/v1` }) + "\n");

const stop = () => {
  pages.close();
  model.close();
  pages.closeAllConnections();
  model.closeAllConnections();
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
