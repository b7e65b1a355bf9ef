// Display formatting: storage holds base units, people read prefixed ones.
const SI = ["", "k", "M", "G", "T", "P", "E", "Z"];

export function hashrate(hs) {
  if (hs === null || hs === undefined) return "—";
  let v = Number(hs), i = 0;
  while (Math.abs(Number(v.toFixed(2))) >= 1000 && i < SI.length - 1) { v /= 1000; i++; }
  return `${v.toFixed(2)} ${SI[i]}H/s`;
}

export function power(w) {
  if (w === null || w === undefined) return "—";
  return Math.abs(w) >= 1000 ? `${(w / 1000).toFixed(2)} kW` : `${Math.round(w)} W`;
}

export function temp(c) {
  return c === null || c === undefined ? "—" : `${Math.round(c)} °C`;
}

export function jth(v) {
  return v === null || v === undefined ? "—" : `${v.toFixed(1)} J/TH`;
}

export function ago(epochSeconds) {
  if (!epochSeconds) return "—";
  const s = Math.max(0, Math.floor(Date.now() / 1000 - epochSeconds));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined || seconds === "") return "—";
  const s = Number(seconds), d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
  return d ? `${d} d ${h} h` : h ? `${h} h ${m} min` : `${m} min`;
}

export const formats = { hashrate, power, temp, jth };

export function fill(root, values) {
  for (const el of root.querySelectorAll("[data-field]")) {
    const name = el.dataset.field;
    if (!(name in values)) continue;
    const fmt = formats[el.dataset.fmt];
    el.textContent = fmt ? fmt(values[name]) : (values[name] ?? "—");
  }
}

export function tickAgo(root = document) {
  for (const el of root.querySelectorAll("[data-ago]")) el.textContent = ago(Number(el.dataset.ago));
}

export function escapeHtml(s) {
  return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}
