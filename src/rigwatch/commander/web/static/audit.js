// Audit log page (admins): newest first, filtered by actor and action, paged backwards.
// Actors, targets and details can carry what people and miners typed: textContent only.
import { api, say } from "/static/api.js";
import { el } from "/static/format.js";

const $ = (id) => document.getElementById(id);
const form = $("audit-filter");
const rows = $("audit-rows");
const older = $("audit-older");
const newest = $("audit-newest");
const status = $("audit-status");
let next = null;

function when(ts) {
  const d = new Date(ts);
  return Number.isNaN(d.getTime()) ? "—" : d.toISOString().slice(0, 19).replace("T", " ");
}

function row(e) {
  return el("tr", { dataset: { id: e.id } },
    el("td", { class: "mono" }, when(e.ts)),
    el("td", { class: "name" }, e.actor),
    el("td", { class: "mono" }, e.action),
    el("td", { class: "name" }, e.target),
    el("td", { class: "detail" }, e.detail),
  );
}

async function load(beforeId = null) {
  const data = new FormData(form);
  const q = new URLSearchParams({ limit: String(data.get("limit") || 100) });
  for (const name of ["actor", "action"]) {
    const v = String(data.get(name) || "").trim();
    if (v) q.set(name, v);
  }
  if (beforeId) q.set("before_id", String(beforeId));
  try {
    const page = await api("GET", `/api/v1/admin/audit?${q}`);
    rows.replaceChildren(...(page.items.length ? page.items.map(row) : [el("tr", {}, el("td", { colspan: 5, class: "sub" }, "nothing recorded matches"))]));
    next = page.next_before_id;
    older.hidden = next === null;
    newest.hidden = !beforeId;
    say(status, page.items.length ? `${page.items.length} entries` : "");
    document.body.dataset.loaded = "audit";
  } catch (err) {
    say(status, `could not read the audit log: ${err.message}`, true);
  }
}

form.addEventListener("submit", (event) => { event.preventDefault(); load(); });
older.addEventListener("click", () => load(next));
newest.addEventListener("click", () => load());
load();
