"""Crash safety: ``kill -9`` a real server while clients post corrections; nothing acknowledged is lost.

A correction answered with 201 must be in the database after a restart, with its label, and the
database must pass ``PRAGMA integrity_check`` whatever moment the server died at.
"""

from __future__ import annotations

import json
import signal
import socket
import sqlite3
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx2
import pytest

from helpers import font_digits, launch, png, render, running_server

from inkread.serving.corrections import database_path

CLIENTS = 4
ACKED_BEFORE_KILL = 40


@pytest.fixture(scope="module")
def digits_bundle(tmp_path_factory):
    return font_digits(tmp_path_factory.mktemp("bundle") / "digits")


def post_until_failure(url: str, images: dict[str, bytes], acked: list, wrong: list, killed: threading.Event,
                       stop: threading.Event, worker: int) -> None:
    """Post corrections until the server dies (or ``stop``); record every (id, label) answered 201.

    Any other answer goes to ``wrong``, except the 503 a request in flight gets once the server is killed.
    """
    with httpx2.Client(timeout=10) as client:
        n = 0
        while not stop.is_set():
            label = str((worker + n) % 10)
            n += 1
            try:
                response = client.post(f"{url}/api/v1/corrections", files={"file": ("d.png", images[label], "image/png")},
                                       data={"label": label, "predicted": label})
            except httpx2.HTTPError:
                return  # the server is gone: whatever was not acknowledged may be lost
            if response.status_code != 201:
                if not (killed.is_set() and response.status_code == 503):
                    wrong.append((response.status_code, response.text))
                return
            acked.append((response.json()["id"], label))


def worker_pids(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in children.read_text().split()] if children.exists() else []


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


@pytest.mark.parametrize("workers", [1, 2])
def test_kill_9_loses_no_acknowledged_correction(tmp_path, digits_bundle, workers):
    data_dir = tmp_path / "data"
    args = ["--model", str(digits_bundle), "--data-dir", str(data_dir), "--workers", str(workers)]
    images = {label: png(render(label, size=(96, 96), font_size=70)) for label in "0123456789"}
    server = launch(args, tmp_path / "first.log")
    acked: list[tuple[int, str]] = []
    wrong: list[tuple[int, str]] = []
    killed, stop = threading.Event(), threading.Event()
    threads = [threading.Thread(target=post_until_failure, args=(server.url, images, acked, wrong, killed, stop, n))
               for n in range(CLIENTS)]
    try:
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 60
        while len(acked) < ACKED_BEFORE_KILL and time.monotonic() < deadline and any(t.is_alive() for t in threads):
            time.sleep(0.005)
        workers_before = worker_pids(server.pid)
        assert len(workers_before) == (workers if workers > 1 else 0)
        killed.set()
        server.kill()  # SIGKILL mid-stream: requests are in flight on every client
        # forked workers die with their supervisor: nothing keeps serving (or writing) behind its back
        deadline = time.monotonic() + 10
        while any(alive(pid) for pid in workers_before) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(alive(pid) for pid in workers_before)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        if server.process.poll() is None:
            server.kill()
    assert len(acked) >= ACKED_BEFORE_KILL, f"only {len(acked)} corrections were acknowledged: {server.log.read_text()}"
    assert not wrong, f"answers other than 201 (or 503 once killed): {wrong}"

    with sqlite3.connect(database_path(data_dir)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    restarted = launch(args, tmp_path / "second.log")
    try:
        with httpx2.Client(base_url=restarted.url, timeout=10) as client:
            for correction_id, label in acked:
                response = client.get(f"/api/v1/corrections/{correction_id}")
                assert response.status_code == 200, f"acknowledged correction {correction_id} was lost"
                assert response.json()["label"] == label
                assert client.get(f"/api/v1/corrections/{correction_id}/image").content == images[label]
            total = client.get("/api/v1/corrections?limit=1").json()["total"]
            assert total >= len(acked)
            # the restarted server goes on writing, with fresh ids
            new = client.post("/api/v1/corrections", files={"file": ("d.png", images["3"], "image/png")}, data={"label": "3"})
            assert new.status_code == 201 and new.json()["id"] > max(i for i, _ in acked)
    finally:
        restarted.kill()
    with sqlite3.connect(database_path(data_dir)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_a_request_cut_short_by_shutdown_is_answered_503(tmp_path, digits_bundle, stop):
    """SIGTERM or Ctrl-C while a request waits for its body: after the grace period the client gets a JSON 503,
    not a 500, and the server's terminal one line, not uvicorn's ~90-line CancelledError traceback."""
    server = launch(["--model", str(digits_bundle), "--data-dir", str(tmp_path / "data")], tmp_path / "server.log")
    try:
        address = urlsplit(server.url)
        with socket.create_connection((address.hostname, address.port), timeout=30) as client:
            # headers promise a body that never comes: the request is in flight when the server stops
            client.sendall(b"POST /api/v1/corrections HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
                           b"content-length: 100\r\n\r\n")
            time.sleep(0.5)
            server.process.send_signal(stop)
            answer = b""
            while chunk := client.recv(65536):
                answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 503"), answer
        assert b"retry-after: 1" in head.lower()
        assert "shutting down" in json.loads(body)["detail"]
        assert server.process.wait(timeout=30) is not None
    finally:
        if server.process.poll() is None:
            server.kill()
    log = server.log.read_text().splitlines()
    assert not any("Traceback" in line or "CancelledError" in line or "ASGI" in line for line in log), "\n".join(log)
    assert [line for line in log if "cut short" in line] == [
        "inkread: 1 request(s) cut short by the shutdown: answered 503 (the client should send them again)"]
    assert len(log) <= 3, log  # the address, that line, and "inkread: interrupted" after Ctrl-C


def test_log_requests_prints_an_access_log_line_per_request(tmp_path, digits_bundle):
    args = ["--model", str(digits_bundle), "--data-dir", str(tmp_path / "data"), "--workers", "1", "--log-requests"]
    with running_server(args, tmp_path / "log.txt") as server:
        response = httpx2.post(f"{server.url}/api/v1/predict", files={"file": ("d.png", png(render("3")), "image/png")})
        assert response.status_code == 200
        deadline = time.monotonic() + 10
        while "POST /api/v1/predict" not in (tmp_path / "log.txt").read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
    assert '"POST /api/v1/predict HTTP/1.1" 200' in (tmp_path / "log.txt").read_text()


def test_a_server_started_from_the_command_line_names_a_requests_fields_as_fields(tmp_path, digits_bundle):
    """The command line spells settings as options (--only); its server's answers must name fields (only=...)."""
    args = ["--model", str(digits_bundle), "--data-dir", str(tmp_path / "data"), "--workers", "1"]
    with running_server(args, tmp_path / "log.txt") as server:
        answer = httpx2.post(f"{server.url}/api/v1/predict?only=letters", files={"file": ("d.png", png(render("3")), "image/png")})
    assert answer.status_code == 422 and answer.json()["detail"].startswith("only='letters': this model has no letters")
    assert "--only" not in answer.json()["detail"]

def test_allowed_host_option_names_a_host_the_server_answers_to(tmp_path, digits_bundle):
    """`inkread serve --allowed-host NAME` as typed: that name is answered, others are refused with the fix."""
    args = ["--model", str(digits_bundle), "--data-dir", str(tmp_path / "data"), "--workers", "1",
            "--allowed-host", "ink.example"]
    with running_server(args, tmp_path / "log.txt") as server:
        assert httpx2.get(f"{server.url}/healthz", headers={"host": "ink.example"}).status_code == 200
        assert httpx2.get(f"{server.url}/healthz").status_code == 200  # its own address
        refused = httpx2.get(f"{server.url}/healthz", headers={"host": "evil.example"})
        assert refused.status_code == 400 and "--allowed-host" in refused.json()["detail"]


def test_a_shutdown_while_the_models_still_load_ends_the_process_cleanly(tmp_path):
    """The app stopped right after it started (Ctrl-C at once, a test client closed) while the background loader was
    still opening the ONNX models: the process aborted ("terminate called without an active exception", 134)."""
    import subprocess
    import sys

    script = f"""
from fastapi.testclient import TestClient
from inkread.serving import ServeConfig, create_app
config = ServeConfig(models=["digits", "characters", "lines"], allowed_hosts=["testserver"], data_dir={str(tmp_path)!r})
for _ in range(3):
    with TestClient(create_app(config)) as client:
        client.get("/api/v1/nothing-here")
print("closed")
"""
    ended = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert ended.returncode == 0 and "closed" in ended.stdout, ended.stderr[-500:]
    assert "terminate called" not in ended.stderr


def test_a_locked_database_holds_up_neither_healthz_nor_drawings(tmp_path, digits_bundle):
    """60 DELETEs waiting on a locked database (each up to its 10 s busy timeout) filled the shared thread
    pool: /healthz answered after 9 s and a drawing after 10 s, as if the server were dead. Here both must
    answer while every DELETE is still waiting on the lock."""
    args = ["--model", str(digits_bundle), "--data-dir", str(tmp_path / "data"), "--workers", "1"]
    with running_server(args, tmp_path / "log.txt") as server:
        saved = httpx2.post(f"{server.url}/api/v1/corrections", files={"file": ("d.png", png(render("3")), "image/png")},
                            data={"label": "3"})
        assert saved.status_code == 201
        lock = sqlite3.connect(database_path(tmp_path / "data"), isolation_level=None)
        lock.execute("BEGIN IMMEDIATE")
        answered: list[int] = []
        deleting = [threading.Thread(target=lambda: answered.append(
            httpx2.delete(f"{server.url}/api/v1/corrections/1", timeout=60).status_code)) for _ in range(60)]
        try:
            for thread in deleting:
                thread.start()
            time.sleep(1.0)  # the DELETEs are in, waiting on the lock
            health = httpx2.get(f"{server.url}/healthz", timeout=60)
            drawing = httpx2.post(f"{server.url}/api/v1/predict", files={"file": ("d.png", png(render("3")), "image/png")},
                                  timeout=60)
            still_waiting = len(answered)
        finally:
            lock.execute("ROLLBACK")
            lock.close()
            for thread in deleting:
                thread.join()
        assert health.status_code == 200 and drawing.status_code == 200
        assert still_waiting == 0  # answered while the database was still locked, not after
