"""Production web server: `gunicorn -c gunicorn.conf.py` (README "Scale-out").

Several worker processes, each with threads (gthread): a page never waits behind another user's
slow page, and the monitors' alert streams (Server-Sent Events, bounded to
OPINION_MONITOR_STREAM_SECONDS each) hold a thread, not a process. Every worker, and every other
machine running the same command, is stateless: sessions are signed cookies (same SECRET_KEY
everywhere), the alert stream reads new alerts from the database, so a load balancer may send any
request anywhere. `python -m opinion web` (waitress, one process) stays the simple server for the demo.
"""
import multiprocessing
import os

_env = os.environ.get("OPINION_ENV", "production")
wsgi_app = f"opinion:create_app({_env!r})"
bind = f"{os.environ.get('OPINION_HOST', '127.0.0.1')}:{os.environ.get('OPINION_PORT', '5000')}"
workers = int(os.environ.get("OPINION_WEB_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 9)))
worker_class = "gthread"
threads = int(os.environ.get("OPINION_WEB_THREADS", "8"))
timeout = 120            # report downloads and exports can take a while; streams end sooner
graceful_timeout = 30
keepalive = 5
accesslog = os.environ.get("OPINION_ACCESS_LOG", "-") or None  # empty: no access log
forwarded_allow_ips = os.environ.get("OPINION_FORWARDED_ALLOW_IPS", "127.0.0.1")  # the load balancer
