"""Linli's settings: everything that varies between machines is read from the environment here."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
import django_stubs_ext
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

# Lets typed code write ModelAdmin[Resident], QuerySet[Resident] at run time too.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent
REPO_DIR = BASE_DIR.parent


def envbool(name: str, default: str) -> bool:
    value = os.environ.get(name, default).strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def envint(name: str, default: str) -> int:
    value = os.environ.get(name, default)
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None


def envsecret(name: str) -> str | None:
    """A secret from NAME, or from the file named by NAME_FILE."""
    if path := os.environ.get(f"{name}_FILE"):
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError as e:
            raise ImproperlyConfigured(f"{name}_FILE: cannot read {path}: {e}") from e
    return os.environ.get(name) or None


def generated_secret(path: Path, make: str) -> str:
    """A key kept in the data folder: made once on first start, so a demo needs no setup."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        value = Fernet.generate_key().decode() if make == "fernet" else secrets.token_urlsafe(50)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            pass
        else:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(value)
    return path.read_text(encoding="utf-8").strip()


DEBUG = envbool("LINLI_DEBUG", "false")
DATA_DIR = Path(os.environ.get("LINLI_DATA_DIR", "var")).resolve()

SECRET_KEY = envsecret("LINLI_SECRET_KEY") or generated_secret(DATA_DIR / "secret_key", "token")

# Field encryption keys (Fernet), newest first: data is written with the first and read
# with any, so a key is rotated by putting a new one in front and running `linli rotate-keys`.
_field_keys = envsecret("LINLI_FIELD_KEYS") or generated_secret(DATA_DIR / "field_keys", "fernet")
LINLI_FIELD_KEYS = [k.strip() for k in _field_keys.split(",") if k.strip()]
for _key in LINLI_FIELD_KEYS:
    try:
        Fernet(_key)
    except ValueError:
        raise ImproperlyConfigured(
            "LINLI_FIELD_KEYS must be comma-separated Fernet keys "
            "(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key())')"
        ) from None
# The blind index must stay stable through key rotation, so it has its own key; by default
# it is derived from the oldest field key, which rotation keeps at the end of the list.
LINLI_INDEX_KEY_IS_SET = envsecret("LINLI_INDEX_KEY") is not None
LINLI_INDEX_KEY = envsecret("LINLI_INDEX_KEY") or LINLI_FIELD_KEYS[-1]

ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("LINLI_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("LINLI_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "auditlog",
    "axes",
    "linli.accounts",
    "linli.registry",
    "linli.notify",
    "linli.workforce",
    "linli.checkpoints",
    "linli.supply",
    "linli.triage",
    "linli.hotline",
    "linli.care",
    "linli.passes",
    "linli.campaigns",
    "linli.wishes",
    "linli.meals",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "linli.accounts.middleware.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "linli.accounts.middleware.TokenAuthMiddleware",
    "linli.accounts.middleware.IdleLogoutMiddleware",
    "linli.registry.middleware.ScopeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "auditlog.middleware.AuditlogMiddleware",
    "axes.middleware.AxesMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",
]

ROOT_URLCONF = "linli.urls"
WSGI_APPLICATION = "linli.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

_default_db = f"sqlite:///{DATA_DIR / 'linli.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(os.environ.get("DATABASE_URL") or _default_db)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;"
        ),
        "transaction_mode": "IMMEDIATE",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = envint("LINLI_CONN_MAX_AGE", "60")
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    # Volunteers sign in with their mobile number (axes, first, locks that out too).
    "linli.workforce.auth.VolunteerPhoneBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "linli.accounts.validators.LengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Lockout after repeated failed logins (django-axes): by username and address together,
# so one attacker cannot lock every account of a shared office network.
AXES_FAILURE_LIMIT = envint("LINLI_LOGIN_FAILURE_LIMIT", "5")
AXES_COOLOFF_TIME = envint("LINLI_LOGIN_COOLOFF_MINUTES", "15") / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False

# Rate limits on search and export (django-ratelimit), per signed-in user: enough for a
# grid worker typing into the search box, too little for scraping the register.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
RATELIMIT_VIEW = "linli.accounts.views.rate_limited"
LINLI_SEARCH_RATE = os.environ.get("LINLI_SEARCH_RATE", "120/m")
LINLI_EXPORT_RATE = os.environ.get("LINLI_EXPORT_RATE", "20/h")
# Public volunteer sign-ups per address (the QR poster hangs in the open).
LINLI_SIGNUP_RATE = os.environ.get("LINLI_SIGNUP_RATE", "10/h")
# Public wish claims and releases per address: a party group of 30 may share one office
# network, so more than sign-ups; the per-claimer limit is enforced separately.
LINLI_WISH_CLAIM_RATE = os.environ.get("LINLI_WISH_CLAIM_RATE", "60/h")
# Residents' SMS login codes: per phone number and per address (each code costs money and
# is a guess at someone's account).
LINLI_SMS_PHONE_RATE = os.environ.get("LINLI_SMS_PHONE_RATE", "5/h")
LINLI_SMS_IP_RATE = os.environ.get("LINLI_SMS_IP_RATE", "30/h")

# Where SMS / WeChat messages go: the console backend writes them to the log (phone masked).
LINLI_NOTIFY_BACKEND = os.environ.get(
    "LINLI_NOTIFY_BACKEND", "linli.notify.backends.ConsoleBackend"
)

IDLE_LOGOUT_SECONDS = envint("LINLI_IDLE_LOGOUT_MINUTES", "30") * 60
SESSION_COOKIE_AGE = 12 * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS: list[Path | tuple[str, Path]] = [BASE_DIR / "static"]
_htmx_dist = REPO_DIR / "node_modules" / "htmx.org" / "dist"
if _htmx_dist.is_dir():
    STATICFILES_DIRS.append(("vendor/htmx", _htmx_dist))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = DATA_DIR / "uploads"
MEDIA_URL = "media/"
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# Audit (django-auditlog): personal fields are masked in the change history too.
AUDITLOG_INCLUDE_ALL_MODELS = False
AUDITLOG_MASK_CALLABLE = "linli.lib.masking.mask_for_audit"

SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SECURE_SSL_REDIRECT = envbool("LINLI_SSL_REDIRECT", "true")
    SESSION_COOKIE_SECURE = envbool("LINLI_SECURE_COOKIES", "true")
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_HSTS_SECONDS = envint("LINLI_HSTS_SECONDS", "31536000")
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"no_query_strings": {"()": "linli.lib.logs.DropQueryStrings"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["no_query_strings"]},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LINLI_LOG_LEVEL", "WARNING")},
    "loggers": {
        # The development server's request lines (`linli demo`), without query strings.
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # Messages sent by the console backend (phone numbers masked).
        "linli.notify": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

# Background work (round paperwork, imports, reminders) through Django's task API, the
# django-tasks backport: the database backend by default, run by `linli db_worker` on any
# number of hosts sharing the database. Tests run tasks inline (test_settings.py).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

# Paging and search limits used by lists, the API and exports.
LINLI_PAGE_SIZE = 50
