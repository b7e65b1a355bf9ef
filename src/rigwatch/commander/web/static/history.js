// History page: the D/W/M/Q/Y comparison from /api/v1/analytics/comparison. The snapshot
// table below it is rendered by the server. Rows are built with textContent only (a
// payout's coin name comes from the miners' side); amounts stay exact (BigInt past 2^53).
import { coinText, count, hashrate, jth, kwh, parseJsonBig, pct, power, signed } from "/static/format.js";
import { connect } from "/static/live.js";

const PERIODS = ["D", "W", "M", "Q", "Y"];
const TREND = { up: "▲", down: "▼", neutral: "–", unavailable: "n/a" };
const NA = "n/a";
const pp = (v) => `${Number(v).toFixed(1)} pp`;

// better: +1 when up is good, -1 when up is bad (power, energy, J/TH), 0 when neither.
const METRICS = {
  hashrate_mean_hs: { label: "Hashrate (mean)", fmt: hashrate, better: 1 },
  expected_mean_hs: { label: "Expected hashrate", fmt: hashrate, better: 0 },
  efficiency_j_th: { label: "Efficiency", fmt: jth, better: -1 },
  power_mean_w: { label: "Power (mean)", fmt: power, better: -1 },
  uptime_pct: { label: "Uptime", fmt: pct, change: pp, better: 1 },
  miners_online: { label: "Miners online", fmt: count, better: 1 },
  shares_found: { label: "Shares found", fmt: count, better: 1 },
  blocks_found: { label: "Blocks found", fmt: count, better: 1 },
  accepted: { label: "Accepted shares", fmt: count, better: 1 },
  energy_kwh: { label: "Energy", fmt: kwh, better: -1 },
  revenue_sat: { label: "Revenue", fmt: (v) => coinText(v, "BTC"), better: 1 },
};
// A revenue figure's basis: "≈" before an expected (or partly expected) amount.
const BASIS = { actual: "received on the chain", expected: "expected from the hashes done", mixed: "some days received, some expected" };
const approx = (basis) => (basis === "expected" || basis === "mixed" ? "≈ " : "");
const PAYOUTS = "payouts.";

const rowsEl = document.getElementById("comparison-rows");
const notice = document.getElementById("partial-notice");
const about = document.getElementById("comparison-about");
const windowsEl = document.getElementById("comparison-windows");
const buttons = [...document.querySelectorAll("[data-period]")];
let asked = 0;

function describe(name) {
  if (name.startsWith(PAYOUTS)) {
    const coin = name.slice(PAYOUTS.length);
    return { label: `Payouts (${coin})`, fmt: (v) => coinText(v, coin), better: 1 };
  }
  return METRICS[name] ?? { label: name, fmt: (v) => String(v), better: 0 };
}

function cell(text, cls = "") {
  const td = document.createElement("td");
  td.textContent = text;
  td.title = text; // long values (a coin's name) are cut with an ellipsis
  if (cls) td.className = cls;
  return td;
}

function percentText(m) {
  if (m.trend === "unavailable") return NA;
  if (m.percent === null || m.percent === undefined) return "—"; // a zero baseline has no percentage
  return `${m.percent > 0 ? "+" : ""}${Number(m.percent).toFixed(1)} %`;
}

function row(m) {
  const d = describe(m.metric);
  const value = (v, basis) => (v === null || v === undefined ? NA : approx(basis) + d.fmt(v));
  const change = m.change === null || m.change === undefined ? NA : approx(m.basis) + signed(m.change, d.change ?? d.fmt);
  const tr = document.createElement("tr");
  tr.dataset.metric = m.metric;
  tr.dataset.trend = m.trend;
  const sign = m.trend === "up" ? 1 : m.trend === "down" ? -1 : 0;
  const mood = sign * d.better > 0 ? "good" : sign * d.better < 0 ? "bad" : "";
  const pctCell = cell(percentText(m), "num");
  if (m.trend !== "unavailable" && (m.percent === null || m.percent === undefined)) pctCell.title = "no percentage against a zero baseline";
  const trend = cell(TREND[m.trend] ?? m.trend, `trend ${mood}`.trim());
  trend.title = m.trend;
  const now = cell(value(m.current, m.current_basis), "num");
  const then = cell(value(m.past, m.past_basis), "num");
  for (const [td, basis] of [[now, m.current_basis], [then, m.past_basis]]) {
    if (BASIS[basis] && td.textContent !== NA) td.title = `${td.textContent}: ${BASIS[basis]}`;
  }
  if (m.basis) tr.dataset.basis = m.basis;
  tr.append(cell(d.label, "metric"), now, then, cell(change, "num"), pctCell, trend);
  if (m.trend === "unavailable") tr.classList.add("unavailable");
  return tr;
}

function range(w) {
  return w.start === w.end ? w.start : `${w.start} – ${w.end}`;
}

function partialText(c) {
  const parts = [];
  if (c.unavailable.includes("miners_online")) parts.push(`no snapshot of ${c.past_day} (${c.days_back} ${c.days_back === 1 ? "day" : "days"} back)`);
  const gap = (w, what) => {
    const n = w.missing.length;
    if (!n) return;
    const which = n < w.days ? `${n} of its ${w.days} days have` : w.days === 1 ? "its day has" : `none of its ${w.days} days has`;
    parts.push(`${what} (${range(w)}): ${which} no snapshot`);
  };
  gap(c.previous_window, "the previous period");
  gap(c.current_window, "this period");
  if (!parts.length) parts.push("a snapshot it reads is incomplete (taken before its day ended, or without rollups)");
  const names = c.unavailable.map((n) => describe(n).label);
  return `Partial data: ${parts.join("; ")}.${names.length ? ` Not comparable, shown as n/a: ${names.join(", ")}.` : ""}`;
}

function render(c) {
  rowsEl.replaceChildren(...c.metrics.map(row));
  about.textContent = `· today so far against ${c.past_day}`;
  notice.hidden = !c.partial_data;
  notice.textContent = c.partial_data ? partialText(c) : "";
  const live = c.current_source === "live" ? " Today's levels come from the miners' live state (no rollup yet today)." : "";
  windowsEl.textContent =
    `Levels: today (${c.today}) so far against the snapshot of ${c.past_day}. ` +
    `Sums (shares, blocks, energy, payouts, revenue): ${range(c.current_window)} against ${range(c.previous_window)}.${live}`;
}

async function load(period) {
  const mine = ++asked;
  const res = await fetch(`/api/v1/analytics/comparison?period=${encodeURIComponent(period)}`, { credentials: "same-origin" });
  if (res.status === 401) { location.href = "/login?next=/history"; return; }
  if (!res.ok) throw new Error(`comparison: ${res.status}`);
  const c = parseJsonBig(await res.text());
  if (mine !== asked) return;
  render(c);
  document.getElementById("comparison").dataset.period = c.period;
}

function pick(period) {
  for (const b of buttons) {
    b.classList.toggle("on", b.dataset.period === period);
    b.setAttribute("aria-pressed", String(b.dataset.period === period));
  }
  if (location.hash.slice(1) !== period) history.replaceState(null, "", period === "D" ? location.pathname + location.search : `#${period}`);
  load(period).catch((err) => {
    console.error(err);
    rowsEl.replaceChildren();
    const tr = document.createElement("tr");
    tr.append(cell("could not read the comparison; retrying in a minute", "sub"));
    tr.firstChild.colSpan = 6;
    rowsEl.append(tr);
  });
}

for (const b of buttons) b.addEventListener("click", () => pick(b.dataset.period));
const current = () => buttons.find((b) => b.classList.contains("on"))?.dataset.period ?? "D";
const fromHash = location.hash.slice(1).toUpperCase();
pick(PERIODS.includes(fromHash) ? fromHash : "D");
setInterval(() => pick(current()), 60000);
connect({ resync: () => pick(current()) });
