"""Bias continuation: reach each protocol bias from the last converged state.

A failed Newton solve is an event, not a crash: the last good state is restored and the bias step
halved, down to ``min_step``; past that a :class:`SolverError` says which bias could not be
reached and why (for an electro-thermal solve, usually thermal runaway).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ecx_device.coupling import CoupledProblem, NewtonResult, reason_name
from ecx_device.errors import SolverError
from ecx_device.fem import MPI


@dataclass
class ContinuationReport:
    """What it took to reach one bias point."""

    solves: int = 0
    rejected: int = 0
    newton_iterations: int = 0
    messages: list[str] = field(default_factory=list)


def _out_of_bounds(problem: CoupledProblem, bounds: dict[str, tuple[float, float]]) -> str:
    """Describe the first field outside its allowed range, or return ''."""
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


def continue_bias(problem: CoupledProblem, target: float, *, max_step: float, min_step: float,
                  bounds: dict[str, tuple[float, float]] | None = None) -> ContinuationReport:
    """Move the ``bias`` constant of ``problem`` to ``target`` (V) through converged states.

    Args:
        problem: The coupled problem; its context constant ``bias`` is changed in place.
        target: Bias to reach (V).
        max_step: Largest bias increment per solve (V).
        min_step: Smallest increment tried before giving up (V).
        bounds: Allowed range per field; a state outside it counts as a failed solve.

    Raises:
        SolverError: the target cannot be reached.
    """
    bias = problem.ctx.constants["bias"]
    bounds = bounds or {}
    report = ContinuationReport()
    current = float(bias.value)
    step = max_step
    first = True
    while first or current != target:
        first = False
        # land on the target exactly: steps of 0.1 V summed in floating point miss it by an ulp,
        # which cost a second, zero-length solve at many bias points
        nxt = target if abs(target - current) <= step * (1 + 1e-9) else current + float(
            np.clip(target - current, -step, step))
        good = problem.state()
        bias.value = nxt
        before = problem.residual_norms()
        result: NewtonResult = problem.solve()
        report.solves += 1
        report.newton_iterations += result.iterations
        problem_text = (result.message
                        or f"Newton did not converge ({reason_name(result.reason)})"
                        if not result.converged else _out_of_bounds(problem, bounds))
        if not problem_text:
            current = nxt
            step = min(step * 1.5, max_step)
            continue
        report.rejected += 1
        report.messages.append(f"V={nxt:.4g} V: {problem_text}")
        after = problem.residual_norms()
        last_failure = {"attempted_bias [V]": nxt, "reason": problem_text,
                        "newton_reason": result.reason,
                        "residual_norms_before": before, "residual_norms_after": after,
                        "worst_equation": _worst(before, after)}
        problem.restore(good)
        bias.value = current
        step /= 2
        if step < min_step:
            hint = (" - a steady state may not exist: thermal runaway (Joule heating outgrowing "
                    "the heat loss) is physical for a thermally activated conductor"
                    if "T" in problem.u and "PETSc error" not in report.messages[-1] else "")
            raise SolverError(
                f"cannot reach bias {target:.4g} V: stuck at {current:.4g} V after "
                f"{report.rejected} rejected steps; last failure at {report.messages[-1]} "
                f"(worst residual: {last_failure['worst_equation']}){hint}",
                details={"target_bias [V]": target, "reached_bias [V]": current,
                         "rejected_steps": report.rejected, "attempts": report.messages,
                         "last_failure": last_failure})
    return report


def _worst(before: dict[str, float], after: dict[str, float]) -> str:
    """The equation whose residual fell least (or grew most) in a failed Newton solve."""
    def ratio(n: str) -> float:
        if not np.isfinite(after[n]):
            return np.inf
        return after[n] / before[n] if before[n] > 0 else (np.inf if after[n] > 0 else 0.0)

    return max(after, key=ratio)

