"""Errors of the relaxation stage: every message names the case and, where LAMMPS failed, quotes LAMMPS."""


class RelaxError(RuntimeError):
    """A relaxation could not produce a trustworthy state (LAMMPS error, lost atoms, NaN, no convergence)."""

    def __init__(self, case: str, message: str, log_file=None):
        self.case = case
        self.message = message
        self.log_file = str(log_file) if log_file else None
        where = f" (LAMMPS log: {self.log_file})" if self.log_file else ""
        super().__init__(f"case '{case}': {message}{where}")

    def __reduce__(self):  # picklable: MPI broadcasts it from rank 0 to the other ranks
        return (type(self), (self.case, self.message, self.log_file))
