"""Read a case file safely and turn every validation problem into one-line :class:`CaseError`."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from ecx_device.case.schema import Case
from ecx_device.errors import CaseError


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
        return f"{_key_path(e['loc'])}: unknown key (check its spelling)"
    shown = repr(value) if not isinstance(value, dict) else "{...}"
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return f"{_key_path(e['loc'])} = {shown}: {msg}"


def validate_case(data: object, source: str = "<case>") -> Case:
    """Validate a parsed case mapping.

    Raises:
        CaseError: one line naming the key path, the value and what is expected.
    """
    if not isinstance(data, dict):
        raise CaseError(f"{source}: a case file must be a mapping of sections, got "
                        f"{type(data).__name__}")
    try:
        return Case.model_validate(data)
    except ValidationError as err:
        raise CaseError(f"{source}: {_one_line(err)}") from None


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
    case = validate_case(read_yaml(path), source=str(path))
    case = _resolve_file(case, path, "composition", "file")
    return _resolve_file(case, path, "geometry", "mesh_file")


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
