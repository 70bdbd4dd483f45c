"""Checkpoints: the converged state of a run, enough to continue it with ``--restart``.

A checkpoint is one .npz per MPI rank with the local degree-of-freedom arrays of every unknown,
plus ``meta.json`` (bias points completed, the bias reached, a hash of the resolved case, the rank
count). Meshing is deterministic, so a restart with the same case and the same number of ranks
rebuilds the same distributed mesh and reads its arrays back directly. Every file is written
atomically; ``meta.json`` last, so it only ever describes complete arrays.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from ecx_device.errors import CaseError
from ecx_device.outputs.atomic import save_npz_atomic
from ecx_device.outputs.quantities import write_json

FOLDER = "checkpoint"


def case_hash(case_json: str) -> str:
    """Fingerprint of a resolved case (JSON text)."""
    return hashlib.sha256(case_json.encode()).hexdigest()[:16]


def save(out: Path, problem, meta: dict) -> None:
    """Write the state of ``problem`` and ``meta`` (JSON-serialisable) under ``out/checkpoint``."""
    comm = problem.ctx.domain.mesh.comm
    folder = Path(out) / FOLDER
    if comm.rank == 0:
        folder.mkdir(parents=True, exist_ok=True)
    comm.barrier()
    save_npz_atomic(folder / f"state_rank{comm.rank}.npz", **problem.state())
    comm.barrier()
    write_json(folder / "meta.json", {**meta, "ranks": comm.size}, comm.rank)


def load(out: Path, problem, expected_hash: str) -> dict:
    """Restore the state saved in ``out/checkpoint`` into ``problem``; returns its meta.

    Raises:
        CaseError: no checkpoint, a different case, or a different rank count.
    """
    comm = problem.ctx.domain.mesh.comm
    folder = Path(out) / FOLDER
    meta_path = folder / "meta.json"
    if not meta_path.is_file():
        raise CaseError(f"--restart {str(out)!r}: no checkpoint found ({meta_path} is missing)")
    meta = json.loads(meta_path.read_text())
    if meta.get("case_hash") != expected_hash:
        raise CaseError(f"--restart {str(out)!r}: the checkpoint belongs to a different case "
                        "(or to a run with/without --smoke); restart with the same case file")
    if meta.get("ranks") != comm.size:
        raise CaseError(f"--restart {str(out)!r}: the checkpoint was written by {meta['ranks']} "
                        f"MPI ranks; restart with the same count (now {comm.size})")
    with np.load(folder / f"state_rank{comm.rank}.npz") as data:
        state = {name: data[name] for name in data.files}
    for name, arr in state.items():
        if name not in problem.u or problem.u[name].x.array.shape != arr.shape:
            raise CaseError(f"--restart {str(out)!r}: checkpoint field {name!r} does not match "
                            "this mesh")
    problem.restore(state)
    return meta
