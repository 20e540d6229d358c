"""Phase 2 of a lista di carico: the validated stage rows become taxpayers, positions, ledger movements and
events, set-based, inside the caller's transaction (one transaction for the whole file: loaded completely or
not at all). Never commits.

PostgreSQL: the stage rows are streamed with COPY into a temporary table, then a handful of INSERT ... SELECT
statements do the work. SQLite (the embedded default): the stage table is filled with batched executemany and
the same statements run (a few expressions differ by dialect). What the statements do, in order:

1. rows whose id_posizione repeats an earlier row of the file (same entrata) are rejected;
2. when the rejected share exceeds the layout's limit the import is refused (`Refused`, nothing kept);
3. rows whose (ente, entrata, id_posizione) already exists are reported as duplicates and change nothing;
4. taxpayers: one per codice fiscale (the last row of the file names it); new ones are inserted, existing
   ones keep their data; every one is linked to the ente (TaxpayerEnte);
5. address and contacts: a missing one is added, a changed one closes the open version and opens a new one
   with source "lista di carico N" and an `address.changed` / `contact.changed` event, as
   `app.taxpayers.services.set_address` / `set_contact` do; equal ones are left alone;
6. positions (state "caricata"), one `carico` movement per non-zero component (value date = the carico's
   date, source "lista di carico N"), one `position.loaded` event per position (the first row of a new
   taxpayer records in it that the taxpayer was registered), the carico's totals.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from app.carichi.pipeline import ErrorSpool, Prepared
from app.carichi.validation import STAGE_COLUMNS, parse_copy_line
from app.core.db import UTCDateTime
from app.reports.formatting import format_int

# bandit B608 (`# nosec B608` below): the statements interpolate only this module's constants (the stage
# table, component and contact names, dialect expressions); every value of the file is a bound parameter.
STAGE = "carichi_stage"
STAGE_DDL = {
    "line": "integer",
    "id_posizione": "text",
    "codice_fiscale": "text",
    "kind": "text",
    "surname": "text",
    "given_name": "text",
    "company_name": "text",
    "search_name": "text",
    "birth_date": "date",
    "birth_place": "text",
    "street": "text",
    "cap": "text",
    "comune": "text",
    "provincia": "text",
    "pec": "text",
    "email": "text",
    "telefono": "text",
    "year": "integer",
    "entrata_id": "integer",
    "description": "text",
    "reference": "text",
    "capitale": "bigint",
    "sanzioni": "bigint",
    "interessi": "bigint",
    "spese": "bigint",
    "due_date": "date",
    "notified_date": "date",
}
INT_COLUMNS = {"line", "year", "entrata_id", "capitale", "sanzioni", "interessi", "spese"}
TEMP_TABLES = (STAGE, "carichi_stage_tp", "carichi_tpmap", "carichi_addr", "carichi_contact", "carichi_pos")
ADDRESS_LABELS = {"residenza": "Residenza", "sede_legale": "Sede legale"}
CONTACT_LABELS = {"pec": "PEC", "email": "E-mail", "telefono": "Telefono"}


class Refused(Exception):
    """The file is refused as a whole (error rate, duplicate file): `message` is Italian."""

    def __init__(self, message: str, status: str = "rifiutato") -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True, slots=True)
class LoadRequest:
    carico_id: int
    ente_id: int
    entrata_name: str
    source: str  # "lista di carico N"
    value_date: dt.date
    actor_user_id: int | None
    actor_label: str
    max_error_rate: Decimal


@dataclass(frozen=True, slots=True)
class LoadResult:
    accepted: int
    rejected: int
    duplicates: int
    total_cents: int
    taxpayers_created: int


Phase = Callable[[str], None]


def _percent(value: Decimal) -> str:
    """12.3 -> "12,3%", 10 -> "10%" (never "1E+1%", which `str(Decimal("10").normalize())` gives)."""
    return format(value.normalize(), "f").replace(".", ",") + "%"


def check_error_rate(rejected: int, rows: int, limit: Decimal) -> None:
    """Refused when the rejected share of the data rows exceeds the layout's limit (percent)."""
    if rows == 0:
        raise Refused("Il file non contiene righe da caricare.")
    if Decimal(rejected) * 100 > limit * rows:
        rate = (Decimal(rejected) * 100 / rows).quantize(Decimal("0.1"))
        raise Refused(
            f"Righe scartate: {format_int(rejected)} su {format_int(rows)} ({_percent(rate)}), oltre il "
            f"limite del {_percent(limit)} del tracciato: nessuna riga è stata caricata. "
            "Correggere gli errori segnalati e inviare di nuovo il file."
        )


def load(
    conn: Connection, prepared: Prepared, request: LoadRequest, late_errors: ErrorSpool, phase: Phase
) -> LoadResult:
    """Load the prepared rows of one carico (see the module docstring). Refused when the file is refused."""
    pg = conn.dialect.name == "postgresql"
    for name in TEMP_TABLES:
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {name}"))
    if pg:
        conn.execute(sa.text("SET LOCAL work_mem = '128MB'"))
    phase("Caricamento: righe validate")
    _stage(conn, prepared, pg)

    phase("Caricamento: controllo dei duplicati")
    # 1. an id_posizione repeated within the file: the later rows are rejected, naming the first one
    repeats = (
        f"SELECT s.line, s.id_posizione, d.first_line FROM {STAGE} s JOIN ("
        f"  SELECT entrata_id, id_posizione, min(line) AS first_line FROM {STAGE}"
        "   GROUP BY entrata_id, id_posizione HAVING count(*) > 1) d"
        " ON d.entrata_id = s.entrata_id AND d.id_posizione = s.id_posizione"
        " WHERE s.line <> d.first_line"  # nosec B608
    )
    repeated = _report(
        conn,
        repeats + " ORDER BY s.line",
        {},
        late_errors,
        lambda line, idp, first: (
            line,
            "id_posizione",
            f"id_posizione ripetuto nel file (già alla riga {first})",
            idp,
        ),
    )
    if repeated:
        conn.execute(sa.text(f"DELETE FROM {STAGE} WHERE line IN (SELECT line FROM ({repeats}) r)"))  # nosec B608
    rejected = prepared.rejected + repeated
    # 2. the error-rate limit of the layout
    check_error_rate(rejected, prepared.rows, request.max_error_rate)
    # 3. a position already loaded for the ente and entrata: reported as a duplicate, changes nothing
    known = (
        "SELECT 1 FROM positions p WHERE p.ente_id = :ente"
        f" AND p.entrata_id = {STAGE}.entrata_id AND p.external_id = {STAGE}.id_posizione"  # nosec B608
    )
    duplicates = _report(
        conn,
        f"SELECT line, id_posizione FROM {STAGE} WHERE EXISTS ({known}) ORDER BY line",  # nosec B608
        {"ente": request.ente_id},
        late_errors,
        lambda line, idp: (
            line,
            "id_posizione",
            "posizione già presente per l'ente e l'entrata: riga ignorata, nulla è stato modificato",
            idp,
        ),
        kind="duplicate",
    )
    if duplicates:
        conn.execute(sa.text(f"DELETE FROM {STAGE} WHERE EXISTS ({known})"), {"ente": request.ente_id})  # nosec B608

    params = {
        "ente": request.ente_id,
        "carico": request.carico_id,
        "source": request.source,
        "user": request.actor_user_id,
        "label": request.actor_label[:120],
        "value_date": request.value_date,
        "entrata_name": request.entrata_name,
    }
    now = sa.bindparam("now", value=dt.datetime.now(dt.UTC), type_=UTCDateTime())
    value_date = sa.bindparam("value_date", type_=sa.Date())

    def run(sql: str, **extra: Any) -> sa.CursorResult:
        statement = sa.text(sql)
        binds = [b for b in (now, value_date) if f":{b.key}" in sql]
        if binds:
            statement = statement.bindparams(*binds)
        used = {k: v for k, v in {**params, **extra}.items() if f":{k}" in sql}
        return conn.execute(statement, used)

    phase("Caricamento: contribuenti")
    # 4. one row per codice fiscale: the last one of the file names it; new taxpayers get their ids in file
    # order, so that positions and events (inserted in file order) check their foreign keys page after page.
    run(
        _create_temp(
            "carichi_stage_tp",
            pg,
            f"SELECT s.*, l.first_line, t.id AS taxpayer_id FROM {STAGE} s"
            " JOIN (SELECT codice_fiscale, max(line) AS last_line, min(line) AS first_line"
            f"       FROM {STAGE} GROUP BY codice_fiscale) l"
            "   ON l.codice_fiscale = s.codice_fiscale AND l.last_line = s.line"
            " LEFT JOIN taxpayers t ON t.codice_fiscale = s.codice_fiscale",  # nosec B608
        )
    )
    insert_taxpayers = (
        "INSERT INTO taxpayers (kind, codice_fiscale, partita_iva, surname, given_name, company_name,"
        " birth_date, birth_place, search_name, created_dt)"
        " SELECT kind, codice_fiscale, CASE WHEN kind = 'PG' THEN codice_fiscale END, surname, given_name,"
        " company_name, birth_date, birth_place, search_name, :now FROM carichi_stage_tp"
        " WHERE taxpayer_id IS NULL ORDER BY first_line"
    )
    if pg:
        run(
            "CREATE TEMP TABLE carichi_tpmap (taxpayer_id integer, codice_fiscale text, created boolean)"
            " ON COMMIT DROP"
        )
        created = run(
            f"WITH ins AS ({insert_taxpayers} RETURNING id, codice_fiscale)"
            " INSERT INTO carichi_tpmap SELECT id, codice_fiscale, true FROM ins"  # nosec B608
        ).rowcount
        run(
            "INSERT INTO carichi_tpmap SELECT taxpayer_id, codice_fiscale, false FROM carichi_stage_tp"
            " WHERE taxpayer_id IS NOT NULL"
        )
        run("ANALYZE carichi_tpmap")
    else:
        created = run(insert_taxpayers).rowcount
        run(
            _create_temp(
                "carichi_tpmap",
                pg,
                "SELECT coalesce(s.taxpayer_id, t.id) AS taxpayer_id, s.codice_fiscale,"
                " (s.taxpayer_id IS NULL) AS created FROM carichi_stage_tp s"
                " LEFT JOIN taxpayers t ON s.taxpayer_id IS NULL AND t.codice_fiscale = s.codice_fiscale",
            )
        )
    run(
        "INSERT INTO taxpayer_enti (taxpayer_id, ente_id)"
        " SELECT m.taxpayer_id, :ente FROM carichi_tpmap m WHERE m.created OR NOT EXISTS ("
        "   SELECT 1 FROM taxpayer_enti te WHERE te.taxpayer_id = m.taxpayer_id AND te.ente_id = :ente)"
        " ORDER BY m.taxpayer_id"
    )

    phase("Caricamento: indirizzi e recapiti")
    _addresses(run, pg)
    _contacts(run, pg)

    phase("Caricamento: posizioni")
    if pg:
        position_id = "nextval(pg_get_serial_sequence('positions', 'id'))"
    else:
        position_id = "(SELECT coalesce(max(id), 0) FROM positions) + row_number() OVER (ORDER BY s.line)"
    run(
        _create_temp(
            "carichi_pos",
            pg,
            f"SELECT {position_id} AS position_id, m.taxpayer_id, s.line, s.id_posizione, s.year,"
            " s.entrata_id, coalesce(s.description, :entrata_name || ' ' || s.year) AS description,"
            " s.reference, s.capitale, s.sanzioni, s.interessi, s.spese, s.due_date, s.notified_date,"
            " (m.created AND s.line = t.first_line) AS taxpayer_created"
            f" FROM {STAGE} s JOIN carichi_tpmap m ON m.codice_fiscale = s.codice_fiscale"
            " JOIN carichi_stage_tp t ON t.codice_fiscale = s.codice_fiscale ORDER BY s.line",  # nosec B608
        )
    )
    accepted = run(
        "INSERT INTO positions (id, ente_id, entrata_id, carico_id, taxpayer_id, external_id, year,"
        " description, reference, due_date, notified_date, state, created_dt)"
        " SELECT position_id, :ente, entrata_id, :carico, taxpayer_id, id_posizione, year, description,"
        " reference, due_date, notified_date, 'caricata', :now FROM carichi_pos ORDER BY position_id"
    ).rowcount

    phase("Caricamento: movimenti contabili")
    components = " UNION ALL ".join(
        f"SELECT position_id, '{c}' AS component, {c} AS amount FROM carichi_pos WHERE {c} <> 0"  # nosec B608
        for c in ("capitale", "sanzioni", "interessi", "spese")
    )
    run(
        "INSERT INTO movements (position_id, component, kind, amount_cents, value_date, booked_dt, source,"
        " user_id) SELECT position_id, component, 'carico', amount, :value_date, :now, :source, :user"
        f" FROM ({components}) c"
        " ORDER BY position_id"  # nosec B608
    )

    phase("Caricamento: eventi")
    # The row that created a taxpayer says so in its event (one operation, one event): the taxpayer's
    # timeline starts with it, as `taxpayer.created` starts it for a taxpayer registered at the desk.
    payload = (
        "jsonb_build_object('carico', CAST(:carico AS integer), 'riga', line,"
        " 'contribuente_registrato', taxpayer_created)"
        if pg
        else "json_object('carico', :carico, 'riga', line, 'contribuente_registrato',"
        " json(CASE WHEN taxpayer_created THEN 'true' ELSE 'false' END))"
    )
    run(
        "INSERT INTO events (kind, occurred_dt, ente_id, taxpayer_id, position_id, actor_user_id,"
        " actor_label,"
        " summary, payload)"
        " SELECT 'position.loaded', :now, :ente, taxpayer_id, position_id, :user, :label,"
        " substr(description || ': posizione ' || id_posizione || ' caricata'"
        " || CASE WHEN taxpayer_created THEN '; contribuente registrato da ' || :source ELSE '' END, 1, 500),"
        f" {payload}"
        " FROM carichi_pos ORDER BY position_id"  # nosec B608
    )
    total = run(
        "SELECT coalesce(sum(capitale + sanzioni + interessi + spese), 0) FROM carichi_pos"
    ).scalar_one()
    if not pg:
        for name in TEMP_TABLES:
            conn.execute(sa.text(f"DROP TABLE IF EXISTS {name}"))
    return LoadResult(
        accepted=int(accepted),
        rejected=rejected,
        duplicates=duplicates,
        total_cents=int(total),
        taxpayers_created=int(created),
    )


def _create_temp(name: str, pg: bool, select: str) -> str:
    return f"CREATE TEMP TABLE {name} {'ON COMMIT DROP ' if pg else ''}AS {select}"


def _stage(conn: Connection, prepared: Prepared, pg: bool) -> None:
    columns = STAGE_COLUMNS["carico"]
    ddl = ", ".join(f"{c} {STAGE_DDL[c]}" for c in columns)
    conn.execute(sa.text(f"CREATE TEMP TABLE {STAGE} ({ddl}){' ON COMMIT DROP' if pg else ''}"))
    if pg:
        raw = conn.connection.driver_connection
        with (
            raw.cursor() as cursor,
            cursor.copy(
                f"COPY {STAGE} ({', '.join(columns)}) FROM STDIN WITH (FORMAT text, NULL '')"
            ) as copy,
        ):
            for block in prepared.stage_blocks():
                copy.write(block)
        conn.execute(sa.text(f"ANALYZE {STAGE}"))
        return
    insert = sa.text(
        f"INSERT INTO {STAGE} ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})"  # nosec B608
    )
    batch: list[dict[str, Any]] = []
    prepared.stage.seek(0)
    for raw_line in prepared.stage:
        values = parse_copy_line(raw_line.decode("utf-8"))
        batch.append(
            {
                c: (int(v) if c in INT_COLUMNS and v is not None else v)
                for c, v in zip(columns, values, strict=True)
            }
        )
        if len(batch) >= 5000:
            conn.execute(insert, batch)
            batch = []
    if batch:
        conn.execute(insert, batch)


def _report(
    conn: Connection,
    sql: str,
    params: dict[str, Any],
    late_errors: ErrorSpool,
    error: Callable[..., tuple],
    kind: str = "rejected",
) -> int:
    """Stream the rows of `sql` into the error report (memory stays flat); how many there were."""
    count = 0
    result = conn.execute(sa.text(sql).execution_options(stream_results=True, yield_per=10_000), params)
    for rows in result.partitions():
        late_errors.extend([error(*r) for r in rows], kind=kind)
        count += len(rows)
    return count


def _one_line(alias: str) -> str:
    """TaxpayerAddress.one_line in SQL: 'street, cap comune (PR)'."""
    return (
        f"{alias}.street || ', ' || coalesce({alias}.cap || ' ', '') || {alias}.comune"
        f" || coalesce(' (' || {alias}.provincia || ')', '')"
    )


def _addresses(run: Callable[..., Any], pg: bool) -> None:
    differs = "IS DISTINCT FROM" if pg else "IS NOT"
    kind = "CASE s.kind WHEN 'PG' THEN 'sede_legale' ELSE 'residenza' END"
    # New taxpayers: their address simply starts.
    run(
        "INSERT INTO taxpayer_addresses (taxpayer_id, kind, street, cap, comune, provincia, country,"
        " valid_from_dt, source, recorded_by_id)"
        f" SELECT m.taxpayer_id, {kind}, s.street, s.cap, s.comune, s.provincia, 'IT', :now, :source, :user"
        " FROM carichi_stage_tp s JOIN carichi_tpmap m ON m.codice_fiscale = s.codice_fiscale"
        " WHERE m.created ORDER BY m.taxpayer_id"  # nosec B608
    )
    # Known taxpayers: a missing or different address becomes a new version (set_address's rule).
    run(
        _create_temp(
            "carichi_addr",
            pg,
            f"SELECT m.taxpayer_id, {kind} AS kind, s.street, s.cap, s.comune, s.provincia,"
            f" a.id AS current_id, {_one_line('a')} AS previous"
            " FROM carichi_stage_tp s JOIN carichi_tpmap m ON m.codice_fiscale = s.codice_fiscale"
            " LEFT JOIN taxpayer_addresses a ON a.taxpayer_id = m.taxpayer_id"
            f"   AND a.kind = {kind} AND a.valid_to_dt IS NULL"
            " WHERE NOT m.created"
            f"   AND (a.id IS NULL OR a.street {differs} s.street OR a.cap {differs} s.cap"
            f"   OR a.comune {differs} s.comune OR a.provincia {differs} s.provincia"
            f"   OR a.country {differs} 'IT')",  # nosec B608
        )
    )
    run(
        "UPDATE taxpayer_addresses SET valid_to_dt = :now"
        " WHERE id IN (SELECT current_id FROM carichi_addr WHERE current_id IS NOT NULL)"
    )
    run(
        "INSERT INTO taxpayer_addresses (taxpayer_id, kind, street, cap, comune, provincia, country,"
        " valid_from_dt, source, recorded_by_id)"
        " SELECT taxpayer_id, kind, street, cap, comune, provincia, 'IT', :now, :source, :user"
        " FROM carichi_addr ORDER BY taxpayer_id"
    )
    payload = (
        "jsonb_build_object('source', CAST(:source AS text), 'previous', previous)"
        if pg
        else "json_object('source', :source, 'previous', previous)"
    )
    labels = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in ADDRESS_LABELS.items())
    run(
        "INSERT INTO events (kind, occurred_dt, taxpayer_id, actor_user_id, actor_label, summary, payload)"
        f" SELECT 'address.changed', :now, taxpayer_id, :user, :label,"
        f" substr((CASE kind {labels} ELSE kind END) || ': ' || {_one_line('carichi_addr')}, 1, 500),"
        f" {payload}"
        " FROM carichi_addr WHERE current_id IS NOT NULL"  # nosec B608
    )


def _contacts(run: Callable[..., Any], pg: bool) -> None:
    values = " UNION ALL ".join(
        f"SELECT codice_fiscale, '{k}' AS kind, {k} AS value FROM carichi_stage_tp WHERE {k} IS NOT NULL"  # nosec B608
        for k in ("pec", "email", "telefono")
    )
    # New taxpayers: their contacts simply start.
    run(
        "INSERT INTO taxpayer_contacts (taxpayer_id, kind, value, valid_from_dt, source, recorded_by_id)"
        " SELECT m.taxpayer_id, v.kind, v.value, :now, :source, :user"
        f" FROM ({values}) v JOIN carichi_tpmap m ON m.codice_fiscale = v.codice_fiscale"
        " WHERE m.created ORDER BY m.taxpayer_id"  # nosec B608
    )
    # Known taxpayers: a missing or different contact becomes a new version (set_contact's rule).
    run(
        _create_temp(
            "carichi_contact",
            pg,
            "SELECT m.taxpayer_id, v.kind, v.value, c.id AS current_id, c.value AS previous"
            f" FROM ({values}) v JOIN carichi_tpmap m ON m.codice_fiscale = v.codice_fiscale"
            " LEFT JOIN taxpayer_contacts c ON c.taxpayer_id = m.taxpayer_id"
            "   AND c.kind = v.kind AND c.valid_to_dt IS NULL"
            " WHERE NOT m.created AND (c.id IS NULL OR c.value <> v.value)",  # nosec B608
        )
    )
    run(
        "UPDATE taxpayer_contacts SET valid_to_dt = :now"
        " WHERE id IN (SELECT current_id FROM carichi_contact WHERE current_id IS NOT NULL)"
    )
    run(
        "INSERT INTO taxpayer_contacts (taxpayer_id, kind, value, valid_from_dt, source, recorded_by_id)"
        " SELECT taxpayer_id, kind, value, :now, :source, :user FROM carichi_contact ORDER BY taxpayer_id"
    )
    payload = (
        "jsonb_build_object('source', CAST(:source AS text), 'previous', previous)"
        if pg
        else "json_object('source', :source, 'previous', previous)"
    )
    labels = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in CONTACT_LABELS.items())
    run(
        "INSERT INTO events (kind, occurred_dt, taxpayer_id, actor_user_id, actor_label, summary, payload)"
        f" SELECT 'contact.changed', :now, taxpayer_id, :user, :label,"
        f" substr((CASE kind {labels} ELSE kind END) || ': ' || value, 1, 500), {payload}"
        " FROM carichi_contact WHERE current_id IS NOT NULL"  # nosec B608
    )
