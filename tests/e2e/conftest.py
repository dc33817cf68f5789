"""Starts the real local stack (`python -m infra.local_stack`, what `make run` runs)
on free ports and talks to it over HTTP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str]
    raw: bytes


class Stack:
    def __init__(self, base: str, state_dir: Path) -> None:
        self.base = base
        self.state_dir = state_dir
        self.local = json.loads((state_dir / "channel-secrets.json").read_text(encoding="utf-8"))
        self._tokens: dict[str, str] = {}

    def post_signed(self, channel_id: str, payload: Any = None, *, raw: bytes | None = None) -> Answer:
        from minyi.channels import signatures as auth

        body = raw if raw is not None else json.dumps(payload, ensure_ascii=False).encode("utf-8")
        headers = auth.signed_headers(self.local["secrets"][channel_id], body)
        return self.request("POST", f"/channels/{channel_id}/requests", raw=body, headers=headers)

    def token(self, username: str) -> dict[str, str]:
        """A real ID token from the local user pool, got the way `make run` tells people to."""
        if username not in self._tokens:
            done = subprocess.run([str(Path(sys.executable).with_name("minyi")), "--local-dir", str(self.state_dir),
                                   "staff", "token", username], capture_output=True, text=True, check=True)
            self._tokens[username] = done.stdout.strip()
        return {"Authorization": self._tokens[username]}

    def request(self, method: str, path: str, body: Any = None, *, raw: bytes | None = None,
                headers: dict[str, str] | None = None) -> Answer:
        data = raw if raw is not None else (json.dumps(body, ensure_ascii=False).encode() if body is not None else None)
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers={"Content-Type": "application/json", **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                payload, status, got = response.read(), response.status, dict(response.headers)
        except urllib.error.HTTPError as error:
            payload, status, got = error.read(), error.code, dict(error.headers)
        try:
            decoded = json.loads(payload) if payload else None
        except ValueError:
            decoded = None
        return Answer(status, decoded, got, payload)

    def wait_for(self, check, timeout: float = 30.0, interval: float = 0.3):
        deadline = time.monotonic() + timeout
        while True:
            result = check()
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not met within {timeout} s")
            time.sleep(interval)


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> Iterator[Stack]:
    state_dir = tmp_path_factory.mktemp("local-stack")
    env = {**os.environ, "PORT": "0", "MINYI_LOCAL_DIR": str(state_dir),
           # the 5-minute sweep every second, so overdue handling is visible in a test
           "LOCAL_SCHEDULE_COMPRESSION": "300",
           # the sweep on the real clock: at 300x virtual time, the session's orders would pass their
           # deadlines (and be escalated or closed) under the other tests; a test picks its instant with
           # POST /_local/schedules/<Function>/fire?at=...
           "LOCAL_VIRTUAL_CLOCK": "0"}
    for name in ("AWS_ENDPOINT_URL", "ORDERS_TABLE", "DUTY_LIST_TABLE", "REPORTS_TABLE", "REPORTS_BUCKET"):
        env.pop(name, None)
    process = subprocess.Popen([sys.executable, "-m", "infra.local_stack"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = None
    lines = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith("READY "):
            base = line.split()[1]
            break
    if base is None:
        process.kill()
        raise RuntimeError("local stack did not start:\n" + "".join(lines))
    # keep draining the stack's output: a full pipe would block the stack mid-test
    drain = threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True)
    drain.start()
    yield Stack(base, state_dir)
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    drain.join(timeout=5)
    rest = "".join(lines)
    (state_dir / "stack.out").write_text(rest, encoding="utf-8")
    assert process.returncode == 0, rest
    assert "stopped" in rest
