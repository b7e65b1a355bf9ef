// Hashrate charts with range buttons, shared by the farm overview and the miner page.
// They read /api/v1/series with as many points as the chart is wide, so the commander
// picks the coarsest resolution that fills the pixels; the resolution it read is shown
// beside the title. Gaps (null points) are drawn as gaps, never as zero.
import { cssVar, hashrate } from "/static/format.js";

const RESOLUTION = { raw: "raw samples", "5m": "5-minute rollups", "1h": "hourly rollups", "1d": "daily rollups" };
const MAX_POINTS = 5000;
const LIVE_MAX_RANGE_S = 86400; // live samples are appended to the 1 h and 24 h charts

function step(seconds) {
  if (!seconds) return "";
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  if (seconds < 129600) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} d`;
}

function when(t) {
  return t === null || t === undefined ? "—" : `${new Date(t * 1000).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

// `section` holds the [data-range] buttons (one with class "on"), the [data-chart] element
// (data-scope="farm" | "miner:ID"), a [data-chart-res] label and a [data-chart-note].
export function hashrateChart(section, { refreshMs = 0 } = {}) {
  const el = section.querySelector("[data-chart]");
  const label = section.querySelector("[data-chart-res]");
  const note = section.querySelector("[data-chart-note]");
  const buttons = [...section.querySelectorAll("[data-range]")];
  const scope = el.dataset.scope;
  let range = Number((buttons.find((b) => b.classList.contains("on")) || buttons[0]).dataset.range);
  let plot = null;
  let data = [[], [], []];
  let asked = 0;

  function width() {
    const style = getComputedStyle(el);
    const inner = el.clientWidth - parseFloat(style.paddingLeft || "0") - parseFloat(style.paddingRight || "0");
    return Math.max(200, Math.round(inner || 800));
  }

  function mark() {
    el.dataset.points = String(data[0].length);
    el.dataset.gaps = String(data[1].filter((v) => v === null).length);
  }

  function draw() {
    const uPlot = window.uPlot;
    if (!uPlot) {
      el.textContent = "Chart library missing: run the setup command (make setup).";
      return;
    }
    const axis = cssVar("--chart-axis", "#9aa4b2"), grid = cssVar("--chart-grid", "#2a3140");
    const opts = {
      width: width(), height: 260,
      scales: {
        x: { time: true, range: () => [Date.now() / 1000 - range, Date.now() / 1000] },
        y: { range: (u, min, max) => [0, max > 0 ? max * 1.1 : 1] },
      },
      axes: [
        { stroke: axis, grid: { stroke: grid } },
        { stroke: axis, grid: { stroke: grid }, size: 90, values: (u, vals) => vals.map((v) => hashrate(v)) },
      ],
      series: [
        { value: (u, v) => when(v) },
        { label: "hashrate", stroke: cssVar("--chart-line", "#4cc38a"), width: 2, spanGaps: false, value: (u, v) => hashrate(v) },
        { label: "expected", stroke: cssVar("--chart-expected", "#8b93a7"), width: 1.5, dash: [6, 4], spanGaps: false, value: (u, v) => hashrate(v) },
      ],
    };
    if (plot) plot.destroy();
    plot = new uPlot(opts, data, el);
    mark();
  }

  async function load() {
    const mine = ++asked;
    const to = new Date(), from = new Date(to.getTime() - range * 1000);
    const points = Math.min(MAX_POINTS, width());
    const q = new URLSearchParams({ scope, metric: "hashrate", from: from.toISOString(), to: to.toISOString(), points: String(points) });
    el.setAttribute("aria-busy", "true");
    const res = await fetch(`/api/v1/series?${q}`, { credentials: "same-origin" });
    if (res.status === 401) { location.href = `/login?next=${encodeURIComponent(location.pathname)}`; return; }
    if (!res.ok) throw new Error(`series: ${res.status}`);
    const s = await res.json();
    if (mine !== asked) return; // another range was picked meanwhile
    el.removeAttribute("aria-busy");
    data = [
      s.points.map((p) => Date.parse(p.t) / 1000),
      s.points.map((p) => p.value),
      s.points.map((p) => p.expected),
    ];
    el.dataset.resolution = s.resolution;
    el.dataset.range = String(range);
    label.textContent = `${RESOLUTION[s.resolution] ?? s.resolution} · ${step(s.step_s)} per point`;
    const empty = !s.points.some((p) => p.value !== null);
    note.hidden = !empty;
    note.textContent = empty
      ? "No hashrate recorded in this range yet: the rollup job fills these charts every few minutes."
      : "";
    draw();
  }

  function pick(button) {
    range = Number(button.dataset.range);
    for (const b of buttons) {
      b.classList.toggle("on", b === button);
      b.setAttribute("aria-pressed", String(b === button));
    }
    load().catch(report);
  }

  for (const b of buttons) {
    b.setAttribute("aria-pressed", String(b.classList.contains("on")));
    b.addEventListener("click", () => pick(b));
  }

  let resizing;
  window.addEventListener("resize", () => {
    clearTimeout(resizing);
    resizing = setTimeout(() => { if (plot) plot.setSize({ width: width(), height: 260 }); }, 150);
  });

  // The theme changed (theme.js): draw again in its colours.
  window.addEventListener("rigwatch:theme", () => { if (plot) draw(); });

  if (refreshMs > 0) setInterval(() => load().catch(report), refreshMs);

  return {
    load: () => load().catch(report),
    // A live sample: appended to the short ranges, points older than the range dropped.
    append(ts, value, expected) {
      if (!plot || range > LIVE_MAX_RANGE_S) return;
      const xs = data[0];
      if (xs.length && ts <= xs[xs.length - 1]) return;
      xs.push(ts); data[1].push(value ?? null); data[2].push(expected ?? null);
      const start = Date.now() / 1000 - range;
      while (xs.length > 1 && xs[0] < start - 300) { for (const col of data) col.shift(); }
      if (value !== null && value !== undefined) note.hidden = true;
      plot.setData(data);
      mark();
    },
  };
}

function report(err) {
  console.error(err);
}
