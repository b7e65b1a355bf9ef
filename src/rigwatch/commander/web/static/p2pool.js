// P2Pool page: node cards (server-rendered, refreshed here), recent shares / blocks /
// payouts and daily bar charts. Every string a node or miner reports goes through
// escapeHtml or textContent; payout amounts stay integers (BigInt) until printed.
import { ago, coinAmount, cssVar, duration, escapeHtml, fill, hashrate, pct, tickAgo } from "/static/format.js";
import { getJson } from "/static/api.js";
import { connect } from "/static/live.js";

const REFRESH_MS = 30000;
const DAYS = 30;
const RECENT = 20;
const DECIMALS = { XMR: 12, BTC: 8, LTC: 8, BCH: 8, DOGE: 8 };
const EXACT = ["amount_atomic", "network_reward_atomic", "total_hashes", "network_difficulty", "sidechain_difficulty", "difficulty"];
const BY = { you: "you", this_p2pool: "this P2Pool", someone_else: "someone else in this P2Pool" };

const nodesEl = document.getElementById("nodes");
const charts = new Map();

function decimalsOf(data) {
  const d = data.decimals;
  return Number.isInteger(d) && d >= 0 && d <= 30 ? d : (DECIMALS[String(data.coin || "XMR").toUpperCase()] ?? 12);
}

function amount(data) {
  if (data.amount_atomic === null || data.amount_atomic === undefined) return "—";
  const coin = String(data.coin || "XMR").toUpperCase();
  return `${coinAmount(data.amount_atomic, decimalsOf(data))} ${coin}`;
}

function shortAddress(a) {
  const s = String(a ?? "");
  return s.length > 20 ? `${s.slice(0, 8)}…${s.slice(-8)}` : s;
}

function when(e) {
  const t = Date.parse(e.ts) / 1000;
  return `<td data-ago="${t}" title="${escapeHtml(e.ts)}">${ago(t)}</td>`;
}

function num(v) {
  return v === null || v === undefined ? "—" : escapeHtml(String(v));
}

function empty(cols, text) {
  return `<tr><td colspan="${cols}" class="sub">${escapeHtml(text)}</td></tr>`;
}

// -- node cards -----------------------------------------------------------------------

function workerRow(w) {
  return `<tr><td class="name">${escapeHtml(w.name || "—")}</td><td class="mono">${escapeHtml(w.address)}</td>
    <td class="num">${hashrate(w.hashrate_hs)}</td><td class="num">${num(w.difficulty)}</td><td class="num">${duration(w.uptime_s)}</td></tr>`;
}

async function swapNodesFromServer() {
  // A node appeared or went: take the server's rendering of the cards (escaped there).
  const res = await fetch("/p2pool", { credentials: "same-origin" });
  if (!res.ok) return;
  const doc = new DOMParser().parseFromString(await res.text(), "text/html");
  const fresh = doc.getElementById("nodes");
  if (fresh) nodesEl.replaceChildren(...[...fresh.childNodes].map((n) => document.importNode(n, true)));
  tickAgo(nodesEl);
}

async function refreshNodes() {
  const nodes = await getJson("/api/v1/p2pool", EXACT);
  const cards = [...nodesEl.querySelectorAll("[data-node]")];
  const same = cards.length === nodes.length && cards.every((c, i) => c.dataset.node === nodes[i].node);
  if (!same) { await swapNodesFromServer(); return; }
  nodes.forEach((n, i) => {
    const s = n.stats, card = cards[i];
    fill(card, {
      ...s,
      node: n.node,
      workers_count: s.workers.length,
      wallet: s.wallet || "—",
      network_reward: s.network_reward_atomic === null ? "—" : `${coinAmount(s.network_reward_atomic, 12)} XMR`,
    });
    card.querySelector("[data-ago]").dataset.ago = String(Date.parse(s.ts) / 1000);
    card.querySelector("[data-workers]").innerHTML = s.workers.length
      ? s.workers.map(workerRow).join("")
      : empty(5, "no miner connected to this node's stratum");
  });
}

// -- recent events ----------------------------------------------------------------------

function shareRow(e) {
  const d = e.data || {};
  const who = d.user || d.client || (d.thread !== null && d.thread !== undefined ? `thread ${d.thread}/${d.threads}` : "—");
  return `<tr data-event="${Number(e.id)}">${when(e)}<td class="num">${num(d.sidechain_height)}</td><td class="num">${num(d.mainchain_height)}</td>
    <td class="num">${num(d.difficulty)}</td><td class="num">${pct(d.effort_pct)}</td><td class="name">${escapeHtml(who)}</td></tr>`;
}

function blockRow(e) {
  const d = e.data || {};
  const by = d.by ? (BY[d.by] ?? d.by) : "—";
  const accepted = d.accepted === true ? "accepted" : d.accepted === false ? "rejected" : "—";
  return `<tr data-event="${Number(e.id)}" class="${d.by === "you" ? "own" : ""}">${when(e)}<td class="num">${num(d.block_height ?? d.mainchain_height ?? d.height)}</td>
    <td>${escapeHtml(by)}</td><td>${accepted}</td></tr>`;
}

function payoutRow(e) {
  const d = e.data || {};
  return `<tr data-event="${Number(e.id)}">${when(e)}<td class="num mono" data-testid="payout-amount">${escapeHtml(amount(d))}</td>
    <td class="num">${num(d.block_height)}</td><td class="mono" title="${escapeHtml(d.wallet)}">${escapeHtml(shortAddress(d.wallet) || "—")}</td></tr>`;
}

async function refreshEvents() {
  // The API pages by arrival (id); a log read late still belongs where its time puts it.
  const byTime = (rows) => rows.sort((a, b) => Date.parse(b.ts) - Date.parse(a.ts) || b.id - a.id);
  const [shares, blocks, payouts] = (await Promise.all(
    ["share_found", "block_found", "payout"].map((k) => getJson(`/api/v1/events?kind=${k}&limit=${RECENT}`, EXACT)),
  )).map(byTime);
  document.getElementById("share-rows").innerHTML = shares.length ? shares.map(shareRow).join("") : empty(6, "no share found yet");
  document.getElementById("block-rows").innerHTML = blocks.length ? blocks.map(blockRow).join("") : empty(4, "no block found yet");
  document.getElementById("payout-rows").innerHTML = payouts.length ? payouts.map(payoutRow).join("") : empty(4, "no payout received yet");
  const efforts = shares.map((e) => e.data && e.data.effort_pct).filter((v) => typeof v === "number");
  document.getElementById("share-effort").textContent = efforts.length
    ? `mean effort of the last ${efforts.length}: ${pct(efforts.reduce((a, b) => a + b, 0) / efforts.length)}`
    : "";
}

// -- daily bar charts -------------------------------------------------------------------

function utcDay(d) {
  return d.toISOString().slice(0, 10);
}

function lastDays() {
  const today = new Date();
  const days = [];
  for (let i = DAYS - 1; i >= 0; i--) days.push(utcDay(new Date(today.getTime() - i * 86400000)));
  return days;
}

const COUNT_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000];

function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}

function drawBars(el, days, values, label, format, counts = true) {
  const uPlot = window.uPlot;
  if (!uPlot) { el.textContent = "Chart library missing: run the setup command (make setup)."; return; }
  const xs = days.map((d) => Date.parse(`${d}T00:00:00Z`) / 1000);
  const ys = values.map((v) => v.value || null); // no sliver of a bar on an empty day
  const opts = {
    width: el.clientWidth || 400, height: 200,
    legend: { show: true },
    cursor: { points: { show: false } },
    scales: { x: { time: true, range: () => [xs[0] - 43200, xs[xs.length - 1] + 43200] }, y: { range: (u, min, max) => [0, max > 0 ? max * 1.1 : 1] } },
    axes: [
      { stroke: cssVar("--chart-axis", "#9aa4b2"), grid: { stroke: cssVar("--chart-grid", "#2a3140") } },
      {
        stroke: cssVar("--chart-axis", "#9aa4b2"), grid: { stroke: cssVar("--chart-grid", "#2a3140") }, size: 60,
        ...(counts ? { incrs: COUNT_STEPS } : {}),
        values: (u, vals) => vals.map((v) => (Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(3))))),
      },
    ],
    series: [
      { value: (u, v) => (v === null ? "—" : new Date(v * 1000).toISOString().slice(0, 10)) },
      {
        label, stroke: "#4cc38a", fill: "rgba(76, 195, 138, 0.55)", width: 1,
        paths: uPlot.paths.bars({ size: [0.7, 40], align: 0 }), points: { show: false },
        value: (u, v, sidx, idx) => (idx === null || idx === undefined ? "—" : format(values[idx])),
      },
    ],
  };
  const old = charts.get(el.id);
  if (old) old.destroy();
  charts.set(el.id, new uPlot(opts, [xs, ys], el));
  el.dataset.points = String(xs.length);
  el.dataset.total = String(values.reduce((a, v) => a + v.count, 0));
}

async function refreshCharts() {
  const days = lastDays();
  const range = `from=${days[0]}&to=${days[days.length - 1]}`;
  const [shares, blocks, payouts] = await Promise.all(
    ["shares", "blocks", "payouts"].map((k) => getJson(`/api/v1/aggregates/daily?kind=${k}&by=farm&${range}`, EXACT)),
  );
  const byDay = (rows) => new Map(rows.map((r) => [r.day, r]));
  const s = byDay(shares), b = byDay(blocks);
  const p = new Map();
  for (const r of payouts) {
    if (String(r.coin || "XMR").toUpperCase() !== "XMR") continue;
    const had = p.get(r.day) || { atomic: 0n, count: 0 };
    p.set(r.day, { atomic: had.atomic + BigInt(r.amount_atomic ?? 0), count: had.count + r.count });
  }
  const counts = (m) => days.map((d) => ({ value: m.get(d)?.count ?? 0, count: m.get(d)?.count ?? 0, own: m.get(d)?.own ?? 0 }));
  const paid = days.map((d) => {
    const x = p.get(d) || { atomic: 0n, count: 0 };
    return { value: Number(coinAmount(x.atomic, 12)), atomic: x.atomic, count: x.count };
  });
  drawBars(document.getElementById("bars-shares"), days, counts(s), "shares", (v) => String(v.count));
  drawBars(document.getElementById("bars-blocks"), days, counts(b), "blocks", (v) => `${v.count} (${v.own} by you)`);
  drawBars(document.getElementById("bars-payouts"), days, paid, "XMR", (v) => `${coinAmount(v.atomic, 12)} XMR`, false);
  const total = (xs) => xs.reduce((a, v) => a + v.count, 0);
  const paidTotal = paid.reduce((a, v) => a + v.atomic, 0n);
  document.getElementById("totals").textContent =
    `· ${plural(total(counts(s)), "share", "shares")} · ${plural(total(counts(b)), "block", "blocks")} · ` +
    `${coinAmount(paidTotal, 12)} XMR paid in ${plural(total(paid), "payout", "payouts")}`;
}

// -- wiring -----------------------------------------------------------------------------

function report(err) {
  console.error(err);
}

function refresh() {
  refreshNodes().catch(report);
  refreshEvents().catch(report);
  refreshCharts().catch(report);
}

connect({ resync: () => refresh() });
refreshEvents().catch(report);
refreshCharts().catch(report);
tickAgo(document);
setInterval(() => tickAgo(document), 1000);
setInterval(refresh, REFRESH_MS);
