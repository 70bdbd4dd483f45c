"""The materials database: one YAML file per material in ``data/``, every value with a source.

``load_material("Cu")`` returns a :class:`Material` whose properties are callables of the local
temperature (K) returning SI values (NumPy by default, UFL with ``ops=UflOps``).
"""

from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml

from ecx_device.errors import CaseError
from ecx_device.materials.properties import Ops, PropertyModel, parse_property

_DATA = resources.files("ecx_device.materials") / "data"
#: Data files that are tables, not materials.
_TABLES = {"references.yaml", "barriers.yaml"}


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
    """A named set of property models."""

    name: str
    description: str
    properties: dict[str, PropertyModel] = field(default_factory=dict)

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
        return Material(self.name, self.description, props)

    def sources(self) -> set[str]:
        """Reference keys behind this material's values."""
        return {s for m in self.properties.values() for s in m.source}


@functools.cache
def load_material(name: str) -> Material:
    """Load a material by name.

    Raises:
        CaseError: unknown name (the message suggests the closest names).
    """
    names = available_materials()
    if name not in names:
        close = difflib.get_close_matches(name, names, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise CaseError(f"unknown material {name!r}: available are {', '.join(names)}{hint}")
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
    return Material(data["name"], data.get("description", "").strip(), props)


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
    from ecx_device.units import ELEMENTARY_CHARGE, to_si

    return to_si(entry["value"], "eV") / ELEMENTARY_CHARGE
