"""`python -m bot content-check`: validate the answer content as the running assistant would.

Prints every problem as `file:line: key: reason` and exits 1, or prints a one-line summary.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.content.catalog import REFERENCE_LANGUAGE, required_keys, translation_problems
from bot.content.store import Content, ContentError, domain_response_keys, load_content
from bot.settings import ROOT, get_settings


def main(argv: list[str] | None = None) -> int:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m bot content-check")
    parser.add_argument(
        "files", nargs="*", type=Path, help="content files (default: every language)"
    )
    parser.add_argument("--domain", type=Path, default=ROOT / "domain")
    args = parser.parse_args(argv)
    files = args.files or sorted(settings.content_dir.glob("*/answers.yml"))
    if not files:
        print(f"no content file under {settings.content_dir}", file=sys.stderr)
        return 1
    domain_keys = domain_response_keys(args.domain)
    facts = settings.content_dir / "facts.yml"
    reference_path = settings.content_dir / REFERENCE_LANGUAGE / "answers.yml"
    reference: Content | None = None
    status = 0
    # the French first: each translation is checked against it
    for path in sorted(files, key=lambda p: p.resolve() != reference_path.resolve()):
        language = path.parent.name
        try:
            content = load_content(path, facts, required_keys(language, domain_keys))
            if language == REFERENCE_LANGUAGE:
                reference = content
            elif reference is None:
                reference = load_content(reference_path, facts, domain_keys)
        except ContentError as exc:
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            status = 1
            continue
        problems = translation_problems(reference, content) if content is not reference else []
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            status = 1
            continue
        print(f"{path}: {len(content.answers)} answers, all valid")
    return status
