// Pools page: one card per pool account (/api/v1/pools): the pool-side hashrate per
// window, workers, last share, balance and estimate, the sync's health; its workers,
// payouts and blocks on demand (/api/v1/pools/{id}). Admins add, sync and remove
// accounts. Names, accounts and errors come from outside: textContent only. Amounts stay
// exact (BigInt) until printed.
import { api, getJson, say } from "/static/api.js";
import { ago, coinText, el, grouped, hashrate, middle, utc } from "/static/format.js";

const REFRESH_MS = 60000;
const EXACT = ["unpaid_atomic", "estimated_atomic", "amount_atomic", "reward_atomic"];
const UNIT_S = { s: 1, m: 60, h: 3600, d: 86400 };
const $ = (id) => document.getElementById(id);
const admin = document.querySelector('script[src="/static/pools.js"]')?.dataset.admin === "yes";
const status = $("pools-status");
const opened = new Set(); // accounts whose workers and payouts are shown

// "5m" → 300, "1d" → 86400: the pool's windows shortest first.
function windowSeconds(label) {
  const m = /^(\d+)([smhd])$/.exec(label);
  return m ? Number(m[1]) * UNIT_S[m[2]] : Number.MAX_SAFE_INTEGER;
}

const secondsOf = (ts) => (ts ? Date.parse(ts) / 1000 : null);

function agoSpan(ts, never = "never") {
  const s = secondsOf(ts);
  return s === null ? el("span", {}, never) : el("span", { title: utc(ts), dataset: { ago: s } }, ago(s));
}

function figure(label, value, test) {
  return el("div", { class: "fig" }, el("span", { class: "sub" }, label), el("b", { dataset: test ? { testid: test } : {} }, value));
}

function health(a) {
  if (a.consecutive_failures > 0) {
    return el("p", { class: "error", dataset: { testid: "pool-error" } },
      `failing (${a.consecutive_failures} in a row): ${a.last_error ?? "no answer"}`,
      a.last_success_at ? " · figures from " : "", a.last_success_at ? agoSpan(a.last_success_at) : "");
  }
  if (!a.last_success_at) return el("p", { class: "sub" }, a.enabled ? "not synced yet" : "disabled");
  const note = a.last_error ? el("span", { class: "warn", title: a.last_error }, ` · partly: ${a.last_error}`) : "";
  return el("p", { class: "sub", dataset: { testid: "pool-synced" } }, "synced ", agoSpan(a.last_success_at), note);
}

function figures(a) {
  const l = a.latest;
  if (!l) return el("div", { class: "figs" });
  const windows = Object.entries(l.hashrates ?? {}).sort(([x], [y]) => windowSeconds(x) - windowSeconds(y));
  return el("div", { class: "figs" },
    ...windows.map(([w, hs]) => figure(`hashrate ${w}`, hashrate(hs), `pool-rate-${w}`)),
    l.workers === null ? null : figure("workers", grouped(l.workers), "pool-workers"),
    figure("last share", agoSpan(l.last_share, "—")),
    l.unpaid_atomic === null ? null : figure("unpaid", coinText(l.unpaid_atomic, l.coin), "pool-unpaid"),
    l.estimated_atomic === null ? null : figure("estimated next", coinText(l.estimated_atomic, l.coin), "pool-estimated"),
    l.pool_hashrate_hs === null ? null : figure("whole pool", hashrate(l.pool_hashrate_hs)),
  );
}

function table(head, rows, empty) {
  return el("div", { class: "scroll" }, el("table", {},
    el("thead", {}, el("tr", {}, ...head.map(([text, cls]) => el("th", { class: cls }, text)))),
    el("tbody", {}, ...(rows.length ? rows : [el("tr", {}, el("td", { colspan: head.length, class: "sub" }, empty))]))));
}

async function fillDetail(box, a) {
  const d = await getJson(`/api/v1/pools/${Number(a.id)}`, EXACT);
  const coin = a.latest?.coin ?? "BTC";
  box.replaceChildren(
    el("h4", {}, "Workers"),
    table([["Worker"], ["Hashrate", "num"], ["Last share"], ["Miners"]], d.workers.map((w) => el("tr", {},
      el("td", { class: "name" }, w.name),
      el("td", { class: "num" }, hashrate(w.hashrate_hs)),
      el("td", {}, agoSpan(w.last_share, "—")),
      el("td", {}, ...(w.miner_ids.length ? w.miner_ids.map((id) => el("a", { href: `/miners/${Number(id)}`, class: "pill" }, `#${Number(id)}`)) : ["not matched"])),
    )), "the pool lists no worker"),
    el("h4", {}, "Payouts"),
    table([["Time"], ["Amount", "num"], ["Transaction"]], d.payouts.slice(0, 20).map((p) => el("tr", {},
      el("td", {}, agoSpan(p.ts)),
      el("td", { class: "num mono" }, coinText(p.amount_atomic, p.coin ?? coin)),
      el("td", { class: "mono", title: p.txid || "" }, p.txid ? middle(p.txid) : "—"),
    )), "no payout listed"),
    el("p", { class: "sub" }, `${grouped(d.blocks.length)} ${d.blocks.length === 1 ? "block" : "blocks"} found by the pool listed (see Blocks)`),
  );
}

function actions(a) {
  if (!admin) return null;
  const sync = el("button", { type: "button", dataset: { testid: "pool-sync" } }, "Sync now");
  sync.addEventListener("click", async () => {
    sync.disabled = true;
    say(status, `syncing ${a.name}…`);
    try {
      const after = await api("POST", `/api/v1/pools/${Number(a.id)}/sync`);
      say(status, after.consecutive_failures ? `${a.name}: ${after.last_error}` : `${a.name} synced`, after.consecutive_failures > 0);
    } catch (err) {
      say(status, `could not sync ${a.name}: ${err.message}`, true);
    }
    load();
  });
  const remove = el("button", { type: "button", class: "danger", dataset: { testid: "pool-remove" } }, "Remove");
  remove.addEventListener("click", async () => {
    if (!confirm(`Stop watching ${a.name}? Its stored figures and payouts are deleted.`)) return;
    try {
      await api("DELETE", `/api/v1/pools/${Number(a.id)}`);
      say(status, `${a.name} removed`);
    } catch (err) {
      say(status, `could not remove ${a.name}: ${err.message}`, true);
    }
    load();
  });
  return el("div", { class: "row-actions" }, sync, remove);
}

// The API's default name is "<kind> <account>": the address is on the line below anyway.
function title(a) {
  return a.name === `${a.kind} ${a.account}` ? `${a.kind} ${middle(a.account, 8)}` : a.name;
}

function card(a) {
  const more = el("details", { dataset: { testid: "pool-details" } }, el("summary", {}, "Workers and payouts"));
  const box = el("div", {}, el("p", { class: "sub" }, "loading…"));
  more.append(box);
  more.addEventListener("toggle", () => {
    if (!more.open) { opened.delete(a.id); return; }
    opened.add(a.id);
    fillDetail(box, a).catch((err) => { box.replaceChildren(el("p", { class: "error" }, err.message)); });
  });
  // The minute's refresh redraws the cards: what was open stays open (and is read again).
  if (opened.has(a.id)) more.open = true;
  return el("article", { class: "card pool", dataset: { pool: a.id, testid: "pool-card" } },
    el("h3", { title: a.name }, title(a), " ", el("span", { class: "pill" }, a.kind), a.latest ? el("span", { class: "sub" }, ` ${a.latest.coin}`) : ""),
    el("p", { class: "sub mono", title: `${a.account} at ${a.base_url}` }, middle(a.account, 14)),
    health(a),
    figures(a),
    more,
    actions(a),
  );
}

async function load() {
  try {
    const accounts = await getJson("/api/v1/pools", EXACT);
    $("pools-about").textContent = `· ${accounts.length} ${accounts.length === 1 ? "account" : "accounts"}`;
    $("pool-cards").replaceChildren(...(accounts.length ? accounts.map(card)
      : [el("p", { class: "sub" }, admin ? "No pool account watched yet: add one below." : "No pool account watched yet (an admin adds them here).")]));
  } catch (err) {
    say(status, `could not read the pool accounts: ${err.message}`, true);
  }
}

// ---- admins: the add form ------------------------------------------------------------
const form = $("add-pool");
if (form) {
  const kind = $("pool-kind");
  const base = $("pool-base-url");
  const showDefault = () => {
    const fallback = kind.selectedOptions[0]?.dataset.default ?? "";
    base.placeholder = fallback ? `default: ${fallback}` : "required: where the node's data API is served";
    base.required = !fallback;
  };
  kind.addEventListener("change", showDefault);
  showDefault();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const body = { kind: String(data.get("kind")), account: String(data.get("account")).trim() };
    for (const name of ["name", "base_url"]) {
      const v = String(data.get(name) ?? "").trim();
      if (v) body[name] = v;
    }
    if (data.get("interval_s")) body.interval_s = Number(data.get("interval_s"));
    try {
      const a = await api("POST", "/api/v1/pools", body);
      form.reset();
      showDefault();
      say(status, `${a.name} added; the pool sync reads it within a minute (or: Sync now)`);
    } catch (err) {
      say(status, `could not add ${body.account}: ${err.message}`, true);
    }
    load();
  });
}

load();
setInterval(load, REFRESH_MS);
