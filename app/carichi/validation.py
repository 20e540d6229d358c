"""Row validation of the import flows: the hot loop of an import (architecture.md, "Measured here").

Pure Python, no database and no Flask: it runs in worker processes over chunks of the file (see
`process_chunk`). A row becomes either a *stage row* (the normalised values, in `STAGE_COLUMNS[flow]` order,
as strings ready for PostgreSQL's COPY text format) or a list of errors `(line, column, reason, value)` with
an Italian reason. The rules are formats.md §1 (lista di carico) and docs/formats/variazioni.md (variation
flows).

Speed: the codice fiscale check is done with translation tables (`fast_codice_fiscale`); anything the fast
path does not accept goes through `app.taxpayers.identifiers.validate_codice_fiscale` (python-stdnum), which
is the authority and gives the Italian message. The fast path accepts a subset of what stdnum accepts (tests
prove it on generated codes).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from app.taxpayers.identifiers import InvalidIdentifier, search_key, validate_codice_fiscale

# --- the fields of each flow ------------------------------------------------------------------------------

CARICO_FIELDS = (
    "id_posizione",
    "codice_fiscale",
    "tipo_soggetto",
    "cognome",
    "nome",
    "ragione_sociale",
    "data_nascita",
    "comune_nascita",
    "indirizzo",
    "cap",
    "comune",
    "provincia",
    "pec",
    "email",
    "telefono",
    "anno_riferimento",
    "codice_entrata",
    "descrizione",
    "riferimento",
    "capitale",
    "sanzioni",
    "interessi",
    "spese",
    "data_scadenza",
    "data_notifica",
)
ANAGRAFICA_FIELDS = ("codice_fiscale", "indirizzo", "cap", "comune", "provincia", "pec", "data_decesso")
VARIAZIONI_FIELDS = (
    "codice_entrata",
    "id_posizione",
    "operazione",
    "componente",
    "importo",
    "data",
    "motivo",
)
FIELDS: dict[str, tuple[str, ...]] = {
    "carico": CARICO_FIELDS,
    "anagrafica": ANAGRAFICA_FIELDS,
    "variazioni": VARIAZIONI_FIELDS,
}
# Fields whose column a file (or a layout) must have. codice_entrata may be left out of a layout: the entrata
# chosen for the import (or the layout's default) is then used.
REQUIRED_COLUMNS: dict[str, frozenset[str]] = {
    "carico": frozenset(
        {
            "id_posizione",
            "codice_fiscale",
            "indirizzo",
            "cap",
            "comune",
            "provincia",
            "anno_riferimento",
            "codice_entrata",
            "capitale",
            "data_scadenza",
        }
    ),
    "anagrafica": frozenset({"codice_fiscale"}),
    "variazioni": frozenset({"codice_entrata", "id_posizione", "operazione", "data", "motivo"}),
}
OPTIONAL_IN_LAYOUT = frozenset({"codice_entrata"})

STAGE_COLUMNS: dict[str, tuple[str, ...]] = {
    "carico": (
        "line",
        "id_posizione",
        "codice_fiscale",
        "kind",
        "surname",
        "given_name",
        "company_name",
        "search_name",
        "birth_date",
        "birth_place",
        "street",
        "cap",
        "comune",
        "provincia",
        "pec",
        "email",
        "telefono",
        "year",
        "entrata_id",
        "description",
        "reference",
        "capitale",
        "sanzioni",
        "interessi",
        "spese",
        "due_date",
        "notified_date",
    ),
    "anagrafica": ("line", "codice_fiscale", "street", "cap", "comune", "provincia", "pec", "deceased_date"),
    "variazioni": (
        "line",
        "entrata_id",
        "id_posizione",
        "operation",
        "component",
        "amount_cents",
        "value_date",
        "reason",
    ),
}
OPERATIONS = ("sgravio", "sospensione", "revoca_sospensione")
COMPONENTS = ("capitale", "sanzioni", "interessi", "spese", "oneri")

DATE_FORMATS = {
    "AAAA-MM-GG": "2024-01-31",
    "GG/MM/AAAA": "31/01/2024",
    "AAAAMMGG": "20240131",
    "GGMMAAAA": "31012024",
    "GG-MM-AAAA": "31-01-2024",
    "GG.MM.AAAA": "31.01.2024",
}
DECIMAL_MODES = {
    "auto": "virgola o punto decimale, senza separatore delle migliaia",
    ",": "virgola decimale (il punto è ammesso come separatore delle migliaia)",
    ".": "punto decimale (la virgola è ammessa come separatore delle migliaia)",
    "cents": "centesimi interi senza separatore (es. 0000012345 = 123,45 euro)",
}
MAX_CENTS = 99_999_999_999  # 999.999.999,99 euro
MAX_LENGTH = {
    "id_posizione": 60,
    "cognome": 120,
    "nome": 120,
    "ragione_sociale": 250,
    "comune_nascita": 120,
    "indirizzo": 250,
    "comune": 120,
    "pec": 250,
    "email": 250,
    "descrizione": 250,
    "riferimento": 60,
    "motivo": 200,
}

MISSING = "campo obbligatorio mancante"


class RowError(ValueError):
    """One field of a row is wrong: `column` is the canonical field, `reason` Italian."""

    def __init__(self, column: str, reason: str, value: str | None = None) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason
        self.value = value


# --- codice fiscale, fast path ----------------------------------------------------------------------------

_ODD = [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23]


def _table(pairs: dict[str, int]) -> bytes:
    table = bytearray(256)
    for char, value in pairs.items():
        table[ord(char)] = value
    return bytes(table)


_ODD_TABLE = _table({**{str(n): _ODD[n] for n in range(10)}, **{chr(65 + n): _ODD[n] for n in range(26)}})
_EVEN_TABLE = _table({**{str(n): n for n in range(10)}, **{chr(65 + n): n for n in range(26)}})
_OMOCODIA = str.maketrans("LMNPQRSTUV", "0123456789")
_MONTHS = {c: n + 1 for n, c in enumerate("ABCDEHLMPRST")}
_CF_RE = re.compile(
    r"[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]\Z"
)
_DIGIT_TABLE = _table({str(n): n for n in range(10)})
_DOUBLE_TABLE = _table({str(n): (2 * n if n < 5 else 2 * n - 9) for n in range(10)})
_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def fast_codice_fiscale(code: str) -> bool:
    """True only for a code python-stdnum accepts unchanged (upper case, compact); False: "ask stdnum"."""
    if len(code) == 16:
        if not _CF_RE.match(code):
            return False
        raw = code.encode("ascii")
        total = sum(raw[0:15:2].translate(_ODD_TABLE)) + sum(raw[1:15:2].translate(_EVEN_TABLE))
        if total % 26 + 65 != raw[15]:
            return False
        day = int(code[9:11].translate(_OMOCODIA)) % 40
        month = _MONTHS[code[8]]
        if day < 1:
            return False
        if day > _DAYS[month - 1]:
            if month != 2 or day != 29:
                return False
            year = int(code[6:8].translate(_OMOCODIA)) + 1900
            if year < 1920:
                year += 100
            return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        return True
    if len(code) == 11:
        if not (code.isascii() and code.isdigit()) or code[:7] == "0000000":
            return False
        province = code[7:10]
        if not ("001" <= province <= "100" or province in ("120", "121", "888", "999")):
            return False
        raw = code.encode("ascii")
        return (
            sum(raw[0:11:2].translate(_DIGIT_TABLE)) + sum(raw[1:11:2].translate(_DOUBLE_TABLE))
        ) % 10 == 0
    return False


def check_codice_fiscale(value: str) -> str:
    """The compact, valid code or RowError with stdnum's Italian message (omocodia accepted)."""
    if fast_codice_fiscale(value):
        return value
    try:
        return validate_codice_fiscale(value)
    except InvalidIdentifier as exc:
        raise RowError("codice_fiscale", str(exc), value) from None


# --- values -----------------------------------------------------------------------------------------------


def _date_parser(fmt: str) -> Callable[[str], tuple[int, int, int] | None]:
    def parse(s: str) -> tuple[int, int, int] | None:
        if fmt == "AAAA-MM-GG":
            if len(s) == 10 and s[4] == "-" and s[7] == "-":
                y, m, d = s[0:4], s[5:7], s[8:10]
            else:
                return None
        elif fmt in ("GG/MM/AAAA", "GG-MM-AAAA", "GG.MM.AAAA"):
            sep = fmt[2]
            if len(s) == 10 and s[2] == sep and s[5] == sep:
                d, m, y = s[0:2], s[3:5], s[6:10]
            else:
                return None
        elif fmt == "AAAAMMGG":
            if len(s) != 8:
                return None
            y, m, d = s[0:4], s[4:6], s[6:8]
        elif fmt == "GGMMAAAA":
            if len(s) != 8:
                return None
            d, m, y = s[0:2], s[2:4], s[4:8]
        else:  # pragma: no cover - layouts are checked on save
            raise ValueError(fmt)
        if not (y.isdigit() and m.isdigit() and d.isdigit() and y.isascii() and m.isascii() and d.isascii()):
            return None
        return int(y), int(m), int(d)

    return parse


@dataclass(frozen=True, slots=True)
class Formats:
    """How values are written in one layout."""

    date_formats: tuple[str, ...] = ("AAAA-MM-GG", "GG/MM/AAAA")
    decimal: str = "auto"

    def parse_date(self, column: str, s: str) -> str:
        """`s` as an ISO date; RowError naming the expected formats, or saying the date does not exist."""
        for fmt in self.date_formats:
            if fmt == "AAAA-MM-GG" and len(s) == 10 and s[4] == "-" and s[7] == "-" and s.isascii():
                try:
                    dt.date.fromisoformat(s)
                    return s
                except ValueError:
                    pass
            parts = _PARSERS[fmt](s)
            if parts is None:
                continue
            y, m, d = parts
            try:
                return dt.date(y, m, d).isoformat()
            except ValueError:
                raise RowError(column, f"data inesistente ({s})", s) from None
        return _bad_date(column, s, self.date_formats)

    def parse_cents(self, column: str, s: str) -> int:
        """Euro amount to integer cents: >= 0, at most two decimals (formats.md: decimal `,` or `.`)."""
        if s.isdigit() and s.isascii():
            cents = int(s) if self.decimal == "cents" else int(s) * 100
        elif (
            len(s) > 3
            and s[-3] in ",."
            and self.decimal in ("auto", s[-3])
            and s.isascii()
            and s[:-3].isdigit()
            and s[-2:].isdigit()
        ):
            cents = int(s[:-3]) * 100 + int(s[-2:])
        else:
            cents = self._parse_decimal(column, s)
        if cents > MAX_CENTS:
            raise RowError(column, "importo fuori scala (massimo 999.999.999,99 euro)", s)
        return cents

    def _parse_decimal(self, column: str, s: str) -> int:
        if s.startswith("-"):
            raise RowError(column, "importo negativo: sono ammessi solo importi maggiori o uguali a zero", s)
        mode = self.decimal
        if mode == "cents":
            raise RowError(column, "importo non valido: attesi centesimi interi senza separatori", s)
        text = s.replace(" ", "")
        if mode == "auto":
            if "," in text and "." in text:
                raise RowError(
                    column,
                    "importo non valido: separatore delle migliaia non ammesso (scrivere ad esempio 1234,56)",
                    s,
                )
            sep = "," if "," in text else "."
        else:
            sep = mode
            text = text.replace("." if sep == "," else ",", "")
        whole, found, frac = text.partition(sep)
        if not whole:
            whole = "0"
        if not (whole.isascii() and whole.isdigit()) or (found and not (frac.isascii() and frac.isdigit())):
            raise RowError(column, "importo non numerico", s)
        if len(frac) > 2:
            raise RowError(column, "importo con più di due decimali", s)
        return int(whole) * 100 + int(frac.ljust(2, "0") or "0")


def _bad_date(column: str, s: str, formats: Sequence[str]) -> str:
    expected = " o ".join(formats)
    raise RowError(column, f"data non valida: attesa nel formato {expected}", s)


_PARSERS = {fmt: _date_parser(fmt) for fmt in DATE_FORMATS}
_EMAIL_RE = re.compile(r"[^@\s;,<>]+@[^@\s;,<>]+\.[A-Za-z0-9-]{2,}\Z")
_PHONE_RE = re.compile(r"[0-9+()./ -]{3,30}\Z")


def _search_name(*parts: str) -> str:
    text = " ".join(p for p in parts if p)
    if text.isascii():
        return " ".join(text.split()).upper()
    return search_key(text)


# --- row context ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RowContext:
    """Everything a worker needs to validate rows of one import (picklable; built by the import service)."""

    flow: str
    formats: Formats
    labels: dict[str, str]  # canonical field -> how the file names it (column header, element, positions)
    entrate: dict[str, int]  # codici entrata of the ente -> id
    entrata_code: str | None  # the entrata chosen for the import (or the layout's default)
    ente_code: str
    year_min: int
    year_max: int
    today: str  # ISO date of the import
    mapped: frozenset[str] = field(default_factory=frozenset)  # canonical fields present in the file


def _err(ctx: RowContext, errors: list, line: int, column: str, reason: str, value: str | None) -> None:
    errors.append((line, ctx.labels.get(column, column), reason, None if value is None else value[:200]))


def _fast_cents(s: str, decimal: str) -> int:
    """Common amount shapes (1234, 1234,56, 1234.56) to cents; -1 when the full parser must decide."""
    if not s:
        return 0
    if s.isdigit() and s.isascii():
        cents = int(s) if decimal == "cents" else int(s) * 100
    elif (
        len(s) > 3
        and s[-3] in ",."
        and decimal in ("auto", s[-3])
        and s.isascii()
        and s[:-3].isdigit()
        and s[-2:].isdigit()
    ):
        cents = int(s[:-3]) * 100 + int(s[-2:])
    else:
        return -1
    return cents if cents <= MAX_CENTS else -1


def _too_long(
    cognome: str, nome: str, rs: str, cnasc: str, ind: str, comune: str, descr: str, rif: str
) -> bool:
    """Whether a free-text field of a carico row is longer than its MAX_LENGTH (the limits written out: the
    fast path asks it of every row)."""
    return (
        len(cognome) > 120
        or len(nome) > 120
        or len(rs) > 250
        or len(cnasc) > 120
        or len(ind) > 250
        or len(comune) > 120
        or len(descr) > 250
        or len(rif) > 60
    )


def fast_carico(v: Sequence[str], line: int, ctx: RowContext) -> list[str] | None:
    """The common, clean row, checked with few operations; None means "let `validate_carico` decide".

    Whatever this accepts, `validate_carico` accepts with the same stage row (tests check it on generated and
    mutated rows): it is a shortcut, not a second set of rules."""
    (
        idp,
        cf,
        tipo,
        cognome,
        nome,
        rs,
        dnasc,
        cnasc,
        ind,
        cap,
        comune,
        prov,
        pec,
        email,
        tel,
        anno,
        centr,
        descr,
        rif,
        c0,
        c1,
        c2,
        c3,
        dscad,
        dnot,
    ) = v
    if not idp or len(idp) > 60 or not fast_codice_fiscale(cf):
        return None
    if len(cf) == 16:
        if not cognome or not nome or rs or (tipo and tipo != "PF"):
            return None
        kind = "PF"
        search = f"{cognome} {nome}"
        if not search.isascii() or "  " in search or search != search.upper():
            search = _search_name(cognome, nome)
    else:
        if not rs or cognome or nome or (tipo and tipo != "PG"):
            return None
        kind = "PG"
        search = _search_name(rs)
    if (
        _too_long(cognome, nome, rs, cnasc, ind, comune, descr, rif)
        or not ind
        or not comune
        or len(cap) != 5
        or not cap.isdigit()
        or not cap.isascii()
        or len(prov) != 2
        or not prov.isupper()
        or not prov.isalpha()
        or not prov.isascii()
        or len(anno) != 4
        or not anno.isdigit()
        or not anno.isascii()
        or not ctx.year_min <= int(anno) <= ctx.year_max
        or not c0
        or not dscad
    ):
        return None
    if pec and (len(pec) > 250 or not _EMAIL_RE.match(pec)):
        return None
    if email and (len(email) > 250 or not _EMAIL_RE.match(email)):
        return None
    if tel and not _PHONE_RE.match(tel):
        return None
    if centr:
        if centr != ctx.entrata_code and not (ctx.entrata_code is None and centr in ctx.entrate):
            return None
        entrata_id = ctx.entrate[centr]
    elif ctx.entrata_code is None or "codice_entrata" in ctx.mapped:
        return None
    else:
        entrata_id = ctx.entrate[ctx.entrata_code]
    decimal = ctx.formats.decimal
    a0 = _fast_cents(c0, decimal)
    a1 = _fast_cents(c1, decimal) if c1 else 0
    a2 = _fast_cents(c2, decimal) if c2 else 0
    a3 = _fast_cents(c3, decimal) if c3 else 0
    if a0 < 0 or a1 < 0 or a2 < 0 or a3 < 0 or not (a0 or a1 or a2 or a3):
        return None
    parse_date = ctx.formats.parse_date
    try:
        due = parse_date("data_scadenza", dscad)
        birth = parse_date("data_nascita", dnasc) if dnasc else ""
        notified = parse_date("data_notifica", dnot) if dnot else ""
    except RowError:
        return None
    if birth > ctx.today:
        return None
    surname, given, company = ("", "", rs) if kind == "PG" else (cognome, nome, "")
    return [str(line), idp, cf, kind, surname, given, company, search, birth, cnasc, ind, cap, comune, prov,
            pec, email, tel, anno, str(entrata_id), descr, rif, str(a0), str(a1), str(a2), str(a3), due,
            notified]


def validate_carico(v: Sequence[str], line: int, ctx: RowContext, errors: list) -> list[str | None] | None:
    """One row of a lista di carico (formats.md §1) -> its stage row, or None after appending its errors."""
    (
        idp,
        cf,
        tipo,
        cognome,
        nome,
        rs,
        dnasc,
        cnasc,
        ind,
        cap,
        comune,
        prov,
        pec,
        email,
        tel,
        anno,
        centr,
        descr,
        rif,
        capitale,
        sanzioni,
        interessi,
        spese,
        dscad,
        dnot,
    ) = v
    bad = len(errors)
    fmt = ctx.formats
    if not idp:
        _err(ctx, errors, line, "id_posizione", MISSING, idp)
    elif len(idp) > 60:
        _err(ctx, errors, line, "id_posizione", "lunghezza massima 60 caratteri", idp)
    kind = ""
    conflict = False
    if not cf:
        _err(ctx, errors, line, "codice_fiscale", MISSING, cf)
    else:
        try:
            cf = check_codice_fiscale(cf)
            kind = "PG" if len(cf) == 11 else "PF"
        except RowError as exc:
            _err(ctx, errors, line, "codice_fiscale", exc.reason, cf)
    if tipo:
        tipo = tipo.upper()
        if tipo not in ("PF", "PG"):
            _err(
                ctx,
                errors,
                line,
                "tipo_soggetto",
                "valore non ammesso: PF (persona fisica) o PG (persona giuridica)",
                tipo,
            )
        elif kind and tipo != kind:
            conflict = True
            reason = (
                "tipo PF incompatibile con un codice fiscale numerico di 11 cifre (persona giuridica)"
                if kind == "PG"
                else "tipo PG incompatibile con un codice fiscale di 16 caratteri (persona fisica)"
            )
            _err(ctx, errors, line, "tipo_soggetto", reason, tipo)
        else:
            kind = tipo
    if not kind:
        kind_guess = tipo if tipo in ("PF", "PG") else ("PG" if len(cf) == 11 and cf.isdigit() else "PF")
    else:
        kind_guess = kind
    if conflict:
        pass  # which names are required depends on the kind, which the row contradicts: reported above
    elif kind_guess == "PF":
        if not cognome:
            _err(ctx, errors, line, "cognome", "campo obbligatorio per le persone fisiche", cognome)
        if not nome:
            _err(ctx, errors, line, "nome", "campo obbligatorio per le persone fisiche", nome)
    elif not rs:
        _err(ctx, errors, line, "ragione_sociale", "campo obbligatorio per le persone giuridiche", rs)
    if _too_long(cognome, nome, rs, cnasc, ind, comune, descr, rif):
        for name, value in (
            ("cognome", cognome),
            ("nome", nome),
            ("ragione_sociale", rs),
            ("comune_nascita", cnasc),
            ("indirizzo", ind),
            ("comune", comune),
            ("descrizione", descr),
            ("riferimento", rif),
        ):
            if len(value) > MAX_LENGTH[name]:
                _err(ctx, errors, line, name, f"lunghezza massima {MAX_LENGTH[name]} caratteri", value)
    birth = ""
    if dnasc:
        try:
            birth = fmt.parse_date("data_nascita", dnasc)
            if birth > ctx.today:
                _err(ctx, errors, line, "data_nascita", "data di nascita nel futuro", dnasc)
        except RowError as exc:
            _err(ctx, errors, line, "data_nascita", exc.reason, dnasc)
    if not ind:
        _err(ctx, errors, line, "indirizzo", MISSING, ind)
    if not cap:
        _err(ctx, errors, line, "cap", MISSING, cap)
    elif not (len(cap) == 5 and cap.isdigit() and cap.isascii()):
        _err(ctx, errors, line, "cap", "CAP non valido: attese 5 cifre", cap)
    if not comune:
        _err(ctx, errors, line, "comune", MISSING, comune)
    if not prov:
        _err(ctx, errors, line, "provincia", MISSING, prov)
    elif len(prov) != 2 or not (prov.isalpha() and prov.isascii()):
        _err(ctx, errors, line, "provincia", "sigla della provincia non valida: attese 2 lettere", prov)
    else:
        prov = prov.upper()
    if pec and (len(pec) > 250 or not _EMAIL_RE.match(pec)):
        _err(ctx, errors, line, "pec", "indirizzo PEC non valido", pec)
    if email and (len(email) > 250 or not _EMAIL_RE.match(email)):
        _err(ctx, errors, line, "email", "indirizzo e-mail non valido", email)
    if tel and not _PHONE_RE.match(tel):
        _err(
            ctx,
            errors,
            line,
            "telefono",
            "numero di telefono non valido (cifre, spazi e + ( ) . / -, al massimo 30 caratteri)",
            tel,
        )
    if not anno:
        _err(ctx, errors, line, "anno_riferimento", MISSING, anno)
    elif not (len(anno) == 4 and anno.isdigit() and anno.isascii()):
        _err(ctx, errors, line, "anno_riferimento", "anno non valido: attese 4 cifre", anno)
    elif not ctx.year_min <= int(anno) <= ctx.year_max:
        _err(
            ctx,
            errors,
            line,
            "anno_riferimento",
            f"anno non plausibile: atteso tra {ctx.year_min} e {ctx.year_max}",
            anno,
        )
    entrata_id = _entrata(ctx, errors, line, centr)
    cents = [0, 0, 0, 0]
    if not capitale:
        _err(ctx, errors, line, "capitale", MISSING, capitale)
    for i, name, value in (
        (0, "capitale", capitale),
        (1, "sanzioni", sanzioni),
        (2, "interessi", interessi),
        (3, "spese", spese),
    ):
        if value:
            try:
                cents[i] = fmt.parse_cents(name, value)
            except RowError as exc:
                _err(ctx, errors, line, name, exc.reason, value)
    due = notified = ""
    if not dscad:
        _err(ctx, errors, line, "data_scadenza", MISSING, dscad)
    else:
        try:
            due = fmt.parse_date("data_scadenza", dscad)
        except RowError as exc:
            _err(ctx, errors, line, "data_scadenza", exc.reason, dscad)
    if dnot:
        try:
            notified = fmt.parse_date("data_notifica", dnot)
        except RowError as exc:
            _err(ctx, errors, line, "data_notifica", exc.reason, dnot)
    if len(errors) > bad:
        return None
    if not (cents[0] or cents[1] or cents[2] or cents[3]):
        _err(
            ctx,
            errors,
            line,
            "capitale",
            "importo complessivo pari a zero: nessun debito da caricare",
            capitale,
        )
        return None
    if kind == "PG":
        search = _search_name(rs)
        cognome = nome = ""
    else:
        search = _search_name(cognome, nome)
        rs = ""
    return [
        str(line),
        idp,
        cf,
        kind,
        cognome,
        nome,
        rs,
        search,
        birth,
        cnasc,
        ind,
        cap,
        comune,
        prov,
        pec,
        email,
        tel,
        anno,
        str(entrata_id),
        descr,
        rif,
        str(cents[0]),
        str(cents[1]),
        str(cents[2]),
        str(cents[3]),
        due,
        notified,
    ]


def _entrata(ctx: RowContext, errors: list, line: int, code: str) -> int | None:
    """The entrata of a row: its codice_entrata must exist for the ente and be the one of the import."""
    if not code:
        if "codice_entrata" in ctx.mapped or ctx.entrata_code is None:
            _err(ctx, errors, line, "codice_entrata", MISSING, code)
            return None
        return ctx.entrate[ctx.entrata_code]
    code = code.upper()
    entrata_id = ctx.entrate.get(code)
    if entrata_id is None:
        _err(
            ctx,
            errors,
            line,
            "codice_entrata",
            f"entrata «{code}» non prevista per l'ente {ctx.ente_code}",
            code,
        )
        return None
    if ctx.entrata_code is not None and code != ctx.entrata_code:
        _err(
            ctx,
            errors,
            line,
            "codice_entrata",
            f"entrata «{code}» diversa da quella scelta per l'importazione ({ctx.entrata_code})",
            code,
        )
        return None
    return entrata_id


def validate_anagrafica(
    v: Sequence[str], line: int, ctx: RowContext, errors: list
) -> list[str | None] | None:
    """One row of an anagrafica variation (docs/formats/variazioni.md §1)."""
    cf, ind, cap, comune, prov, pec, decesso = v
    bad = len(errors)
    if not cf:
        _err(ctx, errors, line, "codice_fiscale", MISSING, cf)
    else:
        try:
            cf = check_codice_fiscale(cf)
        except RowError as exc:
            _err(ctx, errors, line, "codice_fiscale", exc.reason, cf)
    if ind or cap or comune or prov:
        for name, value in (("indirizzo", ind), ("cap", cap), ("comune", comune), ("provincia", prov)):
            if not value:
                _err(ctx, errors, line, name, "campo obbligatorio quando si varia l'indirizzo", value)
        if cap and not (len(cap) == 5 and cap.isdigit() and cap.isascii()):
            _err(ctx, errors, line, "cap", "CAP non valido: attese 5 cifre", cap)
        if prov and (len(prov) != 2 or not (prov.isalpha() and prov.isascii())):
            _err(ctx, errors, line, "provincia", "sigla della provincia non valida: attese 2 lettere", prov)
        for name, value in (("indirizzo", ind), ("comune", comune)):
            if len(value) > MAX_LENGTH[name]:
                _err(ctx, errors, line, name, f"lunghezza massima {MAX_LENGTH[name]} caratteri", value)
    if pec and (len(pec) > 250 or not _EMAIL_RE.match(pec)):
        _err(ctx, errors, line, "pec", "indirizzo PEC non valido", pec)
    deceased = ""
    if decesso:
        try:
            deceased = ctx.formats.parse_date("data_decesso", decesso)
            if deceased > ctx.today:
                _err(ctx, errors, line, "data_decesso", "data di decesso nel futuro", decesso)
            elif cf and len(cf) == 11:
                _err(
                    ctx,
                    errors,
                    line,
                    "data_decesso",
                    "data di decesso ammessa solo per le persone fisiche",
                    decesso,
                )
        except RowError as exc:
            _err(ctx, errors, line, "data_decesso", exc.reason, decesso)
    if len(errors) > bad:
        return None
    if not (ind or pec or decesso):
        _err(
            ctx,
            errors,
            line,
            "codice_fiscale",
            "nessuna variazione indicata (indirizzo, PEC o data di decesso)",
            cf,
        )
        return None
    return [str(line), cf, ind, cap, comune, prov.upper(), pec, deceased]


def validate_variazione(
    v: Sequence[str], line: int, ctx: RowContext, errors: list
) -> list[str | None] | None:
    """One ordered sgravio / sospensione / revoca (docs/formats/variazioni.md §2)."""
    centr, idp, op, comp, importo, data, motivo = v
    bad = len(errors)
    entrata_id = _entrata(ctx, errors, line, centr)
    if not idp:
        _err(ctx, errors, line, "id_posizione", MISSING, idp)
    op = op.lower()
    if not op:
        _err(ctx, errors, line, "operazione", MISSING, op)
    elif op not in OPERATIONS:
        _err(
            ctx,
            errors,
            line,
            "operazione",
            "operazione non ammessa: sgravio, sospensione o revoca_sospensione",
            op,
        )
    comp = comp.lower()
    cents = ""
    if op == "sgravio":
        if not comp:
            _err(ctx, errors, line, "componente", "campo obbligatorio per lo sgravio", comp)
        elif comp not in COMPONENTS:
            _err(ctx, errors, line, "componente", "componente non ammessa: " + ", ".join(COMPONENTS), comp)
        if not importo:
            _err(ctx, errors, line, "importo", "campo obbligatorio per lo sgravio", importo)
        else:
            try:
                cents = str(ctx.formats.parse_cents("importo", importo))
                if cents == "0":
                    _err(ctx, errors, line, "importo", "lo sgravio deve essere maggiore di zero", importo)
            except RowError as exc:
                _err(ctx, errors, line, "importo", exc.reason, importo)
    elif op in ("sospensione", "revoca_sospensione"):
        if comp:
            _err(ctx, errors, line, "componente", f"da lasciare vuoto per l'operazione {op}", comp)
        if importo:
            _err(ctx, errors, line, "importo", f"da lasciare vuoto per l'operazione {op}", importo)
    value_date = ""
    if not data:
        _err(ctx, errors, line, "data", MISSING, data)
    else:
        try:
            value_date = ctx.formats.parse_date("data", data)
            if value_date > ctx.today:
                _err(ctx, errors, line, "data", "data nel futuro", data)
        except RowError as exc:
            _err(ctx, errors, line, "data", exc.reason, data)
    if not motivo:
        _err(ctx, errors, line, "motivo", MISSING, motivo)
    elif len(motivo) > MAX_LENGTH["motivo"]:
        _err(ctx, errors, line, "motivo", "lunghezza massima 200 caratteri", motivo)
    if len(errors) > bad:
        return None
    return [str(line), str(entrata_id), idp, op, comp, cents, value_date, motivo]


VALIDATORS = {"carico": validate_carico, "anagrafica": validate_anagrafica, "variazioni": validate_variazione}


# --- chunks -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Source:
    """How a text chunk is cut into canonical rows (CSV columns or fixed-width positions)."""

    kind: str  # "csv" | "fixed"
    encoding: str
    delimiter: str = ";"
    ncols: int = 0
    # csv: index of each canonical field in a record (ncols = an empty value appended to the record)
    indexes: tuple[int, ...] = ()
    # fixed: (start, end) 0-based slices of each canonical field, (0, 0) when absent
    spans: tuple[tuple[int, int], ...] = ()
    record_length: int = 0
    # fixed: (start, end, value of data records, values of ignored records)
    record_type: tuple[int, int, str, tuple[str, ...]] | None = None
    # fixed: fields (dates) where all zeros means "no value"
    zero_is_empty: tuple[int, ...] = ()


@dataclass(slots=True)
class ChunkResult:
    data: bytes  # stage rows in COPY text format
    errors: list
    rows: int  # data rows seen (blank rows and ignored records excluded)
    valid: int
    last_line: int


_COPY_ESCAPE = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_line(values: Sequence[str]) -> str:
    """One stage row in PostgreSQL COPY text format, tab-separated, with `NULL ''`: empty means NULL."""
    line = "\t".join(values)
    if "\\" in line or "\n" in line or "\r" in line or line.count("\t") != len(values) - 1:
        line = "\t".join([v.translate(_COPY_ESCAPE) for v in values])
    return line + "\n"


_UNESCAPE = re.compile(r"\\(.)")
_UNESCAPED = {"t": "\t", "n": "\n", "r": "\r"}


def parse_copy_line(line: str) -> list[str | None]:
    """The inverse of `copy_line`, empty values as None (the batched path and tests read stage rows back)."""
    out: list[str | None] = []
    for part in line.rstrip("\n").split("\t"):
        if not part:
            out.append(None)
        elif "\\" in part:
            out.append(_UNESCAPE.sub(lambda m: _UNESCAPED.get(m.group(1), m.group(1)), part))
        else:
            out.append(part)
    return out


def _process_rows(rows: Sequence[tuple[int, Sequence[str]]], ctx: RowContext) -> ChunkResult:
    validate = VALIDATORS[ctx.flow]
    fast = fast_carico if ctx.flow == "carico" else None
    errors: list = []
    out: list[str] = []
    append = out.append
    valid = 0
    last = 0
    for line, values in rows:
        last = line
        staged = fast(values, line, ctx) if fast is not None else None
        if staged is None:
            staged = validate(values, line, ctx, errors)
            if staged is None:
                continue
        line_text = "\t".join(staged)
        if (
            "\\" in line_text
            or "\n" in line_text
            or "\r" in line_text
            or line_text.count("\t") != len(staged) - 1
        ):
            line_text = copy_line(staged)[:-1]
        append(line_text)
        valid += 1
    data = ("\n".join(out) + "\n").encode("utf-8") if out else b""
    return ChunkResult(data, errors, len(rows), valid, last)


def _csv_rows(text: str, first_line: int, source: Source, ctx: RowContext, errors: list) -> list:
    if '"' not in text:
        return _plain_csv_rows(text, first_line, source, errors)
    rows: list[tuple[int, tuple[str, ...]]] = []
    getter = operator.itemgetter(*source.indexes)
    reader = csv.reader(io.StringIO(text), delimiter=source.delimiter, quotechar='"')
    ncols = source.ncols
    previous = 0
    while True:
        line = first_line + previous
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            previous = reader.line_num
            errors.append((line, "", _csv_problem(exc), None))
            continue
        previous = reader.line_num
        if len(record) != ncols:
            if not record or not any(x.strip() for x in record):
                continue  # a blank line
            errors.append((line, "", f"numero di campi errato: attesi {ncols}, trovati {len(record)}", None))
            continue
        record.append("")
        values = getter(record)
        values = tuple(map(str.strip, values))
        if not any(values) and not any(x.strip() for x in record):
            continue
        rows.append((line, values))
    return rows


def _csv_problem(exc: csv.Error) -> str:
    """The csv module's complaint in Italian (its messages are English)."""
    if "field larger than field limit" in str(exc):
        return (
            f"riga CSV malformata: un campo supera {csv.field_size_limit():,} caratteri (virgolette non "
            "chiuse?)".replace(",", ".")
        )
    return "riga CSV malformata: virgolette o separatori non validi"


def _plain_csv_rows(text: str, first_line: int, source: Source, errors: list) -> list:
    """A chunk without quotes: each line is a record, split on the delimiter (twice as fast as csv.reader)."""
    rows: list[tuple[int, tuple[str, ...]]] = []
    getter = operator.itemgetter(*source.indexes)
    delimiter = source.delimiter
    ncols = source.ncols
    padded_1, padded_2 = " " + delimiter, delimiter + " "
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    blank = delimiter + " \t\r"
    for offset, raw in enumerate(text.split("\n")):
        if not raw or not raw.strip(blank):
            continue
        record = raw.split(delimiter)
        if len(record) != ncols:
            errors.append(
                (
                    first_line + offset,
                    "",
                    f"numero di campi errato: attesi {ncols}, trovati {len(record)}",
                    None,
                )
            )
            continue
        record.append("")
        values = getter(record)
        if (
            padded_1 in raw
            or padded_2 in raw
            or raw[0] == " "
            or raw[-1] == " "
            or "\t" in raw
            or not raw.isascii()
        ):
            values = tuple(map(str.strip, values))
        rows.append((first_line + offset, values))
    return rows


def _fixed_rows(text: str, first_line: int, source: Source, errors: list) -> list:
    rows: list[tuple[int, tuple[str, ...]]] = []
    length = source.record_length
    spans = source.spans
    rtype = source.record_type
    zero_is_empty = source.zero_is_empty
    for offset, raw in enumerate(text.split("\n")):
        line = first_line + offset
        record = raw.rstrip("\r")
        if not record.strip():
            continue
        if len(record) > length:
            errors.append(
                (
                    line,
                    "",
                    f"lunghezza del record errata: attesi {length} caratteri, trovati {len(record)}",
                    None,
                )
            )
            continue
        if rtype is not None:
            kind = record[rtype[0] : rtype[1]]
            if kind in rtype[3]:
                continue  # header / trailer records
            if kind != rtype[2]:
                errors.append(
                    (line, "tipo_record", f"tipo di record «{kind}» sconosciuto (atteso {rtype[2]})", kind)
                )
                continue
        values = [record[s:e].strip() for s, e in spans]
        for index in zero_is_empty:
            if values[index] and not values[index].strip("0"):
                values[index] = ""
        rows.append((line, tuple(values)))
    return rows


def process_chunk(chunk: tuple, ctx: RowContext | None = None) -> ChunkResult:
    """Validate one chunk: ("text", bytes, first_line, Source) or ("rows", [(line, values)], [errors]).

    In a worker process the context comes from `init_worker`; inline callers pass it."""
    ctx = ctx or _WORKER_CTX
    assert ctx is not None
    if chunk[0] == "rows":
        result = _process_rows(chunk[1], ctx)
        problems = chunk[2] if len(chunk) > 2 else []
        if problems:
            result.errors = sorted(problems + result.errors, key=lambda e: e[0])
            result.rows += len({e[0] for e in problems})
        return result
    _, data, first_line, source = chunk
    text = data.decode(source.encoding)
    errors: list = []
    if source.kind == "csv":
        rows = _csv_rows(text, first_line, source, ctx, errors)
    else:
        rows = _fixed_rows(text, first_line, source, errors)
    result = _process_rows(rows, ctx)
    if errors:
        result.errors = sorted(errors + result.errors, key=lambda e: e[0])
        result.rows += len({e[0] for e in errors})
    result.last_line = first_line + text.count("\n")
    return result


_WORKER_CTX: RowContext | None = None


def init_worker(ctx: RowContext) -> None:
    global _WORKER_CTX
    _WORKER_CTX = ctx
