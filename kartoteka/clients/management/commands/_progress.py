"""A one-line progress bar for long commands (generation, reindexing)."""

import sys
import time
from typing import TextIO


class ProgressBar:
    """`[#####.....]  45%  450,000/1,000,000  12,345/s  eta 0:44`, redrawn in place on a
    terminal; on a pipe or log file a line every tenth of the way."""

    def __init__(self, total: int, label: str, stream: TextIO | None = None) -> None:
        self.total = max(total, 1)
        self.label = label
        self.stream = stream or sys.stderr
        self.started = time.monotonic()
        self.interactive = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._last_decile = -1
        self._last_draw = 0.0

    def update(self, done: int) -> None:
        now = time.monotonic()
        finished = done >= self.total
        if self.interactive:
            if not finished and now - self._last_draw < 0.2:
                return
            self._last_draw = now
            self.stream.write("\r" + self._line(done))
            if finished:
                self.stream.write("\n")
        else:
            decile = done * 10 // self.total
            if decile == self._last_decile and not finished:
                return
            self._last_decile = decile
            self.stream.write(self._line(done) + "\n")
        self.stream.flush()

    def _line(self, done: int) -> str:
        share = min(done / self.total, 1.0)
        filled = int(share * 30)
        elapsed = max(time.monotonic() - self.started, 1e-9)
        rate = done / elapsed
        remaining = (self.total - done) / rate if rate else 0
        eta = time.strftime("%H:%M:%S", time.gmtime(remaining)) if done < self.total else ""
        return (
            f"{self.label} [{'#' * filled}{'.' * (30 - filled)}] {share:4.0%} "
            f"{done:,}/{self.total:,} {rate:,.0f}/s" + (f" eta {eta}" if eta else "")
        )

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started
