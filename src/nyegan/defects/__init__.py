"""Defect analysis, independent of how the atoms were made: Burgers circuits (``burgers_circuit``), Shockley partial
separations (``partials``), the intrinsic stacking-fault energy of a potential (``stacking_fault``, LAMMPS) and the
Frank–Bilby content of tilt boundaries (``frank_bilby``)."""
