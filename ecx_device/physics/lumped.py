"""Mass-lumped reaction terms whose Jacobian is evaluated at the nodes instead of assembled by UFL.

A term int f(u) v_i dV integrated with the vertex rule (``Domain.volume(lumped=True)``) of P1
unknowns has a diagonal Jacobian in every unknown u_k: entry (i, i) = s_i df/du_k(x_i), with s_i
the node's share of the lumped volume, int v_i dV under the same rule. UFL assembles it as a full
cell block per unknown, and the kernels evaluate f's material laws at every vertex of every cell:
on the stage (d) wire (smoke mesh), 2026-12-06, Poisson's lumped charge cost 1.7 ms per
off-diagonal block and most of the 3.1 ms of its diagonal block. Here the derivatives are one
blocked P1 interpolation on the node cover (:func:`ecx_device.nodal.interpolate`), per Jacobian.

:class:`LumpedTerm` is an ``assembled_terms`` object (solvers/assembled_terms.py) that supplies
only the Jacobian: the residual keeps the UFL term (:attr:`LumpedTerm.form`, which the module puts
in its residual), and ``jacobian_of`` tells the problem to leave it out of its own Jacobian
assembly. The derivatives are UFL's Gateaux derivatives of f along the unit function of each
unknown, so every dependence of f on an unknown is found, however f was written.

Where f has cellwise data (a jump between cells at a node), the nodal value is that of the node's
last cell (:mod:`ecx_device.nodal`) while the residual sums every cell's: the Jacobian is then
approximate at those nodes (Newton converges more slowly there, to the same solution).
"""

from __future__ import annotations

import numpy as np

from ecx_device import nodal
from ecx_device.fem import dolfinx, ufl


class LumpedTerm:
    """The term sum_rows factor_row int f(u) v_row dV (vertex rule) and its nodal Jacobian.

    Args:
        domain: The mesh and its measures (:class:`ecx_device.mesh.Domain`).
        f: The integrand (UFL, pointwise in the unknowns: no derivatives of them).
        rows: Unknown name -> factor of the term in that unknown's equation.
        unknowns: All unknowns of the problem (Functions, P1), by name.
        tests: Test functions by unknown name.
        regions: Cell regions of the integral.
    """

    def __init__(self, domain, f, rows: dict[str, float], unknowns: dict, tests: dict,
                 regions: tuple[str, ...]):
        self.rows = dict(rows)
        #: The UFL residual terms, by row (put them in the module's residual).
        self.form = {r: domain.volume(c * f * tests[r], *regions, lumped=True)
                     for r, c in self.rows.items()}
        #: Tells the problem which UFL terms the Jacobian here replaces (assembled_terms.py).
        self.jacobian_of = {r: form for r, form in self.form.items() if isinstance(form, ufl.Form)}
        V = unknowns[next(iter(self.rows))].function_space
        share = domain.volume(ufl.TestFunction(V), *regions, lumped=True)
        # owned cells' shares at the local dofs (ghost entries go to their owners with the CSR)
        share = (dolfinx.fem.assemble_vector(dolfinx.fem.form(share)).array
                 if isinstance(share, ufl.Form) else np.zeros(0))
        self._nodes = np.flatnonzero(share).astype(np.int32)
        self._share = share[self._nodes]
        derivatives, ones = {}, {}  # one unit Function per space, shared by its unknowns
        for name, u in unknowns.items():
            one = ones.get(id(u.function_space))
            if one is None:
                one = ones[id(u.function_space)] = dolfinx.fem.Function(u.function_space)
                one.x.array[:] = 1.0
            d = ufl.algorithms.expand_derivatives(ufl.derivative(f, u, one))
            if not isinstance(d, ufl.constantvalue.Zero):
                derivatives[name] = d
        self._columns = list(derivatives)
        space = dolfinx.fem.functionspace(V.mesh, ("Lagrange", 1, (max(len(derivatives), 1),)))
        self._values = dolfinx.fem.Function(space)
        unit = dolfinx.fem.Constant(V.mesh, 1.0)  # ties number-valued derivatives to the mesh
        self._expr = dolfinx.fem.Expression(
            ufl.as_vector([d * unit for d in derivatives.values()] or [0.0 * unit]),
            space.element.interpolation_points)
        self.pattern = [(r, c, self._nodes, self._nodes) for r in self.rows
                        for c in self._columns]

    def residual(self) -> dict[str, np.ndarray]:
        """Nothing: the residual is the UFL :attr:`form`."""
        return {}

    def jacobian(self) -> list[np.ndarray]:
        """The diagonal entries of :attr:`pattern` at the current unknowns."""
        nodal.interpolate(self._values, self._expr)
        values = self._values.x.array.reshape(-1, max(len(self._columns), 1))[self._nodes]
        return [factor * self._share * values[:, k] for factor in self.rows.values()
                for k in range(len(self._columns))]
