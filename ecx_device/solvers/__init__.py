"""Solvers: Newton, the electro-thermal fixed point, the exchange splitting, continuation."""
