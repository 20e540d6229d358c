"""parameters: legal citations as sources, research notes apart, verification against the publication

`confirmed` becomes `verified` (False until an administrator checks the row against the Gazzetta Ufficiale
and records who, when and which publication: `verified_dt`, `verified_by_id`, `verified_against`). Every
existing row starts unverified: none was checked through that recorded action.

The national defaults seeded before this revision carried research notes in `source` (web sites, "domain.md",
"unconfirmed"): a row still holding the seeded text gets the legal citation as `source` and the old text as
`note` (shown on no screen). A source an administrator changed is left alone. The data is frozen here (not
read from app/enti/defaults.py) so the migration stays what it was when written.

Revision ID: 7c3d9a51f2b8
Revises: 4eb0edd13950
Create Date: 2026-12-03 05:25:00

"""
import datetime

from alembic import op
import sqlalchemy as sa

import app.core.db

# revision identifiers, used by Alembic.
revision = '7c3d9a51f2b8'
down_revision = '4eb0edd13950'
branch_labels = None
depends_on = None

TABLES = ('rate_periods', 'parameters')

# (rate table code, valid_from, source as seeded before, legal citation)
_RATE_SOURCES = [('legale',
  '1942-04-21',
  'art. 1284 c.c., testo originario; tabella storica studioalboraliguerra.it, lavorofacile.it (domain.md '
  '§1); valid_from convenzionale = entrata in vigore del codice civile (unconfirmed)',
  'art. 1284 c.c., testo originario'),
 ('legale',
  '1990-12-16',
  'art. 1284 c.c. come modificato dalla L. 353/1990 (da verificare); tabella storica '
  'studioalboraliguerra.it, lavorofacile.it (domain.md §1)',
  'art. 1284 c.c., come modificato dalla L. 353/1990'),
 ('legale',
  '1997-01-01',
  'art. 1284 c.c. come modificato dalla L. 662/1996 (da verificare); tabella storica '
  'studioalboraliguerra.it, lavorofacile.it (domain.md §1)',
  'art. 1284 c.c., come modificato dalla L. 662/1996'),
 ('legale',
  '1999-01-01',
  'DM Tesoro 10/12/1998 (da verificare); tabella storica studioalboraliguerra.it, lavorofacile.it (domain.md '
  '§1)',
  'D.M. 10 dicembre 1998'),
 ('legale',
  '2001-01-01',
  'DM Tesoro 11/12/2000 (da verificare); tabella storica studioalboraliguerra.it, lavorofacile.it (domain.md '
  '§1)',
  'D.M. 11 dicembre 2000'),
 ('legale',
  '2002-01-01',
  'DM MEF 11/12/2001 (da verificare); tabella storica studioalboraliguerra.it, lavorofacile.it (domain.md '
  '§1)',
  'D.M. 11 dicembre 2001'),
 ('legale',
  '2004-01-01',
  'DM MEF 1/12/2003 (da verificare); tabella storica studioalboraliguerra.it, lavorofacile.it (domain.md §1)',
  'D.M. 1° dicembre 2003'),
 ('legale',
  '2008-01-01',
  'DM MEF 12/12/2007; tabella storica studioalboraliguerra.it, lavorofacile.it (domain.md §1)',
  'D.M. 12 dicembre 2007'),
 ('legale',
  '2010-01-01',
  'DM MEF 4/12/2009; uivco.vb.it, studiobottero.com (domain.md §1)',
  'D.M. 4 dicembre 2009'),
 ('legale',
  '2011-01-01',
  'DM MEF 7/12/2010, GU n. 292 del 15/12/2010; blog.studiocobelli.com, uivco (domain.md §1)',
  'D.M. 7 dicembre 2010 (G.U. n. 292 del 15/12/2010)'),
 ('legale',
  '2012-01-01',
  'DM MEF 12/12/2011, GU n. 291 del 15/12/2011; ragusa.ance.it circ. 23/C/2012 (domain.md §1)',
  'D.M. 12 dicembre 2011 (G.U. n. 291 del 15/12/2011)'),
 ('legale',
  '2014-01-01',
  'DM MEF 12/12/2013, GU n. 292 del 13/12/2013; lastampa.it, studiocobelli (domain.md §1)',
  'D.M. 12 dicembre 2013 (G.U. n. 292 del 13/12/2013)'),
 ('legale',
  '2015-01-01',
  'DM MEF 11/12/2014, GU n. 290 del 15/12/2014; rm-associati.it, fiscoetasse.com (domain.md §1)',
  'D.M. 11 dicembre 2014 (G.U. n. 290 del 15/12/2014)'),
 ('legale',
  '2016-01-01',
  'DM MEF 11/12/2015, GU n. 291 del 15/12/2015; dirittobancario.it, montesano.it (domain.md §1)',
  'D.M. 11 dicembre 2015 (G.U. n. 291 del 15/12/2015)'),
 ('legale',
  '2017-01-01',
  'DM MEF 7/12/2016, GU n. 291 del 14/12/2016; montesano.it, cgiamestre.com (domain.md §1)',
  'D.M. 7 dicembre 2016 (G.U. n. 291 del 14/12/2016)'),
 ('legale',
  '2018-01-01',
  'DM MEF 13/12/2017, GU n. 292 del 15/12/2017; notaiocolangeli.it (domain.md §1)',
  'D.M. 13 dicembre 2017 (G.U. n. 292 del 15/12/2017)'),
 ('legale',
  '2019-01-01',
  'DM MEF 12/12/2018, GU n. 291 del 15/12/2018; uivco.vb.it, immoplus.it (domain.md §1)',
  'D.M. 12 dicembre 2018 (G.U. n. 291 del 15/12/2018)'),
 ('legale',
  '2020-01-01',
  'DM MEF 12/12/2019, GU n. 293 del 14/12/2019; edotto.com, fiscosport.it (domain.md §1)',
  'D.M. 12 dicembre 2019 (G.U. n. 293 del 14/12/2019)'),
 ('legale',
  '2021-01-01',
  'DM MEF 11/12/2020, GU n. 310 del 15/12/2020; wp.ateneoweb.info (domain.md §1)',
  'D.M. 11 dicembre 2020 (G.U. n. 310 del 15/12/2020)'),
 ('legale',
  '2022-01-01',
  'DM MEF 13/12/2021, GU n. 297 del 15/12/2021; buildnews.it, ntpluslavoro (domain.md §1)',
  'D.M. 13 dicembre 2021 (G.U. n. 297 del 15/12/2021)'),
 ('legale',
  '2023-01-01',
  'DM MEF 13/12/2022, GU n. 292 del 15/12/2022; linknetsrl.it (domain.md §1)',
  'D.M. 13 dicembre 2022 (G.U. n. 292 del 15/12/2022)'),
 ('legale',
  '2024-01-01',
  'DM MEF 29/11/2023, GU n. 288 del 11/12/2023; commercialistatelematico.com (domain.md §1)',
  "D.M. 29 novembre 2023 (G.U. n. 288 dell'11/12/2023)"),
 ('legale',
  '2025-01-01',
  'DM MEF 10/12/2024, numero di GU unconfirmed; confapi.lecco.it, cn.camcom.it (domain.md §1)',
  'D.M. 10 dicembre 2024'),
 ('legale',
  '2026-01-01',
  'DM MEF 10/12/2025, GU n. 289 del 13/12/2025; faibrescia.it, ntpluslavoro (domain.md §1)',
  'D.M. 10 dicembre 2025 (G.U. n. 289 del 13/12/2025)'),
 ('mora_dpr602_art30',
  '2009-10-01',
  'art. 30 DPR 602/1973; cdlvitale.it (domain.md §2.1)',
  'art. 30 D.P.R. 602/1973'),
 ('mora_dpr602_art30',
  '2010-10-01',
  'Provv. AdE 7/9/2010 prot. 2010/124566; cdlvitale.it (domain.md §2.1)',
  'Provv. Agenzia delle Entrate 7 settembre 2010 prot. 2010/124566 (art. 30 D.P.R. 602/1973)'),
 ('mora_dpr602_art30',
  '2011-10-01',
  'Provv. AdE 22/6/2011; cgiamestre.com, pmi.it (domain.md §2.1)',
  'Provv. Agenzia delle Entrate 22 giugno 2011 (art. 30 D.P.R. 602/1973)'),
 ('mora_dpr602_art30',
  '2012-10-01',
  'Provv. AdE 17/7/2012 prot. 2012/104609; professionisti.it (domain.md §2.1)',
  'Provv. Agenzia delle Entrate 17 luglio 2012 prot. 2012/104609 (art. 30 D.P.R. 602/1973)'),
 ('mora_dpr602_art30',
  '2013-05-01',
  'Provv. AdE 4/3/2013; studiozanettisnc.it (domain.md §2.1)',
  'Provv. Agenzia delle Entrate 4 marzo 2013 (art. 30 D.P.R. 602/1973)'),
 ('mora_dpr602_art30',
  '2014-05-01',
  'Provv. AdE 10/4/2014 prot. 51685/2014; moltocomuni.it (domain.md §2.1)',
  'Provv. Agenzia delle Entrate 10 aprile 2014 prot. 51685/2014 (art. 30 D.P.R. 602/1973)'),
 ('mora_dpr602_art30',
  '2015-05-15',
  'Provv. AdE 30/4/2015 prot. 59743/2015; dirittobancario.it (domain.md §2.1)',
  'Provv. Agenzia delle Entrate 30 aprile 2015 prot. 59743/2015 (art. 30 D.P.R. 602/1973)'),
 ('mora_dpr602_art30',
  '2016-05-15',
  'Provv. AdE 27/4/2016; confindustria.ap.it (domain.md §2.1)',
  'Provv. Agenzia delle Entrate 27 aprile 2016 (art. 30 D.P.R. 602/1973)'),
 ('mora_dpr602_art30',
  '2017-05-15',
  'Provv. AdE 4/4/2017 prot. 66826; dirittobancario.it (domain.md §2.1)',
  'Provv. Agenzia delle Entrate 4 aprile 2017 prot. 66826 (art. 30 D.P.R. 602/1973)'),
 ('mora_dpr602_art30',
  '2018-05-15',
  'Provv. AdE 10/5/2018 prot. 0095624; lavorofacile.it (domain.md §2.1)',
  'Provv. Agenzia delle Entrate 10 maggio 2018 prot. 0095624 (art. 30 D.P.R. 602/1973)'),
 ('mora_dpr602_art30',
  '2019-07-01',
  'Provv. AdE 23/5/2019 n. 148038; cuzzola.it; ancora "l\'attuale misura" l\'1/4/2022 '
  '(serviziamministrativi.ddp.it) (domain.md §2.1)',
  'Provv. Agenzia delle Entrate 23 maggio 2019 n. 148038 (art. 30 D.P.R. 602/1973)'),
 ('mora_dpr602_art30',
  '2022-04-02',
  "Provv. AdE 23/5/2019 n. 148038; misura dopo l'1/4/2022 (unconfirmed): verificare il provvedimento vigente "
  'su agenziaentrate.gov.it (domain.md §2.1, §9.1)',
  'Provv. Agenzia delle Entrate 23 maggio 2019 n. 148038 (art. 30 D.P.R. 602/1973)'),
 ('dilazione_dpr602_art21',
  '1999-07-01',
  "art. 21 DPR 602/1973 come sostituito dall'art. 9 D.Lgs. 46/1999; data di decorrenza (unconfirmed) "
  '(domain.md §2.3)',
  "art. 21 D.P.R. 602/1973, come sostituito dall'art. 9 D.Lgs. 46/1999"),
 ('dilazione_dpr602_art21',
  '2003-07-01',
  'DM 27/6/2003 art. 4, ateneoweb.com; fine validità (unconfirmed) (domain.md §2.3)',
  'D.M. 27 giugno 2003, art. 4'),
 ('dilazione_dpr602_art21',
  '2009-10-01',
  'DM 21/5/2009 (unconfirmed): ricordo non verificato (domain.md §2.3, §9.2)',
  'art. 21 D.P.R. 602/1973')]
# (parameter code, valid_from, source as seeded before, legal citation)
_PARAMETER_SOURCES = [('oneri_l160',
  '2020-01-01',
  'L. 160/2019, art. 1 c. 803 lett. a; tuttotributi.it (domain.md §3). Base: componenti dovute + interessi '
  'come da formats.md §4 (per tuttotributi escluse le spese di notifica: da verificare)',
  'L. 160/2019, art. 1 c. 803 lett. a'),
 ('installment_regime_l160',
  '2020-01-01',
  "L. 160/2019, art. 1 c. 796, in assenza di regolamento dell'ente; comune.milazzo.me.it (domain.md §3). "
  'Fascia 100.01-500.00 "fino a 4 rate": minimo 2 per scelta di progetto',
  'L. 160/2019, art. 1 c. 796'),
 ('installment_regime_dpr602_art19',
  '2025-01-01',
  'DPR 602/1973 art. 19 c. 1 e c. 3 come modificato dal D.Lgs. 110/2024 (in vigore 8/8/2024): richiesta '
  'semplice per debiti fino a 120.000 euro, massimo di rate per data della richiesta, decadenza con 8 rate '
  'non pagate; normattiva, studio-bonato.it (domain.md §4). Minimo 2 rate (unconfirmed); rata minima 50.00 '
  'euro: prassi AdER, Vademecum maggio 2024 (unconfirmed, non è norma); 84 rate per richieste 2025-2026',
  'art. 19 c. 1 e c. 3 D.P.R. 602/1973, come modificato dal D.Lgs. 110/2024'),
 ('installment_regime_dpr602_art19',
  '2027-01-01',
  'DPR 602/1973 art. 19 c. 1 e c. 3 come modificato dal D.Lgs. 110/2024 (in vigore 8/8/2024): richiesta '
  'semplice per debiti fino a 120.000 euro, massimo di rate per data della richiesta, decadenza con 8 rate '
  'non pagate; normattiva, studio-bonato.it (domain.md §4). Minimo 2 rate (unconfirmed); rata minima 50.00 '
  'euro: prassi AdER, Vademecum maggio 2024 (unconfirmed, non è norma); 96 rate per richieste 2027-2028',
  'art. 19 c. 1 e c. 3 D.P.R. 602/1973, come modificato dal D.Lgs. 110/2024'),
 ('installment_regime_dpr602_art19',
  '2029-01-01',
  'DPR 602/1973 art. 19 c. 1 e c. 3 come modificato dal D.Lgs. 110/2024 (in vigore 8/8/2024): richiesta '
  'semplice per debiti fino a 120.000 euro, massimo di rate per data della richiesta, decadenza con 8 rate '
  'non pagate; normattiva, studio-bonato.it (domain.md §4). Minimo 2 rate (unconfirmed); rata minima 50.00 '
  'euro: prassi AdER, Vademecum maggio 2024 (unconfirmed, non è norma); 108 rate per richieste dal 2029',
  'art. 19 c. 1 e c. 3 D.P.R. 602/1973, come modificato dal D.Lgs. 110/2024'),
 ('decadenza_l160',
  '2020-01-01',
  'L. 160/2019, art. 1 c. 800: mancato pagamento, dopo espresso sollecito, di due rate anche non consecutive '
  "nell'arco di sei mesi; comune.corbetta.mi.it, comune.monopoli.ba.it (domain.md §3). Tolleranza e termine "
  'del sollecito 0 giorni (scelta di progetto)',
  'L. 160/2019, art. 1 c. 800'),
 ('prescription_tassa_auto',
  '1983-01-01',
  "DL 953/1982 art. 5 c. 51 come sostituito dall'art. 3 DL 2/1986: prescrizione con il decorso del terzo "
  'anno successivo a quello del pagamento; dopo un atto interruttivo tre anni dalla notifica (art. 2945 '
  'c.c.); asaps.it, bellunopress.it (domain.md §5); valid_from convenzionale',
  "D.L. 953/1982 art. 5 c. 51, come sostituito dall'art. 3 D.L. 2/1986; art. 2945 c.c."),
 ('prescription_5y',
  '1942-04-21',
  'art. 2948 n. 4 c.c. (tributi locali periodici; Cass. ord. 37551/2022) e art. 28 L. 689/1981 (sanzioni '
  'amministrative); art. 2963 c.c. per il computo (domain.md §5); valid_from convenzionale',
  'art. 2948 n. 4 c.c.; art. 28 L. 689/1981; art. 2963 c.c.'),
 ('prescription_10y',
  '1942-04-21',
  'art. 2946 c.c. (prescrizione ordinaria; tributi erariali, Cass. ord. 10547/2019); art. 2963 c.c. per il '
  'computo (domain.md §5); valid_from convenzionale',
  'art. 2946 c.c.; art. 2963 c.c.'),
 ('spese_notifica',
  '2023-04-29',
  'DM MEF 14/4/2023 (GU n. 100 del 29/4/2023), L. 160/2019, art. 1 c. 803 lett. b; bilancioecontabilita.it, '
  'gdc.ancidigitale.it (domain.md §3); decorrenza = data della GU (unconfirmed)',
  'D.M. 14 aprile 2023 (G.U. n. 100 del 29/04/2023); L. 160/2019, art. 1 c. 803 lett. b'),
 ('spese_procedure',
  '2000-11-21',
  'DM 21/11/2000 Tabella A (unconfirmed): valori indicativi da verificare; applicabilità agli enti locali '
  'dopo il DM 14/4/2023 non verificata (domain.md §3, c. 803 lett. b)',
  'D.M. 21 novembre 2000, Tabella A'),
 ('soglia_minima_tributi_regionali',
  '2012-07-01',
  'DL 16/2012 art. 3 c. 10 come modificato dalla L. 147/2013 c. 736: nessuna riscossione per importi fino a '
  "30 euro per credito e periodo d'imposta; comune.olivetocitra.sa.it, fiscoetasse.com (domain.md §3); "
  'decorrenza 1/7/2012 (unconfirmed)',
  'D.L. 16/2012 art. 3 c. 10, come modificato dalla L. 147/2013 c. 736'),
 ('intimazione_mesi',
  '2020-07-17',
  "DPR 602/1973 art. 50 come modificato dall'art. 26 c. 18 DL 76/2020 conv. L. 120/2020; ius-giuffrefl, "
  'indebitati.it (domain.md §0, §4); decorrenza (unconfirmed)',
  "D.P.R. 602/1973 art. 50, come modificato dall'art. 26 c. 18 D.L. 76/2020 conv. L. 120/2020"),
 ('intimazione_mesi',
  '2026-01-01',
  "D.Lgs. 33/2025 art. 146 (ex art. 50 DPR 602/1973), in vigore dall'1/1/2026 (domain.md §0)",
  'D.Lgs. 33/2025 art. 146 (G.U. n. 71 del 27/03/2025, S.O. n. 8)'),
 ('mora_surcharge_max_points',
  '2020-01-01',
  "L. 160/2019, art. 1 c. 802: tasso legale maggiorabile dall'ente fino a 2 punti; anconaentrate (domain.md "
  '§3)',
  'L. 160/2019, art. 1 c. 802'),
 ('allocation_order',
  '1942-04-21',
  "formats.md §4 (ordine predefinito dell'entrata); art. 1194 c.c. (imputazione prima a interessi e spese); "
  'valid_from convenzionale',
  'art. 1194 c.c.'),
 ('ipoteca_min',
  '2011-07-13',
  'DPR 602/1973 art. 77 c. 1-bis (ipoteca solo per crediti >= 20.000 euro); studiolegaleluigisorace.it, '
  'Cass. 18964/2020 (domain.md §4); decorrenza (unconfirmed)',
  'D.P.R. 602/1973 art. 77 c. 1-bis')]


def _rewrite_sources(to_citation: bool) -> None:
    """Seeded text -> (citation, note), or back on downgrade; only rows still as seeded."""
    conn = op.get_bind()
    rate_sql = sa.text(
        "UPDATE rate_periods SET source = :new_source, note = :new_note "
        "WHERE rate_table_id = (SELECT id FROM rate_tables WHERE code = :code) "
        "AND valid_from = :valid_from AND source = :old_source"
    )
    parameter_sql = sa.text(
        "UPDATE parameters SET source = :new_source, note = :new_note "
        "WHERE code = :code AND ente_id IS NULL AND entrata_id IS NULL "
        "AND valid_from = :valid_from AND source = :old_source"
    )
    for sql, rows in ((rate_sql, _RATE_SOURCES), (parameter_sql, _PARAMETER_SOURCES)):
        for code, valid_from, seeded, citation in rows:
            if to_citation:
                params = {"new_source": citation, "new_note": seeded, "old_source": seeded}
            else:
                params = {"new_source": seeded, "new_note": None, "old_source": citation}
            conn.execute(sql, {"code": code, "valid_from": datetime.date.fromisoformat(valid_from), **params})


def upgrade():
    # batch mode: plain ALTERs on PostgreSQL, a table copy on SQLite (which cannot add a foreign key)
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.alter_column('confirmed', new_column_name='verified', existing_type=sa.Boolean(),
                               existing_nullable=False, server_default=sa.false())
            batch.add_column(sa.Column('note', sa.Text(), nullable=True))
            batch.add_column(sa.Column('verified_dt', app.core.db.UTCDateTime(timezone=True), nullable=True))
            batch.add_column(sa.Column('verified_by_id', sa.Integer(), nullable=True))
            batch.add_column(sa.Column('verified_against', sa.Text(), nullable=True))
            batch.create_foreign_key(
                op.f(f'fk_{table}_verified_by_id_users'), 'users', ['verified_by_id'], ['id']
            )
        op.execute(sa.text(f"UPDATE {table} SET verified = :no").bindparams(no=False))
    _rewrite_sources(to_citation=True)


def downgrade():
    _rewrite_sources(to_citation=False)
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(op.f(f'fk_{table}_verified_by_id_users'), type_='foreignkey')
            batch.drop_column('verified_against')
            batch.drop_column('verified_by_id')
            batch.drop_column('verified_dt')
            batch.drop_column('note')
            batch.alter_column('verified', new_column_name='confirmed', existing_type=sa.Boolean(),
                               existing_nullable=False, server_default=None)
        # the old flag said whether the research was confirmed: rows marked "(unconfirmed)" were not
        op.execute(sa.text(
            f"UPDATE {table} SET confirmed = :yes WHERE source NOT LIKE :mark"
        ).bindparams(yes=True, mark='%(unconfirmed)%'))
