"""The console over HTTP (the real web app on a free port, a fake Rasa API): signing in and out,
lockout, CSRF, roles, 401 without a session, no caching, the suggest API, the lookups and their
audit entries."""

from __future__ import annotations

from html import unescape

import aiohttp
import pytest

from bot.agents import auth, console
from bot.agents.models import Action, audit_entries
from bot.web import public
from bot.web.app import create_app
from tests.agents.conftest import (
    AGENT,
    AGENT_PASSWORD,
    CSRF,
    SUPERVISOR,
    Site,
    csrf_from,
    make_app,
    new_client,
    sign_in,
)
from tests.web.servers import free_port, serving


def cookie_header(resp: aiohttp.ClientResponse, name: str) -> str:
    return next(v for v in resp.headers.getall("Set-Cookie") if v.startswith(f"{name}="))


def assert_not_cached(resp: aiohttp.ClientResponse) -> None:
    assert resp.headers["Cache-Control"] == "no-store"
    assert "script-src 'self'" in resp.headers["Content-Security-Policy"]


# --- signing in -------------------------------------------------------------------------------


async def test_sign_in_sets_a_strict_http_only_session_cookie(
    site: Site, agent, client: aiohttp.ClientSession
) -> None:
    async with client.get(f"{site.url}/agent", allow_redirects=False) as resp:
        assert resp.status == 303 and resp.headers["Location"] == "/agent/login"
    resp = await sign_in(client, site.url, AGENT, AGENT_PASSWORD)
    assert resp.status == 303 and resp.headers["Location"] == "/agent"
    cookie = cookie_header(resp, auth.COOKIE)
    for attribute in ("HttpOnly", "SameSite=Strict", "Path=/agent", "Max-Age=43200"):
        assert attribute in cookie
    async with client.get(f"{site.url}/agent") as page:
        assert page.status == 200
        html = unescape(await page.text())
    assert "marie" in html and "Question de l'appelant" in html and 'lang="fr"' in html
    assert_not_cached(page)
    # The session is recorded in the audit trail.
    assert [e.action for e in audit_entries(agent=AGENT)] == [Action.LOGIN]


async def test_wrong_password_then_lockout(site: Site, agent, client) -> None:
    messages = []
    for _ in range(5):
        resp = await sign_in(client, site.url, AGENT, "pas le bon mot de passe")
        messages.append(resp.status)
    assert messages == [401, 401, 401, 401, 429]
    # The right password is refused while the account is locked.
    token = await csrf_from(client, f"{site.url}/agent/login")
    async with client.post(
        f"{site.url}/agent/login",
        data={"username": AGENT, "password": AGENT_PASSWORD, "csrf_token": token},
        allow_redirects=False,
    ) as resp:
        assert resp.status == 429
        html = unescape(await resp.text())
    assert "Compte bloqué jusqu'à" in html and "5 essais" in html
    assert auth.COOKIE not in {c.key for c in client.cookie_jar}
    assert Action.LOCKED in [e.action for e in audit_entries(agent=AGENT)]


async def test_wrong_password_message_counts_down(site: Site, agent, client) -> None:
    token = await csrf_from(client, f"{site.url}/agent/login")
    async with client.post(
        f"{site.url}/agent/login",
        data={"username": AGENT, "password": "faux", "csrf_token": token},
    ) as resp:
        assert resp.status == 401
        html = unescape(await resp.text())
    assert "Nom d'utilisateur ou mot de passe incorrect." in html
    for _ in range(2):
        await sign_in(client, site.url, AGENT, "faux")
    token = await csrf_from(client, f"{site.url}/agent/login")
    async with client.post(
        f"{site.url}/agent/login",
        data={"username": AGENT, "password": "faux", "csrf_token": token},
    ) as resp:
        assert "Encore 1 essai avant le blocage" in unescape(await resp.text())


# --- CSRF -------------------------------------------------------------------------------------


async def test_login_without_or_with_a_foreign_csrf_token_is_refused(
    site: Site, agent, client
) -> None:
    await csrf_from(client, f"{site.url}/agent/login")  # the pre-session cookie
    async with client.post(
        f"{site.url}/agent/login",
        data={"username": AGENT, "password": AGENT_PASSWORD},
        allow_redirects=False,
    ) as resp:
        assert resp.status == 403
        assert "Le formulaire a expiré" in await resp.text()
    # A token from another browser's form does not match this browser's cookie.
    async with new_client() as other:
        foreign = await csrf_from(other, f"{site.url}/agent/login")
    async with client.post(
        f"{site.url}/agent/login",
        data={"username": AGENT, "password": AGENT_PASSWORD, "csrf_token": foreign},
        allow_redirects=False,
    ) as resp:
        assert resp.status == 403
    # Nor a form token without its cookie.
    async with new_client() as bare:
        async with bare.post(
            f"{site.url}/agent/login",
            data={"username": AGENT, "password": AGENT_PASSWORD, "csrf_token": foreign},
            allow_redirects=False,
        ) as resp:
            assert resp.status == 403
    assert audit_entries() == []


async def test_lookup_and_logout_need_the_csrf_token(
    site: Site, agent_client, consultations
) -> None:
    c = agent_client
    async with c.post(
        f"{site.url}/agent/lookup",
        data={"mode": "reference", "reference": "C-22-9100001", "csrf_token": "x" * 64},
    ) as resp:
        assert resp.status == 403
        assert "Maréchal" not in await resp.text()
    async with c.post(f"{site.url}/agent/logout", data={}, allow_redirects=False) as resp:
        assert resp.status == 403
    assert [e.action for e in audit_entries()] == [Action.LOGIN]
    async with c.get(f"{site.url}/agent/api/suggest", params={"q": "urgences"}) as resp:
        assert resp.status == 200  # still signed in

    token = await csrf_from(c, f"{site.url}/agent")
    async with c.post(
        f"{site.url}/agent/lookup",
        data={"mode": "reference", "reference": "C-22-9100001", "csrf_token": token},
    ) as resp:
        assert resp.status == 200
        html = unescape(await resp.text())
    assert "Maréchal" in html and "Neurologie" in html and "annulée" in html
    async with c.post(
        f"{site.url}/agent/logout", data={"csrf_token": token}, allow_redirects=False
    ) as resp:
        assert resp.status == 303 and resp.headers["Location"] == "/agent/login?bye=1"
        assert "Max-Age=0" in cookie_header(resp, auth.COOKIE)
    async with c.get(f"{site.url}/agent/api/suggest", params={"q": "urgences"}) as resp:
        assert resp.status == 401
    assert [e.action for e in audit_entries()][-2:] == [Action.LOOKUP_REFERENCE, Action.LOGOUT]


# --- roles, 401, caching ----------------------------------------------------------------------


async def test_agents_cannot_open_the_supervisor_pages(site: Site, agent_client) -> None:
    for path in ("/agent/supervisor", "/agent/supervisor.csv", "/agent/audit"):
        async with agent_client.get(site.url + path) as resp:
            assert resp.status == 403, path
            assert "réservée aux superviseurs" in unescape(await resp.text())
            assert_not_cached(resp)


async def test_the_pages_send_anyone_not_signed_in_to_the_sign_in_page(
    site: Site, agent, client
) -> None:
    client.cookie_jar.update_cookies({auth.COOKIE: "forged-token"})
    for method, path in (
        ("GET", "/agent"),
        ("GET", "/agent/supervisor"),
        ("GET", "/agent/supervisor.csv"),
        ("GET", "/agent/audit"),
        ("POST", "/agent/lookup"),
        ("POST", "/agent/logout"),
    ):
        async with client.request(
            method, site.url + path, data={"csrf_token": "x"}, allow_redirects=False
        ) as resp:
            assert resp.status == 303, path
            assert resp.headers["Location"] == "/agent/login", path
            assert_not_cached(resp)
    assert audit_entries() == []


async def test_supervisors_can(site: Site, supervisor_client) -> None:
    for path in ("/agent", "/agent/supervisor", "/agent/audit"):
        async with supervisor_client.get(site.url + path) as resp:
            assert resp.status == 200, path
            html = unescape(await resp.text())
            assert SUPERVISOR in html and "Tableau du jour" in html


async def test_the_api_refuses_anyone_not_signed_in(site: Site, agent, client) -> None:
    client.cookie_jar.update_cookies({auth.COOKIE: "forged-token"})
    for path, params in (
        ("/agent/api/suggest", {"q": "les urgences sont ouvertes ?"}),
        ("/agent/api/consultations", {"reference": "C-22-9100001"}),
        ("/agent/api/consultations", {"last_name": "Maréchal", "birth_date": "1941-04-28"}),
    ):
        async with client.get(site.url + path, params=params) as resp:
            assert resp.status == 401
            assert resp.content_type == "application/json"
            assert (await resp.json())["error"].startswith("Connexion requise")
            assert_not_cached(resp)
    assert site.asked == []  # Rasa was not even asked
    assert audit_entries() == []


async def test_every_agent_response_is_not_cached(site: Site, agent_client) -> None:
    for path in ("/agent/login", "/agent", "/agent/static/console.js", "/agent/static/console.css"):
        async with agent_client.get(site.url + path, allow_redirects=False) as resp:
            assert resp.status in (200, 303), path
            assert_not_cached(resp)
    async with agent_client.get(f"{site.url}/agent/api/suggest", params={"q": "urgences"}) as resp:
        assert_not_cached(resp)
    async with agent_client.get(f"{site.url}/agent/static/nope.js") as resp:
        assert resp.status == 404


# --- suggest ----------------------------------------------------------------------------------


async def test_suggest_api(site: Site, agent_client) -> None:
    async with agent_client.get(
        f"{site.url}/agent/api/suggest", params={"q": "les urgences sont ouvertes ?"}
    ) as resp:
        assert resp.status == 200
        data = await resp.json()
    assert site.asked == ["les urgences sont ouvertes ?"]
    assert data["intent"] == "er_when" and data["confidence"] == 0.874
    assert "1733" in data["answer"] and "F7" in data["sources"]
    assert data["validated_on"] == "2022-05-17" and data["validated_on_label"] == "17 mai 2022"
    assert data["emergency"] is False and data["understood"] is True
    assert [a["intent"] for a in data["alternatives"]] == ["gp_oncall", "medical_advice"]
    for alt in data["alternatives"]:
        assert set(alt) >= {"intent", "confidence", "text", "sources", "validated_on"}
        assert alt["text"] and alt["sources"]
    assert data["alternatives"][0]["confidence"] == 0.061
    assert {f["id"] for f in data["facts"]} == set(data["sources"])


async def test_suggest_api_emergency_and_not_understood(site: Site, agent_client) -> None:
    async with agent_client.get(
        f"{site.url}/agent/api/suggest", params={"q": "mon père a une douleur thoracique"}
    ) as resp:
        data = await resp.json()
    assert data["emergency"] is True and data["confidence"] == 1.0
    assert data["answer"].startswith("Appelez le 112") and "S1" in data["sources"]
    async with agent_client.get(
        f"{site.url}/agent/api/suggest", params={"q": "xqzt blorp"}
    ) as resp:
        data = await resp.json()
    assert data["intent"] == "nlu_fallback" and data["understood"] is False
    assert [a["intent"] for a in data["alternatives"]] == ["out_of_scope", "situation"]


async def test_suggest_api_errors(site: Site, agent_client) -> None:
    async with agent_client.get(f"{site.url}/agent/api/suggest") as resp:
        assert resp.status == 400
        assert "Paramètre q manquant" in (await resp.json())["error"]


async def test_rasa_down_is_said_plainly(agent, tracker_url: str) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    async with serving(make_app(dead, tracker_url)) as url, new_client() as c:
        assert (await sign_in(c, url, AGENT, AGENT_PASSWORD)).status == 303
        async with c.get(f"{url}/agent/api/suggest", params={"q": "urgences"}) as resp:
            assert resp.status == 503
            assert "L'assistant ne répond pas (Rasa injoignable)" in (await resp.json())["error"]
        async with c.get(f"{url}/agent", params={"q": "urgences"}) as resp:
            assert resp.status == 503
            html = unescape(await resp.text())
    assert "Rasa injoignable" in html and "Retrouver une consultation" in html


async def test_a_wrong_rasa_token_is_said_plainly(agent, fake_rasa, tracker_url: str) -> None:
    app = create_app(
        blueprints=[
            public.create_blueprint(),
            console.create_blueprint(rasa_url=fake_rasa[0], rasa_token="wrong"),
        ]
    )
    async with serving(app) as url, new_client() as c:
        await sign_in(c, url, AGENT, AGENT_PASSWORD)
        async with c.get(f"{url}/agent/api/suggest", params={"q": "urgences"}) as resp:
            assert resp.status == 502
            assert "RASA_TOKEN" in (await resp.json())["error"]


async def test_the_question_box(site: Site, agent_client) -> None:
    async with agent_client.get(
        f"{site.url}/agent", params={"q": "les urgences sont ouvertes ?"}
    ) as resp:
        html = unescape(await resp.text())
    assert 'id="answer-main"' in html and "1733" in html
    assert 'data-copy="answer-main"' in html and 'data-copy="answer-alt-2"' in html
    assert "Sources : F7, S1" in html and "Validé le 17 mai 2022" in html
    assert "87 %" in html and "Quand aller aux urgences" in html


# --- lookups ----------------------------------------------------------------------------------


@pytest.mark.parametrize("reference", ["C-22-9100001", "c22 9100001", "C.22.9100001"])
async def test_lookup_by_reference(site: Site, agent_client, consultations, reference) -> None:
    async with agent_client.get(
        f"{site.url}/agent/api/consultations", params={"reference": reference}
    ) as resp:
        assert resp.status == 200
        data = await resp.json()
        assert_not_cached(resp)
    record = data["consultation"]
    assert data["count"] == 1 and data["consultations"] == [record]
    assert record["reference"] == "C229100001" and record["reference_display"] == "C-22-9100001"
    assert (record["last_name"], record["first_name"]) == ("Maréchal", "Marie")
    assert record["birth_date"] == "1941-04-28" and record["starts_at"] == "2022-05-18T09:45"
    assert record["status"] == "annulee" and record["status_label"] == "annulée"
    assert record["site"] == "Centre Sainte-Thérèse Bastogne" and record["phone_on_file"] is True
    [entry] = [e for e in audit_entries() if e.action is Action.LOOKUP_REFERENCE]
    assert entry.agent == AGENT and entry.query == "la référence C-22-9100001"
    assert entry.shown.startswith("1 consultation : C-22-9100001 (Maréchal Marie, 2022-05-18 09:45")


@pytest.mark.parametrize("birth_date", ["1941-04-28", "28/04/1941", "28 avril 1941"])
async def test_lookup_by_name_and_birth_date(
    site: Site, agent_client, consultations, birth_date
) -> None:
    async with agent_client.get(
        f"{site.url}/agent/api/consultations",
        params={"last_name": "MARECHAL", "birth_date": birth_date},
    ) as resp:
        assert resp.status == 200
        data = await resp.json()
    assert [r["first_name"] for r in data["consultations"]] == ["Marie"]  # not Jean (1997)
    [entry] = [e for e in audit_entries() if e.action is Action.LOOKUP_NAME]
    assert entry.query == "le nom « MARECHAL » né(e) le 28/04/1941"
    assert "C-22-9100001" in entry.shown and entry.agent == AGENT


async def test_lookup_not_found_and_bad_input(site: Site, agent_client, consultations) -> None:
    async with agent_client.get(
        f"{site.url}/agent/api/consultations", params={"reference": "C-22-0000000"}
    ) as resp:
        assert resp.status == 404
        data = await resp.json()
    assert data["count"] == 0 and data["consultation"] is None
    assert data["error"] == "Aucune consultation pour la référence C-22-0000000."
    assert audit_entries()[-1].shown == "aucune consultation"  # a search is audited anyway

    before = len(audit_entries())
    for params, words in (
        ({}, "Donnez la référence"),
        ({"last_name": "Maréchal"}, "date de naissance"),
        ({"last_name": "Maréchal", "birth_date": "31/02/1941"}, "non reconnue"),
        ({"reference": "C-22-9100001", "last_name": "Maréchal"}, "pas les deux"),
    ):
        async with agent_client.get(f"{site.url}/agent/api/consultations", params=params) as resp:
            assert resp.status == 400
            assert words in (await resp.json())["error"]
    assert len(audit_entries()) == before


async def test_lookup_from_the_page_by_name(site: Site, agent_client, consultations) -> None:
    async with agent_client.get(f"{site.url}/agent") as resp:
        match = CSRF.search(await resp.text())
    assert match, "no CSRF token in the form"
    token = match.group(1)
    async with agent_client.post(
        f"{site.url}/agent/lookup",
        data={"mode": "name", "last_name": "Peeters", "birth_date": "11/12/1999",
              "csrf_token": token},
    ) as resp:  # fmt: skip
        assert resp.status == 200
        html = unescape(await resp.text())
    assert "C-22-9100013" in html and "Céline" in html and "maintenue" in html
    assert "1 consultation pour le nom « Peeters » né(e) le 11/12/1999" in html
    assert audit_entries()[-1].action is Action.LOOKUP_NAME


async def test_the_audit_page_shows_the_lookups(
    site: Site, agent_client, supervisor_client, consultations
) -> None:
    async with agent_client.get(
        f"{site.url}/agent/api/consultations", params={"reference": "C-22-9100001"}
    ) as resp:
        assert resp.status == 200
    async with supervisor_client.get(f"{site.url}/agent/audit") as resp:
        html = unescape(await resp.text())
    assert "marie (agent)" in html and "la référence C-22-9100001" in html
    assert "recherche par référence" in html
    async with supervisor_client.get(f"{site.url}/agent/audit", params={"agent": "nobody"}) as resp:
        assert "Aucune entrée." in await resp.text()


async def test_a_database_down_is_said_plainly(fake_rasa, tracker_url: str, client) -> None:
    down = f"postgresql://console:pw@127.0.0.1:{free_port()}/vivalia"  # nothing listens there
    app = create_app(
        blueprints=[console.create_blueprint(rasa_url=fake_rasa[0], database_url=down)]
    )
    async with serving(app) as url:
        token = await csrf_from(client, f"{url}/agent/login")
        async with client.post(
            f"{url}/agent/login",
            data={"username": AGENT, "password": AGENT_PASSWORD, "csrf_token": token},
        ) as resp:
            assert resp.status == 503
            assert "La base de données ne répond pas" in unescape(await resp.text())
            assert_not_cached(resp)
        client.cookie_jar.update_cookies({auth.COOKIE: "some-token"})
        async with client.get(f"{url}/agent/api/suggest", params={"q": "urgences"}) as resp:
            assert resp.status == 503
            assert (await resp.json())["error"].startswith("La base de données ne répond pas")
            assert_not_cached(resp)
