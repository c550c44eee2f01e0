"""Hardening (issue 9, item 14) of the `plein` command: broken program files give a problem list,
never a traceback; what it prints cannot drive the terminal; `--speed` has a range."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from support import ROOT, SEED

pytestmark = pytest.mark.unit


def run_cli(*args, env=None):
    import os
    return subprocess.run([sys.executable, "-m", "server.cli", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, env={**os.environ, **(env or {})})


def seed_with(**replace) -> str:
    text = SEED.read_text(encoding="utf-8")
    for pattern, new in replace.items():
        text, n = re.subn(pattern, lambda _m, new=new: new, text, count=1, flags=re.M)
        assert n == 1, pattern
    return text


BROKEN = {
    "deep-array": "[event]\nx = " + "[" * 5000 + "]" * 5000 + "\n",
    "deep-table": "[event]\nx = " + "{a = " * 2000 + "1" + "}" * 2000 + "\n",
    # 00:00 on 0001-01-01 in Amsterdam (LMT +0:19:32) is a UTC time before year 1: OverflowError
    "year-1": seed_with(**{r"^date = .*$": "date = 0001-01-01", r'^start = "16:00"$': 'start = "00:00"'}),
    "year-9999": seed_with(**{r"^date = .*$": "date = 9999-12-31", r'^end = "22:00"$': 'end = "23:59"',
                              r'^timezone = .*$': 'timezone = "America/Los_Angeles"'}),
}


@pytest.mark.parametrize("name", BROKEN)
def test_a_broken_program_file_is_a_problem_list_not_a_traceback(tmp_path, name):
    path = tmp_path / f"{name}.toml"
    path.write_text(BROKEN[name], encoding="utf-8")
    done = run_cli("check", path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and "Error:" not in done.stderr
    assert f"{path}: 1 problem(s):" in done.stderr


def test_the_date_range_is_named():
    from rooms.program import ProgramError, parse_program
    with pytest.raises(ProgramError) as info:
        parse_program(BROKEN["year-1"])
    assert [str(p).split(": ", 1)[1] for p in info.value.problems] == [
        "event: date: 0001-01-01 is not between 2000-01-01 and 2999-12-31"]


def test_control_and_bidi_characters_from_a_file_are_printed_as_escapes(tmp_path):
    path = tmp_path / "esc.toml"
    path.write_text(seed_with(**{r'^title = "De Coöperatieve Stad"$': r'title = "\u001b]0;pwned\u0007\u001b[2J Stad"',
                                 r'^title = "Plenaire opening"$': r'title = "\u202eopening"'}), encoding="utf-8")
    done = run_cli("check", path)
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stdout and "\x07" not in done.stdout and "\u202e" not in done.stdout
    assert r"\x1b]0;pwned\x07\x1b[2J Stad" in done.stdout
    assert r"\u202eopening" in done.stdout
    assert "Coöperatieven in beeld" in done.stdout  # ordinary letters stay as they are
    # ... and in a problem that quotes the file.
    path.write_text(seed_with(**{r'^kind = "plenary"$': r'kind = "\u001b[31mred"'}), encoding="utf-8")
    done = run_cli("check", path)
    assert done.returncode == 1 and "\x1b" not in done.stderr and r"\x1b[31mred" in done.stderr


@pytest.mark.parametrize("speed", ["1e-300", "0.001", "1e6", "inf", "nan", "0", "-5"])
def test_serve_refuses_a_speed_out_of_range_naming_the_flag(speed):
    done = run_cli("serve", "--speed", speed, "--port", "1")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "--speed" in done.stderr and "between 0.01 and 3600" in done.stderr and "bad_speed" in done.stderr


def test_plein_speed_in_the_environment_is_checked_too(tmp_path):
    done = run_cli("serve", "--port", "1", env={"PLEIN_SPEED": "1e-300", "PLEIN_INSTANCE": str(tmp_path)})
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "PLEIN_SPEED" in done.stderr and "between 0.01 and 3600" in done.stderr
