"""Robustness run over the peer test documents: intake check, then OCR, one line per file.

    .venv/bin/python bench/peers.py [--corpus ../shared/corpus/peers] [--jobs N] [--lang deu+eng]

Every file under the corpus (recursively) goes through the intake's ``inspect_file``; accepted
files are then read by one shared :class:`OcrEngine`. A refusal or an ``OcrError`` is a
verdict; any other exception, or a stage that does not finish within ``--timeout`` seconds,
is UNHANDLED and makes the exit status 1. Progress is shown on stderr when it is a terminal.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from mailroom.intake.inspection import UploadLimits, inspect_file  # noqa: E402
from mailroom.intake.inspection_errors import RejectedFileError  # noqa: E402
from ocr import OcrEngine, OcrError, OcrOptions, OcrResult  # noqa: E402

T = TypeVar("T")


def check_intake(data: bytes, name: str) -> str:
    """The intake verdict: "accepted ..." or "refused <code>" (the one call into intake)."""
    try:
        inspected = inspect_file(data, filename=name, limits=UploadLimits())
    except RejectedFileError as exc:
        return f"refused {exc.code}"
    return f"accepted {inspected.media_type} {inspected.pages}p"


def ocr_verdict(result: OcrResult) -> str:
    codes = ",".join(flag.code for flag in result.flags) or "-"
    return f"read {result.method} {len(result.pages)}p flags={codes}"


@dataclass
class Unhandled:
    path: str
    stage: str
    exception: str
    summary: str


@dataclass
class Outcome(Generic[T]):
    value: T | None = None
    error: BaseException | None = None
    hung: bool = False


def run_with_timeout(work: Callable[[], T], timeout_s: float) -> Outcome[T]:
    """Run ``work`` in a daemon thread so that a hang is reported instead of blocking the run."""
    outcome: Outcome[T] = Outcome()

    def target() -> None:
        try:
            outcome.value = work()
        except BaseException as exc:  # everything unexpected is the finding
            outcome.error = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout_s)
    outcome.hung = thread.is_alive()
    return outcome


def traceback_summary(exc: BaseException, frames: int = 3) -> str:
    stack = traceback.extract_tb(exc.__traceback__)[-frames:]
    where = " <- ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(stack))
    return f"{type(exc).__name__}: {str(exc)[:160]} at {where}"


@dataclass
class Tally:
    counts: Counter[str] = field(default_factory=Counter)
    unhandled: list[Unhandled] = field(default_factory=list)

    def failure(self, path: str, stage: str, outcome: Outcome[Any], timeout_s: float) -> str:
        if outcome.hung:
            exc_name, summary = "Hang", f"no answer within {timeout_s:.0f} s"
        else:
            assert outcome.error is not None
            exc_name, summary = type(outcome.error).__name__, traceback_summary(outcome.error)
        self.unhandled.append(Unhandled(path, stage, exc_name, summary))
        self.counts[f"unhandled_{stage}"] += 1
        return f"UNHANDLED {exc_name}"


def process_file(
    path: Path, corpus: Path, engine: OcrEngine, tally: Tally, timeout_s: float
) -> str:
    name = str(path.relative_to(corpus))
    data = path.read_bytes()
    start = time.perf_counter()
    intake = run_with_timeout(lambda: check_intake(data, path.name), timeout_s)
    if intake.error is not None or intake.hung:
        verdict, ocr = tally.failure(name, "intake", intake, timeout_s), "-"
    else:
        verdict = str(intake.value)
        accepted = verdict.startswith("accepted")
        tally.counts["accepted" if accepted else "refused"] += 1
        ocr = read_file(name, data, engine, tally, timeout_s) if accepted else "-"
    return f"{name}\t{verdict}\t{ocr}\t{time.perf_counter() - start:.1f}s"


def read_file(name: str, data: bytes, engine: OcrEngine, tally: Tally, timeout_s: float) -> str:
    outcome = run_with_timeout(lambda: engine.read(data), timeout_s)
    if isinstance(outcome.error, OcrError):
        tally.counts["unreadable"] += 1
        return f"unreadable {outcome.error.code}"
    if outcome.error is not None or outcome.hung or outcome.value is None:
        return tally.failure(name, "ocr", outcome, timeout_s)
    tally.counts["read"] += 1
    tally.counts["flagged"] += bool(outcome.value.flags)
    return ocr_verdict(outcome.value)


@contextmanager
def progress_bar(total: int) -> Iterator[Callable[[str], None]]:
    """A rich progress bar on stderr when it is a terminal; otherwise nothing."""
    if not sys.stderr.isatty():
        yield lambda _name: None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("peers", total=total)
        yield lambda name: progress.update(task, advance=1, description=name[-40:])


def print_summary(tally: Tally, files: int, seconds: float) -> None:
    counts = tally.counts
    print(
        f"\n{files} files in {seconds:.0f} s: accepted {counts['accepted']}, "
        f"refused {counts['refused']}; read {counts['read']} (flagged {counts['flagged']}), "
        f"unreadable {counts['unreadable']}; UNHANDLED intake {counts['unhandled_intake']}, "
        f"ocr {counts['unhandled_ocr']}"
    )
    by_type = Counter(f"{u.stage}:{u.exception}" for u in tally.unhandled)
    if by_type:
        print("unhandled by type: " + ", ".join(f"{k} ×{v}" for k, v in sorted(by_type.items())))
    for item in tally.unhandled:
        print(f"  {item.stage} {item.path}: {item.summary}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--corpus", type=Path, default=PROJECT_ROOT.parent / "shared" / "corpus" / "peers"
    )
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--lang", default="deu+eng")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per stage and file")
    args = parser.parse_args()

    corpus = args.corpus.resolve()
    files = sorted(path for path in corpus.rglob("*") if path.is_file())
    tally = Tally()
    start = time.perf_counter()
    options = OcrOptions(languages=args.lang, jobs=args.jobs)
    with OcrEngine(options) as engine, progress_bar(len(files)) as advance:
        for path in files:
            print(process_file(path, corpus, engine, tally, args.timeout), flush=True)
            advance(str(path.relative_to(corpus)))
    print_summary(tally, len(files), time.perf_counter() - start)
    return 1 if tally.unhandled else 0


if __name__ == "__main__":
    raise SystemExit(main())
