from __future__ import annotations

import pytest

from portcheck.core.addresses import (
    family_of,
    local_address,
    port_number,
    remote_endpoint,
    split_colon,
    split_dot,
)
from portcheck.core.model import Family


@pytest.mark.parametrize(
    ("text", "host", "port"),
    [
        ("127.0.0.1:80", "127.0.0.1", "80"),
        ("[::1]:80", "::1", "80"),
        (":::80", "::", "80"),
        ("*:80", "*", "80"),
        ("0.0.0.0:*", "0.0.0.0", "*"),
        ("[::]:*", "::", "*"),
        ("127.0.0.53%lo:53", "127.0.0.53%lo", "53"),
        ("[fe80::1%eth0]:123", "fe80::1%eth0", "123"),
        ("::ffff:1.2.3.4:8080", "::ffff:1.2.3.4", "8080"),
        ("[::ffff:1.2.3.4]:8080", "::ffff:1.2.3.4", "8080"),
        ("localhost:ssh", "localhost", "ssh"),
        ("*:*", "*", "*"),
        ("noport", "noport", ""),
    ],
)
def test_split_colon(text: str, host: str, port: str) -> None:
    assert split_colon(text) == (host, port)


@pytest.mark.parametrize(
    ("text", "host", "port"),
    [
        ("127.0.0.1.8080", "127.0.0.1", "8080"),
        ("*.8080", "*", "8080"),
        ("*.*", "*", "*"),
        ("fe80::1%lo0.123", "fe80::1%lo0", "123"),
        ("::1.631", "::1", "631"),
    ],
)
def test_split_dot(text: str, host: str, port: str) -> None:
    assert split_dot(text) == (host, port)


def test_port_numbers_and_service_names() -> None:
    assert port_number("80") == 80
    assert port_number("ssh") == 22
    assert port_number("https") == 443
    assert port_number("domain", "udp") == 53
    assert port_number("http-alt") == 8080  # registered on several ports; services files say 8080
    assert port_number("*") is None
    assert port_number("no-such-service-name") is None
    assert port_number("70000") is None


def test_families() -> None:
    assert family_of("127.0.0.1") is Family.IPV4
    assert family_of("::1") is Family.IPV6
    assert family_of("::ffff:1.2.3.4") is Family.IPV6
    assert family_of("127.0.0.53%lo") is Family.IPV4
    assert family_of("localhost") is None
    assert family_of("*") is None


def test_wildcards() -> None:
    assert local_address("*", Family.IPV4) == "0.0.0.0"
    assert local_address("*", Family.IPV6) == "::"
    assert local_address("[::]", None) == "::"
    assert local_address("10.0.0.1", Family.IPV4) == "10.0.0.1"
    for host, port in [("*", "*"), ("0.0.0.0", "*"), ("::", "0"), ("0.0.0.0", "0"), ("*", "")]:
        assert remote_endpoint(host, port) == (None, None)
    assert remote_endpoint("10.0.0.1", "443") == ("10.0.0.1", 443)
