"""Crash-safe file writing: write a sibling temporary file, then rename it over the target.

A rename within one folder is atomic on POSIX, so a reader (or a crash) sees either the previous
complete file or the new complete file, never a half-written one.
"""

from __future__ import annotations

import os
from pathlib import Path


def write_text_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def save_npz_atomic(path: Path, **arrays) -> None:
    """Write a NumPy .npz archive atomically."""
    import numpy as np

    path = Path(path)
    tmp = path.with_name(f".{path.stem}.tmp.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, path)
