"""Esattoria: the application factory. Reads as a table of contents (style.md B.1)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from config import Config, load_config


def create_app(config: Config | str | dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, template_folder="../templates", static_folder="../static",
                instance_path=None)
    if isinstance(config, dict):
        app.config.from_object(load_config("testing"))
        app.config.update(config)
    elif isinstance(config, str) or config is None:
        app.config.from_object(load_config(config))
    else:
        app.config.from_object(config)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_security(app)
    register_templating(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    from app.core import history  # noqa: F401  (the versioning listener)
    from app.extensions import babel, csrf, db, htmx, login_manager, migrate

    _import_models()
    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.root_path + "/../migrations"), render_as_batch=True,
                     compare_type=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=lambda: "it")
    htmx.init_app(app)


def _import_models() -> None:
    from app import archive, atti, auth, carichi, dynamics, enti, jobs, payments, plans, positions, taxpayers  # noqa: F401
    from app import procedures as _procedures  # noqa: F401
    from app.analytics import models as _analytics  # noqa: F401
    from app.batch import models as _batch  # noqa: F401
    from app.core import audit, history  # noqa: F401
    from app.crm import contacts  # noqa: F401
    from app.crm import messages as _messages  # noqa: F401
    from app.crm.knowledge import models as _knowledge  # noqa: F401
    from app.escalation import models as _escalation  # noqa: F401
    from app.helpdesk import models as _helpdesk  # noqa: F401
    from app.registries import models as _registries  # noqa: F401


def register_blueprints(app: Flask) -> None:
    from app.core import url_ids

    url_ids.register(app)  # first: a rule takes its converter when added (`<int:...>` bounded to 1..MAX_ID)
    from app.accountability.routes import bp as accountability_bp
    from app.analytics.routes import bp as analytics_bp
    from app.api.routes import bp as api_bp
    from app.archive.routes import bp as archive_bp
    from app.atti.delivery.routes import bp as delivery_bp
    from app.atti.routes import bp as atti_bp
    from app.auth.routes import bp as auth_bp
    from app.auth.routes import main_bp
    from app.carichi.routes import bp as carichi_bp
    from app.crm.contacts.routes import bp as crm_contacts_bp
    from app.crm.contacts.routes import self_service_bp as crm_self_service_bp
    from app.crm.knowledge.routes import bp as knowledge_bp
    from app.crm.messages.routes import bp as messages_bp
    from app.dynamics.api.routes import bp as dynamics_api_bp
    from app.dynamics.routes import bp as dynamics_bp
    from app.enti.routes import bp as admin_bp
    from app.escalation.routes import bp as escalation_bp
    from app.helpdesk.routes import bp as helpdesk_bp
    from app.jobs.routes import bp as jobs_bp
    from app.legal.routes import bp as legal_bp
    from app.monitor.routes import bp as monitor_bp
    from app.payments.routes import bp as payments_bp
    from app.plans.proroga_api.routes import bp as plans_api_bp
    from app.plans.routes import bp as plans_bp
    from app.positions.routes import bp as positions_bp
    from app.registries.routes import bp as registries_bp
    from app.selfservice.routes import bp as selfservice_bp
    from app.taxpayers.routes import bp as taxpayers_bp
    from app.users.routes import bp as users_bp

    for bp in (main_bp, auth_bp, taxpayers_bp, positions_bp, admin_bp, api_bp, carichi_bp, jobs_bp,
                payments_bp, legal_bp, archive_bp, users_bp, accountability_bp, crm_contacts_bp,
                crm_self_service_bp, selfservice_bp, plans_bp, helpdesk_bp, knowledge_bp, atti_bp):
        app.register_blueprint(bp)
    app.register_blueprint(messages_bp)
    app.register_blueprint(delivery_bp)
    app.register_blueprint(registries_bp)
    from app.procedures.routes import bp as procedures_bp

    app.register_blueprint(procedures_bp)
    app.register_blueprint(analytics_bp)
    from app.batch.routes import bp as batch_bp

    app.register_blueprint(batch_bp)
    from app.enti.catalog.routes import bp as enti_admin_bp
    from app.reports.routes import bp as export_jobs_bp

    app.register_blueprint(export_jobs_bp)
    app.register_blueprint(enti_admin_bp)
    app.register_blueprint(dynamics_bp)
    app.register_blueprint(dynamics_api_bp)
    app.register_blueprint(plans_api_bp)
    app.register_blueprint(monitor_bp)
    app.register_blueprint(escalation_bp)


def register_errorhandlers(app: Flask) -> None:
    from app.core.errors import register

    register(app)


def register_security(app: Flask) -> None:
    from app.core.security import register

    register(app)
    if app.config.get("TRUSTED_PROXIES"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]


def register_templating(app: Flask) -> None:
    from app.core.templating import register

    register(app)


def register_commands(app: Flask) -> None:
    from app.cli import register

    register(app)
