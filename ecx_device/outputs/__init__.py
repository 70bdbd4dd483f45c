"""Run outputs: fields for ParaView, scalar tables, plots."""
