"""A one-way I-V sweep is solved outward from the starting bias (runs/loop.py): the solve order,
and the restore of the first point's state where the order jumps back."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from ecx_device.runs.loop import BiasStepper, outward_order


@pytest.mark.parametrize("biases, start, expected", [
    ([-1.0, -0.5, 0.0, 0.5, 1.0], 0.0, [2, 1, 0, 3, 4]),
    ([0.0, 0.5, 1.0], 0.0, [0, 1, 2]),          # starts at the start: as listed
    ([1.0, 0.5, 0.0], 0.0, [2, 1, 0]),          # a downward sweep ending at 0 V: from 0 V up
    ([-1.0, -0.4, 0.2, 0.8], 0.0, [2, 1, 0, 3]),  # nearest point, not an exact 0 V
])
def test_outward_order(biases, start, expected):
    assert outward_order(biases, start) == expected


class _Problem:
    """A problem whose state is the bias it was last solved at."""

    def __init__(self):
        self.ctx = SimpleNamespace(constants={"bias": SimpleNamespace(value=0.0)})
        self.solved_at = None
        self.restored = []

    def state(self):
        return {"at": self.solved_at}

    def restore(self, state):
        self.restored.append(state["at"])
        self.solved_at = state["at"]


class _Continuation:
    def __init__(self):
        self.calls = []  # (bias before, target)

    def reach(self, problem, target):
        self.calls.append((problem.ctx.constants["bias"].value, target))
        problem.ctx.constants["bias"].value = target
        problem.solved_at = target
        return SimpleNamespace(rejected=0, newton_iterations=1)


def test_the_second_branch_starts_from_the_first_point():
    biases = [-1.0, -0.5, 0.0, 0.5, 1.0]
    problem, continuation = _Problem(), _Continuation()
    stepper = BiasStepper(problem, [(None, v) for v in biases], continuation,
                          outward_order(biases, 0.0))
    seen = []
    while not stepper.finished:
        stepper.advance()
        seen.append(stepper.bias)
    assert seen == [0.0, -0.5, -1.0, 0.5, 1.0]
    # +0.5 V is reached from 0 V and its state, not by continuation from -1 V
    assert continuation.calls[3] == (0.0, 0.5) and problem.restored == [0.0]


def test_listed_order_never_restores_and_a_bad_order_is_refused():
    problem, continuation = _Problem(), _Continuation()
    stepper = BiasStepper(problem, [(None, v) for v in (0.0, 0.5, 1.0)], continuation)
    while not stepper.finished:
        stepper.advance()
    assert problem.restored == [] and [c[1] for c in continuation.calls] == [0.0, 0.5, 1.0]
    with pytest.raises(ValueError, match="permutation"):
        BiasStepper(problem, [(None, 0.0), (None, 1.0)], continuation, [0, 0])
