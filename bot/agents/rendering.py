"""The console's Jinja2 environment: bot/agents/templates/, every value escaped.

Built once per process, on first use (never at import: the CLI imports this package and renders
nothing). Autoescape is on for .html and .svg templates, so that a caller's question, a name or
a label of the tracker store can never become markup; the only unescaped values are the SVG
charts, which are themselves rendered here (bot.agents.charts) and handed over as Markup.
`None` prints as nothing (a missing first name, a missing date), and an unknown variable is an
error rather than an empty string, so that a typo in a template fails the tests.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


def _none_as_empty(value: Any) -> Any:
    return "" if value is None else value


def confidence(value: float | None) -> str:
    """The classifier's confidence for the agent: "87 %", or "—" when there is none."""
    return "—" if value is None else f"{round(value * 100)} %"


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html", "svg"]),
        undefined=StrictUndefined,
        finalize=_none_as_empty,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # the templates ship with the code: compiled once
    )
    env.filters["confidence"] = confidence
    return env


def render(name: str, **context: Any) -> str:
    return environment().get_template(name).render(**context)


def render_markup(name: str, **context: Any) -> Markup:
    """A template rendered for inclusion in another one (the charts): its values were escaped
    when it was rendered, so the result is safe markup and is not escaped a second time."""
    return Markup(render(name, **context))  # noqa: S704 (autoescaped template output)
