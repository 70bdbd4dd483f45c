"""Runs: the run folder, the one run loop, step-size control, checkpoints, Simulation."""
