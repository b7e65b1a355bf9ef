// One EventSource per page; the browser resumes with Last-Event-ID after a drop.
export function connect(handlers) {
  const dot = document.getElementById("live-state");
  const source = new EventSource("/api/v1/stream");
  const on = (name, fn) => source.addEventListener(name, (ev) => fn(JSON.parse(ev.data), ev));
  source.onopen = () => dot && dot.classList.add("on");
  source.onerror = () => dot && dot.classList.remove("on");
  for (const [name, fn] of Object.entries(handlers)) on(name, fn);
  return source;
}
