"""The public web site: the information page with the chat widget (`create_app()` in app.py)."""
