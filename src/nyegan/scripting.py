"""Support for the thin workflow scripts (``workflow/scripts/*.py``): one logging idiom for all of them.

``with log_to(snakemake.log[0]):`` sends stdout, stderr, warnings and the ``logging`` module to the rule's log
file, records the traceback there if the step fails (and re-raises, so Snakemake marks the job failed).
"""

from __future__ import annotations

import contextlib
import logging
import sys
import traceback
from pathlib import Path


@contextlib.contextmanager
def log_to(path, append: bool = False):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a" if append else "w", buffering=1) as fh:
        old = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = fh
        logging.basicConfig(stream=fh, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", force=True)
        logging.captureWarnings(True)
        try:
            yield logging.getLogger("nyegan")
        except SystemExit as exc:  # a deliberate exit (e.g. training stopped by SIGTERM) says why itself
            print(f"exit status {exc.code}: {exc}", file=fh)
            raise
        except BaseException:
            traceback.print_exc(file=fh)
            raise
        finally:
            logging.captureWarnings(False)
            sys.stdout, sys.stderr = old
