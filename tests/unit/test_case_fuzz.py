"""Property-based tests: malformed and extreme case files either load or raise CaseError.

Never another exception: whatever a user writes, the answer is a one-line CaseError (exit code 2).
"""

from __future__ import annotations

import copy
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecx_device.case.loader import load_case, validate_case
from ecx_device.errors import CaseError
from ecx_device.device.from_case import region_materials

BASE = yaml.safe_load((Path(__file__).parents[2] / "cases" / "zhang2017_1V.yaml").read_text())


def _paths(node, prefix=()):
    """Every key path of a nested mapping/list."""
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, (*prefix, i))


PATHS = [p for p in _paths(BASE) if p]
UNITS = ["nm", "m", "V", "mV", "K", "degC", "s", "kg", "W/(m K)", "S/cm", "deg", "", "%", "eV",
         "1/0", "nm nm", "m/s"]

quantity = st.builds(lambda x, u: f"{x} {u}",
                     st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(UNITS))
leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20),
                 quantity, st.lists(quantity, max_size=3))
value = st.one_of(leaf, st.dictionaries(st.text(max_size=8), leaf, max_size=3),
                  st.lists(leaf, max_size=3))


def _mutate(data, path, action, new):
    node = data
    for key in path[:-1]:
        node = node[key]
    last = path[-1]
    if action == "delete":
        del node[last]
    elif action == "replace":
        node[last] = new
    elif isinstance(node[last], dict):
        node[last]["unexpected_key"] = new


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutations=st.lists(st.tuples(st.sampled_from(PATHS),
                                    st.sampled_from(["delete", "replace", "add"]), value),
                          min_size=1, max_size=3))
def test_mutated_case_loads_or_raises_case_error(mutations):
    data = copy.deepcopy(BASE)
    for path, action, new in mutations:
        try:
            _mutate(data, path, action, new)
        except (KeyError, IndexError, TypeError):
            pass  # an earlier mutation removed or reshaped this path
    try:
        case = validate_case(data, "fuzz.yaml")
    except CaseError as err:
        assert "\n" not in str(err)
        return
    try:
        region_materials(case)
    except CaseError:
        pass


@settings(max_examples=200, deadline=None)
@given(override=st.dictionaries(st.sampled_from(["cu_electrode", "wire", "w_tip", "x"]),
                                st.dictionaries(st.sampled_from(
                                    ["thermal_conductivity", "electrical_conductivity",
                                     "density", "colour"]), value, max_size=2), max_size=2),
       material=st.one_of(st.sampled_from(["Cu", "W", "CdS_nanowire"]), st.text(max_size=12)))
def test_materials_section_loads_or_raises_case_error(override, material):
    data = copy.deepcopy(BASE)
    data["materials"]["overrides"] = override
    data["materials"]["wire"] = material
    try:
        region_materials(validate_case(data, "fuzz.yaml"))
    except CaseError as err:
        assert "\n" not in str(err)


@settings(max_examples=100, deadline=None)
@given(text=st.text(max_size=200))
def test_arbitrary_yaml_text(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("fuzz") / "case.yaml"
    path.write_text(text)
    try:
        load_case(path)
    except CaseError as err:
        assert "\n" not in str(err)
