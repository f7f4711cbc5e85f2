# The types of the names portcheck/__init__.py re-exports lazily (tests/api/test_api_docs.py checks
# that both list the same names).
from portcheck.api.check import CheckResult as CheckResult, check as check
from portcheck.api.diff import diff as diff
from portcheck.api.ports import free_ports as free_ports, info as info
from portcheck.api.sockets import ParseResult as ParseResult, parse as parse, query as query
from portcheck.core.changes import Changes as Changes
from portcheck.core.errors import (
    InspectError as InspectError,
    ParseError as ParseError,
    PortcheckError,
    UsageError as UsageError,
)
from portcheck.core.exposure import Exposure as Exposure, exposure_of as exposure_of
from portcheck.core.model import (
    FIELDS as FIELDS,
    Family as Family,
    Proto as Proto,
    Socket as Socket,
    State as State,
)
from portcheck.meaning.freeports import FreePort as FreePort, FreePorts as FreePorts
from portcheck.meaning.records import PortReport as PortReport
from portcheck.output.plugin import PluginState as PluginState

Error = PortcheckError
__version__: str
__all__: list[str]
