"""Headless Chromium for the web tests: Debian's chromium and chromedriver, nothing downloaded.

Install: apt-get install -y chromium chromium-driver; pip install selenium (pinned in
requirements). Without them the browser tests are skipped, or fail when REQUIRE_BROWSER=1.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = os.environ.get("CHROMIUM_BINARY", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--lang=fr-BE",
)


def require_browser() -> None:
    """Skip (or fail, with REQUIRE_BROWSER=1) when the browser or selenium is missing."""
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not (Path(p).exists() or shutil.which(p))]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("python package selenium")
    if missing:
        reason = "browser test needs " + ", ".join(missing)
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)


def make_driver(width: int = 1280, height: int = 900, javascript: bool = True):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--window-size={width},{height}")
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    if not javascript:
        options.add_experimental_option(
            "prefs", {"profile.managed_default_content_settings.javascript": 2}
        )
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    return driver


def requested_urls(driver) -> list[str]:
    """Every URL the page asked for since the last call (HTTP requests and WebSockets), from
    Chrome's performance log (DevTools Network events)."""
    urls: list[str] = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        params = message.get("params", {})
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(params["request"]["url"])
        elif message.get("method") == "Network.webSocketCreated":
            urls.append(params["url"])
    return urls


def hosts(urls: list[str]) -> set[str]:
    """host:port of each network URL (data:, blob: and about: are not network requests)."""
    out = set()
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme in {"http", "https", "ws", "wss"}:
            out.add(
                f"{parts.hostname}:{parts.port or (443 if parts.scheme in {'https', 'wss'} else 80)}"
            )
    return out


def screenshot_full_page(driver, path: str, width: int) -> None:
    """A screenshot of the whole page at the given viewport width."""
    driver.set_window_size(width, 900)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(width, min(int(height), 6000))
    driver.execute_script("window.scrollTo(0, 0)")
    driver.save_screenshot(path)
