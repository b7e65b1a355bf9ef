// Notifications page (admins): channels with their delivery health (a failing one marked),
// add a channel (fields by kind), send a test and show its result, enable / disable,
// delete; the recent notifications with their state. Text goes in with textContent only.
import { api, say } from "/static/api.js";
import { el, utc } from "/static/format.js";

const $ = (id) => document.getElementById(id);
const status = $("channel-status");
const form = $("add-channel");
let channels = [];

// ---- the add form: show the fields of the chosen kind -------------------------------------
function showKind() {
  const kind = $("channel-kind").value;
  for (const fs of form.querySelectorAll("fieldset[data-kind]")) {
    const on = fs.dataset.kind === kind;
    fs.hidden = !on;
    for (const input of fs.querySelectorAll("input, select")) input.disabled = !on;
  }
}
$("channel-kind").addEventListener("change", showKind);
showKind();

const list = (text) => String(text || "").split(",").map((s) => s.trim()).filter(Boolean);

function configOf(kind, data) {
  const config = {};
  for (const [key, raw] of data.entries()) {
    if (!key.startsWith(`${kind}.`)) continue;
    const name = key.slice(kind.length + 1);
    const value = String(raw).trim();
    if (value === "") continue;
    config[name] = name === "port" ? Number(value) : name === "to" ? list(value) : value;
  }
  return config;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const data = new FormData(form);
  const kind = String(data.get("kind"));
  const body = {
    kind,
    name: String(data.get("name")).trim(),
    config: configOf(kind, data),
    filters: {
      min_severity: String(data.get("min_severity")),
      sites: list(data.get("sites")).map(Number),
      tags: list(data.get("tags")),
    },
    digest_minutes: Number(data.get("digest_minutes") || 0),
    timezone: String(data.get("timezone") || "UTC").trim(),
  };
  if (data.get("quiet_start") && data.get("quiet_end")) {
    body.quiet_hours = { start: String(data.get("quiet_start")), end: String(data.get("quiet_end")) };
  }
  if (data.get("daily_summary_at")) body.daily_summary_at = String(data.get("daily_summary_at"));
  try {
    const c = await api("POST", "/api/v1/channels", body);
    form.reset();
    showKind();
    say(status, `channel ${c.name} (${c.kind}) added`);
  } catch (err) {
    say(status, `could not add ${body.name}: ${err.message}`, true);
  }
  load();
});

// ---- channels -------------------------------------------------------------------------------
function target(c) {
  const cfg = c.config || {};
  switch (c.kind) {
    case "webhook": return `${cfg.url ?? ""}${cfg.secret ? " (signed)" : ""}`;
    case "email": return `${(cfg.to || []).join(", ")} via ${cfg.host ?? "?"}:${cfg.port ?? ""}`;
    case "telegram": return `chat ${cfg.chat_id ?? "?"}`;
    case "discord": return "Discord webhook";
    case "ntfy": return `${cfg.base_url ?? ""}/${cfg.topic ?? ""}`;
    default: return JSON.stringify(cfg);
  }
}

function filtersText(f) {
  const parts = [`≥ ${f.min_severity}`];
  if (f.sites && f.sites.length) parts.push(`sites ${f.sites.join(", ")}`);
  if (f.tags && f.tags.length) parts.push(`tags ${f.tags.join(", ")}`);
  return parts.join(" · ");
}

function scheduleText(c) {
  const parts = [c.timezone];
  if (c.quiet_hours) parts.push(`quiet ${c.quiet_hours.start}–${c.quiet_hours.end}`);
  if (c.digest_minutes) parts.push(`digest ${c.digest_minutes} min`);
  if (c.daily_summary_at) parts.push(`summary ${c.daily_summary_at}`);
  return parts.join(" · ");
}

function asInput(c, enabled) {
  return {
    kind: c.kind, name: c.name, config: c.config, filters: c.filters, quiet_hours: c.quiet_hours,
    digest_minutes: c.digest_minutes, daily_summary_at: c.daily_summary_at, timezone: c.timezone, enabled,
  };
}

function row(c) {
  const result = el("span", { class: "test-result", role: "status", dataset: { testid: "test-result" } });
  const test = el("button", { type: "button", dataset: { testid: "test-channel" } }, "Send test");
  test.addEventListener("click", async () => {
    test.disabled = true;
    result.className = "test-result";
    result.textContent = "sending…";
    try {
      const r = await api("POST", `/api/v1/channels/${Number(c.id)}/test`);
      result.className = `test-result ${r.ok ? "ok" : "bad"}`;
      result.textContent = r.ok ? "test sent ✓" : `test failed: ${r.error ?? r.state}`;
    } catch (err) {
      result.className = "test-result bad";
      result.textContent = `test failed: ${err.message}`;
    }
    test.disabled = false;
    load(false);
  });
  const toggle = el("button", { type: "button", dataset: { testid: "toggle-channel" } }, c.enabled ? "Disable" : "Enable");
  toggle.addEventListener("click", async () => {
    try {
      const u = await api("PUT", `/api/v1/channels/${Number(c.id)}`, asInput(c, !c.enabled));
      say(status, `channel ${u.name} ${u.enabled ? "enabled" : "disabled"}`);
    } catch (err) {
      say(status, `could not change ${c.name}: ${err.message}`, true);
    }
    load();
  });
  const del = el("button", { type: "button", class: "danger", dataset: { testid: "delete-channel" } }, "Delete");
  del.addEventListener("click", async () => {
    if (!confirm(`Delete the channel ${c.name} and its outbox?`)) return;
    try {
      await api("DELETE", `/api/v1/channels/${Number(c.id)}`);
      say(status, `channel ${c.name} deleted`);
    } catch (err) {
      say(status, `could not delete ${c.name}: ${err.message}`, true);
    }
    load();
  });
  const classes = [c.failing ? "failing" : "", c.enabled ? "" : "revoked"].filter(Boolean).join(" ");
  return el("tr", { class: classes, dataset: { channel: String(c.id), name: c.name, failing: c.failing ? "1" : "0" } },
    el("td", { class: "name" }, c.name,
      c.failing ? el("span", { class: "pill failing", dataset: { testid: "failing" } }, "failing") : null,
      c.enabled ? null : el("span", { class: "pill" }, "disabled")),
    el("td", {}, c.kind),
    el("td", { class: "detail" }, target(c)),
    el("td", {}, filtersText(c.filters)),
    el("td", {}, scheduleText(c)),
    el("td", { dataset: { testid: "last-success" } }, utc(c.last_success_at)),
    el("td", { class: `detail${c.last_error ? " error" : ""}`, dataset: { testid: "last-error" } }, c.last_error || "—"),
    el("td", { class: `num${c.consecutive_failures ? " error" : ""}`, dataset: { testid: "failures" } }, String(c.consecutive_failures)),
    el("td", { class: "actions" }, test, toggle, del, result),
  );
}

// ---- recent notifications ----------------------------------------------------------------
function about(n) {
  const p = n.payload || {};
  if (n.kind === "digest") return `${(p.items || []).length} notices`;
  if (p.message) return p.subject ? `${p.rule ?? ""} on ${p.subject}: ${p.message}` : p.message;
  return p.title || p.text || n.kind;
}

function noticeRow(n) {
  const chan = channels.find((c) => c.id === n.channel_id);
  return el("tr", { dataset: { notification: String(n.id), state: n.state, kind: n.kind } },
    el("td", { class: "num" }, String(n.id)),
    el("td", {}, utc(n.created_at)),
    el("td", {}, chan ? chan.name : `#${n.channel_id}`),
    el("td", {}, n.kind),
    el("td", { class: "detail" }, about(n)),
    el("td", {}, el("span", { class: `pill ${n.state}${n.state === "failed" ? " failing" : ""}` }, n.state)),
    el("td", { class: "num" }, String(n.attempts)),
    el("td", {}, utc(n.sent_at)),
    el("td", { class: `detail${n.last_error ? " error" : ""}` }, n.last_error || ""),
  );
}

async function loadNotices() {
  const q = new URLSearchParams({ limit: "100" });
  if ($("notice-channel").value) q.set("channel_id", $("notice-channel").value);
  if ($("notice-state").value) q.set("state", $("notice-state").value);
  try {
    const items = await api("GET", `/api/v1/notifications?${q}`);
    $("notice-rows").replaceChildren(...(items.length ? items.map(noticeRow)
      : [el("tr", {}, el("td", { colspan: 9, class: "sub" }, "no notifications yet"))]));
  } catch (err) {
    say(status, `could not read the notifications: ${err.message}`, true);
  }
}
$("notice-channel").addEventListener("change", loadNotices);
$("notice-state").addEventListener("change", loadNotices);

async function load(rerender = true) {
  try {
    channels = await api("GET", "/api/v1/channels");
    if (rerender) {
      $("channel-rows").replaceChildren(...(channels.length ? channels.map(row)
        : [el("tr", {}, el("td", { colspan: 9, class: "sub" }, "no channels yet: add one below"))]));
    } else {
      // keep the rows (and a test's result) but refresh each channel's health cells
      for (const c of channels) {
        const tr = document.querySelector(`tr[data-channel="${Number(c.id)}"]`);
        if (!tr) continue;
        const fresh = row(c);
        for (const sel of ['[data-testid="last-success"]', '[data-testid="last-error"]', '[data-testid="failures"]']) {
          tr.querySelector(sel).replaceWith(fresh.querySelector(sel));
        }
        tr.classList.toggle("failing", c.failing);
        tr.dataset.failing = c.failing ? "1" : "0";
        const pill = tr.querySelector('[data-testid="failing"]');
        if (c.failing && !pill) tr.querySelector("td.name").append(el("span", { class: "pill failing", dataset: { testid: "failing" } }, "failing"));
        if (!c.failing && pill) pill.remove();
      }
    }
    const select = $("notice-channel");
    const keep = select.value;
    select.replaceChildren(el("option", { value: "" }, "all"), ...channels.map((c) => el("option", { value: c.id }, c.name)));
    select.value = keep;
    await loadNotices();
    document.body.dataset.loaded = "notifications";
  } catch (err) {
    say(status, `could not read the channels: ${err.message}`, true);
  }
}

load();
setInterval(() => { if (!document.hidden) load(false); }, 10000);
