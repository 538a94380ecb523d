"""The answer content: one human-edited YAML file per language (locales/<lang>/answers.yml).

`load_content(path)` parses and validates the whole file and either returns a `Content` or
raises `ContentError` listing every problem as `file:line: key: reason`. `ContentStore` keeps the
last good content in memory and reloads the file when it changes on disk; a bad edit is
reported and the last good content keeps being served.

No Rasa import: the NLG, the channels, the agents' console and `make content-check` share it.
"""

from __future__ import annotations

import logging
import os
import re
import string
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from bot.content.facts import find_phone_numbers
from bot.content.facts import load_facts as facts_file
from bot.content.gsm7 import sms_segments
from bot.content.render import SMS_MAX_SEGMENTS, Button, Rendered, sms_text

logger = logging.getLogger(__name__)

_KEY = re.compile(r"^utter_[a-z0-9_]+$")


@dataclass(frozen=True)
class Variant:
    """An alternative text used when every slot named in `when` has the given value."""

    when: dict[str, str]
    text: str


@dataclass(frozen=True)
class Answer:
    key: str
    text: str
    facts: tuple[str, ...]
    validated_on: date
    buttons: tuple[Button, ...] = ()
    variants: tuple[Variant, ...] = ()
    variables: dict[str, str] = field(default_factory=dict)
    line: int = 0

    def choose_text(self, slots: dict[str, Any] | None = None) -> str:
        slots = slots or {}
        for variant in self.variants:
            if all(str(slots.get(k)) == v for k, v in variant.when.items()):
                return variant.text
        return self.text

    def render_data(self, slots: dict[str, Any] | None = None, **values: Any) -> Rendered:
        """The answer as channel-neutral data, variables filled in."""
        text = self.choose_text(slots)
        if self.variables:
            missing = [name for name in self.variables if name not in values]
            if missing:
                raise KeyError(f"{self.key}: no value for {', '.join(missing)}")
            text = text.format(**{k: values[k] for k in self.variables})
        return Rendered(
            text=text, buttons=self.buttons, facts=self.facts, validated_on=self.validated_on
        )


@dataclass(frozen=True)
class Content:
    language: str
    answers: dict[str, Answer]
    path: Path
    loaded_at: float

    def get(self, key: str) -> Answer | None:
        return self.answers.get(key)


class ContentError(ValueError):
    """A content file that cannot be served; `problems` holds one line per problem."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def load_facts(path: Path) -> dict[str, set[str]]:
    """Fact ids -> the phone numbers (digits) each fact carries."""
    return {fid: fact.phone_digits for fid, fact in facts_file(path).items()}


def _key_lines(text: str) -> dict[str, int]:
    """Line number (1-based) of each answer key, from the YAML node tree."""
    lines: dict[str, int] = {}
    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        return lines
    if not isinstance(root, yaml.MappingNode):
        return lines
    for key_node, value_node in root.value:
        if key_node.value == "answers" and isinstance(value_node, yaml.MappingNode):
            for k, _ in value_node.value:
                lines[str(k.value)] = k.start_mark.line + 1
    return lines


def placeholders(text: str) -> set[str]:
    """The {names} a text fills in."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


# Where a validator writes the reason of each problem it finds, in the order it finds them.
Report = Callable[[str], None]

_FIELDS = {"text", "facts", "validated_on", "buttons", "variants", "variables"}


def _reporter(problems: list[str], prefix: str) -> Report:
    """A Report that adds each reason to `problems` as `file:line: key: reason`."""

    def report(reason: str) -> None:
        problems.append(prefix + reason)

    return report


def _yaml_mapping(text: str, where: str) -> dict:
    """The file's top-level mapping, with its 'answers:' section; else the one problem it has.

    Nothing else can be checked in a file that is not YAML or has no answers, so these are
    raised at once, alone."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f"{mark.line + 1}" if mark is not None else "?"
        reason = getattr(exc, "problem", None) or str(exc)
        raise ContentError([f"{where}:{at}: the file is not valid YAML: {reason}"]) from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("answers"), dict):
        raise ContentError([f"{where}:1: the file must have an 'answers:' section"])
    return raw


def _check_shape(key: str, body: Any, report: Report) -> bool:
    """Whether the entry can be read as an answer at all: a well-formed key and a mapping.

    Unknown fields are reported but do not stop the checks (a typo such as 'texte' is also
    reported as the missing field it was meant to be)."""
    if not _KEY.match(key):
        report("an answer key is 'utter_' followed by lower-case letters, digits or '_'")
        return False
    if not isinstance(body, dict):
        report("an answer needs 'text', 'facts' and 'validated_on'")
        return False
    unknown = set(body) - _FIELDS
    if unknown:
        report(f"unknown field(s): {', '.join(sorted(unknown))}")
    return True


def _text(body: dict, report: Report) -> str | None:
    """The answer's text; None (reported) when missing or blank: nothing to serve."""
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        report("'text' is missing or empty")
        return None
    return text


def _fact_ids(body: dict, facts: dict[str, set[str]], report: Report) -> list[str] | None:
    """The fact ids the answer rests on; None (reported) when they are not a list of ids.

    Each id that is not in the facts file is reported, and the list is still returned: the
    other checks go on (the phone numbers such an id would have carried are then refused)."""
    fact_ids = body.get("facts")
    if not isinstance(fact_ids, list) or not all(isinstance(f, str) for f in fact_ids):
        report("'facts' must be a list of fact ids, for example [F7, F12] (or [] for small talk)")
        return None
    for fid in fact_ids:
        if fid not in facts:
            report(f"unknown fact id '{fid}' (known: {', '.join(facts)})")
    return fact_ids


def _validated_on(body: dict, report: Report) -> date | None:
    """The day the crisis cell validated the answer; None (reported) when it is not a date."""
    validated = body.get("validated_on")
    if not isinstance(validated, date):
        report("'validated_on' must be a date written YYYY-MM-DD")
        return None
    return validated


def _buttons(raw: Any, report: Report) -> list[Button]:
    """The buttons that have a title and a payload (the others are reported and left out).

    A '/command' payload is reported but kept: the channels read it as text anyway."""
    buttons: list[Button] = []
    for i, b in enumerate(raw or [], start=1):
        if not isinstance(b, dict) or not b.get("title") or not b.get("payload"):
            report(f"button {i} needs a 'title' and a 'payload'")
            continue
        if str(b["payload"]).lstrip().startswith("/"):
            report(f"button {i}: a payload is a question in plain words, not a '/command'")
        buttons.append(Button(str(b["title"]), str(b["payload"])))
    return buttons


def _variables(raw: Any, report: Report) -> dict[str, str]:
    """Each {placeholder} -> its example value, as strings ({} when not a mapping, reported)."""
    variables = raw or {}
    if not isinstance(variables, dict):
        report("'variables' maps each {placeholder} to an example value")
        variables = {}
    return {str(k): str(v) for k, v in variables.items()}


def _variants(raw: Any, report: Report) -> list[Variant]:
    """The well-formed variants (the others are reported and left out)."""
    variants: list[Variant] = []
    for i, v in enumerate(raw or [], start=1):
        if (
            not isinstance(v, dict)
            or not isinstance(v.get("when"), dict)
            or not isinstance(v.get("text"), str)
        ):
            report(f"variant {i} needs 'when' (slot: value) and 'text'")
            continue
        variants.append(Variant({str(k): str(x) for k, x in v["when"].items()}, v["text"]))
    return variants


def _allowed_phones(fact_ids: list[str], facts: dict[str, set[str]]) -> set[str]:
    """The phone numbers (digits) an answer may give: those its cited facts carry."""
    return set().union(*(facts.get(f, set()) for f in fact_ids)) if fact_ids else set()


def phone_problems(
    label: str, text: str, allowed: set[str], fact_ids: list[str] | tuple[str, ...]
) -> list[str]:
    """A reason per phone number of `text` that the cited facts do not carry.

    A number is only given to the public when the communiqué gives it: a mistyped digit
    would send patients to a stranger."""
    return [
        f"{label}: phone number {number} is not carried by the facts it cites "
        f"({', '.join(fact_ids) or 'none'})"
        for number in find_phone_numbers(text)
        if number not in allowed
    ]


def sms_problem(
    label: str, text: str, buttons: tuple[Button, ...], validated: date, language: Any
) -> str | None:
    """The reason `text` (placeholders filled in) is refused for SMS, or None when it fits.

    Measured on the text the SMS channel would send (buttons as a numbered list, the date),
    because that is what the patient pays for, in segments."""
    rendered = Rendered(text=text, buttons=buttons, validated_on=validated)
    segments = sms_segments(sms_text(rendered, language))
    if segments > SMS_MAX_SEGMENTS:
        return (
            f"{label}: too long for SMS: {segments} segments "
            f"(at most {SMS_MAX_SEGMENTS}); shorten the text or the buttons"
        )
    return None


@dataclass(frozen=True)
class _TextContext:
    """What every text of one answer (its main text and each variant) is checked against."""

    variables: dict[str, str]
    allowed_phones: set[str]
    fact_ids: list[str]
    buttons: tuple[Button, ...]
    validated: date
    language: Any


def _check_text(label: str, candidate: str, ctx: _TextContext, report: Report) -> None:
    """Placeholders, phone numbers and SMS length of one text, reported in that order.

    A text whose braces cannot be read is reported once and not checked further."""
    try:
        names = placeholders(candidate)
    except ValueError as exc:
        report(f"{label}: braces {{ }} are only for placeholders ({exc})")
        return
    missing = names - set(ctx.variables)
    for name in sorted(missing):
        report(f"{label}: placeholder {{{name}}} has no example under 'variables'")
    for problem in phone_problems(label, candidate, ctx.allowed_phones, ctx.fact_ids):
        report(problem)
    filled = candidate.format(**ctx.variables) if not missing else candidate
    too_long = sms_problem(label, filled, ctx.buttons, ctx.validated, ctx.language)
    if too_long:
        report(too_long)


def _parse_answer(
    key: str,
    body: Any,
    line: int,
    facts: dict[str, set[str]],
    language: Any,
    report: Report,
) -> Answer | None:
    """One answer, or None when a problem leaves nothing to serve (every problem reported).

    The checks run in a fixed order and the first missing essential (text, facts, date) ends
    them: the problems an editor reads are always the same lines, in the same order."""
    if not _check_shape(key, body, report):
        return None
    text = _text(body, report)
    if text is None:
        return None
    fact_ids = _fact_ids(body, facts, report)
    if fact_ids is None:
        return None
    validated = _validated_on(body, report)
    if validated is None:
        return None
    buttons = tuple(_buttons(body.get("buttons"), report))
    variables = _variables(body.get("variables"), report)
    variants = _variants(body.get("variants"), report)
    ctx = _TextContext(
        variables, _allowed_phones(fact_ids, facts), fact_ids, buttons, validated, language
    )
    _check_text("text", text, ctx, report)
    for i, variant in enumerate(variants, start=1):
        _check_text(f"variant {i}", variant.text, ctx, report)
    return Answer(
        key=key,
        text=text,
        facts=tuple(fact_ids),
        validated_on=validated,
        buttons=buttons,
        variants=tuple(variants),
        variables=variables,
        line=line,
    )


def parse_content(
    text: str,
    path: Path,
    facts: dict[str, set[str]],
    required_keys: set[str] | None = None,
) -> Content:
    """Parse and validate the text of a content file. Raises ContentError with every problem."""
    where = str(path)
    raw = _yaml_mapping(text, where)
    language = raw.get("language") or "fr"
    lines = _key_lines(text)
    problems: list[str] = []
    answers: dict[str, Answer] = {}
    for raw_key, body in raw["answers"].items():
        key = str(raw_key)
        line = lines.get(key, 0)
        report = _reporter(problems, f"{where}:{line}: {key}: ")
        answer = _parse_answer(key, body, line, facts, language, report)
        if answer is not None:
            answers[key] = answer
    for key in sorted((required_keys or set()) - set(answers)):
        problems.append(f"{where}: {key}: the assistant needs this answer and the file has none")
    if problems:
        raise ContentError(problems)
    return Content(language=str(language), answers=answers, path=path, loaded_at=time.time())


def load_content(path: Path, facts_path: Path, required_keys: set[str] | None = None) -> Content:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ContentError([f"{path}: cannot be read: {exc}"]) from exc
    return parse_content(text, path, load_facts(facts_path), required_keys)


def domain_response_keys(domain_dir: Path) -> set[str]:
    """Every response the domain declares: each must have an answer in the content file."""
    keys: set[str] = set()
    for file in sorted(domain_dir.rglob("*.yml")):
        data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        keys.update(str(k) for k in (data.get("responses") or {}))
    return keys


def settings_store(
    required_keys: set[str] | None = None, language: str | None = None
) -> ContentStore:
    """The store of a language's answers file, by default the configured language's
    (bot/settings.py)."""
    from bot.settings import get_settings

    settings = get_settings()
    language = language or settings.language
    return ContentStore(
        settings.content_dir / language / "answers.yml",
        settings.content_dir / "facts.yml",
        required_keys=required_keys,
        shared_copy=settings.var_dir / "content" / f"{language}-last-good.yml",
    )


class ContentStore:
    """The last good content, reloaded when the file changes (checked at most once a second).

    Thread-safe; a failed reload keeps the previous content and records the error in
    `last_error`, so that a typo made by an editor never silences the assistant.

    Several processes serve answers (Rasa's workers, the web app), each with its own store.
    With `shared_copy`, the last good content is also the same for all of them: a process that
    loads a valid edit publishes a copy of it (dated like the edit); a process that finds the
    file broken serves that copy when it is newer than what it has, rather than an older text
    it happened to load before (it may never have been asked anything while the valid edit was
    on disk). The copy is validated like the file before it is served.
    """

    def __init__(
        self,
        path: Path,
        facts_path: Path,
        required_keys: set[str] | None = None,
        check_interval: float = 1.0,
        shared_copy: Path | None = None,
    ):
        self.path = path
        self.facts_path = facts_path
        self.required_keys = required_keys or set()
        self.check_interval = check_interval
        self.shared_copy = shared_copy
        self._content: Content | None = None
        self._content_mtime = 0.0  # when the text being served was written
        self._stamp: tuple[float, int] | None = None
        self._checked_at = 0.0
        self._lock = threading.Lock()
        self.last_error: str | None = None

    def _file_stamp(self) -> tuple[float, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return (st.st_mtime, st.st_size)

    def current(self) -> Content | None:
        now = time.monotonic()
        if self._content is not None and now - self._checked_at < self.check_interval:
            return self._content
        with self._lock:
            self._checked_at = now
            stamp = self._file_stamp()
            if stamp is not None and stamp != self._stamp:
                try:
                    text = self.path.read_text(encoding="utf-8")
                    self._content = parse_content(
                        text, self.path, load_facts(self.facts_path), self.required_keys
                    )
                    self._content_mtime = stamp[0]
                    if self.last_error:
                        logger.info("content file %s is valid again", self.path)
                    self.last_error = None
                    self._publish(text, stamp[0])
                except OSError as exc:
                    self.last_error = f"{self.path}: cannot be read: {exc}"
                    logger.error("%s; still serving the last good content", self.last_error)
                    self._adopt_shared_copy()
                except ContentError as exc:
                    self.last_error = str(exc)
                    logger.error(
                        "content edit refused, still serving the last good content:\n%s", exc
                    )
                    self._adopt_shared_copy()
                self._stamp = stamp
            elif stamp is None and (self._stamp is not None or self.last_error is None):
                self._stamp = None
                self.last_error = f"{self.path}: the file is missing"
                logger.error("%s; still serving the last good content", self.last_error)
                self._adopt_shared_copy()
            return self._content

    def _publish(self, text: str, mtime: float) -> None:
        """Write the shared copy of a valid text, unless the copy is already as recent."""
        if self.shared_copy is None:
            return
        try:
            if self.shared_copy.exists() and self.shared_copy.stat().st_mtime >= mtime:
                return
            self.shared_copy.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.shared_copy.with_name(f".{self.shared_copy.name}.{os.getpid()}")
            tmp.write_text(text, encoding="utf-8")
            os.utime(tmp, (mtime, mtime))
            os.replace(tmp, self.shared_copy)
        except OSError as exc:  # serving goes on; only the sharing is lost
            logger.warning("cannot write the shared copy of the content: %s", exc)

    def _adopt_shared_copy(self) -> None:
        """The file is unusable: serve the shared last good copy if it is newer (and valid)."""
        if self.shared_copy is None:
            return
        try:
            mtime = self.shared_copy.stat().st_mtime
            if self._content is not None and mtime <= self._content_mtime:
                return
            content = load_content(self.shared_copy, self.facts_path, self.required_keys)
        except (OSError, ContentError) as exc:
            logger.warning("no usable shared copy of the content: %s", exc)
            return
        self._content, self._content_mtime = content, mtime
        logger.info("serving the last good content another process loaded (%s)", self.shared_copy)
