"""The ``--workers`` supervisor: replacing dead workers, stopping on a signal, giving up on workers that cannot start.

The real ``_supervise`` forks real workers here; only what a worker serves (``_serve``) and the
pause before a restart are replaced, so nothing depends on timing.
"""

from __future__ import annotations

import math
import os
import signal
import time
from types import SimpleNamespace

import pytest

from inkread.errors import InkreadError
from inkread.serving import server


def _signal_now() -> None:
    """What SIGTERM does to the supervisor, at a known moment: its handler runs."""
    signal.getsignal(signal.SIGTERM)(signal.SIGTERM, None)


def test_a_stop_signal_during_the_restart_pause_starts_no_worker(monkeypatch, tmp_path):
    starts = tmp_path / "starts"

    def serve(app, sock, config):  # in the forked worker: note the start, then stop as if crashed
        with open(starts, "a") as log:
            log.write("started\n")

    monkeypatch.setattr(server, "_serve", serve)
    monkeypatch.setattr(time, "sleep", lambda seconds: _signal_now())  # Ctrl-C during the pause
    server._supervise(None, None, SimpleNamespace(workers=1))  # returns: nothing left to wait for
    assert starts.read_text() == "started\n"  # the worker that died was not replaced


def test_a_worker_forked_as_the_stop_signal_comes_is_still_stopped(monkeypatch):
    """The signal's handler runs after the fork, before the supervisor has noted the new worker."""
    real_fork, ended = os.fork, []

    def fork():
        pid = real_fork()
        if pid:
            _signal_now()
        return pid

    def wait():
        pid, status = real_wait()
        ended.append(os.waitstatus_to_exitcode(status))
        return pid, status

    def serve(app, sock, config):  # a worker serving until it is stopped
        signal.alarm(30)  # so that one never told to stop ends this test, not hangs it
        while True:
            signal.pause()

    real_wait = os.wait
    monkeypatch.setattr(os, "fork", fork)
    monkeypatch.setattr(os, "wait", wait)
    monkeypatch.setattr(server, "_serve", serve)
    server._supervise(None, None, SimpleNamespace(workers=1))
    assert ended == [-signal.SIGTERM]


@pytest.mark.parametrize("error, shown, traceback", [
    (InkreadError("cannot open the corrections database: disk full"), "inkread: error: worker", False),
    (RuntimeError("unexpected bug"), "RuntimeError: unexpected bug", True),
])
def test_a_worker_that_cannot_start_is_reported_and_the_supervisor_gives_up(monkeypatch, capfd, error, shown, traceback):
    """Each worker says why it died; after a few quick deaths in a row the supervisor stops (it restarted them forever)."""
    def serve(app, sock, config):
        raise error

    pauses = []

    def pause(seconds):
        pauses.append(seconds)
        if len(pauses) > 10:  # so that a supervisor that never gives up fails this test, not hangs it
            _signal_now()

    monkeypatch.setattr(server, "_serve", serve)
    monkeypatch.setattr(time, "sleep", pause)
    monkeypatch.setattr(server, "QUICK_DEATH_SECONDS", math.inf, raising=False)  # however slow the machine
    with pytest.raises(InkreadError, match="3 server workers in a row stopped .*fix the cause and start the server again"):
        server._supervise(None, None, SimpleNamespace(workers=1))
    err = capfd.readouterr().err
    assert err.count(shown) == server.MAX_QUICK_DEATHS == 3 and len(pauses) == 2
    assert ("Traceback" in err) == traceback
    assert err.count("exited with code 1; starting another") == 2


def test_only_one_worker_reports_the_models_that_fail_to_load(monkeypatch, tmp_path):
    """Every worker loads the models: a broken one was reported once per worker (or not at all before)."""
    seen = tmp_path / "quiet"

    def serve(app, sock, config):  # in the forked worker: note whether it reports, then end once both have
        with open(seen, "a") as log:
            log.write(f"{app.state.registry.quiet}\n")
        deadline = time.monotonic() + 10  # (the first must not end before the second has started)
        while len(seen.read_text().split()) < 2 and time.monotonic() < deadline:
            real_sleep(0.01)

    real_sleep = time.sleep
    app = SimpleNamespace(state=SimpleNamespace(registry=SimpleNamespace(quiet=False)))
    monkeypatch.setattr(server, "_serve", serve)
    monkeypatch.setattr(time, "sleep", lambda seconds: _signal_now())  # stop once the first worker has ended
    server._supervise(app, None, SimpleNamespace(workers=2))
    assert sorted(seen.read_text().split()) == ["False", "True"]


def test_when_the_reporting_worker_dies_its_replacement_reports(monkeypatch, tmp_path):
    """The reporter could die before reporting (onnxruntime crashing on the broken model): its replacement
    was quiet as long as another worker lived, and the broken model was never reported."""
    seen = tmp_path / "quiet"
    seen.write_text("")

    def serve(app, sock, config):  # the first worker dies at once; the others live until the replacement has started
        first = not seen.read_text()
        with open(seen, "a") as log:
            log.write(f"{app.state.registry.quiet}\n")
        deadline = time.monotonic() + 10
        while not first and len(seen.read_text().split()) < 3 and time.monotonic() < deadline:
            real_sleep(0.01)

    real_sleep = time.sleep
    app = SimpleNamespace(state=SimpleNamespace(registry=SimpleNamespace(quiet=False)))
    monkeypatch.setattr(server, "_serve", serve)
    monkeypatch.setattr(time, "sleep", lambda seconds: _signal_now() if len(seen.read_text().split()) >= 3 else None)
    server._supervise(app, None, SimpleNamespace(workers=2))
    assert sorted(seen.read_text().split()[:3]) == ["False", "False", "True"]


def test_only_deaths_soon_after_starting_count_towards_giving_up():
    quick = server.QUICK_DEATH_SECONDS
    assert server._count_quick_deaths(0, 0.1) == 1
    assert server._count_quick_deaths(2, quick / 2) == 3
    assert server._count_quick_deaths(2, quick + 1) == 0  # one that served a while: replaced, the count starts over
    # killed from outside (kill -9 by an operator, the OOM killer) soon after starting: not a failed start;
    # four such kills in a row stopped the whole server, the healthy worker too
    killed = 9  # os.wait's status of a process killed by SIGKILL
    assert server._count_quick_deaths(2, 0.1, killed) == 2
    assert server._count_quick_deaths(0, 0.1, 11) == 1  # a crash (SIGSEGV) as it starts is a failed start
    assert server._count_quick_deaths(0, 0.1, 1 << 8) == 1  # exited with code 1
