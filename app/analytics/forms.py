"""Forms of the analytics pages: the dashboard's filter, the query builder (GET), save and schedule (POST)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from app.analytics.builder import MAX_FILTERS, OPERATORS, QuerySpec
from app.analytics.datasets import Dataset, datasets
from app.core.query_forms import PlainText, QueryForm
from app.core.url_ids import MAX_ID


class DashboardQuery(QueryForm):
    ente = IntegerField("Ente", validators=[Optional(), NumberRange(1, MAX_ID, "un numero da 1")])


class BuilderQuery(QueryForm):
    """The builder's state in the query string: every choice is a key of the chosen dataset."""

    dataset = SelectField("Dati", validators=[Optional()], default="posizioni")
    colonne = SelectMultipleField("Colonne (elenco)", validators=[Optional()])
    raggruppa = SelectMultipleField("Raggruppa per", validators=[Optional()])
    misure = SelectMultipleField("Misure", validators=[Optional()])
    campo_1 = SelectField("Filtro 1: campo", validators=[Optional()])
    op_1 = SelectField("Filtro 1: condizione", validators=[Optional()])
    valore_1 = StringField("Filtro 1: valore", validators=[Optional(), PlainText(), Length(max=100)])
    campo_2 = SelectField("Filtro 2: campo", validators=[Optional()])
    op_2 = SelectField("Filtro 2: condizione", validators=[Optional()])
    valore_2 = StringField("Filtro 2: valore", validators=[Optional(), PlainText(), Length(max=100)])
    campo_3 = SelectField("Filtro 3: campo", validators=[Optional()])
    op_3 = SelectField("Filtro 3: condizione", validators=[Optional()])
    valore_3 = StringField("Filtro 3: valore", validators=[Optional(), PlainText(), Length(max=100)])

    def set_choices(self, ds: Dataset) -> None:
        self.dataset.choices = [(d.key, d.label) for d in datasets().values()]
        self.colonne.choices = [(f.key, f.label) for f in ds.fields]
        self.raggruppa.choices = [(f.key, f.label) for f in ds.fields if f.group]
        measures = [("count", "Numero di righe")]
        for f in ds.fields:
            if f.measure:
                measures += [
                    (f"sum:{f.key}", f"Somma di {f.label.lower()}"),
                    (f"avg:{f.key}", f"Media di {f.label.lower()}"),
                ]
        self.misure.choices = measures
        fields = [("", "—"), *((f.key, f.label) for f in ds.fields)]
        for n in range(1, MAX_FILTERS + 1):
            self[f"campo_{n}"].choices = fields
            self[f"op_{n}"].choices = list(OPERATORS.items())

    def spec(self) -> QuerySpec:
        filters = []
        for n in range(1, MAX_FILTERS + 1):
            key = self[f"campo_{n}"].data
            if key:
                filters.append((key, self[f"op_{n}"].data or "eq", self[f"valore_{n}"].data or ""))
        return QuerySpec(
            dataset=self.dataset.data or "posizioni",
            columns=tuple(self.colonne.data or ()),
            group=tuple(self.raggruppa.data or ()),
            measures=tuple(self.misure.data or ()),
            filters=tuple(filters),
        )


def spec_args(spec: QuerySpec) -> dict[str, object]:
    """The query string that reopens `spec` in the builder (and downloads its exports)."""
    args: dict[str, object] = {
        "dataset": spec.dataset,
        "colonne": list(spec.columns),
        "raggruppa": list(spec.group),
        "misure": list(spec.measures),
    }
    for n, (key, op, value) in enumerate(spec.filters[:MAX_FILTERS], start=1):
        args.update({f"campo_{n}": key, f"op_{n}": op, f"valore_{n}": value})
    return args


class SaveQueryForm(FlaskForm):
    nome = StringField("Nome dell'interrogazione", validators=[DataRequired(), PlainText(), Length(max=120)])
    condividi = SelectField("Condividi con il ruolo", validators=[Optional()])


class ScheduleForm(FlaskForm):
    frequenza = SelectField("Frequenza", validators=[Optional()])
    consegna = SelectField("Consegna", validators=[Optional()])
    formato = SelectField("Formato", validators=[Optional()])
    destinatario = StringField(
        "E-mail del destinatario",
        validators=[
            Optional(),
            Length(max=200),
            Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message="indirizzo non valido"),
        ],
    )
    ente = SelectField("Archivio dell'ente", coerce=int, validators=[Optional()])
    dal = DateField("Prima esecuzione", validators=[Optional()])
