"""The image actually built and run: docker/verify.sh (podman, runc, debootstrap; as root).

Deselected by default (pyproject.toml: ``-m 'not container'``); it takes minutes and downloads a
Debian base and the Python stack. Run it with ``.venv/bin/python -m pytest -m container``. The
script builds a Debian trixie minbase, builds docker/Dockerfile on it, runs the default case in
smoke mode as a non-root UID with a mounted results folder and checks the files on the host, then
runs ``mpiexec -n 2`` in the image; it prints its wall times, recorded in docker/README.md.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

VERIFY = Path(__file__).parents[1] / "docker" / "verify.sh"
TOOLS = ("podman", "runc", "debootstrap")


@pytest.mark.container
def test_image_builds_and_runs():
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (apt-get install podman runc debootstrap)")
    if os.geteuid() != 0:
        pytest.skip("docker/verify.sh needs root (debootstrap, podman import)")
    proc = subprocess.run(["bash", str(VERIFY)], capture_output=True, text=True, timeout=3600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "verify: PASSED" in proc.stdout
    for step in ("base:", "image:", "smoke:", "mpi:"):
        assert step in proc.stdout, step
