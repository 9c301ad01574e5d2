"""Open pages in headless Chromium with the network cut off, for the browser tests.

The system Chromium (Debian's ``chromium``) is driven by Playwright; the
browser build Playwright would download is neither needed nor reachable.
Every request that is not for a local file is aborted and recorded, so a
test can tell whether the page needed the network; console errors, uncaught
exceptions and dialogs (``alert``) are recorded too.
"""

from __future__ import annotations

import importlib.util
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

#: The browser to drive; overridable for machines that keep it elsewhere.
CHROMIUM = Path(os.environ.get("PLANNER_CHROMIUM", "/usr/bin/chromium"))

#: Flags that keep Chromium from phoning home and from needing a sandbox as root.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def skip_reason() -> str | None:
    """Why the browser tests cannot run here, or ``None`` when they can."""
    if importlib.util.find_spec("playwright") is None:
        return "playwright is not installed (pip install playwright)"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    return None


@dataclass
class PageLog:
    """What happened while a page was open."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    load_seconds: float = 0.0


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless system Chromium, closed on exit; skips the test when unavailable."""
    reason = skip_reason()
    if reason is not None:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def open_offline(
    browser: Any, path: Path, *, width: int = 1400, height: int = 900
) -> Iterator[tuple[Any, PageLog]]:
    """Open ``path`` in a fresh page with every non-file request aborted.

    Yields the Playwright page and its :class:`PageLog`; the page has
    finished loading (``load`` event) when it is yielded.
    """
    log = PageLog()
    context = browser.new_context(viewport={"width": width, "height": height})

    def route(route: Any) -> None:
        url = route.request.url
        if url.startswith(("file:", "data:", "blob:", "about:")):
            route.continue_()
        else:
            log.blocked.append(url)
            route.abort()

    def dialog(dialog: Any) -> None:
        log.dialogs.append(dialog.message)
        dialog.dismiss()

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda m: log.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: log.page_errors.append(str(e)))
    page.on("dialog", dialog)
    try:
        start = time.perf_counter()
        page.goto(path.resolve().as_uri(), wait_until="load")
        log.load_seconds = time.perf_counter() - start
        yield page, log
    finally:
        context.close()
