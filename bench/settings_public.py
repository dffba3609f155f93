"""Settings for bench/public.py: the project's, served plainly over HTTP on 127.0.0.1.

The failure limits are lifted so that every failing POST runs the whole
verification path (cache counters included) instead of stopping at a lockout.
With REDIS_URL set (the production configuration, bench/public.py's default) the
counters live in Redis under BENCH_KEY_PREFIX, which the bench deletes afterwards.
"""

import os

os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production-0123456789abcdef")
os.environ.setdefault("DEBUG", "0")

from project.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls_public"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
RATE_LIMIT_FAILURES_PER_REFERENCE = 10**9
RATE_LIMIT_FAILURES_PER_IP = 10**9
LOGGING = {"version": 1, "disable_existing_loggers": True}
if REDIS_URL:  # noqa: F405
    CACHES["default"]["KEY_PREFIX"] = os.environ.get("BENCH_KEY_PREFIX", "bench")  # noqa: F405
