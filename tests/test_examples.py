"""Every script in examples/ runs in smoke mode and passes its own checks on its numbers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).parents[1] / "examples").glob("*.py"))


def test_there_are_examples():
    assert EXAMPLES


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_runs_in_smoke_mode(script, tmp_path):
    env = {**os.environ, "ECX_EXAMPLE_SMOKE": "1", "ECX_EXAMPLE_OUT": str(tmp_path)}
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "example checks passed" in proc.stdout
    assert (tmp_path / "run" / "results.json").is_file()  # it ran where it was told, in smoke
    assert '"smoke": true' in (tmp_path / "run" / "results.json").read_text()
