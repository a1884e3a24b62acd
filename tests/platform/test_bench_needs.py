"""A benchmark on a machine without its tools says what is missing in one line, exit code 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_missing_tool_is_one_line_and_exit_code_2(tmp_path):
    script = tmp_path / "some_bench.py"
    script.write_text(
        f"import sys; sys.path.insert(0, {str(ROOT / 'bench')!r})\n"
        "from needs import require\n"
        "require(tools=('surely-not-installed-tool',))\n"
        "print('ran anyway')\n"
    )
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip() == (
        "some_bench.py: cannot run: surely-not-installed-tool is missing (install it)"
    )
    assert "Traceback" not in result.stderr


def test_every_benchmark_that_needs_the_machine_checks_it_first():
    for script in sorted((ROOT / "bench").glob("*.py")):
        text = script.read_text()
        uses_machine = any(
            word in text for word in ('"psql"', '"wrk"', "mosquitto_pub", "127.0.0.1:5432")
        )
        if uses_machine and script.name != "needs.py":
            assert "require(" in text, script.name
