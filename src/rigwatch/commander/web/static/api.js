// JSON calls to the commander's API from the dashboard's pages. Unsafe calls carry the
// session's CSRF token explicitly (csrf.js would add it too). A failed call throws an Error
// whose message is the API's `detail`; a signed-out page goes to the login and back.
import { parseJsonExact } from "/static/format.js";

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

export function csrfToken() {
  return document.querySelector('meta[name="csrf-token"]')?.content ?? "";
}

export async function api(method, url, body) {
  const headers = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (UNSAFE.has(method)) headers["x-csrf-token"] = csrfToken();
  const res = await fetch(url, {
    method, headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 401) {
    location.href = `/login?next=${encodeURIComponent(location.pathname)}`;
    throw new Error("signed out");
  }
  if (res.status === 204) return null;
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    const detail = data && data.detail;
    const text = typeof detail === "string" ? detail
      : Array.isArray(detail) ? detail.map((d) => `${(d.loc || []).slice(1).join(".")}: ${d.msg}`).join("; ")
        : detail && detail.message ? detail.message : `${res.status} ${res.statusText}`;
    const err = new Error(text);
    err.status = res.status;
    throw err;
  }
  return data;
}

// Show `text` in a status line (role=status), as an error or not.
export function say(node, text, error = false) {
  node.textContent = text;
  node.classList.toggle("error", error);
}

// Copy a node's text to the clipboard; falls back to selecting it.
export async function copyText(node, button) {
  const text = node.textContent;
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = "Copied";
  } catch {
    const range = document.createRange();
    range.selectNodeContents(node);
    const sel = getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    button.textContent = "Selected: press Ctrl+C";
  }
  setTimeout(() => { button.textContent = "Copy"; }, 2000);
}

// GET a JSON document; the integer fields named in `exact` come back as exact BigInts.
export async function getJson(url, exact = []) {
  const res = await fetch(url, { credentials: "same-origin" });
  if (res.status === 401) {
    location.href = `/login?next=${encodeURIComponent(location.pathname + location.search)}`;
    throw new Error("signed out");
  }
  if (!res.ok) {
    const err = new Error(`${url}: ${res.status}`);
    err.status = res.status;
    throw err;
  }
  const text = await res.text();
  return exact.length ? parseJsonExact(text, exact) : JSON.parse(text);
}
