"""Residual and Jacobian terms that a physics module assembles itself, outside UFL.

Some discretisations are not integrals of a UFL integrand: the exponentially fitted (edge-averaged)
carrier fluxes of :mod:`ecx_device.physics.carriers_fitted` are sums over mesh edges of functions
of the two end nodes' values. A module offers them through the optional hook
``assembled_terms(ctx)``, which returns an object (or a list of them, or None) with

- ``pattern``: list of ``(row_field, column_field, rows, columns)``, the Jacobian entries it
  adds, in the local dof numbering of the fields (owned and ghost dofs, as in ``Function.x``);
  fixed for the problem's lifetime (and inside the sparsity of the UFL Jacobian: the module must
  also give each of those blocks a UFL term on the same cells);
- ``residual()``: ``{field: array}`` over the field's local dofs (owned and ghost; the ghost
  entries are added to their owners), evaluated at the current values of the context's fields,
  scaled like the module's UFL residual of the same equation;
- ``jacobian()``: the values of the ``pattern`` entries, one array per pattern item, same order;
- optionally ``jacobian_of``: ``{field: UFL form}``, terms of the module's own UFL residual
  whose Jacobian entries ``jacobian()`` already holds (e.g. a lumped reaction, diagonal under
  the vertex rule, from nodal derivatives): the residual keeps them, and they still shape the
  matrix's sparsity, but the Jacobian assembly skips them;
- optionally ``prepare()``: called before every assembly (of the UFL forms too), e.g. to
  refresh coefficient Functions that the module's UFL forms read and that follow other fields;
- optionally ``update_scale``: ``{field: scale}``; each Newton update of those fields' free dofs
  is then log-damped by the problem's line-search pre-check, delta -> sign(delta) s
  ln(1 + |delta|/s) (Dirichlet dofs untouched): steps much larger than s (V_T for potentials
  in exponents) shrink to a few s, steps below s are nearly unchanged, so the final quadratic
  convergence is kept. This is the ``log_damp`` update
  of TCAD codes (e.g. DEVSIM's potential update): a full Newton step of a minority quasi-Fermi
  potential in a region where its density is negligible can be tens of volts, whose exponential
  overflows.
  A field whose exponent has a sign, ``{field: (scale, side)}`` with side = -1 or +1 (the
  quasi-Fermi potentials: n ~ exp(-phi_n/V_T), p ~ exp(phi_p/V_T)), takes the Newton update of
  its Slotboom variable u = exp(side x/s) instead where that shrinks u: there x steps by
  side s ln(1 - |delta|/s), longer than delta, while growing steps keep the log damping (the
  two coincide there). The continuity equations are linear in u at fixed psi, so a minority
  carrier, which does not move psi, converges in one such step; with the symmetric damping it
  converged quadratically from each predicted start, at 3-6 extra iterations per bias of the
  Si diode of benchmarks/bench_pn_devsim.py at 0.1-0.35 V (measured 2026-12-06). u may shrink by
  at most SLOTBOOM_FLOOR in one update, and the step is never shorter than the log damping's.

:class:`TermAssembly` installs them in a DOLFINx ``NonlinearProblem`` by replacing its SNES
callbacks. Residual: DOLFINx's steps (assemble the UFL forms, lift, reverse ghost update, set the
Dirichlet rows to x - g), with the terms added to the local rows before the reverse ghost update;
the lifting - of the UFL forms and of the terms, J[row, bc] (g - x)[bc] - only when some Dirichlet
value differs from the iterate (the first Newton step after a bias change without prediction),
since otherwise it adds zero at the cost of a Jacobian-form assembly. Jacobian: DOLFINx's
assembly (Dirichlet rows and columns zeroed, unit diagonal), then the terms' entries outside
Dirichlet rows and columns as one local CSR (``MatSetValuesLocal``). The undamped Newton step is
thus the one of a single form holding everything. With ``jacobian_of`` the UFL part is the
derivative of the residual without those terms, blocks left empty are skipped, and the unit
diagonal of the Dirichlet rows comes with the CSR.
"""

from __future__ import annotations

import numpy as np

from ecx_device.fem import PETSc, dolfinx, ufl

_fem_petsc = dolfinx.fem.petsc
_cpp_petsc = dolfinx.cpp.fem.petsc

#: Smallest factor by which one Newton update may shrink a Slotboom variable (module docstring):
#: a step of at most V_T ln 10 = 2.3 V_T, beyond which the log damping's longer steps apply.
SLOTBOOM_FLOOR = 0.1


def _local_layout(b, spaces: list) -> list[np.ndarray]:
    """Index of each field's local dofs (owned, then ghost) in the local form of the (block)
    vector ``b``."""
    out = []
    blocks = b.getAttr("_blocks")
    for k, V in enumerate(spaces):
        imap = V.dofmap.index_map
        n, g = imap.size_local, imap.num_ghosts
        if blocks is None:
            out.append(np.arange(n + g, dtype=np.int32))
            continue
        owned, ghost = blocks
        out.append(np.concatenate([np.arange(owned[k], owned[k] + n),
                                   np.arange(ghost[k], ghost[k] + g)]).astype(np.int32))
    return out


def _jacobian_blocks(residuals: dict, names: list[str], functions: list):
    """Compiled Jacobian forms d residuals[i] / d u_j, None where a block is empty; one form
    (or None) for a single field."""
    du = [ufl.TrialFunction(f.function_space) for f in functions]
    blocks = []
    for n in names:
        F = residuals[n]
        row = []
        for u, d in zip(functions, du, strict=True):
            form = None if F is None else dolfinx.fem.form(ufl.derivative(F, u, d))
            row.append(form if form is not None and form.integral_types else None)
        blocks.append(row)
    return blocks[0][0] if len(names) == 1 else blocks


class TermAssembly:
    """Adds the modules' assembled terms to a ``NonlinearProblem`` (module docstring).

    Args:
        problem: The DOLFINx nonlinear problem (block or single form).
        names: Field names in the problem's block order.
        functions: The unknowns (Functions) in that order.
        bcs: The problem's Dirichlet conditions by field name.
        terms: Objects returned by the modules' ``assembled_terms`` hooks.
        jacobian_residuals: Per field, the UFL residual whose derivative is the UFL part of the
            Jacobian (None: no UFL term), when some term has ``jacobian_of``; None: the
            problem's own Jacobian forms.
    """

    def __init__(self, problem, names: list[str], functions: list, bcs: dict[str, list],
                 terms: list, jacobian_residuals: dict | None = None):
        self.problem, self.terms = problem, terms
        self.names = list(names)
        self.functions = dict(zip(names, functions, strict=True))
        spaces = [f.function_space for f in functions]
        self._vec = dict(zip(names, _local_layout(problem.b, spaces), strict=True))
        if len(spaces) == 1:
            mat = [np.arange(len(self._vec[names[0]]), dtype=np.int32)]
        else:
            self._sets = dolfinx.cpp.la.petsc.create_index_sets(
                [(V.dofmap.index_map, V.dofmap.index_map_bs) for V in spaces])
            mat = [s.getIndices().astype(np.int32) for s in self._sets]
        self._mat = dict(zip(names, mat, strict=True))
        self._bcs = {n: list(bcs.get(n, [])) for n in names}
        self._fixed = {}
        for n, f in self.functions.items():
            mask = np.zeros(len(f.x.array), dtype=bool)
            for bc in self._bcs[n]:
                mask[bc.dof_indices()[0]] = True
            self._fixed[n] = mask
        #: Assemble the UFL Jacobian from :func:`_jacobian_blocks` instead of the problem's.
        self._own_blocks = jacobian_residuals is not None
        self._blocks = (_jacobian_blocks(jacobian_residuals, names, functions)
                        if self._own_blocks else None)
        self._build_pattern()
        self._damped = self._damping()
        snes = problem.solver
        snes.setFunction(self._residual, problem.b)
        snes.setJacobian(self._jacobian, problem.A, problem.P_mat)

    def _build_pattern(self) -> None:
        """Matrix entries of all terms as one CSR in the matrix's local numbering, without
        Dirichlet rows and columns; the entries whose column is a Dirichlet dof (for lifting)."""
        rows, cols, keep, lift = [], [], [], []
        start = 0
        for t in self.terms:
            for rf, cf, r, c in t.pattern:
                free_row = ~self._fixed[rf][r]
                ok = free_row & ~self._fixed[cf][c]
                rows.append(self._mat[rf][r[ok]])
                cols.append(self._mat[cf][c[ok]])
                keep.append(start + np.flatnonzero(ok))
                on_bc = np.flatnonzero(free_row & self._fixed[cf][c])
                lift.append((rf, cf, r[on_bc], c[on_bc], start + on_bc))
                start += len(r)
        self._units = 0
        if self._own_blocks:  # the unit diagonal of the owned Dirichlet rows
            for n, f in self.functions.items():
                owned = f.function_space.dofmap.index_map.size_local
                dofs = self._mat[n][np.flatnonzero(self._fixed[n][:owned])]
                rows.append(dofs)
                cols.append(dofs)
                keep.append(start + np.arange(len(dofs)))
                start += len(dofs)
                self._units += len(dofs)
        rows = np.concatenate(rows) if rows else np.zeros(0, np.int32)
        order = np.argsort(rows, kind="stable")
        keep = np.concatenate(keep)[order] if keep else np.zeros(0, np.int64)
        self._rows, counts = np.unique(rows[order], return_counts=True)
        self._indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
        self._cols = (np.concatenate(cols)[order] if cols else cols).astype(np.int32)
        self._keep, self._lift = keep, lift

    def _damping(self) -> list[tuple[np.ndarray, float, int]]:
        """(owned free dofs in the vector's owned array, scale, side) of every damped field."""
        out = []
        for t in self.terms:
            for n, scale in getattr(t, "update_scale", {}).items():
                scale, side = scale if isinstance(scale, tuple) else (scale, 0)
                f = self.functions[n]
                owned = f.function_space.dofmap.index_map.size_local
                free = np.flatnonzero(~self._fixed[n][:owned])
                out.append((self._vec[n][free], float(scale), side))
        return out

    @property
    def damps(self) -> bool:
        """Some field's updates are log-damped (:meth:`log_damp`)."""
        return bool(self._damped)

    def log_damp(self, y) -> None:
        """Log-damp the Newton update ``y`` (x_new = x - y) in place, with the Slotboom steps
        of signed fields (module docstring; the problem's line-search pre-check calls it)."""
        arr = y.array
        for idx, scale, side in self._damped:
            d = arr[idx]  # x_new = x - d
            step = scale * np.log1p(np.abs(d) / scale)
            if side:
                shrink = side * d > 0  # u = exp(side x / s) changes by the factor 1 - side d / s
                factor = np.maximum(1.0 - np.abs(d[shrink]) / scale, SLOTBOOM_FLOOR)
                step[shrink] = np.maximum(step[shrink], -scale * np.log(factor))
            arr[idx] = np.sign(d) * step

    def _values(self) -> np.ndarray:
        """The terms' Jacobian values in pattern order, then the unit diagonal entries."""
        return np.concatenate([v for t in self.terms for v in t.jacobian()]
                              + [np.ones(self._units)])

    def prepare(self) -> None:
        """Call the terms' optional ``prepare`` hooks (before any assembly of the problem)."""
        for t in self.terms:
            if hasattr(t, "prepare"):
                t.prepare()

    def add_residual(self, arrays: dict[str, np.ndarray]) -> None:
        """Add the terms' residuals to per-field local arrays (owned and ghost dofs)."""
        for t in self.terms:
            for n, r in t.residual().items():
                arrays[n] += r

    def _gaps(self) -> dict[str, np.ndarray]:
        """(g - x) at the Dirichlet dofs of each field where some value differs (else absent)."""
        gap = {}
        for n, bcs in self._bcs.items():
            if not bcs:
                continue
            d = np.zeros_like(self.functions[n].x.array)
            for bc in bcs:
                bc.set(d, x0=self.functions[n].x.array, alpha=1.0)  # d[bc] = g - x
            if np.any(d):
                gap[n] = d
        return gap

    def _residual(self, snes, x, b) -> None:
        """DOLFINx's assemble_residual with the terms added before the reverse ghost update, and
        the lifting (of the UFL and the assembled terms) only when a Dirichlet value differs
        from the iterate: otherwise it adds zero, at the cost of a Jacobian-form assembly."""
        p = self.problem
        x.ghostUpdate(addv=PETSc.InsertMode.INSERT, mode=PETSc.ScatterMode.FORWARD)
        _fem_petsc.assign(x, p.u)
        self.prepare()
        with b.localForm() as local:
            local.set(0.0)
        _fem_petsc.assemble_vector(b, p.F)
        bcs = self._all_bcs()
        block = isinstance(p.F, list | tuple)
        gap = self._gaps()
        with b.localForm() as local:
            extra = local.array_w
            for t in self.terms:
                for n, r in t.residual().items():
                    extra[self._vec[n]] += r
            if gap:
                values = self._values()
                for rf, cf, r, c, k in self._lift:
                    if cf in gap:
                        np.add.at(extra, self._vec[rf][r], values[k] * gap[cf][c])
        if gap:
            forms = self._blocks if self._own_blocks else p.J
            if block:
                bcs1 = dolfinx.fem.bcs_by_block(
                    dolfinx.fem.extract_function_spaces(p.J, 1), bcs)
                _fem_petsc.apply_lifting(b, forms, bcs=bcs1, x0=x, alpha=-1.0)
            elif forms is not None:
                _fem_petsc.apply_lifting(b, [forms], bcs=[bcs], x0=[x], alpha=-1.0)
        b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
        if block:
            bcs0 = dolfinx.fem.bcs_by_block(dolfinx.fem.extract_function_spaces(p.F), bcs)
            _fem_petsc.set_bc(b, bcs0, x0=x, alpha=-1.0)
        else:
            _fem_petsc.set_bc(b, bcs, x0=x, alpha=-1.0)
        b.ghostUpdate(addv=PETSc.InsertMode.INSERT, mode=PETSc.ScatterMode.FORWARD)

    def _all_bcs(self) -> list:
        return [bc for n in self.names for bc in self._bcs[n]]

    def _jacobian(self, snes, x, J, P) -> None:
        p = self.problem
        x.ghostUpdate(addv=PETSc.InsertMode.INSERT, mode=PETSc.ScatterMode.FORWARD)
        _fem_petsc.assign(x, p.u)
        self.prepare()
        if not self._own_blocks:
            _fem_petsc.assemble_jacobian(snes, x, J, P, u=p.u, jacobian=p.J,
                                         preconditioner=p.preconditioner, bcs=self._all_bcs())
        else:
            J.zeroEntries()
            self._assemble_blocks(J)
        if len(self._rows):
            values = self._values()[self._keep]
            J.setValuesLocalIJV(self._indptr, self._cols, values,
                                addv=PETSc.InsertMode.ADD, rowmap=self._rows)
        J.assemble()

    def _assemble_blocks(self, J) -> None:
        """Add the UFL blocks of :func:`_jacobian_blocks` to ``J``, Dirichlet rows and columns
        left zero (their unit diagonal comes with the CSR)."""
        bcs = [bc._cpp_object for bc in self._all_bcs()]
        if not isinstance(self._blocks, list):  # one field
            if self._blocks is not None:
                _cpp_petsc.assemble_matrix(J, self._blocks._cpp_object,
                                           dolfinx.fem.pack_constants(self._blocks),
                                           dolfinx.fem.pack_coefficients(self._blocks), bcs)
            return
        for i, row in enumerate(self._blocks):
            for j, form in enumerate(row):
                if form is None:
                    continue
                sub = J.getLocalSubMatrix(self._sets[i], self._sets[j])
                _cpp_petsc.assemble_matrix(sub, form._cpp_object,
                                           dolfinx.fem.pack_constants(form),
                                           dolfinx.fem.pack_coefficients(form), bcs, True)
                J.restoreLocalSubMatrix(self._sets[i], self._sets[j], sub)

    def destroy(self) -> None:
        """Nothing of its own to destroy (the problem owns the PETSc objects)."""
