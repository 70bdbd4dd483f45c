"""Case schema, units and bias protocols: valid input converts to SI, bad input names its key."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from ecx_device.case.loader import load_case, validate_case
from ecx_device.errors import CaseError
from ecx_device.units import to_si

CASES = Path(__file__).parents[2] / "cases"
DEFAULT = yaml.safe_load((CASES / "zhang2017_1V.yaml").read_text())


def test_units_convert_to_si():
    assert to_si("40 nm", "m") == pytest.approx(40e-9)
    assert to_si("1 S/cm", "S/m") == pytest.approx(100.0)
    assert to_si("27 degC", "K") == pytest.approx(300.15)
    assert to_si("15 deg", "deg") == pytest.approx(0.2617993877991494)


@pytest.mark.parametrize("value, fragment", [("40 kg", "wrong unit"), (40, "missing unit"),
                                             ("forty nm", "cannot read"), ("3", "missing unit")])
def test_units_reject(value, fragment):
    with pytest.raises(ValueError, match=fragment):
        to_si(value, "m")


def test_default_case_loads_in_si():
    case = load_case(CASES / "zhang2017_1V.yaml")
    assert case.geometry.wire.diameter == pytest.approx(40e-9)
    assert case.thermal.heat_sink_temperature == 300.0
    points = case.bias.protocol.bias_points()
    assert [p.voltage for p in points] == pytest.approx([0.0, 0.25, 0.5, 0.75, 1.0])
    # the hold at 1 V starts where the ramp ends: one point, not two
    assert points[-1].segment == 1 and points[-1].time == pytest.approx(1e-3)


def test_reversed_polarity_flips_bias():
    case = load_case(CASES / "zhang2017_1V.yaml")
    assert case.bias.protocol.bias_points(-1.0)[-1].voltage == -1.0


def _edit(path: list, value):
    data = copy.deepcopy(DEFAULT)
    node = data
    for key in path[:-1]:
        node = node[key]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return data


@pytest.mark.parametrize("path, value, key, fragment", [
    (["geometry", "wire", "diameter"], "40 kg", "geometry.wire.diameter", "wrong unit"),
    (["geometry", "wire", "diameter"], "-4 nm", "geometry.wire.diameter", "positive"),
    (["geometry", "wire", "diameter"], KeyError, "geometry.wire.diameter", "missing"),
    (["geometry", "wire", "diamter"], "4 nm", "geometry.wire.diamter", "unknown key"),
    (["geometry", "dimension"], "2d", "geometry.dimension", "'1d', 'axisymmetric' or '3d'"),
    (["thermal", "emissivity"], 1.5, "thermal.emissivity", "less than or equal to 1"),
    (["thermal", "heat_sink_temperature"], "-3 K", "thermal.heat_sink_temperature", "positive"),
    (["bias", "protocol"], [], "bias.protocol", "at least 1"),
    (["geometry", "cu_electrode", "thickness"], "10 nm", "geometry", "must exceed"),
])
def test_bad_case_gives_one_line_error(path, value, key, fragment):
    with pytest.raises(CaseError) as err:
        validate_case(_edit(path, value), "x.yaml")
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith(f"x.yaml: {key}")
    assert fragment in msg


def test_bad_protocol_segment():
    data = _edit(["bias", "protocol"], [{"type": "hold", "voltage": "1", "duration": "1 s"}])
    with pytest.raises(CaseError, match=r"bias.protocol\[0\].voltage = '1': missing unit"):
        validate_case(data, "x.yaml")


def test_unreadable_yaml(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("geometry: [unclosed\n")
    with pytest.raises(CaseError, match="not valid YAML"):
        load_case(p)


def test_missing_file():
    with pytest.raises(CaseError, match="does not exist"):
        load_case("no/such/case.yaml")


def test_an_explicit_null_for_an_optional_bounded_key_means_its_default():
    # `start_time: null` (and `entry_sites: null`) failed inside pydantic with a TypeError
    # ("Unable to apply constraint 'ge'"), reported as an internal error
    data = _edit(["bias", "protocol"], [{"type": "hold", "voltage": "1 V", "duration": "1 s",
                                         "start_time": None}])
    assert validate_case(data, "x.yaml").bias.protocol.root[0].start_time is None
    casu = yaml.safe_load((CASES / "casu2023_front_wurtzite.yaml").read_text())
    casu["geometry"]["particle"]["donors"][0]["entry_sites"] = None
    donor = validate_case(casu, "x.yaml").geometry.particle.donors[0]
    assert donor.entry_sites is None


def test_a_negative_start_time_names_its_key():
    data = _edit(["bias", "protocol"], [{"type": "hold", "voltage": "1 V", "duration": "1 s",
                                         "start_time": "-1 s"}])
    with pytest.raises(CaseError, match=r"bias.protocol\[0\].start_time"):
        validate_case(data, "x.yaml")
