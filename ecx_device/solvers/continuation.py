"""Continuation: reach each protocol bias from the last converged state, and the equilibrium
start of a drift-diffusion wire.

A failed Newton solve is an event, not a crash: the last good state is restored and the bias step
halved, down to ``min_step``; past that a :class:`SolverError` says which bias could not be
reached and why (for an electro-thermal solve, usually thermal runaway).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field

import numpy as np

from ecx_device.errors import SolverError
from ecx_device.fem import MPI
from ecx_device.physics.base import Context
from ecx_device.physics.contacts import OhmicContact, SchottkyContact
from ecx_device.solvers.newton import CoupledProblem
from ecx_device.solvers.problem import NewtonResult, Problem, reason_name


@dataclass
class ContinuationReport:
    """What it took to reach one bias point."""

    solves: int = 0
    rejected: int = 0
    newton_iterations: int = 0
    messages: list[str] = field(default_factory=list)


def _out_of_bounds(problem: Problem, bounds: dict[str, tuple[float, float]]) -> str:
    """Describe the first field outside its allowed range, or return ''."""
    if not bounds:
        return ""
    comm = problem.ctx.domain.mesh.comm
    for name, (lo, hi) in bounds.items():
        f = problem.u.get(name)
        if f is None:
            continue
        arr = f.x.array
        fmin = comm.allreduce(arr.min() if arr.size else np.inf, op=MPI.MIN)
        fmax = comm.allreduce(arr.max() if arr.size else -np.inf, op=MPI.MAX)
        if fmin < lo or fmax > hi:
            return f"{name} left [{lo:g}, {hi:g}] (range {fmin:.4g} .. {fmax:.4g})"
    return ""


#: Degree of the extrapolation polynomial of the predictor (2: through the last three states).
ORDER = 2

#: Largest ratio of the predicted step to the step between the two states it extrapolates from.
MAX_EXTRAPOLATION = 2.0


class _Predictor:
    """Secant predictor along the bias: the last two converged (bias, state) pairs of a problem,
    kept across ``continue_bias`` calls (a sweep) and forgotten as soon as the problem's state is
    not the last one recorded (a restore, a time step, a checkpoint restart changed it)."""

    _by_problem: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def __init__(self):
        self.history: list[tuple[float, dict[str, np.ndarray]]] = []

    @classmethod
    def of(cls, problem: Problem, bias: float) -> _Predictor:
        pred = cls._by_problem.setdefault(problem, cls())
        if pred.history and (pred.history[-1][0] != bias
                             or not _same_state(pred.history[-1][1], problem.state())):
            pred.history.clear()
        return pred

    def record(self, bias: float, state: dict[str, np.ndarray]) -> None:
        """Keep ``state`` as the one at ``bias`` (V), replacing an older one at the same bias:
        a sweep's first solve at its start bias recorded that bias twice, and the repeated node
        disabled the extrapolation for the next two biases."""
        kept = [h for h in self.history if h[0] != bias]
        self.history = [*kept[-ORDER:], (bias, state)]

    def predict(self, bias: float) -> dict[str, np.ndarray] | None:
        """The Lagrange polynomial through the last ORDER + 1 states (fewer while fewer are
        known) at ``bias``, either way along the bias (a reversal interpolates), or None without
        two states or when the step would reach further than MAX_EXTRAPOLATION times the last."""
        if len(self.history) < 2:
            return None
        v = [h[0] for h in self.history]
        if not 0 < abs(bias - v[-1]) / abs(v[-1] - v[-2]) <= MAX_EXTRAPOLATION:
            return None
        weights = [np.prod([(bias - v[m]) / (v[k] - v[m]) for m in range(len(v)) if m != k])
                   for k in range(len(v))]
        return {key: sum(w * h[1][key] for w, h in zip(weights, self.history, strict=True))
                for key in self.history[-1][1]}


def _same_state(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def continue_bias(problem: Problem, target: float, *, max_step: float, min_step: float,
                  bounds: dict[str, tuple[float, float]] | None = None) -> ContinuationReport:
    """Move the ``bias`` constant of ``problem`` to ``target`` (V) through converged states.

    Each solve starts from the secant extrapolation of the last two converged states (also those
    of earlier calls on the same problem, while its state is the last one reached), which saves
    Newton iterations along a sweep; a solve that fails from the prediction is retried from the
    last converged state before the step is halved.

    Args:
        problem: The coupled problem; its context constant ``bias`` is changed in place.
        target: Bias to reach (V).
        max_step: Largest bias increment per solve (V).
        min_step: Smallest increment tried before giving up (V).
        bounds: Allowed range per field; a state outside it counts as a failed solve.

    Raises:
        SolverError: the target cannot be reached, or a solve at an unchanged bias (``target``
            equal to the current bias, e.g. after the composition changed) fails.
    """
    bias = problem.ctx.constants["bias"]
    bounds = bounds or {}
    report = ContinuationReport()
    current = float(bias.value)
    step = max_step
    reached = False
    predictor = _Predictor.of(problem, current)
    if not predictor.history:
        predictor.record(current, problem.state())
    while not reached:
        # land on the target exactly: steps of 0.1 V summed in floating point miss it by an ulp,
        # which cost a second, zero-length solve at many bias points
        nxt = target if abs(target - current) <= step * (1 + 1e-9) else current + float(
            np.clip(target - current, -step, step))
        good = problem.state()
        bias.value = nxt
        predicted = predictor.predict(nxt)
        result, problem_text = _solve(problem, report, bounds, predicted, (good, nxt - current))
        if problem_text and predicted is not None:  # retry from the last converged state
            problem.restore(good)
            result, problem_text = _solve(problem, report, bounds, None)
        if not problem_text:
            current = nxt
            reached = current == target
            predictor.record(current, problem.state())
            step = min(step * 1.5, max_step)
            continue
        report.rejected += 1
        report.messages.append(f"V={nxt:.4g} V: {problem_text}")
        after = problem.residual_norms()
        problem.restore(good)
        # the norms at the last converged state and the attempted bias, i.e. before the solve
        # (computed only on failure: an assembly of every residual saved per accepted step)
        before = problem.residual_norms()
        last_failure = {"attempted_bias [V]": nxt, "reason": problem_text,
                        "newton_reason": result.reason,
                        "residual_norms_before": before, "residual_norms_after": after,
                        "worst_equation": _worst(before, after)}
        bias.value = current
        step /= 2
        # a failed solve at an unchanged bias (a new composition or temperature) has no bias
        # step to shorten; it used to end the loop as if it had converged, leaving the old state
        if step < min_step or nxt == current:
            # a hint, read as a physical reason by the exchange splitting: only when a bias
            # step could not be made, not for a failed re-solve at the same bias
            hint = (" - a steady state may not exist: thermal runaway (Joule heating outgrowing "
                    "the heat loss) is physical for a thermally activated conductor"
                    if "T" in problem.u and nxt != current
                    and "PETSc error" not in report.messages[-1] else "")
            raise SolverError(
                f"cannot reach bias {target:.4g} V: stuck at {current:.4g} V after "
                f"{report.rejected} rejected steps; last failure at {report.messages[-1]} "
                f"(worst residual: {last_failure['worst_equation']}){hint}",
                details={"target_bias [V]": target, "reached_bias [V]": current,
                         "rejected_steps": report.rejected, "attempts": report.messages,
                         "last_failure": last_failure})
    return report


def _solve(problem: Problem, report: ContinuationReport, bounds: dict,
           start: dict[str, np.ndarray] | None,
           last: tuple[dict[str, np.ndarray], float] | None = None) -> tuple[NewtonResult, str]:
    """One solve, from ``start`` if given; returns the result and why it is rejected ('').
    ``last``: for a predicted start, the last converged state and the bias step (V), passed to
    the problem's ``admit_prediction`` if it has one."""
    if start is not None:
        problem.restore(start)
        admit = getattr(problem, "admit_prediction", None)
        if admit is not None and last is not None:
            admit(*last)
    result: NewtonResult = problem.solve()
    report.solves += 1
    report.newton_iterations += result.iterations
    text = (result.message or f"Newton did not converge ({reason_name(result.reason)})"
            if not result.converged else _out_of_bounds(problem, bounds))
    return result, text


def _worst(before: dict[str, float], after: dict[str, float]) -> str:
    """The equation whose residual fell least (or grew most) in a failed Newton solve."""
    def ratio(n: str) -> float:
        if not np.isfinite(after[n]):
            return np.inf
        return after[n] / before[n] if before[n] > 0 else (np.inf if after[n] > 0 else 0.0)

    return max(after, key=ratio)


def equilibrium_start(ctx: Context, modules: list, degree: int,
                      petsc_options: dict | None = None) -> None:
    """Put the thermal-equilibrium solution into ``ctx.fields["psi"]`` (phi_n = phi_p = 0).

    At zero bias the quasi-Fermi potentials are 0 exactly and only the nonlinear Poisson equation
    is left, which is solved alone here (same modules, carriers frozen at 0 V). The coupled
    Newton from the charge-neutral guess does the same in exact arithmetic, but its carrier rows
    carry densities down to 1e-40 of C_0 in a CdS/Cu2S wire; round-off in their factorisation
    gives phi updates that diverged (measured on the 2 nm stage meshes, DIVERGED_DTOL).

    Raises:
        SolverError: the equilibrium Poisson problem does not converge.
    """
    if "psi" not in ctx.fields or float(ctx.constants["bias"].value) != 0.0:
        return
    eq = Context(ctx.domain, ctx.materials, ctx.constants, composition=ctx.composition,
                 exchanged=ctx.exchanged)
    poisson = [m for m in modules if "psi" in getattr(m, "unknowns", ())
               or isinstance(m, OhmicContact | SchottkyContact)]
    problem = CoupledProblem(eq, poisson, degree=degree, petsc_options=petsc_options)
    result = problem.solve()
    problem.close()
    if not result.converged:
        raise SolverError(f"the zero-bias (equilibrium) Poisson solve did not converge "
                          f"(reason {result.reason}, {result.iterations} iterations)")
    ctx.fields["psi"].x.array[:] = eq.fields["psi"].x.array
