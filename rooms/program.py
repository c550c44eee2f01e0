"""The program of an evening: a TOML file loaded into frozen dataclasses, validated on load.

Every problem is reported with the file, the phase id (or index), the field and why, and all
problems of a file are collected before anything is raised, so an operator fixes them in one go.
"""
from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .i18n import M, gettext, languages

PHASE_KINDS = ("plenary", "round", "break")
SESSION_KINDS = ("talk", "brainstorm")
ID_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?$")
TIME_RE = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")
MAX_CAPACITY = 10_000
# An evening's date: wide enough for any real one, and far from datetime's limits (year 1 and 9999),
# where a phase's time converted to UTC overflows.
FIRST_DATE, LAST_DATE = dt.date(2000, 1, 1), dt.date(2999, 12, 31)

EVENT_FIELDS = {"slug", "title", "timezone", "date", "description", "language"}
BREAK_TITLE = M("break_title", "Pauze")  # the title of a break filled into a gap, in the evening's language
PHASE_FIELDS = {"id", "kind", "title", "start", "end", "sessions", "description", "switching"}
SESSION_FIELDS = {"id", "title", "kind", "capacity", "hosts", "description"}


@dataclass(frozen=True)
class Session:
    """One parallel session of a round: its own video room."""

    id: str
    title: str
    kind: str
    capacity: int
    hosts: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class Phase:
    """One block of the evening; `starts_at`/`ends_at` are the planned, time-zone-aware times."""

    id: str
    kind: str
    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    sessions: tuple[Session, ...] = ()
    description: str = ""
    filled: bool = False  # a break made from a gap in the file, not written there
    switching: bool = True  # rounds: may a participant move to another session while it runs?

    @property
    def duration(self) -> float:
        """Planned length in seconds."""
        # Elapsed time between the two instants: subtracting two datetimes that share a tzinfo
        # would ignore a clock change in between and give the wall-clock difference instead.
        return self.ends_at.timestamp() - self.starts_at.timestamp()

    def session(self, session_id: str) -> Session | None:
        """The session with this id in this phase, if any."""
        return next((s for s in self.sessions if s.id == session_id), None)


@dataclass(frozen=True)
class Program:
    """A whole evening: metadata and the contiguous list of phases (gaps filled with breaks)."""

    slug: str
    title: str
    timezone: str
    date: dt.date
    phases: tuple[Phase, ...]
    description: str = ""
    source: str = "<string>"
    language: str = "nl"  # the pages' language unless a visitor picks the other
    # init=False: dataclasses.replace() must build a fresh index, not update (and share) the old one.
    _index: dict = field(default_factory=dict, init=False, compare=False, repr=False)

    def __post_init__(self):
        self._index.update({p.id: i for i, p in enumerate(self.phases)})

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def rounds(self) -> tuple[Phase, ...]:
        return tuple(p for p in self.phases if p.kind == "round")

    def phase(self, phase_id: str) -> Phase | None:
        i = self._index.get(phase_id)
        return None if i is None else self.phases[i]

    def index(self, phase_id: str) -> int:
        return self._index[phase_id]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a program file."""

    file: str
    where: str  # "event", "phase 'ronde-1'", "phase #3", "phase 'ronde-1' session 'x'"
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.where}: {self.field}: {self.message}"


class ProgramError(ValueError):
    """A program file that cannot be used; `problems` lists every reason."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def load_program(path: str | Path) -> Program:
    """Read and validate a program file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProgramError([Problem(str(path), "file", "-", f"cannot be read ({exc.strerror})")]) from exc
    except UnicodeDecodeError as exc:
        raise ProgramError([Problem(str(path), "file", "-", "is not UTF-8 text")]) from exc
    return parse_program(text, source=str(path))


def parse_program(text: str, source: str = "<string>") -> Program:
    """Validate TOML text and build a Program, or raise ProgramError with every problem found."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProgramError([Problem(source, "file", "-", f"is not valid TOML ({exc})")]) from exc
    except RecursionError:  # tomllib parses nested arrays and inline tables recursively
        raise ProgramError([Problem(source, "file", "-", "nests arrays or tables too deeply to be a program")]) from None
    return _Builder(source).build(data)


class _Builder:
    def __init__(self, source: str):
        self.source = source
        self.problems: list[Problem] = []

    def err(self, where: str, field_: str, message: str) -> None:
        self.problems.append(Problem(self.source, where, field_, message))

    def text(self, table: dict, key: str, where: str, *, required: bool = True, max_len: int = 200) -> str:
        value = table.get(key)
        if value is None:
            if required:
                self.err(where, key, "is missing")
            return ""
        if not isinstance(value, str) or not value.strip():
            self.err(where, key, "must be a non-empty text")
            return ""
        if len(value) > max_len:
            self.err(where, key, f"is longer than {max_len} characters")
        return value.strip()

    def unknown(self, table: dict, allowed: set[str], where: str) -> None:
        for key in sorted(set(table) - allowed):
            self.err(where, key, f"is not a known field (known: {', '.join(sorted(allowed))})")

    def build(self, data: dict) -> Program:
        self.unknown(data, {"event", "phases"}, "file")
        event = data.get("event")
        if not isinstance(event, dict):
            self.err("file", "event", "the [event] table is missing")
            event = {}
        self.unknown(event, EVENT_FIELDS, "event")
        slug = self.text(event, "slug", "event", max_len=48)
        if slug and not SLUG_RE.match(slug):
            self.err("event", "slug", "use lowercase letters, digits and '-' (at most 48), e.g. 'cooperatieve-stad-2022'")
        title = self.text(event, "title", "event")
        description = self.text(event, "description", "event", required=False, max_len=2000)
        language = self.text(event, "language", "event", required=False) or "nl"
        if language not in languages():
            *others, last = languages()
            self.err("event", "language",
                     f"'{language}' is not a language Plein's pages speak ({', '.join(others)} or {last})")
            language = "nl"
        tz = None
        tzname = self.text(event, "timezone", "event")
        if tzname:
            try:
                tz = ZoneInfo(tzname)
            except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a directory such as 'Europe'
                self.err("event", "timezone", f"'{tzname}' is not a known time zone (e.g. 'Europe/Amsterdam')")
        date = event.get("date")
        if date is None:
            self.err("event", "date", "is missing (write it as 2022-01-17, without quotes)")
        elif isinstance(date, dt.datetime) or not isinstance(date, dt.date):
            self.err("event", "date", "must be a date such as 2022-01-17, without quotes and without a time")
            date = None
        elif not FIRST_DATE <= date <= LAST_DATE:
            self.err("event", "date", f"{date} is not between {FIRST_DATE} and {LAST_DATE}")
            date = None

        raw_phases = data.get("phases")
        if not isinstance(raw_phases, list) or not raw_phases:
            self.err("file", "phases", "there must be at least one [[phases]] table")
            raw_phases = []
        # Without a usable date or time zone the times are still checked (format, end after start,
        # order) on a stand-in day; the program is never built then, as a problem is already recorded.
        check_date = date if date is not None else dt.date(2000, 1, 3)
        check_tz = tz if tz is not None else dt.timezone.utc
        phases = [self.phase(i, raw, check_date, check_tz) for i, raw in enumerate(raw_phases)]
        phases = [p for p in phases if p is not None]
        self.check_ids(phases)
        self.check_order(phases)
        if self.problems:
            raise ProgramError(self.problems)
        return Program(
            slug=slug, title=title, timezone=tzname, date=date, language=language,
            phases=tuple(fill_breaks(phases, language)), description=description, source=self.source,
        )

    def phase(self, i: int, raw, date, tz) -> Phase | None:
        where = f"phase #{i + 1}"
        if not isinstance(raw, dict):
            self.err(where, "-", "must be a [[phases]] table")
            return None
        pid = raw.get("id")
        if isinstance(pid, str) and pid:
            where = f"phase '{pid}'"
        before = len(self.problems)
        self.unknown(raw, PHASE_FIELDS, where)
        pid = self.text(raw, "id", where, max_len=40)
        if pid and not ID_RE.match(pid):
            self.err(where, "id", "use lowercase letters, digits and '-' (at most 40), e.g. 'ronde-1'")
        kind = self.text(raw, "kind", where)
        if kind and kind not in PHASE_KINDS:
            self.err(where, "kind", f"'{kind}' is not one of {', '.join(PHASE_KINDS)}")
        title = self.text(raw, "title", where)
        description = self.text(raw, "description", where, required=False, max_len=2000)
        start = self.time(raw, "start", where, date, tz)
        end = self.time(raw, "end", where, date, tz)
        if start and end and end <= start:
            self.err(where, "end", f"{raw['end']} is not after start {raw['start']} (a phase cannot cross midnight)")
        sessions = []
        raw_sessions = raw.get("sessions", [])
        if not isinstance(raw_sessions, list):
            self.err(where, "sessions", "must be a list of [[phases.sessions]] tables")
            raw_sessions = []
        if kind == "round" and not raw_sessions:
            self.err(where, "sessions", "a round needs at least one [[phases.sessions]]")
        if kind in ("plenary", "break") and raw_sessions:
            self.err(where, "sessions", f"a {kind} has one room and no sessions")
            raw_sessions = []
        for j, rs in enumerate(raw_sessions):
            s = self.session(where, j, rs)
            if s is not None:
                sessions.append(s)
        switching = raw.get("switching", True)
        if not isinstance(switching, bool):
            self.err(where, "switching", "must be true or false, without quotes")
        elif "switching" in raw and kind != "round":
            self.err(where, "switching", "only a round has sessions to switch between")
        if len(self.problems) > before:
            return None
        return Phase(pid, kind, title, start, end, tuple(sessions), description, switching=switching)

    def time(self, raw: dict, key: str, where: str, date, tz) -> dt.datetime | None:
        value = raw.get(key)
        if value is None:
            self.err(where, key, "is missing (write it as \"16:00\")")
            return None
        if isinstance(value, dt.time):
            hh, mm, ok = value.hour, value.minute, value.second == 0 and value.microsecond == 0
        elif isinstance(value, str) and TIME_RE.match(value.strip()):
            hh, mm = (int(x) for x in value.strip().split(":"))
            ok = True
        else:
            hh = mm = 0
            ok = False
        if not ok:
            self.err(where, key, f"{value!r} is not a time of day like \"16:00\"")
            return None
        if date is None or tz is None:
            return None
        local = dt.datetime(date.year, date.month, date.day, hh, mm, tzinfo=tz)
        # A wall time that does not exist (DST gap) comes back with another offset after a round trip.
        if local.astimezone(dt.timezone.utc).astimezone(tz).replace(tzinfo=None) != local.replace(tzinfo=None):
            self.err(where, key, f"{value} does not exist on {date} in {tz.key} (clock change)")
            return None
        return local

    def session(self, phase_where: str, j: int, raw) -> Session | None:
        where = f"{phase_where} session #{j + 1}"
        if not isinstance(raw, dict):
            self.err(where, "-", "must be a [[phases.sessions]] table")
            return None
        if isinstance(raw.get("id"), str) and raw["id"]:
            where = f"{phase_where} session '{raw['id']}'"
        before = len(self.problems)
        self.unknown(raw, SESSION_FIELDS, where)
        sid = self.text(raw, "id", where, max_len=40)
        if sid and not ID_RE.match(sid):
            self.err(where, "id", "use lowercase letters, digits and '-' (at most 40), e.g. 'buurtcooperatie'")
        title = self.text(raw, "title", where)
        kind = self.text(raw, "kind", where)
        if kind and kind not in SESSION_KINDS:
            self.err(where, "kind", f"'{kind}' is not one of {', '.join(SESSION_KINDS)}")
        capacity = raw.get("capacity")
        if capacity is None:
            self.err(where, "capacity", "is missing (how many participants fit, at least 1)")
        elif isinstance(capacity, bool) or not isinstance(capacity, int):
            self.err(where, "capacity", f"{capacity!r} is not a whole number")
        elif not 1 <= capacity <= MAX_CAPACITY:
            self.err(where, "capacity", f"{capacity} must be between 1 and {MAX_CAPACITY}")
        hosts = raw.get("hosts", [])
        if not isinstance(hosts, list) or not all(isinstance(h, str) and h.strip() for h in hosts):
            self.err(where, "hosts", "must be a list of names, e.g. [\"Anna de Vries\"]")
            hosts = []
        description = self.text(raw, "description", where, required=False, max_len=2000)
        if len(self.problems) > before:
            return None
        return Session(sid, title, kind, capacity, tuple(h.strip() for h in hosts), description)

    def check_ids(self, phases: list[Phase]) -> None:
        seen: dict[str, str] = {}
        for p in phases:
            for ident, where in [(p.id, f"phase '{p.id}'")] + [
                (s.id, f"phase '{p.id}' session '{s.id}'") for s in p.sessions
            ]:
                if ident in seen:
                    self.err(where, "id", f"'{ident}' is used twice (also by {seen[ident]}); ids must be unique in the program")
                else:
                    seen[ident] = where

    def check_order(self, phases: list[Phase]) -> None:
        for prev, cur in zip(phases, phases[1:]):
            if cur.starts_at < prev.starts_at:
                self.err(f"phase '{cur.id}'", "start",
                         f"starts before the phase above it ('{prev.id}'); list phases in time order")
            elif cur.starts_at < prev.ends_at:
                self.err(f"phase '{cur.id}'", "start",
                         f"overlaps phase '{prev.id}', which ends at {prev.ends_at:%H:%M}")


def fill_breaks(phases: list[Phase], language: str = "nl") -> list[Phase]:
    """Insert a `break` phase in every gap, so the evening is one contiguous run of phases; its title is
    "Pauze" in Dutch, its translation in the evening's language."""
    used = {p.id for p in phases} | {s.id for p in phases for s in p.sessions}
    out: list[Phase] = []
    for p in phases:
        if out and p.starts_at > out[-1].ends_at:
            gap_start = out[-1].ends_at
            bid = f"pauze-{gap_start:%H%M}"
            n = 2
            while bid in used:
                bid, n = f"pauze-{gap_start:%H%M}-{n}", n + 1
            used.add(bid)
            out.append(Phase(bid, "break", gettext(language, *BREAK_TITLE), gap_start, p.starts_at, filled=True))
        out.append(p)
    return out
