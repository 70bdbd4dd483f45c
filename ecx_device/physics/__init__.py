"""Physics modules: one equation set per module, each a set of pure form functions.

Every module offers the same small interface (:class:`ecx_device.physics.base.PhysicsModule`), so
the coupling layer sums their contributions without knowing which modules exist.
"""
