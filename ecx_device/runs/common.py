"""The run folder and the bookkeeping every kind of run shares: the folder checks, provenance
(resolved case, references, versions), results.json, failure_report.json, the case fingerprint of
checkpoints, and SIGINT/SIGTERM handling.
"""

from __future__ import annotations

import platform
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ecx_device import __version__
from ecx_device.case.loader import RESOLVED_NOTE
from ecx_device.case.schema import Case
from ecx_device.device.from_case import WIRE_EXCHANGED, region_materials
from ecx_device.errors import CaseError
from ecx_device.materials.database import references
from ecx_device.models import choose
from ecx_device.outputs.quantities import write_json
from ecx_device.runs import checkpoint
from ecx_device.runs.progress import Progress


class StopOnSignal:
    """Turn SIGINT/SIGTERM into a flag the run loop checks between steps, so a stopped run
    closes its files and writes a checkpoint instead of dying mid-write.

    Re-entrant: the outermost block installs the handler and every block inside it reads the
    same flag. A run holds one from its set-up (meshing, building the model) to its report, so a
    signal there stops the run at its first check. Without it PETSc's own SIGTERM handler, which
    petsc4py installs at import, aborts the process with a crash dump and no results.json.
    gmsh's initialisation resets SIGTERM to the default action in C, while Python still reports
    its handler; :meth:`renew` installs the handler again (the run loop calls it at every check).
    """

    _depth = 0
    _received: int | None = None
    _previous: dict[int, object] = {}

    @property
    def signal(self) -> int | None:
        """The signal received since the outermost block began, or None."""
        return StopOnSignal._received

    @staticmethod
    def _handler(signum, frame) -> None:
        StopOnSignal._received = signum

    def __enter__(self) -> StopOnSignal:
        cls = StopOnSignal
        if cls._depth == 0:
            cls._received = None
            for sig in (signal.SIGINT, signal.SIGTERM):
                try:
                    cls._previous[sig] = signal.signal(sig, cls._handler)
                except ValueError:  # not the main thread: leave signals alone
                    pass
        cls._depth += 1
        return self

    @staticmethod
    def renew() -> None:
        """Install the handler again inside a block (after a library reset the disposition)."""
        for sig in StopOnSignal._previous:
            signal.signal(sig, StopOnSignal._handler)

    def __exit__(self, *exc) -> None:
        cls = StopOnSignal
        cls._depth -= 1
        if cls._depth == 0:
            for sig, handler in cls._previous.items():
                signal.signal(sig, handler)
            cls._previous.clear()


@dataclass
class RunResult:
    """What a run produced."""

    directory: Path
    rows: list[dict[str, float]] = field(default_factory=list)
    wall_time: float = 0.0
    dofs: int = 0

    @property
    def final(self) -> dict[str, float]:
        """Scalars at the last step."""
        return self.rows[-1]


class RunFolder:
    """A run's output folder on rank 0 and the files every run writes there.

    Args:
        case: The case being run (as run: smoke changes already applied).
        out: The folder.
        comm: MPI communicator.
        smoke: The run is a smoke run (part of the checkpoint fingerprint).
        restart: Continue the run in ``out`` (it must hold a checkpoint).
        overwrite: Allow writing into a non-empty folder.
        log: How progress is shown (rank 0 only): a :class:`~ecx_device.runs.progress.Progress`,
            or a line printer for one (``print``: a bar on a terminal, periodic lines
            otherwise; another printer: every line); None is silent.

    Raises:
        CaseError: ``out`` is not empty (and neither ``restart`` nor ``overwrite``), or a
            ``restart`` folder holds no checkpoint.
    """

    def __init__(self, case: Case, out: Path, comm, *, smoke: bool = False,
                 restart: bool = False, overwrite: bool = False, log=print):
        self.case, self.out, self.comm = case, Path(out), comm
        self.smoke, self.restart = smoke, restart
        self.progress = Progress.of(log) if comm.rank == 0 else Progress(None)
        if comm.rank == 0:
            if restart and not (self.out / checkpoint.FOLDER).is_dir():
                raise CaseError(f"--restart {str(self.out)!r}: not a run folder with a "
                                "checkpoint")
            if not restart and self.out.exists() and any(self.out.iterdir()) and not overwrite:
                raise CaseError(f"output folder {str(self.out)!r} is not empty: choose another "
                                "with --out, continue it with --restart, or pass --overwrite")
            self.out.mkdir(parents=True, exist_ok=True)
        comm.barrier()

    @property
    def fingerprint(self) -> str:
        """Hash of the resolved case and the smoke flag: a checkpoint belongs to one of these
        (:func:`checkpoint.case_fingerprint`)."""
        return checkpoint.case_fingerprint(self.case, self.smoke)

    def log(self, msg: str) -> None:
        """Show a message about the run (rank 0; see :class:`Progress`)."""
        self.progress.message(msg)

    def json(self, name: str, data: dict) -> None:
        """Write ``name`` in the folder (rank 0, atomically)."""
        write_json(self.out / name, data, self.comm.rank)

    def begin(self) -> None:
        """A new run: provenance, and no stale failure report from an earlier run in an
        overwritten folder. A restart keeps the failure report of the run it continues as
        ``failure_report.before_restart.json``: it is a record, no longer the run's state (a
        restart that finished still listed the old failure among its warnings)."""
        if self.restart:
            old = self.out / "failure_report.json"
            if self.comm.rank == 0 and old.is_file():
                old.replace(self.out / "failure_report.before_restart.json")
            return
        self.write_provenance()
        if self.comm.rank == 0:
            (self.out / "failure_report.json").unlink(missing_ok=True)

    def failure(self, err, last_row: dict | None, extra: dict | None = None) -> None:
        """``failure_report.json`` for a solver error (after the checkpoint is saved)."""
        self.json("failure_report.json", {
            **(extra or {}), "message": str(err), **err.details, "last_converged": last_row,
            "checkpoint": str(self.out / checkpoint.FOLDER)})

    def write_provenance(self) -> None:
        """Resolved case (SI), references used, versions and command line."""
        if self.comm.rank != 0:
            return
        case = self.case
        resolved = {RESOLVED_NOTE: "all values in SI units (m, s, K, V, W/(m K), S/m); angles "
                                   "in rad",
                    **case.model_dump(mode="json", by_alias=True)}
        (self.out / "case.resolved.yaml").write_text(yaml.safe_dump(resolved, sort_keys=False))
        mats = region_materials(case)
        if not choose(case).composition:
            mats.pop(WIRE_EXCHANGED)
        keys = sorted({k for m in mats.values() for k in m.sources()})
        refs = references()
        self.json("references.json", {k: refs[k] for k in keys})
        self.json("provenance.json", {
            "ecx_device": __version__, "python": sys.version.split()[0],
            "platform": platform.platform(), "dependencies": _dependency_versions(),
            "command": sys.argv, "mpi_ranks": self.comm.size,
            "materials": {r: m.name for r, m in mats.items()}})


def _dependency_versions() -> dict[str, str]:
    """Installed versions of the packages a result depends on."""
    from importlib import metadata

    out = {}
    for pkg in ("dolfinx-solver-real", "fenics-dolfinx", "fenics-basix", "fenics-ffcx",
                "fenics-ufl", "petsc4py", "mpi4py", "gmsh", "numpy", "pydantic", "pint",
                "meshio", "pyvista"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            continue
    return out
