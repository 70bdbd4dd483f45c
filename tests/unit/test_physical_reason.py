"""The mechanism a failed exchange step is put down to (issue 16): full conversion past 99 %,
thermal runaway when the re-solve keeps moving T or has no steady state, and nothing otherwise
(a plain "Newton did not converge" is not a reason)."""

from ecx_device.solvers.splitting import ExchangeSplitting

reason = ExchangeSplitting.physical_reason  # uses only its arguments


def test_full_conversion_is_named_from_99_percent_only():
    for fraction in (0.99, 0.995):
        assert "full conversion" in reason(None, "ion Newton did not converge", fraction, 650.0)
    assert reason(None, "ion Newton did not converge", 0.989, 650.0) == ""


def test_runaway_is_named_with_its_temperature():
    text = reason(None, "T moved 41.2 K in one step", 0.2, 1234.4)
    assert "thermal runaway" in text and "1234 K" in text
    text = reason(None, "electro-thermal: thermal runaway suspected at 0.8 V", None, 900.0)
    assert "thermal runaway" in text


def test_a_solver_failure_is_not_a_physical_reason():
    for why in ("ion Newton did not converge", "out of range: c = -0.1",
                "electro-thermal: bias continuation stalled at 0.512 V"):
        assert reason(None, why, 0.3, 310.0) == ""
