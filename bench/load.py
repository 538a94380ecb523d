"""Closed-loop load generator for Rasa's REST channel (asyncio + aiohttp).

N clients, each a patient: it sends a message, waits for the answer, sends the next one. A
client starts a new conversation (a new sender id) every 5 to 8 messages, on a new HTTP
connection kept alive for that conversation (as one patient's browser would). The load is
bounded both in message count and in time, and the target must be a loopback address.

The messages are the texts of the held-out test files (tests/nlu/heldout.yml and
tests/questions/patient_questions.yml), written independently of the training data.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import random
import statistics
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

ROOT = Path(__file__).resolve().parent.parent
MESSAGE_FILES = (ROOT / "tests/nlu/heldout.yml", ROOT / "tests/questions/patient_questions.yml")


def patient_messages(files: tuple[Path, ...] = MESSAGE_FILES) -> list[str]:
    """Every example text of the held-out NLU file and of the patient question set."""
    texts: list[str] = []
    for path in files:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in data.get("nlu") or []:
            for line in str(block.get("examples") or "").splitlines():
                line = line.strip()
                if line.startswith("- ") and line[2:].strip():
                    texts.append(line[2:].strip())
        for case in (data.get("cases") or {}).values():
            texts.extend(str(t) for t in case.get("texts") or [] if str(t).strip())
    if not texts:
        raise ValueError("no patient messages found in " + ", ".join(map(str, files)))
    return texts


def check_loopback(url: str) -> None:
    """Refuse any target that is not on this machine's loopback interface."""
    host = urlparse(url).hostname or ""
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise ValueError(f"the load generator only targets loopback addresses, not {host!r}")


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) of values, by linear interpolation; 0 when empty."""
    if not values:
        return 0.0
    ordered = sorted(values)
    k = (len(ordered) - 1) * q / 100.0
    low = int(k)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


@dataclass
class LoadResult:
    messages: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # seconds, successful messages only
    client_cpu_seconds: float = 0.0  # CPU time of the load generator itself
    error_samples: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> dict[str, Any]:
        lat = self.latencies
        return {
            "messages": self.messages,
            "errors": self.errors,
            "seconds": round(self.seconds, 2),
            "messages_per_s": round(self.rate, 1),
            "p50_ms": round(percentile(lat, 50) * 1000, 1),
            "p95_ms": round(percentile(lat, 95) * 1000, 1),
            "p99_ms": round(percentile(lat, 99) * 1000, 1),
            "mean_ms": round(statistics.fmean(lat) * 1000, 1) if lat else 0.0,
            # share of one core the load generator used (it runs on the same machine)
            "client_cpu_share": round(self.client_cpu_seconds / self.seconds, 2)
            if self.seconds
            else 0.0,
        }

    def merge(self, other: LoadResult) -> None:
        self.messages += other.messages
        self.errors += other.errors
        self.seconds += other.seconds
        self.client_cpu_seconds += other.client_cpu_seconds
        self.latencies += other.latencies
        self.error_samples = (self.error_samples + other.error_samples)[:10]


async def ask(session: Any, url: str, sender: str, message: str) -> list[Any]:
    """One message over the REST channel; its answers. Raises on an HTTP error or no answer."""
    async with session.post(url, json={"sender": sender, "message": message}) as response:
        payload = await response.read()
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}: {payload[:120]!r}")
    answers = json.loads(payload or b"[]")
    if not answers:
        raise RuntimeError("empty answer")
    return answers


async def run_load(
    url: str,
    messages: list[str],
    *,
    clients: int = 20,
    max_messages: int = 2000,
    max_seconds: float = 30.0,
    conversation_length: tuple[int, int] = (5, 8),
    seed: int = 7,
    request_timeout: float = 30.0,
    prefix: str = "bench",
) -> LoadResult:
    """Closed loop: `clients` conversations in parallel until max_messages or max_seconds."""
    import aiohttp  # imported here so that the rest of the module works without it

    check_loopback(url)
    rng = random.Random(seed)
    result = LoadResult()
    budget = max_messages
    start = time.perf_counter()
    cpu_start = time.thread_time()
    deadline = start + max_seconds

    timeout = aiohttp.ClientTimeout(total=request_timeout)

    async def client(index: int) -> None:
        nonlocal budget
        local = random.Random(rng.random())
        sender, left = "", 0
        session: aiohttp.ClientSession | None = None
        try:
            while budget > 0 and time.perf_counter() < deadline:
                budget -= 1
                if left <= 0:
                    # a new patient: a new conversation on a new connection (kept alive for
                    # the conversation, as a browser would), so that a server with several
                    # worker processes sees its connections spread as they come
                    sender = f"{prefix}-{index}-{uuid.uuid4().hex[:10]}"
                    left = local.randint(*conversation_length)
                    if session is not None:
                        await session.close()
                    session = aiohttp.ClientSession(
                        timeout=timeout, connector=aiohttp.TCPConnector(limit=1)
                    )
                left -= 1
                assert session is not None
                t0 = time.perf_counter()
                try:
                    await ask(session, url, sender, local.choice(messages))
                    result.latencies.append(time.perf_counter() - t0)
                    result.messages += 1
                except Exception as exc:
                    result.errors += 1
                    if len(result.error_samples) < 10:
                        result.error_samples.append(f"{type(exc).__name__}: {exc}"[:200])
        finally:
            if session is not None:
                await session.close()

    await asyncio.gather(*(client(i) for i in range(clients)))
    result.seconds = time.perf_counter() - start
    result.client_cpu_seconds = time.thread_time() - cpu_start
    return result


async def run_long_conversation(
    url: str,
    messages: list[str],
    *,
    length: int = 250,
    seed: int = 11,
    max_seconds: float = 120.0,
    request_timeout: float = 30.0,
) -> dict[str, Any]:
    """One patient writing `length` messages in one conversation, one after the other."""
    import aiohttp

    check_loopback(url)
    rng = random.Random(seed)
    sender = f"bench-long-{uuid.uuid4().hex[:10]}"
    latencies: list[float] = []
    errors = 0
    start = time.perf_counter()
    timeout = aiohttp.ClientTimeout(total=request_timeout)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        for _ in range(length):
            if time.perf_counter() - start > max_seconds:
                break
            t0 = time.perf_counter()
            try:
                await ask(session, url, sender, rng.choice(messages))
                latencies.append(time.perf_counter() - t0)
            except Exception:
                errors += 1
    seconds = time.perf_counter() - start
    first, last = latencies[:20], latencies[-20:]
    return {
        "messages": len(latencies),
        "errors": errors,
        "messages_per_s": round(len(latencies) / seconds, 1) if seconds else 0.0,
        "p50_ms": round(percentile(latencies, 50) * 1000, 1),
        "first20_p50_ms": round(percentile(first, 50) * 1000, 1),
        "last20_p50_ms": round(percentile(last, 50) * 1000, 1),
    }
