"""Progress output that suits where it goes: tqdm bars on a terminal, plain lines in logs.

A tqdm bar redraws itself with carriage returns; written to a pipe or a file that
becomes one long garbled line. :func:`bar` gives a tqdm bar when stderr (where bars
go) is a terminal, and otherwise a :class:`LineProgress` that prints nothing while it
runs except one interim line every couple of minutes (count, share done, rate, time
left: a 25-minute epoch in a log is not silent) and, when closed, at most one plain line
with the count, the elapsed time and the rate. :func:`write` prints a line without breaking an open bar, and
:func:`quiet_library_bars` keeps the Hugging Face libraries' own bars out of logs too.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any


def interactive() -> bool:
    """True when progress bars go to a terminal (stderr is a TTY)."""
    isatty = getattr(sys.stderr, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def write(line: str) -> None:
    """Print a line on stdout, above any open bar."""
    if interactive():
        from tqdm.auto import tqdm

        tqdm.write(line)
    else:
        print(line, flush=True)


def quiet_library_bars() -> None:
    """Off a terminal, turn off the Hugging Face libraries' own bars (loading weights, downloads)."""
    if interactive():
        return
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # transformers' bars and huggingface_hub's


#: seconds between a log's interim progress lines (a terminal's bar redraws itself instead)
LOG_EVERY_S = 120.0


def _duration(seconds: float) -> str:
    """95 -> '1m35s', 4000 -> '1h06m', 42 -> '42s'."""
    s = int(round(seconds))
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


def _count(value: float) -> str:
    """1234567 -> '1.23M', 950 -> '950' (like tqdm's unit_scale)."""
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= scale:
            return f"{value / scale:.3g}{suffix}"
    return f"{value:.0f}"


class LineProgress:
    """The log-friendly stand-in for a tqdm bar (same ``update``/``set_postfix``/``close``).

    Parameters
    ----------
    iterable : items to iterate over, counting one unit each (or None with ``update``).
    desc, unit : what is counted, e.g. ``"epoch 1/3"`` and ``"sample"``.
    report : print the summary line when closed (False: stay silent).
    total : units expected (default: ``len(iterable)`` when it has one); interim lines then
        say the share done and the time left.
    every : seconds between interim lines while it runs (None: none; 0: after every update).
    """

    def __init__(
        self,
        iterable: Iterable | None = None,
        desc: str = "",
        unit: str = "it",
        report: bool = True,
        total: float | None = None,
        every: float | None = LOG_EVERY_S,
    ):
        self.iterable = iterable
        self.desc = desc
        self.unit = unit
        self.report = report
        self.total = total if total is not None else getattr(iterable, "__len__", lambda: None)()
        self.every = every
        self.n = 0
        self.postfix: dict[str, Any] = {}
        self.start = self.last_line = time.perf_counter()
        self.n_at_last_line = 0.0
        self.closed = False

    def __iter__(self) -> Iterator:
        try:
            for item in () if self.iterable is None else self.iterable:
                yield item
                self.update(1)
        finally:
            self.close()

    def update(self, n: float = 1) -> None:
        """Count ``n`` more units; print an interim line when ``every`` seconds have passed."""
        self.n += n
        now = time.perf_counter()
        if self.every is not None and now - self.last_line >= self.every:
            print(self.interim(now), flush=True)
            self.last_line, self.n_at_last_line = now, self.n

    def interim(self, now: float | None = None) -> str:
        """``"epoch 1/3: 2.1k/6.7k samples (31%) in 7m00s (5 samples/s, ~15m20s left), loss=0.41"``.

        Rate and time left come from the units since the previous interim line, so a loop
        that speeds up or slows down (other jobs leaving or joining the cores) shows it.
        """
        now = time.perf_counter() if now is None else now
        elapsed = now - self.start
        recent = self.n - self.n_at_last_line
        rate = recent / max(now - self.last_line, 1e-9) if recent else self.n / max(elapsed, 1e-9)
        speed = f"{_count(rate)} {self.unit}s/s" if rate >= 1 or not self.n else f"{_duration(1 / rate)}/{self.unit}"
        done = f"{_count(self.n)} {self.unit}s"
        if self.total:
            left = f", ~{_duration((self.total - self.n) / rate)} left" if self.n else ""
            done = f"{_count(self.n)}/{_count(self.total)} {self.unit}s ({100 * self.n / self.total:.0f}%)"
        else:
            left = ""
        line = f"{self.desc}: {done} in {_duration(elapsed)} ({speed}{left})"
        return self._with_postfix(line)

    def _with_postfix(self, line: str) -> str:
        extra = ", ".join(f"{k}={v}" for k, v in self.postfix.items())
        return f"{line}, {extra}" if extra else line

    def set_postfix(self, **values: Any) -> None:
        """Values shown after the rate in the summary line (e.g. loss, lr)."""
        self.postfix = values

    def summary(self) -> str:
        """``"epoch 1/3: 1.2k samples in 4.5s (267 samples/s), loss=0.41"``."""
        elapsed = time.perf_counter() - self.start
        rate = self.n / max(elapsed, 1e-9)
        line = f"{self.desc}: {_count(self.n)} {self.unit}s in {elapsed:.1f}s ({_count(rate)} {self.unit}s/s)"
        return self._with_postfix(line)

    def close(self) -> None:
        """Print the summary line once (when reporting and something was counted)."""
        if self.closed:
            return
        self.closed = True
        if self.report and self.n:
            print(self.summary(), flush=True)


def bar(
    iterable: Iterable | None = None,
    *,
    total: float | None = None,
    desc: str = "",
    unit: str = "it",
    disable: bool = False,
    leave: bool = True,
    line_when_done: bool = True,
    unit_scale: bool = False,
) -> Any:
    """A tqdm bar on a terminal; a :class:`LineProgress` in logs, pipes and files.

    ``line_when_done=False`` keeps the log quiet for loops whose caller already prints
    one line per item (cv.py's folds); interim lines still come every ``LOG_EVERY_S``
    seconds while it runs. ``disable`` (e.g. non-zero ranks) shows nothing.
    """
    if disable or not interactive():
        return LineProgress(
            iterable,
            desc=desc,
            unit=unit,
            report=line_when_done and not disable,
            total=total,
            every=None if disable else LOG_EVERY_S,
        )
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, unit=unit, leave=leave, unit_scale=unit_scale)
