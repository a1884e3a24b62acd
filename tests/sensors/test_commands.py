from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from sensors.demo import demo_seed
from sensors.models import Alert, Reading, ReadingMark, Sensor
from tests.sensors.factories import SensorFactory, minute

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def sensors():
    return SensorFactory(code="A"), SensorFactory(code="B")


def write(tmp_path: Path, text: str, name: str = "readings.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_import_long_format(tmp_path, sensors):
    path = write(
        tmp_path,
        "timestamp,sensor,value\n"
        "2026-01-01T00:00:00Z,A,1.5\n"
        "2026-01-01T00:01:00+00:00,B,-2\n"
        "\n"
        "2026-01-01T01:02:00+01:00,A,3e1\n",
    )
    out, _ = run("import_readings", str(path))
    assert "long format" in out and "3 readings, 3 new" in out
    assert sorted(Reading.objects.values_list("sensor__code", "value")) == [
        ("A", 1.5),
        ("A", 30.0),
        ("B", -2.0),
    ]
    assert ReadingMark.objects.count() == 2


def test_import_wide_format_skips_empty_cells(tmp_path, sensors):
    path = write(
        tmp_path,
        "timestamp,A,B\n2026-01-01T00:00:00Z,1,2\n2026-01-01T00:01:00Z,,4\n2026-01-01T00:02:00Z,5,\n",
    )
    out, _ = run("import_readings", str(path))
    assert "wide format" in out and "4 readings" in out
    assert Reading.objects.filter(sensor__code="A").count() == 2


def test_codes_escaped_against_formulas_are_read_as_the_codes_in_either_layout(tmp_path):
    SensorFactory(code="-probe")
    long = write(tmp_path, "sensor,timestamp,value\n'-probe,2026-01-01 00:00:00+00,1\n", "l.csv")
    wide = write(tmp_path, "timestamp,'-probe\n2026-01-01T00:01:00Z,2\n", "w.csv")
    run("import_readings", str(long))
    run("import_readings", str(wide))
    assert sorted(Reading.objects.values_list("sensor__code", "value")) == [
        ("-probe", 1.0),
        ("-probe", 2.0),
    ]


def test_importing_the_same_file_twice_adds_nothing(tmp_path, sensors):
    path = write(tmp_path, "timestamp,sensor,value\n2026-01-01T00:00:00Z,A,1\n")
    run("import_readings", str(path))
    out, _ = run("import_readings", str(path))
    assert "0 new, 1 already stored" in out
    assert Reading.objects.count() == 1


def test_bad_rows_are_reported_by_line_number_and_nothing_is_stored(tmp_path, sensors):
    path = write(
        tmp_path,
        "timestamp,sensor,value\n"
        "2026-01-01T00:00:00Z,A,1\n"
        "2026-01-01T00:01:00,A,2\n"
        "2026-01-01T00:02:00Z,NOPE,3\n"
        "2026-01-01T00:03:00Z,A,nan\n"
        "2026-01-01T00:04:00Z,A,inf\n"
        "2026-01-01T00:05:00Z,A,ten\n"
        "2026-01-01T00:06:00Z,A\n"
        "2026-01-01T00:07:00Z,A,7\n",
    )
    with pytest.raises(CommandError, match="6 bad rows"):
        out, err = StringIO(), StringIO()
        try:
            call_command("import_readings", str(path), stdout=out, stderr=err)
        finally:
            report = err.getvalue()
    assert f"{path}:3: Timestamp has no timezone" in report
    assert f"{path}:4: Unknown sensor code 'NOPE'" in report
    assert f"{path}:5: Value must be finite" in report
    assert f"{path}:6: Value must be finite" in report
    assert f"{path}:7: Not a number" in report
    assert f"{path}:8: Expected 3 fields" in report
    assert Reading.objects.count() == 0
    assert ReadingMark.objects.count() == 0


def test_a_bad_row_after_many_good_chunks_still_stores_nothing(tmp_path, sensors):
    lines = ["timestamp,sensor,value"]
    lines += [f"2026-01-01T00:00:{i % 60:02d}.{i:06d}Z,A,{i}" for i in range(25_000)]
    lines.append("2026-01-02T00:00:00Z,A,oops")
    path = write(tmp_path, "\n".join(lines) + "\n")
    with pytest.raises(CommandError, match="1 bad rows"):
        run("import_readings", str(path))
    assert Reading.objects.count() == 0


def test_import_stops_reporting_after_max_errors(tmp_path, sensors):
    rows = "".join(f"bad-{i},A,1\n" for i in range(100))
    path = write(tmp_path, "timestamp,sensor,value\n" + rows)
    with pytest.raises(CommandError, match=r"3 bad rows .*stopped early"):
        run("import_readings", str(path), "--max-errors", "3")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty"),
        ("when,what\n", "Expected the header"),
        ("timestamp,A,NOPE\n", "Unknown sensor codes in the header: NOPE"),
        ("timestamp,A,A\n", "repeated"),
        ("timestamp,sensor,value\n2026-01-01T00:00:00Z,A,1\x00\n", ":2: Not a number"),
        ("timestamp,sensor,value\n2026-01-01T00:00:00Z,A\x00,1\n", ":2: Unknown sensor code"),
    ],
)
def test_bad_files_are_refused_with_a_reason(tmp_path, sensors, content, message):
    path = write(tmp_path, content)
    with pytest.raises(CommandError):
        err = StringIO()
        try:
            call_command("import_readings", str(path), stdout=StringIO(), stderr=err)
        finally:
            assert message in err.getvalue(), err.getvalue()
    assert Reading.objects.count() == 0


def test_a_file_that_is_not_utf8_or_missing_is_refused(tmp_path, sensors):
    path = tmp_path / "latin1.csv"
    path.write_bytes("timestamp,sensor,value\n2026-01-01T00:00:00Z,Ä,1\n".encode("latin-1"))
    with pytest.raises(CommandError, match="not UTF-8"):
        run("import_readings", str(path))
    with pytest.raises(CommandError, match="does not exist"):
        run("import_readings", str(tmp_path / "missing.csv"))


def test_generate_readings_is_seeded_and_idempotent(sensors):
    args = ["generate_readings", "--sensor", "A", "--days", "1", "--step", "600"]
    args += ["--end", "2026-01-02T00:00:00Z", "--seed", "7"]
    out, _ = run(*args)
    assert "Generated 144 readings" in out and "144 new" in out
    values = list(Reading.objects.order_by("timestamp").values_list("value", flat=True))
    out, _ = run(*args)
    assert "0 new" in out
    Reading.objects.all().delete()
    run(*args)
    assert list(Reading.objects.order_by("timestamp").values_list("value", flat=True)) == values
    assert Reading.objects.order_by("timestamp").last().timestamp.isoformat() == (
        "2026-01-02T00:00:00+00:00"
    )


@pytest.mark.parametrize(
    "extra",
    [["--sensor", "NOPE"], ["--sensor", "A", "--step", "0"], ["--sensor", "A", "--end", "x"]],
)
def test_generate_readings_refuses_bad_arguments(sensors, extra):
    with pytest.raises(CommandError):
        run("generate_readings", *extra)


def test_plot_readings_writes_a_png(tmp_path, sensors):
    run("generate_readings", "--sensor", "A", "--days", "1", "--end", "2026-01-02T00:00:00Z")
    out_file = tmp_path / "plot.png"
    out, _ = run("plot_readings", "--sensors", "A,B", "--out", str(out_file), "--width", "800")
    assert out_file.read_bytes().startswith(b"\x89PNG")
    assert "2 sensors" in out


@pytest.mark.parametrize(
    "extra",
    [
        ["--sensors", "A,NOPE"],
        ["--sensors", ","],
        ["--sensors", "A", "--width", "1000000"],
        ["--sensors", "A", "--from", "2026-01-02T00:00:00Z", "--to", "2026-01-01T00:00:00Z"],
    ],
)
def test_plot_readings_refuses_bad_arguments(tmp_path, sensors, extra):
    with pytest.raises(CommandError):
        run("plot_readings", "--out", str(tmp_path / "x.png"), *extra)


def test_plot_readings_reports_an_unwritable_path(tmp_path, sensors):
    with pytest.raises(CommandError, match="Cannot write"):
        run("plot_readings", "--sensors", "A", "--out", str(tmp_path / "no" / "dir.png"))


def test_demo_seed_creates_sensors_series_and_alerts_once():
    out = StringIO()
    demo_seed(stdout=out)
    sensors = {s.code: s for s in Sensor.objects.all()}
    assert sensors["A"].high_threshold == 65 and sensors["B"].high_threshold == 70
    assert sensors["C"].low_threshold == 48
    assert Reading.objects.filter(sensor__code="A").count() == 3 * 1440
    assert set(Alert.objects.values_list("sensor__code", flat=True)) == {"A", "B", "C"}
    # The sensor page pictured in the README shows A with an open alert.
    assert Alert.objects.filter(sensor__code="A", closed_at__isnull=True).exists()
    counts = (Reading.objects.count(), Alert.objects.count())
    demo_seed(stdout=StringIO())
    assert (Reading.objects.count(), Alert.objects.count()) == counts
    assert "Threshold check" in out.getvalue()


def test_import_normalises_offsets_and_refuses_times_that_leave_the_calendar(tmp_path, sensors):
    ok = write(tmp_path, "timestamp,sensor,value\n2026-01-01T01:02:00+01:00,A,1\n", "ok.csv")
    run("import_readings", str(ok))
    assert Reading.objects.get().timestamp == minute(2)
    bad = write(tmp_path, "timestamp,sensor,value\n9999-12-31T23:00:00-05:00,A,1\n", "bad.csv")
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("import_readings", str(bad), stdout=StringIO(), stderr=err)
    assert ":2: Timestamp is out of range" in err.getvalue()


class Terminal(StringIO):
    def isatty(self) -> bool:
        return True


def test_import_and_generate_show_a_progress_bar_on_a_terminal(tmp_path, sensors, capsys):
    path = write(tmp_path, "timestamp,sensor,value\n2026-01-01T00:00:00Z,A,1\n")
    out = Terminal()
    call_command("import_readings", str(path), stdout=out)
    call_command("generate_readings", "--sensor", "B", "--days", "0.01", stdout=out)
    assert "Imported" in out.getvalue() and "Generated" in out.getvalue()
    assert "importing" in capsys.readouterr().err
    assert Reading.objects.count() == 1 + 14
