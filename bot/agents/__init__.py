"""The call-centre agents' console (http://localhost:8080/agent).

- `passwords`: scrypt hashes of the agents' passwords and the password rules.
- `models`: accounts, sessions, failed logins and the append-only audit trail, in the same
  database as the consultations (tables created on first use).
- `suggest`: a caller's question -> the answer the assistant would give, its sources, its
  confidence and the two next-best answers (classification by Rasa, `/webhooks/nlu/parse`).
- `stats`: the supervisor's figures of the day, read from Rasa's tracker store (read only).
- `console` / `pages`: the Sanic blueprint at /agent and its server-rendered French pages.
- `cli`: `python -m bot add-agent NAME [--supervisor]` and `python -m bot audit`.

No Rasa import anywhere in this package: the web app and the CLI load it without Rasa.
"""
