"""Exposure of a listener from its bound address, for every notation the sources print."""

from __future__ import annotations

import pytest

from portcheck.core.exposure import Exposure, exposure_of, is_exposed

CASES = [
    ("127.0.0.1", Exposure.LOOPBACK),
    ("127.0.0.53", Exposure.LOOPBACK),
    ("127.255.255.254", Exposure.LOOPBACK),
    ("127.0.0.53%lo", Exposure.LOOPBACK),  # ss: bound to a device
    ("::1", Exposure.LOOPBACK),
    ("[::1]", Exposure.LOOPBACK),
    ("0:0:0:0:0:0:0:1", Exposure.LOOPBACK),
    ("::ffff:127.0.0.1", Exposure.LOOPBACK),
    ("localhost", Exposure.LOOPBACK),
    ("LOCALHOST", Exposure.LOOPBACK),
    ("0.0.0.0", Exposure.ALL),
    ("::", Exposure.ALL),
    ("[::]", Exposure.ALL),
    ("*", Exposure.ALL),
    ("::ffff:0.0.0.0", Exposure.ALL),
    ("192.168.1.5", Exposure.SPECIFIC),
    ("10.0.0.1%eth0", Exposure.SPECIFIC),
    ("fe80::1%eth0", Exposure.SPECIFIC),  # zone-scoped link-local: one link, but other machines
    ("fe80::1%lo0", Exposure.SPECIFIC),
    ("2001:db8::1", Exposure.SPECIFIC),
    ("::ffff:192.0.2.1", Exposure.SPECIFIC),
    ("web1.example.com", Exposure.SPECIFIC),  # a name printed by a tool run without -n
    ("128.0.0.1", Exposure.SPECIFIC),
    ("126.255.255.255", Exposure.SPECIFIC),
]


@pytest.mark.parametrize(("address", "expected"), CASES)
def test_exposure_of_each_notation(address: str, expected: Exposure) -> None:
    assert exposure_of(address) is expected


@pytest.mark.parametrize("address", ["?", "", None])
def test_an_unknown_address_has_no_exposure_and_counts_as_exposed(address: str | None) -> None:
    """fuser shows no address: --exposed keeps what it cannot rule out."""
    assert exposure_of(address) is None
    assert is_exposed(address)


def test_loopback_is_the_only_unexposed_kind() -> None:
    assert [is_exposed(a) for a in ("127.0.0.1", "0.0.0.0", "192.168.1.5")] == [False, True, True]
