"""The materials database: one YAML file per material in ``data/``, every value with a source.

``load_material("Cu")`` returns a :class:`Material` whose properties are callables of the local
temperature (K) returning SI values (NumPy by default, UFL with ``ops=UflOps``).
``anode_metal("Cu")`` returns the electrochemical data of an anode metal (``data/anodes.yaml``).
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml

from ecx_device.errors import CaseError
from ecx_device.materials.properties import Ops, PropertyModel, parse_property
from ecx_device.units import BOLTZMANN, ELEMENTARY_CHARGE, FARADAY, to_si

_DATA = resources.files("ecx_device.materials") / "data"
#: Data files that are tables, not materials.
_TABLES = {"references.yaml", "barriers.yaml", "anodes.yaml", "contacts.yaml"}


@functools.cache
def references() -> dict[str, dict[str, str]]:
    """All reference keys: ``{key: {"citation": ..., "flag": ...}}``."""
    return yaml.safe_load((_DATA / "references.yaml").read_text())


def available_materials() -> list[str]:
    """Names of the materials in the database."""
    return sorted(p.name.removesuffix(".yaml") for p in _DATA.iterdir()
                  if p.name.endswith(".yaml") and p.name not in _TABLES)


@dataclass(frozen=True)
class Material:
    """A named set of property models.

    Attributes:
        name, description: As in the data file.
        properties: Property name -> model.
        cation: Chemical symbol of the cation (``cation.element`` in the data file; '' if not
            given), for the element maps of a run.
        cations_per_anion: Cations per anion site (``cation.per_anion``: 2 for Cu2Se, 1 for
            CdS): the guest atoms one converted site takes up in the front kinetics.
    """

    name: str
    description: str
    properties: dict[str, PropertyModel] = field(default_factory=dict)
    cation: str = ""
    cations_per_anion: float = 1.0

    def __call__(self, prop: str, T: Any, ops: type[Ops] = Ops) -> Any:
        """Value of property ``prop`` at temperature ``T`` (K), SI units."""
        try:
            model = self.properties[prop]
        except KeyError:
            raise CaseError(f"material {self.name!r} has no property {prop!r}; it has "
                            f"{', '.join(self.properties)}") from None
        return model(T, ops)

    def with_overrides(self, overrides: dict[str, Any], where: str) -> Material:
        """Copy with some properties replaced (plain ``"5 W/(m K)"`` means a constant)."""
        props = dict(self.properties)
        for prop, spec in overrides.items():
            if isinstance(spec, dict) and "source" not in spec:
                spec = {**spec, "source": ["case_override"]}
            try:
                props[prop] = parse_property(prop, spec, f"{where}.{prop}")
            except ValueError as err:
                raise CaseError(str(err)) from None
            unknown = [s for s in props[prop].source if s not in references()]
            if unknown:
                raise CaseError(f"{where}.{prop}.source = {unknown}: unknown reference key(s); "
                                "use keys of materials/data/references.yaml or leave source out")
        return dataclasses.replace(self, properties=props)

    def sources(self) -> set[str]:
        """Reference keys behind this material's values."""
        return {s for m in self.properties.values() for s in m.source}


def _require_known(name: str, names: list[str], what: str) -> None:
    """Raise a one-line CaseError naming the closest known names if ``name`` is not known."""
    if name not in names:
        close = difflib.get_close_matches(name, names, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise CaseError(f"unknown {what} {name!r}: available are {', '.join(names)}{hint}")


@functools.cache
def load_material(name: str) -> Material:
    """Load a material by name.

    Raises:
        CaseError: unknown name (the message suggests the closest names).
    """
    _require_known(name, available_materials(), "material")
    data = yaml.safe_load((_DATA / f"{name}.yaml").read_text())
    known = references()
    props = {}
    for prop, spec in data["properties"].items():
        model = parse_property(prop, spec, f"materials/{name}.{prop}")
        missing = [s for s in model.source if s not in known]
        if missing or not model.source:
            # A data bug, not a user error: fail loudly during development and in tests.
            raise ValueError(f"materials/{name}.{prop}: source keys {missing or '(none)'} are "
                             "not in references.yaml")
        props[prop] = model
    cation = data.get("cation", {})
    return Material(data["name"], data.get("description", "").strip(), props,
                    cation=str(cation.get("element", "")),
                    cations_per_anion=float(cation.get("per_anion", 1.0)))


@functools.cache
def _barriers() -> dict:
    return yaml.safe_load((_DATA / "barriers.yaml").read_text())


def schottky_barrier(metal: str, semiconductor: str) -> float:
    """Electron Schottky barrier (eV) of a metal on a semiconductor material; 0 means ohmic.

    Raises:
        CaseError: the pair is not in ``barriers.yaml``.
    """
    entry = _barriers().get(metal, {}).get(semiconductor)
    if entry is None:
        raise CaseError(f"no Schottky barrier for {metal} on {semiconductor} in "
                        "materials/data/barriers.yaml; add it (with its source) to use the "
                        "drift-diffusion wire model")
    return to_si(entry["value"], "eV") / ELEMENTARY_CHARGE



@dataclass(frozen=True)
class BoundaryConductance:
    """Thermal boundary conductance of a metal|wire interface (``data/contacts.yaml``).

    Attributes:
        value: G (W m^-2 K^-1).
        low, high: The range the source gives (W m^-2 K^-1).
        sources: Reference keys of references.yaml.
    """

    value: float
    low: float
    high: float
    sources: tuple[str, ...]


def thermal_boundary_conductance(metal: str, wire: str) -> BoundaryConductance:
    """The sourced thermal boundary conductance of ``metal`` on ``wire`` (material names).

    Raises:
        CaseError: the pair is not in ``contacts.yaml``.
    """
    table = yaml.safe_load((_DATA / "contacts.yaml").read_text())["thermal_boundary_conductance"]
    entry = table.get(metal, {}).get(wire)
    if entry is None:
        raise CaseError(f"no thermal boundary conductance for {metal} on {wire} in "
                        "materials/data/contacts.yaml; give a value with its unit or 'infinite' "
                        "instead")
    unit = "W/(m^2 K)"
    low, high = (to_si(v, unit) for v in entry["range"])
    return BoundaryConductance(to_si(entry["value"], unit), low, high, tuple(entry["source"]))


@dataclass(frozen=True)
class AnodeMetal:
    """Electrochemical data of an anode metal M (``data/anodes.yaml``), SI units.

    Attributes:
        name: Element symbol.
        ion_charge: Charge number z of the ion of the tabulated couple M^z+/M.
        standard_potential: Tabulated standard reduction potential E0 of that couple (V).
        standard_potential_couple: The couple, e.g. ``"Cu+/Cu"``.
        standard_potential_zhang: E0 as quoted by Zhang 2017 (V), or None if the paper gives none.
        ionic_radius: Shannon effective ionic radius (m).
        ionic_radius_coordination: Coordination of that radius (``"IV"``, ``"VI"``, ...).
        sulfide_formula: The metal's sulfide M_aS_b, e.g. ``"Cu2S"``.
        sulfide_metal_atoms: a, metal atoms per formula unit.
        sulfide_sulfur_atoms: b, sulfur atoms per formula unit.
        sulfide_gibbs_energy: Tabulated Gibbs energy of formation at 298 K, per formula unit
            (J/mol).
        sulfide_gibbs_energy_zhang: The same as quoted by Zhang 2017 (J/mol), or None.
        exchange_current_density: Butler-Volmer j0 at ``exchange_current_reference_temperature``
            (A/m^2).
        exchange_current_reference_temperature: (K).
        exchange_current_activation_energy: Activation energy of j0 (J).
        transfer_coefficient: Anodic charge-transfer coefficient alpha (-).
        ion_diffusivity_prefactor: D0 of the metal's interstitial ion in the CdS host (m^2/s).
        ion_migration_energy: Its migration (activation) energy E_m (J):
            D = D0 exp(-E_m / k T) (:meth:`ion_diffusivity`).
        sources: Field name -> reference keys of references.yaml.
        notes: Field name -> remark from the data file.
    """

    name: str
    ion_charge: int
    standard_potential: float
    standard_potential_couple: str
    standard_potential_zhang: float | None
    ionic_radius: float
    ionic_radius_coordination: str
    sulfide_formula: str
    sulfide_metal_atoms: int
    sulfide_sulfur_atoms: int
    sulfide_gibbs_energy: float
    sulfide_gibbs_energy_zhang: float | None
    exchange_current_density: float
    exchange_current_reference_temperature: float
    exchange_current_activation_energy: float
    transfer_coefficient: float
    ion_diffusivity_prefactor: float
    ion_migration_energy: float
    sources: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False)
    notes: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def metal_per_sulfur(self) -> float:
        """Metal atoms per S atom in the sulfide (2 for Cu2S, 2/3 for Al2S3)."""
        return self.sulfide_metal_atoms / self.sulfide_sulfur_atoms

    def potential(self, zhang: bool = True) -> float:
        """E0 (V): Zhang 2017's number by default (tabulated where the paper quotes none)."""
        if zhang and self.standard_potential_zhang is not None:
            return self.standard_potential_zhang
        return self.standard_potential

    def sulfide_gibbs_energy_per_sulfur(self, zhang: bool = True) -> float:
        """Gibbs energy of formation of the sulfide per S atom (J/mol); Zhang 2017's number by
        default where the paper quotes one."""
        g = self.sulfide_gibbs_energy
        if zhang and self.sulfide_gibbs_energy_zhang is not None:
            g = self.sulfide_gibbs_energy_zhang
        return g / self.sulfide_sulfur_atoms

    def exchange_voltage(self, host_gibbs_energy_per_sulfur: float | None = None, *,
                         zhang: bool = True) -> float:
        """Reversible voltage (V) of a M + host sulfide -> M_aS + Cd(s), per S atom
        (two electrons): E_rev = [dfG(M_aS)/b - dfG(host per S)] / (2F).

        Positive means the solid reaction does not go by itself (CdS + 2Cu: +0.364 V); this is
        the bias (or vapour-removal free energy) the exchange has to be paid with.

        Args:
            host_gibbs_energy_per_sulfur: dfG of the host per anion (J/mol); default CdS
                (:func:`host_gibbs_energy`).
            zhang: Use Zhang 2017's sulfide dfG where the paper quotes one.
        """
        if host_gibbs_energy_per_sulfur is None:
            host_gibbs_energy_per_sulfur = host_gibbs_energy("CdS")
        dg = self.sulfide_gibbs_energy_per_sulfur(zhang) - host_gibbs_energy_per_sulfur
        return dg / (2.0 * FARADAY)

    def exchange_free_energy(self, *, zhang: bool = True) -> float:
        """Delta G_r (J per S site) of nu M + CdS -> M_nu S + Cd: 2 e E_rev
        (:meth:`exchange_voltage`, two electrons per S atom; +0.729 eV for Cu)."""
        return 2.0 * ELEMENTARY_CHARGE * self.exchange_voltage(zhang=zhang)

    def exchange_current(self, T: Any, ops: type[Ops] = Ops) -> Any:
        """j0(T) = j0_ref exp(-Ea/k_B (1/T - 1/T_ref)) (A/m^2), NumPy or UFL (``ops``)."""
        return self.exchange_current_density * ops.exp(
            -self.exchange_current_activation_energy / BOLTZMANN
            * (1.0 / T - 1.0 / self.exchange_current_reference_temperature))

    def ion_diffusivity(self, T: Any, ops: type[Ops] = Ops) -> Any:
        """D(T) = D0 exp(-E_m / k_B T) (m^2/s) of the metal's interstitial ion in CdS, NumPy or
        UFL (``ops``)."""
        return self.ion_diffusivity_prefactor * ops.exp(
            -self.ion_migration_energy / (BOLTZMANN * T))

    def butler_volmer(self, zhang: bool = True) -> dict[str, float]:
        """Butler-Volmer data keyed like the exchange module's kinetics record (SI):
        ``standard_potential`` (V, :meth:`potential`), ``exchange_current_density`` (A/m^2 at
        the reference temperature), ``activation_energy`` (J), ``transfer_coefficient``."""
        return {"standard_potential": self.potential(zhang),
                "exchange_current_density": self.exchange_current_density,
                "activation_energy": self.exchange_current_activation_energy,
                "transfer_coefficient": self.transfer_coefficient}


@functools.cache
def _anodes() -> dict:
    return yaml.safe_load((_DATA / "anodes.yaml").read_text())


def available_anodes() -> list[str]:
    """Names (element symbols) of the anode metals in ``anodes.yaml``."""
    return sorted(_anodes()["metals"])


def _quantity(entry: Any, unit: str, where: str, known: dict, sources: dict,
              notes: dict, field_name: str, optional: bool = False) -> float | None:
    """SI value of a ``{value, source[, note]}`` entry; records its sources and note."""
    if entry is None:
        if optional:
            return None
        raise ValueError(f"{where}: missing")
    if not isinstance(entry, dict) or "value" not in entry:
        raise ValueError(f"{where} = {entry!r}: expected {{value: ..., source: [...]}}")
    src = entry.get("source") or []
    src = (src,) if isinstance(src, str) else tuple(src)
    missing = [s for s in src if s not in known]
    if missing or not src:
        raise ValueError(f"{where}.source: keys {missing or '(none)'} are not in references.yaml")
    try:
        value = to_si(entry["value"], unit)
    except ValueError as err:
        raise ValueError(f"{where}.value = {entry['value']!r}: {err}") from None
    sources[field_name] = src
    if entry.get("note"):
        notes[field_name] = str(entry["note"])
    return value


def host_gibbs_energy(host: str = "CdS") -> float:
    """Gibbs energy of formation of a host compound per anion (J/mol), from ``anodes.yaml``.

    Raises:
        CaseError: unknown host (the message suggests the closest names).
    """
    hosts = _anodes()["hosts"]
    _require_known(host, list(hosts), "host (materials/data/anodes.yaml)")
    entry = hosts[host]
    g = _quantity(entry.get("gibbs_energy"), "J/mol", f"anodes/hosts/{host}.gibbs_energy",
                  references(), {}, {}, "gibbs_energy")
    return g / entry["anions_per_formula_unit"]


@functools.cache
def anode_metal(name: str) -> AnodeMetal:
    """Load an anode metal by element symbol.

    Raises:
        CaseError: unknown name (the message suggests the closest names).
        ValueError: a data bug in ``anodes.yaml`` (one line, naming the key path).
    """
    metals = _anodes()["metals"]
    _require_known(name, available_anodes(), "anode metal")
    d = metals[name]
    w = f"anodes/{name}"
    known = references()
    sources: dict[str, tuple[str, ...]] = {}
    notes: dict[str, str] = {}

    def q(entry, unit, key, field_name, optional=False):
        return _quantity(entry, unit, f"{w}.{key}", known, sources, notes, field_name, optional)

    try:
        sp, rad, sul, bv, ion = (d["standard_potential"], d["ionic_radius"], d["sulfide"],
                                 d["butler_volmer"], d["ion_transport"])
        j0 = bv["exchange_current_density"]
        z = d["ion_charge"]
        a, b = sul["metal_atoms"], sul["sulfur_atoms"]
    except (KeyError, TypeError) as err:
        raise ValueError(f"{w}: missing key {err}") from None
    for key, val in (("ion_charge", z), ("sulfide.metal_atoms", a), ("sulfide.sulfur_atoms", b)):
        if not isinstance(val, int) or isinstance(val, bool) or val <= 0:
            raise ValueError(f"{w}.{key} = {val!r}: expected a positive integer")
    metal = AnodeMetal(
        name=name,
        ion_charge=z,
        standard_potential=q(sp, "V", "standard_potential", "standard_potential"),
        standard_potential_couple=str(sp.get("couple", "")),
        standard_potential_zhang=q(d.get("standard_potential_zhang"), "V",
                                   "standard_potential_zhang", "standard_potential_zhang",
                                   optional=True),
        ionic_radius=q(rad, "m", "ionic_radius", "ionic_radius"),
        ionic_radius_coordination=str(rad.get("coordination", "")),
        sulfide_formula=str(sul.get("formula", "")),
        sulfide_metal_atoms=a,
        sulfide_sulfur_atoms=b,
        sulfide_gibbs_energy=q(sul.get("gibbs_energy"), "J/mol", "sulfide.gibbs_energy",
                               "sulfide_gibbs_energy"),
        sulfide_gibbs_energy_zhang=q(sul.get("gibbs_energy_zhang"), "J/mol",
                                     "sulfide.gibbs_energy_zhang", "sulfide_gibbs_energy_zhang",
                                     optional=True),
        exchange_current_density=q(j0, "A/m^2", "butler_volmer.exchange_current_density",
                                   "exchange_current_density"),
        exchange_current_reference_temperature=_temperature(
            j0.get("reference_temperature"), f"{w}.butler_volmer.exchange_current_density"),
        exchange_current_activation_energy=q(bv.get("activation_energy"), "eV",
                                             "butler_volmer.activation_energy",
                                             "exchange_current_activation_energy"),
        transfer_coefficient=q(bv.get("transfer_coefficient"), "", "butler_volmer.transfer_coefficient",
                               "transfer_coefficient"),
        **_ion_transport(ion, q, w), sources=sources, notes=notes)
    if not metal.exchange_current_density > 0:
        raise ValueError(f"{w}.butler_volmer.exchange_current_density: must be positive")
    if not 0.0 < metal.transfer_coefficient < 1.0:
        raise ValueError(f"{w}.butler_volmer.transfer_coefficient = "
                         f"{metal.transfer_coefficient}: expected 0 < alpha < 1")
    return metal


def _ion_transport(ion: Any, q: Callable, where: str) -> dict[str, float]:
    """The ``ion_transport`` block of anode metal ``where`` (``anodes/<M>``) in SI (m^2/s,
    J), through the metal's ``_quantity`` reader ``q(entry, unit, key, field_name)``; both
    values must be positive (data bugs raise a one-line ValueError naming the key)."""
    if not isinstance(ion, dict):
        ion = {}  # each key is then reported as missing, with its path
    values = {}
    for key, unit, name in (("diffusivity_prefactor", "m^2/s", "ion_diffusivity_prefactor"),
                            ("migration_energy", "eV", "ion_migration_energy")):
        values[name] = q(ion.get(key), unit, f"ion_transport.{key}", name)
        if not values[name] > 0:
            raise ValueError(f"{where}.ion_transport.{key} = {ion[key]['value']!r}: expected a "
                             "positive value")
    return values


def _temperature(raw: Any, where: str) -> float:
    try:
        T = to_si(raw, "K")
    except ValueError as err:
        raise ValueError(f"{where}.reference_temperature = {raw!r}: {err}") from None
    if T <= 0:
        raise ValueError(f"{where}.reference_temperature = {raw!r}: must be positive")
    return T
