"""The whole assistant, started once for the live end-to-end tests.

`python -m bot run` on test ports (Rasa, action server, web app), with its own content copy,
database and tracker store in a temporary folder, so that the tests never touch the developer's
data and can edit the answers file while the assistant runs.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from bot.settings import ROOT

MODEL = ROOT / "models" / "crisis.tar.gz"


@dataclass
class LiveStack:
    workdir: Path
    rasa_port: int
    actions_port: int
    web_port: int
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen | None = None
    log_path: Path | None = None

    @property
    def rasa_url(self) -> str:
        return f"http://localhost:{self.rasa_port}"

    @property
    def web_url(self) -> str:
        return f"http://localhost:{self.web_port}"

    @property
    def rest_url(self) -> str:
        return f"{self.rasa_url}/webhooks/rest/webhook"

    @property
    def content_file(self) -> Path:
        return self.workdir / "locales" / "fr" / "answers.yml"

    twilio_token: str = "live-test-twilio-token"

    @property
    def token(self) -> str:
        return (self.workdir / "var" / "rasa_token.key").read_text().strip()

    def ask(self, message: str, sender: str, timeout: float = 30.0) -> list[dict]:
        body = json.dumps({"sender": sender, "message": message}).encode()
        req = urllib.request.Request(
            self.rest_url, data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.loads(r.read().decode() or "[]")

    def parse(self, text: str) -> dict:
        body = json.dumps({"text": text}).encode()
        req = urllib.request.Request(
            f"{self.rasa_url}/webhooks/nlu/parse",
            data=body,
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"},
        )
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read().decode())

    def start(self, timeout: float = 120.0) -> None:
        (self.workdir / "var").mkdir(parents=True, exist_ok=True)
        shutil.copytree(ROOT / "locales", self.workdir / "locales", dirs_exist_ok=True)
        self.log_path = self.workdir / "stack.log"
        env = {
            **os.environ,
            "VAR_DIR": str(self.workdir / "var"),
            "CONTENT_DIR": str(self.workdir / "locales"),
            "DATABASE_URL": f"sqlite:///{self.workdir / 'var' / 'crisis.db'}",
            "TRACKER_DATABASE_URL": f"sqlite:///{self.workdir / 'var' / 'tracker.db'}",
            "SOCKETIO_ALLOWED_ORIGINS": f"http://localhost:{self.web_port},"
            f"http://127.0.0.1:{self.web_port}",
            "RASA_PUBLIC_URL": self.rasa_url,
            "RASA_TELEMETRY_ENABLED": "false",
            "TWILIO_AUTH_TOKEN": self.twilio_token,
            "SMS_WEBHOOK_URL": "",
            **self.env,
        }
        argv = [
            sys.executable, "-m", "bot", "run",
            "--rasa-port", str(self.rasa_port),
            "--actions-port", str(self.actions_port),
            "--web-port", str(self.web_port),
        ]  # fmt: skip
        log = open(self.log_path, "wb")  # noqa: SIM115 (kept open for the process's life)
        self.process = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the assistant stopped at start-up:\n{self.tail()}")
            try:
                self.ask("bonjour", sender="live-warmup", timeout=5)
                return
            except OSError:
                time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"the assistant did not answer within {timeout} s:\n{self.tail()}")

    def tail(self, lines: int = 60) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
