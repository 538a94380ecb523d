"""`python -m bench.profile`: profile Rasa's message path under load with pyinstrument.

Starts `rasa run` (the project's model and endpoints, on 127.0.0.1, its own tracker DB) under
pyinstrument, sends the closed-loop load of the benchmark (20 conversations by default), stops
Rasa with SIGINT and writes var/bench/profile.pyisession plus two text views of the call tree:
var/bench/profile-tree.txt (the project's and Rasa's frames) and var/bench/profile-all.txt
(every frame). Re-render with `pyinstrument --load var/bench/profile.pyisession`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from bench.load import ROOT, patient_messages, run_load
from bench.procs import BENCH_DIR, bench_endpoints, post


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "crisis.tar.gz")
    parser.add_argument("--port", type=int, default=5405)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--stock-tracker-store", action="store_true")
    parser.add_argument("--tracker-store", help="another tracker store class (module.Class)")
    args = parser.parse_args(argv)
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    endpoints = bench_endpoints(
        "profile",
        args.port + 50,
        stock_tracker_store=args.stock_tracker_store,
        store_type=args.tracker_store,
    )
    session = BENCH_DIR / "profile.pyisession"
    pyinstrument = str(Path(sys.executable).with_name("pyinstrument"))
    argv_ = [pyinstrument, "-r", "session", "-o", str(session), "-m", "rasa", "run",
             "--model", str(args.model), "--endpoints", str(endpoints),
             "--credentials", str(ROOT / "credentials.yml"),
             "--port", str(args.port), "--interface", "127.0.0.1"]  # fmt: skip
    env = {
        **os.environ,
        "RASA_TELEMETRY_ENABLED": "false",
        "TRACKER_DATABASE_URL": f"sqlite:///{BENCH_DIR / 'profile-tracker.db'}",
    }
    url = f"http://127.0.0.1:{args.port}/webhooks/rest/webhook"
    with open(BENCH_DIR / "profile.log", "wb") as log:
        proc = subprocess.Popen(argv_, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                if post(url, "profile-warmup", "bonjour"):
                    break
            except OSError:
                time.sleep(0.3)
        result = asyncio.run(
            run_load(url, patient_messages(), clients=args.clients,
                     max_messages=args.messages, max_seconds=args.seconds)
        )  # fmt: skip
        print(result.summary())
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
    for name, options in (("tree", []), ("all", ["--show-all"])):
        out = BENCH_DIR / f"profile-{name}.txt"
        subprocess.run(
            [pyinstrument, "--load", str(session), "-r", "text", "--no-color", "-o", str(out),
             *options],
            check=False,
        )  # fmt: skip
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
