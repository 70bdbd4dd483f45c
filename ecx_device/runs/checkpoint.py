"""Checkpoints: the converged state of a run, enough to continue it with ``--restart``, on any
number of MPI ranks.

A checkpoint is one .npz per MPI rank writing it, holding for every unknown (every Function of
``problem.u``, on the device mesh or the wire submesh) the values of the rank's owned degrees of
freedom and a position naming each DOF (nm: its vertex, or the midpoint of its edge), plus
``meta.json`` (bias points completed, the bias reached, a hash of the resolved case, the rank
count, the format). A restart, with the same or another rank count, rebuilds the mesh from the
same case (the mesh cache serves the very same mesh, :mod:`ecx_device.device.mesh_cache`),
reads every rank's file and gives each of its DOFs the value saved at the same position. The
positions are computed from the mesh nodes read from the file, by the same exact arithmetic on
every partition (a vertex is a node; an edge midpoint is (a + b) / 2, commutative in floating
point), so they match bit for bit: DOLFINx's ``tabulate_dof_coordinates`` does not (its vertices
come out a few ulp off, by cell). A run begun on a workstation continues on a cluster.

Every file is written atomically; ``meta.json`` last, so it only ever describes complete arrays.
Format 1 checkpoints (local arrays, same rank count only) are still read.
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
FORMAT = 2


def case_fingerprint(case, smoke: bool) -> str:
    """Hash of a resolved case (a pydantic ``Case``) and the smoke flag.

    Keys at their default value are left out, so that a checkpoint still restarts after an
    ecx_device update that adds case keys: the hash guards the case, not the code (the versions
    are in provenance.json)."""
    text = case.model_dump_json(exclude_defaults=True) + f"smoke={smoke}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def dof_positions(V) -> np.ndarray:
    """A position (nm) naming each local DOF (owned, then ghost) of a Lagrange space of degree 1
    or 2 on a first-order simplex mesh: its vertex, or the midpoint of its edge; (n, 3)."""
    import basix

    mesh = V.mesh
    nodes = mesh.geometry.dofmaps[0]
    dofs = V.dofmap.list
    vertices = mesh.topology.dim + 1
    edges = basix.topology(basix.CellType[mesh.topology.cell_type.name])[1]
    if nodes.shape[1] != vertices or dofs.shape[1] not in (vertices, vertices + len(edges)):
        raise NotImplementedError("checkpoints handle Lagrange degree 1 and 2 on simplices")
    out = np.empty((V.dofmap.index_map.size_local + V.dofmap.index_map.num_ghosts, 3))
    x = mesh.geometry.x[nodes]  # (cells, vertices, 3)
    out[dofs[:, :vertices]] = x
    if dofs.shape[1] > vertices:
        for e, (a, b) in enumerate(edges):
            out[dofs[:, vertices + e]] = (x[:, a] + x[:, b]) * 0.5
    return out


def _owned_dofs(f) -> tuple[np.ndarray, np.ndarray]:
    """Positions (n, 3; nm) and values (n, bs) of the DOFs ``f``'s rank owns."""
    V = f.function_space
    owned = V.dofmap.index_map.size_local
    bs = V.dofmap.index_map_bs
    return dof_positions(V)[:owned], f.x.array[: owned * bs].reshape(owned, bs).copy()


def _keys(x: np.ndarray) -> np.ndarray:
    """One sortable byte key per position row (exact match of the three float64)."""
    x = np.ascontiguousarray(x, dtype=np.float64) + 0.0  # + 0.0 turns -0.0 into 0.0
    return x.view(np.dtype((np.void, x.dtype.itemsize * x.shape[1]))).ravel()


def save(out: Path, problem, meta: dict) -> None:
    """Write the state of ``problem`` and ``meta`` (JSON-serialisable) under ``out/checkpoint``."""
    comm = problem.ctx.domain.mesh.comm
    folder = Path(out) / FOLDER
    if comm.rank == 0:
        folder.mkdir(parents=True, exist_ok=True)
    comm.barrier()
    arrays = {}
    for i, f in enumerate(problem.u.values()):
        arrays[f"x{i}"], arrays[f"v{i}"] = _owned_dofs(f)
    save_npz_atomic(folder / f"state_rank{comm.rank}.npz", **arrays)
    comm.barrier()
    write_json(folder / "meta.json", {**meta, "ranks": comm.size, "format": FORMAT,
                                      "fields": list(problem.u)}, comm.rank)


def load(out: Path, problem, expected_hash: str) -> dict:
    """Restore the state saved in ``out/checkpoint`` into ``problem``; returns its meta.

    Raises:
        CaseError: no checkpoint, a different case, or a checkpoint of another mesh.
    """
    comm = problem.ctx.domain.mesh.comm
    folder = Path(out) / FOLDER
    meta_path = folder / "meta.json"
    if not meta_path.is_file():
        raise CaseError(f"--restart {str(out)!r}: no checkpoint found ({meta_path} is missing)")
    meta = json.loads(meta_path.read_text())
    if meta.get("case_hash") != expected_hash:
        raise CaseError(f"--restart {str(out)!r}: the checkpoint belongs to a different case "
                        "(or to a run with/without --smoke, or to an ecx_device version before "
                        "2026-12-06); restart with the same case file")
    if meta.get("format", 1) == 1:
        problem.restore(_load_local_arrays(out, folder, meta, problem, comm))
        return meta
    if meta["fields"] != list(problem.u):
        raise CaseError(f"--restart {str(out)!r}: the checkpoint holds the fields "
                        f"{meta['fields']}, this run solves {list(problem.u)}")
    files = [np.load(folder / f"state_rank{r}.npz") for r in range(meta["ranks"])]
    try:
        state = {}
        for i, (name, f) in enumerate(problem.u.items()):
            saved_x = np.concatenate([d[f"x{i}"] for d in files])
            saved_v = np.concatenate([d[f"v{i}"] for d in files])
            state[name] = _match(saved_x, saved_v, f, out, name)
    finally:
        for d in files:
            d.close()
    problem.restore(state)
    return meta


def _match(saved_x: np.ndarray, saved_v: np.ndarray, f, out: Path, name: str) -> np.ndarray:
    """The local array of ``f`` (owned and ghost DOFs) filled from the saved DOFs at the same
    positions."""
    V = f.function_space
    saved, wanted = _keys(saved_x), _keys(dof_positions(V))
    order = np.argsort(saved, kind="stable")
    ordered = saved[order]
    pos = np.minimum(np.searchsorted(ordered, wanted), len(order) - 1)
    found = ordered[pos] == wanted
    if len(saved) != V.dofmap.index_map.size_global or not found.all():
        raise CaseError(f"--restart {str(out)!r}: checkpoint field {name!r} does not match this "
                        "mesh (was the mesh cache cleared and the mesh rebuilt with several "
                        "gmsh threads, or the case's mesh file changed?)")
    return saved_v[order[pos]].ravel()


def _load_local_arrays(out: Path, folder: Path, meta: dict, problem, comm) -> dict:
    """A format 1 checkpoint: this rank's local arrays, valid on the same rank count only."""
    if meta.get("ranks") != comm.size:
        raise CaseError(f"--restart {str(out)!r}: the checkpoint was written by {meta['ranks']} "
                        f"MPI ranks in the old format; restart with the same count (now "
                        f"{comm.size})")
    with np.load(folder / f"state_rank{comm.rank}.npz") as data:
        state = {name: data[name] for name in data.files}
    for name, arr in state.items():
        if name not in problem.u or problem.u[name].x.array.shape != arr.shape:
            raise CaseError(f"--restart {str(out)!r}: checkpoint field {name!r} does not match "
                            "this mesh")
    return state
