"""Simulation: case -> model (:mod:`ecx_device.models`) -> the run loop -> outputs.

``Simulation(case, out).run()`` solves the case's bias protocol: steady states at its bias
points, or, with ``exchange.enabled``, the composition in time. ``run_iv()`` sweeps the case's
``iv`` section at frozen composition. Both go through :func:`~ecx_device.runs.loop.run_loop`.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from ecx_device.case.schema import Case, CompositionSpec, ExchangeSpec
from ecx_device.device.from_case import device_geometry
from ecx_device.errors import Interrupted
from ecx_device.fem import MPI
from ecx_device.models import DeviceModel, anode_kinetics, build_model, choose
from ecx_device.outputs.fields import FieldWriter, FieldWriters
from ecx_device.outputs.quantities import SeriesWriter, read_series
from ecx_device.outputs.registry import F_POTENTIAL, F_TEMPERATURE
from ecx_device.outputs.snapshots import snapshot_table, write_snapshot
from ecx_device.physics.wire_semiconductor import UNKNOWN_NAMES as SEMICONDUCTOR_NAMES
from ecx_device.runs import checkpoint
from ecx_device.runs.common import RunFolder, RunResult, StopOnSignal
from ecx_device.runs.loop import (FIELD_FRAMES, BiasStepper, Continuation, Outputs, TimeStepper,
                                  closing, outward_order, run_loop)
from ecx_device.runs.stepsize import Stepsize

#: Output names (with units) of the unknowns, for fields and tables.
UNKNOWN_NAMES = {"T": F_TEMPERATURE, "phi": F_POTENTIAL, **SEMICONDUCTOR_NAMES}


def smoke_case(case: Case) -> Case:
    """The case at the smoke element degree (mesh scaling and the protocol cut are applied by
    :class:`Simulation`)."""
    solver = case.solver.model_copy(update={"element_degree": case.smoke.element_degree})
    return case.model_copy(update={"solver": solver})


class Simulation:
    """One run of a case.

    Args:
        case: The validated case.
        out_dir: Output folder (created; must be empty unless ``overwrite``).
        smoke: Shrink the case for a quick check (see the case's ``smoke`` section).
        overwrite: Allow writing into a non-empty folder.
        restart: The folder holds a checkpointed run to continue (see :meth:`run`).
        comm: MPI communicator.
        log: How progress is shown (rank 0 only): ``print`` (default: a progress bar on a
            terminal, a line at most every minute otherwise, and a summary at the end), another
            line printer (it gets every line: messages, one per step, the summary), a
            :class:`~ecx_device.runs.progress.Progress` (e.g. ``Progress(print, "steps")``),
            or ``None`` for silence.
    """

    def __init__(self, case: Case, out_dir: Path | str | None = None, *, smoke: bool = False,
                 overwrite: bool = False, restart: bool = False, comm=MPI.COMM_WORLD,
                 log=print):
        self.case = smoke_case(case) if smoke else case
        self.smoke, self.restart, self.comm = smoke, restart, comm
        self.mesh_scale = self.case.smoke.mesh_scale if smoke else 1.0
        # a bad geometry or anode stops before any folder is made
        device_geometry(self.case, self.mesh_scale)
        if choose(self.case).exchange:
            anode_kinetics(self.case)
        self.out = Path(out_dir or case.outputs.directory or Path("results") / case.name)
        self.folder = RunFolder(self.case, self.out, comm, smoke=smoke, restart=restart,
                                overwrite=overwrite, log=log)
        self.progress = self.folder.progress

    def log(self, msg: str) -> None:
        """Show a message about the run (rank 0)."""
        self.folder.log(msg)

    def build(self) -> DeviceModel:
        """Mesh the device and build the case's model."""
        model = build_model(self.case, self.comm, mesh_scale=self.mesh_scale, log=self.log)
        model.ctx.domain.write_markers(self.out / "markers.json")
        return model

    def _writer(self, model: DeviceModel, continue_series: bool = False):
        if not self.case.outputs.fields:
            return None
        return FieldWriters([FieldWriter(self.out / s.folder, s.ctx, s.modules, UNKNOWN_NAMES,
                                         continue_series=continue_series)
                             for s in model.series])

    def run(self) -> RunResult:
        """Solve the protocol (after the checkpoint, if restarting) and write the outputs.

        Raises:
            SolverError: a step cannot be made; outputs so far, a checkpoint of the last
                converged state and ``failure_report.json`` are on disk.
            Interrupted: SIGINT/SIGTERM; outputs and a checkpoint are on disk.
        """
        t0 = time.perf_counter()
        with StopOnSignal():  # from the set-up on, so a signal there stops the run cleanly
            try:
                return self._run()
            finally:
                self._report()
                self._summary(t0)

    def _summary(self, t0: float) -> None:
        """The summary lines (rank 0): read from the folder, so a failed run gets one too."""
        if self.comm.rank != 0 or self.progress.silent:
            return
        from ecx_device.outputs.summary import summary_lines

        try:
            lines = summary_lines(self.out, time.perf_counter() - t0)
        except Exception as err:  # never hide the run's own error behind the summary's
            lines = [f"(no summary: {type(err).__name__}: {err})"]
        self.progress.summary(lines)

    def _report(self) -> None:
        """``report.html`` of whatever the run left (also a failed or stopped one; rank 0)."""
        if self.comm.rank == 0 and (self.out / "results.json").is_file():
            from ecx_device.outputs.report import write_report

            write_report(self.out)

    def _run(self) -> RunResult:
        case = self.case
        self.folder.begin()
        with closing(self.build()) as model:
            stepper, outputs = (self._time_stepping(model) if model.splitting is not None
                                else self._bias_points(model))
            series = SeriesWriter(self.out / "timeseries.csv", self.comm.rank)
            if self.restart:
                meta = checkpoint.load(self.out, stepper.problem, self.folder.fingerprint)
                stepper.load(meta)
                outputs.load(meta["outputs"], stepper.time)
                series.rows = read_series(self.out / "timeseries.csv")[: meta["rows"]]
                self.log(f"restart at t = {stepper.time:.6g} s ({len(series.rows)} rows done)")
            self.log(f"unknowns: {', '.join(model.problem.names)}; {model.dofs} degrees of "
                     f"freedom, P{case.solver.element_degree}")
            result = run_loop(self.folder, stepper, series, outputs, {
                "case": case.name, "kind": stepper.kind, "smoke": self.smoke,
                "degrees_of_freedom": model.dofs}, restart=self.restart)
            result.dofs = model.dofs
            self._plots(model, result)
        if model.splitting is not None and case.exchange.iv_at_snapshots:
            done = [t for t in sorted(case.exchange.snapshot_times)
                    if snapshot_table(self.out, t).is_file()]
            self.stage_iv_sweeps(done)
        return result

    def _continuation(self) -> Continuation:
        s = self.case.solver
        return Continuation(s.max_bias_step, s.min_bias_step, s.max_temperature)

    def _bias_points(self, model: DeviceModel):
        points = self.case.bias.protocol.bias_points(self.case.bias.sign)
        if self.smoke:
            points = points[-self.case.smoke.max_bias_points:]
        stepper = BiasStepper(model.problem, [(p.time, p.voltage) for p in points],
                              self._continuation())
        return stepper, Outputs(self._writer(model, self.restart))

    def _time_stepping(self, model: DeviceModel):
        case, spec = self.case, self.case.exchange
        protocol = case.bias.protocol
        t_end = protocol.end_time
        if self.smoke:
            t_end = min(t_end, case.smoke.max_simulated_time)
        snapshots = sorted(t for t in spec.snapshot_times if 0.0 < t <= t_end)
        stepsize = Stepsize(spec.initial_time_step, spec.min_time_step, spec.max_time_step,
                            milestones=[t for t in [*protocol.breakpoints(), *snapshots, t_end]
                                        if 0.0 < t <= t_end])
        stepper = TimeStepper(model.splitting, lambda t: protocol.voltage_at(t, case.bias.sign),
                              t_end, stepsize)
        frames = [t_end * k / FIELD_FRAMES for k in range(1, FIELD_FRAMES + 1)]
        splitting = model.splitting
        outputs = Outputs(self._writer(model, self.restart), field_times=frames,
                          snapshot_times=snapshots,
                          snapshot=lambda t: write_snapshot(self.out, splitting.X, t, case),
                          checkpoint_interval=spec.checkpoint_interval,
                          before_write=splitting.sync_outputs)
        return stepper, outputs

    def _plots(self, model: DeviceModel, result: RunResult) -> None:
        if not (self.case.outputs.plots and result.rows):
            return
        from ecx_device.outputs.plots import exchange_plots, write_plots

        if model.splitting is not None:
            exchange_plots(self.out, result.rows, self.case, self.comm.rank)
        else:
            write_plots(self.out, model.ctx, result.rows, self.case)

    def run_iv(self) -> RunResult:
        """I-V sweep at frozen composition (the case's ``iv`` section): ``iv.csv`` (one row per
        bias in sweep order, quantities as in a run; a one-way sweep is solved outward from
        0 V, so the rows of an interrupted one are in solve order), ``iv.png`` (linear and log
        |I|) and, at
        ``iv.field_biases``, fields in ``fields/fields.pvd`` with the bias (V) as the time axis.

        Raises:
            SolverError: a bias cannot be reached (rows so far are on disk).
            Interrupted: SIGINT/SIGTERM (rows so far are on disk; rerun to repeat the sweep).
        """
        t0 = time.perf_counter()
        with StopOnSignal():
            try:
                return self._run_iv()
            finally:
                self._summary(t0)

    def _run_iv(self) -> RunResult:
        """:meth:`run_iv` without the summary (also the stage sweeps of an exchange run)."""
        case = self.case
        self.folder.write_provenance()
        biases = case.iv.biases()
        if self.smoke:  # both ends and a few points between
            k = max(1, len(biases) // (2 * case.smoke.max_bias_points + 1))
            biases = sorted(set(biases[::k]) | {biases[0], biases[-1]}, key=biases.index)
        self.log(f"I-V sweep: {len(biases)} biases from {biases[0]:+.3f} V to "
                 f"{biases[-1]:+.3f} V{' and back' if case.iv.return_sweep else ''}")
        # frozen composition: the electrical model of the case alone, whatever its exchange says
        frozen = case.model_copy(update={"exchange": ExchangeSpec()})
        with closing(build_model(frozen, self.comm, mesh_scale=self.mesh_scale,
                                 log=self.log)) as model:
            model.ctx.domain.write_markers(self.out / "markers.json")
            # a one-way sweep is solved outward from the model's starting bias (equilibrium)
            # and its rows put back in sweep order at the end; a return sweep keeps its order,
            # which is the point of a return sweep (hysteresis)
            start = float(model.ctx.constants["bias"].value)
            order = None if case.iv.return_sweep else outward_order(biases, start)
            stepper = BiasStepper(model.problem, [(None, v) for v in biases],
                                  self._continuation(), order)
            wanted = sorted({round(v, 9) for v in case.iv.field_biases})
            writer = self._writer(model) if wanted else None
            outputs = _IVOutputs(writer, wanted, stepper)
            series = SeriesWriter(self.out / "iv.csv", self.comm.rank)
            try:
                result = run_loop(self.folder, stepper, series, outputs, {
                    "case": case.name, "kind": "iv", "smoke": self.smoke,
                    "degrees_of_freedom": model.dofs, "biases": len(biases)})
            except Interrupted as err:
                raise Interrupted(f"I-V sweep stopped after {stepper.done}/{len(biases)} "
                                  f"biases; rows so far are in {self.out / 'iv.csv'}",
                                  err.exit_code - 128) from None
            result.dofs = model.dofs
            if stepper.order != sorted(stepper.order):
                self._in_sweep_order(series, stepper.order)
                result.rows = series.rows
        if case.outputs.plots and self.comm.rank == 0:
            from ecx_device.outputs.plots import iv_plot

            iv_plot(self.out / "iv.png", result.rows, case.name)
        self._report()
        return result

    def _in_sweep_order(self, series: SeriesWriter, order: list[int]) -> None:
        """Put the rows of a sweep solved in ``order`` back in sweep order: iv.csv, and the
        ``final`` row of results.json (the sweep's last bias, which need not be the last one
        solved)."""
        series.replace([series.rows[order.index(i)] for i in range(len(order))])
        if self.comm.rank == 0:
            results = json.loads((self.out / "results.json").read_text())
            self.folder.json("results.json", {**results, "final": series.rows[-1]})

    def stage_iv_sweeps(self, times: list[float]) -> None:
        """I-V sweeps at the frozen composition of each snapshot (``exchange.iv_at_snapshots``):
        the case with ``composition.file`` = the snapshot table and no exchange, swept as
        ``ecx-device iv`` does, into ``<run>/iv_t<t>s/``: the stage curves of one run, on the
        run's own electrical model."""
        case = self.case
        for t in times:
            stage = case.model_copy(update={
                "name": f"{case.name}_t{t:.6g}s",
                "composition": CompositionSpec(shape="file", file=str(snapshot_table(self.out, t))),
                "exchange": ExchangeSpec()})
            self.log(f"I-V sweep at the composition of t = {t:.6g} s")
            Simulation(stage, self.out / f"iv_t{t:.6g}s", smoke=self.smoke, overwrite=True,
                       comm=self.comm, log=self.progress.nested())._run_iv()


class _IVOutputs(Outputs):
    """Fields of an I-V sweep at the chosen biases, first pass only (the bias is the time axis);
    no checkpoints."""

    def __init__(self, writer, wanted: list[float], stepper: BiasStepper):
        super().__init__(writer, checkpoint_interval=None)
        self._wanted, self._written, self._stepper = set(wanted), set(), stepper

    def after_step(self, t: float, final: bool, save) -> None:
        """Fields when the bias just solved is a wanted one not yet written."""
        v = round(self._stepper.bias, 9)
        if v in self._wanted and v not in self._written:
            self._written.add(v)
            self.write_fields(v)
