import { ago, escapeHtml, fill, hashrate, power, temp, tickAgo } from "/static/format.js";
import { connect } from "/static/live.js";
import { hashrateChart } from "/static/charts.js";

const rows = document.getElementById("miner-rows");
const count = document.getElementById("miner-count");
const text = document.getElementById("filter-text");
const status = document.getElementById("filter-status");
const kind = document.getElementById("filter-kind");
let sort = "hostname";
let miners = new Map();
let order = [];
let pending = false;

function query() {
  const p = new URLSearchParams({ limit: "1000", sort });
  if (text.value.trim()) p.set("q", text.value.trim());
  if (status.value) p.set("status", status.value);
  if (kind.value) p.set("kind", kind.value);
  return p;
}

async function load() {
  const res = await fetch(`/api/v1/miners?${query()}`, { credentials: "same-origin" });
  if (res.status === 401) { location.href = "/login?next=/"; return; }
  const page = await res.json();
  miners = new Map(page.items.map((m) => [m.id, m]));
  order = page.items.map((m) => m.id);
  count.textContent = `${page.items.length} of ${page.total} shown`;
  render();
}

function row(m) {
  const name = m.hostname || m.ip || m.key;
  const last = m.last_seen ? Date.parse(m.last_seen) / 1000 : "";
  return `<tr data-id="${m.id}" data-status="${m.status}" class="st-${m.status}">
    <td><span class="st ${m.status}" title="${escapeHtml(m.warnings.join(", "))}">${m.status}</span></td>
    <td><a href="/miners/${m.id}">${escapeHtml(name)}</a>${m.host ? ` <span class="sub" data-col="host">on ${escapeHtml(m.host)}</span>` : ""}</td><td>${escapeHtml(m.kind)}</td>
    <td>${escapeHtml([m.make, m.model].filter(Boolean).join(" "))}</td><td>${escapeHtml(m.ip)}</td>
    <td class="num" data-col="hashrate">${hashrate(m.hashrate_hs)}</td><td class="num">${hashrate(m.hashrate_expected_hs)}</td>
    <td class="num">${temp(m.temp_max_c ?? m.temp_c)}</td><td class="num">${power(m.power_w)}</td>
    <td data-ago="${last}">${ago(last)}</td></tr>`;
}

function render() {
  pending = false;
  rows.innerHTML = order.length
    ? order.map((id) => row(miners.get(id))).join("")
    : `<tr><td colspan="10" class="sub">no miners match</td></tr>`;
}

function schedule() {
  if (!pending) { pending = true; requestAnimationFrame(render); }
}

let typing;
text.addEventListener("input", () => { clearTimeout(typing); typing = setTimeout(load, 200); });
status.addEventListener("change", load);
kind.addEventListener("change", load);
for (const th of document.querySelectorAll("th[data-sort]")) {
  th.addEventListener("click", () => { sort = sort === th.dataset.sort ? (sort.startsWith("-") ? sort.slice(1) : `-${sort}`) : th.dataset.sort; load(); });
}

// The farm chart reads the fleet rollups, which grow every few minutes: read it again
// each minute rather than mixing live samples into rollup points.
const farmChart = hashrateChart(document.getElementById("farm-chart-box"), { refreshMs: 60000 });

connect({
  miners: ({ miners: updates }) => {
    let changed = false;
    for (const u of updates) {
      const m = miners.get(u.id);
      if (!m) continue;
      Object.assign(m, { status: u.s, hashrate_hs: u.h, hashrate_expected_hs: u.x, temp_c: u.t, temp_max_c: u.tm, power_w: u.p, last_seen: new Date(u.ts * 1000).toISOString() });
      changed = true;
    }
    if (changed) schedule();
  },
  summary: (s) => fill(document.getElementById("summary"), s),
  resync: () => { load(); farmChart.load(); },
});

farmChart.load();
load();
setInterval(() => tickAgo(rows), 1000);
setInterval(load, 30000);
