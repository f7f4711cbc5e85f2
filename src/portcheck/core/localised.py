"""What localised Windows consoles print around the socket rows, in one place.

netstat, tasklist and the system messages are translated; the rows themselves are not (protocols,
addresses and, except in German and a few others, state words stay English). The parsers need these
strings to tell a header or a message from a line they do not understand, and the decoder needs the
non-ASCII ones to tell which code page a file was saved in (`Имя` in cp866, `ABHÖREN` in cp850).
State words live in states.py, the one table of state spellings.

Where a translation is uncertain, the parsers also accept the shape of the line (a multi-word line
after a `netstat -b` row is an "ownership unknown" message in whatever language), so a missing or
slightly different string costs nothing but a decoding hint.
"""

from __future__ import annotations

# "Active Connections", the title netstat prints before its header.
NETSTAT_TITLES: tuple[str, ...] = (
    "Active Connections",
    "Aktive Verbindungen",  # de
    "Connexions actives",  # fr
    "Conexiones activas",  # es
    "Connessioni attive",  # it
    "Conexões ativas",  # pt-BR
    "Ligações ativas",  # pt-PT
    "Actieve verbindingen",  # nl
    "Aktywne połączenia",  # pl
    "Активные подключения",  # ru
    "活动连接",  # zh-CN
    "使用中連線",  # zh-TW
    "アクティブな接続",  # ja
    "활성 연결",  # ko
)

# The title of netstat's first column ("Proto"): the header line starts with one of these.
NETSTAT_PROTO_HEADERS: tuple[str, ...] = (
    "Proto",
    "Protokół",
    "Protokoll",
    "Имя",
    "协议",
    "協定",
    "プロトコル",
    "프로토콜",
)

# The other column titles, for decoding hints only (the parser recognises a header by its first word).
NETSTAT_COLUMN_TITLES: tuple[str, ...] = (
    "Lokale Adresse", "Remoteadresse",  # de
    "Adresse locale", "Adresse distante", "État",  # fr
    "Dirección local", "Dirección remota",  # es
    "Indirizzo locale", "Indirizzo esterno",  # it
    "Endereço local", "Endereço externo",  # pt
    "Lokaal adres", "Extern adres",  # nl
    "Adres lokalny", "Obcy adres",  # pl
    "Локальный адрес", "Внешний адрес", "Состояние",  # ru
    "本地地址", "外部地址", "状态",  # zh-CN
    "ローカル アドレス", "外部アドレス", "状態",  # ja
    "로컬 주소", "외부 주소", "상태",  # ko
)  # fmt: skip

# `netstat -b` when the owning process cannot be named (System, protected services).
OWNERSHIP_UNKNOWN: tuple[str, ...] = (
    "Can not obtain ownership information",
    "Es konnten keine Besitzerinformationen abgerufen werden.",  # de
    "Besitzerinformationen können nicht abgerufen werden.",  # de, other builds
    "Impossible d’obtenir les informations de propriétaire",  # fr
    "Impossible d'obtenir les informations de propriétaire",  # fr, plain apostrophe
    "No se puede obtener información de propiedad",  # es
    "Impossibile ottenere informazioni sulla proprietà",  # it
    "Não é possível obter informações de propriedade",  # pt
    "Kan geen eigendomsgegevens verkrijgen",  # nl
    "Nie można uzyskać informacji o własności",  # pl
    "Не удается получить сведения о владельце",  # ru
    "无法获取所有权信息",  # zh-CN
    "所有者情報を取得できません",  # ja
    "소유권 정보를 가져올 수 없습니다",  # ko
)

# ERROR_ELEVATION_REQUIRED (740), which `netstat -b` prints instead of a table without admin rights.
ELEVATION_REQUIRED: tuple[str, ...] = (
    "The requested operation requires elevation.",
    "Der angeforderte Vorgang erfordert erhöhte Rechte.",  # de
    "L’opération demandée nécessite une élévation.",  # fr
    "La operación solicitada requiere elevación.",  # es
    "L'operazione richiesta richiede elevazione.",  # it
    "A operação solicitada requer elevação.",  # pt
    "Voor de aangevraagde bewerking zijn verhoogde bevoegdheden vereist.",  # nl
    "Żądana operacja wymaga podniesienia uprawnień.",  # pl
    "Запрошенная операция требует повышения.",  # ru
    "请求的操作需要提升。",  # zh-CN
    "要求された操作には管理者特権が必要です。",  # ja
    "요청한 작업을 수행하려면 권한 상승이 필요합니다.",  # ko
)

# Fragments that identify the elevation message even when a wrong code page mangled its accents.
ELEVATION_MARKERS: tuple[str, ...] = (
    "requires elevation",
    "erfordert erh",
    "cessite une ",
    "requiere elevaci",
    "richiede elevazione",
    "requer eleva",
    "verhoogde bevoegdheden",
    "wymaga podniesienia",
    "требует повышения",
    "需要提升",
    "管理者特権が必要",
    "권한 상승",
)

# tasklist's column titles (table and CSV) in the languages above, for decoding hints.
TASKLIST_TITLES: tuple[str, ...] = (
    "Image Name", "Abbildname", "Nom de l’image", "Nombre de imagen", "Nome immagine", "Nome da imagem",
    "Installatiekopie", "Nazwa obrazu", "Имя образа", "映像名称", "イメージ名", "이미지 이름",
    "Sitzungsname", "Numéro de session", "Nombre de sesión", "Utilisation", "Имя сессии", "Память",
    "会话名", "内存使用", "セッション名", "メモリ使用量", "세션 이름", "메모리 사용",
)  # fmt: skip

# Localised words that only appear correctly in the right code page (the German state words are here
# because states.py also lists their mangled forms, which must not reward a wrong decoding). Single
# words rather than whole phrases, so that a partly different translation still gives a hint.
DECODING_HINTS: tuple[str, ...] = tuple(
    sorted(
        {
            word.strip(".。,")
            for group in (
                NETSTAT_TITLES,
                NETSTAT_PROTO_HEADERS,
                NETSTAT_COLUMN_TITLES,
                OWNERSHIP_UNKNOWN,
                ELEVATION_REQUIRED,
                TASKLIST_TITLES,
                ("ABHÖREN", "TCB_LÖSCHEN", "SCHLIEßEN_WARTEN", "NASŁUCHIWANIE", "NAWIĄZANE"),
            )
            for phrase in group
            for word in phrase.split()
            if not word.isascii() and len(word) > 1
        }
    )
)
