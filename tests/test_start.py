"""The quick start command: demo loaded, server and worker up, Ctrl-C stops both."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.status
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} ne répond pas après {timeout} s")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie has exited; /proc tells.
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "State:\tZ" in status.read_text())


@pytest.mark.worker
@pytest.mark.long  # migrates a new database and loads the whole demo
def test_start_serves_the_demo_with_its_worker_and_ctrl_c_stops_both(tmp_path):
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        "LIEN_VAR_DIR": str(tmp_path),
    }
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "start", "--addr", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert wait_for(f"http://127.0.0.1:{port}/connexion/", timeout=90) == 200
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert "Connexion de démonstration : demo@lien.local / demo-lien-2026" in output
    assert "Lien est arrêté." in output
    worker_pid = int(re.search(r"worker de tâches lancé, pid (\d+)", output).group(1))
    time.sleep(0.5)
    assert not pid_alive(worker_pid)
    assert (tmp_path / "lien.sqlite3").exists()
