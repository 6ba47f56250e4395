"""The owner's UI in a real headless Chromium against the real agent on the simulated home, on a
phone (390x844, touch) and a desktop: accessibility (axe-core, both themes, every page), the four
languages, dark mode, errors next to their field, focus, charts on a phone, History month and
no-data days, the charge bar's labels, the page when hems is not reachable, what a page loads.
With HEMS_UPDATE_SCREENSHOTS=1 the screenshots in docs/screenshots/ are refreshed."""
from __future__ import annotations

import asyncio
import os
import re
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest
import pytest_asyncio

from tests.web.simhome import ROOT, record_history, sim_runtime
from tests.web.test_browser import ARGS, CHROMIUM, PASSWORD, PHONE

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts" / "web"
DOCS = ROOT / "docs" / "screenshots"
DESKTOP = {"width": 1280, "height": 860}
PAGES = ("overview", "plan", "car", "history", "devices", "settings")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def home(tmp_path_factory):
    """hems on the simulated home with a recorded Saturday morning; the owner's password is set."""
    data = tmp_path_factory.mktemp("ui") / "data"
    await record_history(data, datetime(2024, 6, 8, 3, 0, tzinfo=timezone.utc), hours=8.0, step_s=120.0)
    async with sim_runtime(data, day="2024-06-08", hour=13.0) as (runtime, url):
        yield runtime, url


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser(home):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (make test-deps does)")
    from playwright.async_api import async_playwright
    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = await b.new_page()
        await page.goto(home[1] + "/")
        status = await page.evaluate("""async (pw) => {
            const s = await (await fetch('/api/v1/auth/status')).json();
            if (!s.setup_required) return 200;
            const r = await fetch('/api/v1/auth/setup', {method: 'POST', headers: {'Content-Type': 'application/json'},
              body: JSON.stringify({username: 'admin', password: pw})});
            return r.status; }""", PASSWORD)
        assert status in (200, 201)
        await page.close()
        yield b
        await b.close()


async def open_app(browser, url, *, phone=True, lang="en", dark=False, path="overview", **ctx):
    """A logged-in page in a fresh context (its own storage), errors collected on page.errors.
    The context may bypass the CSP: axe-core is injected as a script of the test, never of the UI."""
    viewport = PHONE if phone else DESKTOP
    context = await browser.new_context(viewport=viewport, locale={"en": "en-GB", "de": "de-DE", "nl": "nl-NL",
                                        "fr": "fr-FR"}[lang], has_touch=phone, is_mobile=phone,
                                        device_scale_factor=2 if phone else 1,
                                        color_scheme="dark" if dark else "light", bypass_csp=True, **ctx)
    page = await context.new_page()
    page.errors, page.console = [], []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("console", lambda m: page.console.append(f"{m.type}: {m.text}"))
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error"
            and not m.text.startswith("Failed to load resource") else None)
    await page.goto(url + "/")
    await page.wait_for_selector("input[name=password]")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_selector("#tabs:not([hidden])")
    await goto(page, url, path)
    return page


async def goto(page, url, name):
    await page.goto(f"{url}/#/{name}")
    await page.wait_for_selector(f"#view[data-page={name}] .card")
    if name == "overview":
        await page.wait_for_function("!document.querySelector('.soc-text').textContent.includes('–')")
    if name in ("plan", "history"):
        await page.wait_for_selector(".uplot, [data-testid=no-data]")
    if name == "settings":
        await page.wait_for_selector("input[name=plug_in_by]")


async def axe(page) -> list[dict]:
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.add_script_tag(path=str(AXE))
    result = await page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                       nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})); }""")
    return [v for v in result if v["impact"] in ("serious", "critical")]


async def shoot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.evaluate("document.getElementById('toast').hidden = true")
    size = page.viewport_size                        # the viewport grows to the page: fixed bars stay put
    height = await page.evaluate("document.documentElement.scrollHeight")
    await page.set_viewport_size({"width": size["width"], "height": max(size["height"], height)})
    await page.wait_for_timeout(300)                 # charts follow the new size
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
    await page.set_viewport_size(size)
    if os.environ.get("HEMS_UPDATE_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        shutil.copy(ARTIFACTS / f"{name}.png", DOCS / f"{name}.png")


@pytest.mark.timeout(300)
@pytest.mark.parametrize("phone, dark", [(True, False), (True, True), (False, False), (False, True)],
                         ids=["phone-light", "phone-dark", "desktop-light", "desktop-dark"])
async def test_axe_finds_nothing_serious_on_any_page(browser, home, phone, dark):
    url = home[1]
    page = await open_app(browser, url, phone=phone, dark=dark)
    found = {}
    for name in PAGES:
        await goto(page, url, name)
        if violations := await axe(page):
            found[name] = violations
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= page.viewport_size["width"], f"{name} scrolls sideways ({width} px)"
    assert not found, "\n".join(f"{p}: {v['id']} {v['nodes']}" for p, vs in found.items() for v in vs)
    assert not page.errors, page.errors
    await page.context.close()


async def test_login_screen_passes_axe(browser, home):
    page = await (await browser.new_context(viewport=PHONE, bypass_csp=True)).new_page()
    await page.goto(home[1] + "/")
    await page.wait_for_selector("input[name=password]")
    assert await axe(page) == []
    assert await page.title() == "Log in · hems"
    await page.context.close()


@pytest.mark.parametrize("lang, title, solar, leave", [
    ("en", "Overview · hems", "Solar", "Leave at"), ("de", "Übersicht · hems", "Solar", "Abfahrt um"),
    ("nl", "Overzicht · hems", "Zon", "Vertrek om"), ("fr", "Aperçu · hems", "Solaire", "Départ à")])
async def test_each_language_with_its_own_numbers_and_24h_times(browser, home, lang, title, solar, leave):
    url = home[1]
    page = await open_app(browser, url, lang=lang)          # the browser's language is the first choice
    assert await page.evaluate("document.documentElement.lang") == lang
    assert await page.title() == title
    values = await page.locator(".node-value").all_text_contents()
    sep = "." if lang == "en" else ","
    assert any(v.endswith(" kW") and sep in v for v in values), values
    assert solar in (await page.text_content("[data-testid=flow-text]"))
    trip = await page.text_content(".card p:has(strong)")
    assert ":" in trip and "AM" not in trip.upper().replace("AMSTERDAM", "")
    await shoot(page, f"overview-{lang}")
    await goto(page, url, "car")
    assert await page.locator(f"label:text-is('{leave}')").count() == 1
    await page.wait_for_function("document.querySelector('[data-testid=car-level]').textContent.includes('%')")
    await goto(page, url, "plan")
    await page.wait_for_selector(".uplot")
    await shoot(page, f"plan-{lang}")
    assert not page.errors, page.errors
    await page.context.close()


async def test_the_language_switch_is_remembered(browser, home):
    url = home[1]
    page = await open_app(browser, url)
    await page.select_option("#lang", "nl")
    await page.wait_for_function("document.title === 'Overzicht · hems'")
    assert await page.text_content("#tabs a[data-page=history]") == "Geschiedenis"
    await page.reload()
    await page.wait_for_selector("#view[data-page=overview] .card")
    assert await page.title() == "Overzicht · hems"
    await page.context.close()


async def test_dark_mode_follows_the_system_and_the_switch(browser, home):
    url = home[1]
    page = await open_app(browser, url, dark=True)
    assert await page.evaluate("document.documentElement.dataset.theme") == "dark"
    bg = await page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert bg == "rgb(15, 20, 25)", bg
    await shoot(page, "overview-dark")
    for name in ("plan", "history"):
        await goto(page, url, name)
        await shoot(page, f"{name}-dark")
    await page.click("#theme")
    assert await page.evaluate("document.documentElement.dataset.theme") == "light"
    assert await page.get_attribute("#theme", "aria-pressed") == "false"
    await page.reload()
    await page.wait_for_selector("#view .card")
    assert await page.evaluate("document.documentElement.dataset.theme") == "light"   # the choice beats the system
    await page.context.close()


async def test_errors_are_plain_and_stay_next_to_their_field(browser, home):
    url = home[1]
    page = await open_app(browser, url, path="settings")
    fuse = page.locator("input[name=main_fuse_a]")
    await fuse.fill("300")
    await page.locator("form:has(input[name=main_fuse_a]) button[type=submit]").click()
    err = page.locator(f"#{await fuse.get_attribute('id')}-err")
    await err.wait_for()
    text = await err.text_content()
    cap = home[0].config.site.main_fuse_a if hasattr(home[0], "config") else None
    assert re.fullmatch(r"Main fuse per phase \(A\) must be between 6 and (\d+) A\.", text), text
    assert cap is None or text.endswith(f" {cap:g} A."), (text, cap)     # the installer's fuse is the most
    assert "main_fuse_a" not in text
    assert await fuse.get_attribute("aria-invalid") is not None
    assert await page.evaluate("document.activeElement.name") == "main_fuse_a"
    await page.wait_for_timeout(7000)            # the old toast vanished after 6 s: this stays
    assert await err.is_visible()
    await fuse.fill("25")
    assert await err.is_hidden()
    # a negative markup on the spot price is refused by the server too (not only by the form)
    status = await page.evaluate("""async () => {
        const s = await (await fetch('/api/v1/auth/status')).json();
        const r = await fetch('/api/v1/settings/tariff', {method: 'PUT', headers: {'Content-Type': 'application/json',
          'X-CSRF-Token': s.csrf_token}, body: JSON.stringify({import_markup_per_kwh: -1})});
        return r.status; }""")
    assert status == 422
    # the car page: a target below the reserve, in plain words beside the slider
    reserve = home[0].agent.preferences.reserve_pct
    await goto(page, url, "car")
    await page.eval_on_selector("input[name=reserve_pct]", "el => { el.value = '40'; el.dispatchEvent(new Event('input')); }")
    await page.click("button:has-text('Save reserve')")
    await page.wait_for_selector("#toast:has-text('Reserve saved')")
    await page.eval_on_selector("input[name=target_soc_pct]", "el => { el.value = '30'; el.dispatchEvent(new Event('input')); }")
    await page.click("button:has-text('Save trip')")
    msg = await page.locator(".field-error:visible").first.text_content()
    assert "cannot be below the reserve (40 %)" in msg and "_pct" not in msg
    await page.eval_on_selector("input[name=reserve_pct]", f"el => {{ el.value = '{reserve:.0f}'; el.dispatchEvent(new Event('input')); }}")
    await page.click("button:has-text('Save reserve')")
    await page.wait_for_function(f"document.querySelector('input[name=reserve_pct]').value === '{reserve:.0f}'")
    await page.context.close()


async def test_focus_stays_on_the_mode_after_a_change(browser, home):
    url = home[1]
    page = await open_app(browser, url, phone=False, path="car")
    await page.focus("[data-mode=off]")
    await page.keyboard.press("Enter")
    await page.wait_for_selector("[data-mode=off][aria-checked=true]")
    assert await page.evaluate("document.activeElement.dataset.mode") == "off"
    await page.keyboard.press("Tab")                      # and keyboard navigation goes on from there
    assert await page.evaluate("document.activeElement.tagName") != "BODY"
    await page.focus("[data-mode=smart]")
    await page.keyboard.press("Enter")
    await page.wait_for_selector("[data-mode=smart][aria-checked=true]")
    assert home[0].agent.preferences.mode.value == "smart"
    await page.context.close()


async def test_pages_have_their_own_titles_and_main_is_not_live(browser, home):
    url = home[1]
    page = await open_app(browser, url, phone=False)
    titles = set()
    for name in PAGES:
        await goto(page, url, name)
        titles.add(await page.title())
    assert len(titles) == len(PAGES)
    assert await page.get_attribute("#view", "aria-live") is None
    await goto(page, url, "overview")
    assert await page.get_attribute("svg.flow", "aria-hidden") == "true"
    items = await page.locator("[data-testid=flow-text] li").all_text_contents()
    assert len(items) == 4 and all(":" in i for i in items), items
    await page.context.close()


async def test_tap_targets_are_big_enough_on_a_phone(browser, home):
    url = home[1]
    page = await open_app(browser, url)
    small = []
    for name in PAGES:
        await goto(page, url, name)
        small += await page.evaluate("""(name) => [...document.querySelectorAll(
              '#tabs a, .topbar button, .topbar select, #view button, #view select, #view .button, #view input:not([type=checkbox]):not([type=range])')]
            .filter(el => el.offsetParent !== null)
            .map(el => [el, el.getBoundingClientRect()])
            .filter(([el, r]) => r.height < 44 || r.width < 44)
            .map(([el, r]) => `${name}: ${el.tagName} ${el.textContent.trim().slice(0, 20)} ${Math.round(r.width)}x${Math.round(r.height)}`)""", name)
    assert not small, small
    sizes = await page.evaluate("[...document.querySelectorAll('#tabs a span')].map(s => parseFloat(getComputedStyle(s).fontSize))")
    assert min(sizes) >= 12.5, sizes
    await page.context.close()


async def test_phone_charts_tap_shows_values_and_labels_never_overlap(browser, home):
    url = home[1]
    page = await open_app(browser, url, path="plan")
    chart = page.locator(".chart .u-over").first
    for _ in range(3):                  # a new plan redraws the charts: tap again on the new one
        box = await chart.bounding_box()
        await chart.tap(position={"x": box["width"] * 0.6, "y": box["height"] / 2})
        values = await page.locator(".chart").first.locator(".u-legend .u-value").all_text_contents()
        if values and values[0] != "–":
            break
    assert values[0] != "–" and "m" not in values[0].lower(), values           # 24 h: no am/pm
    assert any(v.endswith("kW") for v in values[1:]), values
    labels = await page.evaluate("""() => [...document.querySelectorAll('.chart')].map(c =>
        [...c.querySelectorAll('.chart-label')].map(l => { const r = l.getBoundingClientRect();
          return [l.textContent, r.left, r.top, r.right, r.bottom]; }))""")
    assert any(len(ls) >= 2 for ls in labels)
    for ls in labels:
        for i, a in enumerate(ls):
            for b in ls[i + 1:]:
                overlap = a[1] < b[3] and b[1] < a[3] and a[2] < b[4] and b[2] < a[4]
                assert not overlap, (a, b)
    await page.context.close()


async def test_charge_bar_ticks_have_labels(browser, home):
    url = home[1]
    page = await open_app(browser, url)
    reserve = await page.text_content("[data-testid=reserve-label]")
    target = await page.text_content("[data-testid=target-label]")
    assert reserve.startswith("reserve ") and target.startswith("target "), (reserve, target)
    a = await page.locator("[data-testid=reserve-label]").bounding_box()
    b = await page.locator("[data-testid=target-label]").bounding_box()
    assert not (a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"]
                and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"])
    await page.context.close()


async def test_history_month_with_one_day_and_a_day_without_data(browser, home):
    url = home[1]
    page = await open_app(browser, url, path="history")
    await page.click(".segmented button:has-text('Month')")
    await page.wait_for_selector(".period-title:text-is('June 2024')")
    await page.wait_for_selector(".uplot")
    span = await page.evaluate("(() => { const x = document.querySelector('.chart').uplot.scales.x; return [x.min, x.max]; })()")
    assert 29 * 86400 <= span[1] - span[0] <= 31 * 86400, span         # the month on the axis, not three years
    solar = await page.evaluate("document.querySelector('.chart').uplot.data[1]")
    assert len(solar) == 30 and [v for v in solar if v is not None] == [pytest.approx(max(v or 0 for v in solar))]
    assert max(v or 0 for v in solar) > 1.0           # the recorded day's bar; the other days have none (not 0)
    await page.wait_for_selector("text=Charging sessions")
    await page.click(".segmented button:has-text('Day')")
    await page.wait_for_selector(".period-title:has-text('8 June 2024')")
    await page.click("button[aria-label=Earlier]")
    await page.wait_for_selector("[data-testid=no-data]")
    assert "No data for this day" in await page.text_content("[data-testid=no-data]")
    assert "0.00" not in await page.text_content("#view")
    await page.click(".segmented button:has-text('Year')")
    await page.wait_for_selector(".period-title:text-is('2024')")
    await page.wait_for_selector("text=Self-sufficiency")
    await page.context.close()


async def test_not_reachable_is_said_and_old_values_are_marked(browser):
    """The server goes away (a small web app on a fake agent, so the shared home keeps running)."""
    from aiohttp import web

    from hems.domain.clock import ManualClock
    from hems.web import create_web_app
    from tests.conftest import free_port
    from tests.web.conftest import T0
    from tests.web.fake_agent import FakeAgent, FakeConfig

    port = free_port()
    runner = web.AppRunner(create_web_app(FakeAgent(T0), None, FakeConfig(), ManualClock(T0)))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        url = f"http://127.0.0.1:{port}"
        context = await browser.new_context(viewport=PHONE, locale="en-GB")
        page = await context.new_page()
        await page.goto(url + "/")
        await page.fill("input[name=password]", PASSWORD)
        await page.fill("input[name=confirm]", PASSWORD)
        await page.click("button[type=submit]")
        await page.wait_for_selector("#status-pill.ok")
        await page.wait_for_function("!document.querySelector('.soc-text').textContent.includes('–')")
    finally:
        await runner.cleanup()                    # hems is gone: the stream ends, nothing answers
    await page.wait_for_selector("#offline:not([hidden])")
    assert "not reachable since" in await page.text_content("#offline")
    assert await page.text_content("#status-pill") == "reconnecting…"
    assert await page.evaluate("document.body.classList.contains('stale')")
    assert await page.evaluate("getComputedStyle(document.querySelector('.soc-text')).opacity") == "0.55"
    await shoot(page, "overview-offline")
    await context.close()


async def test_installable_and_the_offline_shell(browser, home):
    url = home[1]
    page = await open_app(browser, url, service_workers="allow")
    manifest = await page.evaluate("fetch('/manifest.webmanifest').then(r => r.json())")
    assert manifest["display"] == "standalone" and {i["sizes"] for i in manifest["icons"]} >= {"192x192", "512x512"}
    for icon in manifest["icons"]:
        assert (await page.evaluate("(src) => fetch(src).then(r => r.status)", icon["src"])) == 200
    try:
        await asyncio.wait_for(page.evaluate("navigator.serviceWorker.ready.then(() => true)"), 20)
    except asyncio.TimeoutError:
        pytest.fail(f"the service worker never became ready; console: {page.console}")
    await page.reload()                                  # now under the worker's control
    await page.wait_for_function("navigator.serviceWorker.controller !== null")
    await page.context.set_offline(True)
    await page.reload()
    await page.wait_for_selector("text=hems is not reachable")
    await page.context.close()


async def test_overview_loads_only_what_it_shows(browser, home):
    url = home[1]
    context = await browser.new_context(viewport=PHONE)
    page = await context.new_page()
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url.replace(url, "")))
    await page.goto(url + "/")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_selector("#view[data-page=overview] .stat")
    assert not any("uPlot" in s or "/pages/plan.js" in s or "/pages/history.js" in s for s in seen), seen
    assert "/api/v1/history/today" in seen and not any(s.startswith("/api/v1/history?") for s in seen), seen
    await context.close()


async def test_the_owner_sets_up_notifications_and_a_test_arrives(browser, home):
    """ntfy (a local server in ntfy's JSON publish format) and e-mail (a local aiosmtpd), from the page."""
    from aiohttp import web
    from aiohttp.test_utils import TestServer
    from aiosmtpd.controller import Controller

    from tests.conftest import free_port

    published, mails = [], []

    async def publish(request):
        published.append(await request.json())
        return web.json_response({"id": "x1", "event": "message"})

    app = web.Application()
    app.router.add_post("/", publish)
    ntfy = TestServer(app, host="127.0.0.1")
    await ntfy.start_server()

    class Handler:
        async def handle_DATA(self, server, session, envelope):   # noqa: N802
            mails.append(envelope.content.decode("utf-8", "replace"))
            return "250 OK"

    smtp = Controller(Handler(), hostname="127.0.0.1", port=free_port())
    smtp.start()
    url = home[1]
    try:
        page = await open_app(browser, url, phone=False, path="settings")
        await page.fill("input[name=ntfy_url]", f"http://127.0.0.1:{ntfy.port}/our-home")
        await page.fill("input[name=email_host]", "127.0.0.1")
        await page.fill("input[name=email_port]", str(smtp.port))
        await page.select_option("select[name=email_security]", "none")
        await page.fill("input[name=email_sender]", "hems@home.example")
        await page.fill("input[name=email_to]", "owner@example.org")
        await page.check("input[name=event_price_spike]")
        await page.click("form:has(input[name=ntfy_url]) button[type=submit]")
        await page.wait_for_selector("#toast:has-text('Saved')")
        await page.click("button:has-text('Send a test')")
        await page.wait_for_selector(".test-result li:has-text('E-mail: sent')")
        assert await page.locator(".test-result li:has-text('ntfy (phone app): sent')").count() == 1
        assert published[0]["topic"] == "our-home" and published[0]["title"] == "Test"
        assert "This is a test from hems" in mails[0]
        # a wrong address is refused beside its field, in plain words
        await page.fill("input[name=email_to]", "owner at example")
        await page.click("form:has(input[name=ntfy_url]) button[type=submit]")
        err = page.locator("#" + await page.get_attribute("input[name=email_to]", "id") + "-err")
        await err.wait_for()
        assert "E-mail: Send to: enter an e-mail address like name@example.com." == await err.text_content()
        await page.evaluate("""async () => {                  // the shared home goes back to no channels
            const s = await (await fetch('/api/v1/auth/status')).json();
            await fetch('/api/v1/notify', {method: 'PUT', headers: {'Content-Type': 'application/json',
              'X-CSRF-Token': s.csrf_token}, body: JSON.stringify({channels: {}})}); }""")
        await page.context.close()
    finally:
        smtp.stop()
        await ntfy.close()


async def test_times_are_typed_and_shown_in_24h(browser, home):
    url = home[1]
    page = await open_app(browser, url, lang="fr", path="car")
    dep = page.locator("input[name=departure]")
    assert await dep.get_attribute("type") == "text"            # not the browser's AM/PM picker
    await dep.fill("1930")
    await dep.blur()
    assert await dep.input_value() == "19:30"
    await dep.fill("25:10")
    await page.click("form:has(input[name=departure]) button[type=submit]")
    err = page.locator("#" + await dep.get_attribute("id") + "-err")
    await err.wait_for()
    assert "HH:MM (24 h)" in await err.text_content() and "Départ à" in await err.text_content()
    week = await page.locator(".week-row input.time24").evaluate_all("els => els.map(e => e.value)")
    assert all(len(v) == 5 and v[2] == ":" for v in week), week
    await page.context.close()


async def test_a_refusal_from_the_server_is_said_in_the_owners_language(browser, home):
    url = home[1]
    page = await open_app(browser, url, lang="de", phone=False, path="settings")
    await page.fill("input[name=ntfy_url]", "https://ntfy.example/")          # no topic: only the server knows
    await page.click("form:has(input[name=ntfy_url]) button[type=submit]")
    err = page.locator("#" + await page.get_attribute("input[name=ntfy_url]", "id") + "-err")
    await err.wait_for()
    assert await err.text_content() == ("ntfy (Handy-App): Adresse des Themas: Die Adresse muss mit Ihrem Thema enden, "
                                        "z. B. https://ntfy.sh/mein-haus-7f3k.")
    assert await page.evaluate("document.activeElement.name") == "ntfy_url"
    await page.context.close()
