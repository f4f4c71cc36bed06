"""``python -m nyegan`` (used for MPI launches: ``mpiexec -n N python -m mpi4py -m nyegan ...``)."""

import sys

from nyegan.cli import main

sys.exit(main())
