"""The public API: what `import colbench` offers, and that importing it costs nothing."""

from __future__ import annotations

import subprocess
import sys

import colbench


def test_every_public_name_resolves_to_the_object_its_module_defines():
    import importlib

    assert colbench.__all__ == ["__version__", *colbench._EXPORTS]
    for name in colbench.__all__:
        value = getattr(colbench, name)
        if name != "__version__":
            assert getattr(importlib.import_module(colbench._EXPORTS[name]), name) is value
    assert sorted(dir(colbench)) == sorted(colbench.__all__)


def test_an_unknown_name_is_an_attribute_error():
    try:
        colbench.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:
        raise AssertionError("colbench.no_such_thing resolved")


def test_import_colbench_loads_no_heavy_module():
    code = ("import sys, colbench; heavy = [m for m in ('pandas', 'torch', 'colbench.runner', 'docker', 'playwright') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    out = subprocess.run([sys.executable, "-c", "import colbench; colbench.EvalConfig; import sys; "
                          "print('colbench.runner' in sys.modules)"], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "True"
