"""Web UI weight: bytes on the wire and requests per page, and time to first paint, in Debian's
headless Chromium (Playwright) against the real agent on the simulated home.

Each page is opened cold (a new browser context: empty cache) by a logged-in owner, phone
viewport; counted until the page has drawn its content and the network is idle. Transferred =
response headers + bodies as they came over the wire (gzip where the server compressed).
The live event stream (/api/v1/events) counts as a request but not its (endless) bytes.
Goal: Overview under 60 KB transferred.

    .venv/bin/python bench/web_weight.py
"""
from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.web.simhome import sim_runtime  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "bench-password-2024"
PAGES = ("overview", "plan", "car", "history", "devices", "settings")
READY = {"overview": ".soc-text", "plan": ".uplot", "car": "[data-mode]", "history": ".uplot, [data-testid=no-data]",
         "devices": ".device-head", "settings": "input[name=plug_in_by]"}


async def measure(browser, url: str, name: str, gzip: bool) -> dict:
    headers = {} if gzip else {"Accept-Encoding": "identity"}
    context = await browser.new_context(viewport={"width": 390, "height": 844}, extra_http_headers=headers)
    login = await context.request.post(f"{url}/api/v1/auth/login", data={"username": "admin", "password": PASSWORD})
    assert login.ok, await login.text()
    page = await context.new_page()
    responses = []
    page.on("requestfinished", lambda r: responses.append(r))
    await page.goto(f"{url}/#/{name}")
    await page.wait_for_selector(READY[name])
    await page.wait_for_load_state("networkidle")
    paint = await page.evaluate("(performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime || null")
    total = 0
    for r in responses:
        sizes = await r.sizes()
        total += sizes["responseBodySize"] + sizes["responseHeadersSize"]
    await context.close()
    # the event stream never finishes: one more request, its bytes not counted
    return {"page": name, "requests": len(responses) + 1, "kb": total / 1024, "fcp_ms": paint}


async def main() -> None:
    from playwright.async_api import async_playwright

    with tempfile.TemporaryDirectory() as tmp:
        async with sim_runtime(Path(tmp) / "data", day="2024-06-08", hour=13.0) as (_, url), async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"])
            setup = await browser.new_page()
            await setup.goto(url + "/")
            await setup.evaluate("""(pw) => fetch('/api/v1/auth/setup', {method: 'POST',
                headers: {'Content-Type': 'application/json'}, body: JSON.stringify({username: 'admin', password: pw})})""",
                                 PASSWORD)
            await setup.close()
            rows = []
            for name in PAGES:
                gz = await measure(browser, url, name, gzip=True)
                plain = await measure(browser, url, name, gzip=False)
                rows.append((gz, plain))
            await browser.close()
    print(f"{'page':<10} {'requests':>8} {'KB gzip':>9} {'KB plain':>9} {'first paint ms':>15}")
    for gz, plain in rows:
        fcp = f"{gz['fcp_ms']:.0f}" if gz["fcp_ms"] else "–"
        print(f"{gz['page']:<10} {gz['requests']:>8} {gz['kb']:>9.1f} {plain['kb']:>9.1f} {fcp:>15}")
    overview = rows[0][0]["kb"]
    print(f"\nOverview: {overview:.1f} KB transferred (goal < 60 KB): {'met' if overview < 60 else 'NOT met'}")


if __name__ == "__main__":
    asyncio.run(main())
