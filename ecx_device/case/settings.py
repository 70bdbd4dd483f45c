"""Settings of a case by dotted key, as ``ecx-device sweep --set KEY=VALUE`` and
:meth:`Case.replace <ecx_device.case.schema.Case.replace>` give them.

A key is a dotted path in the case file (``geometry.wire.diameter``; list items by index,
``bias.protocol.0.voltage``) or an alias (``bias``: the protocol becomes one hold at that voltage,
as long as the whole protocol). Values are written as in the file, with their units
(``"30 nm"``); the case is validated afterwards. A key that is not in the file and not a new
optional key (or section) is refused with the closest keys of the file; a new one is left to the
schema's validation.
"""

from __future__ import annotations

import difflib

from ecx_device.errors import CaseError
from ecx_device.units import ureg

#: Shorthand keys: ``bias`` replaces the protocol by one hold at that voltage.
ALIASES = {"bias"}


def leaf_paths(node, prefix: str = "") -> list[str]:
    """Dotted paths of every leaf of a parsed case file."""
    paths = []
    if isinstance(node, dict):
        for k, v in node.items():
            paths += leaf_paths(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            paths += leaf_paths(v, f"{prefix}.{i}")
    else:
        paths.append(prefix)
    return paths


def apply_setting(data: dict, key: str, value: object, label: str = "--set") -> None:
    """Set ``key`` (a dotted path in the case file, or an alias) to ``value`` in place.

    Args:
        data: The case file as parsed (unit strings, not SI).
        key: Dotted path or alias (module docstring).
        value: As written in the file (``"30 nm"``).
        label: How the error names the setting (``--set``, ``case.replace``).

    Raises:
        CaseError: no such key; one line with the closest keys of the file.
    """
    if key == "bias":
        protocol = data.get("bias", {}).get("protocol", [])
        total = sum(ureg.Quantity(str(s.get("duration", "1 s"))).to("s").magnitude
                    * (len(s.get("voltages", [])) or 1) for s in protocol) or 1.0
        data.setdefault("bias", {})["protocol"] = [
            {"type": "hold", "voltage": value, "duration": f"{total} s"}]
        return
    parts = key.split(".")
    node = data
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            part = int(part)
        elif not (isinstance(node, dict) and part in node):
            leaves = leaf_paths(data)
            tail = [p for p in leaves if p.endswith("." + parts[-1])]
            close = tail or ([] if last else difflib.get_close_matches(key, leaves, n=3))
            if isinstance(node, dict) and not close:
                # a key (or section) the file leaves at its default: the schema decides
                for new in parts[i:-1]:
                    node = node.setdefault(new, {})
                node[parts[-1]] = value
                return
            raise CaseError(f"{label} {key}: no such key in the case file; did you mean "
                            f"{', '.join(close[:3])}?")
        if last:
            break
        node = node[part]
    node[part] = value
