// A miner's events timeline (offline / online, restarts, pool changes, shares, blocks,
// alerts …), newest first, from /api/v1/events?miner_id=; times relative ("5 min ago")
// with the UTC time on hover. Read-only; "Older events" pages back with before_id.
// Messages come from miners and sentries: text only (escapeHtml).
import { ago, escapeHtml, tickAgo, utc } from "/static/format.js";

const PAGE = 50;
const KIND_LABEL = {
  miner_offline: "offline", miner_online: "online", miner_restarted: "restarted", miner_discovered: "discovered",
  pool_changed: "pool changed", share_found: "share", block_found: "block", payout: "payout",
  playbook_applied: "playbook", alert_fired: "alert", alert_resolved: "resolved", pool_hashrate_gap: "pool gap",
};
const TONE = { miner_offline: "bad", alert_fired: "bad", pool_hashrate_gap: "warn", pool_changed: "warn", miner_restarted: "warn", miner_online: "ok", alert_resolved: "ok", block_found: "ok" };

const section = document.getElementById("timeline");
if (section) {
  const id = Number(section.dataset.minerId);
  const list = section.querySelector("#timeline-items");
  const more = section.querySelector("#timeline-more");
  let oldest = null;

  const item = (e) => {
    const ts = Date.parse(e.ts) / 1000;
    const kind = String(e.kind);
    return `<li class="ev ${TONE[kind] ?? ""}" data-kind="${escapeHtml(kind)}" data-testid="timeline-event">
      <time datetime="${escapeHtml(e.ts)}" title="${escapeHtml(utc(e.ts))}" data-ago="${ts}">${ago(ts)}</time>
      <span class="kind">${escapeHtml(KIND_LABEL[kind] ?? kind.replaceAll("_", " "))}</span>
      <span class="msg">${escapeHtml(e.message || "")}</span></li>`;
  };

  async function page(before) {
    const q = new URLSearchParams({ miner_id: String(id), limit: String(PAGE) });
    if (before !== null) q.set("before_id", String(before));
    const res = await fetch(`/api/v1/events?${q}`, { credentials: "same-origin" });
    if (!res.ok) throw new Error(`events: ${res.status}`);
    return res.json();
  }

  async function first() {
    const events = await page(null);
    list.innerHTML = events.length ? events.map(item).join("") : `<li class="sub" data-testid="timeline-empty">no events recorded for this miner yet</li>`;
    oldest = events.length ? events[events.length - 1].id : null;
    more.hidden = events.length < PAGE;
    section.dataset.ready = "1";
  }

  more.addEventListener("click", async () => {
    const events = await page(oldest);
    list.insertAdjacentHTML("beforeend", events.map(item).join(""));
    if (events.length) oldest = events[events.length - 1].id;
    more.hidden = events.length < PAGE;
  });

  first().catch((err) => { list.innerHTML = `<li class="error">events could not be read (${escapeHtml(err.message)})</li>`; });
  setInterval(() => tickAgo(list), 1000);
  // New events arrive at the top: read the first page again while nobody paged back.
  setInterval(() => { if (more.hidden || list.children.length <= PAGE) first().catch(() => {}); }, 30000);
}
