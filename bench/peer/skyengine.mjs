// The skyengine side of the peer benchmark's fake model: recognises the
// engine's extract-actions prompt, finds the scenario's elements in its
// element tree (compact HTML, ids unquoted: <label for=3>Username</label>
// <input id=3 ...>, <button id=9>Sign in</button>, <a id=12 ...>#10150</a>;
// in a long table's CSV lines "12:#10150" when the table's legend line
// says that column's cells are links or buttons written N:text) and
// answers with all of the step's actions in one JSON answer, or with a
// COMPLETE once the scenario's page has been left. Counts tokens of the
// engine's requests like tokens.mjs does for Stagehand's.
import { scenarios } from "./scenarios.mjs";

const MARK = "You are the planner of a browser agent.";

export function isSkyengine(text) {
  return text.includes(MARK);
}

function escapeRe(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

// The page the goal names: goals end with "(bench page: <name>)".
function scenarioOf(text) {
  const m = /\(bench page: (\w+)\)/.exec(text);
  return m ? scenarios.find((s) => s.page === m[1]) ?? m[1] : null;
}

function idFor(tree, target) {
  const name = escapeRe(target.name);
  const pats = target.role === "textbox"
    ? [new RegExp(`<label for="?([\\w.]+)"?>${name}</label>`),
       new RegExp(`<input id="?([\\w.]+)"?[^>]*label="${name}"`)]
    : target.role === "button"
    ? [new RegExp(`<button id="?([\\w.]+)"?[^>]*>${name}</button>`)]
    : [new RegExp(`<a id="?([\\w.]+)"?[^>]*>${name}</a>`)];
  // A long table: "[300 rows as CSV ... N:text is the element with id N
  // and that text: links in Order ...]", then lines "612:#10150,...".
  const kind = target.role === "button" ? "buttons" : target.role === "link" ? "links" : null;
  if (kind && new RegExp(`^\\[\\d+ rows as CSV[^\\n]* N:text is [^\\n]*\\b${kind} in `, "m").test(tree))
    pats.push(new RegExp(`(?:^|,)([\\w.]+):${name}(?=,|$)`, "m"));
  for (const re of pats) {
    const m = re.exec(tree);
    if (m) return m[1];
  }
  return null;
}

export function skyAnswer(text) {
  const sc = scenarioOf(text);
  if (sc === "idle")
    return { obj: { actions: [{ action_type: "wait", seconds: 10, reasoning: "hold" }] } };
  if (!sc || typeof sc === "string")
    return { obj: { actions: [{ action_type: "terminate", reasoning: "unknown page" }] },
      miss: "no scenario" };
  const actions = [];
  for (const st of sc.steps) {
    const id = idFor(text, st.target);
    if (!id) {
      actions.length = 0;
      break;
    }
    actions.push(st.method === "fill"
      ? { action_type: "input_text", id, text: st.args[0], reasoning: st.instruction }
      : { action_type: "click", id, reasoning: st.instruction });
  }
  if (actions.length) return { obj: { actions }, step0: sc.page };
  // The scenario's elements are gone: its form was sent.
  return { obj: { actions: [{ action_type: "complete", reasoning: "done" }] } };
}
