"""`python -m bench` (`make bench`): the project's assistant against Rasa's default configuration.

1. trains Rasa's default configuration on the project's data and domain when needed
   (models/default.tar.gz) and times a training of both configurations;
2. scores both models on the held-out NLU file (`rasa test nlu`);
3. starts both assistants with the project's command (`python -m bot run`), on other ports,
   loopback only, and times their cold start (command -> first answer);
4. runs the closed-loop load (N conversations, a new one every 5-8 messages) against each, in
   alternating rounds, while sampling the memory of every process of each assistant;
5. scores both with the development question set and the patient question set (the scorer is
   SHARED_DIR/eval/score.py; without it the run says so, in its output and in its report);
6. one long conversation (250 messages) against each, and against the project's model served
   with Rasa's stock SQL tracker store (the conversation not bounded);
7. writes var/bench/results.json and BENCHMARKS.md.
Every step is bounded in time; every target is on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import models, report
from bench.load import LoadResult, patient_messages, run_load, run_long_conversation
from bench.procs import BENCH_DIR, Assistant
from bot.settings import SHARED_DIR

SCORER = SHARED_DIR / "eval" / "score.py"
QUESTION_SETS = {
    "dev": None,  # the scorer's own development set
    "patient": models.ROOT / "tests" / "questions" / "patient_questions.yml",
}
STOCK = "project, stock tracker store"  # the long conversation's third column


def port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def scorer_missing(scorer: Path | None = None) -> str | None:
    """The warning to show when the question sets cannot be scored, or None when they can.

    Said at the start and in the report: a run without its question scores must not pass for
    a complete one (the scorer lives outside the project, in SHARED_DIR)."""
    scorer = scorer or SCORER
    if scorer.exists():
        return None
    return (
        f"WARNING: no scorer at {scorer}: the question sets are NOT scored "
        "(set SHARED_DIR to the folder that holds eval/score.py)"
    )


def parse_score(stdout: str) -> dict[str, Any]:
    """The scorer's last `score: P/T = X%` line, and P and T (None when there is none)."""
    line = next((x for x in reversed(stdout.splitlines()) if x.startswith("score:")), "")
    m = re.search(r"score: (\d+)/(\d+) = ([\d.]+)%", line)
    return {
        "line": line.removeprefix("score: "),
        "passed": int(m.group(1)) if m else None,
        "total": int(m.group(2)) if m else None,
    }


def score_questions(url: str, question_set: Path | None) -> dict[str, Any]:
    if not SCORER.exists():
        return {"line": f"not scored: no scorer at {SCORER}", "passed": None, "total": None}
    argv = [sys.executable, str(SCORER), "--url", url, "--out", str(BENCH_DIR / "score.txt")]
    if question_set is not None:
        argv += ["--set", str(question_set)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False)
    return parse_score(done.stdout)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20, help="concurrent conversations")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds")
    parser.add_argument("--round-seconds", type=float, default=20.0, help="time bound of a round")
    parser.add_argument(
        "--round-messages", type=int, default=100000, help="message bound of a round"
    )
    parser.add_argument(
        "--long-length", type=int, default=250, help="messages of the long conversation"
    )
    parser.add_argument("--no-long", action="store_true", help="skip the long conversations")
    parser.add_argument("--no-score", action="store_true", help="skip the question sets")
    parser.add_argument(
        "--only-project", action="store_true", help="no baseline (quick profiling runs)"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        help="Rasa worker processes of the project's assistant (the default configuration "
        "keeps Rasa's one)",
    )
    parser.add_argument(
        "--lock-store-url",
        default="",
        help="LOCK_STORE_URL of the project's assistant (default: its lock file)",
    )
    parser.add_argument("--port-base", type=int, default=6100)
    parser.add_argument("--out", type=Path, default=models.ROOT / "BENCHMARKS.md")
    return parser


def _install_uvloop() -> None:
    """The load generator shares the machine: keep it light (libuv's event loop) when it is
    installed."""
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass


def port_plan(base: int) -> dict[str, tuple[int, int]]:
    """(Rasa port, action server port) of each assistant the bench starts, from `--port-base`."""
    return {
        "project": (base + 5, base + 55),
        "default": (base + 105, base + 155),
        "unbounded": (base + 205, base + 255),
    }


def web_port_of(base: int) -> int:
    """The project's web app: counted in "the whole assistant"."""
    return base + 80


def busy_ports(names: list[str], base: int, free: Callable[[int], bool] = port_free) -> list[int]:
    """The ports this run needs that something already listens on (checked before anything
    starts: an assistant on a busy port would measure whatever answers there)."""
    ports = port_plan(base)
    busy = [p for n in [*names, "unbounded"] for p in ports[n] if not free(p)]
    web_port = web_port_of(base)
    return busy + ([] if free(web_port) else [web_port])


def _header(args: argparse.Namespace, argv: list[str] | None) -> dict[str, Any]:
    """What the run was: its command, arguments, date and machine."""
    return {
        "command": " ".join(
            ["make bench:", ".venv/bin/python -m bench", *(sys.argv[1:] if argv is None else argv)]
        ),
        "args": {k: str(v) for k, v in vars(args).items()},
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "machine": report.machine(),
    }


def _models_of(names: list[str]) -> dict[str, Path]:
    model_of = {"project": models.PROJECT_MODEL, "default": models.DEFAULT_MODEL}
    return {n: model_of[n] for n in names}


def _train_and_test_nlu(results: dict[str, Any], names: list[str]) -> None:
    """Steps 1 and 2: training times, the default model when needed, held-out NLU scores."""
    results["training"] = {"project": models.project_training_time()}
    if "default" in names:
        results["training"]["default"] = models.default_model()
    model_of = _models_of(names)
    results["nlu"] = {name: models.nlu_scores(model_of[name], name) for name in names}


def _assistants(args: argparse.Namespace, names: list[str]) -> dict[str, Assistant]:
    """The assistants to measure, not started: the project's with its workers and lock store,
    Rasa's default configuration with Rasa's defaults (in-memory lock store, one process)."""
    ports, model_of = port_plan(args.port_base), _models_of(names)
    assistants = {
        n: Assistant(n, model_of[n], *ports[n], stock_tracker_store=(n == "default")) for n in names
    }
    project = assistants["project"]
    project.workers = max(args.workers, 1)
    project.lock_store_url = args.lock_store_url
    project.web_port = web_port_of(args.port_base)
    if "default" in assistants:
        assistants["default"].lock_store_url = "memory"
    return assistants


def _sample_only(assistants: dict[str, Assistant], name: str | None) -> None:
    """Sample the memory of the assistant under load only (sampling costs CPU); None: all."""
    for other, a in assistants.items():
        if a.sampler is not None:
            (a.sampler.active.set if name in (None, other) else a.sampler.active.clear)()


class _Run:
    """One bench run against started assistants: what it measured so far."""

    def __init__(
        self, args: argparse.Namespace, assistants: dict[str, Assistant], messages: list[str]
    ) -> None:
        self.args = args
        self.assistants = assistants
        self.names = list(assistants)
        self.messages = messages
        self.loads = {n: LoadResult() for n in self.names}
        self.rounds: list[dict[str, Any]] = []

    def start(self) -> None:
        """Step 3: start each assistant, timing its cold start."""
        for name, a in self.assistants.items():
            print(f"[bench] starting {name} ...", flush=True)
            print(f"[bench] {name}: first answer after {a.start():.1f} s", flush=True)

    def warm_up(self) -> None:
        """A short load on each, not counted (first requests pay for imports and caches)."""
        for name, a in self.assistants.items():
            asyncio.run(run_load(a.url, self.messages, clients=self.args.clients, max_messages=100,
                                 max_seconds=30, prefix=f"warm-{name}"))  # fmt: skip

    def load_rounds(self) -> None:
        """Step 4: alternating rounds (project first, then default first, ...), so that a
        change of the machine's load during the run weighs on both."""
        args = self.args
        for r in range(args.rounds):
            order = self.names if r % 2 == 0 else self.names[::-1]
            for name in order:
                _sample_only(self.assistants, name)
                res = asyncio.run(
                    run_load(self.assistants[name].url, self.messages, clients=args.clients,
                             max_messages=args.round_messages, max_seconds=args.round_seconds,
                             seed=100 + r, prefix=f"r{r}-{name}")
                )  # fmt: skip
                self.loads[name].merge(res)
                self.rounds.append({"round": r + 1, "assistant": name, **res.summary()})
                print(f"[bench] round {r + 1} {name}: {res.summary()}", flush=True)
        _sample_only(self.assistants, None)

    def questions(self) -> dict[str, Any]:
        """Step 5: every question set against every assistant."""
        return {
            name: {s: score_questions(a.url, path) for s, path in QUESTION_SETS.items()}
            for name, a in self.assistants.items()
        }

    def long_conversations(self) -> dict[str, Any]:
        """Step 6, first part: one long conversation against each assistant."""
        long: dict[str, Any] = {}
        for name, a in self.assistants.items():
            long[name] = asyncio.run(
                run_long_conversation(a.url, self.messages, length=self.args.long_length)
            )
            print(f"[bench] long conversation {name}: {long[name]}", flush=True)
        return long

    def measure(self, results: dict[str, Any]) -> None:
        """Steps 3 to 6 against the assistants (stopped by the caller, whatever happens)."""
        self.start()
        self.warm_up()
        self.load_rounds()
        if not self.args.no_score:
            results["questions"] = self.questions()
        if not self.args.no_long:
            results["long"] = self.long_conversations()

    def figures(self) -> dict[str, Any]:
        """Load, rounds, cold starts and memory, as results.json holds them."""
        assistants = self.assistants
        return {
            "load": {
                n: {**self.loads[n].summary(), "errors_sample": self.loads[n].error_samples}
                for n in self.names
            },
            "rounds": self.rounds,
            "cold_start_s": {n: round(a.cold_start_s or 0, 1) for n, a in assistants.items()},
            "memory": {n: a.sampler.report() if a.sampler else {} for n, a in assistants.items()},
        }


def _stock_long_conversation(args: argparse.Namespace, messages: list[str]) -> dict[str, Any]:
    """Step 6, second part: the project's model with Rasa's stock SQL tracker store, what
    bounding the conversation buys."""
    stock = Assistant(
        "unbounded",
        models.PROJECT_MODEL,
        *port_plan(args.port_base)["unbounded"],
        stock_tracker_store=True,
    )
    try:
        stock.start()
        result = asyncio.run(run_long_conversation(stock.url, messages, length=args.long_length))
        print(f"[bench] long conversation, stock store: {result}")
        return result
    finally:
        stock.stop()


def _write(args: argparse.Namespace, results: dict[str, Any]) -> None:
    """Step 7: results.json, BENCHMARKS.md (not for a run without the baseline), the summary."""
    (BENCH_DIR / "results.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    if not args.only_project:
        args.out.write_text(report.markdown(results), encoding="utf-8")
        print(f"[bench] wrote {args.out}")
    print(report.summary(results))


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    started = time.time()
    _install_uvloop()

    if not models.PROJECT_MODEL.exists():
        print("no models/crisis.tar.gz: run `make train` first", file=sys.stderr)
        return 2
    warning = None if args.no_score else scorer_missing()
    if warning:
        print(f"[bench] {warning}", file=sys.stderr, flush=True)
    results = _header(args, argv)
    results["warnings"] = [warning] if warning else []
    names = ["project"] if args.only_project else ["project", "default"]
    _train_and_test_nlu(results, names)

    messages = patient_messages()
    busy = busy_ports(names, args.port_base)
    if busy:
        print(f"ports already in use: {busy} (use --port-base)", file=sys.stderr)
        return 2

    run = _Run(args, _assistants(args, names), messages)
    try:
        run.measure(results)
    finally:
        for a in run.assistants.values():
            a.stop()
    if not args.no_long:
        results["long"][STOCK] = _stock_long_conversation(args, messages)

    results.update(run.figures())
    results["bench_seconds"] = round(time.time() - started)
    _write(args, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
