"""`python -m bot run`: start every service of the assistant in the foreground.

- the action server (rasa-sdk) on 127.0.0.1:5055: its webhook has no authentication, so it
  listens on the loopback interface only;
- Rasa on :5005 (REST, Socket.IO and SMS channels, and the classification for the agents'
  console behind RASA_TOKEN), answers from the live content file; Rasa's full HTTP API stays
  off unless `--enable-api` is given (it would let the token's holder read every conversation);
  `--workers N` (RASA_WORKERS) runs N Rasa processes on that port; they share the
  conversation locks (a lock file by default, or Redis: LOCK_STORE_URL, bot/stores/lock_store.py);
- the web app on :8080 (public page, agents' console), when it is installed.

Ctrl-C (or SIGTERM) stops them all. A service that dies is started again (the others keep
answering meanwhile); one that dies 5 times within a minute is broken, not unlucky: then every
service is stopped and the exit status says so, rather than leaving a half-working assistant.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from bot.settings import ROOT, get_settings, workers_lock_store_error

# One thread per process for the math libraries (OpenBLAS, OpenMP, MKL) under numpy and
# scikit-learn: the assistant's parallelism is its worker processes and their concurrent
# conversations. By default each library starts one thread per core, which spin-wait after every
# tiny product (a message's scores): measured in one process over the patient messages, 5.5 ms
# of CPU per message against 3.6 ms with one thread, for the same answers and the same wall
# time; on a 2-core machine with 2 workers, that CPU is taken from the other worker. A value set
# in the environment is kept.
SINGLE_THREADED_MATH = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

MAX_RESTARTS = 5
RESTART_WINDOW_SECONDS = 60.0


@dataclass
class Service:
    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen | None = None
    restarts: list[float] = field(default_factory=list)

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
            self.argv, cwd=ROOT, env={**os.environ, **self.env}, start_new_session=True
        )
        print(f"[run] {self.name} started (pid {self.process.pid})", flush=True)

    def may_restart(self, now: float) -> bool:
        """False once it died MAX_RESTARTS times within RESTART_WINDOW_SECONDS."""
        self.restarts = [t for t in self.restarts if now - t < RESTART_WINDOW_SECONDS]
        self.restarts.append(now)
        return len(self.restarts) <= MAX_RESTARTS


def _python() -> str:
    return sys.executable


def build_services(args: argparse.Namespace) -> list[Service]:
    settings = get_settings()
    python = _python()
    services = [
        Service(
            "actions",
            [python, "-m", "rasa_sdk", "--actions", "actions", "--port", str(args.actions_port)],
            env={"SANIC_HOST": "127.0.0.1"},
        ),
    ]
    rasa_argv = [
        python,
        "-m",
        "rasa",
        "run",
        "--model",
        str(args.model),
        "--endpoints",
        str(args.endpoints),
        "--credentials",
        str(args.credentials),
        "--port",
        str(args.rasa_port),
        "--interface",
        args.interface,
    ]
    if args.enable_api:
        rasa_argv += ["--enable-api", "--auth-token", settings.rasa_token]
    services.append(
        Service(
            "rasa",
            rasa_argv,
            env={
                **{name: os.environ.get(name, "1") for name in SINGLE_THREADED_MATH},
                "ACTION_SERVER_URL": f"http://127.0.0.1:{args.actions_port}/webhook",
                # Sanic worker processes sharing the port (Rasa reads SANIC_WORKERS)
                "SANIC_WORKERS": str(args.workers),
            },
        )
    )
    if not args.no_web and importlib.util.find_spec("bot.web.server") is not None:
        services.append(
            Service(
                "web",
                [python, "-m", "bot", "web", "--port", str(args.web_port)],
                env={"RASA_URL": f"http://127.0.0.1:{args.rasa_port}"},
            )
        )
    return services


def wait_until_up(url: str, timeout: float, procs: list[Service]) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(s.process is not None and s.process.poll() is not None for s in procs):
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as r:  # noqa: S310 (loopback URL)
                if r.status < 500:
                    return True
        except OSError:
            pass
        time.sleep(0.3)
    return False


def stop_all(services: list[Service], grace: float = 10.0) -> None:
    for s in services:
        if s.process is not None and s.process.poll() is None:
            try:
                os.killpg(s.process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + grace
    for s in services:
        if s.process is None:
            continue
        try:
            s.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            try:
                os.killpg(s.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            s.process.wait()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot run", description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "crisis.tar.gz")
    parser.add_argument("--endpoints", type=Path, default=ROOT / "endpoints.yml")
    parser.add_argument("--credentials", type=Path, default=ROOT / "credentials.yml")
    parser.add_argument("--rasa-port", type=int, default=5005)
    parser.add_argument(
        "--interface",
        default="0.0.0.0",
        help="address Rasa listens on (127.0.0.1: this machine only)",
    )
    parser.add_argument("--actions-port", type=int, default=5055)
    parser.add_argument("--web-port", type=int, default=get_settings().web_port)
    parser.add_argument("--no-web", action="store_true", help="do not start the web app")
    parser.add_argument(
        "--enable-api",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="Rasa's full HTTP API, behind RASA_TOKEN (off by default: the agents' console only "
        "needs POST /webhooks/nlu/parse)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=get_settings().rasa_workers,
        help="Rasa worker processes sharing the port (default RASA_WORKERS, else one per core, "
        "two at most)",
    )
    parser.add_argument("--ready-timeout", type=float, default=120.0)
    return parser


def usage_error(args: argparse.Namespace) -> str | None:
    """Why the services cannot be started with these arguments (exit status 2), or None.

    Checked before anything starts: several workers without a shared lock store would answer
    one conversation twice at once, and without a model Rasa would only die and be restarted."""
    if args.workers < 1:
        return "--workers must be at least 1"
    error = workers_lock_store_error(args.workers, get_settings().lock_store_url)
    if error:
        return error
    if not args.model.exists():
        return f"no trained model at {args.model}: run `make train` first"
    return None


def ready_line(args: argparse.Namespace, services: list[Service]) -> str:
    """The line that tells where to talk to the assistant once Rasa answers (the web app's
    address only when it was started: it is the third service)."""
    return f"[run] ready: REST http://localhost:{args.rasa_port}/webhooks/rest/webhook" + (
        f", web http://localhost:{args.web_port}/" if len(services) > 2 else ""
    )


class StopRequest:
    """The SIGINT / SIGTERM handler: it only records the request, the supervision loop then
    stops every service (a handler that stopped them could run in the middle of a restart)."""

    def __init__(self) -> None:
        self.requested = False

    def __call__(self, signum: int, _frame: object) -> None:
        self.requested = True


def restart_dead(services: list[Service]) -> int:
    """One look at the services: each one that died is started again. 1 when one keeps failing
    (MAX_RESTARTS within the window: then it is broken, not unlucky), else 0."""
    for s in services:
        if s.process is None or s.process.poll() is None:
            continue
        print(f"[run] {s.name} stopped (exit {s.process.returncode})", file=sys.stderr)
        if not s.may_restart(time.monotonic()):
            print(f"[run] {s.name} keeps failing: stopping", file=sys.stderr)
            return 1
        s.start()
    return 0


def supervise(services: list[Service], stop: StopRequest) -> int:
    """Keep the services running until a stop is requested (0) or one keeps failing (1)."""
    status = 0
    while not stop.requested and status == 0:
        status = restart_dead(services)
        time.sleep(0.5)
    return status


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    error = usage_error(args)
    if error:
        print(error, file=sys.stderr)
        return 2

    services = build_services(args)
    stop = StopRequest()
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)

    (ROOT / "var").mkdir(exist_ok=True)
    for s in services:
        s.start()

    rasa_url = f"http://127.0.0.1:{args.rasa_port}/"
    if wait_until_up(rasa_url, args.ready_timeout, services):
        print(ready_line(args, services), flush=True)
    try:
        return supervise(services, stop)
    finally:
        print("[run] stopping every service", flush=True)
        stop_all(services)
