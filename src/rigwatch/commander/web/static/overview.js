// The farm overview: problem tiles, totals, the farm chart, and the miners as a paged
// table or a dense grid, with filters (text, status, kind, site, tag; kept in the URL),
// bulk selection (checkboxes, Shift+click for a range), tagging and racks for operators.
// Every miner-supplied string goes through escapeHtml.
import { ago, escapeHtml, fill, hashrate, power, temp, tickAgo } from "/static/format.js";
import { getJson } from "/static/api.js";
import { connect } from "/static/live.js";
import { hashrateChart } from "/static/charts.js";
import { minerGrid } from "/static/grid.js";

const PAGE = 200;
const VIEW_KEY = "rigwatch.minersView";
const COLOR_KEY = "rigwatch.gridColor";
const GROUP_KEY = "rigwatch.gridGroup";

const box = document.getElementById("miners");
const rows = document.getElementById("miner-rows");
const count = document.getElementById("miner-count");
const text = document.getElementById("filter-text");
const status = document.getElementById("filter-status");
const kind = document.getElementById("filter-kind");
const site = document.getElementById("filter-site");
const tag = document.getElementById("filter-tag");
const tableView = document.getElementById("table-view");
const gridView = document.getElementById("grid-view");
const gridOnly = box.querySelector(".grid-only");
const gridColor = document.getElementById("grid-color");
const gridGroup = document.getElementById("grid-group");
const viewButtons = [...box.querySelectorAll("[data-view]")];
const pickPage = document.getElementById("pick-page");
const prev = document.getElementById("page-prev");
const next = document.getElementById("page-next");
const pageAbout = document.getElementById("page-about");
const bulk = document.getElementById("bulk");
const bulkCount = document.getElementById("bulk-count");
const bulkMsg = document.getElementById("bulk-msg");
const bulkForm = document.getElementById("bulk-tag");
const tiles = document.getElementById("problem-tiles");
const problemsAbout = document.getElementById("problems-about");

let sort = "hostname";
let offset = 0;
let total = 0;
let miners = new Map();
let order = [];
let pending = false;
let view = "table";
let lastPicked = null;
const selected = new Set();

function stored(key, fallback) {
  try { return localStorage.getItem(key) ?? fallback; } catch { return fallback; }
}

function store(key, value) {
  try { localStorage.setItem(key, value); } catch { /* private mode: not remembered */ }
}

function csrf() {
  return document.querySelector('meta[name="csrf-token"]')?.content
    || document.querySelector('form.who input[name="csrf"]')?.value || "";
}

// -- filters, kept in the URL so a link (sites page, problem tiles) opens them --------

function choose(select, value) {
  if (!value) return;
  if (![...select.options].some((o) => o.value === value)) select.add(new Option(value, value));
  select.value = value;
}

function filters() {
  const p = new URLSearchParams();
  if (text.value.trim()) p.set("q", text.value.trim());
  for (const [name, el] of [["status", status], ["kind", kind], ["site", site], ["tag", tag]]) {
    if (el.value) p.set(name, el.value);
  }
  return p;
}

function writeUrl() {
  const p = filters();
  if (view !== "table") p.set("view", view);
  const qs = p.toString();
  history.replaceState(null, "", `${location.pathname}${qs ? `?${qs}` : ""}${location.hash}`);
}

function readUrl() {
  const u = new URLSearchParams(location.search);
  text.value = u.get("q") ?? "";
  choose(status, u.get("status"));
  choose(kind, u.get("kind"));
  choose(site, u.get("site"));
  choose(tag, u.get("tag"));
  const v = u.get("view") || stored(VIEW_KEY, "table");
  view = v === "grid" ? "grid" : "table";
}

// -- the table -----------------------------------------------------------------------

let asked = 0;
async function loadTable() {
  const mine = ++asked;
  const p = filters();
  p.set("limit", String(PAGE));
  p.set("offset", String(offset));
  p.set("sort", sort);
  const page = await getJson(`/api/v1/miners?${p}`);
  if (mine !== asked) return;
  if (!page.items.length && offset > 0 && page.total > 0) {
    offset = Math.floor((page.total - 1) / PAGE) * PAGE;
    await loadTable();
    return;
  }
  total = page.total;
  miners = new Map(page.items.map((m) => [m.id, m]));
  order = page.items.map((m) => m.id);
  lastPicked = null;
  count.textContent = `${total.toLocaleString("en-US")} miners match`;
  pageAbout.textContent = total ? `${(offset + 1).toLocaleString("en-US")}–${(offset + order.length).toLocaleString("en-US")} of ${total.toLocaleString("en-US")}` : "";
  prev.disabled = offset === 0;
  next.disabled = offset + order.length >= total;
  render();
  markReady("table");
}

function row(m) {
  const id = Number(m.id);
  const name = m.hostname || m.ip || m.key;
  const last = m.last_seen ? Date.parse(m.last_seen) / 1000 : "";
  const st = escapeHtml(m.status);
  const on = selected.has(id);
  const tags = (m.tags || []).map((t) => `<a class="pill tag" href="/?tag=${encodeURIComponent(t)}" data-tag="${escapeHtml(t)}">${escapeHtml(t)}</a>`).join("");
  return `<tr data-id="${id}" data-status="${st}" class="st-${st}${on ? " picked" : ""}">
    <td><input type="checkbox" class="pick" data-pick${on ? " checked" : ""} aria-label="Select ${escapeHtml(name)}"> <span class="st ${st}" title="${escapeHtml(m.warnings.join(", "))}">${st}</span></td>
    <td><a href="/miners/${id}">${escapeHtml(name)}</a>${m.host ? ` <span class="sub" data-col="host">on ${escapeHtml(m.host)}</span>` : ""}</td><td>${escapeHtml(m.kind)}</td>
    <td>${escapeHtml([m.make, m.model].filter(Boolean).join(" "))}</td><td>${escapeHtml(m.ip)}</td>
    <td class="num" data-col="hashrate">${hashrate(m.hashrate_hs)}</td><td class="num">${hashrate(m.hashrate_expected_hs)}</td>
    <td class="num">${temp(m.temp_max_c ?? m.temp_c)}</td><td class="num">${power(m.power_w)}</td>
    <td data-ago="${last}">${ago(last)}</td><td>${escapeHtml(m.site)}${m.rack ? ` <span class="sub" data-col="rack">rack ${escapeHtml(m.rack)}</span>` : ""}</td><td class="tags">${tags}</td></tr>`;
}

function render() {
  pending = false;
  rows.innerHTML = order.length
    ? order.map((id) => row(miners.get(id))).join("")
    : `<tr><td colspan="12" class="sub">no miners match</td></tr>`;
  syncPageBox();
}

function schedule() {
  if (!pending) { pending = true; requestAnimationFrame(render); }
}

// -- selection -----------------------------------------------------------------------

function pick(id, on) {
  if (on) selected.add(id);
  else selected.delete(id);
}

function syncPageBox() {
  const shown = order.filter((id) => selected.has(id)).length;
  pickPage.checked = order.length > 0 && shown === order.length;
  pickPage.indeterminate = shown > 0 && shown < order.length;
}

function selectionChanged({ table = true, grid = true } = {}) {
  bulk.hidden = selected.size === 0;
  bulkCount.textContent = `${selected.size.toLocaleString("en-US")} selected`;
  if (table) {
    for (const tr of rows.querySelectorAll("tr[data-id]")) {
      const on = selected.has(Number(tr.dataset.id));
      tr.classList.toggle("picked", on);
      const cb = tr.querySelector("input[data-pick]");
      if (cb) cb.checked = on;
    }
    syncPageBox();
  }
  if (grid && gridApi) gridApi.repaint();
}

rows.addEventListener("click", (e) => {
  const cb = e.target.closest("input[data-pick]");
  if (cb) {
    const id = Number(cb.closest("tr").dataset.id);
    const at = order.indexOf(id);
    if (e.shiftKey && lastPicked !== null && lastPicked !== at) {
      const [a, b] = [Math.min(lastPicked, at), Math.max(lastPicked, at)];
      for (let i = a; i <= b; i++) pick(order[i], cb.checked);
    } else {
      pick(id, cb.checked);
    }
    lastPicked = at;
    selectionChanged();
    return;
  }
  const t = e.target.closest("a[data-tag]");
  if (t && !e.ctrlKey && !e.metaKey && !e.shiftKey) {
    e.preventDefault();
    choose(tag, t.dataset.tag);
    changed();
  }
});

pickPage.addEventListener("change", () => {
  for (const id of order) pick(id, pickPage.checked);
  selectionChanged();
});

document.getElementById("bulk-clear").addEventListener("click", () => {
  selected.clear();
  bulkMsg.textContent = "";
  selectionChanged();
});

// -- tags and racks (operators and admins; the API checks the role and the CSRF token) --

async function refreshTags() {
  const tags = await getJson("/api/v1/tags");
  const keep = tag.value;
  tag.replaceChildren(new Option("all tags", ""), ...tags.map((t) => new Option(`${t.tag} (${t.miners})`, t.tag)));
  choose(tag, keep);
  document.getElementById("tag-list").replaceChildren(...tags.map((t) => new Option(t.tag, t.tag)));
}

// POST a change of the selected miners; its answer, or null once the message says why not.
async function postBulk(path, change) {
  bulkMsg.classList.remove("error");
  bulkMsg.textContent = "saving…";
  const res = await fetch(path, {
    method: "POST",
    credentials: "same-origin",
    headers: { "content-type": "application/json", "x-csrf-token": csrf() },
    body: JSON.stringify({ ids: [...selected], ...change }),
  });
  const body = await res.json().catch(() => null);
  if (!res.ok) {
    const detail = body && typeof body.detail === "string" ? body.detail : `${res.status} ${res.statusText}`;
    bulkMsg.textContent = `Not saved: ${detail}`;
    bulkMsg.classList.add("error");
    return null;
  }
  return body;
}

const counted = (body) => `${body.changed.toLocaleString("en-US")} of ${body.matched.toLocaleString("en-US")} miners`;

async function tagSelected(action) {
  const name = document.getElementById("bulk-tag-name").value.trim();
  if (!name || !selected.size) return;
  const body = await postBulk("/api/v1/miners/tags", { [action]: [name] });
  if (!body) return;
  bulkMsg.textContent = `${action === "add" ? "Tagged" : "Untagged"} ${counted(body)} “${name}”`;
  await refreshTags();
  await load();
}

async function rackSelected() {
  const rack = document.getElementById("bulk-rack-name").value.trim();
  if (!selected.size) return;
  const body = await postBulk("/api/v1/miners/rack", { rack: rack || null });
  if (!body) return;
  bulkMsg.textContent = `Placed ${counted(body)} ${rack ? `in rack “${rack}”` : "out of any rack"}`;
  await load();
}

const rackForm = document.getElementById("bulk-rack");
if (rackForm) {
  rackForm.addEventListener("submit", (e) => {
    e.preventDefault();
    rackSelected().catch(report);
  });
}

if (bulkForm) {
  bulkForm.addEventListener("submit", (e) => {
    e.preventDefault();
    tagSelected("add").catch(report);
  });
  bulkForm.querySelector('[data-action="remove"]').addEventListener("click", () => {
    if (bulkForm.reportValidity()) tagSelected("remove").catch(report);
  });
}

// -- views ---------------------------------------------------------------------------

function markReady(which) {
  // After the frame that shows it has been painted.
  requestAnimationFrame(() => setTimeout(() => {
    const done = new Set((box.dataset.ready || "").split(" ").filter(Boolean));
    if (done.has(which)) return;
    done.add(which);
    box.dataset[`ready${which[0].toUpperCase()}${which.slice(1)}Ms`] = String(Math.round(performance.now()));
    box.dataset.ready = [...done].join(" ");
  }));
}

const gridApi = minerGrid(gridView, {
  selected,
  onToggle: (id, on) => { pick(id, on); selectionChanged({ grid: false }); },
  onRange: (ids, on) => { for (const id of ids) pick(id, on); selectionChanged({ grid: false }); },
  onReady: (data) => {
    count.textContent = `${data.total.toLocaleString("en-US")} miners match`;
    markReady("grid");
  },
});

function load() {
  return (view === "grid" ? gridApi.load(filters()) : loadTable()).catch(report);
}

function setView(v) {
  view = v === "grid" ? "grid" : "table";
  for (const b of viewButtons) {
    const on = b.dataset.view === view;
    b.classList.toggle("on", on);
    b.setAttribute("aria-pressed", String(on));
  }
  tableView.hidden = view !== "table";
  gridView.hidden = view !== "grid";
  gridOnly.hidden = view !== "grid";
  writeUrl();
  return load();
}

for (const b of viewButtons) {
  b.addEventListener("click", () => {
    store(VIEW_KEY, b.dataset.view);
    setView(b.dataset.view);
  });
}

gridColor.value = stored(COLOR_KEY, "status");
gridGroup.value = stored(GROUP_KEY, "site");
gridApi.setColor(gridColor.value);
gridApi.setGroup(gridGroup.value);
gridColor.addEventListener("change", () => { store(COLOR_KEY, gridColor.value); gridApi.setColor(gridColor.value); });
gridGroup.addEventListener("change", () => { store(GROUP_KEY, gridGroup.value); gridApi.setGroup(gridGroup.value); });

function changed() {
  offset = 0;
  writeUrl();
  load();
}

let typing;
text.addEventListener("input", () => { clearTimeout(typing); typing = setTimeout(changed, 200); });
for (const el of [status, kind, site, tag]) el.addEventListener("change", changed);
for (const th of document.querySelectorAll("th[data-sort]")) {
  th.addEventListener("click", (e) => {
    if (e.target.closest("input")) return; // the page's checkbox, not a sort
    sort = sort === th.dataset.sort ? (sort.startsWith("-") ? sort.slice(1) : `-${sort}`) : th.dataset.sort;
    for (const other of document.querySelectorAll("th[data-sort]")) other.removeAttribute("aria-sort");
    th.setAttribute("aria-sort", sort.startsWith("-") ? "descending" : "ascending");
    offset = 0;
    loadTable().catch(report);
  });
}
prev.addEventListener("click", () => { offset = Math.max(0, offset - PAGE); loadTable().catch(report); });
next.addEventListener("click", () => { offset += PAGE; loadTable().catch(report); });

// -- problem tiles ---------------------------------------------------------------------

function tile(m) {
  const st = escapeHtml(m.status);
  const last = m.last_seen ? Date.parse(m.last_seen) / 1000 : "";
  return `<li><a class="tile ${st}" href="/miners/${Number(m.id)}" data-testid="problem-tile" data-id="${Number(m.id)}">
    <span class="tile-head"><span class="st ${st}">${st}</span> <b class="name">${escapeHtml(m.name)}</b></span>
    <span class="reason">${escapeHtml(m.reasons.join(" · "))}</span>
    <span class="sub">${escapeHtml(m.site)} · last seen <span data-ago="${last}">${last ? ago(last) : "never"}</span></span></a></li>`;
}

async function loadProblems() {
  const p = await getJson("/api/v1/fleet/problems");
  problemsAbout.textContent = `${p.offline} offline · ${p.warning} warning · ${p.total} miners`;
  const items = [...p.offline_items, ...p.warning_items];
  if (items.length) {
    const links = [
      p.offline ? `<a href="/?status=offline#miners">all ${p.offline} offline</a>` : "",
      p.warning ? `<a href="/?status=warning#miners">all ${p.warning} warning</a>` : "",
    ].filter(Boolean).join(" · ");
    tiles.innerHTML = `<ul class="tiles">${items.map(tile).join("")}</ul><p class="sub more">${links}</p>`;
  } else {
    tiles.innerHTML = p.total
      ? `<p class="all-good" data-testid="no-problems">All ${p.total} miners are hashing normally.</p>`
      : `<p class="empty" data-testid="no-problems">No miners yet: enroll a sentry and they appear here.</p>`;
  }
}

// -- live ------------------------------------------------------------------------------

// The farm chart reads the fleet rollups, which grow every few minutes: read it again
// each minute rather than mixing live samples into rollup points.
const farmChart = hashrateChart(document.getElementById("farm-chart-box"), { refreshMs: 60000 });

connect({
  miners: ({ miners: updates }) => {
    let any = false;
    for (const u of updates) {
      const m = miners.get(u.id);
      if (!m) continue;
      Object.assign(m, { status: u.s, hashrate_hs: u.h, hashrate_expected_hs: u.x, temp_c: u.t, temp_max_c: u.tm, power_w: u.p, last_seen: new Date(u.ts * 1000).toISOString() });
      any = true;
    }
    if (any && view === "table") schedule();
    if (view === "grid") gridApi.update(updates);
  },
  summary: (s) => fill(document.getElementById("summary"), s),
  resync: () => { load(); farmChart.load(); },
});

function report(err) {
  console.error(err);
}

readUrl();
// The miners first; the farm chart once they are drawn and uPlot (a deferred script:
// this module is async) has run.
const parsed = new Promise((resolve) => {
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", resolve, { once: true });
  else resolve();
});
setView(view).finally(() => parsed.then(() => farmChart.load()));
setInterval(() => { tickAgo(rows); tickAgo(tiles); }, 1000);
tickAgo(tiles);
setInterval(load, 30000);
setInterval(() => loadProblems().catch(report), 30000);
