"""In a real headless Chromium against the real agent on a simulated home whose charger never
reports the car's level: the "How full is the car?" prompt, the trip picker (Today / Tomorrow /
a date; the past refused on the page) with its confirmation, and the Plan page in each mode."""
from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from tests.web.simhome import sim_runtime
from tests.web.test_browser import PASSWORD, PHONE, browser, fetch_json, shoot  # noqa: F401 (fixture)
from tests.web.test_ui import axe

pytestmark = [pytest.mark.browser, pytest.mark.slow]


async def _until_api(page, path, check, timeout_s=30.0):
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        body = (await fetch_json(page, "GET", path))["body"]
        if check(body):
            return body
        assert asyncio.get_running_loop().time() < deadline, body
        await asyncio.sleep(0.3)


@pytest.mark.timeout(300)
async def test_soc_prompt_trip_picker_and_plan_per_mode(browser, tmp_path):
    async with sim_runtime(tmp_path / "data", no_soc=True, hour=0.5) as (runtime, url):
        page = await (await browser.new_context(viewport=PHONE, locale="en-GB", bypass_csp=True)).new_page()  # axe is injected
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        await page.goto(url + "/")
        await page.fill("input[name=password]", PASSWORD)
        await page.fill("input[name=confirm]", PASSWORD)
        await page.click("button[type=submit]")
        await page.wait_for_selector("#tabs:not([hidden])")
        await _until_api(page, "/api/v1/car", lambda b: b["plugged"])

        # nothing known: the Plan page says it plans by energy, never a made-up level
        await _until_api(page, "/api/v1/plan", lambda b: b["plan"] is not None and b["plan"]["by_energy"])
        await page.goto(url + "/#/plan")
        await page.wait_for_selector("[data-testid=car-note]:has-text('Charge level unknown: planning to add')")
        state = (await fetch_json(page, "GET", "/api/v1/state"))["body"]
        assert state["soc_pct"] is None and state["soc"] is None

        # the Car page asks how full the car is; the answer is kept as entered, with its error
        await page.goto(url + "/#/car")
        await page.wait_for_selector("[data-testid=soc-prompt]:has-text('does not say how full')")
        await shoot(page, "car-soc-prompt")
        assert await axe(page) == []
        await page.fill("input[name=soc_pct]", "45")
        await page.click("button:has-text('Save charge level')")
        await page.wait_for_selector("[data-testid=soc-line]:has-text('%')")
        line = await page.text_content("[data-testid=soc-line]")
        assert "±" in line and ("entered by you" in line or "estimated" in line), line
        car = (await fetch_json(page, "GET", "/api/v1/car"))["body"]
        assert car["soc"]["source"] in ("entered", "estimated") and abs(car["soc"]["soc_pct"] - 45) < 3

        # the trip picker: a time already past today is refused on the page, in plain words
        await page.select_option("select[name=day]", "today")
        await page.fill("input[name=departure]", "00:05")
        await page.click("button:has-text('Save trip')")
        await page.wait_for_selector("[data-testid=trip-error]:has-text('is in the past')")
        assert runtime.agent.preferences.next_trip is None
        # a date two days ahead: saved, and the page says what will happen
        now = runtime.clock.now().astimezone(runtime.agent.settings.timezone)
        day = (now + timedelta(days=2)).date()
        await page.select_option("select[name=day]", "date")
        await page.fill("input[name=date]", day.isoformat())
        await page.fill("input[name=departure]", "07:30")
        await page.click("button:has-text('Save trip')")
        await page.wait_for_selector(f"[data-testid=trip-confirmation]:has-text('by {day:%a} 07:30')")
        # the weekly Monday trip comes first: the page says the dated one follows
        await page.wait_for_selector(f"[data-testid=one-off-trip]:has-text('07:30')")
        trip = runtime.agent.preferences.next_trip
        local = trip.departure.astimezone(runtime.agent.settings.timezone)
        assert (local.date(), local.hour, local.minute) == (day, 7, 30)
        await shoot(page, "car-trip-picker")
        assert await axe(page) == []

        # the plan follows the mode
        for mode, words in (("off", "Plan paused: mode Off"), ("fast", "Mode Fast now"),
                            ("solar_only", "Mode Solar only")):
            await page.goto(url + "/#/car")
            if mode == "fast":              # Fast is the "Charge now" button, not a mode choice
                await page.click("button:has-text('Charge now')")
                await page.wait_for_selector("text=Stop fast charging")
            else:
                await page.click(f"[data-mode={mode}]")
                await page.wait_for_selector(f"[data-mode={mode}][aria-checked=true]")
            await page.goto(url + "/#/plan")
            await page.wait_for_selector(f"[data-testid=plan-status]:has-text('{words}')")
            plan = (await fetch_json(page, "GET", "/api/v1/plan"))["body"]["plan"]
            if mode == "off":
                assert not any(plan["ev_w"]) and plan["car_note"] == "plan paused: mode Off"
            if mode == "fast":
                assert plan["ev_w"][0] >= runtime.config.ev.max_charge_w - 1
            await shoot(page, f"plan-{mode}")
            assert await axe(page) == []
        await page.goto(url + "/#/car")
        await page.click("[data-mode=smart]")
        await page.wait_for_selector("[data-mode=smart][aria-checked=true]")
        await page.goto(url + "/#/plan")
        await page.wait_for_selector("[data-testid=car-note]")
        assert await page.is_hidden("[data-testid=plan-status]")
        assert not errors, errors
