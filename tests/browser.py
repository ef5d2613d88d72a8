"""Open a page in headless Chromium (the system's, driven by Selenium through the system
chromedriver; nothing is downloaded) and report every image's load state."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def chromium_or_skip() -> tuple[str, str]:
    """(browser, chromedriver) paths, or skip with the reason and the fix."""
    browser = next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)
    driver = shutil.which("chromedriver")
    if not browser or not driver:
        pytest.skip("headless Chromium not found: apt-get install -y chromium chromium-driver (.ci/run does)")
    try:
        import selenium  # noqa: F401
    except ImportError:
        pytest.skip("selenium not installed: pip install -e '.[dev]'")
    return browser, driver


def open_page(path: Path, screenshot: Path | None = None) -> dict:
    """Load a local HTML file; return its title, every <img> (src, loaded, natural size) and links."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver_path = chromium_or_skip()
    opts = webdriver.ChromeOptions()
    opts.binary_location = browser
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,2000"):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(driver_path), options=opts)
    try:
        driver.set_page_load_timeout(60)
        driver.get(Path(path).resolve().as_uri())  # returns after the load event: images are done
        images = driver.execute_script(
            "return Array.from(document.images).map(i => ({src: i.getAttribute('src'), complete: i.complete,"
            " width: i.naturalWidth, height: i.naturalHeight}))")
        links = driver.execute_script("return Array.from(document.links).map(a => a.getAttribute('href'))")
        if screenshot:
            driver.save_screenshot(str(screenshot))
        return {"title": driver.title, "images": images, "links": links,
                "text": driver.execute_script("return document.body.innerText")}
    finally:
        driver.quit()
