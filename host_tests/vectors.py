"""Where the public conformance vectors are: ../shared/vectors/ beside the clone (CI),
or NXSECURE_SHARED=/path/to/shared. A run without them fails; it never skips."""
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def shared_dir():
    """The `shared` directory: $NXSECURE_SHARED, else the nearest `shared` beside the
    clone or beside one of its parents (a git worktree sits one level deeper)."""
    env = os.environ.get("NXSECURE_SHARED")
    if env:
        return env
    here = ROOT
    for _ in range(3):
        here = os.path.dirname(here)
        cand = os.path.join(here, "shared")
        if os.path.isdir(os.path.join(cand, "vectors")):
            return cand
    return os.path.join(os.path.dirname(ROOT), "shared")


def _shared_file(what, parts):
    path = os.path.join(shared_dir(), what, *parts)
    if not os.path.exists(path):
        pytest.fail("%s missing: %s (CI has ../shared beside the clone; elsewhere set "
                    "NXSECURE_SHARED)" % (what, path))
    return path


def vector_path(*parts):
    """Path of a file under shared/vectors/; pytest.fail (not skip) when it is missing."""
    return _shared_file("vectors", parts)


def firmware_path(*parts):
    """Path of a file under shared/firmware/ (the MicroPython builds), likewise."""
    return _shared_file("firmware", parts)
