"""gunicorn settings for production: ``gunicorn -c gunicorn.conf.py targets_site.wsgi``.

Each value can be overridden with the matching GUNICORN_* variable or on the command line.
"""

import gc
import multiprocessing
import os
import re
from pathlib import Path

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak can never take a machine down.
max_requests = 2000
max_requests_jitter = 200
accesslog = "-" if os.environ.get("GUNICORN_ACCESS_LOG") == "1" else None
errorlog = "-"
# Settings are parsed (and a bad variable refused) once in the master, before forking.
preload_app = True
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# Prometheus (targets_site/metrics.py): the workers are separate processes, so each writes its
# samples to memory-mapped files in a directory of this instance's own, and a scrape answered
# by any worker adds them all up. Emptied at start (old workers' counts would be added to the
# new ones'); one directory per bind address, so two instances on one machine never share one.
# Must be in the environment before prometheus_client is imported (preload_app imports it).
# An empty value counts as unset (prometheus_client would write to the working directory).
_metrics_dir = Path(
    os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    or Path(__file__).resolve().parent / "var" / "metrics" / re.sub(r"\W+", "-", bind)
)
os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(_metrics_dir)
_metrics_dir.mkdir(parents=True, exist_ok=True)
for _stale in _metrics_dir.glob("*.db"):
    _stale.unlink()


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


# Each request allocates thousands of objects that reference counting frees again (a 900-shot
# score submission: about 10,000). At the default threshold (700 allocations) the collector
# still runs several times a request and walks every young object, 3 ms of that submission's
# 25 ms of CPU; every 50,000 allocations it costs about 1 ms (bench/games_submit.py, the same
# server with either setting side by side). Cycles are still collected, only less often.
def post_fork(server, worker):
    gc.set_threshold(50_000, 20, 20)
