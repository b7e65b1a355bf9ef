// Overview: network and price cards (tip height, difficulty, network hashrate, next
// adjustment, fee estimates, BTC price in the chosen currency) from /api/v1/network and
// /api/v1/prices. Each card shows how old its value is; one older than the section's
// data-stale-after (seconds) is flagged stale, one never fetched shows "—", never a
// stand-in. Ages are counted from the commander's `age_s`, so a browser clock that is
// off does not make a value look fresh or stale.
import { ago, currencyPicker, fromNow, grouped, hashrate, money, savedCurrency, si, utc } from "/static/format.js";
import { getJson } from "/static/api.js";

const REFRESH_MS = 60000;
const section = document.getElementById("network");
const about = document.getElementById("network-about");
const select = document.getElementById("currency");
const STALE_AFTER_S = Number(section.dataset.staleAfter || 900);
const card = (name) => section.querySelector(`[data-figure="${name}"]`);
let currency = savedCurrency();
let asked = 0;

// The oldest of the figures given (a card built from several is as old as its oldest),
// as a local epoch: when the value was learned, by this browser's clock.
function learnedAt(figures, readLocal) {
  const known = figures.filter((f) => f && typeof f.age_s === "number");
  if (!known.length) return null;
  return readLocal - Math.max(...known.map((f) => f.age_s));
}

function asOfTitle(figures) {
  const known = figures.filter((f) => f && f.as_of);
  return known.length ? `as of ${known.map((f) => utc(f.as_of)).sort()[0]}` : "";
}

function show(name, { value, detail = "", detailTitle = "", figures, readLocal, never = "never fetched" }) {
  const c = card(name);
  c.dataset.never = never;
  const at = learnedAt(figures, readLocal);
  c.querySelector("[data-value]").textContent = at === null ? "—" : value;
  const d = c.querySelector("[data-detail]");
  d.textContent = at === null ? "\u00a0" : detail || "\u00a0";
  d.title = at === null ? "" : detailTitle;
  if (at === null) delete c.dataset.learned;
  else c.dataset.learned = String(at);
  c.title = at === null ? "" : asOfTitle(figures);
  tickCard(c);
}

// Age line: "3 min ago", or a stale flag with the age, or "never fetched".
function tickCard(c) {
  const line = c.querySelector("[data-age-line]");
  if (c.dataset.learned === undefined) {
    c.dataset.state = "never";
    line.textContent = c.dataset.never || "never fetched";
    return;
  }
  const at = Number(c.dataset.learned);
  const age = Date.now() / 1000 - at;
  const stale = age > STALE_AFTER_S;
  c.dataset.state = stale ? "stale" : "fresh";
  c.dataset.ageS = String(Math.round(age));
  const text = document.createElement("span");
  text.dataset.ageText = "";
  text.textContent = ago(at);
  if (stale) {
    const pill = document.createElement("span");
    pill.className = "pill stale";
    pill.dataset.testid = "stale";
    pill.textContent = "stale";
    pill.title = `older than ${Math.round(STALE_AFTER_S / 60)} min: the source may be failing`;
    line.replaceChildren(pill, " last value ", text);
  } else {
    line.replaceChildren(text);
  }
}

function tick() {
  for (const c of section.querySelectorAll("[data-figure]")) tickCard(c);
}

function pctSigned(v) {
  return `${v > 0 ? "+" : ""}${Number(v).toFixed(2)} %`;
}

function renderNetwork(n, readLocal) {
  show("height", { value: n.height ? grouped(n.height.value) : "—", detail: `chain ${n.chain}`, figures: [n.height], readLocal });
  show("difficulty", {
    value: n.difficulty ? si(n.difficulty.value) : "—",
    detail: n.difficulty ? grouped(n.difficulty.value) : "",
    figures: [n.difficulty],
    readLocal,
  });
  show("hashrate", { value: n.hashrate_hs ? hashrate(n.hashrate_hs.value) : "—", detail: "explorer's estimate", figures: [n.hashrate_hs], readLocal });

  const adj = n.next_adjustment || {};
  const parts = [];
  if (adj.height) parts.push(`at height ${grouped(adj.height.value)}`);
  if (adj.estimated_at) parts.push(fromNow(Date.parse(adj.estimated_at.value) / 1000));
  show("adjustment", {
    value: adj.difficulty_change_pct ? `${pctSigned(adj.difficulty_change_pct.value)} est.` : "—",
    detail: parts.join(" · "),
    detailTitle: adj.estimated_at ? `estimated at ${utc(adj.estimated_at.value)}` : "",
    figures: [adj.height, adj.estimated_at, adj.difficulty_change_pct],
    readLocal,
  });

  const fees = n.fees || {};
  const rate = (f) => (f ? String(Number(f.value.toFixed(1))) : "—");
  show("fees", {
    value: fees.fast ? `${rate(fees.fast)} fast` : "—",
    detail: `30 min ${rate(fees.half_hour)} · 1 h ${rate(fees.hour)} · economy ${rate(fees.economy)}`,
    figures: [fees.fast, fees.half_hour, fees.hour, fees.economy],
    readLocal,
  });
}

function renderPrice(p, readLocal) {
  section.querySelector("[data-currency-label]").textContent = currency;
  const found = (p.prices || []).find((x) => x.currency === currency);
  const others = (p.prices || []).filter((x) => x.currency !== currency).length;
  show("price", {
    value: found ? money(found.price, currency) : "—",
    detail: found ? `quoted ${utc(found.as_of)}` : "",
    detailTitle: others ? `also quoted in ${others} other currencies` : "",
    figures: found ? [{ as_of: found.as_of, age_s: found.age_s ?? 0 }] : [],
    readLocal,
    never: `never fetched in ${currency}`,
  });
}

async function load() {
  const mine = ++asked;
  try {
    const [n, p] = await Promise.all([getJson("/api/v1/network"), getJson(`/api/v1/prices?coin=BTC`)]);
    if (mine !== asked) return;
    const readLocal = Date.now() / 1000;
    renderNetwork(n, readLocal);
    renderPrice(p, readLocal);
    about.textContent = "";
    section.dataset.loaded = "true";
  } catch (err) {
    console.error(err);
    if (mine === asked) about.textContent = "· could not read the network figures; showing the last ones read";
  }
}

currency = currencyPicker(select, (code) => { currency = code; load(); });
load();
setInterval(tick, 5000);
setInterval(load, REFRESH_MS);
