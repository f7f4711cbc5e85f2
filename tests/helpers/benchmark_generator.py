"""benchmarks/generate.py, loaded as a module for the tests that check its inputs or reuse its rows
(benchmarks/ is not a package: its scripts are run by hand)."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

from tests.conftest import ROOT


def load() -> ModuleType:
    name = "portcheck_benchmark_generate"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # one module for every test that loads it
    spec.loader.exec_module(module)
    return module
