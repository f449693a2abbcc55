"""Settings shared by every environment; everything site-specific comes from the environment."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.utils.csp import CSP
from whitenoise.compress import Compressor

SRC_DIR = Path(__file__).resolve().parents[3]
REPO_DIR = SRC_DIR.parent
VAR_DIR = Path(os.environ.get("REFILL_VAR_DIR", REPO_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "refill-insecure-demo-key-change-me")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = [h for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

# Demo accounts (fixed, printed at start) exist only where this is on; production turns it off
# and refuses them at login even if the rows were copied over.
REFILL_DEMO = env_bool("REFILL_DEMO", False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "refill.config.staticfiles.RefillStaticFilesConfig",  # django.contrib.staticfiles, without Redoc
    "django.contrib.humanize",
    "django_tasks_db",
    "django_htmx",
    # django-ninja's templates and static files: /api/v1/docs serves Swagger UI from here.
    "ninja",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.headless",
    "axes",
    "refill.events",
    "refill.customers",
    "refill.catalog",
    "refill.lines",
    "refill.subscriptions",
    "refill.orders",
    "refill.payments",
    "refill.renewals",
    "refill.notifications",
    "refill.ledger",
    "refill.vouchers",
    "refill.promotions",
    "refill.esim",
    "refill.apikeys",
    "refill.webhooks",
    "refill.api",
    "refill.audit",
    "refill.ops",
    "refill.portal",
    "refill.backoffice",
    "refill.agentdesk",
    "refill.fleets",
    "refill.help",
    "refill.support",
    # Above every app: they read or load all of them (the invariants behind ledger_check; the demo data).
    "refill.invariants",
    "refill.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "refill.ops.middleware.RequestIdMiddleware",
    # GET /api/v1/lines/{msisdn} by a partner key, answered here when all is well (refill.api.fastpath).
    "refill.api.fastpath.LineReadFastPath",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "refill.api.problems.ApiInputMiddleware",
    "refill.api.ratelimit.RateLimitMiddleware",
    "refill.api.idempotency.IdempotencyMiddleware",
    "refill.customers.middleware.CustomerLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "refill.ops.middleware.SessionTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # Widens the policy for the payment provider's script when it takes cards (refill.payments.csp).
    "refill.payments.csp.ProviderScriptPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "refill.customers.middleware.StaffTwoFactorMiddleware",
    "refill.fleets.middleware.FleetViewerReadOnlyMiddleware",
    "refill.ops.middleware.NoStoreWhenSignedInMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "refill.config.urls"
WSGI_APPLICATION = "refill.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [SRC_DIR / "refill" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "refill.fleets.context_processors.viewer",
            ],
        },
    },
]

VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'refill.sqlite3'}", conn_max_age=60, conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the writer; IMMEDIATE takes the write lock at BEGIN, so two
    # renewals of one line serialise instead of failing on a lock upgrade.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "customers.User"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "refill.customers.backends.DemoGuardBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# allauth: log in with an email address or a mobile number.
ACCOUNT_LOGIN_METHODS = {"email", "phone"}
ACCOUNT_SIGNUP_FIELDS = ["email", "phone", "password1*", "password2*"]
# An email address is proved before it logs in: the link (or the "account already exists" email,
# when the address has an account) is the only answer signup gives, so signup tells nobody which
# addresses are registered. allauth's "mandatory" needs an email at every signup, and Refill takes
# an email or a mobile number, so the setting stays "optional" and refill.customers.stages makes
# verification mandatory for every account with an address (refill.customers.forms.SignupForm
# hides a taken one); phone-only accounts prove their number by SMS code. Confirming the link in the
# same browser logs the customer in.
ACCOUNT_EMAIL_VERIFICATION = "optional"
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_PHONE_VERIFICATION_ENABLED = True
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_ADAPTER = "refill.customers.adapter.AccountAdapter"
ACCOUNT_FORMS = {"signup": "refill.customers.forms.SignupForm"}
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
# A password reset link works once (its token hashes the password and last login) and for one hour.
PASSWORD_RESET_TIMEOUT = 60 * 60
# A one-time code by SMS (or email) logs in without the password: the way back in for phone-only accounts.
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
# Account emails are Refill's own (templates/account/email/), their subjects start with the
# operator's name (refill.customers.adapter.AccountAdapter.format_email_subject).
# The owner of an account is emailed when its password or email address changes.
ACCOUNT_EMAIL_NOTIFICATIONS = True
ACCOUNT_PREVENT_ENUMERATION = True
# The mobile app logs in through allauth's headless API (/_allauth/app/v1/…) and sends the session
# token it gets as X-Session-Token to /api/v1/. The web keeps its pages.
HEADLESS_ONLY = False
HEADLESS_CLIENTS = ("app",)
HEADLESS_SERVE_SPECIFICATION = False
# Two-factor: TOTP (with recovery codes), optional for customers, required for staff and agents
# (refill.customers.middleware.StaffTwoFactorMiddleware). The QR code is drawn with segno.
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Refill"
# A code from the 30 seconds before or after is accepted too (RFC 6238's allowance for clock drift
# and for a code typed as it turns over).
MFA_TOTP_TOLERANCE = 1
MFA_ADAPTER = "refill.customers.adapter.MfaAdapter"
# How long a "Confirm it is you" (or the password login itself, for setting up a first
# authenticator: AccountAdapter.is_reauthentication_required) lets a change to how one logs in go
# without asking again.
ACCOUNT_REAUTHENTICATION_TIMEOUT = 300
LOGIN_REDIRECT_URL = "portal:home"
LOGIN_URL = "account_login"

# Lockout: 5 failed logins for one account from one address lock it for 30 minutes.
AXES_FAILURE_LIMIT = int(os.environ.get("REFILL_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.5
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "login"
AXES_USERNAME_CALLABLE = "refill.customers.backends.axes_username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "account/locked_out.html"
AXES_VERBOSE = False

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [SRC_DIR / "refill" / "locale"]
LANGUAGE_COOKIE_NAME = "refill_language"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
# collectstatic's folder; a demo of its own (bench/lighthouse.py) collects into its own folder.
STATIC_ROOT = Path(os.environ.get("REFILL_STATIC_ROOT", REPO_DIR / "staticfiles"))
STATICFILES_DIRS = [SRC_DIR / "refill" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Source maps (Swagger UI's, 2 MB) are read by a browser's developer tools only: served as they
# are, not compressed at every collectstatic.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = (*Compressor.SKIP_COMPRESS_EXTENSIONS, "map")

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# One cache shared by every web process and worker, in the database (created by migration
# ops.0003): allauth's rate limits (login, login by code, password reset), the TOTP codes already
# used, and the API's key cache agree across processes and machines. Per-process memory would let
# each process count on its own.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "refill_cache",
        "TIMEOUT": 300,
        "OPTIONS": {"MAX_ENTRIES": 100_000},
    }
}

# Email (Django 6.1 MAILERS). REFILL_EMAIL=file (demo default: one file per message in var/mail)
# or smtp (EMAIL_HOST, EMAIL_PORT, EMAIL_USER, EMAIL_PASSWORD, EMAIL_USE_TLS).
REFILL_EMAIL = os.environ.get("REFILL_EMAIL", "file")
if REFILL_EMAIL == "smtp":
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": os.environ.get("EMAIL_HOST", "127.0.0.1"),
                "port": int(os.environ.get("EMAIL_PORT", "25")),
                "username": os.environ.get("EMAIL_USER", ""),
                "password": os.environ.get("EMAIL_PASSWORD", ""),
                "use_tls": env_bool("EMAIL_USE_TLS", False),
                "timeout": 20,
            },
        }
    }
else:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": str(VAR_DIR / "mail")},
        }
    }
DEFAULT_FROM_EMAIL = os.environ.get("REFILL_FROM_EMAIL", "Refill <no-reply@refill.example>")

# SMS backend port: refill.integrations.sms.{console,file,locmem}.
REFILL_SMS_BACKEND = os.environ.get("REFILL_SMS_BACKEND", "refill.integrations.sms.file.FileSmsBackend")
REFILL_SMS_FILE_PATH = VAR_DIR / "sms.log"
# Twilio (REFILL_SMS_BACKEND=refill.integrations.sms.twilio.TwilioSmsBackend).
REFILL_TWILIO_ACCOUNT_SID = os.environ.get("REFILL_TWILIO_ACCOUNT_SID", "")
REFILL_TWILIO_AUTH_TOKEN = os.environ.get("REFILL_TWILIO_AUTH_TOKEN", "")
REFILL_TWILIO_FROM = os.environ.get("REFILL_TWILIO_FROM", "")
REFILL_TWILIO_API_BASE = os.environ.get("REFILL_TWILIO_API_BASE", "https://api.twilio.com")
# Where customers reach this Refill: the one setting every absolute link in emails and SMS is built
# from (allauth's account emails too, refill.customers.adapter). Unset, it follows PORT, the port
# `make run` / `manage.py up` serves on, so a demo on another port links to itself.
REFILL_PUBLIC_URL = (
    os.environ.get("REFILL_PUBLIC_URL") or f"http://127.0.0.1:{os.environ.get('PORT') or '8000'}"
).rstrip("/")
# No SMS between these local hours in the customer's time zone (they wait until the end).
REFILL_SMS_QUIET_HOURS = (
    int(os.environ.get("REFILL_SMS_QUIET_START", "21")),
    int(os.environ.get("REFILL_SMS_QUIET_END", "9")),
)

# Webhook endpoints must reach public addresses (refill.integrations.http_guard); hosts named here
# (comma-separated names or addresses) may be internal, for operators whose receiver is in-house.
REFILL_WEBHOOK_ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("REFILL_WEBHOOK_ALLOWED_HOSTS", "").split(",") if h.strip()
]

# Payment gateways behind the port; "sandbox" is built in and the demo default.
REFILL_PAYMENT_GATEWAY = os.environ.get("REFILL_PAYMENT_GATEWAY", "sandbox")
# Every payment adapter Refill can reach, by name: the class implementing the port
# (refill.integrations.payments.base.PaymentGateway), built once with its from_settings()
# (refill.payments.gateways). To add a provider, add its adapter here (docs/payments.md).
REFILL_PAYMENT_ADAPTERS = {
    "sandbox": "refill.integrations.payments.sandbox.SandboxGateway",
    "stripe": "refill.integrations.payments.stripe_gateway.StripeGateway",
    "paypal": "refill.integrations.payments.paypal_gateway.PayPalGateway",
}
# Which adapter takes each way to pay: "card" and each provider wallet ("paypal", "apple_pay",
# "alipay", "wechat_pay"); a way not named here goes to REFILL_PAYMENT_GATEWAY. From the
# environment as REFILL_PAYMENT_ROUTES="paypal=paypal,alipay=stripe" (docs/payments.md).
REFILL_PAYMENT_ROUTES = {
    method.strip(): name.strip()
    for method, _, name in (
        part.partition("=") for part in os.environ.get("REFILL_PAYMENT_ROUTES", "").split(",") if "=" in part
    )
}

# Provider limits for bulk work: calls per second per provider, shared by all workers (Stripe's
# live mode allows about 100/s), and calls in flight per worker process.
REFILL_PROVIDER_RATE_DEFAULT = int(os.environ.get("REFILL_PROVIDER_RATE", "100"))
REFILL_PROVIDER_RATE = {"sandbox": int(os.environ.get("REFILL_SANDBOX_RATE", "100000"))}
REFILL_PROVIDER_CONCURRENCY = int(os.environ.get("REFILL_PROVIDER_CONCURRENCY", "16"))
# Provider calls an auto-renew batch has in flight at once (default 8 on PostgreSQL, 1 on SQLite).
REFILL_AUTORENEW_THREADS = int(os.environ.get("REFILL_AUTORENEW_THREADS", "0")) or None

# A task running longer than this (seconds) was left by a killed worker and is queued again.
REFILL_TASK_STUCK_AFTER = int(os.environ.get("REFILL_TASK_STUCK_AFTER", "900"))
# An auto-renew attempt running this long (seconds) is settled from what its order shows.
REFILL_AUTORENEW_STUCK_AFTER = int(os.environ.get("REFILL_AUTORENEW_STUCK_AFTER", "600"))
# A card payment still pending after this (seconds) was left by a process that died: reconcile it.
REFILL_STALE_PENDING_AFTER = int(os.environ.get("REFILL_STALE_PENDING_AFTER", "300"))
# Run the scheduler's cadence this much faster or slower (tests use a small factor).
REFILL_SCHEDULE_SCALE = float(os.environ.get("REFILL_SCHEDULE_SCALE", "1"))
# The task backend that runs the handlers of domain events (refill.events): the database queue, so
# they run after the emitting transaction commits. Test settings run them at once.
REFILL_EVENTS_TASK_BACKEND = "default"
# Events of these kinds are written even when no handler takes them (a trail kept for audit); an
# event of another kind that no subscribed handler would act on writes nothing (docs/events.md).
REFILL_EVENTS_AUDIT_KINDS = tuple(
    kind for kind in os.environ.get("REFILL_EVENTS_AUDIT_KINDS", "order.paid,order.refunded").split(",") if kind
)
# Events whose deliveries are all done are deleted this many days after they were written.
REFILL_EVENTS_KEEP_DAYS = int(os.environ.get("REFILL_EVENTS_KEEP_DAYS", "30"))

# How long the worker may stay silent before /healthz reports it down (seconds).
REFILL_WORKER_HEARTBEAT_MAX_AGE = 60

SESSION_COOKIE_HTTPONLY = True
# A browser session ends after 30 minutes without a request and 12 hours after login
# (refill.ops.middleware.SessionTimeoutMiddleware); 0 turns either limit off.
REFILL_SESSION_IDLE_TIMEOUT = int(os.environ.get("REFILL_SESSION_IDLE_TIMEOUT", str(30 * 60)))
REFILL_SESSION_MAX_AGE = int(os.environ.get("REFILL_SESSION_MAX_AGE", str(12 * 60 * 60)))
SESSION_COOKIE_AGE = REFILL_SESSION_MAX_AGE or 14 * 24 * 60 * 60
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "object-src": [CSP.NONE],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Each line carries the id of the request it was logged in ("-" outside one): the id an API
    # caller is given with a 500, so support finds the fault (refill.ops.request_context).
    "formatters": {
        "plain": {
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
            "defaults": {"request_id": "-"},
        }
    },
    # Card numbers, PINs, passwords, tokens, API keys and activation codes are masked before any
    # handler writes a record (docs/privacy.md); every handler added here must list "redact".
    "filters": {"redact": {"()": "refill.ops.redact.RedactingFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("REFILL_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.server": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # One line per task run is noise with a heartbeat every 10 s; REFILL_TASK_LOG_LEVEL=INFO shows them.
        "django.tasks": {"level": os.environ.get("REFILL_TASK_LOG_LEVEL", "WARNING")},
        # The Stripe library logs every request at INFO; its failures reach us as exceptions.
        "stripe": {"level": "WARNING"},
    },
}

# New customers start in this region (to read national phone numbers) and time zone.
REFILL_DEFAULT_REGION = os.environ.get("REFILL_DEFAULT_REGION", "US")
REFILL_DEFAULT_TIME_ZONE = os.environ.get("REFILL_DEFAULT_TIME_ZONE", "America/New_York")

SILENCED_SYSTEM_CHECKS = [
    # Signup takes an email or a mobile number, at least one (refill.customers.forms.SignupForm).
    "account.W001",
    # Email is unique case-insensitively by a functional constraint (user_email_unique_ci), and
    # nullable for phone-only accounts, which a plain unique=True cannot express as clearly.
    "auth.W004",
]

# Wallet top-up limits per currency (minimum, maximum), in major units.
REFILL_WALLET_TOPUP_LIMITS = {
    "USD": ("5", "500"),
    "CNY": ("30", "3000"),
    "default": ("5", "500"),
}

# Who issues the receipts (printed on every receipt).
REFILL_OPERATOR = {
    "name": os.environ.get("REFILL_OPERATOR_NAME", "Refill Mobile (demo operator)"),
    "address": os.environ.get("REFILL_OPERATOR_ADDRESS", "1 Example Street, Springfield"),
    "tax_id": os.environ.get("REFILL_OPERATOR_TAX_ID", "TAX-000000"),
    "support": os.environ.get("REFILL_OPERATOR_SUPPORT", "support@refill.example"),
}

# Shared secret the sandbox signs its webhooks with (a real adapter has its provider's secret).
REFILL_SANDBOX_WEBHOOK_SECRET = os.environ.get("REFILL_SANDBOX_WEBHOOK_SECRET", "whsec_sandbox_demo")
# Added to every sandbox provider call (ms), to model a real provider in benchmarks.
REFILL_SANDBOX_LATENCY_MS = int(os.environ.get("REFILL_SANDBOX_LATENCY_MS", "0"))

# Stripe (REFILL_PAYMENT_GATEWAY=stripe): secret API key, the webhook endpoint's signing secret,
# and an API base only for testing against localstripe.
REFILL_STRIPE_SECRET_KEY = os.environ.get("REFILL_STRIPE_SECRET_KEY", "")
REFILL_STRIPE_WEBHOOK_SECRET = os.environ.get("REFILL_STRIPE_WEBHOOK_SECRET", "")
REFILL_STRIPE_API_BASE = os.environ.get("REFILL_STRIPE_API_BASE", "")
REFILL_STRIPE_TIMEOUT = float(os.environ.get("REFILL_STRIPE_TIMEOUT", "30"))
# Cards are typed into Stripe's own field (Stripe.js) and reach Refill only as a pm_ reference: the
# publishable key (pk_live_… / pk_test_…) given to the script, and the script's address (tests point
# it at localstripe's stand-in). Without the publishable key the Stripe adapter takes no cards.
REFILL_STRIPE_PUBLISHABLE_KEY = os.environ.get("REFILL_STRIPE_PUBLISHABLE_KEY", "")
REFILL_STRIPE_JS_URL = os.environ.get("REFILL_STRIPE_JS_URL", "https://js.stripe.com/v3/")
# The Stripe account's country (two letters), asked for by the Apple Pay / Google Pay button.
REFILL_STRIPE_COUNTRY = os.environ.get("REFILL_STRIPE_COUNTRY", "US")
# Apple Pay on the web: the domain-association file Stripe's dashboard gives for this site's domain,
# served at /.well-known/apple-developer-merchantid-domain-association (404 while unset).
REFILL_APPLE_PAY_DOMAIN_ASSOCIATION_FILE = os.environ.get("REFILL_APPLE_PAY_DOMAIN_ASSOCIATION_FILE", "")

# PayPal (Orders v2; route PayPal to it with REFILL_PAYMENT_ROUTES=paypal=paypal): the REST app's
# client id and secret, the id of the webhook set up for /webhooks/payments/paypal/, and the API
# base (live by default; https://api-m.sandbox.paypal.com for PayPal's sandbox).
REFILL_PAYPAL_CLIENT_ID = os.environ.get("REFILL_PAYPAL_CLIENT_ID", "")
REFILL_PAYPAL_CLIENT_SECRET = os.environ.get("REFILL_PAYPAL_CLIENT_SECRET", "")
REFILL_PAYPAL_WEBHOOK_ID = os.environ.get("REFILL_PAYPAL_WEBHOOK_ID", "")
REFILL_PAYPAL_API_BASE = os.environ.get("REFILL_PAYPAL_API_BASE", "https://api-m.paypal.com")
REFILL_PAYPAL_TIMEOUT = float(os.environ.get("REFILL_PAYPAL_TIMEOUT", "30"))

# The SM-DP+ that prepares eSIM profiles (ES2+; see docs/esim.md). `make run` starts the bundled
# simulator (tools/smdp_sim.py) on loopback; point these at a real SM-DP+ in production.
REFILL_SMDP = {
    "URL": os.environ.get("REFILL_SMDP_URL", "http://127.0.0.1:8720"),
    # How Refill names itself to the SM-DP+ (functionRequesterIdentifier), and the SM-DP+'s name in
    # its notifications to Refill.
    "REQUESTER_ID": os.environ.get("REFILL_SMDP_REQUESTER_ID", "refill-operator"),
    "SMDP_ID": os.environ.get("REFILL_SMDP_ID", "refill-smdp-simulator"),
    # The SM-DP+'s address put into activation codes when its answers do not give one.
    "ADDRESS": os.environ.get("REFILL_SMDP_ADDRESS", "smdp.refill.test"),
    "TIMEOUT": float(os.environ.get("REFILL_SMDP_TIMEOUT", "10")),
    "RETRIES": int(os.environ.get("REFILL_SMDP_RETRIES", "2")),
    # Mutual TLS (PEM files): Refill's client certificate and key, and the CA of the SM-DP+'s certificate.
    "CLIENT_CERT": os.environ.get("REFILL_SMDP_CLIENT_CERT", ""),
    "CLIENT_KEY": os.environ.get("REFILL_SMDP_CLIENT_KEY", ""),
    "CA_FILE": os.environ.get("REFILL_SMDP_CA_FILE", ""),
    # The bearer token the SM-DP+ sends with its download progress notifications. Empty: every
    # notification is refused.
    "CALLBACK_TOKEN": os.environ.get("REFILL_SMDP_CALLBACK_TOKEN", ""),
    # The SM-DP+'s re-download limit per profile (a re-issue beyond it is refused before asking).
    "DOWNLOAD_LIMIT": int(os.environ.get("REFILL_SMDP_DOWNLOAD_LIMIT", "3")),
    # Released profiles kept ready per profile type, so a new eSIM line gets its QR at once.
    "POOL_LOW_WATER": int(os.environ.get("REFILL_ESIM_POOL_LOW_WATER", "5")),
}
REFILL_SMDP_SIMULATOR = env_bool("REFILL_SMDP_SIMULATOR", False)
# The profile type a line gets when it has no eSIM profile on record yet.
REFILL_ESIM_PROFILE_TYPE = os.environ.get("REFILL_ESIM_PROFILE_TYPE", "consumer")
# The back office warns when a profile type's profiles a new line can still get fall to this many
# (each type's own threshold, set on the inventory page, comes first).
REFILL_ESIM_LOW_STOCK = int(os.environ.get("REFILL_ESIM_LOW_STOCK", "10"))
# A paid new line still waiting for an eSIM after this many hours is offered its money back.
REFILL_ESIM_REFUND_AFTER_HOURS = int(os.environ.get("REFILL_ESIM_REFUND_AFTER_HOURS", "48"))

# /api/v1/ requests per fixed window: per API key, and per address for everyone else.
REFILL_API_RATE_LIMITS = {
    "enabled": env_bool("REFILL_API_RATE_LIMITS", True),
    "window": int(os.environ.get("REFILL_API_RATE_WINDOW", "60")),
    "key": int(os.environ.get("REFILL_API_RATE_PER_KEY", "6000")),
    "ip": int(os.environ.get("REFILL_API_RATE_PER_IP", "600")),
}

# Gift refills by guests without an account (POST /api/v1/refills, docs/api.md): how much one
# address may try, and how much one number may receive, before they must wait.
REFILL_GUEST_REFILLS = {
    "declines_per_ip_hour": int(os.environ.get("REFILL_GUEST_DECLINES_PER_IP_HOUR", "3")),
    "declines_per_number_hour": int(os.environ.get("REFILL_GUEST_DECLINES_PER_NUMBER_HOUR", "5")),
    "orders_per_ip_day": int(os.environ.get("REFILL_GUEST_ORDERS_PER_IP_DAY", "10")),
    "paid_per_number_day": int(os.environ.get("REFILL_GUEST_PAID_PER_NUMBER_DAY", "5")),
    "max_periods": int(os.environ.get("REFILL_GUEST_MAX_PERIODS", "3")),
}

# Support requests: attachments are kept here (private: served only through an owner-checked view).
REFILL_SUPPORT_ATTACHMENTS_DIR = Path(os.environ.get("REFILL_SUPPORT_ATTACHMENTS_DIR", VAR_DIR / "support-attachments"))
