"""Monolithic electro-thermal Newton for the self-heated drift-diffusion wire (docs/model.md
5a.12, "Monolithic coupling").

The unknowns are those of the fixed point (:mod:`ecx_device.solvers.fixed_point`): the carriers
c = (psi, phi_n, phi_p) on the wire submesh and T on the whole device. The residual is the same
discrete one, so both solvers converge to the same discrete solution:

- R_c(c, T): the carrier equations (UFL forms and the fitted edge fluxes of
  :mod:`ecx_device.solvers.assembled_terms`) with the wire temperature T_w = S T, S the
  restriction of the device's Lagrange temperature to the wire's (same degree, dof to dof);
- R_T(c, T): the heat equation with the cellwise carrier heat rho(c) of :class:`CellHeat`.

One Newton step solves

    [ J_cc  J_cT ] [dc]   [R_c]        J_cc = dR_c/dc   (assembled: UFL + edge fluxes)
    [ J_Tc  J_TT ] [dT] = [R_T],       J_TT = dR_T/dT   (assembled: UFL)
                                       J_cT = dR_c/dT_w S,  J_Tc = dR_T/drho drho/dc

The diagonal blocks are the assembled Jacobians of the two problems, factorised by their own
solvers. The off-diagonal blocks are applied as directional derivatives, never assembled:
J_cT dT is the UFL derivative of R_c along S dT for Galerkin carriers and a central difference
of R_c for the fitted edge fluxes (whose T dependence, through V_T and the Bernoulli functions,
is outside UFL); J_Tc dc is a central difference of rho along dc times dR_T/drho, an assembled
linear form (the edge-flux cell heat depends on c outside UFL too). The coupled linear system
is solved by flexible GMRES preconditioned by the block lower-triangular solve (J_cc^-1, then
J_TT^-1 of the heat residual less J_Tc dc, there a cheaper forward difference), to a relative
residual of 1e-10: the Newton step is the one of the full Jacobian up to the difference error
(~1e-8 relative), and the iteration converges quadratically down to there.
"""

from __future__ import annotations

import numpy as np

from ecx_device.fem import MPI, PETSc, dolfinx, ufl
from ecx_device.solvers.fixed_point import NOT_CONVERGED, SelfHeatingProblem
from ecx_device.solvers.problem import NewtonResult

_fem_petsc = dolfinx.fem.petsc

#: Relative step of the central differences of the carrier heat (of the largest potential, at
#: least 1 V, and of the largest wire temperature): truncation ~ (step / V_T)^2 and round-off
#: ~ eps / step both near 1e-9.
DIFFERENCE_STEP = 1e-6

#: Relative step of the central difference along the wire temperature (of its largest value):
#: the truncation error ~ step^2 stays below the round-off of the carrier residual's terms.
TEMPERATURE_STEP = 1e-5

#: Largest temperature change of one Newton step (K): a longer step is shortened as a whole.
#: From a bias step of 0.25 V the undamped second step of the stage (d) wire overshot by
#: 700 K and diverged; the fixed point moves T in stages for the same reason. Steps near the
#: solution are far below this, so the final quadratic convergence is kept.
MAX_TEMPERATURE_STEP = 50.0

#: Iteration limit of the coupled linear solve: 4-10 iterations when Newton converges; a
#: linear solve that needs many more belongs to a diverging iterate (the bias step is halved).
LINEAR_MAX_ITERATIONS = 60

#: Relative residual of the coupled linear solve in each Newton step.
LINEAR_RTOL = 1e-10


def _duplicate(v):
    """A copy of the layout of ``v``, keeping DOLFINx's block offsets (``_blocks``), which
    ``Vec.duplicate`` drops and block assembly reads."""
    out = v.duplicate()
    blocks = v.getAttr("_blocks")
    if blocks is not None:
        out.setAttr("_blocks", blocks)
    return out


class _Blocks:
    """The two-block layout of the coupled vector: this rank's owned entries of the carriers'
    (block) vector, then of the heat vector."""

    def __init__(self, xc, xT):
        self.nc, self.nT = xc.getLocalSize(), xT.getLocalSize()
        comm = xc.comm
        self.vec = PETSc.Vec().createMPI((self.nc + self.nT, PETSc.DETERMINE), comm=comm)
        self.xc, self.xT = xc, xT

    def split(self, v, c, T) -> None:
        """Copy the coupled vector ``v`` into ``c`` and ``T``."""
        a = v.array_r
        c.array[:] = a[: self.nc]
        T.array[:] = a[self.nc:]
        c.ghostUpdate(addv=PETSc.InsertMode.INSERT, mode=PETSc.ScatterMode.FORWARD)
        T.ghostUpdate(addv=PETSc.InsertMode.INSERT, mode=PETSc.ScatterMode.FORWARD)

    def join(self, c, T, v) -> None:
        """Copy ``c`` and ``T`` into the coupled vector ``v``."""
        a = v.array
        a[: self.nc] = c.array_r[: self.nc]
        a[self.nc:] = T.array_r[: self.nT]


class ElectroThermalNewton(SelfHeatingProblem):
    """Carriers and heat solved by one Newton iteration (module docstring). Offers the same
    attributes and protocol as :class:`SelfHeatingProblem` (state, restore, quantities, the
    ``carriers``, ``heat`` and ``cell_heat`` parts), only :meth:`solve` differs.

    Args: as :class:`SelfHeatingProblem`; ``tolerance`` is unused (the Newton stops on the
    carriers' and the heat problem's own relative update tolerance, ``snes_stol``) and
    ``max_iterations`` is the Newton iteration limit.
    """

    def __init__(self, carriers, heat, cell_heat, cells, tolerance: float = 1e-6,
                 max_iterations: int = 50):
        super().__init__(carriers, heat, cell_heat, cells, tolerance, max_iterations)
        cp, hp = carriers.problem, heat.problem
        self.stol = max(cp.solver.getTolerances()[2], hp.solver.getTolerances()[2])
        self._xc, self._xT = _duplicate(cp.x), _duplicate(hp.x)
        self._Fc, self._FT = _duplicate(cp.b), _duplicate(hp.b)
        self._blocks = _Blocks(self._xc, self._xT)
        self._T_dev = dolfinx.fem.Function(heat.u["T"].function_space)
        self._T_sub = dolfinx.fem.Function(self.wire_T.function_space)
        # dR_T/drho along a density change: the heat residual is linear in the source
        self._drho = dolfinx.fem.Function(cell_heat.density.function_space)
        dF = ufl.derivative(heat._residual_ufl["T"], cell_heat.density, self._drho)
        self._dF_form = dolfinx.fem.form(dF)
        self._T_bc = [d for d in heat._bc_dofs["T"]]
        self._dT_wire = dolfinx.fem.Function(self.wire_T.function_space)
        self._dRc_forms = self._temperature_forms()
        #: Per iteration of the last solve: residual norms (carriers, scaled; heat, W).
        self.history: list[tuple[float, float]] = []
        self._rho_base: np.ndarray | None = None
        #: Per iteration of the last solve: largest update (carriers, V; temperature, K).
        self.steps: list[tuple[float, float]] = []
        self._ksp = self._coupled_solver()

    # -- the coupled linear operator ------------------------------------------------------------
    def _coupled_solver(self):
        comm = self.ctx.domain.mesh.comm
        n = self._blocks.vec.getLocalSize()
        A = PETSc.Mat().createPython(((n, PETSc.DETERMINE), (n, PETSc.DETERMINE)),
                                     context=_Operator(self), comm=comm)
        A.setUp()
        ksp = PETSc.KSP().create(comm)
        ksp.setOperators(A)
        ksp.setType("fgmres")
        ksp.setGMRESRestart(LINEAR_MAX_ITERATIONS)
        ksp.setTolerances(rtol=LINEAR_RTOL, atol=0.0, max_it=LINEAR_MAX_ITERATIONS)
        pc = ksp.getPC()
        pc.setType("python")
        pc.setPythonContext(_BlockTriangular(self))
        self._A = A
        return ksp

    def _assign_state(self) -> None:
        """The problems' Functions into the carrier and heat vectors."""
        c = [self.carriers.u[n] for n in self.carriers.names]
        _fem_petsc.assign(c if len(c) > 1 else c[0], self._xc)
        _fem_petsc.assign(self.heat.u["T"], self._xT)

    def _to_functions(self) -> None:
        c = [self.carriers.u[n] for n in self.carriers.names]
        _fem_petsc.assign(self._xc, c if len(c) > 1 else c[0])
        _fem_petsc.assign(self._xT, self.heat.u["T"])
        for f in (*c, self.heat.u["T"]):
            f.x.scatter_forward()
        self.wire_T.x.array[:] = self._device_temperature()

    def carrier_residual(self, F) -> None:
        """R_c at the carriers' state and the current wire temperature into ``F``."""
        self.carriers.problem.solver.computeFunction(self._xc, F)

    def heat_residual(self, F) -> None:
        """R_T at the heat state with the carrier heat of the carriers' state into ``F``."""
        self.cell_heat.update()
        self.heat.problem.solver.computeFunction(self._xT, F)

    def wire_direction(self, dT) -> np.ndarray:
        """S dT: a device temperature vector restricted to the wire's dofs (K)."""
        _fem_petsc.assign(dT, self._T_dev)
        self._T_dev.x.scatter_forward()
        self._cells.to_sub(self._T_dev, self._T_sub)
        return self._T_sub.x.array.copy()

    def heat_source_direction(self, dc, out, dT=None, central: bool = True) -> None:
        """The heat residual's change through the carrier heat rho into ``out``: J_Tc dc, plus
        with ``dT`` the part of J_TT that the heat problem's own Jacobian lacks (rho depends on
        the wire temperature through the carrier data). One central difference of rho along
        (dc, S dT) (exact to O(h^2)), or a forward difference from the state's own rho
        (``central`` false: half the cost, for the preconditioner); Dirichlet rows zero."""
        d = self.wire_direction(dT) if dT is not None else None
        dofs = self.cell_heat.device_dofs
        self._drho.x.array[:] = 0.0
        self._drho.x.array[dofs] = self._rho_change(dc, d, central)
        with out.localForm() as local:
            local.set(0.0)
        _fem_petsc.assemble_vector(out, self._dF_form)
        out.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
        owned = out.getLocalSize()
        arr = out.array
        for dofs in self._T_bc:
            arr[dofs[dofs < owned]] = 0.0

    def _rho_change(self, dc, d, central: bool = True) -> np.ndarray:
        """drho/dc dc + drho/dT_w d at the wire cells (W/m^3; central difference along the
        direction scaled to a unit largest entry, carriers in V and d in units of the largest
        wire temperature, so that h is a relative step of both)."""
        c = [self.carriers.u[n] for n in self.carriers.names]
        base = [f.x.array.copy() for f in c]
        T0 = self.wire_T.x.array.copy()
        Tmax = self._max(T0)
        norm = max(self._max(dc.array_r) / max(self._max(self._xc.array_r), 1.0),
                   self._max(d) / Tmax if d is not None else 0.0)
        if not norm > 0.0:
            return np.zeros(len(self.cell_heat.device_dofs)) * norm  # 0, or NaN: fails later
        moved = [dolfinx.fem.Function(f.function_space) for f in c]
        _fem_petsc.assign(dc, moved if len(c) > 1 else moved[0])
        for f in moved:
            f.x.scatter_forward()
        h = DIFFERENCE_STEP / norm
        if not central and self._rho_base is None:
            self._rho_base = self.cell_heat.wire_density()
        values = [] if central else [None, self._rho_base]
        for step in (h, -h) if central else (h,):
            for f, a, m in zip(c, base, moved, strict=True):
                with np.errstate(invalid="ignore"):  # a NaN direction fails the solve later
                    f.x.array[:] = a + step * m.x.array
            if d is not None:
                self.wire_T.x.array[:] = T0 + step * d
            if central:
                values.append(self.cell_heat.wire_density())
            else:
                values[0] = self.cell_heat.wire_density()
        for f, a in zip(c, base, strict=True):
            f.x.array[:] = a
        self.wire_T.x.array[:] = T0  # (cell_heat recomputes from the state when next read)
        return (values[0] - values[1]) / ((2 if central else 1) * h)

    def _temperature_forms(self) -> list | None:
        """dR_c/dT_w along ``_dT_wire`` as linear forms, one per carrier equation; None with
        the fitted edge fluxes (their T dependence is outside UFL: a central difference)."""
        if self.carriers._terms is not None:
            return None
        forms = []
        for n in self.carriers.names:
            F = self.carriers._residual_ufl[n]
            dF = ufl.algorithms.expand_derivatives(
                ufl.derivative(F, self.wire_T, self._dT_wire))
            if dF.empty():  # an equation without T: a zero form of the same test function
                v = F.arguments()[0]
                zero = dolfinx.fem.Constant(v.ufl_function_space().mesh, 0.0)
                dF = zero * v * ufl.dx(domain=v.ufl_function_space().mesh)
            forms.append(dolfinx.fem.form(dF))
        return forms

    def carrier_temperature(self, dT, out) -> None:
        """J_cT dT into ``out``: the carrier residual's change along the wire temperature S dT
        (Dirichlet rows zero)."""
        d = self.wire_direction(dT)
        norm = self._max(d)
        with out.localForm() as local:
            local.set(0.0)
        if norm == 0.0:
            return
        if self._dRc_forms is not None:  # exact: the UFL derivative
            self._dT_wire.x.array[:] = d
            forms = self._dRc_forms if len(self._dRc_forms) > 1 else self._dRc_forms[0]
            _fem_petsc.assemble_vector(out, forms)
            out.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
            bcs = self.carriers.bcs
            if len(self._dRc_forms) > 1:
                bcs = dolfinx.fem.bcs_by_block(
                    dolfinx.fem.extract_function_spaces(self._dRc_forms), bcs)
            _fem_petsc.set_bc(out, bcs, x0=self._xc, alpha=0.0)
            return
        # central difference: the residual's T dependence is weak against its terms, so a
        # one-sided difference at sqrt(eps) loses most digits to round-off
        T0 = self.wire_T.x.array.copy()
        h = TEMPERATURE_STEP * self._max(T0)
        plus = _duplicate(out)
        self.wire_T.x.array[:] = T0 + h * d / norm
        self.carrier_residual(plus)
        self.wire_T.x.array[:] = T0 - h * d / norm
        self.carrier_residual(out)
        self.wire_T.x.array[:] = T0
        out.aypx(-1.0, plus)
        out.scale(0.5 * norm / h)
        plus.destroy()

    def _max(self, a: np.ndarray) -> float:
        return self.ctx.domain.mesh.comm.allreduce(float(np.abs(a).max(initial=0.0)),
                                                   op=MPI.MAX)

    # -- Newton ----------------------------------------------------------------------------------
    def solve(self) -> NewtonResult:
        """Newton on carriers and heat together; never raises on divergence. The residual
        norms of every iteration (carrier equations, scaled; heat equation, W) are kept in
        :attr:`history`."""
        self.history, self.steps = [], []
        self.wire_T.x.array[:] = self._device_temperature()
        try:
            return self._iterate()
        except PETSc.Error as err:
            self._reset()
            return NewtonResult(False, self.iterations, -100, f"PETSc error {err}")

    def _iterate(self) -> NewtonResult:
        cp, hp = self.carriers.problem, self.heat.problem
        rhs, dx = self._blocks.vec.duplicate(), self._blocks.vec.duplicate()
        self.iterations = 0
        for k in range(self.max_iterations + 1):
            self._assign_state()
            self._rho_base = None  # the carrier heat of this iterate, when first needed
            self.carrier_residual(self._Fc)
            self.heat_residual(self._FT)
            norms = (self._Fc.norm(), self._FT.norm())
            self.history.append(norms)
            if not all(np.isfinite(norms)):
                self._reset()
                return NewtonResult(False, k, -101, "non-finite electro-thermal residual")
            if k > 0 and self._converged():
                return NewtonResult(True, k, 1)
            if k == self.max_iterations:
                break
            cp.solver.computeJacobian(self._xc, cp.A, cp.P_mat)
            hp.solver.computeJacobian(self._xT, hp.A, hp.P_mat)
            self._blocks.join(self._Fc, self._FT, rhs)
            self._ksp.solve(rhs, dx)
            residual = self._ksp.getResidualNorm()
            if self._ksp.getConvergedReason() < 0 and not residual <= 1e-6 * rhs.norm():
                self._reset()
                return NewtonResult(False, k, NOT_CONVERGED,
                                    "coupled linear solve failed "
                                    f"(KSP reason {self._ksp.getConvergedReason()})")
            self._update(dx)
            self.iterations = k + 1
        self._reset()
        return NewtonResult(False, self.iterations, NOT_CONVERGED,
                            f"electro-thermal Newton did not converge in {self.max_iterations}"
                            " iterations")

    def _update(self, dx) -> None:
        """x <- x - dx, the whole step shortened to a temperature change of at most
        MAX_TEMPERATURE_STEP, the carriers' part then limited as in their own Newton (log
        damping, iterate ranges: CoupledProblem.limit_update)."""
        dc, dT = _duplicate(self._Fc), _duplicate(self._FT)
        largest = self._max(dx.array_r[self._blocks.nc:])
        if largest > MAX_TEMPERATURE_STEP:  # a far iterate: the whole step shortened
            dx.scale(MAX_TEMPERATURE_STEP / largest)
        self._blocks.split(dx, dc, dT)
        self.carriers.limit_update(self._xc, dc)
        self._blocks.join(dc, dT, dx)
        self._step = (self._max(dc.array_r), self._max(dT.array_r))
        self.change = self._step[1]
        self.steps.append(self._step)
        self._xc.axpy(-1.0, dc)
        self._xT.axpy(-1.0, dT)
        dc.destroy()
        dT.destroy()
        self._to_functions()

    def _converged(self) -> bool:
        """Both updates below ``stol`` times their solutions' largest entries."""
        xc, xT = self._max(self._xc.array_r), self._max(self._xT.array_r)
        return self._step[0] <= self.stol * max(xc, 1.0) and self._step[1] <= self.stol * xT

    def _reset(self) -> None:
        """Drop the factorisations after a failure (MUMPS refuses later solves otherwise)."""
        self.carriers._reset_linear_solver()
        self.heat._reset_linear_solver()
        self._ksp.reset()
        self._ksp = self._coupled_solver()

    def close(self) -> None:
        """Destroy the PETSc objects of both problems and of the coupled solve."""
        self._ksp.destroy()
        self._A.destroy()
        for v in (self._xc, self._xT, self._Fc, self._FT, self._blocks.vec):
            v.destroy()
        super().close()


class _Operator:
    """PETSc Python matrix: the coupled Jacobian (module docstring) applied to a vector."""

    def __init__(self, p: ElectroThermalNewton):
        self.p = p
        self._c, self._T = _duplicate(p._Fc), _duplicate(p._FT)
        self._yc, self._yT = _duplicate(p._Fc), _duplicate(p._FT)
        self._Fh = _duplicate(p._Fc)

    def mult(self, mat, x, y) -> None:
        p = self.p
        p._blocks.split(x, self._c, self._T)
        p.carriers.problem.A.mult(self._c, self._yc)
        p.carrier_temperature(self._T, self._Fh)
        self._yc.axpy(1.0, self._Fh)
        p.heat.problem.A.mult(self._T, self._yT)
        tmp = _duplicate(self._T)
        p.heat_source_direction(self._c, tmp, self._T)
        self._yT.axpy(1.0, tmp)
        tmp.destroy()
        p._blocks.join(self._yc, self._yT, y)


class _BlockTriangular:
    """PETSc Python preconditioner: dc = J_cc^-1 r_c, dT = J_TT^-1 (r_T - J_Tc dc), with the
    linear solvers (factorisations) of the carrier and the heat problems."""

    def __init__(self, p: ElectroThermalNewton):
        self.p = p
        self._rc, self._rT = _duplicate(p._Fc), _duplicate(p._FT)
        self._yc, self._yT = _duplicate(p._Fc), _duplicate(p._FT)
        self._tmp = _duplicate(p._FT)

    def setUp(self, pc) -> None:
        p = self.p
        for prob in (p.carriers.problem, p.heat.problem):
            prob.solver.getKSP().setOperators(prob.A, prob.P_mat)

    def apply(self, pc, x, y) -> None:
        p = self.p
        p._blocks.split(x, self._rc, self._rT)
        p.carriers.problem.solver.getKSP().solve(self._rc, self._yc)
        p.heat_source_direction(self._yc, self._tmp, central=False)
        self._rT.axpy(-1.0, self._tmp)
        p.heat.problem.solver.getKSP().solve(self._rT, self._yT)
        p._blocks.join(self._yc, self._yT, y)
