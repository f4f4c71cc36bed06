"""Error messages seen by the tests, collected for docs/reliability.md: with ``NYEGAN_MESSAGES=FILE`` set, each
recorded message is appended to FILE as one JSON line {"test", "message"} (nothing happens otherwise)."""

import json
import os


def record(message: str) -> str:
    path = os.environ.get("NYEGAN_MESSAGES")
    if path:
        test = os.environ.get("PYTEST_CURRENT_TEST", "?").split(" ")[0]
        with open(path, "a") as fh:
            fh.write(json.dumps({"test": test, "message": str(message)}) + "\n")
    return message
