"""Scalar results: a CSV time series (one row per bias point) and a JSON summary.

Both are rewritten atomically at every update, so a crash leaves the last complete version.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from ecx_device.outputs.atomic import write_text_atomic


class SeriesWriter:
    """Rows of named scalars in a CSV file, rewritten atomically per row (rank 0 only).

    Args:
        path: CSV file.
        rank: MPI rank; only rank 0 writes.
        rows: Rows already in the file (a restarted run continues them).
    """

    def __init__(self, path: Path, rank: int = 0, rows: list[dict[str, float]] | None = None):
        self.path, self.rank = Path(path), rank
        self.rows: list[dict[str, float]] = list(rows or [])

    def append(self, row: dict[str, float]) -> None:
        """Add one row; the first row fixes the columns."""
        self.rows.append(row)
        if self.rank != 0:
            return
        columns = list(self.rows[0])
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(columns)
        w.writerows([[r.get(c, "") for c in columns] for r in self.rows])
        write_text_atomic(self.path, buf.getvalue())


def read_series(path: Path) -> list[dict[str, float]]:
    """Read a series CSV back as a list of rows of floats."""
    with Path(path).open() as f:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]


def write_json(path: Path, data: dict, rank: int = 0) -> None:
    """Write a JSON file atomically (rank 0 only)."""
    if rank == 0:
        write_text_atomic(Path(path), json.dumps(data, indent=2) + "\n")
