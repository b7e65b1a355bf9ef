// Users page (admins): list, add with a role, change a role, reset a password (the new
// one shown once), delete. Names come from people: they go in with textContent only.
import { api, copyText, say } from "/static/api.js";
import { el, utc } from "/static/format.js";

const ROLES = ["viewer", "operator", "admin"];
const $ = (id) => document.getElementById(id);
const rows = $("user-rows");
const status = $("user-status");
const me = Number($("user-table").dataset.me || 0);

function showOnce(about, value) {
  $("password-about").textContent = about;
  $("password-value").textContent = value;
  $("password-result").hidden = false;
}

function roleSelect(u) {
  const select = el("select", { "aria-label": `role of ${u.username}`, dataset: { testid: "role-select" } },
    ...ROLES.map((r) => el("option", { value: r, selected: r === u.role }, r)));
  select.addEventListener("change", async () => {
    try {
      const updated = await api("PUT", `/api/v1/users/${Number(u.id)}`, { role: select.value });
      say(status, `${updated.username} is now ${updated.role}`);
    } catch (err) {
      select.value = u.role;
      say(status, `could not change the role of ${u.username}: ${err.message}`, true);
    }
    load();
  });
  return select;
}

function row(u) {
  const reset = el("button", { type: "button", dataset: { testid: "reset-password" } }, "Reset password");
  reset.addEventListener("click", async () => {
    if (!confirm(`Give ${u.username} a new password? Their sessions end.`)) return;
    try {
      const r = await api("POST", `/api/v1/users/${Number(u.id)}/password`);
      showOnce(`New password of ${r.user.username}, shown once: hand it over, they sign in with it.`, r.password);
      say(status, "");
    } catch (err) {
      say(status, `could not reset the password of ${u.username}: ${err.message}`, true);
    }
    load();
  });
  const del = el("button", { type: "button", class: "danger", dataset: { testid: "delete-user" } }, "Delete");
  del.addEventListener("click", async () => {
    if (!confirm(`Delete ${u.username}?`)) return;
    try {
      await api("DELETE", `/api/v1/users/${Number(u.id)}`);
      say(status, `${u.username} deleted`);
    } catch (err) {
      say(status, `could not delete ${u.username}: ${err.message}`, true);
    }
    load();
  });
  return el("tr", { dataset: { user: u.username } },
    el("td", { class: "name" }, u.username, u.id === me ? el("span", { class: "sub" }, " (you)") : null),
    el("td", {}, roleSelect(u)),
    el("td", { class: "num" }, String(u.sessions)),
    el("td", { title: utc(u.created_at) }, utc(u.created_at)),
    el("td", { class: "actions" }, reset, u.id === me ? null : del),
  );
}

async function load() {
  try {
    const users = await api("GET", "/api/v1/users");
    rows.replaceChildren(...(users.length ? users.map(row) : [el("tr", {}, el("td", { colspan: 5, class: "sub" }, "no users"))]));
    document.body.dataset.loaded = "users";
  } catch (err) {
    say(status, `could not read the users: ${err.message}`, true);
  }
}

$("add-user").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const data = new FormData(form);
  const body = { username: String(data.get("username")).trim(), role: String(data.get("role")) };
  if (data.get("password")) body.password = String(data.get("password"));
  try {
    const r = await api("POST", "/api/v1/users", body);
    form.reset();
    say(status, `${r.user.username} added as ${r.user.role}`);
    if (r.password) showOnce(`Password of ${r.user.username}, shown once: hand it over, they sign in with it.`, r.password);
  } catch (err) {
    say(status, `could not add ${body.username}: ${err.message}`, true);
  }
  load();
});

$("password-copy").addEventListener("click", (e) => copyText($("password-value"), e.target));
load();
