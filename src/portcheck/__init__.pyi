# The types of the names portcheck/__init__.py re-exports lazily (tests/api/test_api_docs.py checks
# that both list the same names).
from portcheck.api.check import CheckResult as CheckResult
from portcheck.api.check import check as check
from portcheck.api.diff import diff as diff
from portcheck.api.ports import free_ports as free_ports
from portcheck.api.ports import info as info
from portcheck.api.sockets import ParseResult as ParseResult
from portcheck.api.sockets import parse as parse
from portcheck.api.sockets import query as query
from portcheck.core.changes import Changes as Changes
from portcheck.core.errors import InspectError as InspectError
from portcheck.core.errors import ParseError as ParseError
from portcheck.core.errors import PortcheckError
from portcheck.core.errors import UsageError as UsageError
from portcheck.core.exposure import Exposure as Exposure
from portcheck.core.exposure import exposure_of as exposure_of
from portcheck.core.model import FIELDS as FIELDS
from portcheck.core.model import Family as Family
from portcheck.core.model import Proto as Proto
from portcheck.core.model import Socket as Socket
from portcheck.core.model import State as State
from portcheck.meaning.freeports import FreePort as FreePort
from portcheck.meaning.freeports import FreePorts as FreePorts
from portcheck.meaning.records import PortReport as PortReport
from portcheck.output.plugin import PluginState as PluginState

Error = PortcheckError
__version__: str
__all__: list[str]
