// The benchmark's pages and what is done on each, shared by the fake model
// server (which element to answer with), the Stagehand runner (the act()
// instructions) and the playwright-core runner (the selectors).
//
// Each step is one act() for Stagehand and one direct call for
// playwright-core. `target` is how the fake model finds the element in
// Stagehand's accessibility-tree text: a line "[<id>] <role>: <name>".
// `done` is checked after the last step (not timed) to prove the actions
// really happened.
export const scenarios = [
  {
    page: "login",
    path: "/login.html",
    steps: [
      {
        instruction: "type 'chris' into the username field",
        target: { role: "textbox", name: "Username" },
        method: "fill", args: ["chris"],
        selector: "#username",
      },
      {
        instruction: "type 'hunter2' into the password field",
        target: { role: "textbox", name: "Password" },
        method: "fill", args: ["hunter2"],
        selector: "#password",
      },
      {
        instruction: "click the 'Sign in' button",
        target: { role: "button", name: "Sign in" },
        method: "click", args: [],
        selector: "button[type=submit]",
      },
    ],
    done: { urlIncludes: "/welcome.html?username=chris&password=hunter2" },
  },
  {
    page: "job",
    path: "/apply.html",
    steps: [
      {
        instruction: "type 'Chris P Bacon' into the full name field",
        target: { role: "textbox", name: "Full name" },
        method: "fill", args: ["Chris P Bacon"],
        selector: "#name",
      },
      {
        instruction: "type 'chris@pbacon.com' into the email field",
        target: { role: "textbox", name: "Email" },
        method: "fill", args: ["chris@pbacon.com"],
        selector: "#email",
      },
      {
        instruction: "click the 'Apply' button",
        target: { role: "button", name: "Apply" },
        method: "click", args: [],
        selector: "#application button[type=submit]",
      },
    ],
    done: { urlIncludes: "/applied.html?name=Chris+P+Bacon&email=chris%40pbacon.com" },
  },
  {
    page: "table",
    path: "/table.html",
    steps: [
      {
        instruction: "click the link of order #10150",
        target: { role: "link", name: "#10150" },
        method: "click", args: [],
        selector: "a[href='order.html?id=10150']",
      },
    ],
    done: { urlIncludes: "/order.html?id=10150" },
  },
];

// The step whose instruction appears in a prompt, or null.
export function stepForPrompt(text) {
  for (const s of scenarios)
    for (const st of s.steps)
      if (text.includes(st.instruction)) return st;
  return null;
}

function escapeRe(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

// The encoded id ("0-12") of the tree line for `target`, or null.
export function findInTree(text, target) {
  const re = new RegExp(
    "^\\s*\\[(\\d+-\\d+)\\] " + escapeRe(target.role) + ": " +
      escapeRe(target.name) + "(?: \\[|$)", "m");
  const m = re.exec(text);
  return m ? m[1] : null;
}
