"""Commands that do not solve (check, mesh, sweep): cheap to import, no DOLFINx."""
