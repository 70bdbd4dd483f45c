"""What a run prints: a bar on a terminal, a line a minute otherwise, every step with --verbose,
and a summary of 5-10 lines at the end (ecx_device/runs/progress.py, outputs/summary.py)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ecx_device.cli import main
from ecx_device.runs import progress as progress_module
from ecx_device.runs.progress import Progress

CASES = Path(__file__).parents[1] / "cases"
ROW = {"bias [V]": 1.0, "current [A]": 2.5e-13, "wire_T_max [K]": 301.25,
       "wire_T_max_axial_position [nm]": 261.5}


def test_default_run_not_on_a_terminal_prints_at_most_15_lines(default_smoke_run):
    lines = (default_smoke_run.parent / "stdout.txt").read_text().splitlines()
    assert 5 <= len(lines) <= 15, lines
    assert not any(line.startswith("[step") for line in lines)  # no per-step lines
    summary = lines[next(i for i, s in enumerate(lines) if "done in" in s):]
    assert 5 <= len(summary) <= 10, summary
    assert summary[0].startswith("zhang2017_1V: complete, done in ")
    assert re.search(r"16 time steps \(0 rejected\) to t = 0\.001 s of 0\.001 s", summary[0])
    assert summary[1].startswith("  final: V = +1.000 V, I = ")
    assert any("smoke run (--smoke)" in s for s in summary)  # the report's warning
    assert summary[-1] == f"  outputs: {default_smoke_run} (report.html: one page on the run)"


def test_terminal_run_shows_a_progress_bar(tmp_path):
    """In a pseudo-terminal the default run draws rich's bar (with a percentage and ETA), not
    one line per bias point, and prints the summary."""
    primary, secondary = os.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "100"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen([sys.executable, "-m", "ecx_device", "run",
                             str(CASES / "zhang2017_1d.yaml"), "--smoke", "--out",
                             str(tmp_path / "run")], stdin=secondary, stdout=secondary,
                            stderr=secondary, env=env, close_fds=True)
    os.close(secondary)
    chunks = []
    while True:
        try:
            data = os.read(primary, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(primary)
    assert proc.wait(timeout=300) == 0
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", b"".join(chunks).decode("utf-8", "replace"))
    bars = [line for line in re.split(r"[\r\n]", text) if "\u2501" in line]  # rich's bar glyph
    assert bars, text
    assert any(re.search(r"\d+%.*ETA", line) for line in bars), bars
    assert "[1/2]" not in text and "[2/2]" not in text
    assert "zhang2017_1d: complete, done in" in text


def test_verbose_prints_every_step(tmp_path, capsys):
    assert main(["run", str(CASES / "zhang2017_1d.yaml"), "--smoke", "--verbose",
                 "--out", str(tmp_path / "run")]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^\[1/2\] t = 0\.0009 s, V = \+0\.900 V, I = ", out, re.M), out
    assert re.search(r"^\[2/2\] t = 0\.001 s, V = \+1\.000 V, I = ", out, re.M), out
    assert "done in" in out


class _Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_lines_at_most_one_per_interval_with_the_eta(monkeypatch):
    """Simulated time advancing at a steady 0.2 s per wall minute: one line a minute, and the
    ETA is the remaining simulated time over that rate."""
    clock = _Clock()
    monkeypatch.setattr(progress_module.time, "monotonic", clock)
    lines: list[str] = []
    p = Progress(lines.append, "lines")
    p.start(0.0, 1.0, "s")
    for k in range(1, 301):  # 300 steps, one per second of wall time
        clock.now += 1.0
        p.step(k / 300, ROW, lambda: "step line")
    p.stop()
    assert len(lines) == 5  # at 60, 120, ..., 300 s
    assert lines[0] == ("[ 20%] t = 0.2 s of 1 s, ETA 4m00s: V = +1.000 V, I = 2.5e-13 A, "
                        "T_max = 301.2 K at z = 261.5 nm")
    assert lines[1].startswith("[ 40%] t = 0.4 s of 1 s, ETA 3m00s: ")


def test_no_eta_while_the_time_step_grows(monkeypatch):
    """An exchange run's steps grow from microseconds: the rate so far would promise hundreds
    of hours. While the step grows by more than STEP_GROWTH between two lines the ETA is '?';
    once it holds still, the ETA is the remaining time over the rate since the last line."""
    clock = _Clock()
    monkeypatch.setattr(progress_module.time, "monotonic", clock)
    lines: list[str] = []
    p = Progress(lines.append, "lines")
    p.start(0.0, 1.0, "s")
    done, dt = 0.0, 1e-6
    for k in range(120):  # one step per wall second; the step grows for 60 s, then holds
        clock.now += 1.0
        done += dt
        p.step(done, {**ROW, "time_step [s]": dt}, lambda: "step line")
        dt = dt * 1.1 if k < 59 else dt
    p.stop()
    assert len(lines) == 2
    assert ", ETA ?: " in lines[0], lines[0]
    # 60 steps of dt in the last 60 s: dt per wall second
    eta = (1.0 - done) / dt
    assert f", ETA {progress_module._duration(eta)}: " in lines[1], lines[1]


def test_bias_points_steps_mode_and_silence():
    lines: list[str] = []
    p = Progress(lines.append, "steps")
    p.start(0, 3, "bias points")
    p.message("model: ohmic")
    p.step(1, ROW, lambda: "[1/3] V = +1.000 V")
    p.summary(["a summary line"])
    assert lines == ["model: ohmic", "[1/3] V = +1.000 V", "a summary line"]
    quiet = Progress(None)
    assert quiet.silent
    quiet.start(0, 1, "s")
    quiet.message("nothing")  # no printer to call: must not fail
    quiet.step(1, ROW, lambda: pytest.fail("a silent progress formats no line"))
    assert Progress(lines.append).mode == "steps"  # a printer of the caller's: every line
    nested = Progress(lines.append, "lines").nested()
    nested.message("not shown")
    nested.summary(["not shown"])
    assert lines[-1] == "a summary line"
    with pytest.raises(ValueError, match="progress mode 'loud'"):
        Progress(print, "loud")


def test_failed_run_summary_says_so(tmp_path, capsys):
    """A run that cannot reach its bias ends with the summary too: FAILED, the halvings of the
    failed point, the failure and where to restart from (read from the folder)."""
    import yaml

    data = yaml.safe_load((CASES / "zhang2017_1d.yaml").read_text())
    data.setdefault("solver", {})["max_temperature"] = "301 K"  # the 0.9 V point heats past it
    case = tmp_path / "case.yaml"
    case.write_text(yaml.safe_dump(data))
    assert main(["run", str(case), "--smoke", "--out", str(tmp_path / "run")]) == 3
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    summary = lines[next(i for i, s in enumerate(lines) if "FAILED" in s):]
    assert 5 <= len(summary) <= 10, summary
    assert re.match(r"zhang2017_1d: FAILED after [0-9.]+ s; 0 of 2 bias points \([1-9]\d* "
                    r"rejected bias steps\)$", summary[0]), summary[0]
    assert any("failure_report.json: cannot reach bias 0.9 V" in s for s in summary)
    assert any(f"--restart {tmp_path / 'run'}" in s for s in summary)
    assert "cannot reach bias 0.9 V" in captured.err  # and the one-line error
