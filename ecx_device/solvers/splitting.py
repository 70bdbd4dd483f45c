"""Operator splitting of the exchange: an implicit ion step on the wire, then the electro-thermal
re-solve at the new composition (docs/model.md 8.3).

The electro-thermal state relaxes in ns and depends only on the bias and the composition X; the
ions move in ms to s. One step of length dt therefore

1. advances Cu+, vacancies and X on the wire by backward Euler with the electro-thermal fields of
   the last solve frozen (potential, electron quasi-Fermi potential, temperature, bias);
2. rejects the step when Newton fails, or X or the ions' charge per site, z c - 2 v, changed by
   more than ``max_fraction_change`` anywhere, and estimates the step's local error in the same
   two quantities (:meth:`ExchangeSplitting.step_error`), which sets the next step's length;
3. re-solves the electro-thermal problem at the step's end bias when the bias changed, X moved by
   more than ``resolve_fraction`` or the ions' charge per site by more than ``resolve_charge``
   since the last solve (the ions are part of Poisson's space charge), and rejects the step when
   that moved the wire temperature by more than ``max_temperature_change`` (the coupling then
   needs a shorter step).

The ions move in the field of the last electro-thermal solve; between solves their own charge does
not act on them. Limiting the charge an ion step may move (2) and re-solving after any change of
the charge that Poisson can see (3) keeps that explicit coupling stable: without them, ions in a
fast conductor (a Li anode feeding Cu2S-like paths) piled up in a frozen potential well to tens
per S site.

The electro-thermal problem may be any :class:`~ecx_device.solvers.problem.Problem` (Newton on an
ohmic device, the self-heated drift-diffusion wire, ...): it meets the ions only through a
:class:`FieldLink`, which the model switch (:mod:`ecx_device.models`) builds. The splitting itself
never asks which electrical model it drives.

Balances, each step: Cu: (mobile + lattice Cu in the wire) - initial = Cu in at the anode (or
surface supply) - Cu out at the cathode, time-integrated with the step's own fluxes; Cd: Cd lost from
the wire (the module's ``cd_missing``) = sublimated + evaporated (+ kicked out, where the module's
kicked-out Cd leaves the wire: ``kicked_out_cd_leaves``; the bulk exchange keeps it as ``cd``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from ecx_device.errors import SolverError
from ecx_device.fem import MPI
from ecx_device.physics.exchange import CationExchange, front_position
from ecx_device.solvers.continuation import continue_bias
from ecx_device.solvers.local_error import linear_prediction, local_error
from ecx_device.solvers.newton import CoupledProblem, argmax_owner
from ecx_device.solvers.problem import NewtonResult, Problem
from ecx_device.units import ELEMENTARY_CHARGE, MESH_UNIT

#: Lower bound of the fractions accepted in a step (round-off below zero is tolerated).
NEGATIVE_TOLERANCE = 1e-6

#: Smallest transfer, as a fraction of the inventory, against which a balance is judged. An
#: inventory summed over the wire in double precision carries ~1e-14 of itself in round-off
#: (up to 1.8e-14 over 750 steps of the front-kinetics thermal cases: docs/validation.md), so a
#: relative closure of 1e-9 can be resolved only for transfers above ~1e-5 of it; 1e-4 keeps
#: a factor 10 of margin for runs of thousands of steps.
INVENTORY_RESOLUTION = 1e-4


#: Largest step ratio of the ions' predicted start (a longer step extrapolates this far only).
MAX_PREDICTION_RATIO = 2.0


def balance_error(gained: float, transferred: float, inventory: float,
                  sites: float, *others: float) -> float:
    """Relative error of a balance: |gained - transferred| over the largest of the two, the
    ``others`` transfers, INVENTORY_RESOLUTION x the inventory and 1e-12 x the S sites
    (an inventory near zero) (all in atoms)."""
    scale = max(abs(gained), abs(transferred), *(abs(o) for o in others),
                INVENTORY_RESOLUTION * abs(inventory), 1e-12 * sites)
    return abs(gained - transferred) / scale if scale > 0 else 0.0


@dataclass
class FieldLink:
    """How the ions on the wire and the electro-thermal problem see each other.

    Attributes:
        pull: Refresh the ion context's given fields (``psi``, ``phi_n``, ``T`` on the wire) from
            the electro-thermal solution; called after every electro-thermal solve.
        push: Hand the composition X and the ion densities c, v (Functions on the wire) to the
            electro-thermal problem; called before every electro-thermal solve.
        wire_temperature: The wire temperature the ions see (Function on the wire, K).
    """

    pull: Callable[[], None]
    push: Callable[[Any, Any, Any], None]
    wire_temperature: Any


@dataclass
class Inventory:
    """Cumulative boundary transfers (atoms) since t = 0, and the initial inventories."""

    cu_in: float = 0.0
    cu_out: float = 0.0
    cd_sublimated: float = 0.0
    cd_kicked_out: float = 0.0
    cd_evaporated: float = 0.0
    initial: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        """JSON-ready copy (checkpoints)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


#: NewtonResult reasons of an ion step that converged but is rejected: a value out of its range,
#: or X or the ions' charge moved more than StepLimits.max_fraction_change.
OUT_OF_RANGE, TOO_FAST = -300, -303


@dataclass(frozen=True)
class StepLimits:
    """What makes an exchange step acceptable (case section ``exchange`` and ``solver``).

    Attributes:
        max_fraction_change: Largest change of X anywhere in one step (-).
        time_error_tolerance: Local error per step, in X and the ions' charge per site, that the
            step-length controller aims at (-; :meth:`ExchangeSplitting.step_error`).
        max_temperature_change: Largest change of the wire temperature by the re-solve (K).
        resolve_fraction: Re-solve the electro-thermal state when X moved by more than this (-).
        resolve_charge: ... or the ions' charge per S site, z c - 2 v, by more than this (-;
            1e-5 of the S sites is ~0.4 N_D of the CdS wire).
        max_bias_step, min_bias_step: Of the bias continuation of the re-solve (V).
        max_temperature: Temperatures above this (K) reject a re-solve.
        ionic_charge: The electrical model carries the ions' charge (the drift-diffusion
            Poisson equation). Without it (the ohmic wire) the charge neither limits a step nor
            triggers a re-solve: it would only slow the run down.
    """

    max_fraction_change: float = 0.1
    time_error_tolerance: float = 1e-3
    max_temperature_change: float = 25.0
    resolve_fraction: float = 0.02
    resolve_charge: float = 1e-5
    max_bias_step: float = 0.25
    min_bias_step: float = 1e-3
    max_temperature: float = 2500.0
    ionic_charge: bool = True


class ExchangeSplitting:
    """The exchange run's problem: ions on the wire plus the electro-thermal state (module
    docstring). Offers the :class:`~ecx_device.solvers.problem.Problem` protocol; ``solve()``
    makes one step of length :attr:`dt` to the bias :attr:`target_bias`.

    Args:
        electrical: The electro-thermal problem (its ``ctx.constants["bias"]`` is the bias).
        ions: The ion problem on the wire (unknowns c, v, X of ``module``).
        module: The exchange module of ``ions``.
        link: The coupling of the two (:class:`FieldLink`).
        limits: Step acceptance (:class:`StepLimits`).
        stations: Axial positions (m) where the shell thickness is reported.
        shell_thickness: Callable (X, z [m]) -> thickness (nm) of the exchanged shell at z.
        carriers: With a monolithic ion step (``ions`` also solves Poisson and the carriers),
            the electrical problem's carrier problem: the two trade their shared unknowns
            (psi, phi_n, phi_p) before and after each ion step.
    """

    def __init__(self, electrical: Problem, ions: CoupledProblem, module: CationExchange,
                 link: FieldLink, limits: StepLimits, stations=(), shell_thickness=None,
                 carriers: CoupledProblem | None = None):
        self.electrical, self.ions, self.module, self.link = electrical, ions, module, link
        self.carriers = carriers
        #: Newton iterations up to which an accepted step counts as easy (the step may grow).
        #: The monolithic step's count includes the carriers, which follow every change of the
        #: ions' charge: 9-19 per step at 500 K on the axisymmetric wire, where 8 froze the step
        #: at 6.6e-4 s (gold anode, 188 steps for 0.1 s, none rejected).
        self.easy_iterations = 20 if carriers is not None else 8
        self._shared = [n for n in ions.names if carriers is not None and n in carriers.u]
        self.limits = limits
        self.stations, self._shell = tuple(stations), shell_thickness
        self.ctx = electrical.ctx
        self.ictx = ions.ctx
        self.X = ions.u["X"]
        self.names = list(dict.fromkeys([*electrical.names, *ions.names]))
        #: Step length (s) and bias at its end (V) of the next :meth:`solve`.
        self.dt, self.target_bias = 0.0, float(self.ctx.constants["bias"].value)
        self.inventory = Inventory()
        self.module.accept(self.ions.u)
        # X of the last electro-thermal solve: the electrical properties always follow this X,
        # so the electro-thermal state stays consistent with what it was solved with
        self.X_solved = self.X.copy()
        self.X_solved.name = "X_solved"
        anode = self.module.anode
        self._z = anode.charge_number if anode is not None else 1
        # the ions' charge of the last electro-thermal solve, a Function so that it is restored
        # and checkpointed with the state it belongs to
        self.charge_solved = self.X.copy()
        self.charge_solved.name = "charge_solved"
        self.charge_solved.x.array[:] = self._charge()
        self._bias_solved: float | None = None
        self._rates: dict[str, float] = {}
        self.last_iterations = 0
        # the accepted state before the step's start, for the error estimate: X and the ions'
        # charge as Functions (restored and checkpointed with the state), and the length of the
        # step that followed it (0: no such state yet)
        self.X_older = self.X.copy()
        self.X_older.name = "X_older"
        self.charge_older = self.X.copy()
        self.charge_older.name = "charge_older"
        self._dt_older = 0.0
        # every ion unknown of that older state (X's is X_older): the step's Newton solve starts
        # from the linear extrapolation in time of the older and the start state
        self.ions_older = {n: self.X_older if n == "X" else ions.u[n].copy()
                           for n in module.unknowns}
        for n, f in self.ions_older.items():
            f.name = f"{n}_older"

    # -- the protocol ----------------------------------------------------------------------------
    @property
    def u(self) -> dict:
        """Every Function of the state, keyed ``et.<name>`` / ``ion.<name>`` (checkpoints)."""
        return {**{f"et.{k}": f for k, f in self.electrical.u.items()},
                **{f"ion.{k}": f for k, f in self.ions.u.items()}, "aux.X_solved": self.X_solved,
                "aux.charge_solved": self.charge_solved, "aux.X_older": self.X_older,
                "aux.charge_older": self.charge_older,
                **{f"aux.{n}_older": f for n, f in self.ions_older.items() if n != "X"}}

    def state(self) -> dict[str, np.ndarray]:
        """Copy of every array of the state."""
        return {k: f.x.array.copy() for k, f in self.u.items()}

    def restore(self, state: dict[str, np.ndarray]) -> None:
        """Put back a :meth:`state`; the previous ion state becomes the restored one."""
        u = self.u
        for k, arr in state.items():
            u[k].x.array[:] = arr
        self.module.accept(self.ions.u)
        self.link.push(self.X_solved, self.ions.u["c"], self.ions.u["v"])
        self.link.pull()

    def sync_outputs(self) -> None:
        """Hand the current ion fields to the electrical side's output copies (before fields are
        written)."""
        self.link.push(self.X_solved, self.ions.u["c"], self.ions.u["v"])

    def residual_norms(self) -> dict[str, float]:
        """Residual norms of both problems."""
        return {**self.electrical.residual_norms(), **self.ions.residual_norms()}

    def close(self) -> None:
        """Destroy both problems' PETSc objects, in the same order on every rank."""
        self.ions.close()
        self.electrical.close()

    # -- the solves ------------------------------------------------------------------------------
    def solve_electrothermal(self, bias: float, force: bool = False) -> bool:
        """Re-solve the electro-thermal state at ``bias`` (V) for the current X if the bias
        changed or X moved enough (module docstring); True if it solved.

        Raises:
            SolverError: the bias continuation could not reach ``bias``.
        """
        lim = self.limits
        moved = self._largest(self.X.x.array - self.X_solved.x.array)
        charged = (self._largest(self._charge() - self.charge_solved.x.array)
                   if lim.ionic_charge else 0.0)
        if not force and self._bias_solved == bias and moved <= lim.resolve_fraction \
                and charged <= lim.resolve_charge:
            return False
        self.X_solved.x.array[:] = self.X.x.array
        self.charge_solved.x.array[:] = self._charge()
        self.link.push(self.X_solved, self.ions.u["c"], self.ions.u["v"])
        continue_bias(self.electrical, bias, max_step=lim.max_bias_step,
                      min_step=lim.min_bias_step, bounds={"T": (0.0, lim.max_temperature)})
        self.link.pull()
        self.ictx.constants["bias"].value = bias
        self._bias_solved = bias
        return True

    def start(self, bias: float) -> None:
        """Solve the initial electro-thermal state at ``bias`` and record the initial
        inventories (a new run)."""
        self.solve_electrothermal(bias, force=True)
        b0 = self.balance()
        self.inventory.initial = {"cu": b0["cu_mobile"] + b0["cu_lattice"],
                                  "cd_missing": b0["cd_missing"],
                                  "cd_displaced": b0.get("cd_displaced", 0.0)}
        self._rates = {k: 0.0 for k in b0 if "rate" in k}

    def solve(self) -> NewtonResult:
        """One step of length :attr:`dt` ending at :attr:`target_bias` (module docstring); the
        state is left at the result also when it failed (the caller restores)."""
        self.module.dt.value = self.dt
        if self.carriers is not None:  # monolithic: the step starts at its end bias
            try:
                self.solve_electrothermal(self.target_bias)
            except SolverError as err:
                return NewtonResult(False, 0, -301, f"electro-thermal: {err}")
            self._trade(self.carriers, self.ions)
        self._predict_ions()
        result = self.ions.solve()
        self.last_iterations = result.iterations
        if not result.converged:
            return NewtonResult(False, result.iterations, result.reason,
                                result.message or "ion Newton did not converge")
        why = self._out_of_range()
        if why:
            return NewtonResult(False, result.iterations, OUT_OF_RANGE, why)
        why = self._too_fast()
        if why:
            return NewtonResult(False, result.iterations, TOO_FAST, why)
        self._check_flooding()
        if self.carriers is not None:  # the electrical state now holds the ions' step
            self._trade(self.ions, self.carriers)
            self.link.push(self.X_solved, self.ions.u["c"], self.ions.u["v"])
        self._rates = {k: v for k, v in self.balance().items() if "rate" in k}  # the step's
        T_before = self._wire_temperature()
        try:
            self.solve_electrothermal(self.target_bias)
        except SolverError as err:
            return NewtonResult(False, result.iterations, -301, f"electro-thermal: {err}")
        comm = self.ctx.domain.mesh.comm
        dT = comm.allreduce(float(np.max(np.abs(self._wire_temperature() - T_before),
                                         initial=0.0)), op=MPI.MAX)
        if dT > self.limits.max_temperature_change:
            return NewtonResult(False, result.iterations, -302,
                                f"T moved {dT:.3g} K in one step")
        return NewtonResult(True, result.iterations, result.reason)

    def _trade(self, source: CoupledProblem, target: CoupledProblem) -> None:
        """Copy the carrier unknowns shared by the two problems (same P1 space layout)."""
        for n in self._shared:
            target.u[n].x.array[:] = source.u[n].x.array

    def diagnose(self, why: str) -> dict:
        """What broke in the current (failed) state, for failure_report.json: the ion equations'
        largest residuals with their points, regions and local c, v, X and T (K), and the anode
        overpotential (V). ``why`` is the failed attempt's message."""
        report: dict = {"failed_part": "electro-thermal" if why.startswith("electro-thermal")
                        else "ions", "attempt_message": why}
        try:
            entries = self.ions.largest_residuals()
            T = self._wire_temperature()
            V = self.ions.spaces["c"]
            for e in entries:
                if T.size == 1:
                    e["values"]["T"] = float(T[0])
                elif T.size == self.ions.u["c"].x.array.size:  # T on the ions' own P1 space
                    e["values"]["T"] = _value_at(self.link.wire_temperature, V, e["point [nm]"])
            report["largest_residuals"] = entries
            row = self._exchange_quantities()
            report["anode_drop [V]"] = row.get("anode_drop [V]")
            report["anode_overpotential [V]"] = row.get("anode_overpotential [V]")
            report["exchanged_fraction [-]"] = row.get("exchanged_fraction [-]")
            report["wire_T_max [K]"] = float(self._largest(T))
            reason = self.physical_reason(why, report["exchanged_fraction [-]"],
                                          report["wire_T_max [K]"])
            if reason:
                report["physical_reason"] = reason
        except Exception as err:  # a NaN state may not assemble; the report must still be written
            report["diagnosis_error"] = str(err)
        return report

    def _check_flooding(self) -> None:
        """Stop (SolverError with a physical reason) once the mobile ions somewhere outnumber
        the S sites, c >= FLOODED: no lattice holds that many interstitials, the excess would
        have to precipitate as a new phase, and the model converts it only through the exchange
        kinetics (docs/model.md 8.3)."""
        c = self.ions.u["c"].x.array
        c_max = self._largest(c)
        if c_max < FLOODED:
            return
        comm = self.ctx.domain.mesh.comm
        i, owner = argmax_owner(c, comm)
        gdim = self.ctx.domain.mesh.geometry.dim
        xyz = self.ions.spaces["c"].tabulate_dof_coordinates()[:, :gdim]
        where = comm.bcast([float(x) for x in xyz[i]] if comm.rank == owner else None,
                           root=owner)
        reason = (f"the wire is flooded with mobile ions: c = {c_max:.3g} per S site at "
                  f"{where} nm (more interstitial ions "
                  "than anion sites), faster than the exchange converts them; the excess would "
                  "have to precipitate, which the model does not describe")
        raise SolverError(reason,
                          details={"physical_reason": reason, "c_max [-]": c_max,
                                   "point [nm]": where})

    def physical_reason(self, why: str, exchanged: float | None, T_max: float) -> str:
        """The mechanism behind a step that cannot be made, when there is one ('' otherwise):
        thermal runaway (the heat re-solve keeps moving T by more than the step limit, or has
        no steady state) or full conversion (nothing left to exchange)."""
        if exchanged is not None and exchanged >= FULL_CONVERSION:
            return (f"full conversion reached early: {100 * exchanged:.2f} % of the wire is "
                    "exchanged, so the exchange front has nothing left to convert")
        runaway = why.startswith("T moved") or ("electro-thermal" in why and "runaway" in why)
        if runaway:
            return (f"thermal runaway: the wire is at T_max = {T_max:.0f} K and its heating "
                    "outgrows the heat loss (no steady electro-thermal state at this bias)")
        return ""

    def _wire_temperature(self) -> np.ndarray:
        T = self.link.wire_temperature
        return T.x.array.copy() if hasattr(T, "x") else np.atleast_1d(float(T.value))

    def _out_of_range(self) -> str:
        comm = self.ctx.domain.mesh.comm
        u = self.ions.u
        lows = {n: comm.allreduce(float(u[n].x.array.min(initial=np.inf)), op=MPI.MIN)
                for n in self.module.unknowns}
        bad = [f"{n} = {lo:.3g}" for n, lo in lows.items() if lo < -NEGATIVE_TOLERANCE]
        high = comm.allreduce(float(self.X.x.array.max(initial=-np.inf)), op=MPI.MAX)
        if high > 1 + NEGATIVE_TOLERANCE:
            bad.append(f"X = {high:.6g}")
        return "out of range: " + ", ".join(bad) if bad else ""

    def _too_fast(self) -> str:
        change = self.max_change()
        limit = self.limits.max_fraction_change
        return (f"X or the ions' charge changed by {change:.3g} per site > {limit:g}"
                if change > limit else "")

    def _predict_ions(self) -> None:
        """Start the ion Newton solve from the linear extrapolation in time of the last two
        accepted states, cut to the ion problem's bounds: a start only, the step's solution is the
        same to the Newton tolerance (default case: 162 -> 133 ion Newton iterations)."""
        if self._dt_older <= 0.0:
            return
        dt = min(self.dt, MAX_PREDICTION_RATIO * self._dt_older)
        for n, older in self.ions_older.items():
            predicted = linear_prediction(self.module.previous[n].x.array, older.x.array, dt,
                                          self._dt_older)
            lo, hi = self.ions.bounds.get(n, (None, None))  # the ion problem's own bounds
            self.ions.u[n].x.array[:] = np.clip(predicted, -np.inf if lo is None else lo,
                                                np.inf if hi is None else hi)

    def rejection_factor(self, result: NewtonResult) -> float | None:
        """Factor (-) for the retry of the step just rejected with ``result`` (state not yet
        restored): when X or the ions' charge moved more than ``max_fraction_change``, the
        limit over the change (a change that grows with the step, at most in proportion;
        Stepsize.retry bounds the cut); None for other rejections."""
        if result.reason != TOO_FAST:
            return None
        return self.limits.max_fraction_change / self.max_change()

    def step_error(self) -> float:
        """Local error estimate (-) of the step just solved (solvers.local_error), the
        largest over the nodes of X and (StepLimits.ionic_charge) the ions' charge per site."""
        previous = self.module.previous

        def error(now: np.ndarray, start: np.ndarray, older: np.ndarray) -> float:
            return self._largest(local_error(now, start, older, self.dt, self._dt_older))

        X_error = error(self.X.x.array, previous["X"].x.array, self.X_older.x.array)
        if not self.limits.ionic_charge:
            return X_error
        return max(X_error, error(self._charge(), self._charge(previous),
                                  self.charge_older.x.array))

    def _charge(self, u: dict | None = None) -> np.ndarray:
        """The ions' charge per S site, z c - 2 v, of ``u`` (default the current state) (-)."""
        u = u or self.ions.u
        return self._z * u["c"].x.array - 2.0 * u["v"].x.array

    def _largest(self, values: np.ndarray) -> float:
        """max |values| over every rank."""
        comm = self.ctx.domain.mesh.comm
        return comm.allreduce(float(np.max(np.abs(values), initial=0.0)), op=MPI.MAX)

    def max_change(self) -> float:
        """Largest change of X, and of the ions' charge per site z c - 2 v where the electrical
        model carries it (StepLimits.ionic_charge), in the current step (-)."""
        previous = self.module.previous
        moved = self._largest(self.X.x.array - previous["X"].x.array)
        if not self.limits.ionic_charge:
            return moved
        return max(moved, self._largest(self._charge() - self._charge(previous)))

    def accept(self) -> None:
        """Make the solved step the new start: integrate the step's boundary transfers."""
        inv, b, dt = self.inventory, self._rates, self.dt
        inv.cu_in += dt * b["cu_in_rate"]
        inv.cu_out += dt * b["cu_out_rate"]
        inv.cd_sublimated += dt * b["cd_sublimation_rate"]
        inv.cd_kicked_out += dt * b["cd_kickout_rate"]
        inv.cd_evaporated += dt * b.get("cd_evaporation_rate", 0.0)
        self.ctx.constants["bias"].value = self.target_bias
        previous = self.module.previous
        for n, older in self.ions_older.items():  # X_older among them
            older.x.array[:] = previous[n].x.array
        self.charge_older.x.array[:] = self._charge(previous)
        self._dt_older = dt
        self.module.accept(self.ions.u)

    # -- reporting -------------------------------------------------------------------------------
    def balance(self) -> dict[str, float]:
        """Inventories and boundary rates of the current state (see CationExchange)."""
        return self.ictx.evaluate("balance", lambda: self.module.balance_forms(self.ictx))

    def quantities(self) -> dict[str, float]:
        """Electro-thermal scalars, the exchange scalars of the current state (rates of the step
        that led here) and the total (electronic + ionic) current."""
        row = {**self.electrical.quantities(), **self._exchange_quantities()}
        row["total_current [A]"] = row["current [A]"] + row["ionic_current [A]"]
        return row

    def _exchange_quantities(self) -> dict[str, float]:
        inv = self.inventory
        b = {**self._rates, **{k: v for k, v in self.balance().items() if "rate" not in k}}
        cu_now = b["cu_mobile"] + b["cu_lattice"]
        cu_gain = cu_now - inv.initial["cu"]
        sites = self.module.N * b["volume"]
        cd_lost = b["cd_missing"] - inv.initial["cd_missing"]
        cd_out = inv.cd_sublimated + inv.cd_evaporated + (
            inv.cd_kicked_out if getattr(self.module, "kicked_out_cd_leaves", True) else 0.0)
        # also judged against the Cd moved off its sites into the displaced pool, the largest
        # transfer of the balance when little leaves the wire (a cold wire barely evaporates)
        cd_moved = b.get("cd_displaced", 0.0) - inv.initial.get("cd_displaced", 0.0)
        cd_now = b["cd_missing"] + b.get("cd_displaced", 0.0)
        cd_initial = inv.initial["cd_missing"] + inv.initial.get("cd_displaced", 0.0)
        cu_error = balance_error(cu_gain, inv.cu_in - inv.cu_out,
                                 max(cu_now, inv.initial["cu"]), sites, inv.cu_in, inv.cu_out)
        cd_error = balance_error(cd_lost, cd_out, max(cd_now, cd_initial), sites, cd_moved)
        front = front_position(self.X, self.ictx.domain.axial_index)
        row = {
            "ionic_current [A]": ELEMENTARY_CHARGE * b["cu_in_rate"],
            "ionic_heat [W]": b["ion_heat"],
            "anode_drop [V]": b["anode_drop"] / b["anode_area"],
            "cu_inflow_rate [1/s]": b["cu_in_rate"], "cu_outflow_rate [1/s]": b["cu_out_rate"],
            "cu_inflow_formula_deviation [-]": (
                abs(b["cu_in_rate_formula"] - b["cu_in_rate"])
                / max(abs(b["cu_in_rate"]), abs(b["cu_in_rate_formula"]), 1e-300)),
            "cd_sublimation_rate [1/s]": b["cd_sublimation_rate"],
            "cd_kickout_rate [1/s]": b["cd_kickout_rate"],
            "cd_evaporation_rate [1/s]": b.get("cd_evaporation_rate", 0.0),
            "cd_evaporated_total [-]": inv.cd_evaporated,
            "cd_displaced [-]": b.get("cd_displaced", 0.0),
            "cu_in_total [-]": inv.cu_in, "cu_out_total [-]": inv.cu_out,
            "cu_mobile [-]": b["cu_mobile"], "cu_lattice [-]": b["cu_lattice"],
            "cd_lost [-]": cd_lost, "vacancies [-]": b["vacancies"],
            "exchanged_volume [nm^3]": b["exchanged"] / MESH_UNIT**3,
            "exchanged_fraction [-]": b["exchanged"] / b["volume"],
            "front_position [nm]": front if np.isfinite(front) else float("nan"),
            "cu_balance_error [-]": cu_error, "cd_balance_error [-]": cd_error,
            "time_step [s]": self.dt, "ion_newton_iterations [-]": self.last_iterations,
        }
        if self.module.anode is not None:
            row["anode_overpotential [V]"] = (b["anode_drop"] - b["anode_equilibrium"]) \
                / b["anode_area"]
        for z in self.stations:
            row[f"shell_thickness_z{z / MESH_UNIT:g}nm [nm]"] = self._shell(self.X, z)
        return row

    # -- checkpoints -----------------------------------------------------------------------------
    def meta(self) -> dict:
        """What a checkpoint needs besides the arrays (JSON-ready)."""
        return {"inventory": self.inventory.as_dict(), "bias_solved": self._bias_solved,
                "rates": self._rates, "dt": self.dt, "dt_older": self._dt_older}

    def load_meta(self, meta: dict) -> None:
        """Continue from a checkpoint's :meth:`meta` (after :meth:`restore` of its arrays)."""
        self.inventory = Inventory(**meta["inventory"])
        self._bias_solved = meta["bias_solved"]
        self._rates = meta["rates"]
        self.dt = meta["dt"]
        self._dt_older = meta.get("dt_older", 0.0)  # checkpoints before the error control
        self.ctx.constants["bias"].value = self._bias_solved
        self.ictx.constants["bias"].value = self._bias_solved


#: Exchanged fraction of the wire above which a failed step is put down to full conversion.
FULL_CONVERSION = 0.99

#: Mobile ions per S site at which a run stops as flooded (ExchangeSplitting._check_flooding).
FLOODED = 1.0


def _value_at(f, V, point: list[float]) -> float | None:
    """Value of P1 Function ``f`` (on ``V``'s mesh and layout) at its DOF nearest ``point``."""
    xyz = V.tabulate_dof_coordinates()[:, : len(point)]
    if not len(xyz):
        return None
    return float(f.x.array[int(np.argmin(np.sum((xyz - np.asarray(point)) ** 2, axis=1)))])
