"""Production settings with STATIC_ROOT moved to a test's temporary directory.

STATIC_ROOT is not an environment setting (it is always ``var/static``); this module lets the
static-files test run ``collectstatic`` and a live gunicorn without touching the working tree.
"""

import os

from targets_site.settings import *  # noqa: F403

STATIC_ROOT = os.environ["TARGETS_TEST_STATIC_ROOT"]

# Compressing the multi-megabyte Swagger/ReDoc bundles and their source maps costs a minute of
# CPU; the tests check compression on the admin's CSS, so those two extensions are skipped here.
from whitenoise.compress import Compressor  # noqa: E402

WHITENOISE_SKIP_COMPRESS_EXTENSIONS = (*Compressor.SKIP_COMPRESS_EXTENSIONS, "js", "map")
