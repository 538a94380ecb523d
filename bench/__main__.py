"""`python -m bench` (`make bench`): the project's assistant against Rasa's default configuration.

1. trains Rasa's default configuration on the project's data and domain when needed
   (models/default.tar.gz) and times a training of both configurations;
2. scores both models on the held-out NLU file (`rasa test nlu`);
3. starts both assistants with the project's command (`python -m bot run`), on other ports,
   loopback only, and times their cold start (command -> first answer);
4. runs the closed-loop load (N conversations, a new one every 5-8 messages) against each, in
   alternating rounds, while sampling the memory of every process of each assistant;
5. scores both with the development question set and the patient question set;
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
from pathlib import Path
from typing import Any

from bench import models, report
from bench.load import LoadResult, patient_messages, run_load, run_long_conversation
from bench.procs import BENCH_DIR, Assistant

SCORER = Path("/work/shared/eval/score.py")
QUESTION_SETS = {
    "dev": None,  # the scorer's own development set
    "patient": models.ROOT / "tests" / "questions" / "patient_questions.yml",
}


def port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def score_questions(url: str, question_set: Path | None) -> dict[str, Any]:
    if not SCORER.exists():
        return {"score": "scorer not found"}
    argv = [sys.executable, str(SCORER), "--url", url, "--out", str(BENCH_DIR / "score.txt")]
    if question_set is not None:
        argv += ["--set", str(question_set)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False)
    line = next((x for x in reversed(done.stdout.splitlines()) if x.startswith("score:")), "")
    m = re.search(r"score: (\d+)/(\d+) = ([\d.]+)%", line)
    return {
        "line": line.removeprefix("score: "),
        "passed": int(m.group(1)) if m else None,
        "total": int(m.group(2)) if m else None,
    }


def main(argv: list[str] | None = None) -> int:
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
    args = parser.parse_args(argv)
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    started = time.time()
    try:  # the load generator shares the machine: keep it light (libuv's event loop)
        import uvloop

        uvloop.install()
    except ImportError:
        pass

    if not models.PROJECT_MODEL.exists():
        print("no models/crisis.tar.gz: run `make train` first", file=sys.stderr)
        return 2
    results: dict[str, Any] = {
        "command": " ".join(
            ["make bench:", ".venv/bin/python -m bench", *(sys.argv[1:] if argv is None else argv)]
        ),
        "args": {k: str(v) for k, v in vars(args).items()},
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "machine": report.machine(),
    }
    names = ["project"] if args.only_project else ["project", "default"]
    model_of = {"project": models.PROJECT_MODEL, "default": models.DEFAULT_MODEL}
    results["training"] = {"project": models.project_training_time()}
    if "default" in names:
        results["training"]["default"] = models.default_model()
    results["nlu"] = {name: models.nlu_scores(model_of[name], name) for name in names}

    messages = patient_messages()
    base = args.port_base
    ports = {"project": (base + 5, base + 55), "default": (base + 105, base + 155),
             "unbounded": (base + 205, base + 255)}  # fmt: skip
    web_port = base + 80  # the project's web app: counted in "the whole assistant"
    busy = [p for n in [*names, "unbounded"] for p in ports[n] if not port_free(p)]
    busy += [] if port_free(web_port) else [web_port]
    if busy:
        print(f"ports already in use: {busy} (use --port-base)", file=sys.stderr)
        return 2

    assistants = {
        n: Assistant(n, model_of[n], *ports[n], stock_tracker_store=(n == "default")) for n in names
    }
    project = assistants["project"]
    project.workers = max(args.workers, 1)
    project.lock_store_url = args.lock_store_url
    project.web_port = web_port
    if "default" in assistants:  # Rasa's own default: its in-memory lock store, one process
        assistants["default"].lock_store_url = "memory"
    loads = {n: LoadResult() for n in names}
    rounds: list[dict[str, Any]] = []
    try:
        for name, a in assistants.items():
            print(f"[bench] starting {name} ...", flush=True)
            print(f"[bench] {name}: first answer after {a.start():.1f} s", flush=True)
        for name, a in assistants.items():  # warm-up, not counted
            asyncio.run(run_load(a.url, messages, clients=args.clients, max_messages=100,
                                 max_seconds=30, prefix=f"warm-{name}"))  # fmt: skip
        for r in range(args.rounds):
            order = names if r % 2 == 0 else names[::-1]
            for name in order:
                # only the assistant under load is sampled (sampling costs CPU)
                for other, a in assistants.items():
                    if a.sampler is not None:
                        (a.sampler.active.set if other == name else a.sampler.active.clear)()
                res = asyncio.run(
                    run_load(assistants[name].url, messages, clients=args.clients,
                             max_messages=args.round_messages, max_seconds=args.round_seconds,
                             seed=100 + r, prefix=f"r{r}-{name}")
                )  # fmt: skip
                loads[name].merge(res)
                rounds.append({"round": r + 1, "assistant": name, **res.summary()})
                print(f"[bench] round {r + 1} {name}: {res.summary()}", flush=True)
        for a in assistants.values():
            if a.sampler is not None:
                a.sampler.active.set()
        if not args.no_score:
            results["questions"] = {
                name: {s: score_questions(a.url, path) for s, path in QUESTION_SETS.items()}
                for name, a in assistants.items()
            }
        if not args.no_long:
            results["long"] = {}
            for name, a in assistants.items():
                results["long"][name] = asyncio.run(
                    run_long_conversation(a.url, messages, length=args.long_length)
                )
                print(f"[bench] long conversation {name}: {results['long'][name]}", flush=True)
    finally:
        for a in assistants.values():
            a.stop()
    if not args.no_long:
        # the same model with Rasa's stock SQL tracker store: what bounding the conversation buys
        stock = Assistant(
            "unbounded", models.PROJECT_MODEL, *ports["unbounded"], stock_tracker_store=True
        )
        try:
            stock.start()
            results["long"]["project, stock tracker store"] = asyncio.run(
                run_long_conversation(stock.url, messages, length=args.long_length)
            )
            print(
                f"[bench] long conversation, stock store: {results['long']['project, stock tracker store']}"
            )
        finally:
            stock.stop()

    results["load"] = {
        n: {**loads[n].summary(), "errors_sample": loads[n].error_samples} for n in names
    }
    results["rounds"] = rounds
    results["cold_start_s"] = {n: round(a.cold_start_s or 0, 1) for n, a in assistants.items()}
    results["memory"] = {n: a.sampler.report() if a.sampler else {} for n, a in assistants.items()}
    results["bench_seconds"] = round(time.time() - started)
    (BENCH_DIR / "results.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    if not args.only_project:
        args.out.write_text(report.markdown(results), encoding="utf-8")
        print(f"[bench] wrote {args.out}")
    print(report.summary(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
