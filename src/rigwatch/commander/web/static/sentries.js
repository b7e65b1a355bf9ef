// Sentries page: last-seen ages tick; admins enroll a sentry (the one-time token shown
// once, in the command that runs it) and revoke one. Names go in with textContent only.
import { api, copyText, say } from "/static/api.js";
import { el, tickAgo } from "/static/format.js";

const $ = (id) => document.getElementById(id);
const rows = $("sentry-rows");
const status = $("sentry-status");

// A shell word: as is when plainly safe, else single-quoted.
function shellWord(s) {
  return /^[A-Za-z0-9_.:/@%+=,-]+$/.test(s) ? s : `'${s.replaceAll("'", `'"'"'`)}'`;
}

function command(commander, token, scans) {
  const words = ["rigwatch", "sentry", "run", "--commander", shellWord(commander), "--token", shellWord(token)];
  // No scan named: a placeholder the operator must replace (the sentry refuses it with a
  // clear error). There is no default range, not even in an example.
  for (const s of scans.length ? scans : ["MINERS-CIDR-OR-RANGE"]) words.push("--scan", shellWord(s));
  return words.join(" ");
}

async function revoke(name, button) {
  if (!confirm(`Revoke sentry ${name}? It can no longer send data; enroll a new one to replace it.`)) return;
  button.disabled = true;
  try {
    await api("POST", `/api/v1/sentries/${encodeURIComponent(name)}/revoke`);
    const tr = button.closest("tr");
    tr.classList.add("revoked");
    tr.querySelector('[data-col="state"]').textContent = "revoked";
    button.remove();
    say(status, `${name} revoked`);
  } catch (err) {
    button.disabled = false;
    say(status, `could not revoke ${name}: ${err.message}`, true);
  }
}

if (rows) {
  rows.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-revoke]");
    if (button) revoke(button.dataset.revoke, button);
  });
  tickAgo(rows);
  setInterval(() => tickAgo(rows), 5000);
}

const form = $("enroll-form");
if (form) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const name = String(data.get("name")).trim();
    const site = String(data.get("site") || "").trim() || "default";
    const scans = String(data.get("scan") || "").split(/[\s,]+/).filter(Boolean);
    const commander = String(data.get("commander") || location.origin).trim().replace(/\/+$/, "");
    try {
      const created = await api("POST", "/api/v1/sentries", { name, site });
      $("enroll-command").textContent = command(commander, created.enrollment_token, scans);
      $("enroll-result").hidden = false;
      rows.querySelector("tr[data-empty]")?.remove();
      rows.append(el("tr", { dataset: { sentry: created.name } },
        el("td", { class: "name", dataset: { col: "name" } }, created.name), el("td", { class: "name" }, site),
        el("td", { dataset: { col: "state" } }, "waiting for enrollment"), el("td", {}, "never"), el("td", { class: "sub" }, "—"),
        el("td", { class: "num" }, "0"), el("td", { class: "num" }, "—"),
        el("td", {}, el("button", { type: "button", class: "danger", dataset: { revoke: created.name } }, "Revoke"))));
      form.querySelector('[name="name"]').value = "";
      say(status, `${created.name} created: run the command below on the miners' network`);
    } catch (err) {
      say(status, `could not enroll ${name}: ${err.message}`, true);
    }
  });
  $("enroll-copy").addEventListener("click", (e) => copyText($("enroll-command"), e.target));
}
