"""Headless Debian Chromium with the network off, for the review map's tests and its benchmark.

Shared by ``tests/test_map_browser.py`` and ``benchmarks/bench_map.py`` (which puts this folder on
``sys.path``), as ``cli_run.py`` is by the command-line tests.
"""

from __future__ import annotations

from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def offline_chromium(profile: str, *, window: str = "1200,900", performance_log: bool = False) -> Any:
    """Start Debian's Chromium headless with a fresh ``profile`` folder and the network emulated offline.

    The flags keep Chromium from reaching for any host of its own (updates, sync, background
    networking); ``performance_log`` also records the network events (what the page asked for).
    """
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
        f"--user-data-dir={profile}",
        f"--window-size={window}",
    ):
        options.add_argument(arg)
    logs = {"browser": "ALL", "performance": "ALL"} if performance_log else {"browser": "ALL"}
    options.set_capability("goog:loggingPrefs", logs)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd(
            "Network.emulateNetworkConditions",
            {"offline": True, "latency": 0, "downloadThroughput": 0, "uploadThroughput": 0},
        )
    except Exception:
        driver.quit()
        raise
    return driver
