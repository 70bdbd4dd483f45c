"""How a run reports itself while it runs: the one progress policy of the run layer.

A :class:`Progress` is given the run's messages (mesh, model, unknowns), the steps of every run
loop, and the summary at the end, and decides what to print:

- ``"bar"``: a progress bar with the ETA on simulated time (bias points for steady runs), drawn
  with rich; the default of ``print`` on a terminal;
- ``"lines"``: plain lines, at most one per ``interval`` (60 s): the default of ``print`` when
  the output is not a terminal (CI, Slurm logs, a notebook);
- ``"steps"``: one line per step (``--verbose``); the default of any other printer (a logger,
  ``list.append``), which gets every line to filter as it likes, as before this policy existed;
- ``"silent"``: nothing (``log=None``).

Only MPI rank 0 prints: the run layer gives every other rank a silent one.
"""

from __future__ import annotations

import builtins
import math
import sys
import time
from collections.abc import Callable

from ecx_device.outputs.registry import TIME_STEP
from ecx_device.outputs.summary import headline

MODES = ("auto", "bar", "lines", "steps", "silent")

#: Seconds between two periodic lines (mode "lines").
INTERVAL = 60.0

#: Growth of the time step since the last periodic line above which that line gives no ETA:
#: the rate so far then overstates the time left by that factor or more. A 3D exchange run's
#: first lines said "ETA 653h" and "ETA 2331h" while its ramp's steps grew; the run took 14
#: minutes (2026-12-06).
STEP_GROWTH = 1.2


class Progress:
    """The progress policy of a run (module docstring).

    Args:
        log: Line printer (``print``, ``logger.info``, ``list.append``); None: silent.
        mode: One of :data:`MODES`; ``"auto"``: for ``print``, ``"bar"`` when standard output
            is a terminal, else ``"lines"``; ``"steps"`` for any other printer.
        interval: Least time between two periodic lines (s).
        messages: Print messages (mesh, model, ...); False for a nested run's progress.
    """

    def __init__(self, log: Callable[[str], object] | None = print, mode: str = "auto",
                 interval: float = INTERVAL, messages: bool = True):
        if mode not in MODES:
            raise ValueError(f"progress mode {mode!r}: expected one of {', '.join(MODES)}")
        if log is None:
            mode = "silent"
        elif mode == "auto" and log is builtins.print:
            mode = "bar" if _is_terminal() else "lines"
        elif mode == "auto":
            mode = "steps"
        self.log, self.mode, self.interval, self._messages = log, mode, interval, messages
        self._bar = None
        self._task = None
        self._total, self._unit = 1.0, "s"
        self._last = (0.0, 0.0)  # (wall time, done) of the last periodic line or the start
        self._last_step: float | None = None  # time step (s) at the last line or the first step

    @classmethod
    def of(cls, log) -> Progress:
        """``log`` itself when it is a Progress, else a Progress printing with it."""
        return log if isinstance(log, Progress) else cls(log)

    def nested(self) -> Progress:
        """The progress of a run inside this one (stage I-V sweeps): same mode, no messages
        unless every step is shown."""
        return Progress(self.log, self.mode, self.interval, messages=self.mode == "steps")

    @property
    def silent(self) -> bool:
        """Nothing is printed."""
        return self.mode == "silent"

    def _print(self, text: str) -> None:
        if self._bar is not None:
            self._bar.console.print(text, markup=False, highlight=False, soft_wrap=True)
        elif self.log is not None:
            self.log(text)

    def message(self, text: str) -> None:
        """A line about the run (what is meshed, built, restarted)."""
        if not self.silent and self._messages:
            self._print(text)

    def start(self, done: float, total: float, unit: str, label: str = "") -> None:
        """A run loop begins at ``done`` of ``total`` simulated seconds (``unit`` "s") or bias
        points (a restart starts past 0)."""
        self._total, self._unit = max(float(total), 1e-300), unit
        self._last = (time.monotonic(), float(done))
        self._last_step = None
        if self.mode == "bar":
            self._bar = _rich_bar()
            self._bar.start()
            self._task = self._bar.add_task(label, total=self._total, completed=done, status="")

    def step(self, done: float, row: dict[str, float], line: Callable[[], str]) -> None:
        """A step ended at ``done`` (s or points) with ``row``; ``line()`` is its step line."""
        if self.mode == "steps":
            self._print(line())
        elif self.mode == "bar" and self._bar is not None:
            # refreshed here too: the display thread may not get the GIL during long solves
            self._bar.update(self._task, completed=done, status=self._status(done, row),
                             refresh=True)
        elif self.mode == "lines":
            now = time.monotonic()
            if self._last_step is None:
                self._last_step = row.get(TIME_STEP)
            if now - self._last[0] >= self.interval:
                self._print(self._periodic_line(now, done, row))
                self._last = (now, done)
                self._last_step = row.get(TIME_STEP)

    def stop(self) -> None:
        """The run loop ended (also by an error): remove the bar."""
        if self._bar is not None:
            self._bar.stop()
            self._bar, self._task = None, None

    def summary(self, lines: list[str]) -> None:
        """The summary at the end of a run."""
        if not self.silent and self._messages:
            for text in lines:
                self._print(text)

    # -- formatting --------------------------------------------------------------------------
    def _where(self, done: float) -> str:
        if self._unit == "s":
            return f"t = {done:.4g} s of {self._total:.4g} s"
        return f"{done:g} of {self._total:g} {self._unit}"

    def _status(self, done: float, row: dict[str, float]) -> str:
        where = (f"t = {done:.3g}/{self._total:.3g} s" if self._unit == "s"
                 else f"{done:g}/{self._total:g}")
        return f"{where}: {headline(row)}"

    def _periodic_line(self, now: float, done: float, row: dict[str, float]) -> str:
        """``[ 43%] t = 0.43 s of 1 s, 2m00s elapsed, ETA 1m20s: V = ..., I = ...``: the ETA
        from the rate since the last such line; ``?`` while the time step grows by more than
        :data:`STEP_GROWTH` between lines."""
        wall0, done0 = self._last
        rate = (done - done0) / max(now - wall0, 1e-9)
        eta = (self._total - done) / rate if rate > 0 else math.inf
        step, before = row.get(TIME_STEP), self._last_step
        if step is not None and before is not None and step > STEP_GROWTH * before:
            eta = math.inf
        percent = 100.0 * done / self._total
        return (f"[{percent:3.0f}%] {self._where(done)}, ETA {_duration(eta)}: "
                f"{headline(row)}")


def _duration(seconds: float) -> str:
    """``1h02m``, ``3m05s``, ``12s``; ``?`` when unknown."""
    if not math.isfinite(seconds):
        return "?"
    s = round(seconds)
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    if s >= 60:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s}s"


def _is_terminal() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):  # replaced or closed stdout
        return False


def _rich_bar():
    """A rich progress display: bar, percentage, elapsed, ETA, then the status of the last step
    cut to the terminal's width; removed when the loop ends (the summary follows)."""
    from rich.console import Console
    from rich.progress import (BarColumn, Progress, TaskProgressColumn, TextColumn,
                               TimeElapsedColumn, TimeRemainingColumn)
    from rich.table import Column

    console = Console(file=sys.stdout)
    status = Column(no_wrap=True, overflow="ellipsis", max_width=max(8, console.width - 52))
    return Progress(BarColumn(bar_width=24), TaskProgressColumn(), TimeElapsedColumn(),
                    TextColumn("ETA"), TimeRemainingColumn(),
                    TextColumn("{task.fields[status]}", table_column=status), console=console,
                    refresh_per_second=2, transient=True)
