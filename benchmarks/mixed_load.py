"""Small requests while large ones run: how long a drawing's /predict waits behind heavy /read requests.

    python benchmarks/mixed_load.py                 # 12 clients reading a 24 MP page, 20 s
    python benchmarks/mixed_load.py --heavy-clients 4 --duration 10

It starts a real ``python -m inkread serve`` on 127.0.0.1 (``--workers 2``, as on 2 cores). For
``--duration`` seconds, ``--heavy-clients`` clients each POST a 6000x4000 PNG page of handwritten
digits to ``/api/v1/read`` as fast as answered (a scanned page), while one more client POSTs the page's
280x280 canvas drawing to ``/api/v1/predict`` five times a second, as the page does while someone draws.
Printed: the drawing's latency (p50 / p95 / max), how many pages were read, and errors. Run it alone:
the figures are meant to be compared between versions of the server in one sitting.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import tempfile
import time
from pathlib import Path

import httpx2
from PIL import Image

from load_test import Results, canvas_png, multipart, start_server, stop_server

REPO = Path(__file__).resolve().parents[1]


def page_png() -> bytes:
    """A 6000x4000 white page with 16 lines of 25 sample digits, 140 px tall: heavy to decode and to read."""
    page = Image.new("L", (6000, 4000), 255)
    digits = sorted((REPO / "samples" / "digits").glob("*.png"))
    for row in range(16):
        for col in range(25):
            digit = Image.open(digits[(row * 25 + col) % len(digits)]).convert("L").resize((140, 140))
            page.paste(digit, (400 + col * 210, 200 + row * 230))
    buffer = io.BytesIO()
    page.save(buffer, format="PNG")
    return buffer.getvalue()


async def mixed(url: str, page: bytes, drawing: bytes, heavy_clients: int, duration: float, rate: float) -> tuple[Results, Results]:
    """Heavy /read loops and a paced /predict client side by side; their results."""
    deadline = time.perf_counter() + duration
    reads, draws = Results(), Results()
    page_body, page_type = multipart(page)
    drawing_body, drawing_type = multipart(drawing)
    limits = httpx2.Limits(max_connections=heavy_clients + 1)
    async with httpx2.AsyncClient(base_url=url, limits=limits, timeout=120) as client:
        async def reader() -> None:
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                response = await client.post("/api/v1/read", content=page_body, headers={"content-type": page_type})
                if response.status_code == 200:
                    reads.latencies.append(time.perf_counter() - start)
                else:
                    reads.errors += 1

        async def drawer() -> None:
            began, sent = time.perf_counter(), 0
            while time.perf_counter() < deadline:
                start = began + sent / rate  # on schedule: a late answer delays the ones behind it too
                sent += 1
                await asyncio.sleep(max(0.0, start - time.perf_counter()))
                response = await client.post("/api/v1/predict", content=drawing_body, headers={"content-type": drawing_type})
                if response.status_code == 200:
                    draws.latencies.append(time.perf_counter() - start)
                else:
                    draws.errors += 1

        began = time.perf_counter()
        await asyncio.gather(drawer(), *(reader() for _ in range(heavy_clients)))
        reads.seconds = draws.seconds = time.perf_counter() - began
    return reads, draws


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="digits")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--heavy-clients", type=int, default=12)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=5.0, help="drawing predictions per second")
    args = parser.parse_args()

    page, drawing = page_png(), canvas_png()
    with tempfile.TemporaryDirectory(prefix="inkread-mixed-") as tmp:
        server = start_server(args.model, tmp, Path(tmp) / "server.log", drawing, args.workers)
        try:
            reads, draws = asyncio.run(mixed(server.url, page, drawing, args.heavy_clients, args.duration, args.rate))
        finally:
            stop_server(server)
    print(f"## {args.heavy_clients} clients reading a {len(page) / 1e6:.1f} MB 24 MP page, one drawing {args.rate:g}/s, "
          f"{reads.seconds:.0f} s, --workers {args.workers}\n")
    print("| figure | value |")
    print("| --- | --- |")
    print(f"| drawing /predict latency p50 / p95 / max | {draws.percentile(50):.0f} / {draws.percentile(95):.0f} / "
          f"{max(draws.latencies, default=float('nan')) * 1000:.0f} ms ({len(draws.latencies)} answers, {draws.errors} errors) |")
    print(f"| pages read | {len(reads.latencies)} ({len(reads.latencies) / reads.seconds:.2f}/s, {reads.errors} errors), "
          f"latency p50 {reads.percentile(50) / 1000:.1f} s |")


if __name__ == "__main__":
    main()
