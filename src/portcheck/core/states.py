"""Every spelling of a socket state that a native tool prints, in one table.

Tools disagree on spelling (`ESTAB`, `ESTABLISHED`, `Established`, `HERGESTELLT`), separators
(`FIN-WAIT-1`, `FIN_WAIT_1`, `FinWait1`) and case, so words are looked up by a key with case and
separators removed. Localised words come from real Windows consoles and translated net-tools; words
mangled by a wrong code page (German `ABHÖREN` written in cp850 and read as cp1252 is `ABH™REN`) are
listed as they arrive, because the decoder cannot always know which code page the sender used.
"""

from __future__ import annotations

from portcheck.core.model import State

# fmt: off
_WORDS: dict[State, tuple[str, ...]] = {
    State.LISTEN: (
        "LISTEN", "LISTENING", "LISTENER",
        # Windows, German and its code-page manglings
        "ABHÖREN", "ABHOEREN", "ABH™REN", "ABH\x99REN", "ABHÃ–REN", "ABH\u2122REN", "ABH?REN", "ABHREN",
        "ABH\ufffdREN",
        # cp1252 `Ö` (0xD6) read as cp850 / cp437, and UTF-8 `Ö` read as cp850 / cp437
        "ABHÍREN", "ABH╓REN", "ABH├ûREN", "ABH├ÖREN",
        # net-tools translations
        "HÖREN", "OUÇA", "OUCA", "ESCUCHAR", "ESCUCHANDO", "ÉCOUTE", "ECOUTE", "IN_ASCOLTO", "ASCOLTO",
        "NASŁUCHIWANIE", "NASLUCHIWANIE", "ПРОСЛУШИВАНИЕ", "LUISTEREN", "AANHET_LUISTEREN",
        # net-tools' own catalogues (pt_BR, cs, de): LISTEN, and LISTENING of its UNIX sockets
        "OUVINDO", "NASLOUCHÁ", "NASLOUCHA", "HÖRT", "HOERT",
        "ESCUTANDO",  # Windows, pt-BR (as Spanish Windows prints ESCUCHANDO)
        "侦听", "監聽", "待ち受け", "수신_대기",
    ),
    State.ESTABLISHED: (
        "ESTAB", "ESTABLISHED", "HERGESTELLT", "VERBUNDEN", "ESTABELECIDA", "ESTABELECIDO",
        "ESTABLECIDO", "ESTABLECIDA", "ÉTABLI", "ETABLI", "ÉTABLIE", "ETABLIE", "STABILITO", "STABILITA",
        "NAWIĄZANE", "NAWIAZANE", "УСТАНОВЛЕНО", "TOT_STAND_GEBRACHT", "已建立", "確立", "연결됨",
        "SPOJENO",  # net-tools, Czech
    ),
    State.SYN_SENT: ("SYN_SENT", "SYN_GESENDET", "SYN_ENVIADO", "SYN_ENVOYÉ", "SYN_ENVOYE", "SYN_INVIATO"),
    State.SYN_RECV: (
        "SYN_RECV", "SYN_RCVD", "SYN_RECEIVED", "SYN_EMPFANGEN", "SYN_RECEBIDO", "SYN_RECIBIDO",
        "SYN_REÇU", "SYN_RECU", "SYN_RICEVUTO",
    ),
    State.FIN_WAIT1: (
        "FIN_WAIT1", "FIN_WAIT_1", "FIN_WARTEN_1", "FIN_WARTEN1", "FIN_ESPERA_1", "ESPERA_FIN1",
    ),
    State.FIN_WAIT2: (
        "FIN_WAIT2", "FIN_WAIT_2", "FIN_WARTEN_2", "FIN_WARTEN2", "FIN_ESPERA_2", "ESPERA_FIN2",
    ),
    State.TIME_WAIT: (
        "TIME_WAIT", "TIMEWAIT", "WARTEND", "ZEIT_WARTEN", "ESPERANDO", "ESPERA_TEMPO", "TEMPS_ATTENTE",
        "ATTESA_TEMPO", "TEMPO_ESPERA",  # Windows pt-BR
    ),
    State.CLOSE: (
        "CLOSE", "CLOSED", "GESCHLOSSEN", "FECHADO", "CERRADO", "FERMÉ", "FERME", "CHIUSO",
        "FECHAR", "ZAVŘEN", "ZAVREN",  # net-tools pt_BR and cs
    ),
    State.CLOSE_WAIT: (
        "CLOSE_WAIT", "SCHLIESSEN_WARTEN", "SCHLIEßEN_WARTEN", "SCHLIESSENWARTEN", "ESPERANDO_CIERRE",
        "ESPERANDO_FECHAR", "ATTENTE_FERMETURE", "ATTESA_CHIUSURA",
    ),
    State.LAST_ACK: (
        "LAST_ACK", "LETZTES_ACK", "ÚLTIMO_ACK", "ULTIMO_ACK", "DERNIER_ACK",
        "POSLEDNÍ ACK", "POSLEDNI ACK",  # net-tools cs: two words, the netstat parser joins them
    ),
    State.CLOSING: (
        "CLOSING", "SCHLIESSEND", "SCHLIEßEND", "CERRANDO", "FECHANDO", "FERMETURE", "CHIUSURA",
        "ZAVÍRÁ", "ZAVIRA",
    ),
    State.DELETE_TCB: ("DELETE_TCB", "DELETETCB", "TCB_LÖSCHEN", "TCB_LOESCHEN", "TCB_L™SCHEN"),
    State.BOUND: ("BOUND", "GEBUNDEN", "ASSOCIADO", "ENLAZADO", "LIÉ", "LIE"),
    # UDP and raw sockets with no connection: ss says UNCONN, lsof on macOS says nothing, net-tools an
    # empty column, /proc code 07 (TCP_CLOSE) is also how the kernel reports an unconnected UDP socket.
    State.NONE: ("UNCONN", "NONE", "IDLE", "UNBOUND"),
    # The tool itself says it does not know (net-tools prints its translation of UNKNOWN): no warning.
    State.UNKNOWN: ("UNKNOWN", "DESCONHECIDA", "UNBEKANNT", "INCONNU", "NEZNÁM", "TUNDMATU", "不明"),
}
# fmt: on


def word_key(word: str) -> str:
    """Case and separators removed: `FIN-WAIT-1`, `FIN_WAIT_1` and `FinWait1` share the key `FINWAIT1`."""
    return word.upper().replace("-", "").replace("_", "").replace(" ", "")


STATE_BY_KEY: dict[str, State] = {word_key(w): state for state, words in _WORDS.items() for w in words}


def _spellings(word: str) -> tuple[str, ...]:
    """The word as listed, with hyphens (ss: `TIME-WAIT`) and in CamelCase (PowerShell: `TimeWait`)."""
    camel = "".join(part.capitalize() for part in word.split("_"))
    return (word, word.replace("_", "-"), camel)


STATE_BY_WORD: dict[str, State] = {
    spelling: state for state, words in _WORDS.items() for word in words for spelling in _spellings(word)
}
"""Exact spellings first (the hot path: one dict lookup), keys as the fallback."""


def lookup_state(word: str) -> State | None:
    """The canonical state for a tool's word, or None when the word is not known."""
    state = STATE_BY_WORD.get(word)
    if state is None:
        state = STATE_BY_KEY.get(word_key(word.strip("()")))
    return state
