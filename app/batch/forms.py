"""Forms of the batch monitor: run a registered job now or at a later time (Europe/Rome), cancel a run."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, HiddenField, IntegerField, SelectField, SubmitField
from wtforms.validators import DataRequired, InputRequired

from app.core import periodic


def _job_choices() -> list[tuple[str, str]]:
    return [
        (job.name, job.description)
        for job in sorted(periodic.registry().values(), key=lambda j: j.description)
    ]


class RunNowForm(FlaskForm):
    job = HiddenField(validators=[DataRequired()])
    submit = SubmitField("Esegui ora")


class ScheduleRunForm(FlaskForm):
    job = SelectField("Lavoro", validators=[DataRequired("Scegli il lavoro.")])
    run_at = DateTimeLocalField(
        "Data e ora (ora italiana)",
        format="%Y-%m-%dT%H:%M",
        validators=[InputRequired("Indica data e ora dell'esecuzione.")],
    )
    submit = SubmitField("Programma")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.job.choices = _job_choices()


class CancelRunForm(FlaskForm):
    run_id = IntegerField(validators=[InputRequired()])
    submit = SubmitField("Annulla")
