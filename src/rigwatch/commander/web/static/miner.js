import { duration, fill, hashrate, tickAgo } from "/static/format.js";
import { connect } from "/static/live.js";

const cards = document.getElementById("miner-cards");
const id = Number(cards.dataset.minerId);
const chartEl = document.getElementById("chart");
let range = 3600;
let plot = null;
let data = [[], [], []];

for (const el of document.querySelectorAll("[data-uptime]")) el.textContent = duration(el.dataset.uptime);

async function loadChart() {
  const to = new Date(), from = new Date(to - range * 1000);
  const res = await fetch(`/api/v1/miners/${id}/samples?from=${from.toISOString()}&to=${to.toISOString()}`);
  const page = await res.json();
  data = [
    page.items.map((s) => Date.parse(s.ts) / 1000),
    page.items.map((s) => s.hashrate_hs),
    page.items.map((s) => s.hashrate_expected_hs),
  ];
  await draw();
}

async function draw() {
  const uPlot = window.uPlot;
  if (!uPlot) {
    chartEl.textContent = "Chart library missing: run the setup command (make setup).";
    return;
  }
  const opts = {
    width: chartEl.clientWidth || 800, height: 260,
    scales: { x: { time: true, range: () => [Date.now() / 1000 - range, Date.now() / 1000] } },
    axes: [{ stroke: "#9aa4b2", grid: { stroke: "#2a3140" } }, { stroke: "#9aa4b2", grid: { stroke: "#2a3140" }, size: 90, values: (u, vals) => vals.map((v) => hashrate(v)) }],
    series: [{}, { label: "hashrate", stroke: "#4cc38a", width: 2, value: (u, v) => hashrate(v) }, { label: "expected", stroke: "#8b93a7", dash: [6, 4], value: (u, v) => hashrate(v) }],
  };
  if (plot) plot.destroy();
  plot = new uPlot(opts, data, chartEl);
  chartEl.dataset.points = String(data[0].length);
}

for (const b of document.querySelectorAll("[data-range]")) {
  b.addEventListener("click", () => {
    range = Number(b.dataset.range);
    for (const o of document.querySelectorAll("[data-range]")) o.classList.toggle("on", o === b);
    loadChart();
  });
}

connect({
  miners: ({ miners }) => {
    const u = miners.find((m) => m.id === id);
    if (!u) return;
    fill(cards, u);
    const st = document.getElementById("miner-status");
    st.textContent = u.s; st.className = `st ${u.s}`;
    cards.querySelector("[data-ago]").dataset.ago = String(u.ts);
    data[0].push(u.ts); data[1].push(u.h); data[2].push(u.x);
    if (plot) { plot.setData(data); chartEl.dataset.points = String(data[0].length); }
  },
  resync: () => loadChart(),
});

loadChart();
tickAgo(cards);
setInterval(() => tickAgo(cards), 1000);
