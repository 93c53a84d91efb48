"""Seal and open a large payload; report throughput and check memory stays flat.

A submission or bundle may be larger than the machine's memory, so sealing and
opening must stream. This writes a payload of ``--mb`` MiB to disk, seals it,
opens it, compares the result, and reports MB/s for each step and the peak RSS
of the process (``ru_maxrss``), which must stay under ``--limit-mb``.

    .venv/bin/python benchmarks/seal_memory.py            # 1024 MiB
    .venv/bin/python benchmarks/seal_memory.py --mb 64    # quick check
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from fraudmatch.sealing.keys import generate_party
from fraudmatch.sealing.seal import DEFAULT_CHUNK_SIZE, open_file, seal_file

MIB = 1 << 20


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / MIB if sys.platform == "darwin" else peak / 1024


def write_payload(path: Path, size_mb: int) -> str:
    """Write ``size_mb`` MiB of incompressible data in 1 MiB blocks; return its SHA-256."""
    block = bytearray(os.urandom(MIB))
    digest = hashlib.sha256()
    with path.open("wb") as handle:
        for index in range(size_mb):
            block[:8] = index.to_bytes(8, "big")  # every block differs
            handle.write(block)
            digest.update(block)
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(MIB):
            digest.update(block)
    return digest.hexdigest()


def timed(label: str, size_mb: int, step: Callable[[], object]) -> float:
    start = time.perf_counter()
    step()
    seconds = time.perf_counter() - start
    rate = size_mb / seconds if seconds else float("inf")
    print(
        f"{label:<6} {size_mb} MiB in {seconds:6.2f} s = {rate:7.1f} MiB/s, "
        f"peak RSS so far {peak_rss_mb():6.1f} MiB"
    )
    return rate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=1024, help="payload size in MiB (default 1024)")
    parser.add_argument("--limit-mb", type=float, default=200.0, help="peak RSS limit in MiB")
    parser.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE)
    parser.add_argument("--dir", type=Path, default=None, help="work directory (default: temp)")
    args = parser.parse_args(argv)

    hub, leeds = generate_party("hub"), generate_party("leeds")
    with tempfile.TemporaryDirectory(prefix="fraudmatch-bench-", dir=args.dir) as tmp:
        work = Path(tmp)
        plain, sealed, opened = work / "payload.bin", work / "payload.sealed", work / "opened.bin"
        print(f"payload: {args.mb} MiB in {work}, chunk size {args.chunk_size} bytes")
        expected = write_payload(plain, args.mb)
        baseline = peak_rss_mb()
        print(f"baseline peak RSS after setup: {baseline:.1f} MiB")
        timed(
            "seal",
            args.mb,
            lambda: seal_file(
                plain,
                sealed,
                sender=leeds,
                recipient=hub.public(),
                kind="submission",
                dataset="payroll",
                period="2026-11",
                chunk_size=args.chunk_size,
            ),
        )
        overhead = sealed.stat().st_size - plain.stat().st_size
        print(f"sealed size overhead: {overhead} bytes")
        plain.unlink()  # keep disk use at two copies
        timed(
            "open",
            args.mb,
            lambda: open_file(sealed, opened, recipient=hub, senders={"leeds": leeds.public()}),
        )
        if file_sha256(opened) != expected:
            print("FAIL: opened payload differs from the original")
            return 1
    peak = peak_rss_mb()
    verdict = "OK" if peak < args.limit_mb else "FAIL"
    print(
        f"{verdict}: peak RSS {peak:.1f} MiB (limit {args.limit_mb:.0f} MiB) "
        f"for a {args.mb} MiB payload"
    )
    return 0 if verdict == "OK" else 1


if __name__ == "__main__":
    raise SystemExit(main())
