"""A real browser (Debian chromium, headless, via Selenium) uses the web page of voxlab serve.

It uploads a file, waits for the verdict on the page and checks it against the API's answer
for the same file; the page's screenshot is kept under the test's tmp dir and, when
``$VOXLAB_ARTIFACTS`` is set, there too.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="voxlab serve needs the serve extra (pip install .[serve])")
httpx = pytest.importorskip("httpx", reason="the HTTP client of the tests (dev extra)")
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium (dev extra) drives chromium")

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


@pytest.fixture
def browser():
    if not CHROMIUM or not DRIVER:
        pytest.skip(
            "needs Debian chromium and chromium-driver "
            "(apt-get install -y chromium chromium-driver)"
        )
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1200,1250", "--use-fake-ui-for-media-stream"):  # fmt: skip
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def _keep(driver, tmp_path: Path, name: str) -> Path:
    shot = tmp_path / name
    driver.save_screenshot(str(shot))
    artifacts = os.environ.get("VOXLAB_ARTIFACTS")
    if artifacts:
        Path(artifacts).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(artifacts) / name)
    return shot


def test_upload_on_the_page_shows_the_verdict(browser, fixtures_dir, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from voxlab.service.testing import ServerProcess, create_token

    if not (fixtures_dir / "pretrained" / "aasist_l.pth").is_file():
        pytest.skip("AASIST-L checkpoint missing in ../shared/fixtures/pretrained")
    data_dir = tmp_path / "data"
    env = {
        "VOXLAB_MODEL_DIR": str(fixtures_dir / "pretrained"),
        "VOXLAB_SERVE_DEFAULT_MODEL": "aasist-l",
        "VOXLAB_SERVE_DOWNLOAD": "false",
    }
    token = create_token(data_dir, "browser")
    audio = fixtures_dir / "parity" / "espeak_enus_long_16k.flac"
    with ServerProcess(data_dir, env=env) as server:
        expected = httpx.post(
            f"{server.url}/v1/detect?policy=windows&segments=true&hop=1",
            files={"file": (audio.name, audio.read_bytes())},
            headers={"Authorization": f"Bearer {token}"}, timeout=60,
        ).json()  # fmt: skip
        browser.get(f"{server.url}/")  # redirects to the page
        assert "voxlab" in browser.title
        box = browser.find_element(By.ID, "token")
        box.send_keys(token)
        browser.execute_script("arguments[0].dispatchEvent(new Event('change'))", box)
        browser.find_element(By.ID, "file").send_keys(str(audio))
        browser.find_element(By.ID, "analyse").click()
        wait = WebDriverWait(browser, 90)
        wait.until(lambda d: d.find_element(By.ID, "busy").text == "done"
                   or d.find_element(By.ID, "error").is_displayed())  # fmt: skip
        error = browser.find_element(By.ID, "error")
        assert not error.is_displayed(), error.text
        verdict = browser.find_element(By.ID, "verdict")
        wait.until(lambda d: d.find_element(By.ID, "watermark").text not in ("", "…"))
        time.sleep(0.3)  # let the canvas paint before the screenshot
        shot = _keep(browser, tmp_path, "voxlab-detect-page.png")
        assert verdict.get_attribute("data-verdict") == expected["verdict"]
        assert verdict.text.lower().startswith(expected["verdict"].replace("bonafide", "bona"))
        assert browser.find_element(By.ID, "model-used").text.startswith("aasist-l")
        assert browser.find_element(By.ID, "watermark").text == "not found"
        windows = browser.find_element(By.ID, "spectrogram").get_attribute("data-windows")
        assert int(windows) == len(expected["segments"])
        assert shot.stat().st_size > 20_000
