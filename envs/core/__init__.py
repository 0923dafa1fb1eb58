"""What the opsgym simulators share: argument checks and workload generators.

Nothing in this package imports gymnasium; simulators take their
``numpy.random.Generator`` from the caller.
"""
