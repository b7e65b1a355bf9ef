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

const BINARY = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];

// Bytes with binary prefixes, as `free -h` and `df -h` print them.
export function bytes(n) {
  if (n === null || n === undefined || n === "") return "—";
  let v = Number(n), i = 0;
  while (Math.abs(v) >= 1024 && i < BINARY.length - 1) { v /= 1024; i++; }
  return i === 0 ? `${Math.round(v)} B` : `${v.toFixed(1)} ${BINARY[i]}`;
}

export function pct(v) {
  return v === null || v === undefined || v === "" ? "—" : `${Number(v).toFixed(1)} %`;
}

// `part / whole` as a number of percent, or null when either is unknown.
export function ratioPct(part, whole) {
  return part === null || part === undefined || !whole ? null : (Number(part) * 100) / Number(whole);
}

export function num2(v) {
  return v === null || v === undefined ? "—" : Number(v).toFixed(2);
}

export function mhz(v) {
  return v === null || v === undefined ? "—" : `${Math.round(v)} MHz`;
}

// GPU miners report a fan as percent or as rpm; show whichever came.
export function fan(percent, rpm) {
  if (percent !== null && percent !== undefined) return `${Math.round(percent)} %`;
  if (rpm !== null && rpm !== undefined) return `${rpm} rpm`;
  return "—";
}

export function count(v) {
  return v === null || v === undefined ? "—" : String(v);
}

// An amount in atomic units (BigInt, integer Number or digit string) as a decimal string
// with all `decimals` digits: exact for any size, never through a float.
export function coinAmount(atomic, decimals = 12) {
  if (atomic === null || atomic === undefined || atomic === "") return "—";
  let a = BigInt(atomic);
  const neg = a < 0n;
  if (neg) a = -a;
  const base = 10n ** BigInt(decimals);
  const whole = (a / base).toString(), frac = (a % base).toString().padStart(decimals, "0");
  return `${neg ? "-" : ""}${whole}${decimals ? `.${frac}` : ""}`;
}

// JSON.parse that keeps the named integer fields exact as BigInt where the browser gives
// the reviver the source text (JSON.parse source text access); integers up to 2^53 are
// exact either way.
export function parseJsonExact(text, keys = ["amount_atomic"]) {
  const wanted = new Set(keys);
  return JSON.parse(text, (key, value, context) => {
    if (!wanted.has(key) || typeof value !== "number") return value;
    if (context && typeof context.source === "string" && /^-?\d+$/.test(context.source)) return BigInt(context.source);
    return Number.isInteger(value) ? BigInt(value) : value;
  });
}

export const formats = { hashrate, power, temp, jth, bytes, pct, num2, duration, count };

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

// Atomic units per coin (as store/aggregates.py COIN_DECIMALS); null for a coin not known.
const COIN_DECIMALS = { XMR: 12, BTC: 8, BCH: 8, LTC: 8, DOGE: 8, ZEC: 8, ETC: 18, KAS: 8 };

export function coinDecimals(coin) {
  return COIN_DECIMALS[String(coin ?? "").toUpperCase()] ?? null;
}

// An atomic amount of `coin` as exact text: decimals where the coin is known, else the
// atomic integer itself, labelled so.
export function coinText(atomic, coin) {
  if (atomic === null || atomic === undefined || atomic === "") return "—";
  const d = coinDecimals(coin);
  return d === null ? `${BigInt(atomic)} atomic ${coin}` : `${coinAmount(atomic, d)} ${coin}`;
}

export function kwh(v) {
  return v === null || v === undefined ? "—" : `${Number(v).toFixed(1)} kWh`;
}

// A change with its sign: "+20.00 TH/s", "-5.0 J/TH", "0 W" (BigInt or Number).
export function signed(v, fmt) {
  if (v === null || v === undefined) return "—";
  const positive = typeof v === "bigint" ? v > 0n : v > 0;
  return `${positive ? "+" : ""}${fmt(v)}`;
}

// JSON.parse keeping every integer beyond 2^53 exact as BigInt (where the browser gives
// the reviver the source text); safe integers and fractions stay Numbers.
export function parseJsonBig(text) {
  return JSON.parse(text, (key, value, context) => {
    if (typeof value !== "number" || Number.isSafeInteger(value)) return value;
    if (context && typeof context.source === "string" && /^-?\d+$/.test(context.source)) return BigInt(context.source);
    return value;
  });
}
