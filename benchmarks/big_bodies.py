"""/healthz latency while clients upload 8 MB JSON bodies: what parsing one large request costs everyone else.

    python benchmarks/big_bodies.py                                    # this checkout's server
    python benchmarks/big_bodies.py --src ../old/src --src src         # two versions, one after the other

For each ``--src`` (a ``src`` folder put first on the server's PYTHONPATH; none: the installed inkread) it
starts ``python -m inkread serve --workers 1`` on 127.0.0.1 (one event loop, which every request shares), then
for ``--duration`` seconds ``--clients`` threads POST an 8 MB JSON body (``{"image": "<base64>"}``) to
``/api/v1/predict`` as fast as answered, while one more client GETs ``/healthz`` ``--rate`` times a second
on a fixed schedule. The image is the 280x280 drawing of load_test.py padded to 6 MB with an ancillary PNG
chunk (which decoders skip): the model reads a drawing, so the figures show the body's reading and parsing,
not the model's work. Printed: /healthz latency (p50 / p95 / p99 / max) with and without the uploads, and
uploads answered. The uploading clients are threads of ``http.client`` (sending releases the GIL), so the
measuring process spends little CPU of its own. Run it alone: the figures are meant to be compared
between the versions of one run.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import struct
import tempfile
import threading
import time
import zlib
from pathlib import Path
from urllib.parse import urlsplit

from load_test import Results, canvas_png, start_server, stop_server

BODY_BYTES = 8 * 1024 * 1024 - 4096  # just under the server's default limit (ServeConfig.max_body_bytes)


def padded_png(size: int) -> bytes:
    """The load test's canvas PNG grown to ``size`` bytes by a private ancillary chunk before IEND."""
    png = canvas_png()
    padding = size - len(png) - 12  # a chunk's length, type and CRC
    chunk = b"inKr" + bytes(padding)
    return png[:-12] + struct.pack(">I", padding) + chunk + struct.pack(">I", zlib.crc32(chunk)) + png[-12:]


def json_body() -> bytes:
    """A JSON body of at most BODY_BYTES whose image is the padded drawing."""
    image = padded_png(BODY_BYTES * 3 // 4 - 64)
    return json.dumps({"image": base64.b64encode(image).decode("ascii")}).encode("ascii")


def timed_request(connection: http.client.HTTPConnection, results: Results, start: float, method: str, path: str,
                  **request) -> None:
    """One request on ``connection``: its latency from ``start`` counted in ``results`` if answered 200, else an error."""
    try:
        connection.request(method, path, **request)
        response = connection.getresponse()
        response.read()
        ok = response.status == 200
    except OSError:
        connection.close()
        ok = False
    if ok:
        results.latencies.append(time.perf_counter() - start)
    else:
        results.errors += 1


def upload_loop(address: tuple[str, int], body: bytes, deadline: float, results: Results) -> None:
    """POST ``body`` on one keep-alive connection until ``deadline``."""
    connection = http.client.HTTPConnection(*address, timeout=60)
    headers = {"content-type": "application/json"}
    while time.perf_counter() < deadline:
        timed_request(connection, results, time.perf_counter(), "POST", "/api/v1/predict", body=body, headers=headers)
    connection.close()


def probe_health(address: tuple[str, int], duration: float, rate: float) -> Results:
    """GET /healthz ``rate`` times a second for ``duration`` s; latency counted from each scheduled time."""
    results = Results()
    connection = http.client.HTTPConnection(*address, timeout=60)
    began = time.perf_counter()
    for sent in range(int(duration * rate)):
        start = began + sent / rate
        time.sleep(max(0.0, start - time.perf_counter()))
        timed_request(connection, results, start, "GET", "/healthz")
    results.seconds = time.perf_counter() - began
    connection.close()
    return results


def measure(url: str, body: bytes, clients: int, duration: float, rate: float) -> tuple[Results, Results, Results]:
    """/healthz alone, then /healthz beside ``clients`` uploading ``body``; and the uploads."""
    parts = urlsplit(url)
    address = (parts.hostname, parts.port)
    quiet = probe_health(address, min(duration, 3.0), rate)
    uploads = Results()
    deadline = time.perf_counter() + duration
    threads = [threading.Thread(target=upload_loop, args=(address, body, deadline, uploads)) for _ in range(clients)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)  # the uploads under way
    busy = probe_health(address, duration - 1.0, rate)
    for thread in threads:
        thread.join(120)
    uploads.seconds = duration
    return quiet, busy, uploads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--src", action="append", default=[], help="a src folder to serve from (repeatable; none: the installed inkread)")
    parser.add_argument("--model", default="digits")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--rate", type=float, default=20.0, help="/healthz requests per second")
    args = parser.parse_args()

    body = json_body()
    rows = []
    for src in args.src or [None]:
        with tempfile.TemporaryDirectory(prefix="inkread-bodies-") as tmp:
            server = start_server(args.model, tmp, Path(tmp) / "server.log", canvas_png(), 1, src=src)
            try:
                rows.append((src or "installed", *measure(server.url, body, args.clients, args.duration, args.rate)))
            finally:
                stop_server(server)
    print(f"## /healthz while {args.clients} clients POST {len(body) / 2**20:.1f} MB JSON bodies to /api/v1/predict, "
          f"--workers 1, {args.duration:g} s, /healthz {args.rate:g}/s\n")
    print("| server | /healthz alone p50 / p99 ms | /healthz with uploads p50 / p95 / p99 / max ms | uploads answered |")
    print("| --- | --- | --- | --- |")
    for src, quiet, busy, uploads in rows:
        print(f"| {src} | {quiet.percentile(50):.1f} / {quiet.percentile(99):.1f} | {busy.percentile(50):.1f} / "
              f"{busy.percentile(95):.1f} / {busy.percentile(99):.1f} / {max(busy.latencies, default=float('nan')) * 1000:.0f} "
              f"({busy.errors} errors) | {len(uploads.latencies)} ({len(uploads.latencies) / uploads.seconds:.1f}/s, "
              f"{uploads.errors} errors) |")


if __name__ == "__main__":
    main()
