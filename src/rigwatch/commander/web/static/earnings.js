// Earnings page: revenue, power cost and profit cards, the daily and monthly tables (from
// /api/v1/profit/daily, with chain payouts from /api/v1/revenue/daily beside them) and the
// payouts table (/api/v1/revenue/transactions: search, pages, CSV). Every figure carries
// its basis (actual / expected / unknown) and shows it; an unknown one is "—".
// Sums are exact: fiat to the API's 6 decimals and satoshis to its 3 in BigInt, chain
// amounts in atomic units (BigInt). Outside text (labels, addresses, txids) goes in with
// textContent only.
import {
  btc, coinText, currencyPicker, el, grouped, hashrate, jth, kwh, middle, money, ago,
  parseJsonExact, savedCurrency, scaledBig, utc,
} from "/static/format.js";

const PAGE_SIZE = 25;
const REFRESH_MS = 300000;
const MONEY_DIGITS = 6; // the API rounds money to millionths (commander/api/profit.py)
const SAT_DIGITS = 3; // and expected satoshis to thousandths
const BASIS_TEXT = {
  actual: "actual: from payouts on the chain and the miners' own readings",
  expected: "expected: from the odds, or a model's rated efficiency",
  unknown: "unknown: an input is missing",
};

const $ = (id) => document.getElementById(id);
const dayButtons = [...document.querySelectorAll("[data-days]")];
const search = $("payout-search");
const csv = $("payout-csv");
let currency = savedCurrency();
let days = 30;
let profit = null; // the last /profit/daily answer
let received = []; // the last /revenue/daily items
let payoutPage = 1;
let askedProfit = 0;
let askedPayouts = 0;

async function getText(url) {
  const res = await fetch(url, { credentials: "same-origin" });
  if (res.status === 401) { location.href = "/login?next=/earnings"; throw new Error("signed out"); }
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  return res.text();
}

// -- figures and their basis -------------------------------------------------------------

const fiat = (v) => money(v, currency);
const fiatFine = (v) => money(v, currency, { digits: 4 });

function basisPill(basis) {
  return el("span", { class: `basis ${basis}`, title: BASIS_TEXT[basis] ?? basis, dataset: { basis } }, basis);
}

// A table cell for one figure: "—" when unknown, "≈ " before an expected value.
function figCell(fig, fmt, extraTitle = "") {
  const basis = fig?.basis ?? "unknown";
  const known = fig && fig.value !== null && fig.value !== undefined && basis !== "unknown";
  const text = known ? `${basis === "expected" ? "≈ " : ""}${fmt(fig.value)}` : "—";
  const title = [BASIS_TEXT[basis], extraTitle].filter(Boolean).join(" · ");
  return el("td", { class: `num basis-${basis}`, title, dataset: { basis } }, text);
}

const hasData = (row) => row.miners > 0;

// The sum of one figure over the rows with mining data: unknown if any of them is (a sum
// missing a part would understate), expected if any is, else actual. Exact in BigInt.
function total(rows, key, digits) {
  const used = rows.filter(hasData);
  const unknown = used.filter((r) => r.figures[key].basis === "unknown" || r.figures[key].value === null).length;
  if (!used.length || unknown) return { value: null, big: null, basis: "unknown", days: used.length, unknown };
  const big = used.reduce((a, r) => a + scaledBig(r.figures[key].value, digits), 0n);
  const basis = used.some((r) => r.figures[key].basis === "expected") ? "expected" : "actual";
  return { value: Number(big) / 10 ** digits, big, basis, days: used.length, unknown: 0 };
}

// Satoshis of a total as BTC: exact when actual (whole satoshis), rounded when expected.
function totalBtc(t) {
  if (t.big === null) return "—";
  const sats = t.big / 10n ** BigInt(SAT_DIGITS);
  if (t.basis === "actual" && t.big % 10n ** BigInt(SAT_DIGITS) === 0n) return btc(sats);
  return btc(Number(t.big) / 10 ** SAT_DIGITS);
}

function figureText(fig, fmt) {
  return fig && fig.basis !== "unknown" && fig.value !== null ? `${fig.basis === "expected" ? "≈ " : ""}${fmt(fig.value)}` : "—";
}

// Why a day's figures are unknown, in words (what the operator can fix).
function reasons(row) {
  const f = row.figures, out = [];
  if (f.hashrate_hs.basis === "unknown") out.push("no hashrate readings");
  if (f.revenue_sat.basis === "unknown") {
    if (f.gross_revenue_sat.basis === "unknown") out.push("no difficulty or block reward (network figures) for the day");
    else if (f.pool_fee_sat.basis === "unknown") out.push("no pool fee set for a site");
  } else if (f.revenue.basis === "unknown") out.push(`no ${currency} price for the day`);
  if (f.energy_kwh.basis === "unknown") out.push("no power readings and no rated efficiency for a model");
  else if (f.power_cost.basis === "unknown") out.push(`no power price for a site (or no price to convert it to ${currency})`);
  return out;
}

// -- cards ---------------------------------------------------------------------------------

const CARDS = {
  revenue: { key: "revenue", coin: (rows) => `${totalBtc(total(rows, "revenue_sat", SAT_DIGITS))} after the pool's fee` },
  power_cost: { key: "power_cost", coin: (rows) => { const e = total(rows, "energy_kwh", 6); return e.value === null ? "energy —" : `${e.basis === "expected" ? "≈ " : ""}${kwh(e.value)}`; } },
  profit: { key: "profit", coin: () => "revenue − power cost" },
};

function dayLine(label, row, key, fmt) {
  if (!row || !hasData(row)) return [`${label}: no data`];
  const fig = row.figures[key];
  return [`${label}: `, el("span", { dataset: { fig: key } }, figureText(fig, fmt)), " ", basisPill(fig.basis)];
}

function renderCards(rows) {
  const today = rows.find((r) => r.partial) ?? null;
  const full = rows.filter((r) => !r.partial);
  const yesterday = full[0] ?? null;
  const withData = rows.filter(hasData).length;
  for (const [name, spec] of Object.entries(CARDS)) {
    const card = document.querySelector(`[data-card="${name}"]`);
    const t = total(rows, spec.key, MONEY_DIGITS);
    card.dataset.basis = t.basis;
    card.querySelector("h2 .basis").replaceWith(basisPill(t.basis));
    card.querySelector("[data-value]").textContent = t.value === null ? "—" : `${t.basis === "expected" ? "≈ " : ""}${fiat(t.value)}`;
    card.querySelector("[data-coin]").textContent = withData ? spec.coin(rows) : "\u00a0";
    card.querySelector("[data-span]").textContent = withData
      ? `last ${days} days · ${withData} with mining data${t.unknown ? ` · unknown on ${t.unknown}` : ""}`
      : `no mining data in the last ${days} days`;
    card.querySelector("[data-yesterday]").replaceChildren(...dayLine(yesterday ? `${yesterday.day}` : "yesterday", yesterday, spec.key, fiat));
    card.querySelector("[data-today]").replaceChildren(...dayLine("today so far", today, spec.key, fiat));
  }
  // Hashprice is a rate: the last full day's, not a sum.
  const card = document.querySelector('[data-card="hashprice"]');
  const last = full.find(hasData) ?? null;
  const fig = last ? last.figures.hashprice : { value: null, basis: "unknown" };
  card.dataset.basis = fig.basis;
  card.querySelector("h2 .basis").replaceWith(basisPill(fig.basis));
  card.querySelector("[data-value]").textContent = figureText(fig, fiatFine);
  card.querySelector("[data-coin]").textContent = last ? `${figureText(last.figures.hashprice_sat, (v) => Number(v).toFixed(1))} sat per TH/s per day` : "\u00a0";
  card.querySelector("[data-span]").textContent = last ? `per TH/s per day on ${last.day}` : "no full day with mining data";
  card.querySelector("[data-yesterday]").replaceChildren(...(last ? dayLine("break-even power", last, "break_even_per_kwh", (v) => `${fiatFine(v)}/kWh`) : ["\u00a0"]));
  card.querySelector("[data-today]").replaceChildren(...dayLine("today so far", today, "hashprice", fiatFine));
}

// -- received (chain payouts per day, exact) --------------------------------------------

function receivedBy(day) {
  return received.filter((r) => r.day === day);
}

function receivedText(items) {
  const byCoin = new Map();
  for (const r of items) byCoin.set(r.coin, (byCoin.get(r.coin) ?? 0n) + BigInt(r.amount_atomic));
  if (!byCoin.size) return "—";
  return [...byCoin].sort(([a], [b]) => a.localeCompare(b)).map(([coin, atomic]) => coinText(atomic, coin)).join(" + ");
}

// -- daily and monthly tables --------------------------------------------------------------

const POWER_NOTE = { estimated: "estimated from the models' rated efficiency", mixed: "partly estimated from the models' rated efficiency", unknown: "some miners have neither a reading nor a rated efficiency" };

function dailyRow(r) {
  const f = r.figures;
  const dayCell = el("td", { class: "day" }, r.day);
  if (r.partial) dayCell.append(" ", el("span", { class: "pill partial", title: "today: midnight UTC to now" }, "so far"));
  const why = reasons(r);
  const tr = el("tr", { dataset: { day: r.day, miners: r.miners }, title: why.length ? `unknown: ${why.join("; ")}` : null });
  const rec = receivedText(receivedBy(r.day));
  tr.append(
    dayCell,
    figCell(f.hashrate_hs, hashrate),
    figCell(f.energy_kwh, kwh, POWER_NOTE[r.power_source] ?? ""),
    figCell(f.efficiency_j_th, jth),
    figCell(f.revenue_sat, btc),
    figCell(f.revenue, fiat),
    figCell(f.pool_fee, fiat),
    figCell(f.power_cost, fiat),
    figCell(f.profit, fiat),
    figCell(f.hashprice, fiatFine),
    figCell(f.break_even_per_kwh, fiatFine),
    el("td", { class: "num mono", title: rec, dataset: { col: "received" } }, rec),
  );
  tr.children[8].dataset.col = "profit";
  tr.children[5].dataset.col = "revenue";
  tr.children[7].dataset.col = "power_cost";
  if (f.profit.value !== null && f.profit.basis !== "unknown") tr.children[8].classList.add(f.profit.value < 0 ? "loss" : "gain");
  return tr;
}

function emptyRow(cols, text) {
  return el("tr", {}, el("td", { colspan: cols, class: "sub" }, text));
}

function renderDaily(rows) {
  const shown = rows.filter((r) => hasData(r) || receivedBy(r.day).length);
  const body = $("daily-rows");
  body.replaceChildren(...(shown.length ? shown.map(dailyRow) : [emptyRow(12, `no mining data and no payout in the last ${days} days`)]));
  const hidden = rows.length - shown.length;
  $("daily-about").textContent = `· newest first, in ${currency}${hidden ? ` · ${hidden} of ${rows.length} days without mining data or payouts not shown` : ""}`;
}

function figTotalCell(t, fmt) {
  return figCell({ value: t.value, basis: t.basis }, fmt, t.unknown ? `unknown on ${t.unknown} of ${t.days} days` : "");
}

function renderMonthly(rows) {
  const months = new Map();
  for (const r of rows) {
    const m = r.day.slice(0, 7);
    if (!months.has(m)) months.set(m, []);
    months.get(m).push(r);
  }
  const first = rows.at(-1)?.day;
  const trs = [...months.keys()].sort().reverse().flatMap((m) => {
    const part = months.get(m);
    const used = part.filter(hasData);
    const covered = first && first > `${m}-01` ? ` (from ${first.slice(8)})` : "";
    const running = part.some((r) => r.partial) ? " (so far)" : "";
    const t = (key, digits) => total(part, key, digits);
    const sat = t("revenue_sat", SAT_DIGITS);
    const energy = t("energy_kwh", 6);
    const rec = receivedText(received.filter((x) => x.day.startsWith(m) && (!first || x.day >= first)));
    if (!used.length && rec === "—") return []; // a month without mining data or payouts
    const tr = el("tr", { dataset: { month: m } },
      el("td", {}, `${m}${covered}${running}`),
      el("td", { class: "num" }, String(used.length)),
      figTotalCell(energy, kwh),
      el("td", { class: `num basis-${sat.basis}`, title: BASIS_TEXT[sat.basis], dataset: { basis: sat.basis } }, sat.big === null ? "—" : `${sat.basis === "expected" ? "≈ " : ""}${totalBtc(sat)}`),
      figTotalCell(t("revenue", MONEY_DIGITS), fiat),
      figTotalCell(t("pool_fee", MONEY_DIGITS), fiat),
      figTotalCell(t("power_cost", MONEY_DIGITS), fiat),
      figTotalCell(t("profit", MONEY_DIGITS), fiat),
      el("td", { class: "num mono", title: rec, dataset: { col: "received" } }, rec),
    );
    tr.children[4].dataset.col = "revenue";
    tr.children[7].dataset.col = "profit";
    return [tr];
  });
  $("monthly-rows").replaceChildren(...(trs.length ? trs : [emptyRow(9, "no month with data")]));
}

function renderNotice(p) {
  const counts = new Map();
  for (const r of p.rows.filter(hasData)) for (const why of reasons(r)) counts.set(why, (counts.get(why) ?? 0) + 1);
  const parts = [...counts].map(([why, n]) => `${why} (${n} ${n === 1 ? "day" : "days"})`);
  if (p.excluded_miners) parts.push(`${p.excluded_miners} ${p.excluded_miners === 1 ? "miner is" : "miners are"} not mining Bitcoin and not counted`);
  const notice = $("earn-notice");
  notice.hidden = !parts.length;
  notice.textContent = parts.length ? `Some figures are unknown or left out: ${parts.join("; ")}.` : "";
}

function render() {
  if (!profit) return;
  renderCards(profit.rows);
  renderDaily(profit.rows);
  renderMonthly(profit.rows);
  renderNotice(profit);
  document.body.dataset.currency = profit.currency;
}

async function loadFigures() {
  const mine = ++askedProfit;
  const code = currency;
  const [p, r] = await Promise.all([
    getText(`/api/v1/profit/daily?days=${days}&by=farm&currency=${encodeURIComponent(code)}`).then((t) => JSON.parse(t)),
    getText(`/api/v1/revenue/daily?days=${days}`).then((t) => parseJsonExact(t, ["amount_atomic"])),
  ]);
  if (mine !== askedProfit) return;
  profit = p;
  received = r.items ?? [];
  render();
  $("earn-cards").dataset.loaded = `${code}:${days}`;
}

function reloadFigures() {
  loadFigures().catch((err) => {
    console.error(err);
    const notice = $("earn-notice");
    notice.hidden = false;
    notice.textContent = "Could not read the earnings figures; retrying in a few minutes.";
  });
}

// -- payouts table -------------------------------------------------------------------------

function payoutRow(p) {
  const t = Date.parse(p.ts) / 1000;
  const wallet = el("td", { class: "name", title: `${p.coin} ${p.address}` });
  if (p.label) wallet.append(el("span", { class: "wallet-label" }, p.label), " ", el("span", { class: "sub mono" }, middle(p.address, 6)));
  else wallet.append(el("span", { class: "mono" }, middle(p.address, 10)));
  return el("tr", { dataset: { payment: p.id } },
    el("td", { title: ago(t) }, utc(p.ts)),
    wallet,
    el("td", { class: "num mono", dataset: { col: "amount" } }, coinText(p.amount_atomic, p.coin)),
    el("td", { class: "num" }, grouped(p.block_height)),
    el("td", { class: "mono", title: `${p.txid}:${p.vout}` }, `${middle(p.txid)}:${p.vout}`),
    el("td", {}, p.coinbase ? el("span", { class: "pill", title: "paid in the block's coinbase: mined, not transferred" }, "coinbase") : ""),
  );
}

function query() {
  return search.value.trim();
}

async function loadPayouts() {
  const mine = ++askedPayouts;
  const q = query();
  const params = new URLSearchParams({ page: String(payoutPage), limit: String(PAGE_SIZE) });
  if (q) params.set("q", q);
  const page = parseJsonExact(await getText(`/api/v1/revenue/transactions?${params}`), ["amount_atomic"]);
  if (mine !== askedPayouts) return;
  const body = $("payout-rows");
  body.replaceChildren(...(page.items.length ? page.items.map(payoutRow) : [emptyRow(6, q ? "no payout matches the search" : "no payout received yet: watch a wallet (POST /api/v1/wallets)")]));
  const from = page.total ? (page.page - 1) * page.limit + 1 : 0;
  const to = (page.page - 1) * page.limit + page.items.length;
  $("payout-page").textContent = page.total ? `${from}–${to} of ${page.total}` : "";
  $("payout-count").textContent = `· ${page.total} ${page.total === 1 ? "payment" : "payments"}${q ? " match" : ""}`;
  $("payout-prev").disabled = page.page <= 1;
  $("payout-next").disabled = to >= page.total;
  $("payout-rows").dataset.total = String(page.total);
  csv.href = `/earnings/payments.csv${q ? `?q=${encodeURIComponent(q)}` : ""}`;
}

function reloadPayouts() {
  loadPayouts().catch((err) => {
    console.error(err);
    $("payout-rows").replaceChildren(emptyRow(6, "could not read the payouts; retrying in a few minutes"));
  });
}

// -- wiring -------------------------------------------------------------------------------

currency = currencyPicker($("currency"), (code) => { currency = code; reloadFigures(); });
for (const b of dayButtons) {
  b.addEventListener("click", () => {
    days = Number(b.dataset.days);
    for (const x of dayButtons) { x.classList.toggle("on", x === b); x.setAttribute("aria-pressed", String(x === b)); }
    reloadFigures();
  });
}
let typing;
search.addEventListener("input", () => { clearTimeout(typing); typing = setTimeout(() => { payoutPage = 1; reloadPayouts(); }, 250); });
$("payout-prev").addEventListener("click", () => { if (payoutPage > 1) { payoutPage--; reloadPayouts(); } });
$("payout-next").addEventListener("click", () => { payoutPage++; reloadPayouts(); });
reloadFigures();
reloadPayouts();
setInterval(() => { reloadFigures(); reloadPayouts(); }, REFRESH_MS);
