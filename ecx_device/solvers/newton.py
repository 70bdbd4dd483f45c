"""Newton: join physics modules on one mesh into one block problem (PETSc SNES).

Each module names its unknowns and returns weak-form contributions keyed by test field; this layer
creates one Lagrange space per unknown, sums the contributions, gathers the Dirichlet conditions and
builds a single block ``NonlinearProblem`` (PETSc SNES, full Newton steps; direct LU, or Krylov
+ algebraic multigrid for large 3D diffusion problems: :func:`linear_solver`). It never branches
on which modules are present.
"""

from __future__ import annotations

import itertools
import math
import weakref
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ecx_device import nodal
from ecx_device.fem import MPI, PETSc, dolfinx, ufl
from ecx_device.physics.base import (
    Context,
    call_hook,
    default_quadrature,
    residual_quadrature_degree,
)
from ecx_device.solvers.assembled_terms import TermAssembly
from ecx_device.solvers.factor_room import FactorRoom
from ecx_device.solvers.problem import NewtonResult

#: Default SNES/KSP options; ``solver.petsc_options`` in a case overrides entries.
# Convergence is judged on the Newton update only (stol: |du| <= stol |u|; rtol off): the
# residual blocks carry different units (A, W) and the first residual of a bias step is dominated
# by the jump of the Dirichlet rows (V, K), so a relative residual test stops an iteration early.
DEFAULT_PETSC_OPTIONS = {
    "snes_type": "newtonls",
    "snes_linesearch_type": "basic",
    "snes_atol": 1e-30,
    "snes_rtol": 0.0,
    "ksp_type": "preonly",
    "pc_type": "lu",
    "ksp_error_if_not_converged": False,
}

_prefix_counter = itertools.count()

#: Iteration limit of a frozen-Jacobian solve (:meth:`CoupledProblem.solve_frozen`) before it
#: falls back to Newton: a chord iteration that needs more has a Jacobian too far off to pay.
FROZEN_MAX_ITERATIONS = 6


def _lu_package() -> str:
    """Best available parallel direct solver of this PETSc build."""
    for pkg in ("mumps", "superlu_dist"):
        if PETSc.Sys().hasExternalPackage(pkg):
            return pkg
    return "petsc"


#: Unknowns of diffusion (elliptic) equations, for which algebraic multigrid is made: the
#: electric potential (current continuity), the temperature and the electrostatic potential.
AMG_UNKNOWNS = frozenset({"phi", "T", "psi"})

#: Smallest 3D problem (global DOFs) solved by Krylov + AMG. Measured on the ohmic device at
#: 1 V: at 16.7k DOFs MUMPS spent 4.3 s of a 7.6 s Newton solve factorising, GMRES + GAMG took
#: 3.9 s in all; much smaller problems factorise in well under a second.
KRYLOV_MIN_DOFS = 10_000


def linear_solver(tdim: int, names, dofs: int) -> dict:
    """PETSc options of the linear solve inside each Newton step, by dimension and size.

    - 1D, 2D, 3D below :data:`KRYLOV_MIN_DOFS`, or an unknown outside :data:`AMG_UNKNOWNS`
      (carriers, ions: drift-dominated or reaction equations): direct LU (MUMPS if present,
      set by the caller as ``pc_factor_mat_solver_type``).
    - Otherwise (3D heat, ohmic and Poisson blocks): GMRES preconditioned by PETSc's GAMG, one
      V-cycle per field; several fields (phi, T) are split by field and swept in block
      Gauss-Seidel order (``pc_fieldsplit_type multiplicative``). Each linear solve stops at a
      relative residual set from the Newton residual's decrease (Eisenstat-Walker,
      ``snes_ksp_ew``), never looser than 1e-4 and tighter as Newton converges, so the iterates
      converge like exact Newton without solving early steps to round-off.

    Entries of ``solver.petsc_options`` override these (``fieldsplit_<unknown>_...`` reach one
    field's solver, e.g. ``fieldsplit_T_pc_type: lu``); one that sets ``pc_type`` replaces this
    choice altogether (e.g. ``{ksp_type: preonly, pc_type: lu}`` for LU in 3D).

    Args:
        tdim: Topological dimension of the mesh.
        names: The unknowns of the problem.
        dofs: Global number of degrees of freedom of all unknowns.
    """
    if tdim < 3 or dofs < KRYLOV_MIN_DOFS or not set(names) <= AMG_UNKNOWNS:
        return {"ksp_type": "preonly", "pc_type": "lu"}
    # the aggregates (prolongation) of the first Newton step serve the later ones: the sparsity
    # and the coefficients' pattern do not change, only their values
    amg = {"pc_type": "gamg", "pc_gamg_threshold": 0.01, "pc_gamg_reuse_interpolation": True}
    # A Newton step (assembly and AMG set-up) costs ~10-30 GMRES iterations here and the ohmic
    # electro-thermal problem is nearly linear, so the linear tolerance starts tight (1e-6) and
    # never exceeds 1e-4; EW then tightens it as the Newton residual falls.
    options = {"ksp_type": "gmres", "ksp_gmres_restart": 100, "ksp_max_it": 1000,
               "ksp_rtol": 1e-6, "ksp_atol": 0.0, "snes_ksp_ew": True,
               "snes_ksp_ew_rtol0": 1e-6, "snes_ksp_ew_rtolmax": 1e-4}
    if len(names) == 1:
        return options | amg
    options |= {"pc_type": "fieldsplit", "pc_fieldsplit_type": "multiplicative"}
    for name in names:
        options |= {f"fieldsplit_{name}_ksp_type": "preonly"}
        options |= {f"fieldsplit_{name}_{k}": v for k, v in amg.items()}
    return options


def _set_field_splits(problem, spaces: dict, options: dict) -> None:
    """Name the field blocks of a block ``NonlinearProblem`` for ``pc_type fieldsplit`` and apply
    the ``fieldsplit_<name>_`` options to each block's solver.

    A block vector holds, on each rank, the owned DOFs of the first field, then of the second, ...
    The NonlinearProblem clears its options before the split solvers exist, so they are set here.
    """
    pc = problem.solver.getKSP().getPC()
    start = problem.A.getOwnershipRange()[0]
    splits = []
    for name, V in spaces.items():
        size = V.dofmap.index_map.size_local * V.dofmap.index_map_bs
        splits.append((name, PETSc.IS().createStride(size, start, 1, comm=problem.A.comm)))
        start += size
    pc.setFieldSplitIS(*splits)
    db = PETSc.Options()
    prefix = problem.solver.getOptionsPrefix()
    split_options = {k: v for k, v in options.items() if k.startswith("fieldsplit_")}
    for k, v in split_options.items():
        db[prefix + k] = v
    for sub in pc.getFieldSplitSubKSP():
        sub.setFromOptions()
        sub.getPC().setFromOptions()
    for k in split_options:
        db.delValue(prefix + k)


def choose_linear_solver(domain, names, dofs: int, user: dict, bounded: bool = False) -> dict:
    """The linear solver of a Newton problem: the one place that chooses it.

    A ``pc_type`` in the user's ``solver.petsc_options`` replaces the whole choice; a
    ``pc_factor_mat_solver_type`` keeps direct LU with that package (so that the 1D options of
    :func:`_direct_solver_options` do not reach another package: MUMPS given the RCM ordering was
    60x slower). Otherwise large 3D elliptic blocks get Krylov + AMG (:func:`linear_solver`) and
    everything else direct LU (:func:`_direct_solver_options`).

    Args:
        domain: The problem's Domain.
        names: Its unknowns.
        dofs: Global number of degrees of freedom.
        user: The case's ``solver.petsc_options``.
        bounded: The problem is a variational inequality (reduced-space Newton): its linear
            system is a new matrix in every Newton iteration, so the factorisation's symbolic
            phase is repeated every time.
    """
    if "pc_type" in user:
        return dict(user)
    if "pc_factor_mat_solver_type" in user:
        return {"ksp_type": "preonly", "pc_type": "lu", **user}
    krylov = linear_solver(domain.mesh.topology.dim, names, dofs)
    if krylov.get("pc_type") != "lu":
        return {**krylov, **user}
    return {**krylov, **_direct_solver_options(domain, bounded), **user}


#: MUMPS's fill-reducing ordering (ICNTL(7)) of a bounded problem in 2D: approximate minimum fill
#: instead of MUMPS's automatic choice (METIS here). The reduced-space Newton factorises a new
#: matrix in every iteration, and METIS's analysis cost more than the numeric factorisation: in
#: the default case (2026-12-06, 166 ion Newton iterations) analysis 6.49 s and numeric 2.85 s
#: against 0.98 s and 2.61 s with AMF, the run 18.3 s -> 11.9 s, its results the same to the
#: digits printed. In 3D the two came out even (the side-contact case with doubled cell sizes:
#: METIS 36.5 s, AMF 35.4 s, AMD 38.7 s, AMF's numeric factorisations 1.5 times METIS's), and a
#: finer 3D mesh makes the numeric part grow faster, so 3D keeps METIS. An unbounded problem
#: analyses once per problem (stage (c)'s sweep: numeric 13.3 s with METIS, 16.3 s with AMF).
BOUNDED_2D_MUMPS_ORDERING = 2


def _direct_solver_options(domain, bounded: bool = False) -> dict:
    """Direct LU by problem size.

    A serial 1D problem: PETSc's own LU with reverse Cuthill-McKee ordering - the interval's
    matrix is banded, so the factors have no fill beyond the band and there is no external
    package's set-up (sweep 0.27 s against 0.37 s with MUMPS on the 1001-node diode of
    benchmarks/bench_pn_devsim.py) - with the zero-pivot test off: PETSc's LU does not pivot, and
    the scaled rows of a CdS/Cu2S heterojunction carry densities of 1e-40 C_0, whose small but
    valid pivots it refused. Otherwise (2D, 3D, or in parallel) MUMPS, else SuperLU_DIST. PETSc
    refactorises numerically only while the sparsity is unchanged, so the symbolic phase
    (ordering, analysis) is done once per problem (counted: one MatLUFactorSym per sweep), but
    for a ``bounded`` problem, whose reduced system is a new matrix in every iteration: in 2D
    it gets the cheaper ordering :data:`BOUNDED_2D_MUMPS_ORDERING`."""
    if domain.mesh.topology.dim == 1 and domain.mesh.comm.size == 1:
        return {"pc_factor_mat_solver_type": "petsc", "pc_factor_mat_ordering_type": "rcm",
                "pc_factor_zeropivot": 0.0}
    package = _lu_package()
    if bounded and package == "mumps" and domain.mesh.topology.dim == 2:
        return {"pc_factor_mat_solver_type": package,
                "mat_mumps_icntl_7": BOUNDED_2D_MUMPS_ORDERING}
    return {"pc_factor_mat_solver_type": package}


def argmax_owner(values: np.ndarray, comm) -> tuple[int, int]:
    """Where ``values`` (this rank's owned entries) is largest over every rank: (its local index
    on the owning rank, -1 elsewhere; the owning rank)."""
    i = int(np.argmax(values)) if values.size else -1
    _, owner = comm.allreduce((float(values[i]) if i >= 0 else -np.inf, comm.rank),
                              op=MPI.MAXLOC)
    return (i if comm.rank == owner else -1), owner


@dataclass(frozen=True)
class ConvergenceGroup:
    """Unknowns whose Newton convergence is judged together, with their own tolerances: the
    group has converged when its residual fell below ``atol`` or by ``rtol`` from its first
    value, or its update is below ``stol`` times its solution norm.

    Equations of different units in one problem (the ions' m^3/s beside the carriers' scaled,
    O(1) residuals) cannot share one residual norm: the larger would decide alone."""

    names: tuple[str, ...]
    rtol: float
    stol: float
    atol: float = 0.0
    #: The update test counts only with the group's residual at most this (a weighted update
    #: test hides a walking unknown whose neighbours' residuals it spoils).
    update_residual: float = math.inf


#: Iterations without the residual halving after which weighted Newton counts as stalled.
STALL_ITERATIONS = 3

#: Largest weighted update (V: the weighted problems' unknowns are potentials) of a weighted
#: Newton stalled at its round-off floor that counts as converged
#: (:meth:`StallAtRoundoff._settled`). 1e-4 V is 2.3e-3 V_T at 500 K: where a density is not
#: negligible it moves by at most 0.2 %, while every residual is already at round-off. The
#: cycle it ends: phi_p jumping by +-0.036 V (weighted 9.5e-8 V) at p ~ 1e-18 C_0, residual
#: 3e-13 (Li anode, 2 V, 500 K).
SETTLED_UPDATE = 1e-4

#: Largest scaled carrier residual at which an update test may end Newton when only the
#: weighted update passes it, or when an iterate was held at its range: a quasi-Fermi potential
#: walked off to where its density is nil drops out of the weighted update (or sits still at the
#: range's end) while its neighbours' residuals stay at ~3e-8 (phi_n at psi + 500 V_T in the
#: converted part of the wire, Li anode, 0.1 V, 500 K). The plain update test needs no such
#: bound: the stage (b) wire's residual stalls at 1.0-1.4e-10.
WEIGHTED_UPDATE_RESIDUAL = 1e-10

#: Largest change of a ranged unknown (a quasi-Fermi potential) a bias prediction may make,
#: in bias steps (:meth:`CoupledProblem.admit_prediction`).
PREDICTION_SHIFT = 2.0

#: Contraction of Newton's update (largest entry against the last one's) at or below which the
#: rest of a solve keeps the Jacobian and its factorisation (:attr:`StallAtRoundoff.lag`): Newton
#: is then in its quadratic phase, and the chord iteration converges at about that rate, a
#: residual and a back-substitution per iteration instead of an assembly and a factorisation.
LAG_CONTRACTION = 0.1

#: Round-off floor of the scaled carrier residuals (O(1) terms; they stall at 2-3e-13).
SCALED_RESIDUAL_FLOOR = 1e-12


class StallAtRoundoff:
    """SNES convergence test of the bounded (VI) and the grouped problems: PETSc's criteria
    applied here (relative and absolute residual, relative update ``snes_stol``, iteration
    limit), per :class:`ConvergenceGroup` when groups are given, plus convergence when an
    iterate stops changing in floating point after the residual has fallen by ``reduction``.

    With PETSc's own test, the reduced-space VI Newton (``vinewtonrsls``) ran to its iteration
    limit at a steady trickle of Cu (residual 3e-31 -> 9e-37, then 39 identical iterates; the
    relative-update criterion never stopped it), and the step was cut to 1.6e-12 s (ladder case
    at 0 V; tests/test_exchange_run.py::test_steady_trickle_is_not_cut_to_picosecond_steps).
    Here the update criterion stops it. A stall can also keep the residual norm bit for bit
    while the iterate flickers: the reduced-space method toggling unknowns of ~1e-40 in and out
    of the active set (displaced-Cd runs, snes_vi_zero_tolerance 1e-30: fnorm 1.4808e-40 for 37
    iterations to the limit); an unchanged residual norm after the same fall counts as stalled.

    Args:
        comm: The mesh's communicator.
        reduction: Residual reduction after which an unchanged iterate, or an unchanged
            residual norm, counts as converged.
        groups: (group, this rank's indices of the group's entries in the SNES vector) pairs;
            None: one group of everything, with the SNES tolerances.
        bounds: (lower, upper) bound vectors of a VI problem: a group's residual leaves out
            the rows held at a bound, as the VI solver's own norm does.
        weights: Callable giving a weight in [0, 1] for each entry of this rank's part of the
            SNES vector at the current iterate; an update test then measures each entry's
            update times the larger of its weights at the two iterates (the modules'
            ``update_weights`` hooks: a quasi-Fermi potential whose density is negligible
            drops out of the test). None: every weight 1.
    """

    def __init__(self, comm, reduction: float = 1e-5,
                 groups: list[tuple[ConvergenceGroup, np.ndarray]] | None = None,
                 bounds: tuple | None = None, weights: Callable[[], np.ndarray] | None = None):
        self.comm, self.reduction, self.groups, self.bounds = comm, reduction, groups, bounds
        self.weights = weights
        self._previous_weights: np.ndarray | None = None
        #: Keep the Jacobian for the next iteration (LAG_CONTRACTION); set per iteration.
        self.lag = False
        self._last_step = 0.0
        self._f0 = 0.0
        self._group_f0: list[float] = []
        self._previous: np.ndarray | None = None
        self._previous_fnorm: float | None = None
        self._fnorms: list[float] = []
        self._group_f: list[float] = []
        self._raw_update = np.empty(0)
        #: The last update was cut by an iterate range (CoupledProblem.limit_update): an iterate
        #: held there stops moving without converging, so its update proves nothing.
        self.held = False

    def __call__(self, snes, it: int, norms: tuple[float, float, float]) -> int:
        reasons = PETSc.SNES.ConvergedReason
        xnorm, snorm, fnorm = norms
        rtol, atol, stol, max_it = snes.getTolerances()
        x = snes.getSolution().array_r
        previous = self._previous
        unchanged = previous is not None and np.array_equal(x, previous)
        unchanged |= it > 0 and fnorm == self._previous_fnorm
        self._previous = x.copy()
        self._previous_fnorm = fnorm
        dx = self._weighted_update(x, previous if it > 0 else None)
        self._lag_next(it)
        if it == 0:
            self._f0 = fnorm
            self._fnorms = []
        self._fnorms.append(fnorm)
        if not np.isfinite(fnorm):
            return reasons.DIVERGED_FNORM_NAN
        if self.groups:
            done = self._groups_converged(snes, it, x, dx)
            if done:
                return reasons.CONVERGED_FNORM_RELATIVE
        elif fnorm <= atol:
            return reasons.CONVERGED_FNORM_ABS
        if it == 0:
            return reasons.ITERATING
        if not self.groups:
            if fnorm <= rtol * self._f0:
                return reasons.CONVERGED_FNORM_RELATIVE
            if snorm < stol * xnorm and (not self.held or self._residuals_allow_updates(fnorm)):
                return reasons.CONVERGED_SNORM_RELATIVE  # PETSc's update norm: unweighted
            weighted = (float(np.sqrt(self.comm.allreduce(float(dx @ dx), op=MPI.SUM)))
                        if dx is not None else snorm)
            if weighted < stol * xnorm and self._residuals_allow_updates(fnorm):
                return reasons.CONVERGED_SNORM_RELATIVE
            if self._settled(dx):
                return reasons.CONVERGED_SNORM_RELATIVE
        stalled = self.comm.allreduce(bool(unchanged), op=MPI.LAND)
        if stalled and fnorm <= self.reduction * self._f0 and self._residuals_allow_updates(fnorm):
            return reasons.CONVERGED_SNORM_RELATIVE  # stalled at round-off: no update is left
        return reasons.DIVERGED_MAX_IT if it >= max_it else reasons.ITERATING

    def _lag_next(self, it: int) -> None:
        """Decide :attr:`lag` from the last update's contraction: on once it contracted by
        LAG_CONTRACTION, off again when a chord iteration fails to halve it."""
        step = (self.comm.allreduce(float(np.max(np.abs(self._raw_update), initial=0.0)),
                                    op=MPI.MAX) if it > 0 else 0.0)
        last, self._last_step = self._last_step, step
        if it <= 1 or not last > 0.0:
            self.lag = False
        elif self.lag:
            self.lag = step <= 0.5 * last
        else:
            self.lag = step <= LAG_CONTRACTION * last

    def _residuals_allow_updates(self, fnorm: float) -> bool:
        """No residual forbids ending Newton on its updates: a weighted problem's residual is
        at most WEIGHTED_UPDATE_RESIDUAL, each group's at most its ``update_residual``."""
        if self.groups:
            return all(f <= g.update_residual for (g, _), f in zip(self.groups, self._group_f))
        return self.weights is None or fnorm <= WEIGHTED_UPDATE_RESIDUAL

    def _settled(self, update: np.ndarray | None) -> bool:
        """Weighted Newton at its round-off floor: the residual is at most SCALED_RESIDUAL_FLOOR
        and stopped falling (not halved in each of the last STALL_ITERATIONS iterations), while
        no weighted update exceeds SETTLED_UPDATE. Only with ``weights``."""
        if self.weights is None or update is None or len(self._fnorms) <= STALL_ITERATIONS:
            return False
        recent = self._fnorms[-STALL_ITERATIONS - 1:]
        stalled = all(b > 0.5 * a for a, b in itertools.pairwise(recent))
        low = recent[-1] <= SCALED_RESIDUAL_FLOOR
        small = self.comm.allreduce(float(np.max(np.abs(update), initial=0.0)),
                                    op=MPI.MAX) <= SETTLED_UPDATE
        return stalled and low and small

    def _weighted_update(self, x: np.ndarray, previous: np.ndarray | None) -> np.ndarray | None:
        """The last update, each entry times the larger of its weights before and after it
        (None at the first iterate; unweighted without ``weights``)."""
        w = self.weights() if self.weights is not None else None
        w_before, self._previous_weights = self._previous_weights, w
        if previous is None:
            return None
        dx = self._raw_update = x - previous
        return dx if w is None else dx * np.maximum(w, w_before)

    def _groups_converged(self, snes, it: int, x: np.ndarray, update) -> bool:
        """Every group met one of its criteria (:class:`ConvergenceGroup`); ``update`` is the
        (weighted) last update or None."""
        fvec = snes.getFunction()[0]
        start = fvec.getOwnershipRange()[0]
        sums = []
        for _, idx in self.groups:
            # getValues copies: a read-only array view would stay locked into the line search
            f = fvec.getValues((idx + start).astype(PETSc.IntType))
            if self.bounds is not None:  # as the VI solver does: rows held at a bound are out
                lo, hi = (b.getValues((idx + start).astype(PETSc.IntType)) for b in self.bounds)
                f = np.where(((x[idx] <= lo) & (f > 0)) | ((x[idx] >= hi) & (f < 0)), 0.0, f)
            dx = update[idx] if update is not None else None
            raw = self._raw_update[idx] if update is not None else None
            sums += [float(f @ f), float(x[idx] @ x[idx]),
                     float(dx @ dx) if dx is not None else -1.0,
                     float(raw @ raw) if raw is not None else -1.0]
        totals = self.comm.allreduce(np.array(sums), op=MPI.SUM)
        if it == 0:
            self._group_f0 = [float(np.sqrt(totals[4 * k])) for k in range(len(self.groups))]
        self._group_f = [float(np.sqrt(max(totals[4 * k], 0.0))) for k in range(len(self.groups))]
        for k, (group, _) in enumerate(self.groups):
            fk, xk, dxk, rawk = (float(np.sqrt(max(t, 0.0))) for t in totals[4 * k: 4 * k + 4])
            # the unweighted update test as it was; a test passed only by the weighted update
            # needs the residual low enough too
            step_small = it > 0 and totals[4 * k + 2] >= 0 and (
                (rawk <= group.stol * xk and not self.held)
                or (dxk <= group.stol * xk and fk <= group.update_residual))
            if not (fk <= group.atol or (it > 0 and fk <= group.rtol * self._group_f0[k])
                    or step_small):
                return False
        return True


def _then(first: NewtonResult, second: NewtonResult) -> NewtonResult:
    """The outcome of ``second``, a retry of the failed ``first``, counting both's iterations."""
    return NewtonResult(second.converged, first.iterations + second.iterations, second.reason,
                        second.message)


def _as_list(terms) -> list:
    """An ``assembled_terms`` hook's answer as a list (it may give None, one object or a list)."""
    return [] if terms is None else list(terms) if isinstance(terms, list | tuple) else [terms]


def _jacobian_residuals(residuals: dict, terms: list, names: list[str]) -> dict | None:
    """Per unknown, its residual without the UFL integrals whose Jacobian an assembled term
    supplies (the integrals of its ``jacobian_of`` forms, found by identity: a module may have
    summed them into a larger form), for the Jacobian assembly; None if no term supplies one.
    An unknown left without an integral maps to None."""
    supplied = [itg for t in terms for f in getattr(t, "jacobian_of", {}).values()
                for itg in f.integrals()]
    if not supplied:
        return None
    out = {}
    for n in names:
        kept = [itg for itg in residuals[n].integrals()
                if not any(itg is s for s in supplied)]
        out[n] = ufl.Form(kept) if kept else None
    return out


class CoupledProblem:
    """The sum of the modules' residuals for all their unknowns, solved by Newton.

    Args:
        ctx: Shared context (domain, materials, constants); its ``fields`` are filled here.
        modules: The enabled physics modules.
        degree: Lagrange degree of every unknown.
        tolerance: Newton stops when the update is below ``tolerance`` times the solution norm.
        max_iterations: Newton iteration limit.
        petsc_options: Extra PETSc options (override the defaults).
        bounds: Unknown name -> (lower, upper) bound (None: unbounded): the solve becomes a
            variational inequality (PETSc's reduced-space Newton, ``vinewtonrsls``), so an
            iterate never leaves the bounds (e.g. concentrations that cannot go negative).
        groups: Judge convergence per group of unknowns (:class:`ConvergenceGroup`; every
            unknown in exactly one group) instead of on the whole vector.
        fallback_linesearch: PETSc line search type (e.g. ``"bt"``) of a second solve from the
            same start when the first, with the line search of ``petsc_options``, fails; None:
            no second solve.

    Optional module hooks read here besides the residual: ``dirichlet``, ``initial_guess``,
    ``assembled_terms`` (solvers/assembled_terms.py), ``update_weights(ctx)`` ({unknown: weight
    in [0, 1] of its updates in the convergence test, :class:`StallAtRoundoff`: UFL, or a
    callable giving the nodal values over the local dofs}) and
    ``iterate_range(ctx)`` ({unknown: (lower, upper) arrays over the owned dofs} that each
    Newton iterate is kept in, :meth:`limit_update`).
    """

    def __init__(self, ctx: Context, modules: list, degree: int = 2, tolerance: float = 1e-11,
                 max_iterations: int = 40, petsc_options: dict | None = None,
                 bounds: dict[str, tuple[float | None, float | None]] | None = None,
                 groups: list[ConvergenceGroup] | None = None,
                 fallback_linesearch: str | None = None):
        self.ctx, self.modules = ctx, modules
        self.fallback_linesearch = fallback_linesearch
        mesh = ctx.domain.mesh
        self.names = list(dict.fromkeys(n for m in modules for n in m.unknowns))
        self.spaces = {n: dolfinx.fem.functionspace(mesh, ("Lagrange", degree))
                       for n in self.names}
        self.u = {n: dolfinx.fem.Function(V, name=n) for n, V in self.spaces.items()}
        sizes = [V.dofmap.index_map.size_local * V.dofmap.index_map_bs
                 for V in self.spaces.values()]
        starts = np.concatenate([[0], np.cumsum(sizes)])
        self._owned = {n: np.arange(starts[k], starts[k + 1]) for k, n in enumerate(self.names)}
        v = {n: ufl.TestFunction(V) for n, V in self.spaces.items()}
        ctx.fields.update(self.u)

        residuals: dict[str, object] = {}
        for m in modules:
            for name, form in m.residual(ctx, self.u, v).items():
                residuals[name] = residuals[name] + form if name in residuals else form
        # one quadrature degree for every integral that does not fix its own (see below)
        q = residual_quadrature_degree(degree)
        residuals = {n: default_quadrature(F, q) for n, F in residuals.items()}
        missing = [n for n in self.names if n not in residuals]
        if missing:
            raise ValueError(f"no equation for unknown(s) {missing}")
        self._residual_ufl = residuals
        self._residual_forms: dict | None = None
        self.bcs = self._dirichlet()
        self.set_initial_guess()

        dofs = sum(V.dofmap.index_map.size_global * V.dofmap.index_map_bs
                   for V in self.spaces.values())
        options = dict(DEFAULT_PETSC_OPTIONS, snes_stol=tolerance, snes_max_it=max_iterations)
        options.update(choose_linear_solver(ctx.domain, self.names, dofs, petsc_options or {},
                                            bounded=bool(bounds)))
        if options.get("pc_type") not in ("lu", "cholesky"):
            options.pop("pc_factor_mat_solver_type", None)  # else PETSc warns it went unused
        F = [residuals[n] for n in self.names]
        u = [self.u[n] for n in self.names]
        if len(F) == 1:  # a one-block "block" system is not supported; pass the plain form
            F, u = F[0], u[0]
        if bounds:
            options["snes_type"] = "vinewtonrsls"
        self.problem = dolfinx.fem.petsc.NonlinearProblem(
            F, u, bcs=self.bcs,
            petsc_options_prefix=f"ecx_{next(_prefix_counter)}_", petsc_options=options)
        self._room = (FactorRoom(self.problem.solver, options)
                      if options.get("pc_factor_mat_solver_type") == "mumps" else None)
        self._split_options = options if options.get("pc_type") == "fieldsplit" \
            and len(self.names) > 1 else None
        if self._split_options:
            _set_field_splits(self.problem, self.spaces, options)
        # hook: residual/Jacobian terms a module assembles itself, outside UFL (e.g. edge fluxes;
        # solvers/assembled_terms.py says what the object offers)
        terms = [t for m in modules for t in _as_list(call_hook(m, "assembled_terms", ctx))]
        self._terms = (TermAssembly(self.problem, self.names, [self.u[n] for n in self.names],
                                    self._field_bcs, terms,
                                    _jacobian_residuals(residuals, terms, self.names))
                       if terms else None)
        self._freeze_jacobian()
        self._ranges = [m for m in modules if hasattr(m, "iterate_range")]
        if self._ranges or (self._terms is not None and self._terms.damps):
            self.problem.solver.setLineSearchPreCheck(self.limit_update)
        self._weights = self._update_weights(modules)
        #: Unknown name -> (lower, upper) bound of the variational inequality (None: unbounded).
        self.bounds = dict(bounds or {})
        if bounds:
            self._set_bounds(bounds)
        self._test: StallAtRoundoff | None = None
        if bounds or groups or self._weights:
            self._test = StallAtRoundoff(
                mesh.comm, groups=self._group_indices(groups) if groups else None,
                bounds=tuple(self._bound_vectors) if bounds else None,
                weights=self._weight_vector if self._weights else None)
            self.problem.solver.setConvergenceTest(self._test)

    def _freeze_jacobian(self) -> None:
        """Let :meth:`solve_frozen` and the chord finish (:attr:`StallAtRoundoff.lag`) skip the
        Jacobian: PETSc's lag option is not in this petsc4py, so the assembly callback itself is
        skipped. A matrix left untouched keeps its state, and the LU preconditioner then keeps
        its factors. The callback holds this object
        weakly: a reference from the SNES back to it makes a cycle that only the garbage
        collector frees, destroying PETSc objects at an arbitrary moment (the verification
        tests then died with exit code 15, 2026-12-06)."""
        self._frozen = False
        snes = self.problem.solver
        J, P, (assemble, args, kargs) = snes.getJacobian()
        owner = weakref.ref(self)

        def jacobian(snes, x, J, P):
            problem = owner()
            lag = problem is not None and problem._test is not None and problem._test.lag
            if problem is None or not (problem._frozen or lag):
                assemble(snes, x, J, P, *(args or ()), **(kargs or {}))

        snes.setJacobian(jacobian, J, P)

    def _update_weights(self, modules: list) -> list:
        """(owned indices in the SNES vector, callable giving the nodal weights over the local
        dofs) of each weighted unknown (``update_weights`` hooks)."""
        out = []
        for m in modules:
            for name, weight in call_hook(m, "update_weights", self.ctx, default={}).items():
                if isinstance(weight, ufl.core.expr.Expr):
                    weight = self._interpolated(name, weight)
                out.append((self._owned_indices(name), weight))
        return out

    def _interpolated(self, name: str, expr) -> Callable[[], np.ndarray]:
        """Callable giving the P1 interpolant of the UFL ``expr`` in unknown ``name``'s space
        at the current fields (its local dof values)."""
        V = self.spaces[name]
        one = dolfinx.fem.Constant(V.mesh, 1.0)  # ties a number to the mesh
        f = dolfinx.fem.Function(V)
        compiled = dolfinx.fem.Expression(expr * one, V.element.interpolation_points)

        def values() -> np.ndarray:
            nodal.interpolate(f, compiled)
            return f.x.array
        return values

    def _weight_vector(self) -> np.ndarray:
        """Weights of this rank's SNES entries at the current fields (1 where none is given)."""
        w = np.ones(sum(len(self._owned_indices(n)) for n in self.names))
        for idx, weight in self._weights:
            w[idx] = weight()[: len(idx)]
        return w

    def _owned_indices(self, name: str) -> np.ndarray:
        """This rank's indices of unknown ``name``'s owned entries in the SNES vector (blocks
        in the order of :attr:`names`; built once in the constructor)."""
        return self._owned[name]

    def _group_indices(self, groups: list[ConvergenceGroup]) -> list:
        """Each group with this rank's indices of its entries in the SNES vector."""
        grouped = [n for g in groups for n in g.names]
        if sorted(grouped) != sorted(self.names):
            raise ValueError(f"convergence groups {grouped} must cover the unknowns "
                             f"{self.names} once each")
        return [(g, np.concatenate([self._owned_indices(n) for n in g.names])) for g in groups]

    def limit_update(self, x, y) -> None:
        """Line-search pre-check: change the Newton update ``y`` (x_new = x - y) in place - the
        assembled terms' log damping, then a cut that keeps each iterate inside the ranges of
        the modules' ``iterate_range`` hooks. A range is no constraint on the solution (no row
        leaves the system, unlike the bounds of a variational inequality): it holds an unknown
        the equations no longer determine, such as a quasi-Fermi potential whose density is
        negligible, which Newton steps driven by round-off otherwise walk off by ~17 V_T per
        iteration (log-damped) until the density underflows to 0."""
        if self._terms is not None and self._terms.damps:
            self._terms.log_damp(y)
        xa, ya = x.array_r, y.array
        held = False
        for m in self._ranges:
            for name, (lo, hi) in m.iterate_range(self.ctx).items():
                idx = self._owned_indices(name)
                wanted = xa[idx] - ya[idx]
                kept = np.clip(wanted, lo, hi)
                out = np.flatnonzero(kept != wanted)
                held |= bool(len(out))
                # reseed only entries already at the range's end: one that reaches it in a
                # long early step is not stuck (reseeding those overflowed in test_peltier)
                stuck = out[(xa[idx[out]] <= lo[out]) | (xa[idx[out]] >= hi[out])]
                if len(stuck):
                    self._reseed(idx, stuck, kept, lo, hi)
                ya[idx] = xa[idx] - kept
        if self._test is not None:
            self._test.held = self.ctx.domain.mesh.comm.allreduce(held, op=MPI.LOR)

    def _reseed(self, idx: np.ndarray, out: np.ndarray, kept: np.ndarray, lo, hi) -> None:
        """Entries ``out`` of one unknown (positions in ``idx``, its owned indices in the SNES
        vector; ``kept`` its next iterate, already cut to [``lo``, ``hi``]) that sit at the
        range's end and that Newton pushed past it again: each becomes the mean of its
        neighbours of the same unknown (columns of its Jacobian row) that lie inside the range,
        where it has any (cut to its own range).

        Why: at the range's end a quasi-Fermi potential's density is ~exp(-500) of its band's,
        so its Jacobian column is ~0 and Newton can never bring it back - a trap. On the Li-anode
        wire (5 V, 500 K) phi_p of one node at the exchange front sat there (-15.7 V) between nodes
        at 4.95 and 4.23 V whose holes were not negligible, and its neighbours' residuals, stuck
        at 1e-10 - 1e-8, failed every later step.
        A node amid live neighbours gets their mean; a node in a region where the density is
        negligible everywhere (no live neighbour) stays at the range's end."""
        A = self.problem.A
        start = A.getOwnershipRange()[0]
        first, last = idx[0], idx[-1]  # an unknown's owned entries are contiguous
        inside = (kept > lo) & (kept < hi)
        for k in out:
            cols = A.getRow(int(start + idx[k]))[0] - start
            cols = cols[(cols >= first) & (cols <= last)] - first
            live = cols[(cols != k) & inside[cols]]
            if len(live):
                kept[k] = np.clip(kept[live].mean(), lo[k], hi[k])

    def _set_bounds(self, bounds: dict) -> None:
        """Lower and upper bound vectors of the variational inequality (``bounds`` argument)."""
        big = np.finfo(float).max / 10
        lo, hi = [], []
        for n in self.names:
            low, high = bounds.get(n, (None, None))
            for values, limit, default in ((lo, low, -big), (hi, high, big)):
                f = dolfinx.fem.Function(self.spaces[n])
                f.x.array[:] = default if limit is None else limit
                values.append(f)
        vectors = []
        for functions in (lo, hi):
            vec = self.problem.x.duplicate()
            dolfinx.fem.petsc.assign(functions if len(functions) > 1 else functions[0], vec)
            vectors.append(vec)
        self._bound_vectors = vectors  # PETSc keeps a reference; so does this object
        self.problem.solver.setVariableBounds(*vectors)

    def _dirichlet(self) -> list:
        d = self.ctx.domain
        fdim = d.mesh.topology.dim - 1
        bcs = []
        self._bc_dofs: dict[str, list[np.ndarray]] = {n: [] for n in self.names}
        self._field_bcs: dict[str, list] = {n: [] for n in self.names}
        for m in self.modules:
            for spec in call_hook(m, "dirichlet", self.ctx, default=[]):
                V = self.spaces[spec.field]
                dofs = dolfinx.fem.locate_dofs_topological(V, fdim,
                                                           d.facet_entities(spec.facet_group))
                bcs.append(dolfinx.fem.dirichletbc(spec.value, dofs, V))
                self._bc_dofs[spec.field].append(dofs)
                self._field_bcs[spec.field].append(bcs[-1])
        return bcs

    def set_initial_guess(self) -> None:
        """Uniform initial values from the modules (the Dirichlet values are set by Newton)."""
        for m in self.modules:
            for name, value in call_hook(m, "initial_guess", self.ctx, default={}).items():
                self.u[name].x.array[:] = value

    # -- state handling for continuation ---------------------------------------------------------
    def state(self) -> dict[str, np.ndarray]:
        """Copy of the current solution arrays."""
        return {n: f.x.array.copy() for n, f in self.u.items()}

    def restore(self, state: dict[str, np.ndarray]) -> None:
        """Put back a state returned by :meth:`state`."""
        for n, arr in state.items():
            self.u[n].x.array[:] = arr

    def admit_prediction(self, last: dict[str, np.ndarray], bias_step: float) -> None:
        """Make a predicted start usable: each entry of an unknown with an iterate range (the
        quasi-Fermi potentials, V) that the prediction moved by more than PREDICTION_SHIFT
        times ``bias_step`` (V) from ``last`` (the last converged :meth:`state`), or out of its
        range, takes its ``last`` value, cut to the range.

        Why: a quasi-Fermi potential lies between the contacts' Fermi levels and moves by at
        most the bias step where its density matters; where it does not, the equations leave
        it free, it wanders between converged states, and extrapolating the wandering reached
        -1447 and +1387 V_T from psi, overflowed the first residual, and every predicted start
        of the stage (a) sweep failed (13 Newton iterations per bias instead of 7)."""
        for m in self._ranges:
            for name, (lo, hi) in m.iterate_range(self.ctx).items():
                n = len(lo)
                own, before = self.u[name].x.array[:n], last[name][:n]
                wild = ((own < lo) | (own > hi)
                        | (np.abs(own - before) > PREDICTION_SHIFT * abs(bias_step)))
                own[wild] = np.clip(before[wild], lo[wild], hi[wild])
                self.u[name].x.scatter_forward()

    def solve(self) -> NewtonResult:
        """One Newton solve from the current state, and, when it fails and there is a
        ``fallback_linesearch``, a second one from the same state with that line search;
        never raises on divergence. The iterations of both count. A solve whose MUMPS
        factorisation ran short of working space is first repeated from the same state with
        more space (solvers/factor_room.py)."""
        start = self.state()
        first = self._solve_once()
        while not first.converged and self._room is not None and self._room.grow():
            self.restore(start)
            first = _then(first, self._solve_once())
        if first.converged or not self.fallback_linesearch:
            return first
        self.restore(start)
        search = self.problem.solver.getLineSearch()
        kind = search.getType()
        search.setType(self.fallback_linesearch)
        try:
            return _then(first, self._solve_once())
        finally:
            search.setType(kind)

    def solve_frozen(self, max_iterations: int = FROZEN_MAX_ITERATIONS) -> NewtonResult:
        """A Newton solve that keeps the last solve's Jacobian and its factorisation (a chord
        iteration), for a state that moved little since that solve: each iteration costs a
        residual and a back-substitution instead of an assembly and a factorisation, and
        converges linearly at the rate of the Jacobian's change. Stops at the usual update
        test or after ``max_iterations``; then, or after a failure, puts the state back and
        runs :meth:`solve`. The iterations of both count."""
        start = self.state()
        frozen = self._chord(max_iterations, partial=False)
        if frozen.converged:
            return frozen
        self.restore(start)
        return _then(frozen, self.solve())

    def chord_steps(self, iterations: int = 1) -> NewtonResult:
        """At most ``iterations`` chord iterations (the last solve's Jacobian and factors) from
        the current state: an inexact inner solve of an outer iteration that moves the
        problem's data a little between its passes (the electro-thermal fixed point,
        solvers/fixed_point.py). ``converged`` says the usual convergence test passed; reaching
        ``iterations`` first leaves the iterate in place with reason ``DIVERGED_MAX_IT`` and the
        factors kept; any other failure puts the state back."""
        start = self.state()
        result = self._chord(iterations, partial=True)
        if not (result.converged or result.reason == PETSc.SNES.ConvergedReason.DIVERGED_MAX_IT):
            self.restore(start)
        return result

    def _chord(self, max_iterations: int, partial: bool) -> NewtonResult:
        """One solve with the Jacobian and factors kept and the iteration limit lowered to
        ``max_iterations`` for it alone (a case's snes_max_it is put back afterwards)."""
        snes = self.problem.solver
        limit = snes.getTolerances()[3]
        self._frozen = True
        snes.setTolerances(max_it=max_iterations)
        try:
            return self._solve_once(partial=partial)
        finally:
            self._frozen = False
            snes.setTolerances(max_it=limit)

    def _solve_once(self, partial: bool = False) -> NewtonResult:
        """One Newton solve from the current state with the configured line search; with
        ``partial``, reaching the iteration limit is no failure (:meth:`chord_steps`)."""
        snes = self.problem.solver
        try:
            self.problem.solve()
        except PETSc.Error as err:  # e.g. a singular factorisation after a NaN
            self._reset_linear_solver()
            return NewtonResult(False, snes.getIterationNumber(), -100, f"PETSc error {err}")
        reason = snes.getConvergedReason()
        if reason == PETSc.SNES.ConvergedReason.CONVERGED_SNORM_RELATIVE \
                and snes.getIterationNumber() == 0:
            # PETSc 3.25 reports a first step whose residual is NaN (an overflowing exponential)
            # as a converged zero-length step, leaving the old state: a failure
            reason = PETSc.SNES.ConvergedReason.DIVERGED_FUNCTION_NANORINF
        finite = all(np.isfinite(f.x.array).all() for f in self.u.values())
        finite = self.ctx.domain.mesh.comm.allreduce(finite, op=MPI.LAND)
        msg = "" if finite else "non-finite values in the solution"
        stopped = partial and finite and reason == PETSc.SNES.ConvergedReason.DIVERGED_MAX_IT
        if (reason <= 0 or not finite) and not stopped:
            if self._room is not None:
                self._room.note(snes.getKSP())
            self._reset_linear_solver()
        return NewtonResult(reason > 0 and finite, snes.getIterationNumber(), reason, msg)

    def close(self) -> None:
        """Destroy the PETSc objects now. Their destruction is collective; left to the garbage
        collector, ranks may reach it at different moments (with two problems in one run, one
        rank hung at exit waiting for the other)."""
        p = self.problem
        if self._terms is not None:
            self._terms.destroy()
        if self._room is not None:
            self._room.close()
        for vec in getattr(self, "_bound_vectors", []):
            vec.destroy()
        for attr in ("_snes", "_A", "_b", "_x", "_P_mat"):
            obj = getattr(p, attr, None)
            if obj is not None:
                obj.destroy()
                setattr(p, attr, None)

    def _reset_linear_solver(self) -> None:
        """Drop the LU factors after a failed solve: MUMPS keeps a failed factorisation and would
        refuse every later solve (INFOG(1) = -3), so a retried step could never succeed. A reset
        also drops the field splits, so they are set again."""
        self.problem.solver.getKSP().reset()
        if self._split_options:
            _set_field_splits(self.problem, self.spaces, self._split_options)

    def _residual_arrays(self) -> dict[str, np.ndarray]:
        """Each equation's residual at the current state on this rank's owned DOFs, Dirichlet
        rows zeroed."""
        if self._residual_forms is None:
            self._residual_forms = {n: dolfinx.fem.form(self._residual_ufl[n])
                                    for n in self.names}
        if self._terms is not None:
            self._terms.prepare()
        vecs = {n: dolfinx.fem.assemble_vector(form) for n, form in self._residual_forms.items()}
        if self._terms is not None:
            self._terms.add_residual({n: v.array for n, v in vecs.items()})
        arrays = {}
        for n, vec in vecs.items():
            vec.scatter_reverse(dolfinx.la.InsertMode.add)
            owned = vec.index_map.size_local * vec.block_size
            arr = vec.array[:owned].copy()
            for dofs in self._bc_dofs[n]:
                arr[dofs[dofs < owned]] = 0.0
            arrays[n] = arr
        return arrays

    def residual_norms(self) -> dict[str, float]:
        """Euclidean norm of each equation's residual at the current state, Dirichlet rows
        excluded (units of the equation: A for current continuity, W for heat, ...)."""
        comm = self.ctx.domain.mesh.comm
        return {n: float(np.sqrt(comm.allreduce(float(a @ a), op=MPI.SUM)))
                for n, a in self._residual_arrays().items()}

    def largest_residuals(self) -> list[dict]:
        """Where each equation's residual is largest at the current state (e.g. a failed
        Newton iterate), largest first: the equation (its unknown's name), the residual entry,
        the point (mesh coordinates, nm) and region, and every unknown's value there. For
        failure reports."""
        comm = self.ctx.domain.mesh.comm
        found = []
        for name, arr in self._residual_arrays().items():
            i, owner = argmax_owner(np.abs(arr), comm)
            entry = ({"equation": name, "residual": float(arr[i]), **self._dof_report(name, i)}
                     if comm.rank == owner else None)
            found.append(comm.bcast(entry, root=owner))
        return sorted(found, key=lambda e: -abs(e["residual"]))

    def _dof_report(self, name: str, dof: int) -> dict:
        """Point (nm), region and the unknowns' values at DOF ``dof`` of ``name``'s space (every
        unknown has the same P-k space, so DOF numbers coincide)."""
        V = self.spaces[name]
        d = self.ctx.domain
        point = V.tabulate_dof_coordinates()[dof][: d.mesh.geometry.dim]
        cell = int(np.flatnonzero((V.dofmap.list == dof).any(axis=1))[0])
        tags = dict(zip(d.cell_tags.indices.tolist(), d.cell_tags.values.tolist(), strict=True))
        region = next((n for n, t in d.cells.items() if t == tags.get(cell)), "")
        return {"point [nm]": [float(x) for x in point], "region": region,
                "values": {n: float(u.x.array[dof]) for n, u in self.u.items()}}

    def quantities(self) -> dict[str, float]:
        """Scalar results of every module for the current state."""
        out: dict[str, float] = {}
        for m in self.modules:
            out.update(call_hook(m, "quantities", self.ctx, default={}))
        return out

