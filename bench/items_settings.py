"""Benchmark-only settings: the real settings plus a URLconf with the bare comparison view."""

from targets_site.settings import *  # noqa: F403

ROOT_URLCONF = "bench.items_bare_urls"
