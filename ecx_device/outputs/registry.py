"""The registry of output quantities: every column of ``timeseries.csv`` and ``iv.csv`` (the keys
of ``final`` in ``results.json``), every top-level key of ``results.json`` and every array of the
field series (``fields/fields.pvd``, ``device_fields/fields.pvd``), with its unit, a one-line
description and when it appears.

Code that reads or writes one of these names uses the constant defined here (``CURRENT``,
``WIRE_T_MAX``, ...): one spelling, one place. ``docs/outputs.md`` is generated from this module::

    python -m ecx_device.outputs.registry > docs/outputs.md

and a test regenerates it and compares, and checks that every name real runs write is registered.

Names of row quantities and fields end in a bracketed unit, ``"current [A]"``; ``[-]`` is
dimensionless (a count or a ratio), ``[V_T]`` is in units of the thermal voltage kT/q. Names with
a ``{placeholder}`` stand for a family: ``{contact}`` is a facet group of the device (``cu_wire``,
``w_wire``, ...; :class:`~ecx_device.device.names.Facet`), ``{z}`` a station position in nm
(``exchange.stations``). Undefined values are empty CSV fields and ``null`` in JSON.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ecx_device.device.names import Facet

__all__ = ["Quantity", "ROW", "RESULT", "FIELD", "GROUPS", "lookup", "unit_of", "markdown"]

#: The three groups, and the files each one describes.
ROW, RESULT, FIELD = "row", "result", "field"
GROUPS = {
    ROW: "Columns of `timeseries.csv` and `iv.csv` (one row per bias point or time step; also "
         "the keys of `final` in `results.json`)",
    RESULT: "Top-level keys of `results.json`",
    FIELD: "Arrays of the field series (`fields/fields.pvd`; `device_fields/fields.pvd` of a "
           "self-heated drift-diffusion run holds temperature, heat source and region on the "
           "whole device)",
}

#: Patterns of the ``{placeholder}`` parts of family names.
_PLACEHOLDERS = {"contact": "|".join(sorted(f.value for f in Facet)),
                 "z": r"[0-9.e+-]+"}


@dataclass(frozen=True)
class Quantity:
    """One output name.

    Attributes:
        name: As written in the files (a family name has ``{placeholders}``).
        unit: Its unit (``"-"``: dimensionless; ``""``: text, flag or structure).
        description: One line.
        when: Which runs write it.
        group: :data:`ROW`, :data:`RESULT` or :data:`FIELD`.
    """

    name: str
    unit: str
    description: str
    when: str
    group: str

    def matches(self, name: str) -> bool:
        """``name`` is this quantity (or a member of this family)."""
        if "{" not in self.name:
            return name == self.name
        pattern = re.escape(self.name)
        for key, alternatives in _PLACEHOLDERS.items():
            pattern = pattern.replace(re.escape("{" + key + "}"), f"(?:{alternatives})")
        return re.fullmatch(pattern, name) is not None


_REGISTRY: list[Quantity] = []


def _q(name: str, description: str, when: str, group: str = ROW, unit: str | None = None) -> str:
    """Register ``name`` and return it (the constant's value)."""
    if unit is None:
        found = re.search(r"\[([^\]]*)\]$", name)
        unit = found.group(1) if found else ""
    if any(q.name == name and q.group == group for q in _REGISTRY):
        raise ValueError(f"output name registered twice: {name!r}")
    _REGISTRY.append(Quantity(name, unit, description, when, group))
    return name


EVERY = "every run"
TIMED = "runs with a time axis (not iv.csv)"
STEADY = "bias-point runs and I-V sweeps"
OHMIC = "ohmic wire"
DD = "drift-diffusion wire"
HEATED = "heat solved (ohmic device; self-heated drift-diffusion wire)"
SELF_HEATED = "self-heated drift-diffusion wire"
EXCHANGE = "exchange runs"

# ------------------------------------------------------------------------- rows: every run
TIME = _q("time [s]", "simulated time of the row (bias-point runs: the protocol time of the "
          "point)", TIMED)
BIAS = _q("bias [V]", "potential of the biased terminal (the Cu sink) against the grounded W sink, "
          "polarity applied", EVERY)
CURRENT = _q("current [A]", "electronic current into the device at the biased terminal", EVERY)
CATHODE_CURRENT = _q("cathode_current [A]", "electronic current out of the device at the "
                     "grounded terminal (equal to current [A] by continuity)", EVERY)
CURRENT_MISMATCH = _q("current_mismatch [-]", "|current - cathode_current| relative to the larger "
                      "of the two: current continuity of the discrete solution", EVERY)
NEWTON_ITERATIONS = _q("newton_iterations [-]", "Newton iterations the bias continuation to this "
                       "point took", STEADY)
REJECTED_STEPS = _q("rejected_steps [-]", "bias-point runs: halvings of the bias step needed to "
                    "reach this point; exchange runs: rejected time steps so far (cumulative)",
                    EVERY)
# ------------------------------------------------------------------------- rows: ohmic wire
JOULE_POWER = _q("joule_power [W]", "Joule heat of the whole device (int sigma |grad phi|^2 dV)",
                 OHMIC)
WIRE_JOULE_POWER = _q("wire_joule_power [W]", "Joule heat released in the wire", OHMIC)
# ------------------------------------------------------------------------- rows: heat
WIRE_T_MAX = _q("wire_T_max [K]", "peak temperature in the wire", HEATED)
WIRE_T_MEAN = _q("wire_T_mean [K]", "volume-mean temperature of the wire", HEATED)
WIRE_T_MAX_POSITION = _q("wire_T_max_axial_position [nm]", "axial position z of the peak wire "
                         "temperature, from the Cu surface", HEATED)
RADIATED_POWER = _q("radiated_power [W]", "power radiated by the free wire surface "
                    "(emissivity, ambient temperature)", HEATED)
BEAM_HEATING_POWER = _q("beam_heating_power [W]", "power the electron beam deposits in the wire "
                        "(thermal.beam_heating times the wire volume)",
                        "heat solved and thermal.beam_heating > 0")
# ------------------------------------------------------------------------- rows: drift-diffusion
MAX_CELL_POTENTIAL_STEP = _q("max_cell_potential_step [V_T]", "largest electrostatic potential "
                             "step across one wire cell, h |grad psi| / V_T (the carriers' "
                             "discretisation wants it below ~1)", DD)
CURRENT_RESOLUTION = _q("current_resolution [A]", "round-off floor of the terminal currents: "
                        "smaller currents are not resolved (docs/model.md 5a)", DD)
RECOMBINATION_CURRENT = _q("recombination_current [A]", "q times the net SRH recombination in "
                           "the wire", DD)
CARRIER_HEAT = _q("carrier_heat [W]", "heat the carriers release in the wire (Joule, "
                  "recombination and Peltier terms)", DD)
CONTACT_HEAT = _q("{contact}_contact_heat [W]", "heat released at that contact (Schottky: "
                  "thermionic emission with its Peltier term; ohmic: the terminal's share)", DD)
EMISSION_CURRENT = _q("{contact}_emission_current [A]", "thermionic-emission current through that "
                      "Schottky contact, into the device", f"{DD} with a Schottky contact there")
IMAGE_FORCE_LOWERING = _q("{contact}_image_force_lowering [eV]", "area-mean image-force lowering "
                          "of that Schottky barrier", "electrical.image_force: true")
TUNNELLING_LOWERING = _q("{contact}_tunnelling_lowering [eV]", "area-mean effective barrier "
                         "lowering by tunnelling at that Schottky contact",
                         "electrical.tunnelling: true")
# ------------------------------------------------------------------------- rows: self-heating
WIRE_HEAT_SOURCE = _q("wire_heat_source [W]", "carrier heat handed to the heat equation of the "
                      "whole device", SELF_HEATED)
ELECTRICAL_POWER = _q("electrical_power [W]", "electrical power V I delivered to the device "
                      "(I: the grounded terminal's current)", SELF_HEATED)
POWER_BALANCE_ERROR = _q("power_balance_error [-]", "|carrier + contact heat - electrical "
                         "power| relative to the larger", SELF_HEATED)
ELECTROTHERMAL_ITERATIONS = _q("electrothermal_iterations [-]", "iterations between carriers and "
                               "heat at this point (fixed-point iterations, or Newton iterations "
                               "with solver.electrothermal_coupling: newton)", SELF_HEATED)
ELECTROTHERMAL_LAST_CHANGE = _q("electrothermal_last_change [K]", "largest temperature change of "
                                "the last electro-thermal iteration", SELF_HEATED)
# ------------------------------------------------------------------------- rows: exchange
SUBLIMATION_COOLING = _q("sublimation_cooling [W]", "heat carried off by Cd sublimation from the "
                         "wire surface", EXCHANGE)
IONIC_CURRENT = _q("ionic_current [A]", "q times the Cu+ inflow rate at the anode", EXCHANGE)
TOTAL_CURRENT = _q("total_current [A]", "electronic plus ionic current", EXCHANGE)
IONIC_HEAT = _q("ionic_heat [W]", "Joule heat of the ionic current in the wire", EXCHANGE)
ANODE_DROP = _q("anode_drop [V]", "area mean of the local drop V_m - phi_n across the anode "
                "metal|wire interface, the drive of the anode reaction (docs/model.md 8)",
                EXCHANGE)
ANODE_OVERPOTENTIAL = _q("anode_overpotential [V]", "anode_drop less the anode's equilibrium "
                         "voltage E_eq (area mean; by default the metal in equilibrium with its "
                         "interstitial ion at c = c_s; positive: the anode dissolves)",
                         "exchange runs with an anode (exchange.cu_source: anode)")
CU_INFLOW_RATE = _q("cu_inflow_rate [1/s]", "Cu atoms entering the wire per second (anode or "
                    "surface source), over the step that led here", EXCHANGE)
CU_OUTFLOW_RATE = _q("cu_outflow_rate [1/s]", "Cu atoms leaving the wire per second at the "
                     "cathode", EXCHANGE)
CU_INFLOW_FORMULA_DEVIATION = _q("cu_inflow_formula_deviation [-]", "relative difference of the "
                                 "Cu inflow from the discrete equations and from the "
                                 "Butler-Volmer formula (a check; ~1e-11)", EXCHANGE)
CD_SUBLIMATION_RATE = _q("cd_sublimation_rate [1/s]", "Cd atoms leaving per second by congruent "
                         "CdS sublimation (a vacancy source; ~1e-18 /s in the Zhang runs)",
                         EXCHANGE)
CD_KICKOUT_RATE = _q("cd_kickout_rate [1/s]", "net Cd atoms displaced per second by the "
                     "reversible exchange reaction (negative: Cd re-enters its sites)", EXCHANGE)
CD_EVAPORATION_RATE = _q("cd_evaporation_rate [1/s]", "displaced Cd atoms evaporating per second "
                         "from the free surface (Hertz-Knudsen at the Cd activity)", EXCHANGE)
CD_EVAPORATED_TOTAL = _q("cd_evaporated_total [-]", "displaced Cd atoms evaporated since t = 0",
                         EXCHANGE)
CD_DISPLACED = _q("cd_displaced [-]", "displaced Cd atoms held in the wire (off their sites)",
                  EXCHANGE)
CU_IN_TOTAL = _q("cu_in_total [-]", "Cu atoms that entered the wire since t = 0", EXCHANGE)
CU_OUT_TOTAL = _q("cu_out_total [-]", "Cu atoms that left the wire since t = 0", EXCHANGE)
CU_MOBILE = _q("cu_mobile [-]", "mobile Cu+ in the wire (atoms)", EXCHANGE)
CU_LATTICE = _q("cu_lattice [-]", "anode-metal (Cu) atoms on lattice sites of the wire, nu "
                "per exchanged S site (2 for Cu2S; atoms)", EXCHANGE)
CD_LOST = _q("cd_lost [-]", "Cd atoms the wire lost since t = 0 (evaporated + sublimated; "
             "displaced Cd still in the wire is not lost)", EXCHANGE)
VACANCIES = _q("vacancies [-]", "empty cation sites in the wire", EXCHANGE)
EXCHANGED_VOLUME = _q("exchanged_volume [nm^3]", "wire volume converted to Cu2S, int X dV",
                      EXCHANGE)
EXCHANGED_FRACTION = _q("exchanged_fraction [-]", "exchanged volume over the wire volume",
                        EXCHANGE)
FRONT_POSITION = _q("front_position [nm]", "largest z (from the Cu surface) of a node with "
                    "X >= 1/2; undefined (empty, null) while there is none", EXCHANGE)
SHELL_THICKNESS = _q("shell_thickness_z{z}nm [nm]", "thickness of the exchanged (X >= 1/2) "
                     "shell at the station z = {z} nm", "exchange runs with exchange.stations")
CU_BALANCE_ERROR = _q("cu_balance_error [-]", "Cu gained by the wire against Cu in - Cu out, "
                      "relative to the largest transfer or, when all are smaller, to 1e-4 of the "
                      "Cu inventory (its round-off is ~1e-14 of itself)", EXCHANGE)
CD_BALANCE_ERROR = _q("cd_balance_error [-]", "Cd lost by the wire against evaporated + "
                      "sublimated (+ kicked out where the kinetics let it leave), relative as "
                      "cu_balance_error",
                      EXCHANGE)
TIME_STEP = _q("time_step [s]", "length of the time step that led to this row", EXCHANGE)
ION_NEWTON_ITERATIONS = _q("ion_newton_iterations [-]", "Newton iterations of the ion step",
                           EXCHANGE)

# ------------------------------------------------------------------------- results.json
RUN_CASE = _q("case", "name of the case", EVERY, RESULT, unit="")
RUN_KIND = _q("kind", "bias (steady states), exchange (composition in time) or iv (I-V sweep)",
              EVERY, RESULT, unit="")
RUN_SMOKE = _q("smoke", "the run was a --smoke run (coarse mesh, shortened protocol)", EVERY,
               RESULT, unit="")
RUN_DOFS = _q("degrees_of_freedom", "unknowns of the discrete problem", EVERY, RESULT, unit="-")
WALL_TIME = _q("wall_time [s]", "wall-clock time of the run loop", EVERY, RESULT)
COMPLETE = _q("complete", "true when the run reached its end (false: stopped or failed)", EVERY,
              RESULT, unit="")
FINAL = _q("final", "the last row of timeseries.csv / iv.csv (null before the first)", EVERY,
           RESULT, unit="")
BIASES = _q("biases", "biases of the I-V sweep", "I-V sweeps", RESULT, unit="-")
BIAS_POINTS = _q("bias_points", "bias points of the protocol (or sweep)", STEADY, RESULT, unit="-")
BIAS_POINTS_COMPLETED = _q("bias_points_completed", "bias points solved", STEADY, RESULT,
                           unit="-")
SIMULATED_TIME = _q("simulated_time [s]", "simulated time reached", EXCHANGE, RESULT)
END_TIME = _q("end_time [s]", "end time of the protocol (smoke: cut to smoke.max_simulated_time)",
              EXCHANGE, RESULT)
STEPS = _q("steps", "accepted time steps (exchange) or bias points solved", EVERY, RESULT,
           unit="-")
RUN_REJECTED_STEPS = _q("rejected_steps", "rejected time steps (exchange) or halvings of the "
                        "bias step (bias-point runs), in total", EVERY, RESULT, unit="-")
MAX_CU_BALANCE_ERROR = _q("max_cu_balance_error [-]", "largest cu_balance_error of the run",
                          EXCHANGE, RESULT)
MAX_CD_BALANCE_ERROR = _q("max_cd_balance_error [-]", "largest cd_balance_error of the run",
                          EXCHANGE, RESULT)

# ------------------------------------------------------------------------- field arrays
F_TEMPERATURE = _q("temperature [K]", "temperature", "heat solved", FIELD)
F_POTENTIAL = _q("potential [V]", "electric potential", OHMIC, FIELD)
F_CURRENT_DENSITY = _q("current_density [A/m^2]", "current density vector (cells; "
                       "drift-diffusion: electrons + holes)", EVERY, FIELD)
F_JOULE_HEAT = _q("joule_heat [W/m^3]", "Joule heat density (cells)", OHMIC, FIELD)
F_CONDUCTIVITY = _q("electrical_conductivity [S/m]", "electrical conductivity (cells)", OHMIC,
                    FIELD)
F_ELECTROSTATIC_POTENTIAL = _q("electrostatic_potential [V]", "electrostatic potential psi", DD,
                               FIELD)
F_ELECTRON_QF_POTENTIAL = _q("electron_quasi_fermi_potential [V]", "electron quasi-Fermi "
                             "potential phi_n", DD, FIELD)
F_HOLE_QF_POTENTIAL = _q("hole_quasi_fermi_potential [V]", "hole quasi-Fermi potential phi_p",
                         DD, FIELD)
F_CONDUCTION_BAND = _q("conduction_band_edge [eV]", "conduction band edge E_c", DD, FIELD)
F_VALENCE_BAND = _q("valence_band_edge [eV]", "valence band edge E_v", DD, FIELD)
F_ELECTRON_QF_LEVEL = _q("electron_quasi_fermi_level [eV]", "electron quasi-Fermi level "
                         "E_Fn = -phi_n", DD, FIELD)
F_HOLE_QF_LEVEL = _q("hole_quasi_fermi_level [eV]", "hole quasi-Fermi level E_Fp = -phi_p", DD,
                     FIELD)
F_ELECTRON_DENSITY = _q("electron_density [m^-3]", "electron density (cells)", DD, FIELD)
F_HOLE_DENSITY = _q("hole_density [m^-3]", "hole density (cells)", DD, FIELD)
F_ELECTRON_CURRENT_DENSITY = _q("electron_current_density [A/m^2]", "electron current density "
                                "(cells)", DD, FIELD)
F_HOLE_CURRENT_DENSITY = _q("hole_current_density [A/m^2]", "hole current density (cells)", DD,
                            FIELD)
F_SRH_RATE = _q("srh_rate [m^-3 s^-1]", "net SRH recombination rate (cells)", DD, FIELD)
F_CARRIER_HEAT = _q("carrier_heat [W/m^3]", "carrier heat density (cells)", DD, FIELD)
F_HEAT_SOURCE = _q("heat_source [W/m^3]", "carrier heat on the whole device's mesh (cells; "
                   "device_fields)", SELF_HEATED, FIELD)
F_EXCHANGED_FRACTION = _q("exchanged_fraction [-]", "exchanged fraction X (0: CdS, 1: Cu2S); "
                          "meaningful in the wire only", "a composition (prescribed or exchange)",
                          FIELD)
F_CD_DENSITY = _q("Cd_density [m^-3]", "Cd density n_S (1 - X)", "a composition", FIELD)
F_CU_DENSITY = _q("Cu_density [m^-3]", "lattice density of the exchanged metal (Cu unless "
                  "exchange.anode says otherwise), nu n_S X with nu its atoms per S atom (2 for "
                  "Cu2S)", "a composition", FIELD)
F_CU_ION_FRACTION = _q("cu_ion_fraction [-]", "mobile Cu+ per S site", EXCHANGE, FIELD)
F_VACANCY_FRACTION = _q("vacancy_fraction [-]", "empty cation sites per S site", EXCHANGE, FIELD)
F_DISPLACED_CD_FRACTION = _q("displaced_cd_fraction [-]", "displaced Cd (neutral, off its site) "
                             "per S site", "exchange runs with bulk kinetics", FIELD)
F_REGION = _q("region", "region tag of each cell (markers.json names them)", EVERY, FIELD,
              unit="-")


def quantities(group: str | None = None) -> list[Quantity]:
    """The registered quantities (of one group), in registry order."""
    return [q for q in _REGISTRY if group is None or q.group == group]


def lookup(name: str, group: str = ROW) -> Quantity | None:
    """The quantity (or family) ``name`` belongs to in ``group``; None if unregistered."""
    return next((q for q in _REGISTRY if q.group == group and q.matches(name)), None)


def unit_of(name: str, group: str = ROW) -> str | None:
    """The unit of a registered name (None if unregistered)."""
    q = lookup(name, group)
    return None if q is None else q.unit


def markdown() -> str:
    """``docs/outputs.md``: one table per group."""
    lines = ["# Outputs of a run", "",
             "<!-- Generated by `python -m ecx_device.outputs.registry > docs/outputs.md` from "
             "ecx_device/outputs/registry.py; do not edit by hand (a test compares). -->", "",
             "Every name a run writes, with its unit. Undefined values are empty fields in CSV "
             "files and `null` in JSON. `{contact}` stands for a facet group of the device "
             f"({', '.join(f'`{f.value}`' for f in Facet)}), `{{z}}` for a station position in "
             "nm (`exchange.stations`). `[-]`: dimensionless (a count or a ratio); `[V_T]`: in "
             "units of the thermal voltage kT/q.", ""]
    for group, title in GROUPS.items():
        lines += [f"## {title}", "", "| name | unit | description | written by |",
                  "|---|---|---|---|"]
        for q in quantities(group):
            lines.append(f"| `{q.name}` | {q.unit or ''} | {_cell(q.description)} | "
                         f"{_cell(q.when)} |")
        lines.append("")
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


if __name__ == "__main__":
    print(markdown(), end="")
