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

// -- money, ages and the chosen currency (earnings, blocks and the overview's network cards)

// The fiat currencies the price feed quotes (domain/network.py FIAT_CURRENCIES).
export const CURRENCIES = ["USD", "EUR", "GBP", "CAD", "CHF", "AUD", "JPY"];
const CURRENCY_KEY = "rigwatch.currency";

// The currency the user chose last (localStorage), USD until one was chosen.
export function savedCurrency() {
  try {
    const c = localStorage.getItem(CURRENCY_KEY);
    return CURRENCIES.includes(c) ? c : "USD";
  } catch {
    return "USD";
  }
}

export function saveCurrency(code) {
  try { localStorage.setItem(CURRENCY_KEY, code); } catch { /* private mode: not remembered */ }
}

// Fill a <select> with the currencies, select the saved one, remember a change and call
// `onChange(code)`; another tab's choice is followed too.
export function currencyPicker(select, onChange) {
  select.replaceChildren(...CURRENCIES.map((c) => new Option(c, c)));
  select.value = savedCurrency();
  select.addEventListener("change", () => { saveCurrency(select.value); onChange(select.value); });
  window.addEventListener("storage", (e) => {
    if (e.key === CURRENCY_KEY && CURRENCIES.includes(e.newValue) && e.newValue !== select.value) {
      select.value = e.newValue;
      onChange(e.newValue);
    }
  });
  return select.value;
}

const MONEY = new Map();

// A fiat amount as people read it: "$1,234.56", "€0.42", "¥123,457"; null → "—".
export function money(v, currency, { digits } = {}) {
  if (v === null || v === undefined || v === "" || !Number.isFinite(Number(v))) return "—";
  const key = `${currency}:${digits ?? ""}`;
  if (!MONEY.has(key)) {
    const opts = { style: "currency", currency };
    if (digits !== undefined) { opts.minimumFractionDigits = digits; opts.maximumFractionDigits = digits; }
    MONEY.set(key, new Intl.NumberFormat("en-US", opts));
  }
  return MONEY.get(key).format(Number(v));
}

// A number with an SI prefix and no unit: 1.23e14 → "123.00 T".
export function si(v, digits = 2) {
  if (v === null || v === undefined || v === "") return "—";
  let x = Number(v), i = 0;
  while (Math.abs(Number(x.toFixed(digits))) >= 1000 && i < SI.length - 1) { x /= 1000; i++; }
  return `${x.toFixed(digits)}${SI[i] ? ` ${SI[i]}` : ""}`;
}

// An integer with thousands separators ("903,168"), exact for BigInt too.
export function grouped(v) {
  if (v === null || v === undefined || v === "") return "—";
  return typeof v === "bigint" ? v.toLocaleString("en-US") : Number(v).toLocaleString("en-US", { maximumFractionDigits: 0 });
}

// A decimal Number (as the API rounds it: `digits` places at most) as a BigInt scaled by
// 10^digits, through its decimal text, never through a multiplication: sums of these are
// exact. Integers (actual satoshis) stay exact up to 1e21.
export function scaledBig(v, digits) {
  if (typeof v === "bigint") return v * 10n ** BigInt(digits);
  const text = Number(v).toFixed(digits);
  return BigInt(digits ? text.replace(".", "") : text);
}

// Satoshis (BigInt, integer Number, or a decimal Number of an expectation) as BTC with
// 8 decimals; a fraction of a satoshi is rounded half up to a whole one.
export function btc(sats) {
  if (sats === null || sats === undefined || sats === "") return "—";
  const whole = typeof sats === "bigint" || Number.isInteger(sats) ? BigInt(sats) : BigInt(Math.round(Number(sats)));
  return `${coinAmount(whole, 8)} BTC`;
}

// Seconds ago or ahead of now as people say it: "3 min ago", "in 2 d 4 h".
export function fromNow(epochSeconds) {
  if (epochSeconds === null || epochSeconds === undefined || epochSeconds === "" || Number.isNaN(Number(epochSeconds))) return "—";
  const delta = Number(epochSeconds) - Date.now() / 1000;
  return delta > 0 ? `in ${duration(delta)}` : ago(Number(epochSeconds) || 1e-9);
}

// A long wait: minutes and hours as `duration`, then days, then years ("≈ 1,234 years").
export function longDuration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(Number(seconds))) return "—";
  const s = Number(seconds), year = 365.25 * 86400;
  if (s < 30 * 86400) return duration(s);
  if (s < year) return `${Math.round(s / 86400)} days`;
  const y = s / year;
  return `≈ ${y < 10 ? y.toFixed(1) : Math.round(y).toLocaleString("en-US")} years`;
}

// A UTC time as "2025-01-31 14:05 UTC".
export function utc(ts) {
  if (!ts) return "—";
  const d = new Date(ts);
  return Number.isNaN(d.getTime()) ? "—" : `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

// A long identifier (txid, address, hash) cut in the middle: "1a2b3c4d…9e8f7a6b".
export function middle(s, keep = 8) {
  const t = String(s ?? "");
  return t.length > keep * 2 + 1 ? `${t.slice(0, keep)}…${t.slice(-keep)}` : t;
}

// A DOM element with text content (never markup): el("td", { class: "num", title }, "text").
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "dataset") Object.assign(node.dataset, v);
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

// A CSS custom property of the page's current theme ("--chart-axis" → "#9aa4b2").
export function cssVar(name, fallback = "") {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}
