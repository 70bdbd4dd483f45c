"""Scalar results: a CSV time series (one row per bias point) and a JSON summary."""

from __future__ import annotations

import csv
import json
from pathlib import Path


class SeriesWriter:
    """Append rows of named scalars to a CSV file, flushing each row (rank 0 only)."""

    def __init__(self, path: Path, rank: int = 0):
        self.path, self.rank = Path(path), rank
        self._columns: list[str] | None = None

    def append(self, row: dict[str, float]) -> None:
        """Write one row; the first row fixes the columns."""
        if self.rank != 0:
            return
        if self._columns is None:
            self._columns = list(row)
            with self.path.open("w", newline="") as f:
                csv.writer(f).writerow(self._columns)
        with self.path.open("a", newline="") as f:
            csv.writer(f).writerow([row.get(c, "") for c in self._columns])


def read_series(path: Path) -> list[dict[str, float]]:
    """Read a series CSV back as a list of rows of floats."""
    with Path(path).open() as f:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]


def write_json(path: Path, data: dict, rank: int = 0) -> None:
    """Write a JSON summary (rank 0 only)."""
    if rank == 0:
        Path(path).write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")
