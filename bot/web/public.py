"""The public page: what a patient needs during the outage, readable without JavaScript, and
the chat.

GET /          the information page (server-rendered HTML, French)
GET /healthz   liveness, and whether the content and the widget assets are there
GET /static/*  the built widget, style sheet and icon (web/build.mjs writes them)

The essentials (112, 1733, 0800/35.168) are written here once, in plain HTML, so that the page
states them even if the content file, the widget or Rasa fail; the tests check that each of those
numbers is one the facts carry. The rest of the page (the topics and the date of the information)
comes from the answer content, so that an edit validated by the crisis cell shows on the page too.
"""

from __future__ import annotations

import html
import json
import logging
import mimetypes
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

from sanic import Blueprint, Request, response
from sanic.exceptions import NotFound
from sanic.response import HTTPResponse

from bot.content.facts import read_facts
from bot.content.render import info_line
from bot.content.store import Content, ContentStore
from bot.settings import get_settings

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"

TITLE = "Vivalia — informations pendant la panne informatique"

# The numbers the page states itself (display form, tel: form). The tests check each one against
# locales/facts.yml.
EMERGENCY = ("112", "112")
ON_CALL = ("1733", "1733")
CALL_CENTRE = ("0800/35.168", "080035168")

# Shown by the widget when Rasa cannot be reached (and, without the widget assets, by the page).
UNAVAILABLE = (
    "L'assistant est momentanément indisponible. Appelez le 0800/35.168 (gratuit, 24 h/24). "
    "Danger de mort : 112."
)

# The topics the page shows, each from one or more answers of the content file.
SECTIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("situation", "Que se passe-t-il ?", ("utter_situation",)),
    ("urgences", "Urgences et médecin de garde", ("utter_er_when",)),
    (
        "consultations",
        "Consultations",
        ("utter_consultation_rule", "utter_essential_followup", "utter_bertrix"),
    ),
    ("operations", "Opérations et examens", ("utter_operations", "utter_radiology")),
)

# The widget opens with the greeting, and the topics the fallback answer offers as buttons.
GREETING_KEY = "utter_greet"
SUGGESTIONS_KEY = "utter_fallback"

_HASHED_ASSET = re.compile(r"\.[0-9a-f]{8,}\.[a-z0-9]+$")
_STATIC_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
LONG_CACHE = "public, max-age=31536000, immutable"


def rasa_public_url() -> str:
    """Where browsers reach Rasa's Socket.IO server (RASA_PUBLIC_URL, default
    http://localhost:5005). Read here only: the page's CSP and the widget both use it."""
    raw = get_settings().rasa_public_url
    url = (raw or "http://localhost:5005").rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ValueError(f"RASA_PUBLIC_URL must be an http(s) URL, got {raw!r}")
    return url


def rasa_origins(url: str) -> tuple[str, str]:
    """The HTTP and WebSocket origins of a URL, for the CSP's connect-src."""
    parts = urlsplit(url)
    ws = "wss" if parts.scheme == "https" else "ws"
    return f"{parts.scheme}://{parts.netloc}", f"{ws}://{parts.netloc}"


def content_security_policy(rasa_url: str) -> str:
    http_origin, ws_origin = rasa_origins(rasa_url)
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self'",
            f"connect-src 'self' {http_origin} {ws_origin}",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


def load_phone_numbers(facts_path: Path) -> tuple[str, ...]:
    """Every phone number the facts carry, as written there ("0800/35.168"). The page and the
    widget turn these, and only these, into tel: links."""
    numbers: list[str] = []
    for fact in read_facts(facts_path).values():
        for number in fact.phones:
            if number not in numbers:
                numbers.append(number)
    for display, _ in (EMERGENCY, ON_CALL, CALL_CENTRE):
        if display not in numbers:
            numbers.append(display)
    return tuple(numbers)


def tel_href(number: str) -> str:
    return "tel:" + re.sub(r"\D", "", number)


@dataclass(frozen=True)
class Assets:
    """The built files, by logical name ("chat.js" -> "chat.1a2b3c4d.js")."""

    files: dict[str, str]

    @classmethod
    def load(cls, static_dir: Path) -> Assets:
        try:
            files = json.loads((static_dir / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            logger.warning(
                "web assets not built in %s: the page is served without the chat widget "
                "(run: cd web && npm ci && npm run build)",
                static_dir,
            )
            files = {}
        return cls(files={str(k): str(v) for k, v in files.items()})

    def url(self, name: str) -> str | None:
        built = self.files.get(name)
        return f"/static/{built}" if built else None

    @property
    def has_widget(self) -> bool:
        return bool(self.files.get("chat.js") and self.files.get("socket.io.js"))


def linkify(text: str, numbers: tuple[str, ...]) -> str:
    """HTML-escaped text with the given phone numbers (and only those) as tel: links."""
    if not numbers:
        return html.escape(text)
    pattern = re.compile(
        r"(?<![\d/.])("
        + "|".join(re.escape(n) for n in sorted(numbers, key=len, reverse=True))
        + r")(?![\d]|[/.]\d)"
    )
    out: list[str] = []
    last = 0
    for m in pattern.finditer(text):
        out.append(html.escape(text[last : m.start()]))
        out.append(f'<a href="{tel_href(m.group(1))}">{html.escape(m.group(1))}</a>')
        last = m.end()
    out.append(html.escape(text[last:]))
    return "".join(out)


def _paragraphs(text: str, numbers: tuple[str, ...]) -> str:
    return "\n".join(
        f"<p>{linkify(line.strip(), numbers)}</p>" for line in text.splitlines() if line.strip()
    )


def _sections(content: Content | None, numbers: tuple[str, ...]) -> tuple[str, date | None]:
    """The topic sections and the most recent validation date among the answers shown."""
    if content is None:
        return "", None
    parts: list[str] = []
    latest: date | None = None
    for anchor, heading, keys in SECTIONS:
        texts: list[str] = []
        for key in keys:
            answer = content.get(key)
            if answer is None:
                logger.warning("the page shows %s but the content has no such answer", key)
                continue
            try:
                rendered = answer.render_data()
            except KeyError:
                continue
            texts.append(_paragraphs(rendered.text, numbers))
            if rendered.validated_on and (latest is None or rendered.validated_on > latest):
                latest = rendered.validated_on
        if texts:
            body = "\n".join(texts)
            parts.append(
                f'<section class="topic" aria-labelledby="t-{anchor}">\n'
                f'<h2 id="t-{anchor}">{html.escape(heading)}</h2>\n{body}\n</section>'
            )
    return "\n".join(parts), latest


def _chat_start(content: Content | None) -> tuple[str, list[dict[str, str]]]:
    """What the widget shows before the first question: the greeting and the topics the
    fallback answer proposes (both from the content file)."""
    if content is None:
        return "", []
    greet = content.get(GREETING_KEY)
    topics = content.get(SUGGESTIONS_KEY)
    text = greet.text.strip() if greet and not greet.variables else ""
    buttons = [{"title": b.title, "payload": b.payload} for b in (topics.buttons if topics else ())]
    return text, buttons


def _link(number: tuple[str, str], cls: str = "") -> str:
    attr = f' class="{cls}"' if cls else ""
    return f'<a{attr} href="tel:{number[1]}">{html.escape(number[0])}</a>'


def render_page(
    content: Content | None, assets: Assets, rasa_url: str, numbers: tuple[str, ...]
) -> str:
    sections, latest = _sections(content, numbers)
    date_line = html.escape(info_line(latest)) if latest else ""
    date_html = f'<p class="info-date">{date_line}</p>' if date_line else ""
    css = assets.url("site.css")
    icon = assets.url("favicon.svg")
    head_links = []
    if css:
        head_links.append(f'<link rel="stylesheet" href="{css}">')
    if icon:
        head_links.append(f'<link rel="icon" href="{icon}" type="image/svg+xml">')
    if assets.has_widget:
        head_links.append(f'<script src="{assets.url("socket.io.js")}" defer></script>')
        head_links.append(f'<script src="{assets.url("chat.js")}" defer></script>')
    head = "\n".join(head_links)
    unavailable = linkify(UNAVAILABLE, numbers)
    # Without the widget assets the page says at once that the assistant is not available.
    unavailable_hidden = " hidden" if assets.has_widget else ""
    greeting, suggestions = _chat_start(content)
    chat_attrs = (
        f' data-rasa-url="{html.escape(rasa_url)}" data-socket-path="/socket.io/"'
        f' data-phones="{html.escape(json.dumps(list(numbers)))}"'
        f' data-greeting="{html.escape(greeting)}"'
        f' data-suggestions="{html.escape(json.dumps(suggestions, ensure_ascii=False))}"'
    )
    call = _link(CALL_CENTRE)
    emergency = _link(EMERGENCY)
    return f"""<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(TITLE)}</title>
<meta name="description" content="Informations de Vivalia pendant la panne informatique :
 urgences, consultations, opérations, examens. Centre d'appel gratuit 0800/35.168, 24 h/24.">
{head}
</head>
<body>
<a class="skip-link" href="#chat">Aller à l'assistant</a>
<header class="masthead">
<div class="wrap">
<p class="brand">Vivalia</p>
<h1>Informations pendant la panne informatique</h1>
{date_html}
</div>
</header>
<main class="wrap layout">
<section class="essentials" aria-labelledby="t-essentials">
<h2 id="t-essentials">Qui appeler ?</h2>
<ul class="essentials-list">
<li class="essential essential-danger"><span class="essential-label">Danger de mort</span>
 appelez le {_link(EMERGENCY, "essential-number")}</li>
<li class="essential"><span class="essential-label">Le soir et le week-end</span>
 poste médical de garde {_link(ON_CALL, "essential-number")}</li>
<li class="essential"><span class="essential-label">Vos questions</span>
 centre d'appel gratuit, 24 h/24 et 7 j/7 : {_link(CALL_CENTRE, "essential-number")}</li>
</ul>
</section>
<section id="chat" class="chat" aria-labelledby="t-chat"{chat_attrs}>
<div class="chat-head">
<h2 id="t-chat">Posez votre question</h2>
<p class="chat-intro">Un assistant automatique répond à vos questions sur la panne.
 Il ne remplace pas un médecin. N'indiquez ni votre nom ni vos coordonnées.</p>
<p class="chat-call"><a class="call-button" href="tel:{CALL_CENTRE[1]}">Appeler le
 {html.escape(CALL_CENTRE[0])}</a> <span>gratuit, 24 h/24</span></p>
</div>
<p id="chat-unavailable" class="chat-unavailable" role="alert"{unavailable_hidden}>{unavailable}</p>
<noscript><p class="chat-unavailable">L'assistant a besoin de JavaScript.
 Appelez le {call} (gratuit, 24 h/24 et 7 j/7). Danger de mort : {emergency}.</p></noscript>
<div id="chat-app" class="chat-app" hidden>
<div class="chat-toolbar">
<p id="chat-status" class="chat-status">Connexion à l'assistant…</p>
<button type="button" id="chat-reset" class="chat-reset">Nouvelle conversation</button>
</div>
<ol id="chat-log" class="chat-log" aria-label="Conversation avec l'assistant" tabindex="0"></ol>
<div id="chat-announcer" class="visually-hidden" aria-live="polite" aria-atomic="false"></div>
<form id="chat-form" class="chat-form" autocomplete="off">
<label for="chat-input">Votre question</label>
<p id="chat-hint" class="chat-hint">Par exemple : «&nbsp;Ma consultation est-elle maintenue&nbsp;?&nbsp;»</p>
<div class="chat-input-row">
<input id="chat-input" name="message" type="text" maxlength="500" required enterkeyhint="send"
 aria-describedby="chat-hint">
<button type="submit" class="chat-send">Envoyer</button>
</div>
</form>
</div>
</section>
<div class="topics">
{sections}
</div>
</main>
<footer class="footer">
<div class="wrap">
<p>Vivalia. {date_line} Pour toute question : centre d'appel {call}, gratuit,
 24 h/24 et 7 j/7. Danger de mort : {emergency}.</p>
</div>
</footer>
</body>
</html>
"""


def create_blueprint() -> Blueprint:
    """The public page, its health check and its static files. Reads from `request.app.ctx`:
    content_store (ContentStore), assets (Assets), static_dir (Path), rasa_url (str),
    phone_numbers (tuple)."""
    bp = Blueprint("public")

    @bp.get("/")
    async def index(request: Request) -> HTTPResponse:
        ctx = request.app.ctx
        store: ContentStore = ctx.content_store
        page = render_page(store.current(), ctx.assets, ctx.rasa_url, ctx.phone_numbers)
        return response.html(
            page,
            headers={
                "Content-Security-Policy": content_security_policy(ctx.rasa_url),
                "Cache-Control": "no-cache",
            },
        )

    @bp.get("/healthz")
    async def healthz(request: Request) -> HTTPResponse:
        ctx = request.app.ctx
        store: ContentStore = ctx.content_store
        content = store.current()
        return response.json(
            {
                "status": "ok",
                "content": "ok"
                if content and not store.last_error
                else ("stale" if content else "missing"),
                "widget": ctx.assets.has_widget,
            },
            headers={"Cache-Control": "no-store"},
        )

    @bp.get("/static/<name:str>")
    async def static(request: Request, name: str) -> HTTPResponse:
        static_dir: Path = request.app.ctx.static_dir
        if not _STATIC_NAME.fullmatch(name) or name == "manifest.json":
            raise NotFound("Not Found")
        path = static_dir / name
        if not path.is_file():
            raise NotFound("Not Found")
        mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
        if mime.startswith("text/") or mime in {"application/javascript", "image/svg+xml"}:
            mime += "; charset=utf-8"
        cache = LONG_CACHE if _HASHED_ASSET.search(name) else "no-cache"
        return await response.file(path, mime_type=mime, headers={"Cache-Control": cache})

    return bp
