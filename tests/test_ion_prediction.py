"""The ion step's Newton start (docs/model.md 8.3, "Newton start"): the linear extrapolation in
time of the last two accepted states saves Newton iterations and does not change the solution.

The 1D copy of the default case (+1 V held for 1 s, 45 steps) runs with the prediction and with
it switched off (``MAX_PREDICTION_RATIO = 0``: the solve starts from the step's start, as
before). On 2026-12-07: 116 against 150 ion Newton iterations. A 3 ms run with a Li anode (19
steps, most of them the first short ones) saved none: 41 against 40.
"""

from __future__ import annotations

import pytest
from test_exchange_run import _case_1d, _run

from ecx_device.solvers import splitting


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    data = _case_1d(duration="1 s")
    with_prediction = _run(tmp_path_factory.mktemp("predicted"), data)
    patch = pytest.MonkeyPatch()
    patch.setattr(splitting, "MAX_PREDICTION_RATIO", 0.0)
    try:
        without = _run(tmp_path_factory.mktemp("unpredicted"), data)
    finally:
        patch.undo()
    return with_prediction, without


def test_the_predicted_start_saves_ion_newton_iterations(runs):
    (rows, results), (rows0, results0) = runs
    its = sum(r["ion_newton_iterations [-]"] for r in rows[1:])
    its0 = sum(r["ion_newton_iterations [-]"] for r in rows0[1:])
    print(f"ion Newton iterations: {its:.0f} predicted, {its0:.0f} from the step start; "
          f"steps {results['steps']} / {results0['steps']}")
    assert its < 0.95 * its0


def test_the_predicted_start_leaves_the_solution(runs):
    (rows, _), (rows0, _) = runs
    assert rows[-1]["time [s]"] == pytest.approx(rows0[-1]["time [s]"], rel=1e-12)
    for key in ("exchanged_volume [nm^3]", "cu_in_total [-]", "cathode_current [A]"):
        assert rows[-1][key] == pytest.approx(rows0[-1][key], rel=1e-6), key
