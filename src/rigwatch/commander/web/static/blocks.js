// Blocks page: the farm's solo odds (/api/v1/profit/solo), the blocks it found
// (block_found events by "you", with their effort), the blocks found by the pools it
// mines on (/api/v1/pools/{id}, and P2Pool's log) and the network's newest blocks
// (/api/v1/network/blocks). Pool names, finders and hashes come from outside: they go in
// with textContent only. Amounts stay exact (BigInt) until printed.
import {
  ago, btc, coinText, currencyPicker, el, grouped, hashrate, longDuration, middle, money,
  parseJsonExact, savedCurrency, si, utc,
} from "/static/format.js";
import { getJson } from "/static/api.js";

const REFRESH_MS = 60000;
const EVENTS = 100;
const MAX_POOLS = 20;
const BY = { you: "you", this_p2pool: "this P2Pool", someone_else: "someone else in this P2Pool" };
const $ = (id) => document.getElementById(id);
const solo = (name) => document.querySelector(`[data-solo="${name}"]`);
let currency = savedCurrency();
let efforts = []; // the farm's blocks with their effort, from /profit/solo
const minerNames = new Map();

function emptyRow(cols, text) {
  return el("tr", {}, el("td", { colspan: cols, class: "sub" }, text));
}

function when(ts) {
  if (!ts) return el("td", {}, "—");
  return el("td", { title: utc(ts), dataset: { ago: Date.parse(ts) / 1000 } }, ago(Date.parse(ts) / 1000));
}

// A probability in percent with as many digits as it takes to be read: 0.00031 %.
function chance(p) {
  if (p === null || p === undefined) return "—";
  const v = p * 100;
  return v >= 1 ? `${v.toFixed(1)} %` : `${Number(v.toPrecision(2))} %`;
}

// A percentage that may be tiny (the effort of a small farm's lucky block) or huge (its
// luck): grouped with one decimal from 1 % up, two significant digits below.
function pctWide(v) {
  if (v === null || v === undefined) return "—";
  return Math.abs(v) >= 1 ? `${Number(v).toLocaleString("en-US", { maximumFractionDigits: 1 })} %` : `${Number(Number(v).toPrecision(2))} %`;
}

// -- solo odds ---------------------------------------------------------------------------

async function loadSolo() {
  const s = await getJson(`/api/v1/profit/solo?currency=${encodeURIComponent(currency)}`);
  efforts = s.blocks ?? [];
  solo("hashrate").textContent = s.hashrate_hs === null ? "—" : hashrate(s.hashrate_hs);
  solo("miners").textContent = `${s.miners} Bitcoin ${s.miners === 1 ? "miner" : "miners"} reporting now`;
  solo("one_in").textContent = s.one_in === null ? "—" : `1 in ${grouped(Math.round(s.one_in))}`;
  solo("share").textContent = s.share === null
    ? "network hashrate unknown"
    : `of the network's blocks · network ${hashrate(s.network_hashrate_hs)}, ${ago(Date.parse(s.network_hashrate_at) / 1000)}`;
  solo("p_day").textContent = s.p_block_per_day === null ? "—" : `${chance(s.p_block_per_day)} a day`;
  const year = s.blocks_per_day === null ? null : 1 - Math.exp(-s.blocks_per_day * 365.25);
  solo("per_day").textContent = s.blocks_per_day === null ? "\u00a0" : `${chance(year)} a year · ${Number(s.blocks_per_day.toPrecision(3))} blocks a day`;
  solo("wait").textContent = longDuration(s.expected_seconds_to_block);
  solo("difficulty").textContent = s.difficulty === null ? "difficulty unknown" : `on average · difficulty ${si(s.difficulty)}, ${ago(Date.parse(s.difficulty_at) / 1000)}`;
  solo("revenue").textContent = s.expected_revenue_per_day === null ? "—" : `${money(s.expected_revenue_per_day, currency, { digits: 4 })} a day`;
  solo("revenue_sat").textContent = s.expected_revenue_sat_per_day === null ? (s.price === null ? `no ${currency} price` : "\u00a0") : `${btc(s.expected_revenue_sat_per_day)} a day`;
  const o = s.overall;
  solo("effort").textContent = pctWide(o.effort_pct);
  solo("luck").textContent = o.blocks
    ? `${o.blocks} ${o.blocks === 1 ? "block" : "blocks"}${o.luck_pct === null ? "" : ` · luck ${pctWide(o.luck_pct)}`}`
    : "no block found yet";
  $("solo-about").textContent = `· the farm's Bitcoin miners as one solo miner, in ${currency}`;
}

// -- the farm's blocks -------------------------------------------------------------------

async function minerName(id) {
  if (id === null || id === undefined) return null;
  if (!minerNames.has(id)) {
    minerNames.set(id, getJson(`/api/v1/miners/${Number(id)}`).then((m) => m.row.hostname || m.row.ip || m.row.key).catch(() => `miner ${id}`));
  }
  return minerNames.get(id);
}

function effortOf(e) {
  const t = Date.parse(e.ts);
  return efforts.find((b) => Date.parse(b.ts) === t && (b.miner_id === null || b.miner_id === e.miner_id)) ?? null;
}

async function farmBlockRow(e) {
  const d = e.data || {};
  const name = await minerName(e.miner_id);
  const found = effortOf(e);
  const effort = found ? pctWide(found.effort.effort_pct) : "—";
  const accepted = d.accepted === true ? "accepted" : d.accepted === false ? "rejected" : "—";
  return el("tr", { class: "own", dataset: { event: e.id } },
    when(e.ts),
    el("td", {}, String(d.coin ?? "—")),
    el("td", { class: "num" }, grouped(d.block_height ?? d.height ?? null)),
    el("td", { class: "name" }, name === null ? "—" : el("a", { href: `/miners/${Number(e.miner_id)}` }, name)),
    el("td", {}, accepted),
    el("td", { class: "num", title: found ? "hashes done since the previous block / hashes a block takes on average" : "not a Bitcoin miner's block, or no hourly data" }, effort),
  );
}

async function loadEvents() {
  const events = await getJson(`/api/v1/events?kind=block_found&limit=${EVENTS}`);
  const ours = events.filter((e) => (e.data || {}).by === "you");
  const rows = await Promise.all(ours.map(farmBlockRow));
  $("farm-block-rows").replaceChildren(...(rows.length ? rows : [emptyRow(6, "the farm has not found a block yet")]));
  $("farm-blocks-about").textContent = ours.length ? `· ${ours.length} newest` : "";
  return events.filter((e) => (e.data || {}).by && (e.data || {}).by !== "you");
}

// -- the pools' blocks -------------------------------------------------------------------

// A wallet address (95 characters for Monero) is cut in the middle; the title keeps it whole.
function finderText(finder) {
  if (!finder) return "—";
  return finder.length > 40 && /^[A-Za-z0-9]+$/.test(finder) ? middle(finder, 12) : finder;
}

function poolBlockRow(b) {
  return el("tr", { dataset: { pool: b.poolId ?? "log" } },
    el("td", { class: "name", dataset: { col: "pool" } }, b.pool, " ", el("span", { class: "sub" }, b.kind)),
    el("td", {}, b.coin ?? "—"),
    el("td", { class: "num" }, grouped(b.height)),
    when(b.ts),
    el("td", { class: "num mono" }, b.reward === null || b.reward === undefined ? "—" : coinText(b.reward, b.coin ?? "BTC")),
    el("td", { class: "name", title: b.finder ?? "" }, finderText(b.finder)),
    el("td", { class: "mono", title: b.hash || "" }, b.hash ? middle(b.hash) : "—"),
  );
}

async function loadPoolBlocks(p2poolOthers) {
  const found = [];
  let note = "";
  try {
    const accounts = await getJson("/api/v1/pools");
    const details = await Promise.all(accounts.slice(0, MAX_POOLS).map((a) => getJson(`/api/v1/pools/${Number(a.id)}`, ["reward_atomic"])));
    for (const d of details) {
      const a = d.account;
      for (const b of d.blocks) {
        found.push({ poolId: a.id, pool: a.name, kind: a.kind, coin: a.latest?.coin ?? null, height: b.height, ts: b.ts, reward: b.reward_atomic, finder: b.finder, hash: b.hash });
      }
    }
    note = accounts.length ? `· ${accounts.length} pool ${accounts.length === 1 ? "account" : "accounts"}` : "· no pool account watched (POST /api/v1/pools)";
  } catch (err) {
    if (err.status !== 404) throw err;
    note = "· pool accounts are not available on this commander";
  }
  for (const e of p2poolOthers) {
    const d = e.data || {};
    found.push({ poolId: null, pool: "P2Pool", kind: "node log", coin: d.coin ?? null, height: d.block_height ?? null, ts: e.ts, reward: null, finder: BY[d.by] ?? d.by, hash: "" });
  }
  found.sort((a, b) => (Date.parse(b.ts ?? 0) || 0) - (Date.parse(a.ts ?? 0) || 0) || (b.height ?? 0) - (a.height ?? 0));
  $("pool-block-rows").replaceChildren(...(found.length ? found.map(poolBlockRow) : [emptyRow(7, "no block found by the pools yet")]));
  $("pool-blocks-about").textContent = note;
}

// -- network blocks ----------------------------------------------------------------------

async function loadNetworkBlocks() {
  const blocks = await getJson("/api/v1/network/blocks?limit=25", ["fees_sat", "reward_sat"]);
  const rows = blocks.map((b) => el("tr", { dataset: { height: b.height } },
    el("td", { class: "num" }, grouped(b.height)),
    when(b.time),
    el("td", { class: "name", dataset: { col: "pool" } }, b.pool ?? "—"),
    el("td", { class: "num" }, grouped(b.tx_count)),
    el("td", { class: "num mono" }, btc(b.fees_sat)),
    el("td", { class: "num mono" }, btc(b.reward_sat)),
    el("td", { class: "mono", title: b.hash || "" }, b.hash ? middle(b.hash) : "—"),
  ));
  $("network-block-rows").replaceChildren(...(rows.length ? rows : [emptyRow(7, "no network block read yet (the network job runs every 5 minutes)")]));
}

// -- wiring ------------------------------------------------------------------------------

function failed(id, cols, what) {
  return (err) => {
    console.error(err);
    $(id).replaceChildren(emptyRow(cols, `could not read ${what}; retrying in a minute`));
  };
}

async function refresh() {
  // The farm's blocks need the efforts from /profit/solo first.
  await loadSolo().catch((err) => { console.error(err); $("solo-about").textContent = "· could not read the solo odds"; });
  const others = await loadEvents().catch((err) => { failed("farm-block-rows", 6, "the farm's blocks")(err); return []; });
  await Promise.all([
    loadPoolBlocks(others).catch(failed("pool-block-rows", 7, "the pools' blocks")),
    loadNetworkBlocks().catch(failed("network-block-rows", 7, "the network's blocks")),
  ]);
  document.body.dataset.loaded = currency;
}

function tick() {
  for (const c of document.querySelectorAll("td[data-ago]")) c.textContent = ago(Number(c.dataset.ago));
}

currency = currencyPicker($("currency"), (code) => { currency = code; refresh(); });
refresh();
setInterval(refresh, REFRESH_MS);
setInterval(tick, 5000);
