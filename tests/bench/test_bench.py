"""bench/: the load generator's bounds and conversations, and the report (no Rasa started)."""

from __future__ import annotations

import collections

import pytest
from aiohttp import web

import bench.__main__ as bench_main
from bench import report
from bench.load import check_loopback, patient_messages, percentile, run_load
from bot import settings
from bot.settings import SHARED_DIR


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


LOAD = {"messages_per_s": 200.0, "messages": 4000, "errors": 0, "p50_ms": 90.0,
        "p95_ms": 140.0, "p99_ms": 180.0}  # fmt: skip
REPORT_RESULTS = {
    "machine": report.machine(),
    "date": "today",
    "command": "make bench",
    "args": {"clients": "20", "rounds": "3", "round_seconds": "20", "long_length": "250"},
    "load": {"project": LOAD, "default": {**LOAD, "messages_per_s": 20.0}},
    "memory": {n: {"peak_total_mib": 600.0, "peak_total_pss_mib": 500.0,
                   "peak_per_process_mib": {"rasa [1]": 550.0}} for n in ("project", "default")},
    "cold_start_s": {"project": 6.0, "default": 19.0},
    "training": {"project": {"seconds": 20.0}, "default": {"seconds": 500.0}},
    "nlu": {n: {"macro_f1": 0.97, "accuracy": 0.97} for n in ("project", "default")},
    "rounds": [],
}  # fmt: skip


def test_report_names_the_targets():
    results = REPORT_RESULTS
    text = report.markdown(results)
    assert "10.0x" in text
    assert "| throughput >= 10x the default configuration | 10.0x | yes |" in text
    assert "| p95 latency < 150 ms at 20 conversations | 140 ms | yes |" in text


def test_the_scorer_is_in_the_shared_folder(monkeypatch, tmp_path):
    assert bench_main.SCORER == SHARED_DIR / "eval" / "score.py"
    monkeypatch.setenv("SHARED_DIR", str(tmp_path))  # the environment wins over .env
    assert settings._shared_dir() == tmp_path


def test_a_missing_scorer_is_said_and_nothing_is_scored(monkeypatch, tmp_path):
    missing = tmp_path / "eval" / "score.py"
    monkeypatch.setattr(bench_main, "SCORER", missing)
    warning = bench_main.scorer_missing()
    assert warning and "NOT scored" in warning and str(missing) in warning
    assert bench_main.score_questions("http://127.0.0.1:1/", None) == {
        "line": f"not scored: no scorer at {missing}",
        "passed": None,
        "total": None,
    }
    missing.parent.mkdir()
    missing.write_text("", encoding="utf-8")
    assert bench_main.scorer_missing() is None


def test_the_scorers_last_score_line_is_read():
    out = "score: 1/2 = 50.0%\nemergency 6/6\nscore: 54/55 = 98.2%; emergency 6/6\n"
    assert bench_main.parse_score(out) == {
        "line": "54/55 = 98.2%; emergency 6/6",
        "passed": 54,
        "total": 55,
    }
    assert bench_main.parse_score("Traceback ...") == {"line": "", "passed": None, "total": None}


def test_every_port_of_the_run_is_checked_before_anything_starts():
    ports = bench_main.port_plan(6100)
    assert ports == {"project": (6105, 6155), "default": (6205, 6255), "unbounded": (6305, 6355)}
    assert bench_main.busy_ports(["project", "default"], 6100, free=lambda port: True) == []
    taken = {6155, 6180, 6205}
    assert bench_main.busy_ports(["project"], 6100, free=lambda p: p not in taken) == [6155, 6180]
    assert bench_main.busy_ports(["project", "default"], 6100, free=lambda p: p not in taken) == [
        6155,
        6205,
        6180,
    ]


def test_the_report_and_the_summary_say_what_was_not_measured():
    warning = "WARNING: no scorer at /nowhere/eval/score.py: the question sets are NOT scored"
    results = {**REPORT_RESULTS, "warnings": [warning]}
    assert f"**{warning}**" in report.markdown(results)
    assert report.summary(results).splitlines()[0] == f"[bench] {warning}"
    assert "WARNING" not in report.markdown(REPORT_RESULTS) + report.summary(REPORT_RESULTS)
