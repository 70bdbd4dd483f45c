"""The Python API: run a case and get its results back as tables and meshes.

::

    import ecx_device as ecx
    case = ecx.load_case("cases/zhang2017_1V.yaml")
    case = case.replace({"bias": "0.5 V", "geometry.wire.diameter": "35 nm"})
    result = ecx.run(case, out="results/my_run", smoke=True)
    result.timeseries        # pandas DataFrame, the columns of timeseries.csv (names with units)
    result.final             # dict of the final scalars
    result.fields(time=1.0)  # pyvista mesh of the fields at the frame nearest to t = 1 s
    ecx.Result.open("results/my_run")   # the same for a run folder on disk

Cheap to import: DOLFINx is loaded by :func:`run` and :func:`run_iv` only, pandas and PyVista by
the methods that return their objects. Every name of the tables is documented in docs/outputs.md
(:mod:`ecx_device.outputs.registry`).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

from ecx_device.errors import CaseError

__all__ = ["Result", "run", "run_iv"]

_STAGE = re.compile(r"^iv_t(?P<t>[0-9.e+-]+)s$")


def _case(case):
    """A Case from a Case or the path of a case file."""
    from ecx_device.case import Case, load_case

    return case if isinstance(case, Case) else load_case(case)


def run(case, out: str | Path | None = None, *, smoke: bool = False, overwrite: bool = False,
        restart: bool = False, log=print) -> Result:
    """Run a case (``ecx-device run``) and return its :class:`Result`.

    Args:
        case: A :class:`~ecx_device.case.Case` (``load_case``, ``Case.replace``) or the path of a
            case file.
        out: Output folder (default: the case's ``outputs.directory`` or ``results/<name>``);
            it must be empty unless ``overwrite`` or ``restart``.
        smoke: Coarse mesh and shortened protocol (the case's ``smoke`` section).
        overwrite: Write into a non-empty folder.
        restart: Continue the stopped or failed run in ``out`` from its checkpoint.
        log: Progress: ``print`` (a bar on a terminal, a line a minute otherwise, then a summary),
            another line printer (every line, one per step), a
            :class:`~ecx_device.runs.progress.Progress`, or None (silent).

    Raises:
        CaseError: bad input (one line, as the CLI prints it); nothing was solved.
        SolverError: a step failed; the outputs so far and a checkpoint are in ``out``.
    """
    from ecx_device.runs.simulation import Simulation

    sim = Simulation(_case(case), out, smoke=smoke, overwrite=overwrite, restart=restart, log=log)
    done = sim.run()
    return Result(sim.out, rows=done.rows)


def run_iv(case, out: str | Path | None = None, *, smoke: bool = False, overwrite: bool = False,
           log=print) -> Result:
    """Sweep the I-V curve of a case at frozen composition (``ecx-device iv``: the case's ``iv``
    section) and return its :class:`Result` (``result.iv()`` is the table).

    Args:
        case: A Case or the path of a case file.
        out: Output folder (default ``results/<name>_iv``).
        smoke, overwrite, log: As in :func:`run`.

    Raises:
        CaseError: bad input; SolverError: a bias cannot be reached.
    """
    from ecx_device.runs.simulation import Simulation

    case = _case(case)
    sim = Simulation(case, out or Path("results") / f"{case.name}_iv", smoke=smoke,
                     overwrite=overwrite, log=log)
    done = sim.run_iv()
    return Result(sim.out, rows=done.rows)


class Result:
    """The outputs of one run, read from its folder (or handed over by :func:`run`).

    Args:
        directory: The run folder.
        rows: The rows of the run's table as the run produced them (``ecx.run``); None: read
            ``timeseries.csv`` (``iv.csv`` for an I-V sweep).

    Attributes:
        directory: The run folder.
    """

    def __init__(self, directory: str | Path, rows: list[dict[str, float]] | None = None):
        self.directory = Path(directory)
        self._rows = rows

    @classmethod
    def open(cls, directory: str | Path) -> Result:
        """The result of the run in ``directory`` (finished, stopped or failed).

        Raises:
            CaseError: ``directory`` is not a run folder.
        """
        folder = Path(directory)
        if not (folder / "results.json").is_file():
            hint = (" (a sweep folder? open one of its runs/<id> folders)"
                    if (folder / "runs").is_dir() else "")
            raise CaseError(f"Result.open {str(folder)!r}: not a run folder (no results.json); "
                            f"expected the output folder of ecx.run or ecx-device run{hint}")
        return cls(folder)

    def __repr__(self) -> str:
        return f"Result({str(self.directory)!r})"

    @property
    def summary(self) -> dict:
        """``results.json`` as a dict (undefined values None)."""
        path = self.directory / "results.json"
        if not path.is_file():
            raise CaseError(f"{path}: missing; the run stopped before writing its summary")
        return json.loads(path.read_text())

    @property
    def complete(self) -> bool:
        """The run reached its end."""
        return self.summary.get("complete") is True

    @property
    def final(self) -> dict[str, float]:
        """The final scalars (the last row of the table; undefined values NaN), keyed by the
        column names (``"current [A]"``)."""
        final = self.summary.get("final") or {}
        return {k: math.nan if v is None else v for k, v in final.items()}

    @property
    def timeseries(self):
        """The run's table as a pandas DataFrame: one row per bias point or time step, the
        columns of ``timeseries.csv`` (``iv.csv`` for an I-V sweep) with units in their names;
        undefined values NaN."""
        import pandas as pd

        if self._rows is not None:
            columns = list(self._rows[0]) if self._rows else []
            return pd.DataFrame(self._rows, columns=columns)
        name = "timeseries.csv" if (self.directory / "timeseries.csv").is_file() else "iv.csv"
        return _read_table(self.directory / name)

    @property
    def stages(self) -> list[float]:
        """Times (s) of the snapshots swept for their I-V curve (``exchange.iv_at_snapshots``)."""
        found = [_STAGE.match(p.name) for p in self.directory.glob("iv_t*s") if p.is_dir()]
        return sorted(float(m["t"]) for m in found if m)

    def iv(self, stage: float | None = None):
        """An I-V table (pandas DataFrame, the columns of ``iv.csv``).

        Args:
            stage: Time (s) of the snapshot whose I-V sweep to return (the nearest one); None:
                this folder's own sweep (``ecx-device iv``, ``ecx.run_iv``), or the only
                stage of the run.

        Raises:
            CaseError: there is no such sweep (one line saying what there is).
        """
        if stage is None and (self.directory / "iv.csv").is_file():
            return _read_table(self.directory / "iv.csv")
        stages = self.stages
        if not stages:
            raise CaseError(f"{self.directory}: no I-V table (run ecx.run_iv, or set "
                            "exchange.iv_at_snapshots: true for one per snapshot)")
        if stage is None and len(stages) > 1:
            raise CaseError(f"{self.directory}: give the stage, one of {stages} (s)")
        t = stages[0] if stage is None else min(stages, key=lambda s: abs(s - stage))
        return _read_table(self.directory / f"iv_t{t:.6g}s" / "iv.csv")

    def fields(self, time: float | None = None, series: str = "fields"):
        """The fields at the frame nearest to ``time`` as a PyVista mesh (coordinates in nm;
        arrays named as in docs/outputs.md, e.g. ``"temperature [K]"``). The frame's time
        (s; the bias in V for an I-V sweep) is in ``mesh.field_data["time"]``.

        Args:
            time: Time (s); None: the last frame.
            series: ``"fields"``, or ``"device_fields"`` (temperature on the whole device of a
                self-heated drift-diffusion run).

        Raises:
            CaseError: the run wrote no such series.
        """
        import pyvista as pv

        pvd = self.directory / series / "fields.pvd"
        if not pvd.is_file():
            raise CaseError(f"{self.directory}: no field series {series}/fields.pvd (outputs."
                            "fields: false, or no frame written yet)")
        reader = pv.PVDReader(str(pvd))
        times = list(reader.time_values)
        t = times[-1] if time is None else min(times, key=lambda s: abs(s - time))
        reader.set_active_time_value(t)
        data = reader.read()
        mesh = data[0] if data.n_blocks == 1 else data.combine()
        mesh.field_data["time"] = [t]
        return mesh


def _read_table(path: Path):
    """A series CSV as a DataFrame (empty fields NaN)."""
    import pandas as pd

    if not path.is_file():
        raise CaseError(f"{path}: missing (the run wrote no row)")
    return pd.read_csv(path)  # pandas 3 reads floats back exactly (round trip) by default
