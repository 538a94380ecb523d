"""bench/: the load generator's bounds and conversations, and the report (no Rasa started)."""

from __future__ import annotations

import collections

import pytest
from aiohttp import web

from bench import report
from bench.load import check_loopback, patient_messages, percentile, run_load


def test_percentiles():
    assert percentile([], 95) == 0.0
    assert percentile([3.0], 50) == 3.0
    values = [float(i) for i in range(1, 101)]
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile(values, 95) == pytest.approx(95.05)
    assert percentile(values, 100) == 100.0


def test_only_loopback_targets():
    for url in (
        "http://127.0.0.1:5005/x",
        "http://localhost:1/",
        "http://[::1]:80/",
        "http://127.8.0.1/",
    ):
        check_loopback(url)
    for url in (
        "http://10.0.0.1/",
        "http://192.168.1.2:5005/",
        "http://example.org/",
        "http://8.8.8.8/",
    ):
        with pytest.raises(ValueError):
            check_loopback(url)


def test_messages_come_from_the_held_out_files():
    messages = patient_messages()
    assert len(messages) > 300
    assert all(m.strip() for m in messages)


@pytest.fixture
async def echo_server(unused_tcp_port):
    seen: list[tuple[str, str]] = []

    async def webhook(request: web.Request) -> web.Response:
        body = await request.json()
        seen.append((body["sender"], body["message"]))
        if body["message"] == "boom":
            return web.json_response([], status=500)
        return web.json_response([{"recipient_id": body["sender"], "text": "ok"}])

    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", unused_tcp_port).start()
    yield f"http://127.0.0.1:{unused_tcp_port}/webhooks/rest/webhook", seen
    await runner.cleanup()


async def test_closed_loop_bounded_in_count_with_short_conversations(echo_server):
    url, seen = echo_server
    result = await run_load(url, ["bonjour", "merci"], clients=4, max_messages=120, max_seconds=30)
    assert result.messages == 120 and result.errors == 0 and len(seen) == 120
    per_sender = collections.Counter(sender for sender, _ in seen)
    assert len(per_sender) >= 120 // 8
    assert all(n <= 8 for n in per_sender.values())
    assert sorted(per_sender.values())[-1] >= 5
    assert result.summary()["p95_ms"] >= result.summary()["p50_ms"] > 0


async def test_closed_loop_bounded_in_time_and_counting_errors(echo_server):
    url, _ = echo_server
    result = await run_load(url, ["boom"], clients=2, max_messages=10**6, max_seconds=0.5)
    assert result.messages == 0 and result.errors > 0
    assert result.seconds < 5
    assert "HTTP 500" in result.error_samples[0]


def test_report_names_the_targets():
    load = {"messages_per_s": 200.0, "messages": 4000, "errors": 0, "p50_ms": 90.0,
            "p95_ms": 140.0, "p99_ms": 180.0}  # fmt: skip
    results = {
        "machine": report.machine(),
        "date": "today",
        "command": "make bench",
        "args": {"clients": "20", "rounds": "3", "round_seconds": "20", "long_length": "250"},
        "load": {"project": load, "default": {**load, "messages_per_s": 20.0}},
        "memory": {n: {"peak_total_mib": 600.0, "peak_total_pss_mib": 500.0,
                       "peak_per_process_mib": {"rasa [1]": 550.0}} for n in ("project", "default")},
        "cold_start_s": {"project": 6.0, "default": 19.0},
        "training": {"project": {"seconds": 20.0}, "default": {"seconds": 500.0}},
        "nlu": {n: {"macro_f1": 0.97, "accuracy": 0.97} for n in ("project", "default")},
        "rounds": [],
    }  # fmt: skip
    text = report.markdown(results)
    assert "10.0x" in text
    assert "| throughput >= 10x the default configuration | 10.0x | yes |" in text
    assert "| p95 latency < 150 ms at 20 conversations | 140 ms | yes |" in text
