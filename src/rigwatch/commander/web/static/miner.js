import { bytes, count, duration, escapeHtml, fan, fill, hashrate, mhz, pct, power, ratioPct, temp, tickAgo } from "/static/format.js";
import { connect } from "/static/live.js";
import { hashrateChart } from "/static/charts.js";

const cards = document.getElementById("miner-cards");
const id = Number(cards.dataset.minerId);
const chart = hashrateChart(document.getElementById("chart-box"));

for (const el of document.querySelectorAll("[data-uptime]")) el.textContent = duration(el.dataset.uptime);

connect({
  miners: ({ miners }) => {
    const u = miners.find((m) => m.id === id);
    if (!u) return;
    fill(cards, u);
    const st = document.getElementById("miner-status");
    st.textContent = u.s; st.className = `st ${u.s}`;
    cards.querySelector("[data-ago]").dataset.ago = String(u.ts);
    chart.append(u.ts, u.h, u.x);
  },
  resync: () => chart.load(),
});

chart.load();
tickAgo(cards);
setInterval(() => tickAgo(cards), 1000);

// Rigs: per-device rows and the host's health, refreshed from the API. Every string a
// miner or host reports goes through escapeHtml before it reaches the page.
const deviceRows = document.getElementById("device-rows");
const hostSection = document.getElementById("host-health");

function deviceRow(d) {
  return `<tr data-device="${Number(d.index)}"><td>${Number(d.index)}</td><td>${escapeHtml(d.kind)}</td>
    <td class="name" data-testid="device-name">${escapeHtml(d.name || "—")}</td><td>${escapeHtml(d.bus_id || "—")}</td>
    <td class="num">${hashrate(d.hashrate_hs)}</td><td class="num" data-testid="device-temp">${temp(d.temp_c)}</td><td class="num">${temp(d.mem_temp_c)}</td>
    <td class="num">${fan(d.fan_pct, d.fan_rpm)}</td><td class="num">${power(d.power_w)}</td>
    <td class="num">${mhz(d.core_clock_mhz)}</td><td class="num">${mhz(d.mem_clock_mhz)}</td>
    <td class="num">${count(d.accepted)}</td><td class="num">${count(d.rejected)}</td></tr>`;
}

function gpuRow(g) {
  const limit = g.power_limit_w === null || g.power_limit_w === undefined ? "" : ` / ${power(g.power_limit_w)}`;
  return `<tr><td>${Number(g.index)}</td><td class="name">${escapeHtml(g.name || "—")}</td><td class="num">${temp(g.temp_c)}</td>
    <td class="num">${pct(g.fan_pct)}</td><td class="num">${power(g.power_w)}${limit}</td>
    <td class="num">${mhz(g.core_clock_mhz)}</td><td class="num">${mhz(g.mem_clock_mhz)}</td>
    <td class="num">${bytes(g.mem_used_bytes)} / ${bytes(g.mem_total_bytes)}</td><td class="num">${pct(g.util_pct)}</td></tr>`;
}

async function refreshDevices() {
  const res = await fetch(`/api/v1/miners/${id}`, { credentials: "same-origin" });
  if (!res.ok) return;
  const m = await res.json();
  deviceRows.innerHTML = m.devices.length
    ? m.devices.map(deviceRow).join("")
    : `<tr><td colspan="13" class="sub">no devices reported</td></tr>`;
}

async function refreshHost() {
  const res = await fetch(`/api/v1/hosts/${Number(hostSection.dataset.hostId)}`, { credentials: "same-origin" });
  if (!res.ok) return;
  const host = await res.json();
  const ident = host.identity;
  hostSection.querySelector('[data-host="name"]').textContent = ident.hostname || ident.key;
  const cpu = ident.cpu_model ? `${ident.cpu_model}${ident.cpu_count ? ` × ${ident.cpu_count}` : ""}` : null;
  hostSection.querySelector('[data-host="about"]').textContent = [ident.os, cpu].filter(Boolean).join(" · ");
  const h = host.latest;
  if (!h) return;
  hostSection.querySelector('[data-host="ago"]').dataset.ago = String(Date.parse(h.ts) / 1000);
  fill(document.getElementById("host-cards"), {
    cpu_pct: h.cpu_pct, load_1m: h.load_1m, cpu_temp_c: h.cpu_temp_c, uptime_s: h.uptime_s,
    mem_pct: ratioPct(h.mem_used_bytes, h.mem_total_bytes), mem_text: `${bytes(h.mem_used_bytes)} of ${bytes(h.mem_total_bytes)}`,
    disk_pct: ratioPct(h.disk_used_bytes, h.disk_total_bytes), disk_text: `${bytes(h.disk_used_bytes)} of ${bytes(h.disk_total_bytes)}`,
  });
  document.getElementById("host-gpu-rows").innerHTML = h.gpus.length
    ? h.gpus.map(gpuRow).join("")
    : `<tr><td colspan="9" class="sub">no GPU reported by the driver (no NVIDIA GPU, or no driver)</td></tr>`;
  tickAgo(hostSection);
}

if (hostSection) {
  tickAgo(hostSection);
  setInterval(() => tickAgo(hostSection), 1000);
}
if (deviceRows || hostSection) {
  const refresh = () => {
    if (deviceRows) refreshDevices();
    if (hostSection) refreshHost();
  };
  setInterval(refresh, 30000);
}
