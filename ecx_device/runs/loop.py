"""The one run loop, and the two ways a run advances.

Every run (a bias protocol at steady state, an I-V sweep, an exchange run in time) is the same
loop (:func:`run_loop`): advance one step, record its row, write what is due at that step (fields,
snapshots, checkpoint), log, and stop cleanly on a signal or a solver error (checkpoint and
``failure_report.json`` first). What differs is the stepper:

- :class:`BiasStepper`: steady states at a list of biases, each reached by bias continuation
  from the last (:func:`~ecx_device.solvers.continuation.continue_bias`);
- :class:`TimeStepper`: time steps of the exchange splitting, adaptive, landing on milestones
  (:class:`~ecx_device.runs.stepsize.Stepsize`).
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field

from ecx_device.errors import Interrupted, SolverError
from ecx_device.fem import MPI
from ecx_device.outputs.quantities import SeriesWriter
from ecx_device.outputs.registry import (BIAS, BIAS_POINTS, BIAS_POINTS_COMPLETED,
                                         CD_BALANCE_ERROR, COMPLETE, CU_BALANCE_ERROR, END_TIME,
                                         EXCHANGED_VOLUME, FRONT_POSITION, NEWTON_ITERATIONS,
                                         REJECTED_STEPS, RUN_KIND, RUN_REJECTED_STEPS,
                                         SIMULATED_TIME, STEPS, TIME, TIME_STEP, WALL_TIME)
from ecx_device.outputs.summary import headline
from ecx_device.runs import checkpoint
from ecx_device.runs.common import RunFolder, RunResult, StopOnSignal
from ecx_device.runs.stepsize import Stepsize, error_factor
from ecx_device.solvers.continuation import continue_bias
from ecx_device.solvers.problem import Problem

#: Field frames written per exchange run besides the snapshot times.
FIELD_FRAMES = 40


@dataclass(frozen=True)
class Continuation:
    """Bias continuation settings (case section ``solver``): steps (V), temperature bound (K)."""

    max_step: float
    min_step: float
    max_temperature: float

    def reach(self, problem: Problem, bias: float):
        """Continue ``problem`` to ``bias``; the continuation report.

        Raises:
            SolverError: the bias cannot be reached.
        """
        return continue_bias(problem, bias, max_step=self.max_step, min_step=self.min_step,
                             bounds={"T": (0.0, self.max_temperature)})


def outward_order(biases: list[float], start: float) -> list[int]:
    """Solve order of a monotone list of biases (V) for a problem now at ``start`` (V): from
    the point nearest ``start`` to the first point, then from the next one to the last. A sweep
    from -1 V to +1 V from equilibrium thus visits every bias once, instead of first
    continuing through the negative half to reach -1 V and then sweeping back over it."""
    k = min(range(len(biases)), key=lambda i: abs(biases[i] - start))
    return [*range(k, -1, -1), *range(k + 1, len(biases))]


class BiasStepper:
    """Steady states at ``points`` ((time [s] or None, bias [V]) pairs), solved in ``order``.

    Args:
        problem: The problem solved at each point.
        points: The (time, bias) of each point; time None for an I-V sweep.
        continuation: How each bias is reached from the last.
        order: Indices of ``points`` in solve order (default: as listed). Where it jumps (not to
            a neighbour of the point just solved), as :func:`outward_order` does once, the
            state of the first point solved is restored first, and the sweep continues from
            there.
    """

    kind = "bias"

    def __init__(self, problem: Problem, points: list[tuple[float | None, float]],
                 continuation: Continuation, order: list[int] | None = None):
        self.problem, self.points, self.continuation = problem, points, continuation
        self.order = list(order) if order is not None else list(range(len(points)))
        if sorted(self.order) != list(range(len(points))):
            raise ValueError(f"order {order} is not a permutation of the {len(points)} points")
        self.done = 0
        self.rejected = 0  # halvings of the bias step, all points
        self._report = None
        self._wall = 0.0
        self._origin: tuple[float, dict] | None = None  # (bias, state) of the first point

    def _point(self, position: int) -> tuple[float | None, float]:
        return self.points[self.order[position]]

    @property
    def finished(self) -> bool:
        """Every point solved."""
        return self.done >= len(self.points)

    @property
    def time(self) -> float:
        """Time of the last solved point (s; 0 before the first or in an I-V sweep)."""
        t = self._point(self.done - 1)[0] if self.done else 0.0
        return t or 0.0

    @property
    def bias(self) -> float:
        """Bias of the last solved point (V)."""
        return self._point(self.done - 1)[1]

    def advance(self) -> None:
        """Solve the next point (raises SolverError when its bias cannot be reached)."""
        t0 = time.perf_counter()
        if self.done and abs(self.order[self.done] - self.order[self.done - 1]) > 1:
            bias, state = self._origin
            self.problem.restore(state)
            self.problem.ctx.constants["bias"].value = bias
        try:
            self._report = self.continuation.reach(self.problem, self._point(self.done)[1])
        except SolverError as err:  # the failed point's halvings count too (results.json)
            self.rejected += err.details.get("rejected_steps", 0)
            raise
        if self.done == 0 and self.order != sorted(self.order):
            self._origin = (self._point(0)[1], self.problem.state())
        self.done += 1
        self.rejected += self._report.rejected
        self._wall = time.perf_counter() - t0

    def row(self) -> dict[str, float]:
        """Time (when the points have one), bias, the problem's quantities, iterations."""
        t, v = self._point(self.done - 1)
        return {**({TIME: t} if t is not None else {}), BIAS: v,
                **self.problem.quantities(),
                NEWTON_ITERATIONS: self._report.newton_iterations,
                REJECTED_STEPS: self._report.rejected}

    def position(self) -> tuple[float, float, str]:
        """(done, total, unit) for the progress display: bias points."""
        return self.done, len(self.points), "bias points"

    def progress(self, row: dict[str, float]) -> str:
        """The step line (``--verbose``)."""
        t = self._point(self.done - 1)[0]
        when = f"t = {t:.4g} s, " if t is not None else ""
        return (f"[{self.done}/{len(self.points)}] {when}{headline(row)} "
                f"({self._report.newton_iterations} Newton its, "
                f"{self._report.rejected} rejected, {self._wall:.1f} s)")

    def failure_context(self) -> dict:
        """Where a failure happened, for failure_report.json."""
        t, v = self._point(self.done)
        return {"bias_point": self.done + 1, "of": len(self.points), "time [s]": t,
                "bias [V]": v}

    def meta(self) -> dict:
        """Checkpoint meta."""
        return {"completed": self.done, "rejected": self.rejected,
                "bias [V]": float(self.problem.ctx.constants["bias"].value), "time [s]": self.time}

    def load(self, meta: dict) -> None:
        """Continue after a checkpoint's :meth:`meta`."""
        self.done, self.rejected = meta["completed"], meta.get("rejected", 0)
        self.problem.ctx.constants["bias"].value = meta["bias [V]"]

    def summary(self) -> dict:
        """Entries of results.json."""
        return {BIAS_POINTS_COMPLETED: self.done, BIAS_POINTS: len(self.points),
                STEPS: self.done, RUN_REJECTED_STEPS: self.rejected, COMPLETE: self.finished}


class TimeStepper:
    """Adaptive time steps of an exchange splitting (module docstring).

    Args:
        splitting: The exchange splitting.
        voltage_at: Bias (V) at a time (s) (the protocol with its polarity).
        t_end: End time (s).
        stepsize: Step control; its milestones are the times steps must land on.
    """

    kind = "exchange"

    def __init__(self, splitting, voltage_at, t_end: float, stepsize: Stepsize):
        self.splitting, self.voltage_at, self.t_end = splitting, voltage_at, t_end
        self.stepsize = stepsize
        self.time, self.steps, self.rejected = 0.0, 0, 0
        self._step = 0.0

    @property
    def problem(self):
        """The splitting (for checkpoints)."""
        return self.splitting

    @property
    def finished(self) -> bool:
        """The end time is reached."""
        return self.time >= self.t_end * (1 - 1e-12)

    def start(self) -> None:
        """Solve the initial state (a new run)."""
        self.splitting.start(self.voltage_at(0.0))

    def advance(self) -> None:
        """One accepted step; rejected attempts are restored and retried with half the step.

        Raises:
            SolverError: the step cannot be made even at the smallest time step.
        """
        sp, size = self.splitting, self.stepsize
        while True:
            step = size.step_from(self.time)
            good = sp.state()
            sp.dt, sp.target_bias = step, self.voltage_at(self.time + step)
            try:
                result = sp.solve()
            except SolverError as err:  # a physical stop (the splitting says why)
                self._diagnosis = {"failed_part": "ions", **err.details}
                reason = err.details.get("physical_reason", str(err))
                raise SolverError(f"stopped in the step from t = {self.time:.6g} s to "
                                  f"{self.time + step:.6g} s: {reason}", err.details) from err
            if result.converged:
                break
            self.rejected += 1
            why = result.message or "Newton did not converge"
            factor = sp.rejection_factor(result)
            if size.retry(step, factor) < size.minimum:  # the last try: say what broke, give up
                self._diagnosis = sp.diagnose(why)
            sp.restore(good)
            try:
                size.rejected(step, self.time, why, factor)
            except SolverError as err:
                reason = getattr(self, "_diagnosis", {}).get("physical_reason")
                if not reason:
                    raise
                raise SolverError(f"stopped at t = {self.time:.6g} s: {reason} (the next step "
                                  f"could not be made: {why})", details=err.details) from err
        factor = self._next_factor(result.iterations)  # before accept() moves the start
        sp.accept()
        self.time += step
        self.steps += 1
        self._step = step
        size.accepted(step, factor)

    def _next_factor(self, iterations: int) -> float:
        """Factor for the step after an accepted one (-): from the error estimate
        (ExchangeSplitting.step_error against StepLimits.time_error_tolerance), not above 1
        when Newton needed more than the splitting's ``easy_iterations``."""
        sp, size = self.splitting, self.stepsize
        largest = size.growth if iterations <= sp.easy_iterations else 1.0
        return error_factor(sp.step_error(), sp.limits.time_error_tolerance, largest)

    def row(self) -> dict[str, float]:
        """Time, bias, the splitting's quantities and the step counters."""
        return {TIME: self.time, BIAS: float(self.splitting.ctx.constants["bias"].value),
                **self.splitting.quantities(), TIME_STEP: self._step,
                REJECTED_STEPS: self.rejected}

    def position(self) -> tuple[float, float, str]:
        """(done, total, unit) for the progress display: simulated time."""
        return self.time, self.t_end, "s"

    def progress(self, row: dict[str, float]) -> str:
        """The step line (``--verbose``)."""
        front = row[FRONT_POSITION]
        return (f"[step {self.steps}] t = {self.time:.4g} s, dt = {self._step:.3g} s, "
                f"{headline(row)}, X vol = {row[EXCHANGED_VOLUME]:.4g} nm^3, front "
                + (f"{front:.1f} nm" if front == front else "none yet"))

    def failure_context(self) -> dict:
        """Where a failure happened, for failure_report.json: the time and what broke in the
        last attempt (ExchangeSplitting.diagnose)."""
        return {"time [s]": self.time, **getattr(self, "_diagnosis", {})}

    def meta(self) -> dict:
        """Checkpoint meta."""
        return {"time [s]": self.time, "dt [s]": self.stepsize.value, "steps": self.steps,
                "rejected": self.rejected, "splitting": self.splitting.meta()}

    def load(self, meta: dict) -> None:
        """Continue after a checkpoint's :meth:`meta`."""
        self.time, self.steps, self.rejected = meta["time [s]"], meta["steps"], meta["rejected"]
        self.stepsize.value = meta["dt [s]"]
        self.splitting.load_meta(meta["splitting"])

    def summary(self) -> dict:
        """Entries of results.json."""
        return {RUN_KIND: self.kind, SIMULATED_TIME: self.time, END_TIME: self.t_end,
                STEPS: self.steps, RUN_REJECTED_STEPS: self.rejected, COMPLETE: self.finished}


@dataclass
class Outputs:
    """What is written at which step: fields, snapshots and checkpoints.

    Attributes:
        writer: The field writer (a context manager with ``write(t)``), or None.
        field_times: Times (s) at which fields are due; None: at every step.
        snapshot_times: Times (s) of composition snapshots.
        snapshot: Callable(t) writing a snapshot.
        checkpoint_interval: Simulated time between checkpoints (s; 0: every step); None: no
            checkpoints.
        before_write: Callable run before fields are written (e.g. to bring ion fields over).
    """

    writer: object = None
    field_times: list[float] | None = None
    snapshot_times: list[float] = field(default_factory=list)
    snapshot: object = None
    checkpoint_interval: float | None = 0.0
    before_write: object = None
    _next_checkpoint: float = 0.0

    def __enter__(self) -> Outputs:
        if self.writer is not None:
            self.writer.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self.writer is not None:
            self.writer.__exit__(*exc)

    def write_fields(self, t: float) -> None:
        """Write the fields at ``t`` (s) now."""
        if self.writer is None:
            return
        if self.before_write is not None:
            self.before_write()
        self.writer.write(t)

    def after_step(self, t: float, final: bool, save) -> None:
        """Write what is due at time ``t`` (s); ``save()`` writes a checkpoint."""
        at_snapshot = bool(self.snapshot_times) and t >= self.snapshot_times[0] * (1 - 1e-9)
        if at_snapshot:
            self.snapshot_times.pop(0)
            self.snapshot(t)
        due = self.field_times is None or at_snapshot or final or (
            bool(self.field_times) and t >= self.field_times[0] * (1 - 1e-9))
        if due:
            self.write_fields(t)
        while self.field_times and self.field_times[0] <= t * (1 + 1e-9):
            self.field_times.pop(0)
        if self.checkpoint_interval is not None and (t >= self._next_checkpoint or final):
            save()
            self._next_checkpoint = t + self.checkpoint_interval

    def meta(self) -> dict:
        """Checkpoint meta of what is still due."""
        return {"field_times": self.field_times, "snapshot_times": self.snapshot_times}

    def load(self, meta: dict, t: float) -> None:
        """Continue after a checkpoint taken at ``t`` (s)."""
        self.field_times, self.snapshot_times = meta["field_times"], meta["snapshot_times"]
        self._next_checkpoint = t


def run_loop(folder: RunFolder, stepper, series: SeriesWriter, outputs: Outputs,
             extra_results: dict, restart: bool = False) -> RunResult:
    """Advance ``stepper`` to its end (module docstring); results.json is written whatever
    happens.

    Args:
        folder: The run folder.
        stepper: A :class:`BiasStepper` or :class:`TimeStepper`.
        series: The table the rows go to.
        outputs: What to write at which step.
        extra_results: Entries of results.json besides the stepper's (case, smoke, dofs, ...).
        restart: The state was loaded from a checkpoint (no initial row).

    Raises:
        SolverError: a step failed for good (checkpoint and failure report are on disk).
        Interrupted: SIGINT/SIGTERM (checkpoint on disk).
    """
    comm, progress = folder.comm, folder.progress
    wall0 = time.perf_counter()
    result = RunResult(folder.out, rows=series.rows)
    save = _checkpointer(folder, stepper, series, outputs)
    progress.start(*stepper.position(), label=folder.case.name)
    try:
        with outputs, StopOnSignal() as stop:
            if hasattr(stepper, "start") and not restart:
                stepper.start()
                series.append(stepper.row())
                outputs.after_step(0.0, stepper.finished, save)
                _stop_if_signalled(stop, comm, stepper, save, folder)  # e.g. during set-up
            while not stepper.finished:
                try:
                    stepper.advance()
                except SolverError as err:
                    save()
                    folder.failure(err, series.rows[-1] if series.rows else None,
                                   stepper.failure_context())
                    raise
                row = stepper.row()
                series.append(row)
                outputs.after_step(stepper.time, stepper.finished, save)
                progress.step(stepper.position()[0], row, lambda: stepper.progress(row))
                _stop_if_signalled(stop, comm, stepper, save, folder)
    finally:
        progress.stop()
        result.wall_time = time.perf_counter() - wall0
        folder.json("results.json", {**extra_results, WALL_TIME: result.wall_time,
                                     **stepper.summary(), **_balances(series.rows),
                                     "final": series.rows[-1] if series.rows else None})
    return result


def _stop_if_signalled(stop: StopOnSignal, comm, stepper, save, folder: RunFolder) -> None:
    """Checkpoint and raise Interrupted when SIGINT/SIGTERM reached any rank and the stepper
    is not done (a signal during the last step lets the run finish)."""
    StopOnSignal.renew()
    signum = comm.allreduce(stop.signal or 0, op=MPI.MAX)
    if signum and not stepper.finished:
        save()
        raise Interrupted(
            f"stopped by signal {signum} at t = {stepper.time:.6g} s; outputs and checkpoint "
            f"are in {folder.out}; continue with: ecx-device run CASE --restart {folder.out}",
            signum)


def _checkpointer(folder: RunFolder, stepper, series: SeriesWriter, outputs: Outputs):
    """A function that checkpoints the current state (no-op when checkpoints are off)."""
    if outputs.checkpoint_interval is None:
        return lambda: None

    def save() -> None:
        checkpoint.save(folder.out, stepper.problem, {
            "case_hash": folder.fingerprint, "rows": len(series.rows), **stepper.meta(),
            "outputs": outputs.meta()})

    return save


def _balances(rows: list[dict]) -> dict:
    """Largest balance errors of an exchange run (results.json)."""
    out = {}
    for key in (CU_BALANCE_ERROR, CD_BALANCE_ERROR):
        values = [r[key] for r in rows if key in r]
        if values:
            out[f"max_{key}"] = max(values)
    return out


@contextlib.contextmanager
def closing(model):
    """Close the model's PETSc objects however the block ends."""
    try:
        yield model
    finally:
        model.close()
