"""The one settings module. Everything comes from environment variables (docs/configuration.md).

With no configuration at all Liucun runs locally in debug mode on SQLite under ./var. With
LIUCUN_DEBUG=false it refuses to start on the built-in development secrets.
"""

from __future__ import annotations

from pathlib import Path

from liucun.envvars import (
    ConfigurationError,
    database_from_url,
    env_bool,
    env_float,
    env_int,
    env_list,
    env_networks,
    env_secret,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("LIUCUN_DATA_DIR", str(BASE_DIR / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("LIUCUN_DEBUG", True)

DEV_SECRET_KEY = "liucun-development-secret-key-never-use-in-production"  # noqa: S105
# A Fernet key for development only: secrets stored with it are readable by anyone with the source.
DEV_ENCRYPTION_KEY = "bGl1Y3VuLWRldmVsb3BtZW50LWtleS1ub3Qtc2VjcmU="

SECRET_KEY = env_secret("LIUCUN_SECRET_KEY") or DEV_SECRET_KEY
# Comma-separated Fernet keys: the first encrypts, all decrypt, so keys can be rotated.
ENCRYPTION_KEYS = env_list("LIUCUN_ENCRYPTION_KEYS", []) or [
    k.strip() for k in (env_secret("LIUCUN_ENCRYPTION_KEYS") or DEV_ENCRYPTION_KEY).split(",") if k.strip()
]

if not DEBUG:
    if SECRET_KEY == DEV_SECRET_KEY or len(SECRET_KEY) < 32:
        raise ConfigurationError(
            "LIUCUN_DEBUG is off but LIUCUN_SECRET_KEY is unset, the development key, or shorter than 32 "
            "characters; set a long random value (for example: python -c 'import secrets; "
            "print(secrets.token_urlsafe(50))')"
        )
    if DEV_ENCRYPTION_KEY in ENCRYPTION_KEYS:
        raise ConfigurationError(
            "LIUCUN_DEBUG is off but LIUCUN_ENCRYPTION_KEYS is unset or holds the development key; set a "
            "Fernet key (liucun generate-key prints one)"
        )

ALLOWED_HOSTS = env_list("LIUCUN_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if not DEBUG else ["*"])
CSRF_TRUSTED_ORIGINS = env_list("LIUCUN_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_tasks",
    "django_tasks_db",
    "ninja",
    "django_htmx",
    "liucun.accounts",
    "liucun.channels",
    "liucun.crm",
    "liucun.events",
    "liucun.fans",
    "liucun.inbound",
    "liucun.outbound",
    "liucun.jobs",
    "liucun.readmodels",
    "liucun.runner",
    "liucun.staff",
    "liucun.tags",
    "liucun.menus",
    "liucun.segments",
    "liucun.inbox",
    "liucun.servicehours",
    "liucun.autoreply",
    "liucun.analytics",
    "liucun.activity",
    "liucun.pushimpact",
    "liucun.cohorts",
    "liucun.reconcile",
    "liucun.console",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "liucun.language.ConsoleLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "liucun.console.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "liucun.urls"
WSGI_APPLICATION = "liucun.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "liucun.console.navigation.nav",
            ],
        },
    },
]

DATABASES = {
    "default": database_from_url(env_str("DATABASE_URL", ""), sqlite_default=DATA_DIR / "liucun.sqlite3"),
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default", "sync"],
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
TIME_ZONE = env_str("LIUCUN_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
LOCALE_PATHS = [BASE_DIR / "liucun" / "locale"]
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG
# Front-end packages come from the npm registry at install (package-lock.json); nothing loads from a CDN.
STATICFILES_DIRS = [("vendor/echarts", BASE_DIR / "node_modules" / "echarts" / "dist")]

SESSION_COOKIE_SECURE = env_bool("LIUCUN_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("LIUCUN_SESSION_HOURS", 12, minimum=1, maximum=24 * 30) * 3600
LOGIN_URL = "console:login"
LOGIN_REDIRECT_URL = "console:home"
# Login throttling (liucun.staff.throttle), console and admin alike: failures within the lock window for
# one username from one address, from one address for any username, and for one username from anywhere.
LIUCUN_LOGIN_MAX_FAILURES = env_int("LIUCUN_LOGIN_MAX_FAILURES", 5, minimum=1)
LIUCUN_LOGIN_MAX_FAILURES_PER_IP = env_int("LIUCUN_LOGIN_MAX_FAILURES_PER_IP", 20, minimum=1)
LIUCUN_LOGIN_MAX_FAILURES_PER_USER = env_int("LIUCUN_LOGIN_MAX_FAILURES_PER_USER", 100, minimum=1)
# Reverse proxies (addresses or networks) whose X-Forwarded-For is believed; nobody else's is.
LIUCUN_TRUSTED_PROXIES = env_networks("LIUCUN_TRUSTED_PROXIES")
LIUCUN_LOGIN_LOCK_SECONDS = env_int("LIUCUN_LOGIN_LOCK_SECONDS", 900, minimum=10)
# The REST API's schema and interactive docs: public, or only for a console session or an API token.
LIUCUN_API_DOCS_PUBLIC = env_bool("LIUCUN_API_DOCS_PUBLIC", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if env_bool("LIUCUN_BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
if not DEBUG:
    SECURE_HSTS_SECONDS = env_int("LIUCUN_HSTS_SECONDS", 0, minimum=0)
    SECURE_REFERRER_POLICY = "same-origin"

# --- WeChat ---------------------------------------------------------------------------------------------
# Largest callback body accepted. WeChat's own messages are a few KiB; 64 KiB leaves room for long text.
LIUCUN_CALLBACK_MAX_BODY = env_int("LIUCUN_CALLBACK_MAX_BODY", 65536, minimum=1024, maximum=1048576)
# Plaintext-mode deliveries: how far the URL's timestamp may be from this server's clock (0 turns the
# check and the one-body-per-signed-URL memory off; safe mode never needs them). liucun/inbound/replay.py
LIUCUN_CALLBACK_MAX_SKEW_SECONDS = env_int("LIUCUN_CALLBACK_MAX_SKEW_SECONDS", 300, minimum=0)
# How long a callback waits for its event to be committed before answering 503 (WeChat waits 5 s and
# retries; the retry is deduplicated, so a late commit is never stored twice).
LIUCUN_CALLBACK_COMMIT_TIMEOUT = env_float("LIUCUN_CALLBACK_COMMIT_TIMEOUT", 3.0, minimum=0.1)
LIUCUN_WECHAT_API_BASE = env_str("LIUCUN_WECHAT_API_BASE", "https://api.weixin.qq.com")
LIUCUN_WECHAT_TIMEOUT = env_float("LIUCUN_WECHAT_TIMEOUT", 10.0, minimum=0.1)
LIUCUN_WECHAT_MAX_RETRIES = env_int("LIUCUN_WECHAT_MAX_RETRIES", 2, minimum=0, maximum=10)

# --- Background jobs ------------------------------------------------------------------------------------
# A running job or task with no sign of life this long is taken for dead and queued again (jobs/models.py).
LIUCUN_JOB_STALLED_AFTER_SECONDS = env_int("LIUCUN_JOB_STALLED_AFTER_SECONDS", 300, minimum=10)

DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "liucun.logredact.RedactSecretsFilter"}},
    "formatters": {
        "line": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "line", "filters": ["redact"]},
    },
    "root": {"handlers": ["console"], "level": env_str("LIUCUN_LOG_LEVEL", "INFO").upper()},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Refused requests are logged once, by the view that refused them, with the reason.
        "django.request": {"level": "ERROR"},
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}
