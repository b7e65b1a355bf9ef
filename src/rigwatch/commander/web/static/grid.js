// The miners as a dense grid / heat map: one small cell per miner, grouped by site or by
// site and rack, coloured by status, by temperature or by hashrate against expected.
// Thousands of cells from one compact request (/api/v1/fleet/grid) and one innerHTML;
// events are delegated, so a cell is a bare <i> (its index: its group's data-start plus
// its place in the group). Keyboard: one cell is in the Tab order (roving tabindex; that
// cell alone carries a role and a label); arrows move, Home / End jump, Enter opens the
// miner, Space selects.
// Hover or focus shows the miner's name and figures. Every miner-supplied string goes
// through escapeHtml.
import { escapeHtml, hashrate, power, temp } from "/static/format.js";

const STATUS_CLASS = { online: "s-on", warning: "s-warn", offline: "s-off" };
const TEMP_STEPS = [50, 60, 70, 75, 80, 85, 90]; // t0 (< 50 °C) … t7 (≥ 90 °C)
const RATIO_STEPS = [0.98, 0.95, 0.9, 0.8, 0.6, 0.3]; // r0 (≥ 98 %) … r6 (< 30 %)

const LEGENDS = {
  status: [["s-on", "online"], ["s-warn", "warning"], ["s-off", "offline"]],
  temp: [["t0", "< 50 °C"], ["t1", "50–60"], ["t2", "60–70"], ["t3", "70–75"], ["t4", "75–80"], ["t5", "80–85"], ["t6", "85–90"], ["t7", "≥ 90 °C"], ["s-off", "offline"], ["none", "no reading"]],
  ratio: [["r0", "≥ 98 % of expected"], ["r1", "95–98 %"], ["r2", "90–95 %"], ["r3", "80–90 %"], ["r4", "60–80 %"], ["r5", "30–60 %"], ["r6", "< 30 %"], ["s-off", "offline"], ["none", "no figure"]],
};

function stepUp(v, steps) {
  let i = 0;
  while (i < steps.length && v >= steps[i]) i++;
  return i;
}

function stepDown(v, steps) {
  let i = 0;
  while (i < steps.length && v < steps[i]) i++;
  return i;
}

export function minerGrid(root, { selected, onToggle, onRange, onReady }) {
  const groupsEl = root.querySelector("#grid-groups");
  const tip = root.querySelector("#grid-tip");
  const legend = root.querySelector("#grid-legend");
  const cells = groupsEl.getElementsByClassName("c"); // document order = index order
  let data = null;
  let byId = new Map();
  let color = "status";
  let group = "site";
  let active = 0;
  let anchor = null;
  let asked = 0;

  const n = () => (data ? data.id.length : 0);

  function cellClass(k) {
    const st = data.status[k];
    let c;
    if (color === "status" || st === "offline") c = STATUS_CLASS[st] ?? "none";
    else if (color === "temp") {
      const t = data.temp_c[k];
      c = t === null || t === undefined ? "none" : `t${stepUp(t, TEMP_STEPS)}`;
    } else {
      const h = data.hashrate_hs[k], x = data.hashrate_expected_hs[k];
      c = h === null || h === undefined || !x ? "none" : `r${stepDown(h / x, RATIO_STEPS)}`;
    }
    return selected.has(data.id[k]) ? `c ${c} sel` : `c ${c}`;
  }

  function groupKey(k) {
    const site = data.sites[data.site[k]] ?? "—";
    if (group !== "rack") return site;
    return `${site} · ${data.rack[k] < 0 ? "no rack" : `rack ${data.racks[data.rack[k]]}`}`;
  }

  function render() {
    const total = n();
    const parts = [];
    let i = 0;
    while (i < total) {
      const key = groupKey(i);
      const html = [];
      let j = i, off = 0, warn = 0;
      for (; j < total && groupKey(j) === key; j++) {
        const st = data.status[j];
        if (st === "offline") off++;
        else if (st === "warning") warn++;
        html.push(`<i class="${cellClass(j)}"></i>`);
      }
      const about = `${(j - i).toLocaleString("en-US")} miners${off ? ` · ${off} offline` : ""}${warn ? ` · ${warn} warning` : ""}`;
      parts.push(`<section class="g-group"><h3>${escapeHtml(key)} <span class="sub">${about}</span></h3>`
        + `<div class="cells" role="group" data-start="${i}" aria-label="${escapeHtml(key)}: ${about}">${html.join("")}</div></section>`);
      i = j;
    }
    groupsEl.innerHTML = total ? parts.join("") : `<p class="sub">no miners match</p>`;
    tip.hidden = true;
    active = Math.max(0, Math.min(active, total - 1));
    if (total) arm(cells[active], active);
    legend.innerHTML = LEGENDS[color].map(([c, label]) => `<span class="key"><i class="c ${c}"></i>${label}</span>`).join("");
  }

  function describe(k) {
    const h = data.hashrate_hs[k], x = data.hashrate_expected_hs[k];
    const ratio = h !== null && h !== undefined && x ? ` (${Math.round((h / x) * 100)} %)` : "";
    const where = [data.sites[data.site[k]], data.rack[k] >= 0 ? `rack ${data.racks[data.rack[k]]}` : null, data.model[k] >= 0 ? data.models[data.model[k]] : null].filter(Boolean).join(" · ");
    return { h, x, ratio, where };
  }

  function label(k) {
    const { h, ratio } = describe(k);
    return `${data.name[k]}: ${data.status[k]}, ${hashrate(h)}${ratio}, ${temp(data.temp_c[k])}${selected.has(data.id[k]) ? ", selected" : ""}`;
  }

  function indexOf(el) {
    return Number(el.parentNode.dataset.start) + Array.prototype.indexOf.call(el.parentNode.children, el);
  }

  // The one cell in the Tab order: focusable, a link to its miner, named.
  function arm(el, k) {
    el.tabIndex = 0;
    el.setAttribute("role", "link");
    el.setAttribute("aria-label", label(k));
  }

  function disarm(el) {
    el.removeAttribute("tabindex");
    el.removeAttribute("role");
    el.removeAttribute("aria-label");
  }

  function showTip(el) {
    const k = indexOf(el);
    const st = data.status[k];
    const { h, x, ratio, where } = describe(k);
    tip.innerHTML = `<b>${escapeHtml(data.name[k])}</b> <span class="st ${escapeHtml(st)}">${escapeHtml(st)}</span>`
      + `<br>${st === "offline" ? "last reading: " : ""}${hashrate(h)} of ${hashrate(x)}${ratio} · ${temp(data.temp_c[k])} · ${power(data.power_w[k])}`
      + `<br><span class="sub">${escapeHtml(where)}</span>`;
    tip.hidden = false;
    const r = el.getBoundingClientRect(), base = root.getBoundingClientRect();
    const width = tip.offsetWidth;
    tip.style.left = `${Math.max(0, Math.min(r.left - base.left - 8, base.width - width))}px`;
    tip.style.top = `${r.bottom - base.top + 6}px`;
  }

  function focusCell(k, focus = true) {
    if (k < 0 || k >= n()) return;
    const old = cells[active];
    if (old && active !== k) disarm(old);
    active = k;
    const el = cells[k];
    arm(el, k);
    if (focus) el.focus();
  }

  function paint(k) {
    const el = cells[k];
    if (!el) return;
    el.className = cellClass(k);
    if (k === active) el.setAttribute("aria-label", label(k));
  }

  function toggle(k) {
    onToggle(data.id[k], !selected.has(data.id[k]));
    anchor = k;
    paint(k);
  }

  function range(k) {
    if (anchor === null) return toggle(k);
    const [a, b] = [Math.min(anchor, k), Math.max(anchor, k)];
    const ids = [];
    for (let j = a; j <= b; j++) ids.push(data.id[j]);
    onRange(ids, true);
    for (let j = a; j <= b; j++) paint(j);
  }

  function open(k) {
    location.href = `/miners/${Number(data.id[k])}`;
  }

  // The cell above or below `k` on screen: the nearest by x in the next row of cells.
  function vertical(k, dir) {
    const r = cells[k].getBoundingClientRect();
    let rowTop = null, best = null;
    for (let j = k + dir; j >= 0 && j < n(); j += dir) {
      const q = cells[j].getBoundingClientRect();
      if (rowTop === null) {
        if (Math.abs(q.top - r.top) < 1) continue;
        rowTop = q.top;
      }
      if (Math.abs(q.top - rowTop) >= 1) break;
      best = j;
      if ((dir > 0 && q.left >= r.left - 1) || (dir < 0 && q.left <= r.left + 1)) break;
    }
    return best ?? k;
  }

  groupsEl.addEventListener("click", (e) => {
    const el = e.target.closest(".c");
    if (!el) return;
    const k = indexOf(el);
    focusCell(k, false);
    if (e.shiftKey) range(k);
    else if (e.ctrlKey || e.metaKey) toggle(k);
    else open(k);
  });

  groupsEl.addEventListener("keydown", (e) => {
    const el = e.target.closest(".c");
    if (!el) return;
    const k = indexOf(el);
    const moves = { ArrowRight: k + 1, ArrowLeft: k - 1, Home: 0, End: n() - 1 };
    if (e.key in moves) focusCell(moves[e.key]);
    else if (e.key === "ArrowDown") focusCell(vertical(k, 1));
    else if (e.key === "ArrowUp") focusCell(vertical(k, -1));
    else if (e.key === "Enter") open(k);
    else if (e.key === " ") (e.shiftKey ? range(k) : toggle(k));
    else return;
    e.preventDefault();
  });

  groupsEl.addEventListener("mouseover", (e) => {
    const el = e.target.closest(".c");
    if (el) showTip(el);
  });
  groupsEl.addEventListener("mouseleave", () => { if (!groupsEl.contains(document.activeElement)) tip.hidden = true; });
  groupsEl.addEventListener("focusin", (e) => {
    const el = e.target.closest(".c");
    if (!el) return;
    el.setAttribute("aria-label", label(indexOf(el)));
    showTip(el);
  });
  groupsEl.addEventListener("focusout", () => { tip.hidden = true; });

  async function load(params) {
    const mine = ++asked;
    const res = await fetch(`/api/v1/fleet/grid?${params}`, { credentials: "same-origin" });
    if (res.status === 401) { location.href = `/login?next=${encodeURIComponent(location.pathname)}`; return null; }
    if (!res.ok) throw new Error(`grid: ${res.status}`);
    const body = await res.json();
    if (mine !== asked) return null;
    const keep = data ? data.id[active] : null;
    data = body;
    byId = new Map(data.id.map((id, k) => [id, k]));
    active = keep !== null && byId.has(keep) ? byId.get(keep) : 0;
    anchor = null;
    render();
    if (onReady) onReady(data);
    return data;
  }

  return {
    load,
    get total() { return n(); },
    setColor(v) { color = LEGENDS[v] ? v : "status"; if (data) render(); },
    setGroup(v) { group = v === "rack" ? "rack" : "site"; if (data) render(); },
    // Selection changed elsewhere (the table, "clear"): repaint every cell.
    repaint() { if (data) for (let k = 0; k < n(); k++) paint(k); },
    // Live samples: {id, s, h, x, t, tm, p} per miner.
    update(updates) {
      if (!data) return;
      for (const u of updates) {
        const k = byId.get(u.id);
        if (k === undefined) continue;
        data.status[k] = u.s;
        data.hashrate_hs[k] = u.h;
        data.hashrate_expected_hs[k] = u.x;
        data.temp_c[k] = u.tm ?? u.t;
        data.power_w[k] = u.p;
        paint(k);
      }
    },
  };
}
