"""Load test of ``inkread serve``: throughput, latency percentiles, memory growth, start-up time.

    python benchmarks/load_test.py                        # digits model, 32 clients, 30 s
    python benchmarks/load_test.py --duration 10 --rss-requests 5000   # a quicker look

It starts a real ``python -m inkread serve`` on 127.0.0.1 (a free port), then:

1. start-up: time from launching the process to the first successful ``/healthz`` and to the
   first successful ``/api/v1/predict``;
2. throughput: ``--clients`` concurrent asyncio clients (keep-alive connections) POST a 280x280
   canvas-like PNG to ``/api/v1/predict`` (multipart, as the page does) as fast as answered for
   ``--duration`` seconds: requests/s, p50/p95/p99 latency, errors. With 32 clients always
   waiting, latency is queueing (Little's law: 32 / throughput), so
3. latency: the same clients send ``--rate`` requests/s in all on a fixed schedule for
   ``--rate-duration`` seconds: p50/p95/p99 at that load;
4. memory: the server's RSS (``/proc/PID/status`` VmRSS) before and after ``--rss-requests``
   more requests.

Targets: >= 300 req/s, p95 <= 50 ms at 300 req/s, RSS growth <= 50 MB, start-up <= 1.5 s. The load
client shares the machine's cores with the server, so the figures are a lower bound of what the
server does alone. Traffic goes to 127.0.0.1 only, and every loop is bounded in time and count.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx2
from PIL import Image, ImageDraw

TARGETS = {"req/s": 300.0, "p95 ms": 50.0, "RSS growth MB": 50.0, "start-up s": 1.5}
MAX_REQUESTS = 1_000_000  # a hard bound on any phase, whatever the duration


def canvas_png() -> bytes:
    """A 280x280 PNG like the page sends: a thick dark "7" on white."""
    image = Image.new("L", (280, 280), 255)
    draw = ImageDraw.Draw(image)
    draw.line([(80, 70), (200, 70), (140, 220)], fill=17, width=18, joint="curve")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its worker processes (``--workers``), from /proc."""
    text = Path(f"/proc/{pid}/status").read_text()
    total = int(re.search(r"VmRSS:\s+(\d+) kB", text).group(1)) / 1024
    children = Path(f"/proc/{pid}/task/{pid}/children")
    for child in (children.read_text().split() if children.exists() else []):
        total += rss_mb(int(child))
    return total


@dataclass
class Server:
    process: subprocess.Popen
    url: str
    first_health_s: float
    first_predict_s: float


def start_server(model: str, data_dir: str, log: Path, image: bytes, workers: int, timeout: float = 30.0,
                 src: str | None = None) -> Server:
    """Launch ``inkread serve --port 0`` and time its first successful answers; ``src``: a source folder to
    serve from (put first on PYTHONPATH), to compare versions of the server in one run."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if src is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(Path(src).resolve()), *filter(None, [os.environ.get("PYTHONPATH")])])
    started = time.perf_counter()
    with open(log, "wb") as handle:  # the server writes to its own copy of the descriptor: ours can close at once
        process = subprocess.Popen([sys.executable, "-m", "inkread", "serve", "--port", "0", "--model", model,
                                    "--data-dir", data_dir, "--workers", str(workers)], stdout=handle,
                                   stderr=subprocess.STDOUT, env=env)
    url, health, predict = None, None, None
    with httpx2.Client(timeout=5) as client:
        while time.perf_counter() - started < timeout and predict is None:
            if process.poll() is not None:
                raise SystemExit(f"inkread serve exited: {log.read_text(errors='replace')}")
            if url is None:
                match = re.search(r"at (http://\S+)", log.read_text(errors="replace"))
                url = match.group(1) if match else None
            try:
                if url and health is None and client.get(f"{url}/healthz").status_code == 200:
                    health = time.perf_counter() - started
                if health is not None and client.post(f"{url}/api/v1/predict", files={"file": ("c.png", image, "image/png")}).status_code == 200:
                    predict = time.perf_counter() - started
            except httpx2.HTTPError:
                pass
            if predict is None:
                time.sleep(0.005)
    if predict is None:
        process.kill()
        raise SystemExit(f"inkread serve did not answer within {timeout} s: {log.read_text(errors='replace')}")
    return Server(process, url, health, predict)


def stop_server(server: Server) -> None:
    """Stop the server as Ctrl-C does; kill it if it has not stopped 10 s later."""
    server.process.send_signal(signal.SIGINT)
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0

    @property
    def count(self) -> int:
        return len(self.latencies) + self.errors

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))] * 1000 if ordered else float("nan")


def multipart(image: bytes) -> tuple[bytes, str]:
    """The body and Content-Type of a multipart upload of ``image`` in the field ``file``, encoded
    once: the client then spends its CPU on sending, not on re-encoding the same form."""
    boundary = "inkread-load-test-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"canvas.png\"\r\n"
            "Content-Type: image/png\r\n\r\n").encode() + image + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


async def hammer(url: str, image: bytes, clients: int, duration: float, total: int, rate: float | None = None) -> Results:
    """``clients`` concurrent loops posting ``image`` until ``duration`` s or ``total`` requests.

    Closed loop (``rate`` None): each client sends its next request as soon as the last one is
    answered, which measures the highest throughput. Open loop (``rate`` req/s in all): requests
    are sent on a fixed schedule and latency counts from the scheduled time, so a slow answer also
    delays (and is charged to) the requests queued behind it (no coordinated omission).

    Uses aiohttp when installed (several times less client CPU per request than httpx2, which
    matters when client and server share two cores), else httpx2.
    """
    results = Results()
    deadline = time.perf_counter() + duration
    budget = [min(total, MAX_REQUESTS)]
    body, content_type = multipart(image)
    headers = {"content-type": content_type}

    async def run(post) -> None:
        began = time.perf_counter()

        async def worker(index: int) -> None:
            sent = 0
            while budget[0] > 0 and time.perf_counter() < deadline:
                budget[0] -= 1
                start = time.perf_counter()
                if rate:
                    start = began + (sent * clients + index) / rate  # this client's next slot
                    sent += 1
                    await asyncio.sleep(max(0.0, start - time.perf_counter()))
                try:
                    ok = await post()
                except Exception:  # noqa: BLE001 - any failure of a request counts as an error
                    ok = False
                if ok:
                    results.latencies.append(time.perf_counter() - start)
                else:
                    results.errors += 1

        await asyncio.gather(*(worker(index) for index in range(clients)))
        results.seconds = time.perf_counter() - began

    try:
        import aiohttp
    except ImportError:
        aiohttp = None
    if aiohttp is not None:
        connector = aiohttp.TCPConnector(limit=clients)
        async with aiohttp.ClientSession(url, connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as session:
            async def post() -> bool:
                async with session.post("/api/v1/predict", data=body, headers=headers) as response:
                    await response.read()
                    return response.status == 200
            await run(post)
    else:
        limits = httpx2.Limits(max_connections=clients, max_keepalive_connections=clients)
        async with httpx2.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
            async def post() -> bool:
                return (await client.post("/api/v1/predict", content=body, headers=headers)).status_code == 200
            await run(post)
    return results


def client_name() -> str:
    try:
        import aiohttp
        return f"aiohttp {aiohttp.__version__}"
    except ImportError:
        return f"httpx2 {httpx2.__version__}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="digits")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2, help="inkread serve --workers (default 2, as inkread serve on 2 cores)")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of the throughput phase")
    parser.add_argument("--rate", type=float, default=300.0, help="offered req/s of the fixed-rate latency phase")
    parser.add_argument("--rate-duration", type=float, default=15.0, help="seconds of the fixed-rate phase")
    parser.add_argument("--rss-requests", type=int, default=20_000, help="requests between the two RSS readings")
    args = parser.parse_args()

    image = canvas_png()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="inkread-load-") as tmp:
        server = start_server(args.model, tmp, Path(tmp) / "server.log", image, args.workers)
        try:
            asyncio.run(hammer(server.url, image, args.clients, 3.0, 2_000))  # warm-up: connections, caches
            load = asyncio.run(hammer(server.url, image, args.clients, args.duration, MAX_REQUESTS))
            paced = asyncio.run(hammer(server.url, image, args.clients, args.rate_duration, MAX_REQUESTS, rate=args.rate))
            rss_before = rss_mb(server.process.pid)
            memory = asyncio.run(hammer(server.url, image, args.clients, 600.0, args.rss_requests))
            rss_after = rss_mb(server.process.pid)
        finally:
            stop_server(server)

    rate = len(load.latencies) / load.seconds
    paced_rate = len(paced.latencies) / paced.seconds
    print(f"## inkread serve --workers {args.workers} load test: model {args.model}, {args.clients} clients ({client_name()}), "
          f"{os.cpu_count()} cores, load average before {load_before:.2f}\n")
    print("| figure | value | target |")
    print("| --- | --- | --- |")
    print(f"| start-up to first /healthz 200 | {server.first_health_s:.2f} s | <= {TARGETS['start-up s']} s |")
    print(f"| start-up to first /predict 200 | {server.first_predict_s:.2f} s | |")
    print(f"| closed loop: requests in {load.seconds:.1f} s | {load.count} ({load.errors} errors) | 0 errors |")
    print(f"| closed loop: throughput | {rate:.0f} req/s | >= {TARGETS['req/s']:.0f} req/s |")
    print(f"| closed loop: latency p50 / p95 / p99 | {load.percentile(50):.1f} / {load.percentile(95):.1f} / "
          f"{load.percentile(99):.1f} ms | |")
    print(f"| fixed rate {args.rate:.0f} req/s: achieved, errors | {paced_rate:.0f} req/s, {paced.errors} errors | |")
    print(f"| fixed rate {args.rate:.0f} req/s: latency p50 / p95 / p99 | {paced.percentile(50):.1f} / "
          f"{paced.percentile(95):.1f} / {paced.percentile(99):.1f} ms | p95 <= {TARGETS['p95 ms']:.0f} ms |")
    print(f"| RSS before / after {memory.count} requests | {rss_before:.1f} / {rss_after:.1f} MB "
          f"(+{rss_after - rss_before:.1f} MB, {memory.errors} errors) | <= +{TARGETS['RSS growth MB']:.0f} MB |")
    met = [rate >= TARGETS["req/s"], paced.percentile(95) <= TARGETS["p95 ms"],
           rss_after - rss_before <= TARGETS["RSS growth MB"], server.first_health_s <= TARGETS["start-up s"],
           load.errors + paced.errors + memory.errors == 0]
    print(f"\n{sum(met)}/{len(met)} targets met (throughput, p95 at {args.rate:.0f} req/s, RSS growth, start-up, no errors)")


if __name__ == "__main__":
    main()
