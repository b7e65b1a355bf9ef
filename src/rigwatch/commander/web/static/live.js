// One EventSource per page; the browser resumes with Last-Event-ID after a drop. The
// header's dot shows only on pages that stream: green while connected, red while not.
export function connect(handlers) {
  const dot = document.getElementById("live-state");
  if (dot) dot.hidden = false;
  const source = new EventSource("/api/v1/stream");
  const on = (name, fn) => source.addEventListener(name, (ev) => fn(JSON.parse(ev.data), ev));
  source.onopen = () => dot && dot.classList.add("on");
  source.onerror = () => dot && dot.classList.remove("on");
  for (const [name, fn] of Object.entries(handlers)) on(name, fn);
  return source;
}
