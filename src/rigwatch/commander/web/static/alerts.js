// Alerts page: open alerts (firing, flapping, pending), resolved history, silences and
// the rules. Operators acknowledge and silence; admins edit, add and delete rules.
// Everything shown comes from the API and goes in with textContent only (el()).
import { api, say } from "/static/api.js";
import { el, utc } from "/static/format.js";

const $ = (id) => document.getElementById(id);
const app = $("alerts-app");
const canOperate = Boolean(app.dataset.canOperate);
const isAdmin = Boolean(app.dataset.admin);
const status = $("alert-status");
const SEVERITIES = ["info", "warning", "critical"];
const OPEN = ["firing", "flapping", "pending"];
const HISTORY_PAGE = 50;
let rules = [];
let historyBefore = null;
let lastOpen = null;

// ---- tabs -----------------------------------------------------------------------------------
const tabs = [...document.querySelectorAll("[data-tab]")];
function show(name) {
  for (const t of tabs) t.setAttribute("aria-selected", String(t.dataset.tab === name));
  for (const p of document.querySelectorAll("[data-panel]")) p.hidden = p.dataset.panel !== name;
  if (location.hash !== `#${name}`) history.replaceState(null, "", `#${name}`);
}
for (const t of tabs) t.addEventListener("click", () => show(t.dataset.tab));
tabs.forEach((t, i) => t.addEventListener("keydown", (e) => {
  const step = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
  if (!step) return;
  const next = tabs[(i + step + tabs.length) % tabs.length];
  next.focus();
  show(next.dataset.tab);
}));
const initial = location.hash.slice(1);
if (tabs.some((t) => t.dataset.tab === initial)) show(initial);

// ---- helpers --------------------------------------------------------------------------------
function subjectCell(subject) {
  const m = /^miner:(\d+)$/.exec(subject);
  return el("td", { class: "subject" }, m ? el("a", { href: `/miners/${Number(m[1])}` }, subject) : subject);
}
function statePill(state) {
  return el("span", { class: `pill state-${state}`, dataset: { testid: "alert-state" } }, state);
}
function sevPill(sev) {
  return el("span", { class: `pill sev-${sev}` }, sev);
}
function value(v) {
  return v === null || v === undefined ? "—" : Number(v).toLocaleString(undefined, { maximumFractionDigits: 2 });
}
function ackText(a) {
  return a.acked_by ? `${a.acked_by} · ${utc(a.acked_at)}` : "—";
}
const ruleName = (id) => {
  const r = rules.find((x) => x.id === id);
  return r ? `#${r.id} ${r.kind} (${r.scope})` : id ? `#${id}` : "any";
};

// ---- open alerts ------------------------------------------------------------------------
function openRow(a) {
  const cells = [
    el("td", {}, statePill(a.state), a.silenced_until ? el("span", { class: "pill", title: `silenced until ${utc(a.silenced_until)}` }, "silenced") : null),
    el("td", {}, sevPill(a.severity)),
    el("td", {}, a.kind),
    subjectCell(a.subject),
    el("td", { class: "detail" }, a.message),
    el("td", { class: "num" }, value(a.value)),
    el("td", { title: `started ${utc(a.started_at)}` }, utc(a.fired_at || a.started_at)),
    el("td", { dataset: { testid: "acked-by" } }, ackText(a)),
  ];
  if (canOperate) {
    const actions = el("td", { class: "actions" });
    if (!a.acked_by) {
      const ack = el("button", { type: "button", dataset: { testid: "ack" } }, "Acknowledge");
      ack.addEventListener("click", async () => {
        ack.disabled = true;
        try {
          const r = await api("POST", `/api/v1/alerts/${Number(a.id)}/ack`);
          say(status, `alert ${r.id} (${r.kind} on ${r.subject}) acknowledged by ${r.acked_by}`);
        } catch (err) {
          say(status, `could not acknowledge alert ${a.id}: ${err.message}`, true);
        }
        loadOpen();
      });
      actions.append(ack);
    }
    const silence = el("button", { type: "button", dataset: { testid: "silence" } }, "Silence…");
    silence.addEventListener("click", () => {
      $("silence-rule").value = a.rule_id ? String(a.rule_id) : "";
      $("silence-subject").value = a.subject;
      show("silences");
      $("silence-reason").focus();
    });
    actions.append(silence);
    cells.push(actions);
  }
  return el("tr", { class: `alert ${a.state}`, dataset: { alert: String(a.id), subject: a.subject, state: a.state } }, ...cells);
}

async function loadOpen() {
  try {
    const lists = await Promise.all(OPEN.map((s) => api("GET", `/api/v1/alerts?state=${s}&limit=1000`)));
    const all = lists.flat().sort((x, y) => OPEN.indexOf(x.state) - OPEN.indexOf(y.state) || y.id - x.id);
    const cols = canOperate ? 9 : 8;
    $("firing-rows").replaceChildren(...(all.length ? all.map(openRow)
      : [el("tr", {}, el("td", { colspan: cols, class: "sub" }, "nothing open: all clear"))]));
    const ids = all.map((a) => `${a.id}:${a.state}`).join(",");
    if (lastOpen !== null && ids !== lastOpen) loadHistory();  // something moved on
    lastOpen = ids;
    $("count-firing").textContent = String(all.length);
    document.body.dataset.loadedOpen = String(Date.now());
  } catch (err) {
    say(status, `could not read the alerts: ${err.message}`, true);
  }
}

// ---- history --------------------------------------------------------------------------------
function historyRow(a) {
  return el("tr", { dataset: { alert: String(a.id), subject: a.subject } },
    el("td", {}, sevPill(a.severity)),
    el("td", {}, a.kind),
    subjectCell(a.subject),
    el("td", { class: "detail" }, a.message),
    el("td", {}, utc(a.started_at)),
    el("td", {}, a.fired_at ? utc(a.fired_at) : "never (closed while pending)"),
    el("td", {}, utc(a.resolved_at)),
    el("td", {}, ackText(a)),
  );
}

async function loadHistory(more = false) {
  try {
    const before = more && historyBefore ? `&before_id=${historyBefore}` : "";
    const items = await api("GET", `/api/v1/alerts?state=resolved&limit=${HISTORY_PAGE}${before}`);
    const rows = items.map(historyRow);
    if (more) $("history-rows").append(...rows);
    else $("history-rows").replaceChildren(...(rows.length ? rows
      : [el("tr", {}, el("td", { colspan: 8, class: "sub" }, "no resolved alerts yet"))]));
    historyBefore = items.length ? items[items.length - 1].id : historyBefore;
    $("history-more").hidden = items.length < HISTORY_PAGE;
  } catch (err) {
    say(status, `could not read the alert history: ${err.message}`, true);
  }
}
$("history-more").addEventListener("click", () => loadHistory(true));

// ---- silences -------------------------------------------------------------------------------
function silenceRow(s) {
  const cells = [
    el("td", {}, ruleName(s.rule_id)),
    el("td", {}, s.subject || "any"),
    el("td", {}, utc(s.until)),
    el("td", { class: "detail" }, s.reason),
    el("td", {}, s.created_by),
    el("td", {}, utc(s.created_at)),
    el("td", {}, s.active ? el("span", { class: "pill" }, "active") : el("span", { class: "sub" }, "ended")),
  ];
  if (canOperate) {
    const end = el("button", { type: "button", class: "danger", dataset: { testid: "end-silence" } }, s.active ? "End now" : "Remove");
    end.addEventListener("click", async () => {
      try {
        await api("DELETE", `/api/v1/silences/${Number(s.id)}`);
        say(status, `silence ${s.id} ended`);
      } catch (err) {
        say(status, `could not end silence ${s.id}: ${err.message}`, true);
      }
      loadSilences();
      loadOpen();
    });
    cells.push(el("td", { class: "actions" }, end));
  }
  return el("tr", { dataset: { silence: String(s.id) } }, ...cells);
}

async function loadSilences() {
  try {
    const active = $("silences-all").checked ? "false" : "true";
    const items = await api("GET", `/api/v1/silences?active=${active}`);
    $("silence-rows").replaceChildren(...(items.length ? items.map(silenceRow)
      : [el("tr", {}, el("td", { colspan: 8, class: "sub" }, "no silences"))]));
    $("count-silences").textContent = String(items.filter((s) => s.active).length);
  } catch (err) {
    say(status, `could not read the silences: ${err.message}`, true);
  }
}
$("silences-all").addEventListener("change", loadSilences);

if (canOperate) {
  $("add-silence").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const data = new FormData(form);
    const body = { minutes: Number(data.get("minutes")), reason: String(data.get("reason")).trim() };
    if (data.get("rule_id")) body.rule_id = Number(data.get("rule_id"));
    const subject = String(data.get("subject") || "").trim();
    if (subject) body.subject = subject;
    try {
      const s = await api("POST", "/api/v1/silences", body);
      form.reset();
      say(status, `silenced until ${utc(s.until)}`);
    } catch (err) {
      say(status, `could not add the silence: ${err.message}`, true);
    }
    loadSilences();
    loadOpen();
  });
}

// ---- rules ----------------------------------------------------------------------------------
function ruleRow(r) {
  if (!isAdmin) {
    return el("tr", { dataset: { rule: String(r.id), kind: r.kind } },
      el("td", { class: "num" }, String(r.id)),
      el("td", {}, r.kind),
      el("td", {}, r.scope),
      el("td", {}, sevPill(r.severity)),
      el("td", { class: "detail mono" }, JSON.stringify(r.params)),
      el("td", { class: "num" }, String(r.hold_s)),
      el("td", { class: "num" }, String(r.recover_s)),
      el("td", {}, r.enabled ? "yes" : "no"),
    );
  }
  const scope = el("input", { type: "text", value: r.scope, maxlength: 120, "aria-label": `scope of rule ${r.id}`, dataset: { field: "scope" } });
  const severity = el("select", { "aria-label": `severity of rule ${r.id}`, dataset: { field: "severity" } },
    ...SEVERITIES.map((s) => el("option", { value: s, selected: s === r.severity }, s)));
  const params = el("textarea", { rows: 2, class: "mono", "aria-label": `params of rule ${r.id}`, dataset: { field: "params" } });
  params.value = JSON.stringify(r.params);
  const hold = el("input", { type: "number", min: 0, value: r.hold_s, class: "short", "aria-label": `hold of rule ${r.id}`, dataset: { field: "hold_s" } });
  const recover = el("input", { type: "number", min: 0, value: r.recover_s, class: "short", "aria-label": `recovery of rule ${r.id}`, dataset: { field: "recover_s" } });
  const enabled = el("input", { type: "checkbox", checked: r.enabled, "aria-label": `rule ${r.id} enabled`, dataset: { field: "enabled" } });
  const save = el("button", { type: "button", dataset: { testid: "save-rule" } }, "Save");
  save.addEventListener("click", async () => {
    let parsed;
    try {
      parsed = JSON.parse(params.value || "{}");
    } catch {
      say(status, `params of rule ${r.id} are not valid JSON`, true);
      return;
    }
    const body = {
      scope: scope.value.trim(), severity: severity.value, params: parsed,
      hold_s: Number(hold.value), recover_s: Number(recover.value), enabled: enabled.checked,
    };
    try {
      const u = await api("PUT", `/api/v1/alerts/rules/${Number(r.id)}`, body);
      say(status, `rule ${u.id} (${u.kind}, ${u.scope}) saved`);
    } catch (err) {
      say(status, `could not save rule ${r.id}: ${err.message}`, true);
    }
    loadRules();
  });
  const del = el("button", { type: "button", class: "danger", dataset: { testid: "delete-rule" } }, "Delete");
  del.addEventListener("click", async () => {
    if (!confirm(`Delete rule ${r.id} (${r.kind}, ${r.scope})? Its open alerts resolve.`)) return;
    try {
      await api("DELETE", `/api/v1/alerts/rules/${Number(r.id)}`);
      say(status, `rule ${r.id} deleted`);
    } catch (err) {
      say(status, `could not delete rule ${r.id}: ${err.message}`, true);
    }
    loadRules();
    loadOpen();
  });
  return el("tr", { dataset: { rule: String(r.id), kind: r.kind }, class: r.enabled ? "" : "revoked" },
    el("td", { class: "num" }, String(r.id)),
    el("td", {}, r.kind),
    el("td", {}, scope),
    el("td", {}, severity),
    el("td", {}, params),
    el("td", { class: "num" }, hold),
    el("td", { class: "num" }, recover),
    el("td", {}, enabled),
    el("td", { class: "actions" }, save, del),
  );
}

async function loadRules() {
  try {
    rules = await api("GET", "/api/v1/alerts/rules");
    $("rule-rows").replaceChildren(...(rules.length ? rules.map(ruleRow)
      : [el("tr", {}, el("td", { colspan: 9, class: "sub" }, "no rules"))]));
    const select = document.getElementById("silence-rule");
    if (select) {
      const keep = select.value;
      select.replaceChildren(el("option", { value: "" }, "any rule"),
        ...rules.map((r) => el("option", { value: r.id }, `#${r.id} ${r.kind} (${r.scope})`)));
      select.value = keep;
    }
  } catch (err) {
    say(status, `could not read the rules: ${err.message}`, true);
  }
}

if (isAdmin) {
  $("add-rule").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const data = new FormData(form);
    let params;
    try {
      params = JSON.parse(String(data.get("params") || "{}"));
    } catch {
      say(status, "params are not valid JSON", true);
      return;
    }
    const body = {
      kind: String(data.get("kind")), scope: String(data.get("scope")).trim(), severity: String(data.get("severity")),
      params, hold_s: Number(data.get("hold_s")), recover_s: Number(data.get("recover_s")), enabled: data.get("enabled") !== null,
    };
    try {
      const r = await api("POST", "/api/v1/alerts/rules", body);
      say(status, `rule ${r.id} (${r.kind}, ${r.scope}) added`);
      form.reset();
    } catch (err) {
      say(status, `could not add the rule: ${err.message}`, true);
    }
    loadRules();
  });
}

async function refresh() {
  await loadRules();
  await Promise.all([loadOpen(), loadHistory(), loadSilences()]);
  document.body.dataset.loaded = "alerts";
}
refresh();
// Open alerts change on their own: look again every 5 s while the page is visible.
setInterval(() => { if (!document.hidden) { loadOpen(); } }, 5000);
