"""The console end to end in headless Chromium: sign in, ask a question, copy the answer with one
click, look a consultation up, sign out; no script or style blocked by the page's policy.

The real web app and a fake Rasa API (tests/agents/fake_rasa.py) run in a background thread;
Debian's chromium and chromedriver drive the page (tests/browser/driver.py). Screenshot of the
console with an answer and a lookup: agent-console.png in the test's tmp_path.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from bot.agents.models import Action, audit_entries

# The console's fixtures (an agent account, the consultations, the settings of tests/agents/):
# imported into this module, so that they apply here and nowhere else.
from tests.agents.conftest import (  # noqa: F401
    AGENT,
    AGENT_PASSWORD,
    agent,
    consultations,
    isolated_settings,
    make_app,
    tracker_url,
)
from tests.agents.fake_rasa import make_fake_rasa
from tests.browser.driver import make_driver, require_browser
from tests.web.servers import free_port, serving_in_thread

WAIT = 15


@dataclass
class Console:
    url: str
    driver: WebDriver


@pytest.fixture
def console(agent, consultations, tracker_url: str) -> Iterator[Console]:  # noqa: F811
    require_browser()
    web_port, rasa_port = free_port(), free_port()
    rasa_app, _ = make_fake_rasa()
    web_app = make_app(f"http://127.0.0.1:{rasa_port}", tracker_url)
    with serving_in_thread((rasa_app, rasa_port), (web_app, web_port)):
        driver = make_driver(1280, 1000)
        try:
            yield Console(f"http://127.0.0.1:{web_port}", driver)
        finally:
            driver.quit()


def test_the_console_in_a_browser(console: Console, tmp_path: Path) -> None:
    d, base = console.driver, console.url
    wait = WebDriverWait(d, WAIT)

    # Not signed in: the sign-in page.
    d.get(f"{base}/agent")
    wait.until(ec.url_contains("/agent/login"))
    assert d.title.startswith("Connexion")
    d.find_element(By.ID, "username").send_keys(AGENT)
    d.find_element(By.ID, "password").send_keys(AGENT_PASSWORD)
    d.find_element(By.CSS_SELECTOR, "form[action='/agent/login'] button").click()
    wait.until(ec.presence_of_element_located((By.ID, "q")))
    assert "marie" in d.find_element(By.CSS_SELECTOR, ".who").text

    # The question box.
    box = d.find_element(By.ID, "q")
    box.send_keys("les urgences sont ouvertes ?")
    box.submit()
    answer = wait.until(ec.presence_of_element_located((By.ID, "answer-main")))
    assert "1733" in answer.text
    assert "F7" in d.find_element(By.CSS_SELECTOR, ".suggestion .sources summary").text
    assert "Validé le 17 mai 2022" in d.find_element(By.CSS_SELECTOR, ".suggestion").text
    assert len(d.find_elements(By.CSS_SELECTOR, ".alternatives .answer")) == 2

    # One click copies the text to read out.
    d.execute_cdp_cmd(
        "Browser.grantPermissions",
        {"origin": base, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]},
    )
    button = d.find_element(By.CSS_SELECTOR, "button[data-copy='answer-main']")
    button.click()
    wait.until(lambda _: button.text == "Copié ✓")
    copied = d.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "navigator.clipboard.readText().then(done, e => done('ERROR ' + e));"
    )
    assert copied == answer.text

    # The lookup by reference.
    d.find_element(By.ID, "reference").send_keys("c 22 9100001")
    d.find_element(By.CSS_SELECTOR, "form[aria-label='Par référence'] button").click()
    result = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "table.record")))
    assert "Maréchal" in result.text and "C-22-9100001" in result.text and "annulée" in result.text
    d.save_screenshot(str(tmp_path / "agent-console.png"))
    assert [e.action for e in audit_entries(agent=AGENT)][-1] is Action.LOOKUP_REFERENCE

    # Nothing blocked by the Content-Security-Policy, no script error.
    errors = [e for e in d.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []

    # Sign out: the API no longer answers this browser.
    d.find_element(By.CSS_SELECTOR, "form.logout button").click()
    wait.until(ec.url_contains("/agent/login?bye=1"))
    assert "Vous êtes déconnecté." in d.page_source
    d.get(f"{base}/agent/api/suggest?q=urgences")
    body = json.loads(d.find_element(By.TAG_NAME, "body").text)
    assert body["error"].startswith("Connexion requise")
