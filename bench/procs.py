"""Starting an assistant for the benchmark, timing its cold start, sampling its memory."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bench.load import ROOT

BENCH_DIR = ROOT / "var" / "bench"


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as f:
                stat = f.read()
        except OSError:
            continue
        # the command name may hold spaces and parentheses: the ppid follows the last ')'
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    return children


def process_tree(pid: int) -> list[int]:
    """pid and all its descendants."""
    children = _children_map()
    tree, todo = [], [pid]
    while todo:
        p = todo.pop()
        tree.append(p)
        todo.extend(children.get(p, []))
    return tree


def rss_bytes(pid: int) -> int:
    """Resident memory of one process (psutil when installed, else /proc)."""
    try:
        import psutil  # type: ignore[import-not-found]

        return int(psutil.Process(pid).memory_info().rss)
    except ImportError:
        pass
    except Exception:
        return 0
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def pss_bytes(pid: int) -> int:
    """Proportional set size: shared pages divided among the processes that share them."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="utf-8") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def process_label(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return str(pid)
    if "rasa_sdk" in argv:
        return "actions (rasa_sdk)"
    if "rasa" in argv and "run" in argv:
        return "rasa"
    if "bot" in argv and "run" in argv:
        return "supervisor (python -m bot run)"
    if "web" in argv:
        return "web"
    return " ".join(argv)[:60]


class MemorySampler(threading.Thread):
    """Samples the memory of a process tree while `active`; keeps the peaks.

    RSS every `interval` seconds (cheap: /proc/PID/status). PSS (/proc/PID/smaps_rollup) only
    every `pss_every` samples: the kernel walks the page tables of each process for it, about
    30 ms for the project's tree, holding each process's memory map lock meanwhile. Sampled at
    the RSS rate, it took a fifth of a core from the assistant being measured."""

    def __init__(self, pid: int, interval: float = 0.25, pss_every: int = 8) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.pss_every = max(pss_every, 1)
        self.peak_total = 0
        self.peak_total_pss = 0
        self.peaks: dict[int, int] = {}
        self.labels: dict[int, str] = {}
        self.active = threading.Event()
        self.active.set()
        self._stop_event = threading.Event()
        self._samples = 0

    def run(self) -> None:
        while not self._stop_event.is_set():
            if self.active.is_set():
                self.sample()
            self._stop_event.wait(self.interval)

    def sample(self) -> None:
        total = total_pss = 0
        with_pss = self._samples % self.pss_every == 0
        self._samples += 1
        for pid in process_tree(self.pid):
            rss = rss_bytes(pid)
            total += rss
            if with_pss:
                total_pss += pss_bytes(pid)
            if rss > self.peaks.get(pid, 0):
                self.peaks[pid] = rss
                self.labels.setdefault(pid, process_label(pid))
        self.peak_total = max(self.peak_total, total)
        self.peak_total_pss = max(self.peak_total_pss, total_pss)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=2)

    def report(self) -> dict[str, Any]:
        per = {}
        for pid, peak in sorted(self.peaks.items()):
            per[f"{self.labels.get(pid, pid)} [{pid}]"] = round(peak / 2**20, 1)
        return {
            "peak_total_mib": round(self.peak_total / 2**20, 1),
            "peak_total_pss_mib": round(self.peak_total_pss / 2**20, 1),
            "peak_per_process_mib": per,
        }


def bench_endpoints(
    name: str, actions_port: int, *, stock_tracker_store: bool, store_type: str | None = None
) -> Path:
    """The project's endpoints.yml with this instance's action port and its own tracker DB.

    With stock_tracker_store, Rasa's own SQLTrackerStore (SQLite) replaces the project's."""
    endpoints = yaml.safe_load((ROOT / "endpoints.yml").read_text(encoding="utf-8")) or {}
    endpoints["action_endpoint"] = {"url": f"http://127.0.0.1:{actions_port}/webhook"}
    db = BENCH_DIR / f"{name}-tracker.db"
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    store = dict(endpoints.get("tracker_store") or {})
    if stock_tracker_store or not store:
        store = {"type": "SQL", "dialect": "sqlite"}
    if store_type:
        store = {"type": store_type, "dialect": "sqlite"}
    store["db"] = str(db.relative_to(ROOT))
    endpoints["tracker_store"] = store
    path = BENCH_DIR / f"endpoints-{name}.yml"
    path.write_text(yaml.safe_dump(endpoints, sort_keys=False), encoding="utf-8")
    return path


def post(url: str, sender: str, message: str, timeout: float = 10.0) -> list[dict[str, Any]]:
    body = json.dumps({"sender": sender, "message": message}).encode()
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read().decode() or "[]")


@dataclass
class Assistant:
    """One instance of the assistant, started with the project's own command."""

    name: str
    model: Path
    rasa_port: int
    actions_port: int
    stock_tracker_store: bool = False
    process: subprocess.Popen | None = None
    sampler: MemorySampler | None = None
    cold_start_s: float | None = None
    log: Path | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    workers: int = 1
    lock_store_url: str = ""
    web_port: int | None = None  # also start the web app (public page, agents' console)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}/webhooks/rest/webhook"

    def command(self) -> list[str]:
        endpoints = bench_endpoints(
            self.name, self.actions_port, stock_tracker_store=self.stock_tracker_store
        )
        return [
            sys.executable, "-m", "bot", "run",
            "--model", str(self.model),
            "--endpoints", str(endpoints),
            "--rasa-port", str(self.rasa_port),
            "--actions-port", str(self.actions_port),
            "--interface", "127.0.0.1",
            *(["--web-port", str(self.web_port)] if self.web_port else ["--no-web"]),
            "--workers", str(self.workers),
        ]  # fmt: skip

    def start(self, timeout: float = 300.0) -> float:
        """Start, wait for the first answer; returns the cold start in seconds."""
        BENCH_DIR.mkdir(parents=True, exist_ok=True)
        argv = self.command()
        self.log = BENCH_DIR / f"{self.name}.log"
        env = {
            **os.environ,
            "RASA_TELEMETRY_ENABLED": "false",
            # the project's store takes its database from the settings (bot/settings.py)
            "TRACKER_DATABASE_URL": f"sqlite:///{BENCH_DIR / f'{self.name}-tracker.db'}",
            "LOCK_STORE_URL": self.lock_store_url,
            "WEB_HOST": "127.0.0.1",
            **self.extra_env,
        }
        with open(self.log, "wb") as log:
            t0 = time.perf_counter()
            self.process = subprocess.Popen(
                argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        self.sampler = MemorySampler(self.process.pid)
        self.sampler.start()
        deadline = t0 + timeout
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited early; see {self.log}")
            try:
                if post(self.url, "bench-coldstart", "bonjour", timeout=5):
                    self.cold_start_s = time.perf_counter() - t0
                    return self.cold_start_s
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} gave no answer within {timeout:.0f} s; see {self.log}")

    def stop(self) -> None:
        if self.process is None:
            return
        descendants = [p for p in process_tree(self.process.pid) if p != self.process.pid]
        if self.sampler is not None:
            self.sampler.sample()
            self.sampler.stop()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # the supervisor stops its services
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        # a service the supervisor could not stop: only ours (same ports in its command line)
        for pid in descendants:
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if str(self.rasa_port) in cmdline or str(self.actions_port) in cmdline:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
