"""Split MPI ranks into partitions that each run their own LAMMPS instance on a share of the states.

With P ranks and ``ranks_per_state`` = r, there are P/r partitions (colour = rank // r, so world rank 0 leads
partition 0). States are dealt round-robin. Wall time ≈ ceil(n_states / (P/r)) · t_state(r): linear in the number
of states, divided by the number of partitions; r > 1 only pays off for cells large enough that one LAMMPS run
scales (≳ 10⁴ atoms per rank-pair).
"""

from __future__ import annotations


def world_comm():
    """mpi4py's COMM_WORLD, or None when mpi4py is absent (serial run)."""
    try:
        from mpi4py import MPI
    except ImportError:  # pragma: no cover - mpi4py is a dependency
        return None
    return MPI.COMM_WORLD


def split_partitions(comm, ranks_per_state: int = 1):
    """Return (sub_comm, colour, n_partitions). ``comm`` None: (None, 0, 1)."""
    if comm is None or comm.Get_size() == 1:
        return comm, 0, 1
    size = comm.Get_size()
    if ranks_per_state < 1 or size % ranks_per_state:
        raise ValueError(f"relax.ranks_per_state = {ranks_per_state} must divide the number of MPI ranks ({size})")
    color = comm.Get_rank() // ranks_per_state
    return comm.Split(color, comm.Get_rank()), color, size // ranks_per_state


def my_share(n_items: int, color: int, n_partitions: int) -> list[int]:
    """Indices dealt to partition ``color`` (round-robin)."""
    return list(range(color, n_items, n_partitions))


def is_root(comm) -> bool:
    return comm is None or comm.Get_rank() == 0
