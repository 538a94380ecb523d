"""The consultation list: import the hospital's CSV, and look a consultation up safely.

- `normalize`: references, dates of birth, phone numbers and names as patients type them (pure).
- `models` / `db`: the SQLAlchemy tables and the lazily built, cached engine.
- `importer` / `cli`: `python -m bot import-consultations FILE.csv` (all or nothing).
- `lookup`: what the Rasa action and the agents' console call.

No Rasa import anywhere in this package: the CLI, the web console and the tests load it without
paying for Rasa. This `__init__` imports nothing, so `normalize` stays free of SQLAlchemy.
"""
