"""The HTML report in a real headless Chromium: no console errors, no request leaves the page,
the key numbers are on screen, sorting and filtering work; a screenshot is kept as an artifact.

Chromium comes from Debian (`apt-get install -y chromium`); it is driven over the DevTools
protocol with `websocket-client`. Without either, the test is skipped and says why.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from provenance.formats.html import HtmlFormat
from provenance.report import ScanReport

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
TIMEOUT = 20.0


def _browser() -> str:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("chromium is not installed (Debian: apt-get install -y chromium)")


class DevTools:
    """A minimal Chrome DevTools protocol client: commands in, their results and events out."""

    def __init__(self, url: str) -> None:
        import websocket

        # No Origin header: Chromium rejects DevTools connections from unlisted origins.
        self.socket = websocket.create_connection(url, timeout=TIMEOUT, suppress_origin=True)
        self.ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        message_id = next(self.ids)
        message: dict[str, Any] = {"id": message_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        self.socket.send(json.dumps(message))
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            reply = json.loads(self.socket.recv())
            if reply.get("id") == message_id:
                if "error" in reply:
                    raise AssertionError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result
            self.events.append(reply)
        raise AssertionError(f"{method}: no answer in {TIMEOUT} s")

    def wait_for(self, method: str) -> dict[str, Any]:
        deadline = time.monotonic() + TIMEOUT
        for event in self.events:
            if event.get("method") == method:
                return event
        while time.monotonic() < deadline:
            event = json.loads(self.socket.recv())
            self.events.append(event)
            if event.get("method") == method:
                return event
        raise AssertionError(f"no {method} in {TIMEOUT} s")

    def close(self) -> None:
        self.socket.close()


@pytest.fixture
def chromium(tmp_path: Path) -> Iterator[DevTools]:
    binary = _browser()
    pytest.importorskip(
        "websocket", reason="the browser test drives Chromium with websocket-client"
    )
    process = subprocess.Popen(
        [
            binary, "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run", "--no-default-browser-check", "--disable-extensions",
            f"--user-data-dir={tmp_path / 'profile'}", "--remote-debugging-port=0",
            "--window-size=1280,900", "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        url = _devtools_url(process)
        tools = DevTools(url)
        try:
            yield tools
        finally:
            # The browser may already be gone; the process is ended below either way.
            with contextlib.suppress(Exception):
                tools.send("Browser.close")
            tools.close()
    finally:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()  # only the process this fixture started
            process.wait()


def _devtools_url(process: subprocess.Popen[str]) -> str:
    """Chromium prints `DevTools listening on ws://...` on stderr once it is ready."""
    assert process.stderr is not None
    deadline = time.monotonic() + TIMEOUT
    seen = []
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            if process.poll() is not None:
                break
            continue
        seen.append(line)
        match = re.search(r"DevTools listening on (ws://\S+)", line)
        if match:
            return match.group(1)
    raise AssertionError("chromium did not start:\n" + "".join(seen[-20:]))


def test_report_in_headless_chromium(
    chromium: DevTools, report: ScanReport, tmp_path: Path
) -> None:
    page = tmp_path / "audit.html"
    page.write_text(HtmlFormat().render(report), encoding="utf-8")
    target = chromium.send("Target.createTarget", url="about:blank")["targetId"]
    session = chromium.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
    for domain in ("Page", "Runtime", "Log", "Network"):
        chromium.send(f"{domain}.enable", session)
    chromium.send("Emulation.setDeviceMetricsOverride", session, width=1280, height=900,
                  deviceScaleFactor=1, mobile=False)  # fmt: skip
    chromium.send("Page.navigate", session, url=page.as_uri())
    chromium.wait_for("Page.loadEventFired")

    def evaluate(expression: str) -> Any:
        reply = chromium.send("Runtime.evaluate", session, expression=expression,
                              returnByValue=True)  # fmt: skip
        assert "exceptionDetails" not in reply, reply
        return reply["result"].get("value")

    # The key numbers are visible in the first screen, the verdict first of all.
    cards = evaluate(
        "Array.from(document.querySelectorAll('.card')).map(c => {"
        " const r = c.getBoundingClientRect();"
        " return [c.id, c.querySelector('.n').textContent, r.top >= 0 && r.bottom <= innerHeight"
        " && r.width > 0]; })"
    )
    summary = report.summary
    expected = {
        "count-records": summary["records"], "count-cleared": summary["cleared"],
        "count-redacted": summary["redacted"], "count-blocked": summary["blocked"],
        "count-error": summary["errors"],
        "count-findings": sum(summary["findings_by_type"].values()),
    }  # fmt: skip
    assert {c[0]: int(c[1]) for c in cards} == expected
    assert all(c[2] for c in cards), cards
    verdict = evaluate(
        "(() => { const v = document.getElementById('verdict'); const r = "
        "v.getBoundingClientRect(); return [v.innerText, r.top, r.height]; })()"
    )
    assert verdict[0].startswith("Not cleared") and 0 <= verdict[1] < 200 and verdict[2] > 0
    charts = evaluate("Array.from(document.querySelectorAll('svg.chart')).map(s => s.id)")
    assert {"chart-status", "chart-types", "chart-licenses"} <= set(charts)

    # Filtering and sorting work.
    shown = evaluate(
        "(() => { const f = document.getElementById('filter-text'); f.value = 'PERSON';"
        " f.dispatchEvent(new Event('input')); return [document.getElementById('filter-count')"
        ".textContent, Array.from(document.querySelectorAll('#findings tbody tr'))"
        ".filter(r => !r.hidden).length]; })()"
    )
    assert shown == [f"Showing 2 of {len(report.findings)}", 2]
    rows = evaluate(
        "(() => { const f = document.getElementById('filter-text'); f.value = '';"
        " f.dispatchEvent(new Event('input'));"
        " const score = document.querySelectorAll('#findings th')[6]; score.click();"
        " score.click(); return [score.getAttribute('aria-sort'), Array.from(document"
        ".querySelectorAll('#findings tbody tr')).map(r => parseFloat(r.cells[6].textContent))]"
        "; })()"
    )
    assert rows[0] == "descending"
    assert rows[1] == sorted(rows[1], reverse=True)

    shot = chromium.send("Page.captureScreenshot", session, format="png",
                         captureBeyondViewport=True)  # fmt: skip
    image = base64.b64decode(shot["data"])
    assert image.startswith(b"\x89PNG")
    (tmp_path / "audit.png").write_bytes(image)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "html-report.png").write_bytes(image)

    # Nothing went wrong and nothing was fetched (CSP violations are console errors too).
    errors = [
        e for e in chromium.events
        if e.get("method") == "Runtime.exceptionThrown"
        or (e.get("method") == "Runtime.consoleAPICalled"
            and e["params"]["type"] in ("error", "assert", "warning"))
        or (e.get("method") == "Log.entryAdded"
            and e["params"]["entry"]["level"] in ("error", "warning"))
    ]  # fmt: skip
    assert errors == []
    requests = [
        e["params"]["request"]["url"]
        for e in chromium.events
        if e.get("method") == "Network.requestWillBeSent"
    ]
    assert requests and all(url.startswith("file://") for url in requests), requests
