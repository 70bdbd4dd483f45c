"""Field output for ParaView: ``fields/fields.pvd``, one time series over every bias point.

The data of each step are VTK XML files written by DOLFINx (``fields/data/``: one .pvtu plus one
.vtu per rank). The ``fields.pvd`` index that ParaView opens is written by this module, atomically,
after every step, so it always lists complete steps only, survives a crash, and a restarted run
extends it. Unknowns are P1 point data (higher-degree solutions interpolated to the vertices);
modules' point fields (composition) are P1 too; cellwise quantities (current density, Joule heat,
conductivity, region tags) are DG0 cell data.
Mesh coordinates are in nm; every field name ends in its unit.
"""

from __future__ import annotations

import json
from pathlib import Path

from ecx_device.fem import dolfinx
from ecx_device.outputs.atomic import write_text_atomic
from ecx_device.outputs.quantities import write_json
from ecx_device.physics.base import Context, call_hook


class FieldWriter:
    """Context manager writing the fields of ``ctx`` into ``folder`` at each :meth:`write`.

    Args:
        folder: Output folder (``<run>/fields``).
        ctx: Context holding the fields.
        modules: Physics modules (their ``derived_fields`` are written too).
        unknown_names: Output name (with unit) of each unknown.
        continue_series: Extend the series already in ``folder`` (restart) instead of starting
            a new one.
    """

    def __init__(self, folder: Path, ctx: Context, modules: list, unknown_names: dict[str, str],
                 continue_series: bool = False):
        self.folder, self.ctx = Path(folder), ctx
        self._continue = continue_series
        mesh = ctx.domain.mesh
        gdim = mesh.geometry.dim
        P1 = dolfinx.fem.functionspace(mesh, ("Lagrange", 1))
        dg0 = dolfinx.fem.functionspace(mesh, ("DG", 0))
        dg0_vec = dolfinx.fem.functionspace(mesh, ("DG", 0, (gdim,)))
        self._unknowns = {n: dolfinx.fem.Function(P1, name=unknown_names.get(n, n))
                          for n in ctx.fields}
        self._derived: list[tuple[dolfinx.fem.Function, dict]] = []
        for m in modules:
            for name, per_region in call_hook(m, "derived_fields", ctx, default={}).items():
                shape = next(iter(per_region.values())).ufl_shape
                V = dg0_vec if shape else dg0
                exprs = {r: dolfinx.fem.Expression(e, V.element.interpolation_points)
                         for r, e in per_region.items()}
                self._derived.append((dolfinx.fem.Function(V, name=name), exprs))
        self._points: list[tuple[dolfinx.fem.Function, object]] = []
        for m in modules:
            for name, expr in call_hook(m, "point_fields", ctx, default={}).items():
                self._points.append((dolfinx.fem.Function(P1, name=name),
                                     dolfinx.fem.Expression(expr, P1.element.interpolation_points)))
        self._region = dolfinx.fem.Function(dg0, name="region")
        d = ctx.domain
        for r, tag in d.cells.items():
            self._region.x.array[d.region_cells(r)] = tag
        self._index_path = self.folder / "index.json"
        self._steps: list[tuple[float, str]] = []
        self._file = None
        self._part = ""
        self._count = 0

    def __enter__(self) -> FieldWriter:
        comm = self.ctx.domain.mesh.comm
        if comm.rank == 0:
            (self.folder / "data").mkdir(parents=True, exist_ok=True)
        comm.barrier()
        if self._continue and self._index_path.exists():  # a restarted run extends the series
            self._steps = [tuple(s) for s in json.loads(self._index_path.read_text())]
        parts = {Path(f).name.rsplit("_", 1)[0] for _, f in self._steps}
        self._part = f"part{len(parts) + 1}_"
        self._file = dolfinx.io.VTKFile(comm, str(self.folder / "data" / f"{self._part}.pvd"),
                                        "w")
        return self

    def __exit__(self, *exc) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
            # DOLFINx's own per-part index is redundant with fields.pvd; drop it to avoid confusion
            own = self.folder / "data" / f"{self._part}.pvd"
            if self.ctx.domain.mesh.comm.rank == 0 and own.exists():
                own.unlink()

    def write(self, t: float) -> None:
        """Write every field at time ``t`` (s) and update the index."""
        d = self.ctx.domain
        for n, out in self._unknowns.items():
            out.interpolate(self.ctx.fields[n])
        for out, expr in self._points:
            out.interpolate(expr)
        for out, exprs in self._derived:
            for r, e in exprs.items():
                out.interpolate(e, cells0=d.region_cells(r))
            out.x.scatter_forward()
        functions = [*self._unknowns.values(), *(f for f, _ in self._points),
                     *(f for f, _ in self._derived), self._region]
        self._file.write_function(functions, t)
        self._steps.append((t, f"data/{self._part}{self._count:06d}.pvtu"))
        self._count += 1
        write_json(self._index_path, self._steps, d.mesh.comm.rank)
        if d.mesh.comm.rank == 0:
            write_text_atomic(self.folder / "fields.pvd", _pvd(self._steps))


def _pvd(steps: list[tuple[float, str]]) -> str:
    """A ParaView collection file listing the steps in time order."""
    rows = "\n".join(f'    <DataSet timestep="{t:.17g}" part="0" file="{f}"/>' for t, f in steps)
    return ('<?xml version="1.0"?>\n<VTKFile type="Collection" version="1.0">\n  <Collection>\n'
            f"{rows}\n  </Collection>\n</VTKFile>\n")


class FieldWriters:
    """Several :class:`FieldWriter` series written at the same times (e.g. the carriers on the
    wire mesh and the temperature on the whole device of a self-heated drift-diffusion run)."""

    def __init__(self, writers: list[FieldWriter]):
        self.writers = writers

    def __enter__(self) -> FieldWriters:
        for w in self.writers:
            w.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        for w in self.writers:
            w.__exit__(*exc)

    def write(self, t: float) -> None:
        """Write every series at time ``t``."""
        for w in self.writers:
            w.write(t)
