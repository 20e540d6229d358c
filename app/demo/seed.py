"""Demo data (`esattoria demo seed`): two enti, their entrate, taxpayers with valid codici fiscali, positions
with ledger movements and events, and one user per role. Idempotent: a second run adds nothing.

The codes of formats.md §5 always exist: ente R01 "Regione Demo" (80000000010, segregation 01) with
TASSA_AUTO, SANZIONI, CANONI; ente R02 "Regione Seconda" (80000010027, segregation 02) with TASSA_AUTO.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

import sqlalchemy as sa
from codicefiscale import codicefiscale as cf_builder
from faker import Faker
from sqlalchemy.orm import Session

from app.auth.models import User
from app.auth.services import hash_password
from app.carichi.models import Carico
from app.core.audit import Actor, record_event
from app.enti.defaults import ENTRATA_RULES
from app.enti.models import Ente, Entrata
from app.enti.services import ensure_ente, ensure_entrata, ensure_entrata_parameter, load_default_parameters
from app.payments.demo import PlannedPayment
from app.positions.models import Movement, Position
from app.taxpayers.models import Taxpayer
from app.taxpayers.services import AddressData, TaxpayerData, register_taxpayer, set_address, set_contact

# bandit B105: the demo accounts' password is public by design (README); production has no demo users
DEMO_PASSWORD = "demo-esattoria"  # nosec B105
DEMO_CARICO = "DEMO-2026"
# Taxpayers every demo and test can rely on.
MARIO_ROSSI_CF = "RSSMRA80A01H501U"  # R01 only; the demo 'contribuente' account
SECOND_ENTE_CF = "VRDGPP75C15F205S"  # R02 only: proves isolation
COMPANY_CF = "01234560017"  # a PG with positions in R01

ENTI = (
    {
        "code": "R01",
        "name": "Regione Demo",
        "codice_fiscale": "80000000010",
        "segregation_code": "01",
        "entrate": (
            ("TASSA_AUTO", "Tassa automobilistica", "tassa_auto", "E.1.01.01.99"),
            ("SANZIONI", "Sanzioni amministrative", "5y", "E.3.02.02.01"),
            ("CANONI", "Canoni di concessione", "5y", "E.3.01.03.01"),
        ),
    },
    {
        "code": "R02",
        "name": "Regione Seconda",
        "codice_fiscale": "80000010027",
        "segregation_code": "02",
        "entrate": (("TASSA_AUTO", "Tassa automobilistica", "tassa_auto", "E.1.01.01.99"),),
    },
)

USERS = (
    ("admin", "Amministratore Demo", "admin", ("R01", "R02")),
    ("backoffice", "Bruno Back Office", "backoffice", ("R01", "R02")),
    ("sportello", "Silvia Sportello", "sportello", ("R01", "R02")),
    ("callcenter", "Carla Call Center", "callcenter", ("R01", "R02")),
    ("regione", "Roberto Regione Demo", "regione", ("R01",)),
    ("regione2", "Rita Regione Seconda", "regione", ("R02",)),
    ("contribuente", "Mario Rossi", "contribuente", ()),
)

COMUNI = (
    ("H501", "Roma", "RM", "00100"),
    ("F205", "Milano", "MI", "20100"),
    ("F839", "Napoli", "NA", "80100"),
    ("L219", "Torino", "TO", "10100"),
    ("G273", "Palermo", "PA", "90100"),
    ("D612", "Firenze", "FI", "50100"),
    ("A944", "Bologna", "BO", "40100"),
    ("L736", "Venezia", "VE", "30100"),
    ("A662", "Bari", "BA", "70100"),
    ("D969", "Genova", "GE", "16100"),
    ("G224", "Padova", "PD", "35100"),
    ("L781", "Verona", "VR", "37100"),
)


@dataclass(frozen=True, slots=True)
class SeedSummary:
    taxpayers: int
    positions: int
    movements: int
    users: int


def seed_demo(session: Session, *, taxpayers: int = 2000, seed: int = 2026) -> SeedSummary:
    """Create the demo world once. Returns what this run added."""
    load_default_parameters(session)
    enti = {}
    for spec in ENTI:
        ente = ensure_ente(
            session,
            code=spec["code"],
            name=spec["name"],
            codice_fiscale=spec["codice_fiscale"],
            segregation_code=spec["segregation_code"],
        )
        for code, name, prescription, capitolo in spec["entrate"]:
            entrata = ensure_entrata(
                session, ente, code=code, name=name, prescription_regime=prescription, capitolo=capitolo
            )
            ensure_entrata_parameter(session, entrata, ENTRATA_RULES[code])
        enti[spec["code"]] = ente
    already = session.scalars(sa.select(Carico).where(Carico.reference == DEMO_CARICO)).first()
    added_tp = added_pos = added_mov = 0
    if already is None:
        # bandit B311: a seeded generator makes the demo world repeatable; nothing secret comes from it
        rng = random.Random(seed)  # nosec B311
        added_tp, added_pos, added_mov = _seed_world(session, enti, taxpayers, rng, seed)
        from app.dynamics.demo import seed_dynamics_demo
        from app.positions.amounts import today_rome

        # a sgravio and a suspension on two random taxpayers' positions
        seed_dynamics_demo(session, tuple(p["cf"] for p in _fixed_people()), today_rome())
    added_users = _seed_users(session, enti)
    from app.crm.contacts.demo import seed_crm_demo

    seed_crm_demo(session, enti)  # topics, sportelli, a few contacts (idempotent)

    from app.atti.services import ensure_defaults

    ensure_defaults(session)  # act types, their terms and each ente's default act templates
    from app.registries.demo import seed_registries_demo

    seed_registries_demo(session, (MARIO_ROSSI_CF, SECOND_ENTE_CF))  # one person's last registry checks
    from app.procedures.demo import seed_procedures_demo

    seed_procedures_demo(session, mario_cf=MARIO_ROSSI_CF)  # one pignoramento presso terzi (idempotent)

    from app.batch.demo import seed_batch_demo

    seed_batch_demo(session)  # a few past runs of the periodic jobs for the batch monitor
    from app.plans.demo import seed_plans_demo

    seed_plans_demo(session, (MARIO_ROSSI_CF, SECOND_ENTE_CF, COMPANY_CF))  # one stored rateazione
    from app.escalation.demo import seed_escalation_demo

    seed_escalation_demo(session)  # a default ladder per entrata and today's proposals (PostgreSQL)
    from app.analytics.demo import seed_analytics_demo

    seed_analytics_demo(session)  # last: the dashboards' summary of everything above, a saved query
    return SeedSummary(added_tp, added_pos, added_mov, added_users)


def _seed_users(session: Session, enti: dict[str, Ente]) -> int:
    added = 0
    for username, name, role, ente_codes in USERS:
        if session.scalars(sa.select(User).where(User.username == username)).first() is not None:
            continue
        user = User(
            username=username,
            display_name=name,
            role=role,
            password_hash=hash_password(DEMO_PASSWORD),
            email=f"{username}@esattoria.invalid",
        )
        user.enti = [enti[c] for c in ente_codes]
        if role == "contribuente":
            user.taxpayer_id = session.scalars(
                sa.select(Taxpayer.id).where(Taxpayer.codice_fiscale == MARIO_ROSSI_CF)
            ).first()
        session.add(user)
        added += 1
    session.flush()
    return added


def _seed_world(
    session: Session, enti: dict[str, Ente], n: int, rnd: random.Random, seed: int
) -> tuple[int, int, int]:
    fake = Faker("it_IT")
    fake.seed_instance(seed)
    actor = Actor.system("caricamento demo")
    entrate = {(e.ente_id, e.code): e for e in session.scalars(sa.select(Entrata))}
    carichi = {}
    for key, entrata in entrate.items():
        carico = Carico(
            ente_id=key[0],
            entrata_id=entrata.id,
            reference=DEMO_CARICO if not carichi else f"{DEMO_CARICO}-{entrata.id}",
            received_date=dt.date(2026, 1, 15),
            file_name="demo.csv",
            status="caricato",
        )
        session.add(carico)
        carichi[key] = carico
    session.flush()
    people = [_fixed_people()[i] for i in range(3)] + [
        _random_person(fake, rnd) for _ in range(max(n - 3, 0))
    ]
    positions = movements = 0
    planned: list[PlannedPayment] = []
    for index, person in enumerate(people):
        if person["cf"] == SECOND_ENTE_CF:
            ente_codes = ("R02",)
        elif person["cf"] in (MARIO_ROSSI_CF, COMPANY_CF):
            ente_codes = ("R01",)
        else:
            ente_codes = ("R01", "R02") if index % 10 == 0 else (("R02",) if index % 10 == 1 else ("R01",))
        source = f"lista di carico {DEMO_CARICO}"
        taxpayer = register_taxpayer(
            session,
            actor,
            TaxpayerData(
                codice_fiscale=person["cf"],
                surname=person.get("surname"),
                given_name=person.get("given_name"),
                company_name=person.get("company"),
                birth_date=person.get("birth_date"),
                birth_place=person.get("birth_place"),
            ),
            source=source,
            ente_id=enti[ente_codes[0]].id,
        )
        for code in ente_codes[1:]:
            register_taxpayer(
                session,
                actor,
                TaxpayerData(codice_fiscale=person["cf"]),
                source=source,
                ente_id=enti[code].id,
            )
        kind = "sede_legale" if person.get("company") else "residenza"
        set_address(session, actor, taxpayer, AddressData(kind=kind, **person["address"]), source=source)
        if person.get("pec"):
            set_contact(session, actor, taxpayer, "pec", person["pec"], source=source)
        if person.get("phone"):
            set_contact(session, actor, taxpayer, "telefono", person["phone"], source=source)
        for code in ente_codes:
            ente = enti[code]
            choices = [e for (eid, _), e in entrate.items() if eid == ente.id]
            for p_index in range(rnd.randint(1, 3)):
                entrata = rnd.choice(choices)
                created = _position(
                    session,
                    actor,
                    ente,
                    entrata,
                    carichi[(ente.id, entrata.code)],
                    taxpayer,
                    rnd,
                    f"{code}-{taxpayer.id:06d}-{p_index + 1}",
                    planned,
                )
                positions += 1
                movements += created
        if index % 200 == 199:
            session.flush()
    session.flush()
    for carico in carichi.values():
        totals = session.execute(
            sa.select(
                sa.func.count(sa.distinct(Position.id)),
                sa.func.coalesce(sa.func.sum(Movement.amount_cents), 0),
            )
            .join(Movement, Movement.position_id == Position.id)
            .where(Position.carico_id == carico.id, Movement.kind == "carico")
        ).one()
        carico.rows_accepted, carico.total_cents = int(totals[0]), int(totals[1])
    from app.payments.demo import seed_payments_demo

    seed_payments_demo(session, [c.id for c in carichi.values()], planned, random.Random(seed + 1))  # nosec B311: demo data
    return len(people), positions, movements


def _fixed_people() -> list[dict]:
    return [
        {
            "cf": MARIO_ROSSI_CF,
            "surname": "Rossi",
            "given_name": "Mario",
            "birth_date": dt.date(1980, 1, 1),
            "birth_place": "Roma",
            "pec": "mario.rossi@pec.esempio.it",
            "phone": "+39 06 5551234",
            "address": {"street": "Via del Corso 12", "cap": "00186", "comune": "Roma", "provincia": "RM"},
        },
        {
            "cf": SECOND_ENTE_CF,
            "surname": "Verdi",
            "given_name": "Giuseppe",
            "birth_date": dt.date(1975, 3, 15),
            "birth_place": "Milano",
            "phone": "+39 02 5557788",
            "address": {
                "street": "Corso Buenos Aires 40",
                "cap": "20124",
                "comune": "Milano",
                "provincia": "MI",
            },
        },
        {
            "cf": COMPANY_CF,
            "company": "Trasporti Demo S.r.l.",
            "pec": "amministrazione@pec.trasportidemo.it",
            "address": {
                "street": "Via dell'Industria 5",
                "cap": "40138",
                "comune": "Bologna",
                "provincia": "BO",
            },
        },
    ]


def _random_person(fake: Faker, rnd: random.Random) -> dict:
    belfiore, comune, prov, cap = rnd.choice(COMUNI)
    res_code, res_comune, res_prov, res_cap = rnd.choice(COMUNI)
    address = {"street": fake.street_address(), "cap": res_cap, "comune": res_comune, "provincia": res_prov}
    if rnd.random() < 0.08:
        return {
            "cf": fake.company_vat().removeprefix("IT"),
            "company": fake.company(),
            "pec": f"{fake.user_name()}@pec.esempio.it",
            "address": address,
        }
    female = rnd.random() < 0.5
    given = fake.first_name_female() if female else fake.first_name_male()
    surname = fake.last_name()
    birth = fake.date_of_birth(minimum_age=20, maximum_age=90)
    cf = cf_builder.encode(
        lastname=surname,
        firstname=given,
        gender="F" if female else "M",
        birthdate=birth.strftime("%d/%m/%Y"),
        birthplace=belfiore,
    )
    return {
        "cf": cf,
        "surname": surname,
        "given_name": given,
        "birth_date": birth,
        "birth_place": comune,
        "pec": f"{fake.user_name()}@pec.esempio.it" if rnd.random() < 0.3 else None,
        "phone": fake.phone_number() if rnd.random() < 0.6 else None,
        "address": address,
    }


def _position(
    session: Session,
    actor: Actor,
    ente: Ente,
    entrata: Entrata,
    carico: Carico,
    taxpayer: Taxpayer,
    rnd: random.Random,
    external_id: str,
    planned: list[PlannedPayment],
) -> int:
    year = rnd.randint(2019, 2024)
    capital = rnd.randint(30, 2500) * 100 + rnd.choice((0, 50, 99))
    sanctions = capital * 30 // 100 if entrata.code != "CANONI" else 0
    interest = capital * rnd.randint(0, 8) // 100
    costs = rnd.choice((0, 588, 783, 1155))
    due = dt.date(year + 1, rnd.randint(1, 12), 28) if entrata.code == "TASSA_AUTO" else dt.date(year, 12, 31)
    notified = due + dt.timedelta(days=rnd.randint(200, 700)) if rnd.random() < 0.7 else None
    plate = (
        f"{rnd.choice('ABCDEFGH')}{rnd.choice('ABCDEFGHLM')}{rnd.randint(100, 999)}{rnd.choice('ABCDE')}"
        f"{rnd.choice('FGHKLM')}"
        if entrata.code == "TASSA_AUTO"
        else None
    )
    position = Position(
        ente_id=ente.id,
        entrata_id=entrata.id,
        carico_id=carico.id,
        taxpayer_id=taxpayer.id,
        external_id=external_id,
        year=year,
        reference=plate,
        description=f"{entrata.name} {year}",
        due_date=due,
        notified_date=notified,
        state="notificata" if notified else "caricata",
    )
    session.add(position)
    session.flush()
    source = f"lista di carico {carico.reference}"
    lines = [("capitale", capital), ("sanzioni", sanctions), ("interessi", interest), ("spese", costs)]
    count = 0
    for component, cents in lines:
        if cents:
            session.add(
                Movement(
                    position_id=position.id,
                    component=component,
                    kind="carico",
                    amount_cents=cents,
                    value_date=carico.received_date,
                    source=source,
                )
            )
            count += 1
    record_event(
        session,
        actor,
        "position.loaded",
        f"{position.description}: posizione {external_id} caricata",
        taxpayer_id=taxpayer.id,
        position_id=position.id,
        ente_id=ente.id,
        payload={"carico": carico.reference},
    )
    roll = rnd.random()
    if roll < 0.25:  # a payoff or a partial payment, taken later through the payment services
        total = sum(c for _, c in lines)
        paid = total if roll < 0.1 else rnd.randint(1, total - 1)
        pay_date = carico.received_date + dt.timedelta(days=rnd.randint(10, 200))
        planned.append(PlannedPayment(position.id, pay_date, None if paid == total else paid))
    elif roll < 0.30:
        session.add(
            Movement(
                position_id=position.id,
                component="sanzioni" if sanctions else "capitale",
                kind="sgravio",
                amount_cents=-(sanctions or capital // 2),
                value_date=carico.received_date + dt.timedelta(days=30),
                source="provvedimento di sgravio",
            )
        )
        count += 1
        record_event(
            session,
            actor,
            "position.abated",
            "Sgravio parziale disposto dall'ente",
            taxpayer_id=taxpayer.id,
            position_id=position.id,
            ente_id=ente.id,
        )
    return count
