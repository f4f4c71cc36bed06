"""Peak memory of a Nye field on a grid, estimated before anything is allocated (the Nye stage, and the config
check of a whole sweep: this module imports numpy only, so checking 2,000 cases does not load the Nye stage)."""

from __future__ import annotations

import numpy as np

# Peak memory of the Nye stage per grid node (bytes): deposited G (9 components), its FFT, the smoothed weight,
# the curl and the output. Measured with tracemalloc for 2D and 3D grids of 2e3 to 6e5 nodes: 171-235 B/node.
NYE_BYTES_PER_NODE = 200


def grid_memory_gb(n_nodes: float) -> float:
    """Estimated peak memory (GB, 1e9 bytes) of a Nye field on ``n_nodes`` grid nodes."""
    return float(n_nodes) * NYE_BYTES_PER_NODE / 1e9


def check_grid_memory(shape, spacing: float, max_memory_gb: float, what: str = "the cell") -> None:
    """Raise ValueError, before anything is allocated, when a grid of ``shape`` nodes would need more than
    ``max_memory_gb``; the message names ``nye.spacing`` / ``nye.max_memory_gb`` and the spacing that fits."""
    n_nodes = float(np.prod([float(v) for v in shape]))
    need = grid_memory_gb(n_nodes)
    if need <= max_memory_gb:
        return
    fit = spacing * (need / max_memory_gb) ** (1.0 / max(len(shape), 1))
    raise ValueError(
        f"a {spacing:g} Å grid over {what} has {n_nodes:.3g} nodes ({' x '.join(str(int(v)) for v in shape)}) and "
        f"needs about {need:.3g} GB > nye.max_memory_gb = {max_memory_gb:g} GB; use nye.spacing >= {fit:.2g} Å "
        f"(--spacing) or raise nye.max_memory_gb (--max-memory-gb)"
    )
