"""The relative balance error of the exchange splitting (solvers.splitting.balance_error)."""

from ecx_device.outputs.report import BALANCE_LIMIT
from ecx_device.solvers.splitting import balance_error


def test_round_off_of_a_large_inventory_is_not_a_balance_error():
    # The front-limited wurtzite cell at 125 degC: 2.42e5 Cu atoms in the wire, 9.66e-9 atoms
    # moved in the first step, inventories differing from the transfer by 5.8e-11 atoms (2.4e-16
    # of the inventory: round-off). The old scale, 1e-12 of the wire's 8.1e6 S sites, made it
    # the 7.2e-6 that the run reported.
    error = balance_error(9.66e-9 + 5.8e-11, 9.66e-9, 2.42e5, 8.1e6)
    assert error < BALANCE_LIMIT


def test_a_lost_fraction_of_a_transfer_is_a_balance_error():
    # 1 % of 1e4 transferred atoms lost, on an inventory of the same size
    error = balance_error(0.99e4, 1e4, 1e4, 8.1e6)
    assert abs(error - 1e-2) < 1e-12


def test_a_loss_above_the_inventory_resolution_is_flagged_even_for_a_tiny_transfer():
    # 1e-8 atoms moved, 1e-3 atoms appeared from nowhere in an inventory of 2.42e5: 4e-9 of it,
    # far above its round-off
    assert balance_error(1e-8 + 1e-3, 1e-8, 2.42e5, 8.1e6) > BALANCE_LIMIT


def test_an_empty_wire_is_judged_against_a_fraction_of_its_sites():
    # 1e6 sites: floor 1e-6 atoms, above both transfers
    assert abs(balance_error(1e-7, 0.5e-7, 0.0, 1e6) - 0.05) < 1e-12
