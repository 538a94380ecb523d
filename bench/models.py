"""Training (only when needed, timed) and held-out NLU scores of the benchmarked models."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.load import ROOT
from bench.procs import BENCH_DIR

RASA = str(Path(sys.executable).with_name("rasa"))
HELDOUT = ROOT / "tests" / "nlu" / "heldout.yml"
DEFAULT_CONFIG = ROOT / "bench" / "default_config.yml"
DEFAULT_MODEL = ROOT / "models" / "default.tar.gz"
PROJECT_CONFIG = ROOT / "config.yml"
PROJECT_MODEL = ROOT / "models" / "crisis.tar.gz"


def rasa_env() -> dict[str, str]:
    # no telemetry; no training cache, so that a training time is the real one
    return {
        **os.environ,
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "RASA_MAX_CACHE_SIZE": "0",
    }


def inputs_hash(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    files: list[Path] = []
    for p in paths:
        files += sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p]
    for f in files:
        if "__pycache__" in f.parts:
            continue
        digest.update(str(f.relative_to(ROOT)).encode())
        digest.update(f.read_bytes())
    return digest.hexdigest()


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _load(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def timed_training(config: Path, out_dir: Path, name: str, log: Path) -> float:
    """`rasa train` on the project's domain and data; wall-clock seconds."""
    out_dir.mkdir(parents=True, exist_ok=True)
    # Rasa writes the defaults it filled in back into the config file: train from a copy.
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    copy = BENCH_DIR / f"config-{name}.yml"
    shutil.copyfile(config, copy)
    argv = [RASA, "train", "--config", str(copy), "--domain", "domain", "--data", "data",
            "--out", str(out_dir), "--fixed-model-name", name]  # fmt: skip
    t0 = time.perf_counter()
    with open(log, "wb") as f:
        subprocess.run(
            argv, cwd=ROOT, env=rasa_env(), stdout=f, stderr=subprocess.STDOUT, check=True
        )
    return time.perf_counter() - t0


def default_model(force: bool = False) -> dict[str, Any]:
    """models/default.tar.gz, trained only when its inputs changed; its training time."""
    record_path = BENCH_DIR / "train-default.json"
    key = inputs_hash([DEFAULT_CONFIG, ROOT / "domain", ROOT / "data"])
    record = _load(record_path)
    if not force and DEFAULT_MODEL.exists() and record.get("inputs") == key:
        return {**record, "trained_now": False}
    print("[bench] training Rasa's default configuration (DIET, TED: several minutes)", flush=True)
    seconds = timed_training(
        DEFAULT_CONFIG, DEFAULT_MODEL.parent, "default", BENCH_DIR / "train-default.log"
    )
    record = {"inputs": key, "seconds": round(seconds, 1), "date": time.strftime("%Y-%m-%d %H:%M")}
    record_path.write_text(json.dumps(record), encoding="utf-8")
    return {**record, "trained_now": True}


def project_training_time(force: bool = False) -> dict[str, Any]:
    """The project's configuration trained from scratch (no cache) into var/bench/: its time.

    The served model stays models/crisis.tar.gz (`make train`); this only measures."""
    record_path = BENCH_DIR / "train-crisis.json"
    key = inputs_hash([PROJECT_CONFIG, ROOT / "domain", ROOT / "data", ROOT / "bot"])
    record = _load(record_path)
    if not force and record.get("inputs") == key:
        return {**record, "trained_now": False}
    print("[bench] timing a training of the project's configuration", flush=True)
    out = BENCH_DIR / "train"
    seconds = timed_training(PROJECT_CONFIG, out, "crisis", BENCH_DIR / "train-crisis.log")
    shutil.rmtree(out, ignore_errors=True)
    record = {"inputs": key, "seconds": round(seconds, 1), "date": time.strftime("%Y-%m-%d %H:%M")}
    record_path.write_text(json.dumps(record), encoding="utf-8")
    return {**record, "trained_now": True}


def nlu_scores(model: Path, name: str) -> dict[str, Any]:
    """Macro F1 and accuracy of a model on tests/nlu/heldout.yml (`rasa test nlu`), cached."""
    record_path = BENCH_DIR / f"nlu-{name}.json"
    key = file_hash(model) + file_hash(HELDOUT)
    record = _load(record_path)
    if record.get("key") == key:
        return record
    print(f"[bench] rasa test nlu: {name}", flush=True)
    out = BENCH_DIR / f"nlu-{name}"
    shutil.rmtree(out, ignore_errors=True)
    argv = [RASA, "test", "nlu", "--model", str(model), "--nlu", str(HELDOUT), "--out", str(out)]
    with open(BENCH_DIR / f"nlu-{name}.log", "wb") as f:
        subprocess.run(
            argv, cwd=ROOT, env=rasa_env(), stdout=f, stderr=subprocess.STDOUT, check=True
        )
    report = json.loads((out / "intent_report.json").read_text(encoding="utf-8"))
    record = {
        "key": key,
        "macro_f1": round(report["macro avg"]["f1-score"], 3),
        "weighted_f1": round(report["weighted avg"]["f1-score"], 3),
        "accuracy": round(report["accuracy"], 3),
        "examples": int(report["macro avg"]["support"]),
    }
    record_path.write_text(json.dumps(record), encoding="utf-8")
    return record
