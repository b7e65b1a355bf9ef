// Dark or light: the choice made here (the header's toggle, the settings page) is kept
// in localStorage; without one the system's preference (prefers-color-scheme) decides.
// A classic script loaded in <head>, so the page is drawn in its theme from the start.
// Other scripts hear of a change through the "rigwatch:theme" event (charts redraw).
(() => {
  const KEY = "rigwatch.theme";
  const root = document.documentElement;
  const light = window.matchMedia("(prefers-color-scheme: light)");

  function saved() {
    try {
      const v = localStorage.getItem(KEY);
      return v === "light" || v === "dark" ? v : "system";
    } catch {
      return "system";
    }
  }

  function sync() {
    const theme = root.dataset.theme;
    const other = theme === "dark" ? "light" : "dark";
    for (const b of document.querySelectorAll("[data-theme-toggle]")) {
      b.setAttribute("aria-label", `Switch to the ${other} theme`);
      b.title = `Switch to the ${other} theme`;
      b.dataset.current = theme;
    }
    for (const r of document.querySelectorAll('input[name="theme"]')) r.checked = r.value === root.dataset.themeChoice;
  }

  function apply() {
    const choice = saved();
    const theme = choice === "system" ? (light.matches ? "light" : "dark") : choice;
    const before = root.dataset.theme;
    root.dataset.theme = theme;
    root.dataset.themeChoice = choice;
    sync();
    if (before && before !== theme) window.dispatchEvent(new CustomEvent("rigwatch:theme", { detail: { theme } }));
  }

  function choose(choice) {
    try {
      if (choice === "light" || choice === "dark") localStorage.setItem(KEY, choice);
      else localStorage.removeItem(KEY);
    } catch { /* private mode: for this page only */
      root.dataset.themeChoice = choice;
    }
    apply();
  }

  apply();
  light.addEventListener("change", apply);
  window.addEventListener("storage", (e) => { if (e.key === KEY) apply(); });
  document.addEventListener("click", (e) => {
    if (e.target.closest("[data-theme-toggle]")) choose(root.dataset.theme === "dark" ? "light" : "dark");
  });
  document.addEventListener("change", (e) => {
    if (e.target.matches('input[name="theme"]')) choose(e.target.value);
  });
  document.addEventListener("DOMContentLoaded", sync);
  window.rigwatchTheme = { choose, saved };
})();
