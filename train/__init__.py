"""The shared scripts: evaluate, throughput, and the ``opsgym`` command line."""
