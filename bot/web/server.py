"""`python -m bot web [--host H] [--port P] [--access-log]`: serve the site (one worker)."""

from __future__ import annotations

import argparse
import logging

from bot.settings import get_settings


def main(argv: list[str] | None = None) -> int:
    settings = get_settings()
    parser = argparse.ArgumentParser(
        prog="python -m bot web", description="Serve the public page (and the agents' console)."
    )
    parser.add_argument("--host", default=settings.web_host, help="default: WEB_HOST or 0.0.0.0")
    parser.add_argument(
        "--port", type=int, default=settings.web_port, help="default: WEB_PORT or 8080"
    )
    parser.add_argument(
        "--access-log", action="store_true", help="log every request (off by default)"
    )
    args = parser.parse_args(argv)

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    from bot.web.app import create_app

    app = create_app()
    app.run(
        host=args.host,
        port=args.port,
        workers=1,
        access_log=args.access_log,
        debug=False,
        auto_reload=False,
        motd=False,
    )
    return 0
