"""Read a case file safely and turn every validation problem into one-line :class:`CaseError`.

A case read by :func:`load_case` remembers its file (:class:`CaseSource`), so that
:meth:`Case.replace <ecx_device.case.schema.Case.replace>` can change a setting in the file's own
terms (units as written) and validate again, as ``ecx-device sweep --set`` does.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ValidationError

from ecx_device.case.schema import Case
from ecx_device.case.settings import apply_setting
from ecx_device.errors import CaseError

#: First key of the resolved case a run writes (case.resolved.yaml): SI numbers, no units.
RESOLVED_NOTE = "# note"


def _key_path(loc: tuple) -> str:
    """Dotted key path from a pydantic location, skipping union-tag entries."""
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif item in ("hold", "ramp", "steps", "function-after[_consistent(), GeometrySpec]"):
            continue
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts) or "<case>"


def _one_line(err: ValidationError) -> str:
    """The first error of a pydantic ValidationError as ``key: value -> problem``."""
    e = err.errors(include_url=False)[0]
    msg = e["msg"].removeprefix("Value error, ")
    value = e.get("input")
    if e["type"] == "missing":
        return f"{_key_path(e['loc'])}: missing required key"
    if e["type"] == "extra_forbidden":
        close = _close_keys(e["loc"])
        hint = f"; did you mean {', '.join(close)}?" if close else " (check its spelling)"
        return f"{_key_path(e['loc'])}: unknown key{hint}"
    shown = repr(value) if not isinstance(value, dict) else "{...}"
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return f"{_key_path(e['loc'])} = {shown}: {msg}"


def _close_keys(loc: tuple) -> list[str]:
    """Dotted paths of the schema keys closest to the unknown key at ``loc`` (up to 3), found
    by walking the schema's sections along ``loc``; none where the walk cannot follow (lists
    and protocol steps)."""
    import difflib
    import typing

    model: type[BaseModel] = Case
    for item in loc[:-1]:
        field = model.model_fields.get(item) if isinstance(item, str) else None
        kinds = [field.annotation] if field is not None else []
        kinds += list(typing.get_args(field.annotation)) if field is not None else []
        model = next((k for k in kinds if isinstance(k, type) and issubclass(k, BaseModel)),
                     None)
        if model is None:
            return []
    names = list(model.model_fields) + [f.alias for f in model.model_fields.values() if f.alias]
    prefix = _key_path(loc[:-1])
    return [f"{prefix}.{n}" if loc[:-1] else n
            for n in difflib.get_close_matches(str(loc[-1]), names, n=3)]


def validate_case(data: object, source: str = "<case>") -> Case:
    """Validate a parsed case mapping.

    Raises:
        CaseError: one line naming the key path, the value and what is expected.
    """
    if not isinstance(data, dict):
        raise CaseError(f"{source}: a case file must be a mapping of sections, got "
                        f"{type(data).__name__}")
    if RESOLVED_NOTE in data:
        raise CaseError(f"{source}: this is the record of a run's resolved case (SI numbers "
                        "without units), not a case file; run the case file named in the "
                        "run's provenance.json (command)")
    try:
        return Case.model_validate(data)
    except ValidationError as err:
        raise CaseError(f"{source}: {_one_line(err)}") from None


def check_case(data: object, source: str = "<case>") -> Case:
    """:func:`validate_case`, then the device geometry's own checks (what every ``sweep --set``
    combination and :meth:`Case.replace` go through before anything runs).

    Raises:
        CaseError: one line, prefixed by ``source``.
    """
    from ecx_device.device.from_case import device_geometry

    case = validate_case(data, source)
    try:
        device_geometry(case)
    except CaseError as err:
        raise CaseError(f"{source}: {err}") from None
    return case


def read_yaml(path: str | Path) -> dict:
    """Load a YAML case file with the safe loader (no object construction)."""
    p = Path(path)
    if not p.is_file():
        raise CaseError(f"case file {str(p)!r} does not exist")
    try:
        data = yaml.safe_load(p.read_text())
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise CaseError(f"{p}: not valid YAML{where}: {getattr(err, 'problem', err)}") from None
    return data


def load_case(path: str | Path) -> Case:
    """Read and validate a case file (units converted to SI; a mesh file resolved and checked)."""
    data = read_yaml(path)
    return _with_source(validate_case(data, source=str(path)), data, Path(path))


@dataclass(frozen=True)
class CaseSource:
    """The file a case was read from and its content as parsed (unit strings), which
    :meth:`Case.replace` edits.

    Attributes:
        data: The parsed file, with every earlier ``replace`` applied.
        path: The case file (relative data files are found beside it).
        fingerprint: JSON of the case built from ``data``: a case changed otherwise since
            (``model_copy``) no longer matches, and ``replace`` refuses it.
    """

    data: dict
    path: Path
    fingerprint: str

    def replace(self, case: Case, settings: Mapping[str, object]) -> Case:
        """``case`` with ``settings`` applied to the file's content and validated again
        (:meth:`Case.replace`)."""
        if case.model_dump_json() != self.fingerprint:
            raise CaseError("case.replace: this case was changed after loading (model_copy); "
                            "replace works on cases from load_case or an earlier replace")
        if not isinstance(settings, Mapping) or not settings:
            raise CaseError("case.replace: expected a mapping of keys to values, e.g. "
                            "{'geometry.wire.diameter': '30 nm'}")
        data = copy.deepcopy(self.data)
        for key, value in settings.items():
            apply_setting(data, str(key), value, label="case.replace")
        where = ", ".join(f"{k}={v}" for k, v in settings.items())
        new = check_case(data, source=f"{self.path} with {where}")
        return _with_source(new, data, self.path)


def _with_source(case: Case, data: dict, path: Path) -> Case:
    """``case`` with its data files resolved beside ``path`` and its :class:`CaseSource`."""
    case = _resolve_file(case, path, "composition", "file")
    case = _resolve_file(case, path, "geometry", "mesh_file")
    case._source = CaseSource(copy.deepcopy(data), path, case.model_dump_json())
    return case


def _resolve_file(case: Case, path, section: str, key: str) -> Case:
    """The case with ``section.key`` (a path relative to the case file) made absolute.

    Raises:
        CaseError: the file does not exist.
    """
    spec = getattr(case, section)
    value = getattr(spec, key)
    if value is None:
        return case
    resolved = (Path(path).parent / value).resolve()
    if not resolved.is_file():
        raise CaseError(f"{path}: {section}.{key} = {value!r}: file does not exist "
                        f"(looked for {resolved})")
    return case.model_copy(update={section: spec.model_copy(update={key: str(resolved)})})
