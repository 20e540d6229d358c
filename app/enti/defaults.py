"""National default parameters of the collection engine, as plain data (domain.md gives each row).

The lead loads these rows into the parameter tables; `app.engine.params.params_from_rows` turns rows of the
same shape back into engine values. Decimals are strings, dates ISO strings, `valid_to` None is open-ended;
a rate is an annual percentage ("1.25" is 1,25%).

`source` is the legal act the value comes from, written as a citation ("D.M. 13 dicembre 2021 (G.U. n. 297
del 15/12/2021)", "art. 2946 c.c."): it is shown to users and returned by the API, so it never names a file,
a web site or a research note (app/enti/citations.py checks it). The G.U. number and date are written only
where domain.md gives them. `note` keeps the research notes behind the row (where it was found, what is
unconfirmed): it is stored for the administrators' reference and shown on no screen.

Every seeded row starts "da verificare" (`verified` False in the database): no one has checked it against
the Gazzetta Ufficiale yet. An administrator verifies it on /amministrazione/parametri, which records who,
when and against which publication.
"""

_D1 = "domain.md §1"
_D21 = "domain.md §2.1"
_L160 = "L. 160/2019, art. 1"


def _period(valid_from, valid_to, rate, source, note):
    return {"valid_from": valid_from, "valid_to": valid_to, "rate": rate, "source": source, "note": note}


def _row(code, valid_from, valid_to, value, source, note):
    return {"code": code, "valid_from": valid_from, "valid_to": valid_to, "value": value, "source": source,
            "note": note}


def _ade(act):
    return f"Provv. Agenzia delle Entrate {act} (art. 30 D.P.R. 602/1973)"


_OLD_TABLE = f"tabella storica studioalboraliguerra.it, lavorofacile.it ({_D1})"

RATE_TABLES = {
    "legale": {
        "name": "Tasso di interesse legale (art. 1284 c.c.)",
        "kind": "legale",
        "periods": [
            _period("1942-04-21", "1990-12-15", "5", "art. 1284 c.c., testo originario",
                    f"art. 1284 c.c., testo originario; {_OLD_TABLE}; valid_from convenzionale = entrata in "
                    "vigore del codice civile (unconfirmed)"),
            _period("1990-12-16", "1996-12-31", "10", "art. 1284 c.c., come modificato dalla L. 353/1990",
                    f"art. 1284 c.c. come modificato dalla L. 353/1990 (da verificare); {_OLD_TABLE}"),
            _period("1997-01-01", "1998-12-31", "5", "art. 1284 c.c., come modificato dalla L. 662/1996",
                    f"art. 1284 c.c. come modificato dalla L. 662/1996 (da verificare); {_OLD_TABLE}"),
            _period("1999-01-01", "2000-12-31", "2.5", "D.M. 10 dicembre 1998",
                    f"DM Tesoro 10/12/1998 (da verificare); {_OLD_TABLE}"),
            _period("2001-01-01", "2001-12-31", "3.5", "D.M. 11 dicembre 2000",
                    f"DM Tesoro 11/12/2000 (da verificare); {_OLD_TABLE}"),
            _period("2002-01-01", "2003-12-31", "3", "D.M. 11 dicembre 2001",
                    f"DM MEF 11/12/2001 (da verificare); {_OLD_TABLE}"),
            _period("2004-01-01", "2007-12-31", "2.5", "D.M. 1° dicembre 2003",
                    f"DM MEF 1/12/2003 (da verificare); {_OLD_TABLE}"),
            _period("2008-01-01", "2009-12-31", "3", "D.M. 12 dicembre 2007",
                    f"DM MEF 12/12/2007; {_OLD_TABLE}"),
            _period("2010-01-01", "2010-12-31", "1", "D.M. 4 dicembre 2009",
                    f"DM MEF 4/12/2009; uivco.vb.it, studiobottero.com ({_D1})"),
            _period("2011-01-01", "2011-12-31", "1.5", "D.M. 7 dicembre 2010 (G.U. n. 292 del 15/12/2010)",
                    f"DM MEF 7/12/2010, GU n. 292 del 15/12/2010; blog.studiocobelli.com, uivco ({_D1})"),
            _period("2012-01-01", "2013-12-31", "2.5", "D.M. 12 dicembre 2011 (G.U. n. 291 del 15/12/2011)",
                    f"DM MEF 12/12/2011, GU n. 291 del 15/12/2011; ragusa.ance.it circ. 23/C/2012 ({_D1})"),
            _period("2014-01-01", "2014-12-31", "1", "D.M. 12 dicembre 2013 (G.U. n. 292 del 13/12/2013)",
                    f"DM MEF 12/12/2013, GU n. 292 del 13/12/2013; lastampa.it, studiocobelli ({_D1})"),
            _period("2015-01-01", "2015-12-31", "0.5", "D.M. 11 dicembre 2014 (G.U. n. 290 del 15/12/2014)",
                    f"DM MEF 11/12/2014, GU n. 290 del 15/12/2014; rm-associati.it, fiscoetasse.com ({_D1})"),
            _period("2016-01-01", "2016-12-31", "0.2", "D.M. 11 dicembre 2015 (G.U. n. 291 del 15/12/2015)",
                    f"DM MEF 11/12/2015, GU n. 291 del 15/12/2015; dirittobancario.it, montesano.it ({_D1})"),
            _period("2017-01-01", "2017-12-31", "0.1", "D.M. 7 dicembre 2016 (G.U. n. 291 del 14/12/2016)",
                    f"DM MEF 7/12/2016, GU n. 291 del 14/12/2016; montesano.it, cgiamestre.com ({_D1})"),
            _period("2018-01-01", "2018-12-31", "0.3", "D.M. 13 dicembre 2017 (G.U. n. 292 del 15/12/2017)",
                    f"DM MEF 13/12/2017, GU n. 292 del 15/12/2017; notaiocolangeli.it ({_D1})"),
            _period("2019-01-01", "2019-12-31", "0.8", "D.M. 12 dicembre 2018 (G.U. n. 291 del 15/12/2018)",
                    f"DM MEF 12/12/2018, GU n. 291 del 15/12/2018; uivco.vb.it, immoplus.it ({_D1})"),
            _period("2020-01-01", "2020-12-31", "0.05", "D.M. 12 dicembre 2019 (G.U. n. 293 del 14/12/2019)",
                    f"DM MEF 12/12/2019, GU n. 293 del 14/12/2019; edotto.com, fiscosport.it ({_D1})"),
            _period("2021-01-01", "2021-12-31", "0.01", "D.M. 11 dicembre 2020 (G.U. n. 310 del 15/12/2020)",
                    f"DM MEF 11/12/2020, GU n. 310 del 15/12/2020; wp.ateneoweb.info ({_D1})"),
            _period("2022-01-01", "2022-12-31", "1.25", "D.M. 13 dicembre 2021 (G.U. n. 297 del 15/12/2021)",
                    f"DM MEF 13/12/2021, GU n. 297 del 15/12/2021; buildnews.it, ntpluslavoro ({_D1})"),
            _period("2023-01-01", "2023-12-31", "5", "D.M. 13 dicembre 2022 (G.U. n. 292 del 15/12/2022)",
                    f"DM MEF 13/12/2022, GU n. 292 del 15/12/2022; linknetsrl.it ({_D1})"),
            _period("2024-01-01", "2024-12-31", "2.5", "D.M. 29 novembre 2023 (G.U. n. 288 dell'11/12/2023)",
                    f"DM MEF 29/11/2023, GU n. 288 del 11/12/2023; commercialistatelematico.com ({_D1})"),
            _period("2025-01-01", "2025-12-31", "2", "D.M. 10 dicembre 2024",
                    f"DM MEF 10/12/2024, numero di GU unconfirmed; confapi.lecco.it, cn.camcom.it ({_D1})"),
            _period("2026-01-01", None, "1.6", "D.M. 10 dicembre 2025 (G.U. n. 289 del 13/12/2025)",
                    f"DM MEF 10/12/2025, GU n. 289 del 13/12/2025; faibrescia.it, ntpluslavoro ({_D1})"),
        ],
    },
    "mora_dpr602_art30": {
        "name": "Interessi di mora sui ruoli (art. 30 DPR 602/1973)",
        "kind": "mora",
        "periods": [
            _period("2009-10-01", "2010-09-30", "6.8358", "art. 30 D.P.R. 602/1973",
                    f"art. 30 DPR 602/1973; cdlvitale.it ({_D21})"),
            _period("2010-10-01", "2011-09-30", "5.7567",
                    _ade("7 settembre 2010 prot. 2010/124566"),
                    f"Provv. AdE 7/9/2010 prot. 2010/124566; cdlvitale.it ({_D21})"),
            _period("2011-10-01", "2012-09-30", "5.0243",
                    _ade("22 giugno 2011"),
                    f"Provv. AdE 22/6/2011; cgiamestre.com, pmi.it ({_D21})"),
            _period("2012-10-01", "2013-04-30", "4.5504",
                    _ade("17 luglio 2012 prot. 2012/104609"),
                    f"Provv. AdE 17/7/2012 prot. 2012/104609; professionisti.it ({_D21})"),
            _period("2013-05-01", "2014-04-30", "5.2233",
                    _ade("4 marzo 2013"),
                    f"Provv. AdE 4/3/2013; studiozanettisnc.it ({_D21})"),
            _period("2014-05-01", "2015-05-14", "5.14",
                    _ade("10 aprile 2014 prot. 51685/2014"),
                    f"Provv. AdE 10/4/2014 prot. 51685/2014; moltocomuni.it ({_D21})"),
            _period("2015-05-15", "2016-05-14", "4.88",
                    _ade("30 aprile 2015 prot. 59743/2015"),
                    f"Provv. AdE 30/4/2015 prot. 59743/2015; dirittobancario.it ({_D21})"),
            _period("2016-05-15", "2017-05-14", "4.13",
                    _ade("27 aprile 2016"),
                    f"Provv. AdE 27/4/2016; confindustria.ap.it ({_D21})"),
            _period("2017-05-15", "2018-05-14", "3.50",
                    _ade("4 aprile 2017 prot. 66826"),
                    f"Provv. AdE 4/4/2017 prot. 66826; dirittobancario.it ({_D21})"),
            _period("2018-05-15", "2019-06-30", "3.01",
                    _ade("10 maggio 2018 prot. 0095624"),
                    f"Provv. AdE 10/5/2018 prot. 0095624; lavorofacile.it ({_D21})"),
            _period("2019-07-01", "2022-04-01", "2.68",
                    _ade("23 maggio 2019 n. 148038"),
                    "Provv. AdE 23/5/2019 n. 148038; cuzzola.it; ancora \"l'attuale misura\" l'1/4/2022 "
                    f"(serviziamministrativi.ddp.it) ({_D21})"),
            _period("2022-04-02", None, "2.68",
                    _ade("23 maggio 2019 n. 148038"),
                    "Provv. AdE 23/5/2019 n. 148038; misura dopo l'1/4/2022 (unconfirmed): verificare il "
                    "provvedimento vigente su agenziaentrate.gov.it (domain.md §2.1, §9.1)"),
        ],
    },
    "dilazione_dpr602_art21": {
        "name": "Interessi di dilazione (art. 21 DPR 602/1973)",
        "kind": "dilazione",
        "periods": [
            _period("1999-07-01", "2003-06-30", "6",
                    "art. 21 D.P.R. 602/1973, come sostituito dall'art. 9 D.Lgs. 46/1999",
                    "art. 21 DPR 602/1973 come sostituito dall'art. 9 D.Lgs. 46/1999; data di decorrenza "
                    "(unconfirmed) (domain.md §2.3)"),
            _period("2003-07-01", "2009-09-30", "4", "D.M. 27 giugno 2003, art. 4",
                    "DM 27/6/2003 art. 4, ateneoweb.com; fine validità (unconfirmed) (domain.md §2.3)"),
            # the decree of the 4.5% is only a recollection (domain.md §9.2): the citation names the article
            _period("2009-10-01", None, "4.5", "art. 21 D.P.R. 602/1973",
                    "DM 21/5/2009 (unconfirmed): ricordo non verificato (domain.md §2.3, §9.2)"),
        ],
    },
}

_C796_BANDS = [
    {"up_to": "100.00", "min": None, "max": None},
    {"up_to": "500.00", "min": 2, "max": 4},
    {"up_to": "3000.00", "min": 5, "max": 12},
    {"up_to": "6000.00", "min": 13, "max": 24},
    {"up_to": "20000.00", "min": 25, "max": 36},
    {"up_to": None, "min": 37, "max": 72},
]


def _art19(max_installments):
    return {
        "bands": [
            {"up_to": "120000.00", "min": 2, "max": max_installments},
            {"up_to": None, "min": None, "max": None},
        ],
        "min_installment_amount": "50.00",
        "decadenza": {"unpaid_installments": 8, "window_months": None, "sollecito_required": False,
                      "grace_days": 0, "sollecito_term_days": 0},
    }


_ART19_NOTE = (
    "DPR 602/1973 art. 19 c. 1 e c. 3 come modificato dal D.Lgs. 110/2024 (in vigore 8/8/2024): richiesta "
    "semplice per debiti fino a 120.000 euro, massimo di rate per data della richiesta, decadenza con 8 rate "
    "non pagate; normattiva, studio-bonato.it (domain.md §4). Minimo 2 rate (unconfirmed); rata minima 50.00 "
    "euro: prassi AdER, Vademecum maggio 2024 (unconfirmed, non è norma)"
)
_ART19_SOURCE = "art. 19 c. 1 e c. 3 D.P.R. 602/1973, come modificato dal D.Lgs. 110/2024"

PARAMETERS = [
    _row("oneri_l160", "2020-01-01", None,
         {"reduced_percent": "3", "reduced_cap": "300.00", "reduced_days": 60, "full_percent": "6",
          "full_cap": "600.00", "base_components": ["capitale", "sanzioni", "interessi", "spese"]},
         f"{_L160} c. 803 lett. a",
         f"{_L160} c. 803 lett. a; tuttotributi.it (domain.md §3). Base: componenti dovute + interessi "
         "come da formats.md §4 (per tuttotributi escluse le spese di notifica: da verificare)"),
    _row("installment_regime_l160", "2020-01-01", None,
         {"bands": _C796_BANDS, "min_installment_amount": None},
         f"{_L160} c. 796",
         f"{_L160} c. 796, in assenza di regolamento dell'ente; comune.milazzo.me.it (domain.md §3). "
         "Fascia 100.01-500.00 \"fino a 4 rate\": minimo 2 per scelta di progetto"),
    _row("installment_regime_dpr602_art19", "2025-01-01", "2026-12-31", _art19(84), _ART19_SOURCE,
         _ART19_NOTE + "; 84 rate per richieste 2025-2026"),
    _row("installment_regime_dpr602_art19", "2027-01-01", "2028-12-31", _art19(96), _ART19_SOURCE,
         _ART19_NOTE + "; 96 rate per richieste 2027-2028"),
    _row("installment_regime_dpr602_art19", "2029-01-01", None, _art19(108), _ART19_SOURCE,
         _ART19_NOTE + "; 108 rate per richieste dal 2029"),
    _row("decadenza_l160", "2020-01-01", None,
         {"unpaid_installments": 2, "window_months": 6, "sollecito_required": True, "grace_days": 0,
          "sollecito_term_days": 0},
         f"{_L160} c. 800",
         f"{_L160} c. 800: mancato pagamento, dopo espresso sollecito, di due rate anche non consecutive "
         "nell'arco di sei mesi; comune.corbetta.mi.it, comune.monopoli.ba.it (domain.md §3). Tolleranza e "
         "termine del sollecito 0 giorni (scelta di progetto)"),
    _row("interessi_rateazione", "2020-01-01", None, {"rate_table": "legale", "surcharge_points": "0"},
         f"{_L160} c. 802",
         f"{_L160} c. 802: interessi sulle somme rateizzate al tasso legale, maggiorabile dall'ente fino a 2 "
         "punti con regolamento (anconaentrate: tasso legale + 0,5 sulle rateazioni; domain.md §3); la riga "
         "nazionale applica il tasso legale senza maggiorazione: da verificare"),
    _row("proroga_rateazione_l160", "2020-01-01", None, {"max_installments": 72},
         f"{_L160} c. 797",
         f"{_L160} c. 797: proroga concessa una sola volta, per comprovato peggioramento, se non è "
         "intervenuta decadenza; il massimo di 72 rate è un ricordo non confermato (comune.corbetta.mi.it "
         "applica 48 per proprio regolamento; domain.md §3): da verificare sul testo in Gazzetta"),
    _row("prescription_tassa_auto", "1983-01-01", None,
         {"kind": "end_of_year", "years": 3, "label": "3 anni"},
         "D.L. 953/1982 art. 5 c. 51, come sostituito dall'art. 3 D.L. 2/1986; art. 2945 c.c.",
         "DL 953/1982 art. 5 c. 51 come sostituito dall'art. 3 DL 2/1986: prescrizione con il decorso del "
         "terzo anno successivo a quello del pagamento; dopo un atto interruttivo tre anni dalla notifica "
         "(art. 2945 c.c.); asaps.it, bellunopress.it (domain.md §5); valid_from convenzionale"),
    _row("prescription_5y", "1942-04-21", None,
         {"kind": "anniversary", "years": 5, "label": "5 anni"},
         "art. 2948 n. 4 c.c.; art. 28 L. 689/1981; art. 2963 c.c.",
         "art. 2948 n. 4 c.c. (tributi locali periodici; Cass. ord. 37551/2022) e art. 28 L. 689/1981 "
         "(sanzioni amministrative); art. 2963 c.c. per il computo (domain.md §5); valid_from convenzionale"),
    _row("prescription_10y", "1942-04-21", None,
         {"kind": "anniversary", "years": 10, "label": "10 anni"},
         "art. 2946 c.c.; art. 2963 c.c.",
         "art. 2946 c.c. (prescrizione ordinaria; tributi erariali, Cass. ord. 10547/2019); art. 2963 c.c. "
         "per il computo (domain.md §5); valid_from convenzionale"),
    _row("spese_notifica", "2023-04-29", None,
         {"sollecito": "1.33", "raccomandata_ar": "7.83", "raccomandata_semplice": "6.51", "pec": "2.00",
          "notifica_art60_l890": "11.55"},
         f"D.M. 14 aprile 2023 (G.U. n. 100 del 29/04/2023); {_L160} c. 803 lett. b",
         f"DM MEF 14/4/2023 (GU n. 100 del 29/4/2023), {_L160} c. 803 lett. b; bilancioecontabilita.it, "
         "gdc.ancidigitale.it (domain.md §3); decorrenza = data della GU (unconfirmed)"),
    _row("spese_procedure", "2000-11-21", None,
         {"preavviso_fermo": "6.00", "fermo_amministrativo": "6.00", "cancellazione_fermo": "6.00",
          "ipoteca": "30.00", "pignoramento_presso_terzi": "30.00", "pignoramento_mobiliare": "30.00"},
         "D.M. 21 novembre 2000, Tabella A",
         "DM 21/11/2000 Tabella A (unconfirmed): valori indicativi da verificare; applicabilità agli enti "
         "locali dopo il DM 14/4/2023 non verificata (domain.md §3, c. 803 lett. b)"),
    _row("soglia_minima_tributi_regionali", "2012-07-01", None, {"amount": "30.00"},
         "D.L. 16/2012 art. 3 c. 10, come modificato dalla L. 147/2013 c. 736",
         "DL 16/2012 art. 3 c. 10 come modificato dalla L. 147/2013 c. 736: nessuna riscossione per importi "
         "fino a 30 euro per credito e periodo d'imposta; comune.olivetocitra.sa.it, fiscoetasse.com "
         "(domain.md §3); decorrenza 1/7/2012 (unconfirmed)"),
    _row("intimazione_mesi", "2020-07-17", "2025-12-31", {"months": 12},
         "D.P.R. 602/1973 art. 50, come modificato dall'art. 26 c. 18 D.L. 76/2020 conv. L. 120/2020",
         "DPR 602/1973 art. 50 come modificato dall'art. 26 c. 18 DL 76/2020 conv. L. 120/2020; "
         "ius-giuffrefl, indebitati.it (domain.md §0, §4); decorrenza (unconfirmed)"),
    _row("intimazione_mesi", "2026-01-01", None, {"months": 12},
         "D.Lgs. 33/2025 art. 146 (G.U. n. 71 del 27/03/2025, S.O. n. 8)",
         "D.Lgs. 33/2025 art. 146 (ex art. 50 DPR 602/1973), in vigore dall'1/1/2026 (domain.md §0)"),
    _row("mora_surcharge_max_points", "2020-01-01", None, {"points": "2"},
         f"{_L160} c. 802",
         f"{_L160} c. 802: tasso legale maggiorabile dall'ente fino a 2 punti; anconaentrate (domain.md §3)"),
    _row("allocation_order", "1942-04-21", None, {"order": ["spese", "interessi", "sanzioni", "capitale"]},
         "art. 1194 c.c.",
         "formats.md §4 (ordine predefinito dell'entrata); art. 1194 c.c. (imputazione prima a interessi e "
         "spese); valid_from convenzionale"),
    _row("compiuta_giacenza", "2005-03-17", None, {"days": 10},
         "art. 8 c. 4 L. 890/1982, come modificato dall'art. 2 c. 4 D.L. 35/2005 conv. L. 80/2005",
         "L. 890/1982 art. 8 c. 4: la notifica per compiuta giacenza si perfeziona decorsi dieci giorni "
         "dalla spedizione della comunicazione di avvenuto deposito (CAD) (domain.md glossario); "
         "decorrenza del testo vigente (unconfirmed)"),
    # a sollecito before any cautelare or esecutiva action for debts up to this amount
    # (app/atti/prerequisites.py, and the escalation's ladder)
    _row("sollecito_obbligatorio_fino_a", "2020-01-01", None, {"amount": "10000.00"},
         "L. 160/2019, art. 1, c. 795; D.M. 14 aprile 2023 (G.U. n. 100 del 29/04/2023)",
         "sollecito di pagamento obbligatorio prima delle azioni cautelari ed esecutive per debiti fino a "
         "10.000 euro (domain.md §3; c. 795 per il DM MEF 14/4/2023)"),
    _row("ipoteca_min", "2011-07-13", None, {"amount": "20000.00"},
         "D.P.R. 602/1973 art. 77 c. 1-bis",
         "DPR 602/1973 art. 77 c. 1-bis (ipoteca solo per crediti >= 20.000 euro); "
         "studiolegaleluigisorace.it, Cass. 18964/2020 (domain.md §4); decorrenza (unconfirmed)"),
    # procedures (app/procedures): the wage bands of a pignoramento presso il datore di lavoro and the third
    # party's term to pay
    _row("pignoramento_quote_stipendio", "2012-03-02", None,
         {"bands": [{"up_to": "2500.00", "fraction": "1/10"}, {"up_to": "5000.00", "fraction": "1/7"},
                    {"up_to": None, "fraction": "1/5"}]},
         "D.P.R. 602/1973 art. 72-ter c. 1; art. 545 c. 4 c.p.c.",
         "DPR 602/1973 art. 72-ter (1/10 fino a 2.500 euro, 1/7 da 2.500,01 a 5.000, oltre 1/5 per l'art. "
         "545 c. 4 cpc); normattiva, brocardi (domain.md §4); decorrenza = entrata in vigore del DL 16/2012 "
         "che lo ha introdotto (unconfirmed); importi netti mensili"),
    _row("pignoramento_termine_terzo", "2013-06-22", None, {"days": 60},
         "D.P.R. 602/1973 art. 72-bis c. 1",
         "DPR 602/1973 art. 72-bis: il terzo paga entro 60 giorni le somme già maturate; "
         "francescominazzi.net, "
         "cfclegal.it (domain.md §4); decorrenza dei 60 giorni (DL 69/2013, prima 15) unconfirmed"),
]

# The rule of the amount due of each demo entrata (parameter `regola_dovuto`, one row per entrata; read by
# app/positions/amounts.py): when interest starts, on which components, at which rate table, and the oneri.
# Spese are those of the lista di carico and of later movements. Oneri di riscossione (L. 160/2019 c. 803) are
# not applied: the regime of cc. 784-815 does not cover the Regioni (domain.md §3).
_NO_ONERI = ("oneri di riscossione non applicati: L. 160/2019, art. 1, c. 784 non comprende le Regioni")
ENTRATA_RULES = {
    "TASSA_AUTO": _row(
        "regola_dovuto", "2020-01-01", None,
        {"interest": {"start": "scadenza", "start_days": 0, "rate_table": "legale", "base": ["capitale"],
                      "surcharge_points": "0", "day_count": "ACT/365"}, "charges": None},
        "art. 1284 c.c. (saggio degli interessi legali); art. 1282 c.c.",
        "Interessi al tasso legale sulla tassa, giorno per giorno dal giorno successivo alla scadenza; "
        "sanzioni escluse dalla base (D.P.R. 602/1973, art. 30). L. 296/2006, art. 1, c. 165 citata "
        f"a memoria (unconfirmed, non in domain.md); {_NO_ONERI}"),
    "SANZIONI": _row(
        "regola_dovuto", "2020-01-01", None, {"interest": None, "charges": None},
        "L. 689/1981, art. 27, c. 6",
        "Nessun interesse sulle sanzioni amministrative: il ritardo è regolato dalla maggiorazione di un "
        f"decimo per semestre, non ancora applicata dal motore; {_NO_ONERI}"),
    "CANONI": _row(
        "regola_dovuto", "2020-01-01", None,
        {"interest": {"start": "scadenza", "start_days": 0, "rate_table": "legale", "base": ["capitale"],
                      "surcharge_points": "0", "day_count": "ACT/365"}, "charges": None},
        "art. 1284 c.c. (saggio degli interessi legali); art. 1282 c.c.",
        f"Interessi al tasso legale sul canone scaduto, dal giorno successivo alla scadenza; {_NO_ONERI}"),
}
