"""`Get-Process` output names the OwningProcess PIDs of PowerShell and netstat rows pasted with it, in
every layout PowerShell has printed it (written from the format data, see tests/fixtures/windows)."""

from __future__ import annotations

import pytest

from portcheck.api.sockets import parse
from portcheck.parsers.windows import powershell

CONNECTIONS = """
LocalAddress LocalPort RemoteAddress RemotePort State  OwningProcess
------------ --------- ------------- ---------- -----  -------------
0.0.0.0           8080 0.0.0.0                0 Listen          7212
"""

LAYOUTS = {
    "5.1": """
Handles  NPM(K)    PM(K)      WS(K)     CPU(s)     Id  SI ProcessName
-------  ------    -----      -----     ------     --  -- -----------
    412      27    61480      72360       3.45   7212   1 node
""",
    "7": """
 NPM(M)    PM(M)      WS(M)     CPU(s)      Id  SI ProcessName
 ------    -----      -----     ------      --  -- -----------
     27    60.04      70.66       3.45    7212   1 node
""",
    "2 to 4": """
Handles  NPM(K)    PM(K)      WS(K) VM(M)   CPU(s)     Id ProcessName
-------  ------    -----      ----- -----   ------     -- -----------
    412      27    61480      72360   612     3.45   7212 node
""",
    "Select-Object": """
   Id ProcessName
   -- -----------
 7212 node
""",
    "Format-List": """
Id      : 7212
Handles : 412
CPU     : 3.453125
SI      : 1
Name    : node
""",
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("process_first", [False, True], ids=["after", "before"])
def test_get_process_names_the_connections_pid(layout: str, process_first: bool) -> None:
    parts = [LAYOUTS[layout], CONNECTIONS] if process_first else [CONNECTIONS, LAYOUTS[layout]]
    result = parse("\n".join(parts))
    assert [(r.local_port, r.pid, r.process) for r in result.rows] == [(8080, 7212, "node")]
    assert result.skipped == 0, result.first_skipped


def test_get_process_names_windows_netstat_rows() -> None:
    netstat = "  TCP    0.0.0.0:8080           0.0.0.0:0              LISTENING       7212\n"
    result = parse(netstat + LAYOUTS["5.1"])
    assert [(r.local_port, r.pid, r.process) for r in result.rows] == [(8080, 7212, "node")]
    assert result.skipped == 0, result.first_skipped


def test_a_name_cut_by_the_console_is_said() -> None:
    cut = LAYOUTS["5.1"].replace(" node", " MicrosoftEdgeUpd...")
    result = parse(CONNECTIONS + cut)
    assert [r.process for r in result.rows] == ["MicrosoftEdgeUpd..."]
    assert powershell.TRUNCATED_HINT in result.notes.messages


def test_a_process_table_is_no_connection_table() -> None:
    """Its Id column is no port and it says nothing about OwningProcess being cut off."""
    result = parse(LAYOUTS["5.1"])
    assert result.rows == []
    assert powershell.CUT_HINT not in result.notes.messages
