"""Stand-ins that let MLflow 3.x's client and tests import on Debian 12 without PyPI (manual harness only).

Imported from sitecustomize.py (prepare.sh writes it). MLflow 3.x imports OpenTelemetry at `import mlflow`
(tracing) and Debian 12 does not package it: every `opentelemetry.*` module that is not on disk becomes a
module whose attributes are inert placeholder classes, and `opentelemetry.trace.get_current_span()`
answers None (no span is ever active). The only real module is the trace protobuf that MLflow's
service.proto imports, compiled by prepare.sh from our minimal trace.proto. Also: Debian's cachetools 5.2
has `cached` but not `cachetools.func.cached`, which MLflow 3.x imports.
"""
import importlib.abc
import importlib.machinery
import sys
import types

_STUBBED = {"opentelemetry"}


class _AnyAttr(type):
    def __getattr__(cls, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _placeholder(name)


def _placeholder(name):
    return _AnyAttr(name, (object,), {"__init__": lambda self, *a, **k: None,
                                       "__call__": lambda self, *a, **k: None})


class _StubModule(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        value = _placeholder(name)
        setattr(self, name, value)
        return value


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path, target=None):
        if fullname.split(".")[0] not in _STUBBED:
            return None
        real = importlib.machinery.PathFinder.find_spec(fullname, path)
        if real is not None:
            return real
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec):
        module = _StubModule(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module):
        if module.__name__ == "opentelemetry.trace":
            module.get_current_span = lambda *a, **k: None


sys.meta_path.insert(0, _Finder())

import cachetools  # noqa: E402
import cachetools.func  # noqa: E402

if not hasattr(cachetools.func, "cached"):
    cachetools.func.cached = cachetools.cached
