"""The call-centre agents' console (http://localhost:8080/agent).

- `passwords`: scrypt hashes of the agents' passwords and the password rules.
- `models`: accounts, sessions, failed logins and the append-only audit trail, in the same
  database as the consultations (tables created on first use).
- `suggest`: a caller's question -> the answer the assistant would give, its sources, its
  confidence and the two next-best answers (classification by Rasa, `/webhooks/nlu/parse`).
- `lookups`: a consultation lookup by an agent, checked, then written to the audit trail.
- `stats`: the supervisor's figures of the day, read from Rasa's tracker store (read only);
  `charts` draws them as inline SVG, `export` writes them as CSV.
- `console`: the Sanic blueprint at /agent (module-level handlers; what they read from
  `app.ctx` is in `context`); `auth`: session cookie, CSRF and the guards of its routes.
- `pages` / `rendering` / `templates/`: its French pages, Jinja2 templates with autoescape.
- `cli`: `python -m bot add-agent NAME [--supervisor]` and `python -m bot audit`.

No Rasa import anywhere in this package: the web app and the CLI load it without Rasa.
"""
