"""Field output for ParaView: one ``fields.pvd`` time series (VTK XML, one .vtu/.pvtu per step).

Unknowns are written as P1 point data (higher-degree solutions are interpolated to the mesh
vertices); cellwise quantities (current density, Joule heat, conductivity, region tags) as DG0
cell data. Mesh coordinates are in nm; every field name ends in its unit.
"""

from __future__ import annotations

from pathlib import Path

from ecx_device.fem import dolfinx
from ecx_device.physics.base import Context, call_hook


class FieldWriter:
    """Context manager writing the fields of ``ctx`` to ``path`` (.pvd) at each call."""

    def __init__(self, path: Path, ctx: Context, modules: list, unknown_names: dict[str, str]):
        self.path, self.ctx, self.modules = Path(path), ctx, modules
        mesh = ctx.domain.mesh
        gdim = mesh.geometry.dim
        P1 = dolfinx.fem.functionspace(mesh, ("Lagrange", 1))
        self._dg0 = dolfinx.fem.functionspace(mesh, ("DG", 0))
        self._dg0_vec = dolfinx.fem.functionspace(mesh, ("DG", 0, (gdim,)))
        self._unknowns = {n: dolfinx.fem.Function(P1, name=unknown_names.get(n, n))
                          for n in ctx.fields}
        self._derived: dict[str, tuple[dolfinx.fem.Function, dict]] = {}
        for m in modules:
            for name, per_region in call_hook(m, "derived_fields", ctx, default={}).items():
                shape = next(iter(per_region.values())).ufl_shape
                V = self._dg0_vec if shape else self._dg0
                exprs = {r: dolfinx.fem.Expression(e, V.element.interpolation_points)
                         for r, e in per_region.items()}
                self._derived[name] = (dolfinx.fem.Function(V, name=name), exprs)
        self._region = dolfinx.fem.Function(self._dg0, name="region")
        d = ctx.domain
        for r, tag in d.cells.items():
            self._region.x.array[d.region_cells(r)] = tag
        self._file = None

    def __enter__(self) -> FieldWriter:
        mesh = self.ctx.domain.mesh
        self._file = dolfinx.io.VTKFile(mesh.comm, str(self.path), "w")
        return self

    def __exit__(self, *exc) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def write(self, t: float) -> None:
        """Write every field at time ``t`` (s)."""
        d = self.ctx.domain
        for n, out in self._unknowns.items():
            out.interpolate(self.ctx.fields[n])
        for out, exprs in self._derived.values():
            for r, e in exprs.items():
                out.interpolate(e, cells0=d.region_cells(r))
            out.x.scatter_forward()
        functions = [*self._unknowns.values(), *(f for f, _ in self._derived.values()),
                     self._region]
        self._file.write_function(functions, t)
