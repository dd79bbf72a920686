"""Lien's one settings module, configured by environment variables.

A local run needs no variable at all (SQLite in ./var, console email, the
database task backend). Production differs only by variables:
LIEN_PRODUCTION=1, LIEN_SECRET_KEY, LIEN_ALLOWED_HOSTS, DATABASE_URL, the
LIEN_EMAIL_* variables and, at scale, LIEN_TASK_BACKEND=rq with LIEN_REDIS_URL.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("LIEN_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on", "oui"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


PRODUCTION = env_bool("LIEN_PRODUCTION")
DEBUG = env_bool("LIEN_DEBUG")

SECRET_KEY = os.environ.get("LIEN_SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("LIEN_SECRET_KEY doit être défini en production.")
    # Only for a local run: never used when LIEN_PRODUCTION is set.
    SECRET_KEY = "lien-local-development-key-not-for-production-0123456789abcdef"

ALLOWED_HOSTS = env_list("LIEN_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("LIEN_CSRF_TRUSTED_ORIGINS", "")
SITE_URL = os.environ.get("LIEN_SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "lien.core",
    "lien.contacts",
    "lien.interactions",
    "lien.payments",
    "lien.search",
    "lien.imports",
    "lien.exports",
    "lien.api",
    "lien.connectors",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "lien.core.middleware.OrganizationMiddleware",
    # Last, as its documentation asks: it answers locked-out logins.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "lien.urls"
WSGI_APPLICATION = "lien.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "lien" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "lien.core.context_processors.shell",
            ],
        },
    },
]

# Database: SQLite (WAL) by default, PostgreSQL through DATABASE_URL.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'lien.sqlite3'}"),
        conn_max_age=int(os.environ.get("LIEN_DB_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # A file, not memory, so the real worker process and the browser tests'
    # live server see the same test database as the test itself; one per test
    # run so that two runs side by side never share it.
    DATABASES["default"]["TEST"] = {
        "NAME": os.environ.get("LIEN_TEST_DB", str(VAR_DIR / f"test-{os.getpid()}.sqlite3"))
    }

if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The advanced search compiles related-data criteria to `id IN (subquery)` and
    # `NOT (id IN (subquery))`, also inside OR and NOT groups; PostgreSQL runs them once
    # and hashes the result only when it fits in work_mem (× hash_mem_multiplier).
    # With the 4 MB default a subquery of 300,000 donors becomes a per-row rescan
    # (minutes at 1M contacts); 64 MB hashes about a million ids.
    # JIT compiling costs 150–250 ms per search on this kind of machine (measured on the
    # 1M-contact bench: « JIT: Timing … Total 220 ms » in plans) and saves less: off.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
        f"-c work_mem={os.environ.get('LIEN_PG_WORK_MEM', '64MB')} -c jit=off"
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "core.User"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# Login throttling: 5 failures for one account from one address lock it for 15 minutes.
AXES_FAILURE_LIMIT = int(os.environ.get("LIEN_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "lien" / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "lien" / "static"]
STATIC_ROOT = Path(os.environ.get("LIEN_STATIC_ROOT", VAR_DIR / "static"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("LIEN_MEDIA_ROOT", VAR_DIR / "media"))
LIEN_IMPORT_MAX_BYTES = int(os.environ.get("LIEN_IMPORT_MAX_BYTES", 50 * 1024 * 1024))  # uploads
# Where an import's check keeps its plans for the run (server-private, never served).
LIEN_IMPORT_PLANS_DIR = Path(os.environ.get("LIEN_IMPORT_PLANS_DIR", VAR_DIR / "import-plans"))
# From this size on, an import's file is read and checked by a second process beside the one
# that reconciles and writes (docs/imports.md); "off" reads it in one process (faster when
# the machine has no idle core: bench/README.md, imports, 23/11/2026 3ᵉ séance).
_beside = os.environ.get("LIEN_IMPORT_READ_BESIDE_BYTES", str(1024 * 1024))
LIEN_IMPORT_READ_BESIDE_BYTES = None if _beside == "off" else int(_beside)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Outside production the static files are served straight from the apps,
# so the quick start needs no collectstatic step.
WHITENOISE_USE_FINDERS = not PRODUCTION

# Email: console by default, SMTP when LIEN_EMAIL_HOST is set.
DEFAULT_FROM_EMAIL = os.environ.get("LIEN_DEFAULT_FROM_EMAIL", "Lien <ne-pas-repondre@lien.local>")
if os.environ.get("LIEN_EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = os.environ["LIEN_EMAIL_HOST"]
    EMAIL_PORT = int(os.environ.get("LIEN_EMAIL_PORT", "587"))
    EMAIL_HOST_USER = os.environ.get("LIEN_EMAIL_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("LIEN_EMAIL_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("LIEN_EMAIL_USE_TLS", True)
else:
    EMAIL_BACKEND = os.environ.get(
        "LIEN_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
    )

# Background work: django-tasks API, database backend by default.
_task_backend = os.environ.get("LIEN_TASK_BACKEND", "db")
TASKS = {
    "default": {
        "BACKEND": {
            "db": "django_tasks_db.DatabaseBackend",
            "immediate": "django_tasks.backends.immediate.ImmediateBackend",
            "rq": "django_tasks_rq.RQBackend",
        }[_task_backend],
    }
}
if _task_backend == "rq":
    RQ_QUEUES = {"default": {"URL": os.environ.get("LIEN_REDIS_URL", "redis://127.0.0.1:6379/0")}}

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if os.environ.get("LIEN_REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["LIEN_REDIS_URL"],
        }
    }

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "lien.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["lien.api.permissions.MemberHasRight"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "lien.api.pagination.StrictLimitOffsetPagination",
    "PAGE_SIZE": 50,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "API Lien",
    "DESCRIPTION": (
        "API REST de Lien. Authentification : en-tête `Authorization: Token <clé>` "
        "(jetons créés dans Paramètres → Jetons API)."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # One enum in the schema for active/passive, used by `status` and `default_status`.
    "ENUM_NAME_OVERRIDES": {
        "InteractionStatusEnum": "lien.interactions.models.InteractionStatus",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "lien.api.schema.add_error_responses",
    ],
}

# Security headers. The CSP applies everywhere; no page loads anything from
# another origin. Inline styles are allowed (width of progress bars, charts),
# inline scripts are not.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 24 * 14
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("LIEN_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("LIEN_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# An invitation link is valid this long.
INVITATION_MAX_AGE = timedelta(days=7)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LIEN_LOG_LEVEL", "WARNING")},
}

# HelloAsso connector: production by default; the sandbox is
# https://api.helloasso-sandbox.com (and …/oauth2/token) to try it first.
HELLOASSO_API_URL = os.environ.get("LIEN_HELLOASSO_API_URL", "https://api.helloasso.com")
HELLOASSO_TOKEN_URL = os.environ.get(
    "LIEN_HELLOASSO_TOKEN_URL", "https://api.helloasso.com/oauth2/token"
)
# Incremental sync of every enabled connection, every N minutes (0: only on demand).
HELLOASSO_SYNC_MINUTES = int(os.environ.get("LIEN_HELLOASSO_SYNC_MINUTES", "30"))
# Key of the secrets stored at rest (connector credentials): any string; when unset it is
# derived from SECRET_KEY (changing either then makes the stored secrets unreadable).
ENCRYPTION_KEY = os.environ.get("LIEN_ENCRYPTION_KEY", "") or SECRET_KEY
