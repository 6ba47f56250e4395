// Settings → Notifications: which events the owner wants to hear about and where (ntfy, e-mail,
// MQTT / Home Assistant, a webhook). Loaded with the Settings page.
import { get, post, put } from "../api.js";
import { card, checkNumber, checkTime, clear, field, h, plainError, timeInput } from "../dom.js";
import { language, t } from "../i18n.js";

export const EVENTS = ["target_unreachable", "not_plugged", "device_offline", "aggregator_event", "price_spike", "update_available"];
const CHANNELS = {
  ntfy: [["url", "text"], ["token", "password"]],
  email: [["host", "text"], ["port", "number"], ["security", "select"], ["username", "text"], ["password", "password"],
    ["sender", "email"], ["to", "email"]],
  mqtt: [["host", "text"], ["port", "number"], ["topic", "text"], ["username", "text"], ["password", "password"]],
  webhook: [["url", "text"]],
};

// One fieldset per channel; channelFields[name][key] is the field() of each input.
function channelSets(v) {
  const channelFields = {};
  const channels = h("div", { class: "channels" });
  for (const [name, specs] of Object.entries(CHANNELS)) {
    const cur = v.channels[name] || {};
    const fs = h("fieldset", { class: "form-grid" }, h("legend", {}, t(`notify.channel_${name}`)),
      h("p", { class: "hint" }, t(`notify.channel_${name}_hint`)));
    channelFields[name] = {};
    for (const [key, type] of specs) {
      const f = field(t(`notify.${name}_${key}`), channelInput(name, key, type, cur));
      channelFields[name][key] = f;
      fs.append(f.el);
    }
    channels.append(fs);
  }
  return { channels, channelFields };
}

function channelInput(name, key, type, cur) {
  if (type === "select") {
    return h("select", { name: `${name}_${key}` }, ["starttls", "ssl", "none"].map((s) =>
      h("option", { value: s, selected: (cur[key] || "starttls") === s }, t(`notify.security_${s}`))));
  }
  const secret = type === "password";          // a saved secret is never sent back: empty keeps it
  return h("input", { name: `${name}_${key}`, type, autocomplete: secret ? "new-password" : "off",
    value: secret ? "" : (cur[key] ?? ""), placeholder: secret && cur[`${key}_set`] ? t("notify.secret_kept") : null });
}

export function notificationsCard(ctx) {
  const body = h("div", {}, h("p", { class: "muted" }, t("common.loading")));
  const el = card(t("notify.title"), h("p", { class: "muted" }, t("notify.intro")), body);
  get("/notify").then((v) => draw(v)).catch((e) => clear(body).append(h("p", { class: "error" }, e.message)));

  function draw(v) {
    clear(body);
    const checks = {};
    const events = h("fieldset", { class: "checks" }, h("legend", {}, t("notify.events")));
    for (const k of EVENTS) {
      const f = field(t(`notify.event_${k}`), h("input", { type: "checkbox", name: `event_${k}`, checked: Boolean(v.events[k]) }));
      f.el.classList.add("check");
      checks[k] = f.input;
      events.append(f.el);
    }
    const plugBy = field(t("notify.plug_in_by"), timeInput({ name: "plug_in_by", value: v.plug_in_by || "21:00" }));
    const spike = field(t("notify.price_spike"), h("input", { type: "number", name: "price_spike_per_kwh", min: 0, max: 5, step: "0.01",
      value: v.price_spike_per_kwh ?? "", inputmode: "decimal" }));
    const { channels, channelFields } = channelSets(v);
    const result = h("ul", { class: "list test-result", "aria-live": "polite" });
    const form = h("form", { class: "form-grid", novalidate: true }, events, plugBy.el, spike.el, channels,
      h("div", { class: "actions" }, h("button", { class: "primary", type: "submit" }, t("common.save")),
        h("button", { class: "secondary", type: "button", onclick: sendTest }, t("notify.send_test"))), result);
    const labels = {};
    for (const [name, fs] of Object.entries(channelFields)) for (const [key, f] of Object.entries(fs)) labels[`${name}.${key}`] = `${t(`notify.channel_${name}`)}: ${f.label}`;
    labels.plug_in_by = plugBy.label; labels.price_spike_per_kwh = spike.label;

    function collect() {
      const plug = checkTime(plugBy);
      if (!plug) return null;
      const out = { events: {}, plug_in_by: plug, language: language(), channels: {} };
      for (const k of EVENTS) out.events[k] = checks[k].checked;
      const s = checkNumber(spike);
      if (s === undefined) return null;
      out.price_spike_per_kwh = s;
      for (const [name, fs] of Object.entries(channelFields)) {
        const c = {};
        for (const [key, f] of Object.entries(fs)) {
          const raw = f.input.value.trim();
          if (raw !== "") c[key] = f.input.type === "number" ? Number(raw) : raw;
        }
        const main = name === "ntfy" || name === "webhook" ? "url" : "host";
        out.channels[name] = c[main] ? c : null;
      }
      return out;
    }

    function showRefusal(ex) {
      const [name, key] = String(ex.field || "").split(".");
      const f = key ? (channelFields[name] || {})[key] : ex.field === "plug_in_by" ? plugBy : ex.field === "price_spike_per_kwh" ? spike : null;
      const text = plainError(ex.message, labels);
      if (f) { f.showError(text); f.input.focus(); } else ctx.toast(text, "error");
    }

    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const body = collect();
      if (!body) return;
      try { draw(await put("/notify", body)); ctx.toast(t("settings.saved")); } catch (ex) { showRefusal(ex); }
    });

    async function sendTest() {
      clear(result);
      try {
        const r = await post("/notify/test", {});
        const names = Object.keys(r.results);
        if (!names.length) result.append(h("li", { class: "muted" }, t("notify.no_channels")));
        for (const name of names) {
          const ok = r.results[name] === "ok";
          result.append(h("li", { class: ok ? "ok" : "error" }, `${t(`notify.channel_${name}`)}: ${ok ? t("notify.test_ok") : r.results[name]}`));
        }
      } catch (ex) { showRefusal(ex); }
    }
    body.append(form);
  }
  return el;
}
