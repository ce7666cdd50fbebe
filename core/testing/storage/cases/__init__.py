"""The storage contract suite, one module per concept (gathered by :mod:`..contract`)."""
