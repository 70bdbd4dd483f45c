"""Fixed point: the two-way electro-thermal coupling of the drift-diffusion wire (docs/model.md
5a.12).

The carriers live on the wire (a submesh; the metals are equipotential), the temperature on the
whole device (the metals conduct heat to the sinks as in the ohmic model). At each bias the two
are coupled by fixed-point (Gummel-type) iteration:

1. drift-diffusion on the wire at the wire temperature T_w (Newton); its data (V_T, N_c, N_v, n_i,
   E_g, mobilities, the Richardson A* T^2 of the Schottky contacts) follow T_w. When T_w moved a
   lot since the last carrier solve, the move is made in steps (temperature continuation);
2. the heat the carriers release, per wire cell: the bulk heat of
   :meth:`DriftDiffusion.heat_density` (Joule, recombination and Peltier heat) averaged over the
   cell, and the heat released at each contact (:meth:`SchottkyContact.interface_heat`,
   :meth:`DriftDiffusion.terminal_heat_forms`) put into the cells that touch it. The cell values
   times the cell volumes sum to the total exactly, so the heat problem receives the electrical
   power sum V I (up to the Newton tolerance of step 1);
3. heat on the whole device with that source (radiation, k(T, X)): chord iterations with the
   Jacobian and factors of the last heat solve, Newton when those do not converge;
4. the new wire temperature; stop when it moved by less than ``tolerance`` anywhere, keeping the
   T_w that step 1 used (so the carriers are exactly consistent with the data they were solved
   with, and the device temperature differs from it by less than ``tolerance``); else the next
   T_w is the Anderson mixture of the last iterates (solvers/anderson.py). While T_w still
   moves (by at most ADOPT_LIMIT), step 1 of the next pass is a single chord iteration of the
   carriers instead of a full solve; the iteration stops only on a pass whose carriers passed
   their convergence test: chord iterations from the passes' iterate, or, if those do not
   converge, a solve from the last carriers that passed it (at their temperature).

Each solve starts by adopting the device temperature of the state as T_w when the two differ by
little (:data:`ADOPT_LIMIT`).

The iteration converges while the heating feeds back weakly (a gain dT_new/dT_old below one);
past that a steady state may not exist (thermal runaway), and the bias continuation reports it.
"""

from __future__ import annotations

import numpy as np

from ecx_device.device.names import Region
from ecx_device.fem import MPI, PETSc, dolfinx, ufl
from ecx_device.mesh import CellPairs
from ecx_device.physics.heat import HeatConduction, HeatSource
from ecx_device.physics.semiconductor_scaling import quadrature_degree, with_quadrature
from ecx_device.solvers.anderson import AndersonMixing
from ecx_device.solvers.newton import FROZEN_MAX_ITERATIONS, CoupledProblem
from ecx_device.solvers.problem import NewtonResult

#: Powers below this (W) count as zero in the power balance.
POWER_FLOOR = 1e-24

#: NewtonResult.reason of an electro-thermal iteration that ran out of iterations.
NOT_CONVERGED = -200

#: Largest wire temperature change (K) adopted at the start of a fixed-point solve without the
#: temperature continuation: far below the changes (tens of K) whose first Newton step overflows.
ADOPT_LIMIT = 1.0

#: Chord iterations of the carriers per fixed-point pass while the temperature still moves
#: (SelfHeatingProblem._carriers_at).
INEXACT_CHORD_STEPS = 1

#: NewtonResult.reason of a carrier pass that stopped after its chord iterations on purpose
#: (not PETSc's DIVERGED_MAX_IT, which a full solve that ran out of iterations reports).
STOPPED_SHORT = -201

#: Differences kept by the Anderson mixing of the wire temperature (solvers/anderson.py).
ANDERSON_DEPTH = 2


def power_balance(quantities: dict[str, float], bias: float) -> dict[str, float]:
    """Electrical power V I (W) and the relative error of carrier + contact heat against it.

    The current is the grounded terminal's (``cathode_current [A]``, equal to the biased one's
    by continuity): it is resolved to round-off, while the biased terminal's reaction flux is
    known only to ``current_resolution [A]`` (physics/carriers.py), far above the current of a
    blocking stage.

    Args:
        quantities: Scalars of the drift-diffusion modules (``cathode_current [A]``,
            ``carrier_heat [W]``, ``*_contact_heat [W]``).
        bias: Potential of the biased terminal (V; the other is grounded).
    """
    heat = quantities["carrier_heat [W]"] + sum(
        v for k, v in quantities.items() if k.endswith("_contact_heat [W]"))
    power = bias * quantities["cathode_current [A]"]
    # at zero bias both are round-off (1e-48 W): no relative error below a measurable power
    scale = max(abs(power), abs(heat), POWER_FLOOR)
    return {"electrical_power [W]": power, "power_balance_error [-]": abs(heat - power) / scale}


class CellHeat:
    """The carrier heat of the wire as a cellwise density (W/m^3) on the whole device's mesh.

    The heat of every module that releases some (``heat_density`` over its regions,
    ``terminal_heat_forms`` at strong contacts, ``interface_heat`` over a contact's facets) is
    tested with the wire's DG0 basis, so each cell receives what is released in it (a contact's
    heat goes into the cells touching it) and the cell values times the cell volumes sum to the
    total exactly.

    Args:
        wire_ctx: Context of the drift-diffusion problem (wire submesh).
        modules: Its modules (the DriftDiffusion module and the contacts).
        cells: The wire's cells and their device cells (``Domain.restrict``).
        density: DG0 Function on the device mesh that receives the density (0 outside the wire).
    """

    def __init__(self, wire_ctx, modules: list, cells: CellPairs, density):
        self.ctx = wire_ctx
        d, f = wire_ctx.domain, wire_ctx.fields
        W0 = dolfinx.fem.functionspace(d.mesh, ("DG", 0))
        self._test = w = ufl.TestFunction(W0)
        q = quadrature_degree(f["phi_n"])
        form = 0
        self._ctx = wire_ctx
        # modules whose heat is not a UFL density (fitted edge fluxes): their own cell sums
        self._cellwise = [m for m in modules if hasattr(m, "cell_heat")]
        self._shares: dict[str, np.ndarray] = {}
        for m in modules:
            if hasattr(m, "heat_density"):
                form += with_quadrature(d.volume(m.heat_density(wire_ctx, f) * w, *m.regions), q)
                form += sum(m.terminal_heat_forms(wire_ctx, test=w).values())
            if hasattr(m, "interface_heat"):
                form += with_quadrature(d.surface(m.interface_heat(wire_ctx, f) * w,
                                                  m.facet_group), q)
        self._ufl = form
        self._form = dolfinx.fem.form(form) if not isinstance(form, int) else None
        self._energy = next((m.energy for m in modules if getattr(m, "energy", None)), None)
        volume = dolfinx.fem.assemble_vector(dolfinx.fem.form(d.volume(w, Region.WIRE)))
        volume.scatter_reverse(dolfinx.la.InsertMode.add)
        self._volume = volume.array.copy()
        self._wire = dolfinx.fem.Function(W0)
        self._cells = cells
        self.density = density

    def _contact_share(self, facet: str) -> np.ndarray:
        """Per local cell, its share of the volume of the owned cells that touch ``facet``
        (summing to 1 over all ranks): where a strong contact's heat is released."""
        if facet not in self._shares:
            d = self._ctx.domain
            tdim = d.mesh.topology.dim
            imap = d.mesh.topology.index_map(tdim)
            cells = dolfinx.mesh.compute_incident_entities(d.mesh.topology,
                                                           d.facet_entities(facet), tdim - 1,
                                                           tdim)
            cells = cells[cells < imap.size_local]
            W0 = self._wire.function_space
            volume = np.zeros(imap.size_local + imap.num_ghosts)
            volume[cells] = self._volume[W0.dofmap.list[cells, 0]]
            total = d.mesh.comm.allreduce(float(volume.sum()), op=MPI.SUM)
            self._shares[facet] = volume / total
        return self._shares[facet]

    def add_density(self, density) -> None:
        """Add a further heat density (W/m^3, UFL on the wire, e.g. the ions' Joule heat)."""
        d = self.ctx.domain
        self._ufl = self._ufl + with_quadrature(d.volume(density * self._test, Region.WIRE),
                                                quadrature_degree(self.ctx.fields["phi_n"]))
        self._form = dolfinx.fem.form(self._ufl)

    def update(self) -> None:
        """Assemble the heat of the current carrier state and hand it to the device mesh."""
        self.compute()
        self._cells.to_parent(self._wire, self.density)

    def wire_density(self) -> np.ndarray:
        """The density of the current carrier state (W/m^3) at the device's DG0 dofs of the
        wire cells, in the order of :attr:`device_dofs` (no interpolation between the meshes:
        the monolithic Newton differentiates it many times per step)."""
        self.compute()
        _ = self.device_dofs  # builds the wire's dof order too
        return self._wire.x.array[self._wire_dofs]

    @property
    def device_dofs(self) -> np.ndarray:
        """The device DG0 dofs of the wire's cells (local, owned and ghost)."""
        if not hasattr(self, "_device_dofs"):
            self._wire_dofs = self._wire.function_space.dofmap.list[self._cells.sub, 0]
            self._device_dofs = self.density.function_space.dofmap.list[self._cells.parent, 0]
        return self._device_dofs

    def compute(self) -> None:
        """Assemble the carrier heat density (W/m^3) of the current carrier state into the
        wire's DG0 function."""
        if self._energy is not None:
            self._energy.update(self.ctx)
        W0 = self._wire.function_space
        if self._form is not None:
            vec = dolfinx.fem.assemble_vector(self._form)
            vec.scatter_reverse(dolfinx.la.InsertMode.add)
            heat = vec.array.copy()
        else:
            heat = np.zeros_like(self._volume)
        owned_cells = W0.dofmap.list[:, 0]  # per local cell (a DG0 dof is not a cell index)
        for m in self._cellwise:
            zn, zp = m.heat_potentials(self._ctx)
            heat[owned_cells] += m.cell_heat(self._ctx, zn, zp)
            for facet in m.strong_contacts():  # into the cells touching the contact
                share = self._contact_share(facet)
                heat[owned_cells] += m.terminal_heat(self._ctx, zn, zp, facet) * share
        n = W0.dofmap.index_map.size_local
        self._wire.x.array[:n] = heat[:n] / self._volume[:n]
        self._wire.x.scatter_forward()


class SelfHeatingProblem:
    """Drift-diffusion on the wire and heat on the device, solved together by fixed-point
    iteration (module docstring). Offers what the bias continuation, the run loop and the
    checkpoints use of a :class:`CoupledProblem`.

    Args:
        carriers: The drift-diffusion problem; its context's ``bias`` constant drives the device
            and its ``fields["T"]`` is the wire temperature the semiconductor data read.
        heat: The heat problem on the device mesh (with a :class:`HeatSource` of ``cell_heat``).
        cell_heat: Transfer of the carrier heat to the device mesh.
        cells: The wire's cells and their device cells (``Domain.restrict``).
        tolerance: Stop when the wire temperature moves by less than this (K).
        max_iterations: Iteration limit.
    """

    def __init__(self, carriers: CoupledProblem, heat: CoupledProblem, cell_heat: CellHeat,
                 cells: CellPairs, tolerance: float = 1e-6, max_iterations: int = 50):
        self.carriers, self.heat, self.cell_heat = carriers, heat, cell_heat
        self.ctx = carriers.ctx
        self.wire_T = self.ctx.fields["T"]
        self._cells = cells
        self.tolerance, self.max_iterations = tolerance, max_iterations
        self.names = carriers.names + heat.names
        self.spaces = {**carriers.spaces, **heat.spaces}
        # T_wire among the unknowns so checkpoints save and restore it with the rest
        self.u = {**carriers.u, **heat.u, "T_wire": self.wire_T}
        self.modules = carriers.modules + heat.modules
        self.iterations = 0
        self.change = 0.0
        self.wire_T.x.array[:] = self._device_temperature()
        #: The heat problem holds an assembled, factorised Jacobian (of an earlier solve).
        self._heat_jacobian = False

    @classmethod
    def create(cls, carriers: CoupledProblem, device_ctx, cells: CellPairs, *, degree: int,
               tolerance: float = 1e-6, max_iterations: int = 50,
               newton_tolerance: float = 1e-11, newton_max_iterations: int = 40,
               petsc_options: dict | None = None, heat_modules=()) -> SelfHeatingProblem:
        """Join ``carriers`` (on the wire submesh) to heat on the device.

        Args:
            carriers: The drift-diffusion problem (its ``ctx.fields["T"]`` the wire temperature).
            device_ctx: Context of the whole device mesh (materials with thermal conductivity,
                thermal constants, composition).
            cells: The wire's cells and their device cells (``Domain.restrict``).
            degree: Lagrange degree of the temperature.
            tolerance, max_iterations: Of the fixed-point iteration (K, -).
            newton_tolerance, newton_max_iterations, petsc_options: Of the heat Newton solve.
            heat_modules: Further modules of the heat problem (e.g. sublimation cooling).
        """
        density = dolfinx.fem.Function(
            dolfinx.fem.functionspace(device_ctx.domain.mesh, ("DG", 0)),
            name="carrier_heat [W/m^3]")
        heat = CoupledProblem(device_ctx, [HeatConduction(), HeatSource(density), *heat_modules],
                              degree=degree,
                              tolerance=newton_tolerance, max_iterations=newton_max_iterations,
                              petsc_options=petsc_options)
        cell_heat = CellHeat(carriers.ctx, carriers.modules, cells, density)
        return cls(carriers, heat, cell_heat, cells, tolerance, max_iterations)

    def _device_temperature(self) -> np.ndarray:
        """The device temperature interpolated onto the wire (K)."""
        new = dolfinx.fem.Function(self.wire_T.function_space)
        self._cells.to_sub(self.heat.u["T"], new)
        return new.x.array.copy()

    def solve(self) -> NewtonResult:
        """The fixed-point iteration at the current bias; never raises on divergence."""
        comm = self.ctx.domain.mesh.comm
        newton = 0
        self._adopt_device_temperature()
        mixing = AndersonMixing(ANDERSON_DEPTH, comm,
                                self.wire_T.function_space.dofmap.index_map.size_local)
        target = None  # wire temperature for the next carrier solve; None: the current one
        inexact = False  # this pass's carrier solve may stop short (_carriers_at)
        anchor = None  # (carrier state, wire temperature) of the last carriers that converged
        for k in range(1, self.max_iterations + 1):
            if not inexact and target is not None:
                carriers, its = self._finish_carriers(target, anchor)
            else:
                carriers, its = self._carriers_at(target, inexact)
            newton += its
            if carriers.converged:
                anchor = (self.carriers.state(), self.wire_T.x.array.copy())
            if not (carriers.converged or carriers.reason == STOPPED_SHORT):
                return NewtonResult(False, newton, carriers.reason,
                                    f"drift-diffusion solve failed in electro-thermal iteration "
                                    f"{k}" + (f": {carriers.message}" if carriers.message else ""))
            self.cell_heat.update()
            # the heat Jacobian changes little between passes, and between biases (k(T) and
            # radiation only): keep it, as a chord iteration that falls back to Newton
            result = self.heat.solve_frozen() if self._heat_jacobian else self.heat.solve()
            self._heat_jacobian = result.converged
            newton += result.iterations
            if not result.converged:
                return NewtonResult(False, newton, result.reason,
                                    f"heat solve failed in electro-thermal iteration {k}"
                                    + (f": {result.message}" if result.message else ""))
            image = self._device_temperature()
            self.change = self._distance(image)
            self.iterations = k
            # (the carriers' own test: until 2026-12-06 this read the heat solve's result, so a
            # pass whose carriers had stopped short after one chord iteration could end it)
            if self.change <= self.tolerance and carriers.converged:
                return NewtonResult(True, newton, result.reason)
            # the temperature settled while the carriers stopped short: finish them there
            inexact = self.change > self.tolerance
            target = self._accelerated(mixing, image) if inexact else image
        return NewtonResult(False, newton, NOT_CONVERGED,
                            f"electro-thermal iteration did not converge in {self.max_iterations} "
                            f"iterations (last wire temperature change {self.change:.3g} K)")

    def _finish_carriers(self, target: np.ndarray, anchor: tuple) -> tuple[NewtonResult, int]:
        """The carriers converged at the settled wire temperature ``target`` (K) after passes
        that stopped them short: chord iterations from where the passes left them, else (they
        can leave a minority quasi-Fermi potential that the equations hardly fix far off, from
        which Newton did not converge in 40 iterations: stage (d) at -0.26 V with 0.5 V steps,
        2026-12-06) a solve from ``anchor``, the last carriers that converged and their T_w."""
        self.wire_T.x.array[:] = target
        chord = self.carriers.chord_steps(FROZEN_MAX_ITERATIONS)
        if chord.converged:
            return chord, chord.iterations
        self.carriers.restore(anchor[0])
        self.wire_T.x.array[:] = anchor[1]
        result, its = self._carriers_at(target)
        return result, chord.iterations + its

    def _accelerated(self, mixing: AndersonMixing, image: np.ndarray) -> np.ndarray:
        """The next wire temperature (K): the Anderson-mixed one, or the heat solution ``image``
        itself where mixing would leave the range the two iterates span by more than their
        difference plus the largest change (a safeguard: far from the fixed point mixing can
        overshoot)."""
        mixed = mixing.next(self.wire_T.x.array, image)
        lo = np.minimum(image, self.wire_T.x.array)
        hi = np.maximum(image, self.wire_T.x.array)
        wild = ~np.isfinite(mixed) | (mixed < lo - (hi - lo) - self.change) \
            | (mixed > hi + (hi - lo) + self.change)
        if self.ctx.domain.mesh.comm.allreduce(bool(wild.any()), op=MPI.LOR):
            return image
        return mixed

    def _adopt_device_temperature(self) -> None:
        """Start from the state's own heat solution: it is a fresher wire temperature than the
        one its carriers were solved at (they differ by up to the tolerance, as the iteration
        stops without another carrier solve, and by the predictor's extrapolation of both).
        Left as it was, that lag alone made every other bias of a sweep need a second pass.
        Only a small difference (:data:`ADOPT_LIMIT`) is adopted without the temperature
        continuation of :meth:`_carriers_at`."""
        device = self._device_temperature()
        if self._distance(device) <= ADOPT_LIMIT:
            self.wire_T.x.array[:] = device

    def _distance(self, temperature: np.ndarray) -> float:
        """Largest difference (K) between ``temperature`` and the wire temperature, all ranks."""
        diff = np.max(np.abs(temperature - self.wire_T.x.array), initial=0.0)
        return self.ctx.domain.mesh.comm.allreduce(float(diff), op=MPI.MAX)

    def _carriers_at(self, target: np.ndarray | None,
                     inexact: bool = False) -> tuple[NewtonResult, int]:
        """Solve the carriers with the wire temperature moved to ``target`` (K).

        With ``inexact`` and a move of at most ADOPT_LIMIT, one chord iteration only
        (:data:`INEXACT_CHORD_STEPS`; reason STOPPED_SHORT unless it converged): while the
        temperature is still moving, converging the carriers at it is wasted (a full solve per
        pass took 4-5 Newton iterations where the temperature had moved by 1e-3 K). Otherwise
        a full solve, by temperature continuation: a large temperature change makes the first
        Newton step of the minority carriers, whose densities change by decades, overflow; the
        change is then halved (down to 1/64) as the bias continuation halves bias steps."""
        if target is None:
            result = self.carriers.solve()
            return result, result.iterations
        start = self.wire_T.x.array.copy()
        if inexact and self._distance(target) <= ADOPT_LIMIT:
            self.wire_T.x.array[:] = target
            result = self.carriers.chord_steps(INEXACT_CHORD_STEPS)
            if result.converged:
                return result, result.iterations
            if result.reason == PETSc.SNES.ConvergedReason.DIVERGED_MAX_IT:
                return NewtonResult(False, result.iterations, STOPPED_SHORT), result.iterations
            self.wire_T.x.array[:] = start  # failed: the state is back; solve in full
        done, step, its = 0.0, 1.0, 0
        while True:
            good = self.carriers.state()
            self.wire_T.x.array[:] = start + (done + step) * (target - start)
            # the whole move at once: a small temperature change, so the last pass's Jacobian
            # serves (a chord iteration, falling back to Newton)
            result = self.carriers.solve_frozen() if step == 1.0 else self.carriers.solve()
            its += result.iterations
            if result.converged:
                done += step
                if done >= 1.0:
                    return result, its
                step = min(2 * step, 1.0 - done)
                continue
            self.carriers.restore(good)
            self.wire_T.x.array[:] = start + done * (target - start)
            step /= 2
            if step < 1.0 / 64:
                return result, its

    def state(self) -> dict[str, np.ndarray]:
        """Copy of the solution arrays (carriers, device temperature, wire temperature)."""
        return {**self.carriers.state(), **self.heat.state(),
                "T_wire": self.wire_T.x.array.copy()}

    def restore(self, state: dict[str, np.ndarray]) -> None:
        """Put back a state returned by :meth:`state`."""
        self.carriers.restore({n: state[n] for n in self.carriers.names})
        self.heat.restore({n: state[n] for n in self.heat.names})
        self.wire_T.x.array[:] = state["T_wire"]

    def admit_prediction(self, last: dict[str, np.ndarray], bias_step: float) -> None:
        """The carriers' part of a predicted start made usable
        (:meth:`CoupledProblem.admit_prediction`)."""
        self.carriers.admit_prediction({n: last[n] for n in self.carriers.names}, bias_step)

    def residual_norms(self) -> dict[str, float]:
        """Residual norm of every equation (see :meth:`CoupledProblem.residual_norms`)."""
        return {**self.carriers.residual_norms(), **self.heat.residual_norms()}

    def quantities(self) -> dict[str, float]:
        """Scalars of both problems, the power balance and the iteration's figures."""
        out = {**self.carriers.quantities(), **self.heat.quantities()}
        out.update(power_balance(out, float(self.ctx.constants["bias"].value)))
        out["electrothermal_iterations [-]"] = float(self.iterations)
        out["electrothermal_last_change [K]"] = self.change
        return out

    def close(self) -> None:
        """Destroy both problems' PETSc objects (see :meth:`CoupledProblem.close`)."""
        self.carriers.close()
        self.heat.close()
