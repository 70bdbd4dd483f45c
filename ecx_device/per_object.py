"""Values computed once per DOLFINx object (a mesh, a function space) and dropped with it.

DOLFINx's Mesh and FunctionSpace are not hashable, so the store is keyed by the object's id, and a
finaliser removes the entry when the object goes (before its id can be reused).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

_STORE: dict[tuple[int, str], Any] = {}


def once_per(obj: Any, kind: str, build: Callable[[Any], Any]) -> Any:
    """``build(obj)``, computed on the first call for ``obj`` and ``kind`` and kept while
    ``obj`` lives."""
    key = (id(obj), kind)
    if key not in _STORE:
        _STORE[key] = build(obj)
        weakref.finalize(obj, _STORE.pop, key, None)
    return _STORE[key]
