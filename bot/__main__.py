"""Command line: `python -m bot COMMAND ...` (run with the project's .venv).

Each command lives in its own module and is imported only when it is asked for, so that a
quick command does not pay for loading Rasa.
"""

from __future__ import annotations

import importlib
import sys

# command -> (module, function, one-line help). The function takes the remaining argv and
# returns the exit status.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "run": ("bot.services", "main", "start every service (Rasa, actions, web) in the foreground"),
    "content-check": ("bot.content.check", "main", "validate the answer content files"),
    "import-consultations": (
        "bot.consultations.cli",
        "import_main",
        "import the hospital's consultation list (CSV)",
    ),
    "add-agent": ("bot.agents.cli", "add_agent_main", "create a call-centre agent account"),
    "audit": ("bot.agents.cli", "audit_main", "print the agents' consultation lookup audit trail"),
    "web": ("bot.web.server", "main", "serve the public page and the agents' console (:8080)"),
    "db": ("bot.db", "main", "database migrations: db upgrade (to the newest), db current"),
}


def usage() -> str:
    width = max(len(name) for name in COMMANDS)
    lines = ["usage: python -m bot COMMAND [options]", "", "commands:"]
    lines += [f"  {name.ljust(width)}  {help_}" for name, (_, _, help_) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(usage())
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"unknown command: {name}\n\n{usage()}", file=sys.stderr)
        return 2
    module_name, func_name, _ = COMMANDS[name]
    func = getattr(importlib.import_module(module_name), func_name)
    return int(func(rest) or 0)


if __name__ == "__main__":
    sys.exit(main())
