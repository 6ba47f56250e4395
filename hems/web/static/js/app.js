// hems web UI: boot, first-run setup and login, hash router, live events.
import { api, get, post, session } from "./api.js";
import { card, clear, h, setTimezone } from "./dom.js";
import * as overview from "./pages/overview.js";
import * as plan from "./pages/plan.js";
import * as car from "./pages/car.js";
import * as history from "./pages/history.js";
import * as devices from "./pages/devices.js";
import * as settings from "./pages/settings.js";

const PAGES = { overview, plan, car, history, devices, settings };
const view = document.getElementById("view");
const listeners = new Set();
let cleanup = null;
let source = null;

export function toast(message, kind = "ok") {
  const el = document.getElementById("toast");
  el.textContent = message;
  el.className = `toast ${kind}`;
  el.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { el.hidden = true; }, kind === "error" ? 6000 : 2500);
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
  commitment: () => "Aggregator event accepted: hems adjusts the plan",
  cancel: () => "Aggregator event cancelled",
  plan_error: (n) => n.message,
};
on("notice", (n) => {
  const text = NOTICES[n.kind] ? NOTICES[n.kind](n) : null;
  if (text) toast(text, n.kind === "plan_error" ? "error" : "ok");
});

function connectEvents() {
  if (source) source.close();
  source = new EventSource("/api/v1/events");
  for (const name of ["state", "plan", "setpoint", "preferences", "notice"]) {
    source.addEventListener(name, (e) => emit(name, JSON.parse(e.data)));
  }
  source.addEventListener("open", () => setLink(true));
  source.addEventListener("error", () => setLink(false));
}

function setLink(ok) {
  const pill = document.getElementById("status-pill");
  pill.hidden = false;
  pill.textContent = ok ? "live" : "reconnecting…";
  pill.className = `pill ${ok ? "ok" : "warn"}`;
}

function userBox() {
  const box = clear(document.getElementById("user-box"));
  if (session.user) {
    box.append(h("button", { class: "link", onclick: logout }, `Log out ${session.user}`));
  } else if (session.readOnly) {
    box.append(h("span", { class: "muted" }, "view only · "),
      h("button", { class: "link", onclick: () => showLogin() }, "Log in"));
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

function route() {
  const name = (location.hash.replace(/^#\/?/, "").split("?")[0]) || "overview";
  const page = PAGES[name] || overview;
  const key = PAGES[name] ? name : "overview";
  for (const a of document.querySelectorAll("#tabs a")) a.classList.toggle("active", a.dataset.page === key);
  leavePage();
  clear(view);
  view.dataset.page = key;
  if (key === "settings" && !session.user) {
    view.append(card("Settings", h("p", {}, "Log in as the owner to change settings."),
      h("button", { class: "primary", onclick: () => showLogin() }, "Log in")));
    cleanup = null;
    return;
  }
  cleanup = page.render(view, { on, toast, canEdit: Boolean(session.user) }) || null;
}

function authScreen(title, intro, submitText, onSubmit, withConfirm) {
  leavePage();
  if (source) { source.close(); source = null; }
  document.getElementById("tabs").hidden = true;
  document.getElementById("status-pill").hidden = true;
  clear(document.getElementById("user-box"));
  clear(view);
  view.dataset.page = "auth";
  const err = h("p", { class: "error", role: "alert", hidden: true });
  const user = h("input", { name: "username", autocomplete: "username", value: "admin", required: true });
  const pass = h("input", { name: "password", type: "password", required: true,
    autocomplete: withConfirm ? "new-password" : "current-password" });
  const confirm = withConfirm ? h("input", { name: "confirm", type: "password", autocomplete: "new-password", required: true }) : null;
  const form = h("form", { class: "auth-form" },
    h("label", {}, "User name", user),
    h("label", {}, "Password", pass),
    confirm ? h("label", {}, "Repeat password", confirm) : null,
    err,
    h("button", { class: "primary", type: "submit" }, submitText));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    err.hidden = true;
    if (confirm && confirm.value !== pass.value) { err.textContent = "The two passwords differ."; err.hidden = false; return; }
    try { await onSubmit(user.value.trim(), pass.value); }
    catch (ex) { err.textContent = ex.message; err.hidden = false; }
  });
  view.append(h("div", { class: "auth" }, card(title, h("p", { class: "muted" }, intro), form)));
  pass.focus();
}

function showSetup() {
  authScreen("Welcome to hems", "Choose the owner's password (at least 10 characters). Only the owner can change how "
    + "hems charges the car. There is no default password.", "Set password and start",
    async (username, password) => { start(await post("/auth/setup", { username, password })); }, true);
}

function showLogin() {
  authScreen("Log in", "Log in as the owner to see and change how hems charges the car.", "Log in",
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
  route();
}

async function boot() {
  let status;
  try { status = await get("/auth/status"); }
  catch (e) { clear(view).append(card("hems is not reachable", h("p", {}, e.message))); return; }
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
boot();
export { api };
