"""Headless Chromium for the report tests (selenium + the system chromedriver).

Nothing is downloaded: the browser is Debian's ``chromium`` and its
``chromedriver`` (``.ci/run`` installs them when it runs as root); without
them :func:`browser` returns None and the tests fall back to parsing the HTML.
"""

from __future__ import annotations

import io
import shutil

ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
]
CHROMIUM = ("chromium", "chromium-browser", "google-chrome")


def browser(width: int = 1280):
    """A headless Chromium driven by selenium, or None when unavailable."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        return None
    binary = next((shutil.which(b) for b in CHROMIUM if shutil.which(b)), None)
    driver_path = shutil.which("chromedriver")
    if binary is None or driver_path is None:
        return None
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in ARGS:
        options.add_argument(arg)
    options.add_argument(f"--window-size={width},900")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(driver_path), options=options)


def open_report(driver, path, width: int):
    """Load the report at ``width`` CSS pixels; return the console's errors."""
    driver.set_window_size(width, 900)
    driver.get(path.resolve().as_uri())
    inner = driver.execute_script("return window.innerWidth")
    if inner != width:  # the window frame takes some pixels
        driver.set_window_size(2 * width - inner, 900)
    logs = driver.get_log("browser")
    return [entry for entry in logs if entry["level"] in ("SEVERE", "ERROR")]


def chart_boxes(driver) -> list[dict]:
    """Name and bounding box of every chart in the page."""
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('svg.chart')).map(function (s) {"
        " var r = s.getBoundingClientRect();"
        " return {name: s.dataset.chart, x: r.left + window.scrollX,"
        " y: r.top + window.scrollY, width: r.width, height: r.height}; })"
    )


def full_page_png(driver) -> bytes:
    """A screenshot of the whole page (the window grown to its height)."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    width = driver.execute_script("return window.outerWidth")
    driver.set_window_size(width, min(int(height) + 200, 30000))
    return driver.get_screenshot_as_png()


def region_is_blank(png: bytes, box: dict, scale: float = 1.0) -> bool:
    """Does the screenshot region of ``box`` hold a single colour?"""
    import matplotlib.image as mpimg

    image = mpimg.imread(io.BytesIO(png), format="png")
    x0, y0 = int(box["x"] * scale), int(box["y"] * scale)
    x1, y1 = (
        int((box["x"] + box["width"]) * scale),
        int((box["y"] + box["height"]) * scale),
    )
    region = image[y0:y1, x0:x1, :3]
    return region.size == 0 or float(region.std()) < 1e-3
