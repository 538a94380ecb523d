"""The page and the chat widget in headless Chromium.

Two set-ups:
- `fake_stack` (stand-alone, runs anywhere Chromium is installed): the real web app, and the real
  website channel (RestrictedSocketIOInput) with a stand-in for Rasa that answers from the
  answers file (tests/web/fake_rasa.py). It checks the widget itself.
- `live_stack` (provided by tests/conftest.py: Rasa on 5005, the action server, the web app on
  8080): the real assistant answers, the test reads the right fact.

Screenshots: page.png (1280 px wide) and page-360.png (360 px) in the test's tmp_path (pytest
keeps the last runs under /tmp/pytest-of-$USER/).
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest

from bot.content.store import ContentStore
from bot.settings import ROOT
from bot.web import public
from bot.web.app import create_app
from tests.browser.driver import (
    hosts,
    make_driver,
    requested_urls,
    require_browser,
    screenshot_full_page,
)
from tests.web.fake_rasa import make_fake_rasa
from tests.web.servers import free_port, serving_in_thread

WAIT = 15  # seconds: an answer, a connection
UNAVAILABLE_START = "L'assistant est momentanément indisponible."
_names = itertools.count()


@dataclass
class Stack:
    web_url: str
    rasa_url: str
    received: list


def _host(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port}"


@pytest.fixture(scope="module")
def fake_stack():
    require_browser()
    if not (public.STATIC_DIR / "manifest.json").exists():
        pytest.fail("web assets not built: cd web && npm ci && npm run build")
    web_port, rasa_port = free_port(), free_port()
    web_url = f"http://127.0.0.1:{web_port}"
    rasa_url = f"http://127.0.0.1:{rasa_port}"
    store = ContentStore(ROOT / "locales" / "fr" / "answers.yml", ROOT / "locales" / "facts.yml")
    n = next(_names)
    rasa_app, received = make_fake_rasa(f"browser_fake_rasa_{n}", store, (web_url,))
    web_app = create_app(f"browser_web_{n}", store=store, rasa_url=rasa_url)
    with serving_in_thread((rasa_app, rasa_port), (web_app, web_port)):
        yield Stack(web_url, rasa_url, received)


@pytest.fixture
def stack(request):
    """The live assistant when tests/conftest.py provides `live_stack`, else skipped."""
    try:
        return request.getfixturevalue("live_stack")
    except pytest.FixtureLookupError:
        pytest.skip("no live_stack fixture (tests/conftest.py starts Rasa, actions and web)")


@pytest.fixture
def driver():
    require_browser()
    d = make_driver()
    yield d
    d.quit()


# --- Page helpers ----------------------------------------------------------------------------


def by_css(css: str):
    from selenium.webdriver.common.by import By

    return (By.CSS_SELECTOR, css)


def wait(driver, condition, timeout: float = WAIT):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(condition)


def open_page(driver, url: str) -> None:
    driver.get(url + "/")
    wait(driver, lambda d: d.find_element(*by_css("#chat-app")).is_displayed())


def wait_online(driver, timeout: float = 30) -> None:
    wait(
        driver,
        lambda d: d.find_element(*by_css("#chat-status")).text == "Assistant en ligne",
        timeout,
    )


def messages(driver) -> list[tuple[str, str]]:
    items = driver.find_elements(*by_css("#chat-log > li"))
    return [
        (
            "user" if "msg-user" in li.get_attribute("class") else "bot",
            li.find_element(*by_css(".msg-text")).text,
        )
        for li in items
    ]


def ask(driver, question: str) -> list[tuple[str, str]]:
    """Type a question, press Enter, wait for the answer; the conversation after it."""
    asked = sum(1 for who, _ in messages(driver) if who == "user")
    box = driver.find_element(*by_css("#chat-input"))
    box.send_keys(question)
    box.send_keys("\n")
    wait(driver, lambda d: answered(d, asked + 1))
    return messages(driver)


def answered(driver, questions: int) -> bool:
    """`questions` questions asked, and the last message is the assistant's."""
    conversation = messages(driver)
    users = sum(1 for who, _ in conversation if who == "user")
    return users >= questions and conversation[-1][0] == "bot"


def active_id(driver) -> str:
    return driver.switch_to.active_element.get_attribute("id")


def session_id(driver) -> str:
    return driver.execute_script(
        "return JSON.parse(sessionStorage.getItem('vivalia-chat-v1')).sessionId"
    )


# --- Stand-alone: the widget against the real channel and a stand-in for Rasa ---------------


def test_ask_read_reload_and_start_again(fake_stack, driver):
    open_page(driver, fake_stack.web_url)
    wait_online(driver)
    greeting = messages(driver)
    assert greeting[0][0] == "bot" and greeting[0][1].startswith("Bonjour.")

    started = time.monotonic()
    conversation = ask(driver, "Quand faut-il aller aux urgences ?")
    elapsed = time.monotonic() - started
    assert conversation[0] == ("user", "Quand faut-il aller aux urgences ?")
    answer = conversation[-1][1]
    assert "poste médical de garde : 1733" in answer
    assert "Information du 17 mai." in answer
    assert elapsed < 5, f"answer after {elapsed:.1f} s"
    # The numbers are tel: links, the focus stayed in the text box, the text box is empty.
    links = driver.find_elements(*by_css("#chat-log li:last-child a"))
    assert {a.get_attribute("href") for a in links} == {"tel:1733", "tel:112"}
    assert active_id(driver) == "chat-input"
    assert driver.find_element(*by_css("#chat-input")).get_attribute("value") == ""
    # Screen readers hear the answer (polite live region).
    announced = driver.find_element(*by_css("#chat-announcer")).get_attribute("textContent")
    assert "Assistant : Ne venez aux urgences" in announced
    # Rasa got the conversation under the widget's random session id.
    sid = session_id(driver)
    assert len(sid) == 32 and fake_stack.received[-1].sender_id == sid

    driver.refresh()
    open_page(driver, fake_stack.web_url)
    assert messages(driver) == conversation
    assert session_id(driver) == sid
    wait_online(driver)
    conversation = ask(driver, "Ma consultation est-elle maintenue ?")
    assert "votre consultation est annulée" in conversation[-1][1]
    assert fake_stack.received[-1].sender_id == sid

    driver.find_element(*by_css("#chat-reset")).click()
    assert len(messages(driver)) == 1 and messages(driver)[0][1].startswith("Bonjour.")
    assert session_id(driver) != sid
    assert active_id(driver) == "chat-input"
    wait_online(driver)
    ask(driver, "Quand faut-il aller aux urgences ?")
    assert fake_stack.received[-1].sender_id == session_id(driver)


def test_suggested_answers_by_keyboard_only(fake_stack, driver):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    open_page(driver, fake_stack.web_url)
    wait_online(driver)
    driver.find_element(*by_css("body")).click()
    # Tab through the page until the first suggested answer has the focus.
    for _ in range(30):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        if "suggestion" in (driver.switch_to.active_element.get_attribute("class") or ""):
            break
    else:
        pytest.fail("no suggested answer reachable with Tab")
    title = driver.switch_to.active_element.text
    ActionChains(driver).send_keys(Keys.ENTER).perform()
    wait(driver, lambda d: answered(d, 1))
    conversation = messages(driver)
    # The title is shown, the payload (a question in words) is what Rasa got.
    assert conversation[0] == ("user", title)
    sent = fake_stack.received[-1].text
    assert sent != title and sent.endswith("?")
    assert active_id(driver) == "chat-input"
    # Then type, still without a mouse.
    ActionChains(driver).send_keys("blabla", Keys.ENTER).perform()
    wait(driver, lambda d: driver.find_elements(*by_css("#chat-log .suggestion")))
    buttons = driver.find_elements(*by_css("#chat-log .suggestion"))
    assert [b.text for b in buttons][:2] == ["Aller aux urgences ?", "Mon rendez-vous"]
    assert active_id(driver) == "chat-input"


def test_text_is_shown_as_text_never_as_html(fake_stack, driver):
    open_page(driver, fake_stack.web_url)
    wait_online(driver)
    attack = "<img src=x onerror=\"document.title='pwned'\"><b>gras</b> /restart"
    conversation = ask(driver, attack)
    assert ("user", attack) in conversation
    assert not driver.find_elements(*by_css("#chat-log img, #chat-log b"))
    assert driver.title == "Vivalia — informations pendant la panne informatique"
    assert fake_stack.received[-1].text == attack.strip()


def test_only_the_site_and_rasa_are_contacted(fake_stack, driver):
    open_page(driver, fake_stack.web_url)
    wait_online(driver)
    ask(driver, "Quand faut-il aller aux urgences ?")
    seen = hosts(requested_urls(driver))
    assert seen == {_host(fake_stack.web_url), _host(fake_stack.rasa_url)}
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []


def test_the_widget_talks_to_rasa_over_websocket_only(fake_stack, driver):
    """No HTTP long-polling, not even first: with several Rasa workers its requests would reach
    different processes (and the channel refuses it)."""
    open_page(driver, fake_stack.web_url)
    wait_online(driver)
    ask(driver, "Quand faut-il aller aux urgences ?")
    to_socketio = [url for url in requested_urls(driver) if "/socket.io/" in url]
    assert to_socketio, "the widget opened no Socket.IO connection"
    for url in to_socketio:
        assert url.startswith("ws://"), url
        assert "transport=websocket" in url, url


def test_screenshots_at_1280_and_360_px(fake_stack, driver, tmp_path):
    open_page(driver, fake_stack.web_url)
    wait_online(driver)
    ask(driver, "Quand faut-il aller aux urgences ?")
    screenshot_full_page(driver, str(tmp_path / "page.png"), 1280)
    screenshot_full_page(driver, str(tmp_path / "page-360.png"), 360)
    width = driver.execute_script("return window.innerWidth")
    assert width == 360
    # Nothing wider than the screen: no sideways scrolling on a phone.
    assert driver.execute_script("return document.documentElement.scrollWidth") <= 360
    call = driver.find_element(*by_css(".call-button"))
    assert call.is_displayed() and call.get_attribute("href") == "tel:080035168"


def test_when_rasa_cannot_be_reached_the_page_says_so(fake_stack, driver, tmp_path):
    port = free_port()  # nothing listens there
    store = ContentStore(ROOT / "locales" / "fr" / "answers.yml", ROOT / "locales" / "facts.yml")
    web_port = free_port()
    app = create_app(
        f"browser_web_down_{next(_names)}", store=store, rasa_url=f"http://127.0.0.1:{port}"
    )
    with serving_in_thread((app, web_port)):
        started = time.monotonic()
        driver.get(f"http://127.0.0.1:{web_port}/")
        notice = driver.find_element(*by_css("#chat-unavailable"))
        wait(driver, lambda d: notice.is_displayed(), timeout=12)
        elapsed = time.monotonic() - started
        assert notice.text == public.UNAVAILABLE
        # Nothing to show yet: the notice replaces the chat rather than a chat that cannot work.
        wait(driver, lambda d: not d.find_element(*by_css("#chat-app")).is_displayed(), 3)
        links = {a.get_attribute("href") for a in notice.find_elements(*by_css("a"))}
        assert links == {"tel:080035168", "tel:112"}
        essentials = driver.find_element(*by_css(".essentials")).text
        assert "112" in essentials and "1733" in essentials and "0800/35.168" in essentials
        assert elapsed < 10, f"unavailable notice after {elapsed:.1f} s"
        screenshot_full_page(driver, str(tmp_path / "page-unavailable.png"), 360)


def test_the_chat_comes_back_when_rasa_does(driver):
    """Rasa stops (a restart, a new model): the notice shows; Rasa is back: the conversation goes
    on in the same session."""
    store = ContentStore(ROOT / "locales" / "fr" / "answers.yml", ROOT / "locales" / "facts.yml")
    web_port, rasa_port = free_port(), free_port()
    web_url = f"http://127.0.0.1:{web_port}"
    n = next(_names)
    web_app = create_app(
        f"browser_web_back_{n}", store=store, rasa_url=f"http://127.0.0.1:{rasa_port}"
    )
    with serving_in_thread((web_app, web_port)):
        first, _ = make_fake_rasa(f"browser_rasa_first_{n}", store, (web_url,))
        with serving_in_thread((first, rasa_port)):
            open_page(driver, web_url)
            wait_online(driver)
            ask(driver, "Quand faut-il aller aux urgences ?")
            sid = session_id(driver)
        notice = driver.find_element(*by_css("#chat-unavailable"))
        wait(driver, lambda d: notice.is_displayed())
        assert driver.find_element(*by_css("#chat-app")).is_displayed()  # history kept
        again, received = make_fake_rasa(f"browser_rasa_again_{n}", store, (web_url,))
        with serving_in_thread((again, rasa_port)):
            wait_online(driver)
            assert not notice.is_displayed()
            conversation = ask(driver, "Ma consultation est-elle maintenue ?")
            assert "votre consultation est annulée" in conversation[-1][1]
            assert received[-1].sender_id == sid


def test_without_javascript_the_essentials_are_there():
    require_browser()
    store = ContentStore(ROOT / "locales" / "fr" / "answers.yml", ROOT / "locales" / "facts.yml")
    web_port = free_port()
    app = create_app(f"browser_web_nojs_{next(_names)}", store=store)
    no_js = make_driver(javascript=False)
    try:
        with serving_in_thread((app, web_port)):
            no_js.get(f"http://127.0.0.1:{web_port}/")
            body = no_js.find_element(*by_css("body")).text
            assert "Danger de mort" in body and "112" in body
            assert "1733" in body and "0800/35.168" in body
            assert "L'assistant a besoin de JavaScript." in body
            assert not no_js.find_element(*by_css("#chat-app")).is_displayed()
    finally:
        no_js.quit()


# --- Live: the real assistant (Rasa, actions, web app) ----------------------------------------


@pytest.mark.live
def test_live_question_answer_reload(stack, driver, tmp_path):
    import urllib.request

    try:
        with urllib.request.urlopen(f"{stack.rasa_url}/webhooks/socketio/", timeout=5) as r:
            assert r.status == 200
    except OSError as exc:
        pytest.fail(
            "Rasa has no Socket.IO channel: credentials.yml needs "
            f"bot.channels.socketio.RestrictedSocketIOInput ({exc})"
        )
    open_page(driver, stack.web_url)
    wait_online(driver)
    started = time.monotonic()
    conversation = ask(driver, "Quand faut-il aller aux urgences ?")
    elapsed = time.monotonic() - started
    answer = conversation[-1][1]
    assert "1733" in answer, answer
    assert "Information du" in answer
    assert elapsed < 10, f"answer after {elapsed:.1f} s"

    driver.refresh()
    open_page(driver, stack.web_url)
    assert messages(driver) == conversation

    seen = hosts(requested_urls(driver))
    assert seen <= {_host(stack.web_url), _host(stack.rasa_url)}, seen
    screenshot_full_page(driver, str(tmp_path / "page-live.png"), 1280)
