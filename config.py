"""Settings per environment, every value overridable by an environment variable.

The default runs the demo on an embedded SQLite file under instance/; production reads
OPINION_DATABASE_URL and SECRET_KEY; tests use TEST_DATABASE_URL when set so one suite runs on
SQLite and on PostgreSQL.
"""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("OPINION_INSTANCE_DIR", BASE_DIR / "instance"))


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-change-me")
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "OPINION_DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'opinion.db'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    # The district: units, categories, deadline table, escalation ladder.
    DISTRICT_FILE = os.environ.get("OPINION_DISTRICT_FILE", str(BASE_DIR / "opinion" / "district.yaml"))
    TIMEZONE = os.environ.get("OPINION_TIMEZONE", "Asia/Shanghai")
    SENTIMENT_ENGINE = os.environ.get("OPINION_SENTIMENT_ENGINE", "domain")
    # Posts on one topic within this many hours may join it; older topics go dormant.
    TOPIC_DORMANT_HOURS = int(os.environ.get("OPINION_TOPIC_DORMANT_HOURS", "72"))
    # Posts older than this when they arrive (a history import, a feed's old backlog) are stored,
    # analysed and clustered, but open no case: nobody answers last year's posts.
    CASE_MAX_POST_AGE_HOURS = float(os.environ.get("OPINION_CASE_MAX_POST_AGE_HOURS", "168"))
    ROUTING_MIN_CONFIDENCE = float(os.environ.get("OPINION_ROUTING_MIN_CONFIDENCE", "0.5"))
    # The labelled messages the weekly retrain adds the monitors' corrections to (CSV/JSON Lines).
    ROUTING_TRAIN_DATA = os.environ.get("OPINION_ROUTING_TRAIN_DATA", "")
    # The scheduler's nightly database backup (Beijing time; empty: none) and how many copies stay.
    BACKUP_AT = os.environ.get("OPINION_BACKUP_AT", "02:30")
    BACKUP_DIR = os.environ.get("OPINION_BACKUP_DIR", "")   # default: instance/backups
    BACKUP_KEEP = int(os.environ.get("OPINION_BACKUP_KEEP", "14"))
    # When the scheduler makes the leaders' reports (Beijing time): "07:00", "mon 07:30".
    REPORT_DAILY_AT = os.environ.get("OPINION_REPORT_DAILY_AT", "07:00")
    REPORT_WEEKLY_AT = os.environ.get("OPINION_REPORT_WEEKLY_AT", "mon 07:30")
    # The address leaders open, for links printed in Word and PDF reports.
    PUBLIC_URL = os.environ.get("OPINION_PUBLIC_URL", "")
    # Which files a generated report gets in the archive (html, docx, pdf; PDF needs Pango).
    REPORT_FORMATS = [f.strip() for f in os.environ.get("OPINION_REPORT_FORMATS", "html,docx,pdf").split(",")
                      if f.strip()]
    # Notification channels (opinion.notify.channels); passwords and robot keys only from the
    # environment. OPINION_ALERT_WEBHOOKS: comma-separated robot URLs that receive alerts.
    SMTP_HOST = os.environ.get("OPINION_SMTP_HOST", "")
    SMTP_PORT = int(os.environ.get("OPINION_SMTP_PORT", "25"))
    SMTP_SECURITY = os.environ.get("OPINION_SMTP_SECURITY", "none")  # none | starttls | ssl
    SMTP_USER = os.environ.get("OPINION_SMTP_USER", "")
    SMTP_PASSWORD = os.environ.get("OPINION_SMTP_PASSWORD", "")
    SMTP_FROM = os.environ.get("OPINION_SMTP_FROM", "")
    WEBHOOK_FORMAT = os.environ.get("OPINION_WEBHOOK_FORMAT", "wecom")  # wecom | dingtalk | generic
    WEBHOOK_SECRET = os.environ.get("OPINION_WEBHOOK_SECRET", "")  # 钉钉加签 secret
    ALERT_WEBHOOK_URLS = [u.strip() for u in os.environ.get("OPINION_ALERT_WEBHOOKS", "").split(",") if u.strip()]
    SMS_URL = os.environ.get("OPINION_SMS_URL", "")
    SMS_METHOD = os.environ.get("OPINION_SMS_METHOD", "POST")
    SMS_ENCODING = os.environ.get("OPINION_SMS_ENCODING", "json")  # json | form
    SMS_BODY = os.environ.get("OPINION_SMS_BODY", '{"phone": "{phone}", "text": "{text}"}')
    SMS_HEADERS = os.environ.get("OPINION_SMS_HEADERS", "{}")  # e.g. {"Authorization": "..."}
    SMS_SUCCESS = os.environ.get("OPINION_SMS_SUCCESS", "")  # e.g. code=0; empty: HTTP 2xx
    NOTIFY_TIMEOUT = float(os.environ.get("OPINION_NOTIFY_TIMEOUT", "10"))
    NOTIFY_MAX_ATTEMPTS = int(os.environ.get("OPINION_NOTIFY_MAX_ATTEMPTS", "6"))
    # Scale-out (README "Scale-out"): unset, every task runs in process as it always has.
    BROKER_URL = os.environ.get("OPINION_BROKER_URL", "")  # e.g. redis://127.0.0.1:6379/0
    TASK_MAX_RETRIES = int(os.environ.get("OPINION_TASK_MAX_RETRIES", "5"))
    TASK_MIN_BACKOFF_MS = int(os.environ.get("OPINION_TASK_MIN_BACKOFF_MS", "15000"))
    TASK_MAX_BACKOFF_MS = int(os.environ.get("OPINION_TASK_MAX_BACKOFF_MS", "600000"))
    # A worker killed mid-task: its messages go back to the queue after this long without a heartbeat.
    BROKER_HEARTBEAT_MS = int(os.environ.get("OPINION_BROKER_HEARTBEAT_MS", "60000"))
    # Out of 1,000,000 fetches, how many also requeue dead workers' messages (Dramatiq's default: 1000).
    BROKER_MAINTENANCE_CHANCE = int(os.environ.get("OPINION_BROKER_MAINTENANCE_CHANCE", "1000"))
    BROKER_NAMESPACE = os.environ.get("OPINION_BROKER_NAMESPACE", "opinion")
    # Each live alert stream holds a server thread this long, then the browser reconnects.
    MONITOR_STREAM_SECONDS = float(os.environ.get("OPINION_MONITOR_STREAM_SECONDS", "25"))
    MONITOR_MAX_STREAMS = int(os.environ.get("OPINION_MONITOR_MAX_STREAMS", "4"))  # per web process
    # The public pages (查询码 lookup, survey): requests per address, and where the counts live
    # (memory:// per process; redis://127.0.0.1:6379 to share them between processes).
    PUBLIC_RATE_LIMIT = os.environ.get("OPINION_PUBLIC_RATE_LIMIT", "20 per minute;200 per day")
    RATELIMIT_STORAGE_URI = os.environ.get("OPINION_RATELIMIT_STORAGE_URI", "memory://")
    # Case-event webhooks for partner systems (opinion.notify.webhooks): comma-separated URLs, the
    # HMAC-SHA256 signing secret (environment only), and attempts before a delivery is given up.
    CASE_WEBHOOK_URLS = [u.strip() for u in os.environ.get("OPINION_CASE_WEBHOOKS", "").split(",") if u.strip()]
    CASE_WEBHOOK_SECRET = os.environ.get("OPINION_CASE_WEBHOOK_SECRET", "")
    CASE_WEBHOOK_MAX_ATTEMPTS = int(os.environ.get("OPINION_CASE_WEBHOOK_MAX_ATTEMPTS", "8"))
    WEB_HOST = os.environ.get("OPINION_HOST", "127.0.0.1")
    WEB_PORT = int(os.environ.get("OPINION_PORT", "5000"))
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = int(os.environ.get("OPINION_SESSION_SECONDS", str(8 * 3600)))
    WTF_CSRF_TIME_LIMIT = None  # the session lifetime bounds the token already
    # Roles that must use two-step log-in (TOTP) before anything else: administrators in
    # production (OPINION_ENV=production); in the demo nobody must, admins and leaders may.
    TWO_FACTOR_REQUIRED_ROLES = ()
    TESTING = False


class DevConfig(Config):
    DEBUG = False


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    WTF_CSRF_ENABLED = True


class ProductionConfig(Config):
    TWO_FACTOR_REQUIRED_ROLES = ("admin",)
    SESSION_COOKIE_SECURE = os.environ.get("OPINION_COOKIE_SECURE", "1") == "1"

    def __init__(self) -> None:
        if not os.environ.get("OPINION_DATABASE_URL") or not os.environ.get("SECRET_KEY"):
            raise RuntimeError("生产环境必须设置 OPINION_DATABASE_URL 与 SECRET_KEY 环境变量")


CONFIGS = {"default": DevConfig, "test": TestConfig, "production": ProductionConfig}
