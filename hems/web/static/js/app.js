// hems web UI: boot, first-run setup and login, hash router (pages load on demand), live events.
import { get, post, session } from "./api.js";
import { card, clear, field, h, setTimezone, timeOf } from "./dom.js";
import { LANGUAGES, language, preferredLanguage, setLanguage, t } from "./i18n.js";

const PAGE_NAMES = ["overview", "plan", "car", "history", "devices", "settings"];
const loaded = {};
const view = document.getElementById("view");
const listeners = new Set();
let cleanup = null;
let source = null;
let lastLive = null;
let routeSeq = 0;
let lastMessage = 0;
let linkOk = false;
const SILENT_MS = 20000;       // the server sends at least a keep-alive every 15 s

function loadPage(name) {
  if (!loaded[name]) loaded[name] = import(`./pages/${name}.js`);
  return loaded[name];
}

export function toast(message, kind = "ok") {
  const el = document.getElementById("toast");
  el.textContent = message;
  el.className = `toast ${kind}`;
  el.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { el.hidden = true; }, kind === "error" ? 10000 : 3000);
}

// Pages subscribe to live events: on("state", fn) -> unsubscribe.
export function on(event, fn) {
  const entry = { event, fn };
  listeners.add(entry);
  return () => listeners.delete(entry);
}

function emit(event, data) { for (const l of listeners) if (l.event === event) l.fn(data); }

// Things the owner should notice wherever they are (device trouble shows as a banner on Overview).
const NOTICES = {
  commitment: () => t("notice.commitment"),
  cancel: () => t("notice.cancel"),
  plan_error: (n) => n.message,
};
on("notice", (n) => {
  const text = NOTICES[n.kind] ? NOTICES[n.kind](n) : null;
  if (text) toast(text, n.kind === "plan_error" ? "error" : "ok");
});

function connectEvents() {
  if (source) source.close();
  source = new EventSource("/api/v1/events");
  lastMessage = Date.now();
  for (const name of ["state", "plan", "setpoint", "preferences", "notice"]) {
    source.addEventListener(name, (e) => { lastMessage = Date.now(); emit(name, JSON.parse(e.data)); });
  }
  source.addEventListener("state", () => { lastLive = new Date(); });
  source.addEventListener("ping", () => { lastMessage = Date.now(); });
  source.addEventListener("open", () => { lastMessage = Date.now(); setLink(true); });
  source.addEventListener("error", () => setLink(false));
}

// A stream that went silent (the box lost power, the Wi-Fi dropped) is as good as closed.
setInterval(() => {
  if (!source || !linkOk || Date.now() - lastMessage < SILENT_MS) return;
  setLink(false);
  connectEvents();
}, 5000);

// While hems is not reachable, the page says so and since when; values on screen are marked old.
function setLink(ok) {
  linkOk = ok;
  const pill = document.getElementById("status-pill");
  pill.hidden = false;
  pill.textContent = ok ? t("status.live") : t("status.reconnecting");
  pill.className = `pill ${ok ? "ok" : "warn"}`;
  document.body.classList.toggle("stale", !ok);
  const banner = document.getElementById("offline");
  banner.hidden = ok;
  if (!ok) {
    banner.textContent = lastLive ? t("status.offline_since", { time: timeOf(lastLive.toISOString()) }) : t("status.offline");
  }
}

function userBox() {
  const box = clear(document.getElementById("user-box"));
  if (session.user) {
    box.append(h("button", { class: "link", onclick: logout, "data-testid": "logout" }, t("auth.logout")));
  } else if (session.readOnly) {
    box.append(h("button", { class: "link", onclick: () => showLogin() }, t("auth.login")));
  }
}

async function logout() {
  await post("/auth/logout").catch(() => {});
  session.csrf = session.user = null;
  location.hash = "#/overview";
  boot();
}

// End the shown page's timers and subscriptions.
function leavePage() {
  if (cleanup) { try { cleanup(); } catch { /* page gone */ } }
  cleanup = null;
}

function setTitle(key) { document.title = `${t(`page.${key}`)} · hems`; }

async function route(focus = true) {
  const name = (location.hash.replace(/^#\/?/, "").split("?")[0]) || "overview";
  const key = PAGE_NAMES.includes(name) ? name : "overview";
  for (const a of document.querySelectorAll("#tabs a")) {
    a.classList.toggle("active", a.dataset.page === key);
    if (a.dataset.page === key) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  }
  leavePage();
  const seq = ++routeSeq;
  setTitle(key);
  if (key === "settings" && !session.user) {
    clear(view);
    view.dataset.page = key;
    view.append(card(t("page.settings"), h("p", {}, t("auth.settings_owner_only")),
      h("button", { class: "primary", onclick: () => showLogin() }, t("auth.login"))));
    return;
  }
  const page = await loadPage(key);
  if (seq !== routeSeq) return;                       // the owner moved on meanwhile
  clear(view);
  view.dataset.page = key;
  view.append(h("h1", { class: "sr-only" }, t(`page.${key}`)));
  cleanup = page.render(view, { on, toast, canEdit: Boolean(session.user) }) || null;
  if (focus) view.focus({ preventScroll: true });
}

function authScreen(title, intro, submitText, onSubmit, withConfirm) {
  leavePage();
  if (source) { source.close(); source = null; }
  document.getElementById("tabs").hidden = true;
  document.getElementById("status-pill").hidden = true;
  clear(document.getElementById("user-box"));
  clear(view);
  document.title = `${title} · hems`;
  view.dataset.page = "auth";
  const err = h("p", { class: "error", role: "alert", hidden: true });
  const user = field(t("auth.username"), h("input", { name: "username", autocomplete: "username", value: "admin", required: true }));
  const pass = field(t("auth.password"), h("input", { name: "password", type: "password", required: true,
    autocomplete: withConfirm ? "new-password" : "current-password" }), withConfirm ? t("auth.password_hint") : null);
  const confirm = withConfirm ? field(t("auth.repeat"), h("input", { name: "confirm", type: "password", autocomplete: "new-password", required: true })) : null;
  const form = h("form", { class: "auth-form" }, user.el, pass.el, confirm ? confirm.el : null, err,
    h("button", { class: "primary", type: "submit" }, submitText));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    err.hidden = true;
    if (confirm && confirm.input.value !== pass.input.value) { confirm.showError(t("auth.differ")); return; }
    try { await onSubmit(user.input.value.trim(), pass.input.value); }
    catch (ex) { err.textContent = authMessage(ex); err.hidden = false; }
  });
  view.append(h("div", { class: "auth" }, h("section", { class: "card" }, h("h1", {}, title), h("p", { class: "muted" }, intro), form)));
  pass.input.focus();
}

function authMessage(ex) {
  if (ex.status === 401) return t("auth.wrong");
  if (ex.status === 429) return t("auth.locked");
  if (ex.status === 0) return t("status.offline");
  if (ex.field === "password" || ex.field === "new_password") return t("auth.password_hint");
  return ex.message;
}

function showSetup() {
  authScreen(t("auth.welcome"), t("auth.setup_intro"), t("auth.setup_submit"),
    async (username, password) => { start(await post("/auth/setup", { username, password })); }, true);
}

function showLogin() {
  authScreen(t("auth.login"), t("auth.login_intro"), t("auth.login"),
    async (username, password) => { start(await post("/auth/login", { username, password })); }, false);
}

function start(info) {
  session.csrf = info.csrf_token; session.user = info.user; session.role = info.role;
  if (!location.hash || location.hash === "#/") location.hash = "#/overview";
  enter();
}

function enter() {
  const tabs = document.getElementById("tabs");
  tabs.hidden = false;
  for (const a of tabs.querySelectorAll("[data-admin]")) a.hidden = !session.user;
  userBox();
  connectEvents();
  route(false);
}

function translateShell() {
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  document.getElementById("tabs").setAttribute("aria-label", t("nav.pages"));
  document.getElementById("lang").setAttribute("aria-label", t("nav.language"));
  document.getElementById("theme").setAttribute("aria-label", t("nav.dark_mode"));
}

function setupChrome() {
  const sel = document.getElementById("lang");
  // short codes fit a phone's top bar; each option says its language's name to a screen reader
  for (const [code, name] of Object.entries(LANGUAGES)) {
    sel.append(h("option", { value: code, lang: code, "aria-label": name, title: name }, code.toUpperCase()));
  }
  sel.value = language();
  sel.addEventListener("change", async () => {
    await setLanguage(sel.value, true);
    translateShell();
    userBox();
    if (!document.getElementById("tabs").hidden) route(false); else boot();
  });
  const theme = document.getElementById("theme");
  const showTheme = () => theme.setAttribute("aria-pressed", String(document.documentElement.dataset.theme === "dark"));
  showTheme();
  theme.addEventListener("click", () => {
    const next = document.documentElement.dataset.theme === "dark" ? "light" : "dark";
    document.documentElement.dataset.theme = next;
    try { localStorage.setItem("hems.theme", next); } catch { /* private mode */ }
    showTheme();
    window.dispatchEvent(new Event("hems:theme"));
  });
}

async function boot() {
  let status;
  try { status = await get("/auth/status"); }
  catch { clear(view).append(card(t("status.unreachable_title"), h("p", {}, t("status.offline")))); return; }
  setTimezone(status.timezone);
  Object.assign(session, { csrf: status.csrf_token, user: status.user, role: status.role, readOnly: status.read_only_view });
  if (status.setup_required) return showSetup();
  if (!status.logged_in && !status.read_only_view) return showLogin();
  enter();
}

window.addEventListener("hashchange", () => { if (!document.getElementById("tabs").hidden) route(); });
window.addEventListener("hems:logged-out", () => {
  if (document.getElementById("tabs").hidden) return;          // already on the login screen
  session.csrf = session.user = null;
  boot();
});

async function main() {
  await setLanguage(preferredLanguage()).catch(() => setLanguage("en"));
  translateShell();
  setupChrome();
  if ("serviceWorker" in navigator && (location.protocol === "https:" || location.hostname === "localhost"
      || location.hostname === "127.0.0.1")) {
    navigator.serviceWorker.register("/sw.js").catch((e) => console.warn("service worker not registered:", e.message));
  }
  boot();
}
main();
