"""Messages screens: the card's "Messaggi" section (list, consents, "Invia messaggio" with preview), the
messages list with filters and exports, the templates and send rules (administration)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from app.core.access import Principal, current_principal, permission_required
from app.core.card_view import log_card_section
from app.core.errors import DomainError
from app.core.query_forms import valid_query
from app.core.security import current_actor
from app.crm.messages import exports, forms, queries, rendering, services
from app.crm.messages.models import CHANNELS, CONSENT_SOURCES, POSTAL_NOTE, PURPOSES, STATUSES
from app.enti.models import Ente, Entrata
from app.extensions import db
from app.reports.exports import FORMATS
from app.reports.routes import export_list

bp = Blueprint("messages", __name__, url_prefix="/messaggi")


def _enti(principal: Principal) -> list[Ente]:
    from app.enti.queries import list_enti

    return list_enti(db.session, principal.ente_ids)


def _choices(mapping: dict[str, str], empty: str | None = None) -> list[tuple[str, str]]:
    return ([("", empty)] if empty is not None else []) + list(mapping.items())


# --- the messages list --------------------------------------------------------------------------------------


def _filters() -> tuple[forms.MessageFilters, queries.MessageFilters]:
    principal = current_principal()
    form = forms.MessageFilters(request.args)
    form.ente.choices = [("", "Tutti")] + [(str(e.id), f"{e.code} – {e.name}") for e in _enti(principal)]
    form.canale.choices = _choices(CHANNELS, "Tutti")
    form.stato.choices = _choices(STATUSES, "Tutti")
    form.finalita.choices = _choices(PURPOSES, "Tutte")
    form = valid_query(form, shown_on_form=("dal", "al"))
    return form, queries.MessageFilters(
        ente_id=int(form.ente.data) if form.ente.data else None,
        channel=form.canale.data or None,
        status=form.stato.data or None,
        purpose=form.finalita.data or None,
        date_from=form.dal.data,
        date_to=form.al.data,
        q=form.q.data or None,
    )


@bp.route("/")
@permission_required("taxpayer.read")
def message_list() -> Any:
    form, filters = _filters()
    found = queries.list_messages(db.session, current_principal(), filters, page=form.pagina.data or 1)
    params = {k: v for k, v in request.args.items() if k != "pagina" and v}
    return render_template(
        "crm/messages/message_list.html", form=form, rows=found.items, total=found.total, page=found.page,
        has_next=found.has_next, params=params, formats=FORMATS, postal_note=POSTAL_NOTE,
    )


@bp.route("/esporta.<fmt>")
@permission_required("export")
def message_export(fmt: str) -> Any:
    if fmt not in FORMATS:
        abort(404)
    _, filters = _filters()
    return export_list(exports.messages, fmt, filters.as_args())


# --- the card's section -------------------------------------------------------------------------------------


def _taxpayer_enti(principal: Principal, taxpayer_id: int) -> list[Ente]:
    ids = queries.taxpayer_ente_ids(db.session, principal, taxpayer_id)
    return [e for e in _enti(principal) if e.id in ids]


def _send_form(principal: Principal, taxpayer_id: int, enti: list[Ente]) -> forms.SendForm:
    from app.positions.queries import position_options

    form = forms.SendForm()
    form.ente.choices = [(str(e.id), f"{e.code} – {e.name}") for e in enti]
    form.canale.choices = [("", "Secondo la preferenza del contribuente"), *CHANNELS.items()]
    form.finalita.choices = list(PURPOSES.items())
    positions = position_options(db.session, principal, taxpayer_id)
    form.posizione.choices = [("", "Nessuna")] + [
        (str(p.id), f"{p.external_id} · {p.entrata_name} {p.year} · scad. {p.due_date:%d/%m/%Y}")
        for p in positions
        if p.state not in services.NOT_REMINDED
    ]
    return form


def _panel(
    taxpayer_id: int,
    *,
    form: forms.SendForm | None = None,
    consent_form: forms.ConsentForm | None = None,
    outcome: Any = None,
    error: str | None = None,
    status: int = 200,
) -> Any:
    from app.taxpayers.queries import get_taxpayer

    principal = current_principal()
    taxpayer = get_taxpayer(db.session, principal, taxpayer_id)
    enti = _taxpayer_enti(principal, taxpayer.id)
    consents = queries.consents_of(db.session, principal, taxpayer.id)
    current = {c.channel: c for c in consents if c.valid_to_dt is None}
    channels = [
        {
            "code": code,
            "label": label,
            "recipient": services.recipient_for(taxpayer, code),
            "consent": current.get(code),
            "refusal": services.refusal(taxpayer, code, current),
        }
        for code, label in CHANNELS.items()
    ]
    if consent_form is None:
        consent_form = forms.ConsentForm(formdata=None)
    consent_form.canale.choices = list(CHANNELS.items())
    consent_form.consenso.choices = [("si", "Dato"), ("no", "Negato")]
    consent_form.fonte.choices = list(CONSENT_SOURCES.items())
    body = render_template(
        "crm/messages/_card_panel.html",
        taxpayer=taxpayer,
        enti=enti,
        messages=queries.messages_of_taxpayer(db.session, principal, taxpayer.id),
        consents=consents,
        channels=channels,
        form=form or _send_form(principal, taxpayer.id, enti),
        consent_form=consent_form,
        outcome=outcome,
        error=error,
        postal_note=POSTAL_NOTE,
    )
    return body, status


@bp.route("/contribuenti/<int:taxpayer_id>")
@permission_required("taxpayer.read")
def card_messages(taxpayer_id: int) -> Any:
    """HTMX fragment of the card (the read is logged, once per card view: app.core.card_view)."""
    response = _panel(taxpayer_id)
    if log_card_section(db.session, current_actor(), "card_messages", taxpayer_id=taxpayer_id,
                        remote_addr=request.remote_addr):
        db.session.commit()
    return response


def _selected(form: forms.SendForm, principal: Principal, taxpayer_id: int) -> dict[str, Any]:
    from app.positions.queries import get_position
    from app.taxpayers.queries import get_taxpayer

    taxpayer = get_taxpayer(db.session, principal, taxpayer_id)
    ente = next((e for e in _taxpayer_enti(principal, taxpayer.id) if str(e.id) == form.ente.data), None)
    if ente is None:
        raise DomainError("Ente non valido per questo contribuente.")
    position = None
    if form.posizione.data:
        position = get_position(db.session, principal, int(form.posizione.data))
        if position is None or position.taxpayer_id != taxpayer.id or position.ente_id != ente.id:
            raise DomainError("La posizione scelta non è di questo contribuente e di questo ente.")
    context: dict[str, Any] = {}
    if form.testo_risposta.data:
        context["richiesta"] = {"risposta": form.testo_risposta.data.strip()}
    return {"taxpayer": taxpayer, "ente": ente, "position": position, "context": context}


@bp.route("/contribuenti/<int:taxpayer_id>/anteprima", methods=["POST"])
@permission_required("message.send")
def card_preview(taxpayer_id: int) -> Any:
    principal = current_principal()
    from app.taxpayers.queries import get_taxpayer

    get_taxpayer(db.session, principal, taxpayer_id)
    form = _send_form(principal, taxpayer_id, _taxpayer_enti(principal, taxpayer_id))
    if not form.validate():
        return render_template("crm/messages/_preview.html", error=_first_error(form))
    try:
        picked = _selected(form, principal, taxpayer_id)
        channel = form.canale.data or services.choose_channel(db.session, picked["taxpayer"])
        text = services.preview(db.session, purpose=form.finalita.data, channel=channel, **picked)
    except DomainError as exc:
        db.session.rollback()
        return render_template("crm/messages/_preview.html", error=exc.message)
    db.session.rollback()  # a preview keeps nothing (default templates seeded for it included)
    return render_template("crm/messages/_preview.html", text=text, channel_label=CHANNELS[channel])


def _first_error(form: Any) -> str:
    for name, errors in form.errors.items():
        label = form[name].label.text if name in form else name
        return f"{label}: {errors[0]}"
    return "Dati non validi."


@bp.route("/contribuenti/<int:taxpayer_id>/invia", methods=["POST"])
@permission_required("message.send")
def card_send(taxpayer_id: int) -> Any:
    principal = current_principal()
    from app.taxpayers.queries import get_taxpayer

    get_taxpayer(db.session, principal, taxpayer_id)
    form = _send_form(principal, taxpayer_id, _taxpayer_enti(principal, taxpayer_id))
    if not form.validate():
        return _panel(taxpayer_id, form=form, error=_first_error(form))
    try:
        picked = _selected(form, principal, taxpayer_id)
        message = services.queue_message(
            db.session,
            purpose=form.finalita.data,
            channel=form.canale.data or None,
            actor=current_actor(),
            **picked,
        )
    except DomainError as exc:
        db.session.rollback()
        return _panel(taxpayer_id, form=form, error=exc.message)
    db.session.commit()
    return _panel(taxpayer_id, outcome=message)


@bp.route("/contribuenti/<int:taxpayer_id>/consensi", methods=["POST"])
@permission_required("taxpayer.edit")
def card_consent(taxpayer_id: int) -> Any:
    from app.taxpayers.queries import get_taxpayer

    taxpayer = get_taxpayer(db.session, current_principal(), taxpayer_id)
    form = forms.ConsentForm()
    form.canale.choices = list(CHANNELS.items())
    form.consenso.choices = [("si", "Dato"), ("no", "Negato")]
    form.fonte.choices = list(CONSENT_SOURCES.items())
    if not form.validate():
        return _panel(taxpayer_id, consent_form=form, error=_first_error(form))
    services.record_consent(
        db.session,
        taxpayer,
        channel=form.canale.data,
        granted=form.consenso.data == "si",
        source=CONSENT_SOURCES[form.fonte.data],
        actor=current_actor(),
        preferred=bool(form.preferito.data),
    )
    db.session.commit()
    return _panel(taxpayer_id)


@bp.route("/<int:message_id>/rinvia", methods=["POST"])
@permission_required("message.send")
def message_resend(message_id: int) -> Any:
    message = queries.get_message(db.session, current_principal(), message_id)
    try:
        services.resend(db.session, message, current_actor())
    except DomainError as exc:
        db.session.rollback()
        return _panel(message.taxpayer_id, error=exc.message)
    db.session.commit()
    return _panel(message.taxpayer_id, outcome=message)


# --- templates and rules (administration) -------------------------------------------------------------------


def _entrate(enti: list[Ente]) -> list[Entrata]:
    return queries.entrate_of(db.session, [e.id for e in enti])


def _new_template_form(enti: list[Ente], formdata: Any = None) -> forms.NewTemplateForm:
    form = forms.NewTemplateForm(formdata=formdata)
    form.ente.choices = [(str(e.id), f"{e.code} – {e.name}") for e in enti]
    form.entrata.choices = [("", "Tutte le entrate")] + [
        (str(x.id), f"{x.ente.code} · {x.name}") for x in _entrate(enti)
    ]
    form.finalita.choices = list(PURPOSES.items())
    form.canale.choices = list(CHANNELS.items())
    return form


def _rule_form(enti: list[Ente], formdata: Any = None) -> forms.RuleForm:
    form = forms.RuleForm(formdata=formdata)
    form.ente.choices = [(str(e.id), f"{e.code} – {e.name}") for e in enti]
    form.entrata.choices = [("", "Tutte le entrate")] + [
        (str(x.id), f"{x.ente.code} · {x.name}") for x in _entrate(enti)
    ]
    form.finalita.choices = list(PURPOSES.items())
    if formdata is None:
        form.canali.data, form.giorni.data = "app_io,email,sms", 7
    return form


def _admin_page(
    new_form: forms.NewTemplateForm | None = None, rule_form: forms.RuleForm | None = None, status: int = 200
) -> Any:
    principal = current_principal()
    enti = _enti(principal)
    templates = queries.list_templates(db.session, principal)
    with_templates = {t.ente_id for t in templates}
    return render_template(
        "crm/messages/template_list.html",
        templates=templates,
        today=services.today(),
        without_defaults=[e for e in enti if e.id not in with_templates],
        rules=queries.list_rules(db.session, principal),
        new_form=new_form or _new_template_form(enti),
        rule_form=rule_form or _rule_form(enti),
        channels=CHANNELS,
        purposes=PURPOSES,
        postal_note=POSTAL_NOTE,
    ), status


@bp.route("/modelli")
@permission_required("message.admin")
def template_list() -> Any:
    return _admin_page()


@bp.route("/modelli/predefiniti", methods=["POST"])
@permission_required("message.admin")
def template_defaults() -> Any:
    from flask_wtf import FlaskForm

    if not FlaskForm().validate_on_submit():
        abort(400)
    added = sum(services.ensure_default_templates(db.session, e.id) for e in _enti(current_principal()))
    db.session.commit()
    flash(f"Modelli predefiniti creati: {added}.", "success")
    return redirect(url_for("messages.template_list"))


def _save_template(
    form: forms.TemplateForm, done: str, *, ente_id: int, entrata_id: int | None, purpose: str, channel: str
) -> Any | None:
    """Save the form's subject, text and start of validity as a new version of the template of the ente,
    entrata, purpose and channel (a new template or a template's next version): the redirect to the list with
    `done`, or None with the refusal on the text field."""
    try:
        services.save_template(
            db.session,
            ente_id=ente_id,
            entrata_id=entrata_id,
            purpose=purpose,
            channel=channel,
            subject=form.oggetto.data,
            body=form.testo.data,
            actor=current_actor(),
            valid_from=form.valido_dal.data,
        )
    except DomainError as exc:
        db.session.rollback()
        form.testo.errors = [exc.message]
        return None
    db.session.commit()
    flash(done, "success")
    return redirect(url_for("messages.template_list"))


@bp.route("/modelli/nuovo", methods=["POST"])
@permission_required("message.admin")
def template_new() -> Any:
    enti = _enti(current_principal())
    form = _new_template_form(enti, request.form)
    if form.validate():
        entrata_id = int(form.entrata.data) if form.entrata.data else None
        if entrata_id and not any(
            x.id == entrata_id and str(x.ente_id) == form.ente.data for x in _entrate(enti)
        ):
            form.entrata.errors = ["l'entrata non è di questo ente"]
        else:
            saved = _save_template(
                form,
                "Nuovo modello salvato.",
                ente_id=int(form.ente.data),
                entrata_id=entrata_id,
                purpose=form.finalita.data,
                channel=form.canale.data,
            )
            if saved is not None:
                return saved
    return _admin_page(new_form=form)


@bp.route("/modelli/<int:template_id>", methods=["GET", "POST"])
@permission_required("message.admin")
def template_edit(template_id: int) -> Any:
    template = queries.get_template(db.session, current_principal(), template_id)
    form = forms.TemplateForm()
    if request.method == "GET":
        form.oggetto.data, form.testo.data = template.subject, template.body
        form.valido_dal.data = max(services.today(), template.valid_from + dt.timedelta(days=1))
    elif form.validate():
        saved = _save_template(
            form,
            "Nuova versione del modello salvata.",
            ente_id=template.ente_id,
            entrata_id=template.entrata_id,
            purpose=template.purpose,
            channel=template.channel,
        )
        if saved is not None:
            return saved
    return render_template(
        "crm/messages/template_edit.html",
        template=template,
        form=form,
        placeholders=rendering.SAMPLE_CONTEXT,
    ), (422 if form.errors else 200)


@bp.route("/modelli/anteprima", methods=["POST"])
@permission_required("message.admin")
def template_preview() -> Any:
    """The text on the sample taxpayer (Mario Rossi, a sample position and appointment)."""
    form = forms.TemplateForm()
    try:
        text = rendering.render(form.oggetto.data or "", form.testo.data or "", rendering.SAMPLE_CONTEXT)
    except DomainError as exc:
        return render_template("crm/messages/_preview.html", error=exc.message)
    return render_template("crm/messages/_preview.html", text=text, channel_label=None)


@bp.route("/regole", methods=["POST"])
@permission_required("message.admin")
def rule_new() -> Any:
    enti = _enti(current_principal())
    form = _rule_form(enti, request.form)
    if form.validate():
        entrata_id = int(form.entrata.data) if form.entrata.data else None
        try:
            if entrata_id and not any(
                x.id == entrata_id and str(x.ente_id) == form.ente.data for x in _entrate(enti)
            ):
                raise DomainError("L'entrata non è di questo ente.")
            services.save_rule(
                db.session,
                ente_id=int(form.ente.data),
                entrata_id=entrata_id,
                purpose=form.finalita.data,
                channels=[c.strip() for c in form.canali.data.split(",") if c.strip()],
                days_before=form.giorni.data,
            )
        except DomainError as exc:
            db.session.rollback()
            form.canali.errors = [exc.message]
        else:
            db.session.commit()
            flash("Regola di invio salvata.", "success")
            return redirect(url_for("messages.template_list"))
    return _admin_page(rule_form=form)


@bp.route("/regole/<int:rule_id>/stato", methods=["POST"])
@permission_required("message.admin")
def rule_toggle(rule_id: int) -> Any:
    from flask_wtf import FlaskForm

    if not FlaskForm().validate_on_submit():
        abort(400)
    rule = queries.get_rule(db.session, current_principal(), rule_id)
    services.set_rule_active(db.session, rule, not rule.active)
    db.session.commit()
    flash("Regola " + ("attivata." if rule.active else "disattivata."), "success")
    return redirect(url_for("messages.template_list"))
