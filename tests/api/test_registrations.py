"""`plein import-registrations`: a ticketing tool's CSV becomes participants, choices and personal links."""
from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from collections import Counter

import pytest
import redis

from support import ROOT, SEED, SLUG

pytestmark = pytest.mark.redis

BASE = "https://plein.example.org"
SMALL = "fondsen-financiering"  # capacity 5 in the test program


@pytest.fixture
def small_program(tmp_path):
    """The seed evening with room for 250 per session, except 5 places in 'fondsen-financiering'."""
    text = SEED.read_text(encoding="utf-8").replace("capacity = 200", "capacity = 250")
    text, n = re.subn(r'(id = "fondsen-financiering".*?capacity = )250', r"\g<1>5", text, count=1, flags=re.S)
    assert n == 1
    path = tmp_path / "program.toml"
    path.write_text(text, encoding="utf-8")
    from rooms.program import load_program
    return path, load_program(path)


def run_import(redis_url, tmp_path, *args):
    env = {k: v for k, v in os.environ.items() if k not in ("PLEIN_PUBLIC_URL", "PLEIN_PROGRAM")}
    env.update(REDIS_URL=redis_url, PLEIN_INSTANCE=str(tmp_path / "instance"), PYTHONUNBUFFERED="1")
    return subprocess.run([sys.executable, "-m", "server.cli", "import-registrations", *map(str, args)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def snapshot(r) -> dict:
    """Every key of the test database with its type and value."""
    out = {}
    for key in r.scan_iter():
        kind = r.type(key)
        value = {"string": r.get, "hash": r.hgetall, "set": r.smembers,
                 "zset": lambda k: r.zrange(k, 0, -1, withscores=True), "list": lambda k: r.lrange(k, 0, -1)}[kind](key)
        out[key] = (kind, value)
    return out


def read_links(path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["name", "email", "link"]
    return [dict(zip(rows[0], row)) for row in rows[1:]]


def big_csv(program) -> tuple[str, dict, dict]:
    """500 rows, ';' and a BOM, sessions by id or by title (any case), some cells empty, 6 bad rows.

    Returns the text, {line: expected reason} of the bad rows, {email: (name, choices)} of the good ones.
    """
    rounds = {rnd.id: rnd for rnd in program.rounds}
    header = ["Naam", "E-mail", "in-beeld", "Break-out sessies ronde I", "RONDE-2",
              " break-out sessies ronde iii ", "Opmerking"]
    lines = [";".join(header)]
    bad: dict[int, str] = {}
    good: dict[str, tuple[str, dict]] = {}
    small_rows = {10, 20, 30, 50, 60}
    for i in range(500):
        line = i + 2
        name, email = f"Deelnemer {i}", f"deelnemer{i}@example.org"
        choices = {}
        cells = []
        for j, rid in enumerate(["in-beeld", "ronde-1", "ronde-2", "ronde-3"]):
            sessions = rounds[rid].sessions
            if (i + j) % (7 + j) == 0:
                cells.append("")  # no choice in this round
                continue
            if rid == "ronde-2":
                session = rounds[rid].session(SMALL) if i in small_rows or i == 300 else \
                    [s for s in sessions if s.id != SMALL][i % 2]
            else:
                session = sessions[i % len(sessions)]
            choices[rid] = session.id
            cells.append([session.id, session.title, session.title.upper(), f"  {session.id.upper()} "][(i + j) % 4])
        if i == 40:
            cells[1] = "Onbekende sessie"
            bad[line] = "unknown session 'Onbekende sessie' in round 'ronde-1'"
        elif i == 350:
            cells[3] = "wonen-energie"
            bad[line] = "unknown session 'wonen-energie' in round 'ronde-3' (that is a session of round 'in-beeld')"
        elif i == 90:
            email = "Deelnemer3@Example.org"
            bad[line] = "'Deelnemer3@Example.org' is already on line 5"
        elif i == 150:
            email = "geen-email"
            bad[line] = "'geen-email' is not an e-mail address"
        elif i == 200:
            name = "  "
            bad[line] = "name: Please enter your name. (name_missing)"
        elif i == 300:
            bad[line] = f"session 'Coöperatieve fondsen en financiering' ({SMALL}) in round 'ronde-2' is full: capacity 5"
        else:
            good[email] = (name, choices)
        lines.append(";".join([name, email, *cells, "vegetarisch" if i % 5 == 0 else ""]))
    return "\ufeff" + "\r\n".join(lines) + "\r\n", bad, good


def test_a_500_row_csv_reports_the_bad_rows_and_imports_the_rest(r, redis_url, tmp_path, small_program):
    from rooms.participants import ParticipantService
    from rooms.store import Keys

    program_path, program = small_program
    text, bad, good = big_csv(program)
    assert Counter(c.get("ronde-2") for _, c in good.values())[SMALL] == 5
    src = tmp_path / "aanmeldingen.csv"
    src.write_bytes(text.encode("utf-8"))
    out = tmp_path / "links.csv"

    done = run_import(redis_url, tmp_path, src, "--program", program_path, "--out", out, "--base-url", BASE + "/")
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("note: ignored column(s) 'Opmerking'")
    assert lines[1:1 + len(bad)] == [f"line {n}: {why}" for n, why in sorted(bad.items())]
    assert lines[1 + len(bad)] == "imported 494 of 500 rows"
    assert lines[2 + len(bad):] == [f"links (name,email,link): {out}"]  # more than 50: only the file

    keys = Keys(program.slug)
    people = ParticipantService(r, program)
    assert people.count() == 494 == len(good)
    emails = r.hgetall(keys.emails)
    assert set(emails) == {e.lower() for e in good}
    links = read_links(out)
    assert len(links) == 494
    for link in links:
        name, choices = good[link["email"]]
        assert link["name"] == name
        assert link["link"].startswith(f"{BASE}/e/{SLUG}/p#")
        participant = people.by_token(link["link"].rsplit("#", 1)[1])
        assert participant is not None and participant.name == name
        assert participant.id == emails[link["email"].lower()]
        assert r.hget(keys.participant(participant.id), "email") == link["email"]
    for rnd in program.rounds:
        want = {emails[e.lower()]: c[rnd.id] for e, (_, c) in good.items() if rnd.id in c}
        assert r.hgetall(keys.seats(rnd.id)) == want
        assert r.smembers(keys.chosen(rnd.id)) == set(want)
        taken = {s: int(n) for s, n in r.hgetall(keys.taken(rnd.id)).items()}
        assert taken == dict(Counter(want.values()))
        assert all(taken.get(s.id, 0) <= s.capacity for s in rnd.sessions)
    assert int(r.hget(keys.taken("ronde-2"), SMALL)) == 5


def test_a_comma_csv_without_bom_and_its_default_links_file(r, redis_url, tmp_path):
    from rooms.participants import ParticipantService
    from rooms.program import load_program
    from rooms.store import Keys

    program = load_program(SEED)
    src = tmp_path / "tickets.csv"
    src.write_text('name,email,ronde-2,Break-out sessies ronde III\n'
                   'Anna de Vries,anna@example.org,samensturing,"Brainstorm - Overwaarde van je huis terug naar de buurt"\n'
                   '"Jansen, Piet",piet@example.org,,incubator\n', encoding="utf-8")
    done = run_import(redis_url, tmp_path, src)
    assert done.returncode == 0, done.stdout + done.stderr
    out = tmp_path / "tickets-links.csv"
    lines = done.stdout.splitlines()
    assert lines[0] == "imported 2 of 2 rows"
    links = read_links(out)
    assert [(x["name"], x["email"]) for x in links] == [("Anna de Vries", "anna@example.org"),
                                                         ("Jansen, Piet", "piet@example.org")]
    assert lines[1:] == [f"  {x['name']} <{x['email']}>  {x['link']}" for x in links] + \
        [f"links (name,email,link): {out}"]
    assert all(x["link"].startswith(f"http://localhost:5000/e/{SLUG}/p#") for x in links)
    keys = Keys(program.slug)
    piet = ParticipantService(r, program).by_token(links[1]["link"].rsplit("#", 1)[1])
    assert piet.name == "Jansen, Piet"
    assert r.hget(keys.seats("ronde-3"), piet.id) == "incubator"
    assert r.hget(keys.seats("ronde-2"), piet.id) is None and not r.sismember(keys.chosen("ronde-2"), piet.id)
    assert r.hgetall(keys.taken("ronde-3")) == {"overwaarde": "1", "incubator": "1"}


def test_no_cell_of_the_links_file_becomes_a_formula(r, redis_url, tmp_path):
    """An email like =HYPERLINK(...)@x.nl is a valid address: the links file wrote it as a live formula."""
    src = tmp_path / "tickets.csv"
    src.write_text('name,email\n'
                   '"=1+1",a@example.org\n'
                   'Bert,"=HYPERLINK(""http://evil.example"",""klik"")@example.org"\n'
                   'Cees,+31@example.org\n'
                   'Dirk,@dirk@example.org\n', encoding="utf-8")
    done = run_import(redis_url, tmp_path, src)
    assert done.returncode == 1 and "imported 3 of 4 rows" in done.stdout  # '@dirk@…' is no address
    links = read_links(tmp_path / "tickets-links.csv")
    assert [(x["name"], x["email"]) for x in links] == [
        ("'=1+1", "a@example.org"),
        ("Bert", "'=HYPERLINK(\"http://evil.example\",\"klik\")@example.org"),
        ("Cees", "'+31@example.org")]


def test_a_file_without_an_email_column_imports_nothing(r, redis_url, tmp_path):
    src = tmp_path / "zonder.csv"
    src.write_text("naam;telefoon;ronde-1\nAnna;0612345678;incubator\n", encoding="utf-8")
    done = run_import(redis_url, tmp_path, src)
    assert done.returncode == 2
    assert "no e-mail column" in done.stderr and "nothing was imported" in done.stderr
    assert r.dbsize() == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["zonder.csv"]


def test_a_file_that_is_not_utf8_imports_nothing(r, redis_url, tmp_path):
    src = tmp_path / "latin1.csv"
    src.write_bytes("name;email\nAnna;anna@example.org\nJosé;jose@example.org\n".encode("latin-1"))
    done = run_import(redis_url, tmp_path, src)
    assert done.returncode == 2 and "line 3 is not UTF-8" in done.stderr
    assert r.dbsize() == 0


def test_importing_the_same_file_twice_changes_nothing_the_second_time(r, redis_url, tmp_path):
    src = tmp_path / "reg.csv"
    src.write_text("Naam;E-mailadres;ronde-1\nAnna;anna@example.org;cooperatieve-tech\n"
                   "Bert;bert@example.org;\nCees;cees@example.org;toolkit-energietransitie\n", encoding="utf-8")
    first = run_import(redis_url, tmp_path, src)
    assert first.returncode == 0, first.stdout + first.stderr
    before = snapshot(r)
    links = (tmp_path / "reg-links.csv").read_bytes()

    again = run_import(redis_url, tmp_path, src)
    assert again.returncode == 1
    assert again.stdout.splitlines()[:3] == [
        f"line {n}: '{e}@example.org' is already registered (participant {r.hget(f'plein:{{{SLUG}}}:emails', f'{e}@example.org')})"
        for n, e in [(2, "anna"), (3, "bert"), (4, "cees")]]
    assert again.stdout.splitlines()[3:] == ["imported 0 of 3 rows"]
    assert snapshot(r) == before
    # The first links file is kept, and no empty one is written next to it.
    assert (tmp_path / "reg-links.csv").read_bytes() == links
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reg-links.csv", "reg.csv"]
    # An explicit --out that exists is never overwritten: nothing is imported.
    src.write_text("name,email\nDora,dora@example.org\n", encoding="utf-8")
    refused = run_import(redis_url, tmp_path, src, "--out", tmp_path / "reg-links.csv")
    assert refused.returncode == 2 and "already exists" in refused.stderr
    assert snapshot(r) == before
    # Without --out, a fresh name next to the earlier one.
    third = run_import(redis_url, tmp_path, src)
    assert third.returncode == 0
    assert [x["email"] for x in read_links(tmp_path / "reg-links-2.csv")] == ["dora@example.org"]


def test_dry_run_reports_and_writes_nothing(r, redis_url, tmp_path, small_program):
    program_path, program = small_program
    text, bad, good = big_csv(program)
    src = tmp_path / "aanmeldingen.csv"
    src.write_bytes(text.encode("utf-8"))
    done = run_import(redis_url, tmp_path, src, "--program", program_path, "--dry-run")
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert lines[1:1 + len(bad)] == [f"line {n}: {why}" for n, why in sorted(bad.items())]
    assert lines[-1] == "dry run: would import 494 of 500 rows; nothing was written"
    assert r.dbsize() == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["aanmeldingen.csv", "program.toml"]


# -- in process: parsing, the transaction ----------------------------------------------------------

def test_parsing_details(program):
    from rooms.registrations import RegistrationFileError, parse_registrations

    text = ('NAME , Email ,Coöperatieven in beeld,ronde-1\n'
            '\n'
            '"Anna\n de Vries",anna@example.org,WOON- & ENERGIECOÖPERATIEVEN,brainstorm – samen werken aan coöperatieve tech\n'
            'Bert,bert@example.org,,,\n'
            'Cees,cees@example.org,,,extra\n'
            ',,,\n'
            'Dora,dora@example.org,voedsel-zorg,\n')
    rows, problems = parse_registrations(text, program)
    assert [(row.line, row.name, row.choices) for row in rows] == [
        (5, "Bert", {}), (8, "Dora", {"in-beeld": "voedsel-zorg"})]
    assert [(p.line, p.code) for p in problems] == [(3, "name_control"), (6, "bad_row")]
    # A name on one line, a ';' inside quotes: still ';'-separated; line numbers stay physical.
    rows, problems = parse_registrations('\ufeffnaam;e-mail;ronde-1\n"A; B";ab@example.org;incubator\n'
                                         'C;c@example.org;COOPERATIEVE-TECH\n', program)
    assert [(row.name, row.choices) for row in rows] == [("C", {"ronde-1": "cooperatieve-tech"})]
    assert [str(p) for p in problems] == [
        "line 2: unknown session 'incubator' in round 'ronde-1' (that is a session of round 'ronde-3')"]
    for bad_file, why in [("", "empty"), ("name;ronde-1\n", "no e-mail column"),
                          ("email,ronde-1\n", "no name column"),
                          ("name,email,ronde-1,Break-out sessies ronde I\n", "both name round 'ronde-1'")]:
        with pytest.raises(RegistrationFileError, match=why):
            parse_registrations(bad_file, program)


def _tiny_program():
    from rooms.program import parse_program
    return parse_program("""
[event]
slug = "klein"
title = "Klein"
timezone = "Europe/Amsterdam"
date = 2030-05-01
[[phases]]
id = "ronde"
kind = "round"
title = "Ronde"
start = "19:00"
end = "20:00"
  [[phases.sessions]]
  id = "a"
  title = "A"
  kind = "talk"
  capacity = 2
  [[phases.sessions]]
  id = "b"
  title = "B"
  kind = "talk"
  capacity = 50
""")


def test_a_failure_inside_the_transaction_leaves_redis_unchanged(r, monkeypatch):
    """The process dies after sending MULTI and half the writes, before EXEC: nothing of it remains."""
    from rooms.participants import ParticipantService
    from rooms.registrations import import_registrations, parse_registrations

    program = _tiny_program()
    ParticipantService(r, program).create("Al aangemeld")
    r.hset("plein:{klein}:taken:ronde", "b", 1)
    before = snapshot(r)
    rows, problems = parse_registrations("name,email,ronde\n" + "".join(
        f"P{i},p{i}@example.org,{'a' if i < 2 else 'b'}\n" for i in range(20)), program)
    assert len(rows) == 20 and not problems

    sent = []

    def dying_execute(self, raise_on_error=True):
        conn = self.connection
        conn.send_command("MULTI")
        conn.read_response()
        half = self.command_stack[:len(self.command_stack) // 2]
        for args, options in half:
            conn.send_command(*args)
            assert conn.read_response() in (b"QUEUED", "QUEUED")
            sent.append(args[0])
        conn.disconnect()  # as if the process were killed here
        raise redis.ConnectionError("killed")

    monkeypatch.setattr(redis.client.Pipeline, "execute", dying_execute)
    with pytest.raises(redis.ConnectionError):
        import_registrations(r, program, rows, BASE)
    assert {"HSET", "ZADD", "SADD", "HINCRBY"} <= set(sent)
    assert snapshot(r) == before

    def failing_execute(self, raise_on_error=True):
        raise redis.ConnectionError("Redis went away")

    monkeypatch.setattr(redis.client.Pipeline, "execute", failing_execute)
    with pytest.raises(redis.ConnectionError):
        import_registrations(r, program, rows, BASE)
    assert snapshot(r) == before


def test_a_choice_made_during_the_import_is_counted_again(r, monkeypatch):
    """WATCH: a place taken between the check and EXEC makes the import check again, within capacity."""
    from rooms import registrations
    from rooms.participants import ParticipantService
    from rooms.seats import SeatService

    program = _tiny_program()
    rows, _ = registrations.parse_registrations(
        "name;email;ronde\nP0;p0@example.org;a\nP1;p1@example.org;A\nP2;p2@example.org;b\n", program)
    other = ParticipantService(r, program).create("Snel")[0]
    real_check, calls = registrations._check, []

    def check_while_someone_chooses(pipe, *args):
        result = real_check(pipe, *args)
        if not calls:
            SeatService(r, program).choose(other.id, {"ronde": "a"})  # another client, meanwhile
        calls.append(result)
        return result

    monkeypatch.setattr(registrations, "_check", check_while_someone_chooses)
    result = registrations.import_registrations(r, program, rows, BASE)
    assert len(calls) == 2 and len(calls[0][0]) == 3
    assert [item.row.name for item in result.imported] == ["P0", "P2"]
    assert [(p.line, p.code) for p in result.problems] == [(3, "session_full")]
    assert r.hgetall("plein:{klein}:taken:ronde") == {"a": "2", "b": "1"}
    assert r.zcard("plein:{klein}:participants") == 3


def test_the_readme_example_imports(r, program):
    from rooms.registrations import import_registrations, parse_registrations

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Importing registrations"):]
    example = section[section.index("```csv\n") + 7:]
    example = example[:example.index("```")]
    rows, problems = parse_registrations(example, program)
    assert [str(p) for p in problems] == ["note: ignored column(s) 'Telefoon' (not name, email or a round of "
                                          "this program: 'in-beeld', 'ronde-1', 'ronde-2', 'ronde-3')"]
    assert [row.choices for row in rows] == [
        {"ronde-1": "cooperatieve-tech", "ronde-2": "buurtcooperatie"},
        {"ronde-1": "toolkit-energietransitie", "ronde-2": "samensturing", "ronde-3": "overwaarde"}]
    result = import_registrations(r, program, rows, BASE)
    assert len(result.imported) == 2 and not result.problems


def test_without_redis_url_it_uses_the_embedded_redis_of_the_instance_folder(tmp_path):
    """Next to a running `plein serve` it uses that server's redis-server (and leaves it running);
    without one it starts the embedded one for the import and stops it again, the data kept."""
    from rooms.embedded import EmbeddedRedis

    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "PLEIN_PUBLIC_URL", "PLEIN_PROGRAM")}
    env["PLEIN_INSTANCE"] = str(tmp_path / "instance")

    def run(csv_text: str, name: str):
        (tmp_path / name).write_text(csv_text, encoding="utf-8")
        return subprocess.run([sys.executable, "-m", "server.cli", "import-registrations", str(tmp_path / name)],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)

    serving = EmbeddedRedis(tmp_path / "instance" / "redis")
    url = serving.start()
    try:
        done = run("name,email,ronde-1\nAnna,anna@example.org,incubator\nBert,bert@example.org,cooperatieve-tech\n",
                   "a.csv")
        assert done.returncode == 1 and done.stdout.startswith("line 2: unknown session 'incubator'")
        assert serving.process.poll() is None
        client = redis.Redis.from_url(url, decode_responses=True)
        assert list(client.hgetall(f"plein:{{{SLUG}}}:emails")) == ["bert@example.org"]
        client.close()
    finally:
        serving.stop()

    done = run("name,email\nCees,cees@example.org\n", "b.csv")
    assert done.returncode == 0, done.stdout + done.stderr
    assert not (tmp_path / "instance" / "redis" / "redis.pid").exists()  # removed by a clean shutdown
    again = EmbeddedRedis(tmp_path / "instance" / "redis")
    client = redis.Redis.from_url(again.start(), decode_responses=True)
    try:
        assert sorted(client.hgetall(f"plein:{{{SLUG}}}:emails")) == ["bert@example.org", "cees@example.org"]
    finally:
        client.close()
        again.stop()
