"""The public page: status, essentials, content from the answers file, headers, static files."""

from __future__ import annotations

import datetime
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import aiohttp
import pytest
import yaml

from bot.content.facts import find_phone_numbers, phone_digits
from bot.content.store import ContentStore
from bot.settings import ROOT
from bot.web import public, server
from bot.web.app import create_app
from tests.web.servers import serving

RASA = "http://rasa.example.org:5005"
LOCALES = ROOT / "locales"


class Page(HTMLParser):
    """What the tests look at in the HTML: tags with their attributes, scripts, visible text."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.script_bodies: list[str] = []
        self.text_parts: list[str] = []
        self._in: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in {"meta", "link", "br", "input"}:
            self._in.append(tag)

    def handle_endtag(self, tag):
        if self._in and self._in[-1] == tag:
            self._in.pop()

    def handle_data(self, data):
        if "script" in self._in:
            self.script_bodies.append(data)
        elif not {"title", "noscript"} & set(self._in):
            self.text_parts.append(data)

    @property
    def text(self) -> str:
        return re.sub(r"\s+", " ", "".join(self.text_parts))

    def find(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        return [
            a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())
        ]


def make_assets(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "chat.js": "chat.0123456789ab.js",
        "socket.io.js": "socket.io.0123456789ab.js",
        "site.css": "site.0123456789ab.css",
        "favicon.svg": "favicon.0123456789ab.svg",
    }
    for name, built in files.items():
        (folder / built).write_text(f"/* {name} */\n", encoding="utf-8")
    (folder / "manifest.json").write_text(json.dumps(files), encoding="utf-8")
    (folder / "notes.txt").write_text("not hashed\n", encoding="utf-8")
    return folder


def copy_content(tmp_path: Path) -> tuple[Path, Path]:
    answers = tmp_path / "answers.yml"
    facts = tmp_path / "facts.yml"
    shutil.copy(LOCALES / "fr" / "answers.yml", answers)
    shutil.copy(LOCALES / "facts.yml", facts)
    return answers, facts


class Site:
    def __init__(self, url: str, http: aiohttp.ClientSession) -> None:
        self.url = url
        self.http = http

    async def get(self, path: str) -> tuple[int, dict[str, str], str]:
        async with self.http.get(self.url + path, allow_redirects=False) as r:
            return r.status, dict(r.headers), await r.text()


@pytest.fixture
def content_files(tmp_path):
    return copy_content(tmp_path)


@pytest.fixture
def assets(tmp_path):
    return make_assets(tmp_path / "static")


async def start(store, static_dir, rasa_url=RASA):
    app = create_app(store=store, static_dir=static_dir, rasa_url=rasa_url)
    return app


@pytest.fixture
async def site(content_files, assets):
    answers, facts = content_files
    store = ContentStore(answers, facts, check_interval=0)
    app = create_app(store=store, static_dir=assets, rasa_url=RASA)
    async with serving(app) as url, aiohttp.ClientSession() as http:
        yield Site(url, http)


# --- The page --------------------------------------------------------------------------------


async def test_the_page_is_french_html_with_its_title(site):
    status, headers, text = await site.get("/")
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    assert '<html lang="fr">' in text
    assert "<title>Vivalia — informations pendant la panne informatique</title>" in text
    assert Page(text).find("meta", name="viewport")


async def test_the_essentials_are_stated_in_the_page_itself(site):
    _, _, text = await site.get("/")
    page = Page(text)
    assert page.find("a", href="tel:112")
    assert page.find("a", href="tel:1733")
    assert page.find("a", href="tel:080035168")
    assert "Danger de mort" in page.text
    assert "poste médical de garde 1733" in page.text
    assert "centre d'appel gratuit, 24 h/24 et 7 j/7 : 0800/35.168" in page.text
    assert "Information du 17 mai." in page.text


async def test_the_topics_come_from_the_answers_file(site, content_files):
    answers, _ = content_files
    content = yaml.safe_load(answers.read_text(encoding="utf-8"))["answers"]
    _, _, text = await site.get("/")
    page = Page(text)
    for _, heading, keys in public.SECTIONS:
        assert heading in page.text
        for key in keys:
            for line in content[key]["text"].splitlines():
                assert line.strip() in page.text, (key, line)


async def test_an_edit_of_the_answers_file_shows_on_the_page(site, content_files):
    answers, _ = content_files
    data = yaml.safe_load(answers.read_text(encoding="utf-8"))
    situation = data["answers"]["utter_situation"]
    situation["text"] += "\nMerci de votre patience & <compréhension>."
    situation["validated_on"] = datetime.date(2022, 5, 18)
    answers.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    _, _, html = await site.get("/")
    assert "Merci de votre patience &amp; &lt;compréhension&gt;." in html
    assert "Information du 18 mai." in html


async def test_a_broken_answers_file_still_gives_the_essentials(tmp_path, assets):
    store = ContentStore(tmp_path / "missing.yml", LOCALES / "facts.yml")
    app = create_app(store=store, static_dir=assets, rasa_url=RASA)
    async with serving(app) as url, aiohttp.ClientSession() as http:
        async with http.get(url + "/") as r:
            assert r.status == 200
            page = Page(await r.text())
        async with http.get(url + "/healthz") as r:
            assert (await r.json())["content"] == "missing"
    assert page.find("a", href="tel:112") and page.find("a", href="tel:080035168")


async def test_the_phone_numbers_of_the_content_are_tel_links(site):
    _, _, text = await site.get("/")
    page = Page(text)
    hrefs = {a["href"] for a in page.find("a") if (a.get("href") or "").startswith("tel:")}
    assert hrefs == {"tel:112", "tel:1733", "tel:080035168"}


def test_each_number_the_page_states_is_carried_by_the_facts():
    facts = yaml.safe_load((LOCALES / "facts.yml").read_text(encoding="utf-8"))["facts"]
    carried = {phone_digits(str(p)) for body in facts.values() for p in body.get("phones", [])}
    for display, tel in (public.EMERGENCY, public.ON_CALL, public.CALL_CENTRE):
        assert phone_digits(display) == tel
        assert tel in carried
    in_message = find_phone_numbers(public.UNAVAILABLE)
    assert set(in_message) == {"080035168", "112"}
    assert set(in_message) <= carried
    assert set(public.load_phone_numbers(LOCALES / "facts.yml")) == {
        "112",
        "1733",
        "0800/35.168",
        "0800/32.123",
        "070/245.245",
    }


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("Appelez le 112.", 'Appelez le <a href="tel:112">112</a>.'),
        ("<b>1733</b>", '&lt;b&gt;<a href="tel:1733">1733</a>&lt;/b&gt;'),
        ("Environ 1 500 PC, 6 349 consultations", "Environ 1 500 PC, 6 349 consultations"),
        ("11200 ou 21733 ou 1733.5", "11200 ou 21733 ou 1733.5"),
        ("0800/35.168, gratuit", '<a href="tel:080035168">0800/35.168</a>, gratuit'),
        ("le 0800/35.1689", "le 0800/35.1689"),
    ],
)
def test_linkify_links_only_the_known_numbers_and_escapes_the_rest(text, html):
    numbers = ("112", "1733", "0800/35.168")
    assert public.linkify(text, numbers) == html


# --- The chat's place in the page -----------------------------------------------------------


async def test_the_widget_is_configured_by_data_attributes(site):
    _, _, text = await site.get("/")
    chat = Page(text).find("section", id="chat")[0]
    assert chat["data-rasa-url"] == RASA
    assert chat["data-socket-path"] == "/socket.io/"
    assert "0800/35.168" in json.loads(chat["data-phones"] or "[]")
    assert (chat["data-greeting"] or "").startswith("Bonjour. Je suis l'assistant automatique")
    suggestions = json.loads(chat["data-suggestions"] or "[]")
    assert {"title": "Mon rendez-vous", "payload": "Ma consultation est-elle maintenue ?"} in (
        suggestions
    )


async def test_the_chat_is_hidden_until_the_script_runs_and_says_when_it_cannot(site):
    _, _, text = await site.get("/")
    page = Page(text)
    assert "hidden" in page.find("div", id="chat-app")[0]
    unavailable = page.find("p", id="chat-unavailable")[0]
    assert "hidden" in unavailable and unavailable["role"] == "alert"
    assert "<noscript>" in text
    assert public.UNAVAILABLE.replace("'", "&#x27;").split(" Appelez")[0] in text
    assert page.find("a", href="tel:080035168", **{"class": "call-button"})


async def test_without_the_built_widget_the_page_says_the_assistant_is_unavailable(
    content_files, tmp_path
):
    answers, facts = content_files
    app = create_app(
        store=ContentStore(answers, facts), static_dir=tmp_path / "empty", rasa_url=RASA
    )
    async with serving(app) as url, aiohttp.ClientSession() as http:
        async with http.get(url + "/") as r:
            page = Page(await r.text())
        async with http.get(url + "/healthz") as r:
            health = await r.json()
    assert not page.find("script")
    assert "hidden" not in page.find("p", id="chat-unavailable")[0]
    assert "L'assistant est momentanément indisponible." in page.text
    assert health == {"status": "ok", "content": "ok", "widget": False}


# --- Security --------------------------------------------------------------------------------


def csp(headers: dict[str, str]) -> dict[str, list[str]]:
    policy: dict[str, list[str]] = {}
    for directive in headers["Content-Security-Policy"].split(";"):
        name, *values = directive.split()
        policy[name] = values
    return policy


async def test_the_csp_allows_only_the_site_and_rasas_socket(site):
    _, headers, _ = await site.get("/")
    policy = csp(headers)
    assert policy["default-src"] == ["'none'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["img-src"] == ["'self'"]
    assert policy["connect-src"] == ["'self'", RASA, "ws://rasa.example.org:5005"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert "'unsafe-inline'" not in headers["Content-Security-Policy"]
    assert "'unsafe-eval'" not in headers["Content-Security-Policy"]


def test_an_https_rasa_gets_a_wss_socket_in_the_csp():
    policy = public.content_security_policy("https://chat.vivalia.example")
    assert "connect-src 'self' https://chat.vivalia.example wss://chat.vivalia.example" in policy


async def test_the_security_headers(site):
    for path in ("/", "/healthz", "/static/chat.0123456789ab.js", "/nowhere"):
        _, headers, _ = await site.get(path)
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["Referrer-Policy"] == "no-referrer", path
        assert headers["X-Frame-Options"] == "DENY", path
        assert "Content-Security-Policy" in headers, path


async def test_no_inline_script_style_or_handler_and_no_other_host(site):
    _, _, text = await site.get("/")
    page = Page(text)
    scripts = page.find("script")
    assert len(scripts) == 2
    assert all((s.get("src") or "").startswith("/static/") for s in scripts)
    assert all(not body.strip() for body in page.script_bodies)
    assert "<style" not in text
    for tag, attrs in page.tags:
        assert "style" not in attrs, tag
        assert not any(name.startswith("on") for name in attrs), tag
        for name in ("src", "href", "action", "srcset", "poster", "data"):
            value = attrs.get(name)
            if value is not None:
                assert value.startswith(("/", "#", "tel:")), (tag, name, value)
    # The one absolute URL in the page is where the widget reaches Rasa (allowed by the CSP).
    urls = set(re.findall(r"(?:https?:|wss?:)?//[^\s\"'<>&]+", text))
    assert urls == {RASA}


async def test_the_page_can_be_reached_through_a_skip_link_and_headings(site):
    _, _, text = await site.get("/")
    page = Page(text)
    assert page.find("a", href="#chat")
    assert len(page.find("h1")) == 1
    assert page.find("label", **{"for": "chat-input"})
    assert page.find("div", id="chat-announcer")[0]["aria-live"] == "polite"


# --- Health and static files -----------------------------------------------------------------


async def test_healthz(site):
    status, _, text = await site.get("/healthz")
    assert status == 200
    assert json.loads(text) == {"status": "ok", "content": "ok", "widget": True}


async def test_hashed_static_files_are_cached_for_a_year(site):
    status, headers, text = await site.get("/static/chat.0123456789ab.js")
    assert status == 200
    assert text == "/* chat.js */\n"
    assert headers["Content-Type"].startswith(("application/javascript", "text/javascript"))
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    status, headers, _ = await site.get("/static/site.0123456789ab.css")
    assert status == 200 and headers["Content-Type"].startswith("text/css")


async def test_other_static_files_are_revalidated(site):
    status, headers, _ = await site.get("/static/notes.txt")
    assert status == 200
    assert headers["Cache-Control"] == "no-cache"


@pytest.mark.parametrize(
    "path",
    [
        "/static/missing.js",
        "/static/manifest.json",
        "/static/..%2Fsettings.py",
        "/static/%2e%2e%2f%2e%2e%2fsettings.py",
        "/static/.gitignore",
        "/static/sub/chat.0123456789ab.js",
    ],
)
async def test_nothing_else_is_served_from_static(site, path):
    status, _, _ = await site.get(path)
    assert status == 404


def test_the_built_assets_when_present_match_the_manifest():
    manifest = public.STATIC_DIR / "manifest.json"
    if not manifest.exists():
        pytest.skip("web assets not built (cd web && npm ci && npm run build)")
    files = json.loads(manifest.read_text(encoding="utf-8"))
    assert set(files) == {"chat.js", "socket.io.js", "site.css", "favicon.svg"}
    for built in files.values():
        assert (public.STATIC_DIR / built).is_file()
    io = (public.STATIC_DIR / files["socket.io.js"]).read_text(encoding="utf-8")
    assert "Socket.IO v4." in io[:200]
    assert "sourceMappingURL" not in io


# --- Configuration and command line --------------------------------------------------------


def test_rasa_public_url(monkeypatch):
    from bot.settings import get_settings

    def with_env(value):
        if value is None:
            monkeypatch.delenv("RASA_PUBLIC_URL", raising=False)
        else:
            monkeypatch.setenv("RASA_PUBLIC_URL", value)
        get_settings.cache_clear()
        return public.rasa_public_url

    try:
        assert with_env(None)() == "http://localhost:5005"
        assert with_env("https://chat.vivalia.example/")() == "https://chat.vivalia.example"
        with pytest.raises(ValueError):
            with_env("javascript:alert(1)")()
    finally:
        monkeypatch.delenv("RASA_PUBLIC_URL", raising=False)
        get_settings.cache_clear()


def test_create_app_takes_more_blueprints():
    from sanic import Blueprint, response

    extra = Blueprint("agents", url_prefix="/agent")

    @extra.get("/")
    async def agents(_):
        return response.text("agents")

    app = create_app(blueprints=[public.create_blueprint(), extra])
    paths = {route.path for route in app.router.routes}
    assert {"", "agent", "healthz"} <= paths


def test_the_server_runs_one_worker_without_access_log(monkeypatch):
    calls = []
    monkeypatch.setattr("sanic.Sanic.run", lambda self, **kw: calls.append(kw))
    assert server.main(["--host", "127.0.0.1", "--port", "8099"]) == 0
    assert calls[0]["host"] == "127.0.0.1" and calls[0]["port"] == 8099
    assert calls[0]["workers"] == 1 and calls[0]["access_log"] is False
    server.main(["--access-log"])
    assert calls[1]["access_log"] is True and calls[1]["port"] == 8080
