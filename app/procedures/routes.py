"""Screens of the procedures: the list, a procedure's page (steps, dates, costs, documents; its next
operations), the start from a position's page, the card's section (HTMX)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for

from app.core.access import current_principal, permission_required
from app.core.errors import DomainError
from app.core.query_forms import valid_query
from app.core.security import current_actor
from app.core.url_ids import MAX_ID, MIN_ID
from app.extensions import db
from app.payments.parsing import parse_amount
from app.positions.amounts import today_rome
from app.procedures import common, queries, services, starting
from app.procedures import escalation_blockers as _escalation_blockers  # noqa: F401 - registers the blocker
from app.procedures import escalation_steps as _escalation_steps  # noqa: F401 - registers the ladder's step
from app.procedures import monitor_sections as _monitor_sections  # noqa: F401 - registers the monitor section
from app.procedures.forms import OperationForm, ProcedureFilters, StartForm, StartQuery
from app.procedures.insinuazione import OUTCOMES
from app.procedures.machine import KINDS, MACHINES, OPERATIONS

bp = Blueprint("procedures", __name__, url_prefix="/procedure")

PAGE_SIZE = 50


@bp.route("/")
@permission_required("procedures.read")
def procedure_list() -> Any:
    kind = request.args.get("tipo") or None
    filters = valid_query(ProcedureFilters(request.args, states=queries.state_choices(kind)))
    page = filters.pagina.data or 1
    procedures = queries.list_procedures(
        db.session,
        current_principal(),
        kind=filters.tipo.data or None,
        state=filters.stato.data or None,
        open_only=filters.aperte.data == "1",
        limit=PAGE_SIZE + 1,
        offset=(page - 1) * PAGE_SIZE,
    )
    return render_template(
        "procedures/procedure_list.html",
        filters=filters,
        procedures=procedures[:PAGE_SIZE],
        more=len(procedures) > PAGE_SIZE,
        page=page,
        kinds=KINDS,
    )


@bp.route("/<int:procedure_id>")
@permission_required("procedures.read")
def procedure_detail(procedure_id: int) -> Any:
    procedure = queries.get_procedure(db.session, current_principal(), procedure_id)
    if procedure is None:
        abort(404, "Procedura non trovata.")
    return _detail(procedure, OperationForm(formdata=None, on=today_rome()))


def _detail(procedure: Any, form: OperationForm, status: int = 200) -> Any:
    operations = [op for op in dict.fromkeys(MACHINES[procedure.kind].operations(procedure.state))]
    form.outcome.choices = list(OUTCOMES.items())
    return render_template(
        "procedures/procedure_detail.html",
        procedure=procedure,
        form=form,
        operations=operations,
        operation_labels=OPERATIONS,
        outcomes=OUTCOMES,
        state_labels=MACHINES[procedure.kind].states,
    ), status


@bp.route("/<int:procedure_id>/operazioni", methods=["POST"])
@permission_required("procedures.manage")
def procedure_operation(procedure_id: int) -> Any:
    principal = current_principal()
    procedure = queries.get_procedure(db.session, principal, procedure_id)
    if procedure is None:
        abort(404, "Procedura non trovata.")
    form = OperationForm()
    form.outcome.choices = list(OUTCOMES.items())
    if form.validate_on_submit():
        op = services.Operation(
            code=form.operation.data,
            on=form.on.data,
            note=form.note.data,
            amount_cents=parse_amount(form.amount.data) if form.amount.data else None,
            outcome=form.outcome.data or None,
            document_protocol=form.document.data or None,
        )
        try:
            services.apply(db.session, principal, current_actor(), procedure_id, op)
        except DomainError as exc:
            db.session.rollback()
            form.operation.errors = [exc.message]
        else:
            db.session.commit()
            flash(f"{OPERATIONS.get(op.code, op.code)}: registrata.", "success")
            return redirect(url_for("procedures.procedure_detail", procedure_id=procedure_id), 303)
    procedure = queries.get_procedure(db.session, principal, procedure_id)
    return _detail(procedure, form)  # 200: the page shows the refusal (a 4xx is a console error)


@bp.route("/nuova", methods=["GET", "POST"])
@permission_required("procedures.manage")
def procedure_start() -> Any:
    query = valid_query(StartQuery(request.args))
    try:
        position_id = int(query.posizione.data)
    except (TypeError, ValueError):
        abort(400, "Parametro «Posizione» non valido.")
    if not MIN_ID <= position_id <= MAX_ID:
        abort(404)
    principal = current_principal()
    try:
        position = common.get_position(db.session, principal, position_id)
    except DomainError:
        abort(404, "Posizione non trovata.")
    kind = query.tipo.data if query.tipo.data in KINDS else None
    form = StartForm(kind=kind, on=today_rome())
    lookup = starting.vehicle_lookup(position, current_app.config) if kind == "fermo" else None
    if lookup is not None and lookup.vehicles:
        form.vehicle.choices = [(v.plate, v.label) for v in lookup.vehicles]
    else:
        form.vehicle.choices = []
    if kind and form.validate_on_submit():
        try:
            procedure = starting.start_from_form(
                db.session,
                principal,
                current_actor(),
                position,
                form,
                lookup,
                file_store=current_app.config["FILE_STORE"],
            )
        except DomainError as exc:
            db.session.rollback()
            form.submit.errors = [exc.message]
        else:
            db.session.commit()
            flash(f"{procedure.kind_label} avviato (n. {procedure.id}).", "success")
            return redirect(url_for("procedures.procedure_detail", procedure_id=procedure.id), 303)
    return render_template(
        "procedures/procedure_start.html",
        position=position,
        kind=kind,
        kinds=KINDS,
        form=form,
        lookup=lookup,
        pra_error=starting.last_error(lookup),
    )


@bp.route("/contribuente/<int:taxpayer_id>")
@permission_required("procedures.read")
def card_section(taxpayer_id: int) -> Any:
    """HTMX section of the card: the taxpayer's procedures."""
    from app.taxpayers.queries import get_taxpayer

    principal = current_principal()
    try:
        get_taxpayer(db.session, principal, taxpayer_id)
    except DomainError:
        abort(404)
    procedures = queries.list_procedures(db.session, principal, taxpayer_id=taxpayer_id, limit=50)
    return render_template("procedures/_card_section.html", procedures=procedures)
