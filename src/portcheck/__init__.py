"""portcheck: what is using this port? One normalised table from the tools every OS already has.

The Python API (docs/api.md): `portcheck.query(8080)`, `portcheck.parse(text)`, `portcheck.info(443)`,
`portcheck.check(443, process="nginx")`, `portcheck.free_ports(3)`, `portcheck.diff(saved)`, the record
`portcheck.Socket` and the exceptions `portcheck.Error` (UsageError, ParseError: bad input, the CLI's
exit 2; InspectError: the machine could not be inspected, exit 3).

Every name is imported on first use (the module `__getattr__` below): `import portcheck` costs what
the version string costs, which the CLI's start-up relies on. The names are imported by strings, not
import statements, so the package root that every submodule import runs depends on nothing; type
checkers read their types from `__init__.pyi` beside this file.
"""

__version__ = "0.1.0"

_API: dict[str, str] = {
    "query": "portcheck.api.sockets",
    "parse": "portcheck.api.sockets",
    "ParseResult": "portcheck.api.sockets",
    "info": "portcheck.api.ports",
    "PortReport": "portcheck.meaning.records",
    "free_ports": "portcheck.api.ports",
    "FreePorts": "portcheck.meaning.freeports",
    "FreePort": "portcheck.meaning.freeports",
    "check": "portcheck.api.check",
    "CheckResult": "portcheck.api.check",
    "PluginState": "portcheck.output.plugin",
    "diff": "portcheck.api.diff",
    "Changes": "portcheck.core.changes",
    "Socket": "portcheck.core.model",
    "Proto": "portcheck.core.model",
    "Family": "portcheck.core.model",
    "State": "portcheck.core.model",
    "FIELDS": "portcheck.core.model",
    "Exposure": "portcheck.core.exposure",
    "exposure_of": "portcheck.core.exposure",
    "UsageError": "portcheck.core.errors",
    "ParseError": "portcheck.core.errors",
    "InspectError": "portcheck.core.errors",
}
"""Public name -> the module that defines it."""
_ALIASES = {"Error": ("portcheck.core.errors", "PortcheckError")}
"""`portcheck.Error` is the base of every error portcheck raises (PortcheckError inside the package)."""

__all__ = [
    "FIELDS",
    "Changes",
    "CheckResult",
    "Error",
    "Exposure",
    "Family",
    "FreePort",
    "FreePorts",
    "InspectError",
    "ParseError",
    "ParseResult",
    "PluginState",
    "PortReport",
    "Proto",
    "Socket",
    "State",
    "UsageError",
    "__version__",
    "check",
    "diff",
    "exposure_of",
    "free_ports",
    "info",
    "parse",
    "query",
]


def __getattr__(name: str) -> object:
    module, attribute = _ALIASES.get(name, (_API.get(name, ""), name))
    if not module:
        raise AttributeError(f"module 'portcheck' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module), attribute)
    globals()[name] = value  # the next access is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
