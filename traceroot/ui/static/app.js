// traceroot ui: the local store's sessions, conversations and traces.
//
// Everything shown comes from spans, which apps, users and models wrote: it is put on the page as
// text only (textContent, text nodes), never parsed as HTML. Links are built here from ids, all of
// them "#/..." routes of this page. The page talks to this server only (see the CSP it sends).
"use strict";

const POLL_MS = 3000;
const main = document.getElementById("main");
const state = { cursor: 0, view: null, render: null, failed: false };

// -- building elements (text only) -------------------------------------------------------------
function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = String(value);
    else if (key === "href") node.setAttribute("href", route(value));
    else if (key === "onclick") node.addEventListener("click", value);
    else if (key === "title") node.title = String(value);
    else if (key === "tabindex") node.tabIndex = Number(value);
    else if (key.startsWith("data-")) node.setAttribute(key, String(value));
    else if (key === "type" || key === "value" || key === "placeholder" || key === "name") node[key] = value;
    else throw new Error("unexpected property " + key);
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function route(path) {
  // Only this page's own routes are ever linked: a "#/" path built from encoded ids.
  if (typeof path !== "string" || !path.startsWith("#/")) throw new Error("not a route: " + path);
  return path;
}

function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

// -- formatting ---------------------------------------------------------------------------------
const dash = "—";

function when(ms) {
  if (ms === null || ms === undefined) return dash;
  const d = new Date(ms);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function duration(ms) {
  if (ms === null || ms === undefined) return dash;
  if (ms < 1) return ms.toFixed(2) + " ms";
  if (ms < 1000) return ms.toFixed(ms < 10 ? 1 : 0) + " ms";
  if (ms < 60000) return (ms / 1000).toFixed(2) + " s";
  return (ms / 60000).toFixed(1) + " min";
}

function tokens(input, output) {
  const total = (input || 0) + (output || 0);
  return total ? total.toLocaleString() : dash;
}

function cost(usd) {
  // No known price is "—", never "$0": an unknown model is not free.
  if (usd === null || usd === undefined) return dash;
  if (usd === 0) return "$0";
  const digits = usd >= 1 ? 2 : usd >= 0.01 ? 4 : 6;
  return "$" + usd.toFixed(digits);
}

function count(n) {
  return n ? n.toLocaleString() : "0";
}

// -- data ---------------------------------------------------------------------------------------
async function api(path, params) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params || {})) {
    if (value !== undefined && value !== null && value !== "") query.set(key, value);
  }
  const response = await fetch(`/api/${path}?${query}`, { headers: { Accept: "application/json" } });
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

function problem(error) {
  return el("p", { class: "problem", text: error.message || String(error) });
}

// -- routes -------------------------------------------------------------------------------------
function parseHash() {
  const hash = location.hash.replace(/^#\/?/, "");
  const [path, search] = hash.split("?");
  const parts = path.split("/").map(decodeURIComponent);
  return { name: parts[0] || "sessions", id: parts[1], params: new URLSearchParams(search || "") };
}

function link(name, id, params) {
  let path = "#/" + name + (id !== undefined ? "/" + encodeURIComponent(id) : "");
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params || {})) if (value) query.set(key, value);
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

async function show() {
  const where = parseHash();
  for (const a of document.querySelectorAll("#nav a")) {
    a.classList.toggle("active", a.dataset.view === where.name);
  }
  const views = { sessions: listView, users: listView, traces: listView, session: sessionView, trace: traceView };
  const view = views[where.name] || listView;
  state.view = where;
  state.failed = false;
  clear(main);
  try {
    await view(where);
  } catch (error) {
    clear(main).appendChild(problem(error));
    state.render = null;
    state.failed = true; // shown again once the store answers (it may not exist yet)
  }
}

// -- lists: sessions, users, traces ---------------------------------------------------------------
const FILTERS = [
  ["user", "user"],
  ["tag", "tag"],
  ["text", "text in names, inputs, outputs"],
];

const COLUMNS = {
  sessions: [
    ["session", (r) => el("a", { href: link("session", r.session_id), class: "id", text: r.session_id })],
    ["user", (r) => userCell(r.user_id)],
    ["traces", (r) => count(r.traces), "num"],
    ["first input", (r) => el("span", { class: "clip", text: r.first_input ?? dash, title: r.first_input })],
    ["last output", (r) => el("span", { class: "clip", text: r.last_output ?? dash, title: r.last_output })],
    ["tokens", (r) => tokens(r.input_tokens, r.output_tokens), "num"],
    ["cost", (r) => cost(r.cost), "num"],
    ["errors", (r) => errorsCell(r.errors), "num"],
    ["first seen", (r) => when(r.first_ms)],
    ["last seen", (r) => when(r.last_ms)],
  ],
  users: [
    ["user", (r) => el("a", { href: link("sessions", undefined, { user: r.user_id }), class: "id", text: r.user_id })],
    ["sessions", (r) => count(r.sessions), "num"],
    ["traces", (r) => el("a", { href: link("traces", undefined, { user: r.user_id }), text: count(r.traces) }), "num"],
    ["tokens", (r) => tokens(r.input_tokens, r.output_tokens), "num"],
    ["cost", (r) => cost(r.cost), "num"],
    ["errors", (r) => errorsCell(r.errors), "num"],
    ["first seen", (r) => when(r.first_ms)],
    ["last seen", (r) => when(r.last_ms)],
  ],
  traces: [
    ["trace", (r) => el("a", { href: link("trace", r.trace_id), class: "id", text: r.name, title: r.trace_id })],
    ["input", (r) => el("span", { class: "clip", text: r.input ? r.input.text : dash, title: r.input && r.input.text })],
    ["output", (r) => el("span", { class: "clip", text: r.output ? r.output.text : dash, title: r.output && r.output.text })],
    ["session", (r) => (r.session_id ? el("a", { href: link("session", r.session_id), text: r.session_id }) : dash)],
    ["user", (r) => userCell(r.user_id)],
    ["started", (r) => when(r.start_ms)],
    ["duration", (r) => duration(r.duration_ms), "num"],
    ["spans", (r) => count(r.spans), "num"],
    ["tokens", (r) => tokens(r.input_tokens, r.output_tokens), "num"],
    ["cost", (r) => cost(r.cost), "num"],
    ["errors", (r) => errorsCell(r.errors), "num"],
  ],
};

function userCell(user) {
  return user ? el("a", { href: link("sessions", undefined, { user }), text: user }) : dash;
}

function errorsCell(n) {
  return n ? el("span", { class: "bad", text: count(n) }) : "0";
}

function toLocalInput(ms) {
  if (!ms) return "";
  const d = new Date(Number(ms));
  d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
  return d.toISOString().slice(0, 16);
}

function filterBar(where) {
  const inputs = {};
  const form = el("div", { class: "filters" });
  for (const [key, hint] of FILTERS) {
    inputs[key] = el("input", { type: "search", name: key, placeholder: hint, value: where.params.get(key) || "" });
    append(form, [inputs[key]]);
  }
  for (const key of ["from", "to"]) {
    inputs[key] = el("input", { type: "datetime-local", name: key, value: toLocalInput(where.params.get(key)) });
    append(form, [el("label", {}, key + " ", inputs[key])]);
  }
  const apply = () => {
    const params = {};
    for (const [key, input] of Object.entries(inputs)) {
      if (!input.value) continue;
      params[key] = key === "from" || key === "to" ? String(new Date(input.value).getTime()) : input.value;
    }
    location.hash = link(where.name, undefined, params);
  };
  for (const input of Object.values(inputs)) {
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter") apply();
    });
  }
  append(form, [
    el("button", { type: "button", onclick: apply, text: "Filter" }),
    el("button", { type: "button", class: "plain", onclick: () => (location.hash = link(where.name)), text: "Clear" }),
  ]);
  return form;
}

function statsBar(stats) {
  const item = (label, value) => el("div", { class: "stat" }, el("span", { class: "label", text: label }), el("span", { class: "value", text: value }));
  return el(
    "div",
    { class: "stats" },
    item("traces", count(stats.traces)),
    item("latency p50", duration(stats.p50_ms)),
    item("latency p95", duration(stats.p95_ms)),
    item("input tokens", count(stats.input_tokens)),
    item("output tokens", count(stats.output_tokens)),
  );
}

async function listView(where) {
  const kind = COLUMNS[where.name] ? where.name : "sessions";
  const params = Object.fromEntries(where.params.entries());
  const title = el("h1", { text: kind[0].toUpperCase() + kind.slice(1) });
  const statsHolder = el("div");
  const tableHolder = el("div");
  append(main, [el("div", { class: "heading" }, title), filterBar(where), statsHolder, tableHolder]);
  const render = async () => {
    const page = await api(kind, params);
    clear(statsHolder).appendChild(statsBar(page.stats));
    clear(tableHolder).appendChild(table(kind, page));
  };
  await render();
  state.render = render;
}

function table(kind, page) {
  const columns = COLUMNS[kind];
  if (!page.rows.length) {
    return el("p", { class: "muted", text: "Nothing yet. Run an instrumented program; new traces appear here as they are written." });
  }
  const head = el("tr", {}, columns.map(([label, , cls]) => el("th", { class: cls, text: label })));
  const rows = page.rows.map((row) =>
    el("tr", { "data-id": row.session_id || row.user_id || row.trace_id }, columns.map(([, cell, cls]) => el("td", { class: cls }, cell(row)))),
  );
  const note = page.prices ? null : el("p", { class: "muted small", text: "Costs need the price table: pip install 'traceroot[ui]'." });
  return el("div", {}, el("table", { class: "list" }, el("thead", {}, head), el("tbody", {}, rows)), note);
}

// -- a session, as a conversation -----------------------------------------------------------------
async function sessionView(where) {
  const page = await api("session", { id: where.id });
  const header = el(
    "div",
    { class: "heading" },
    el("h1", {}, "Session ", el("span", { class: "id", text: page.session_id })),
    el(
      "div",
      { class: "facts" },
      fact("users", page.users.length ? page.users.join(", ") : dash),
      fact("turns", count(page.turns.length)),
      fact("tokens", tokens(page.input_tokens, page.output_tokens)),
      fact("cost", cost(page.cost)),
      fact("errors", count(page.errors)),
      fact("first", when(page.first_ms)),
      fact("last", when(page.last_ms)),
    ),
  );
  const turns = el("div", { class: "conversation" }, page.turns.map(turnView));
  append(main, [header, turns]);
  let shown = page.turns.length;
  state.render = async () => {
    const fresh = await api("session", { id: where.id });
    fresh.turns.slice(shown).forEach((turn, i) => turns.appendChild(turnView(turn, shown + i)));
    shown = fresh.turns.length;
  };
}

function fact(label, value) {
  return el("span", { class: "fact" }, el("span", { class: "label", text: label }), " ", value instanceof Node ? value : String(value));
}

function bubble(message, fallbackRole) {
  const role = (message && message.role) || fallbackRole;
  return el("div", { class: "bubble " + role }, el("div", { class: "role", text: role }), el("div", { class: "text", text: message ? message.text : dash }));
}

function turnView(turn, index) {
  const holder = el("div", { class: "inline-trace" });
  let open = false;
  const toggle = el("button", {
    type: "button",
    class: "plain",
    text: "Show trace",
    onclick: async () => {
      open = !open;
      toggle.textContent = open ? "Hide trace" : "Show trace";
      clear(holder);
      if (open) {
        try {
          holder.appendChild(traceBody(await api("trace", { id: turn.trace_id })));
        } catch (error) {
          holder.appendChild(problem(error));
        }
      }
    },
  });
  return el(
    "section",
    { class: "turn", "data-trace": turn.trace_id },
    el(
      "div",
      { class: "turn-meta" },
      el("span", { class: "turn-number", text: `#${index + 1}` }),
      el("a", { href: link("trace", turn.trace_id), text: turn.name }),
      ` · ${when(turn.start_ms)} · ${duration(turn.duration_ms)} · ${tokens(turn.input_tokens, turn.output_tokens)} tokens · ${cost(turn.cost)}`,
      turn.errors ? el("span", { class: "bad", text: ` · ${turn.errors} error${turn.errors > 1 ? "s" : ""}` }) : null,
      toggle,
    ),
    bubble(turn.input, "user"),
    bubble(turn.output, "assistant"),
    holder,
  );
}

// -- a trace: span tree, waterfall, span panel -------------------------------------------------------
async function traceView(where) {
  const page = await api("trace", { id: where.id });
  const header = el(
    "div",
    { class: "heading" },
    el("h1", {}, "Trace ", el("span", { text: page.name })),
    el(
      "div",
      { class: "facts" },
      fact("id", el("span", { class: "id", text: page.trace_id })),
      page.session_id ? fact("session", el("a", { href: link("session", page.session_id), text: page.session_id })) : null,
      page.user_id ? fact("user", page.user_id) : null,
      page.tags.length ? fact("tags", page.tags.join(", ")) : null,
      fact("started", when(page.start_ms)),
      fact("duration", duration(page.duration_ms)),
      fact("tokens", tokens(page.input_tokens, page.output_tokens)),
      fact("cost", cost(page.cost)),
      fact("errors", count(page.errors)),
    ),
  );
  append(main, [header, traceBody(page, where.params.get("span"))]);
  state.render = null; // a finished trace does not change
}

function traceBody(page, selected) {
  const panel = el("div", { class: "panel" });
  const rows = el("div", { class: "tree" });
  const total = Math.max(page.duration_ms, 0.001);
  const select = (span, row) => {
    for (const other of rows.querySelectorAll(".row.selected")) other.classList.remove("selected");
    row.classList.add("selected");
    clear(panel).appendChild(spanPanel(span));
  };
  let first = null;
  for (const span of page.spans) {
    const bar = el("div", { class: "bar " + kindClass(span.kind) + (span.status === "ERROR" ? " error" : "") });
    bar.style.left = `${(100 * span.offset_ms) / total}%`;
    bar.style.width = `${Math.max((100 * span.duration_ms) / total, 0.4)}%`;
    const name = el(
      "div",
      { class: "name" },
      el("span", { class: "kind " + kindClass(span.kind), text: span.kind }),
      el("span", { class: "span-name", text: span.name }),
      span.status === "ERROR" ? el("span", { class: "bad", text: " !" }) : null,
    );
    name.style.paddingLeft = `${Math.min(span.depth, 30) * 14 + 4}px`;
    const row = el(
      "div",
      { class: "row", "data-span": span.span_id, title: span.name, tabindex: 0 },
      name,
      el("div", { class: "timeline" }, bar),
      el("div", { class: "dur", text: duration(span.duration_ms) }),
    );
    row.addEventListener("click", () => select(span, row));
    row.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        select(span, row);
      }
    });
    rows.appendChild(row);
    if (!first || span.span_id === selected) first = [span, row];
  }
  if (first) select(...first);
  return el("div", { class: "trace" }, rows, panel);
}

function kindClass(kind) {
  return ["llm", "tool", "agent", "span"].includes(kind) ? "k-" + kind : "k-span";
}

function spanPanel(span) {
  const grid = el("dl", { class: "kv" });
  const pair = (label, value) => {
    if (value === null || value === undefined || value === "") return;
    append(grid, [el("dt", { text: label }), el("dd", {}, value)]);
  };
  pair("kind", span.kind);
  pair("operation", span.operation);
  pair("model", span.model);
  pair("provider", span.provider);
  pair("tool", span.tool);
  pair("tool call id", span.tool_call_id);
  pair("started", when(span.start_ms));
  pair("duration", duration(span.duration_ms));
  pair("status", span.status + (span.status_message ? `: ${span.status_message}` : ""));
  pair("error type", span.error_type);
  if (span.usage) pair("usage", Object.entries(span.usage).map(([k, v]) => `${k} ${v.toLocaleString()}`).join(" · "));
  if (span.usage) pair("cost", cost(span.cost));
  pair("session", span.session_id);
  pair("user", span.user_id);
  pair("service", span.service_name);
  if (span.tags.length) pair("tags", el("span", {}, span.tags.map((tag) => el("span", { class: "chip", text: tag }))));
  const parts = [el("h2", {}, el("span", { class: "kind " + kindClass(span.kind), text: span.kind }), " ", span.name), grid];
  if (span.parameters.length) {
    parts.push(el("h3", { text: "parameters" }), keyValues(span.parameters));
  }
  for (const section of span.sections) {
    parts.push(el("h3", { text: section.label }));
    parts.push(section.chat ? chat(section.chat) : el("pre", { class: "value", text: section.text }));
  }
  if (span.metadata) parts.push(el("h3", { text: "metadata" }), el("pre", { class: "value", text: span.metadata }));
  for (const exception of span.exceptions) {
    parts.push(
      el("h3", { class: "bad", text: "exception" }),
      el("pre", { class: "value error", text: `${exception.type}: ${exception.message}\n\n${exception.stacktrace}`.trim() }),
    );
  }
  parts.push(el("details", { class: "attributes" }, el("summary", { text: `all attributes (${span.attributes.length})` }), keyValues(span.attributes)));
  return el("div", { "data-span": span.span_id }, parts);
}

function keyValues(pairs) {
  return el("table", { class: "kvt" }, el("tbody", {}, pairs.map(([key, value]) => el("tr", {}, el("th", { text: key }), el("td", {}, el("pre", { text: value }))))));
}

function chat(messages) {
  return el("div", { class: "chat" }, messages.map((message) => bubble(message, "note")));
}

// -- live: new traces appear while the page is open ------------------------------------------------
async function poll() {
  try {
    const body = await api("poll", { since: state.cursor });
    const changed = body.cursor !== state.cursor;
    const first = !state.cursor;
    state.cursor = body.cursor;
    document.getElementById("live").classList.remove("stale");
    if (changed && state.failed) await show();
    else if (changed && !first && state.render) await state.render();
  } catch (error) {
    document.getElementById("live").classList.add("stale");
  }
}

window.addEventListener("hashchange", show);
show();
poll();
setInterval(poll, POLL_MS);
