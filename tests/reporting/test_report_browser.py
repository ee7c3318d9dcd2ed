"""The report in a real browser (headless Chromium): no console errors, every
chart drawn, nothing wider than the window, the call list sorts; screenshots
at 1280 and 800 px. Without a browser the parser checks of test_report.py
still run, and this module skips."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _browser import (  # noqa: E402
    browser,
    chart_boxes,
    full_page_png,
    open_report,
    region_is_blank,
)

WIDTHS = (1280, 800)


@pytest.fixture(scope="module")
def driver():
    d = browser()
    if d is None:
        pytest.skip(
            "no headless Chromium + chromedriver (apt-get install chromium "
            "chromium-driver) or no selenium"
        )
    yield d
    d.quit()


@pytest.mark.parametrize("width", WIDTHS)
def test_report_renders_in_chromium(driver, report_with_model, width, tmp_path):
    errors = open_report(driver, report_with_model, width)
    assert not errors, errors
    overflow = driver.execute_script(
        "return document.documentElement.scrollWidth - window.innerWidth"
    )
    assert overflow <= 0  # no horizontal scrolling at laptop width
    boxes = chart_boxes(driver)
    assert len(boxes) >= 10
    png = full_page_png(driver)
    (tmp_path / f"report_{width}.png").write_bytes(png)
    for box in boxes:
        assert box["width"] > 100 and box["height"] > 80, box
        assert not region_is_blank(png, box), box["name"]


def test_call_list_sorts_by_a_clicked_column(driver, report_with_model):
    open_report(driver, report_with_model, 1280)
    script = (
        "var t = document.getElementById('call-list-table');"
        "return Array.from(t.tBodies[0].rows)"
        ".map(r => parseFloat(r.cells[1].dataset.sort));"
    )
    header = driver.find_element("css selector", "#call-list-table th:nth-child(2)")
    header.click()  # churn probability, ascending
    ascending = driver.execute_script(script)
    assert ascending == sorted(ascending)
    header.click()
    descending = driver.execute_script(script)
    assert descending == sorted(descending, reverse=True)
