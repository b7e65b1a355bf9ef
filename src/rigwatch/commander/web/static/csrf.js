// CSRF for the dashboard (a classic script, loaded by base.html before any module): every
// unsafe same-origin fetch() carries the session's token in `x-csrf-token`, and every
// POST form gets a `csrf` field on submit if it has none. The token comes from
// <meta name="csrf-token">, present on every signed-in page. The commander refuses an
// unsafe call made with the session cookie and without the token (403).
(() => {
  const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);
  const token = () => document.querySelector('meta[name="csrf-token"]')?.content ?? "";
  const sameOrigin = (url) => {
    try { return new URL(url, location.href).origin === location.origin; } catch { return false; }
  };
  const original = window.fetch.bind(window);
  window.fetch = (input, init = {}) => {
    const isRequest = input instanceof Request;
    const method = String(init.method ?? (isRequest ? input.method : "GET")).toUpperCase();
    const url = isRequest ? input.url : String(input);
    if (UNSAFE.has(method) && sameOrigin(url) && token()) {
      const headers = new Headers(init.headers ?? (isRequest ? input.headers : undefined));
      if (!headers.has("x-csrf-token")) headers.set("x-csrf-token", token());
      init = { ...init, headers };
    }
    return original(input, init);
  };
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || form.method.toLowerCase() !== "post") return;
    if (form.querySelector('input[name="csrf"]') || !token() || !sameOrigin(form.action)) return;
    const field = document.createElement("input");
    Object.assign(field, { type: "hidden", name: "csrf", value: token() });
    form.append(field);
  }, true);
  window.rigwatchCsrfToken = token;
})();
