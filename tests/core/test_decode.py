"""decode.text_lines: every encoding a Windows user really sends, every line ending, never a crash."""

from __future__ import annotations

import codecs
import io
import os

import pytest

from portcheck.core.decode import LONG_LINE, MAX_LINE, choose_encoding, split_lines, text_lines
from portcheck.core.errors import ParseError

GERMAN = (
    "\r\nAktive Verbindungen\r\n\r\n"
    "  Proto  Lokale Adresse         Remoteadresse          Status           PID\r\n"
    "  TCP    0.0.0.0:135            0.0.0.0:0              ABHÖREN         1040\r\n"
    "  TCP    10.0.0.5:52044         52.113.194.132:443     HERGESTELLT     14460\r\n"
)
GERMAN_LINES = [
    "",
    "Aktive Verbindungen",
    "",
    "  Proto  Lokale Adresse         Remoteadresse          Status           PID",
    "  TCP    0.0.0.0:135            0.0.0.0:0              ABHÖREN         1040",
    "  TCP    10.0.0.5:52044         52.113.194.132:443     HERGESTELLT     14460",
]


def decode(data: bytes) -> tuple[str, list[str]]:
    label, lines = text_lines(io.BytesIO(data))
    return label, list(lines)


@pytest.mark.parametrize(
    ("data", "label"),
    [
        (codecs.BOM_UTF16_LE + GERMAN.encode("utf-16-le"), "utf-16-le with BOM"),
        (codecs.BOM_UTF16_BE + GERMAN.encode("utf-16-be"), "utf-16-be with BOM"),
        (GERMAN.encode("utf-16-le"), "utf-16-le"),
        (GERMAN.encode("utf-16-be"), "utf-16-be"),
        (codecs.BOM_UTF8 + GERMAN.encode("utf-8"), "utf-8 with BOM"),
        (GERMAN.encode("utf-8"), "utf-8"),
        (GERMAN.encode("cp850"), "cp850"),
    ],
    ids=["utf16le-bom", "utf16be-bom", "utf16le", "utf16be", "utf8-bom", "utf8", "cp850"],
)
def test_unicode_forms_and_the_german_console(data: bytes, label: str) -> None:
    assert decode(data) == (label, GERMAN_LINES)


def test_cp850_abhoeren_is_byte_0x99() -> None:
    assert "ABHÖREN".encode("cp850") == b"ABH\x99REN"
    assert decode(b"  TCP    0.0.0.0:135    0.0.0.0:0    ABH\x99REN    1040\r\n")[1][0].endswith(
        "ABHÖREN    1040"
    )


@pytest.mark.parametrize(
    ("text", "encoding", "chosen"),
    [
        (
            "Connexions actives\r\n  Proto  Adresse locale    Adresse distante    État    PID\r\n",
            "cp850",
            "cp850",
        ),
        (" Impossible d’obtenir les informations de propriétaire\r\n", "cp1252", "cp1252"),
        (" No se puede obtener información de propiedad\r\n", "cp850", "cp850"),
        ("Aktywne połączenia\r\n  Protokół  Adres lokalny   Obcy adres   Stan   PID\r\n", "cp852", "cp852"),
        (
            "Активные подключения\r\n  Имя    Локальный адрес   Внешний адрес   Состояние   PID\r\n",
            "cp866",
            "cp866",
        ),
        (
            "Активные подключения\r\n  Имя    Локальный адрес   Внешний адрес   Состояние   PID\r\n",
            "cp1251",
            "cp1251",
        ),
        ("活动连接\r\n\r\n  协议  本地地址          外部地址        状态           PID\r\n", "gbk", "gbk"),
        (
            "アクティブな接続\r\n\r\n  プロトコル  ローカル アドレス      外部アドレス   状態   PID\r\n",
            "cp932",
            "cp932",
        ),
        (
            "활성 연결\r\n\r\n  프로토콜  로컬 주소              외부 주소      상태    PID\r\n",
            "cp949",
            "cp949",
        ),
        (
            "Image Name                     PID\r\nsvchost.exe    1040 Services   0   14.512 K\r\n",
            "cp1252",
            "utf-8",
        ),
    ],
    ids=["fr-cp850", "fr-cp1252", "es-cp850", "pl-cp852", "ru-cp866", "ru-cp1251", "zh", "ja", "ko", "ascii"],
)
def test_code_page_is_chosen_by_what_reads_right(text: str, encoding: str, chosen: str) -> None:
    label, lines = decode(text.encode(encoding))
    assert label == chosen
    assert lines == text.split("\r\n")[:-1]


def test_cp437_text_reads_the_same_as_cp850() -> None:
    """cp437 and cp850 agree on the German and French letters; either choice gives the right text."""
    text = "  TCP    0.0.0.0:135    0.0.0.0:0    ABHÖREN    1040\r\n"
    assert decode(text.encode("cp437"))[1] == [text.rstrip()]


@pytest.mark.parametrize("newline", ["\r\n", "\n", "\r", "\r\r\n"])
def test_line_endings(newline: str) -> None:
    _, lines = decode(newline.join(["a", "b", "c"]).encode())
    assert [line for line in lines if line] == ["a", "b", "c"]


def test_crlf_split_across_chunks_gives_no_blank_line() -> None:
    _, lines = decode(b"x" * (64 * 1024 - 1) + b"\r\nnext\r\n")
    assert lines == ["x" * (64 * 1024 - 1), "next"]


def test_trailing_nuls_are_dropped() -> None:
    assert decode(b"  TCP    0.0.0.0:80    0.0.0.0:0    LISTENING    4\r\n\x00\x00\x00\x00")[1] == [
        "  TCP    0.0.0.0:80    0.0.0.0:0    LISTENING    4"
    ]
    assert decode(b"line\x00\x00\n")[1] == ["line"]


def test_an_overlong_line_becomes_a_marker_without_being_held() -> None:
    pieces = iter(["start\n", *(["y" * 50_000] * 40), "\nafter\n"])
    assert list(split_lines(pieces)) == ["start", LONG_LINE, "after"]
    _, lines = decode(b"z" * (MAX_LINE + 10) + b"\nok")
    assert lines == [LONG_LINE, "ok"]
    _, lines = decode(b"ok\n" + b"z" * (MAX_LINE * 3))
    assert lines == ["ok", LONG_LINE]


def test_empty_input() -> None:
    assert decode(b"") == ("utf-8", [])


def test_utf8_cut_at_the_end_of_the_first_chunk_stays_utf8() -> None:
    data = ("é" * (64 * 1024)).encode()  # the first chunk ends inside a two-byte character
    assert choose_encoding(data[: 64 * 1024 + 1])[0] == "utf-8"
    assert decode(data)[1] == ["é" * (64 * 1024)]


@pytest.mark.parametrize("seed", range(20))
def test_random_bytes_are_refused_or_read_never_crash(seed: int) -> None:
    data = os.urandom(1 + seed * 997)
    try:
        label, lines = text_lines(io.BytesIO(data))
    except ParseError as error:
        assert str(error).startswith("binary data, not text: ")
        return
    assert isinstance(label, str)
    assert all(isinstance(line, str) and "\n" not in line for line in lines)
