// Before the first paint: the owner's light/dark choice (else the system's) on <html data-theme>.
(function () {
  var saved = null;
  try { saved = localStorage.getItem("hems.theme"); } catch (e) { /* private mode */ }
  var dark = saved ? saved === "dark" : window.matchMedia && matchMedia("(prefers-color-scheme: dark)").matches;
  document.documentElement.dataset.theme = dark ? "dark" : "light";
})();
