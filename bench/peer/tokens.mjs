// Prompt tokens of the model requests recorded by servers.mjs, counted
// offline with js-tiktoken's o200k_base (the encoding of gpt-4.1-mini,
// Stagehand's default model) so the fake model never waits for a tokenizer.
// Usage: node tokens.mjs records.json  -> per page and step, JSON on stdout.
// Stagehand's element ids are "<frame>-<backendNodeId>", and backendNodeIds
// grow with every page load in a renderer, so the same page costs a few
// more tokens as a session goes on: medians come with min and max.
import fs from "node:fs";
import { getEncoding } from "js-tiktoken";
import { scenarios, stepForPrompt } from "./scenarios.mjs";
import { percentile } from "./common.mjs";

const enc = getEncoding("o200k_base");
const count = (s) => enc.encode(s, "all").length;

// OpenAI's published accounting for chat messages on the gpt-4o family:
// 3 tokens per message plus 3 to prime the reply. The structured-output
// schema is counted as its JSON text: the provider bills it as input but
// does not publish how it is serialized, so that part is an estimate.
export function countRequest(body) {
  const msgs = body.input ?? body.messages ?? [];
  let messages = 3, tree = 0;
  const texts = [];
  for (const m of msgs) {
    let text = "";
    if (typeof m.content === "string") text = m.content;
    else if (Array.isArray(m.content))
      text = m.content.map((c) => (typeof c.text === "string" ? c.text : "")).join("");
    texts.push(text);
    messages += 3 + count(m.role ?? "") + count(text);
    const at = text.indexOf("Accessibility Tree: \n");
    if (at >= 0) tree += count(text.slice(at + "Accessibility Tree: \n".length));
  }
  const fmt = body.text?.format ?? body.response_format?.json_schema;
  const schema = fmt?.schema ? count(JSON.stringify(fmt.schema)) : 0;
  return { messages, schema, tree, prompt: messages + schema, text: texts.join("\n") };
}

export function tokenReport(records) {
  const byStep = new Map();
  let unmatched = 0, misses = 0;
  for (const r of records) {
    const body = JSON.parse(r.body);
    const c = countRequest(body);
    if (r.miss) misses++;
    const st = stepForPrompt(c.text);
    if (!st) {
      unmatched++;
      continue;
    }
    if (!byStep.has(st)) byStep.set(st, []);
    byStep.get(st).push({ ...c, reported: Math.ceil(Buffer.byteLength(r.body) / 4) });
  }
  const med = (xs) => percentile(xs, 50);
  const pages = [];
  for (const sc of scenarios) {
    const steps = sc.steps.map((st) => {
      const xs = byStep.get(st) ?? [];
      return {
        instruction: st.instruction, requests: xs.length,
        prompt_tokens: med(xs.map((x) => x.prompt)),
        prompt_tokens_min: xs.length ? Math.min(...xs.map((x) => x.prompt)) : null,
        prompt_tokens_max: xs.length ? Math.max(...xs.map((x) => x.prompt)) : null,
        message_tokens: med(xs.map((x) => x.messages)),
        schema_tokens: med(xs.map((x) => x.schema)),
        tree_tokens: med(xs.map((x) => x.tree)),
        server_reported_tokens: med(xs.map((x) => x.reported)),
      };
    });
    if (steps.every((s) => s.requests === 0)) continue;
    const sum = (k) => steps.reduce((a, s) => a + (s[k] ?? 0), 0);
    pages.push({ page: sc.page, encoding: "o200k_base",
      prompt_tokens_per_act: med(steps.map((s) => s.prompt_tokens)),
      prompt_tokens_per_page: sum("prompt_tokens"), tree_tokens_per_page: sum("tree_tokens"),
      steps });
  }
  return { encoding: "o200k_base", requests: records.length, unmatched, misses, pages };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const recs = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
  process.stdout.write(JSON.stringify(tokenReport(recs), null, 2) + "\n");
}
