"""Fleet search over config text: substring, regular expression, "no line matches", addresses, VLANs,
and block summaries of changes.

Every search runs on the SQL index (`config_texts`), never on a repo — except a search "as of a
date", which reads each device's config at its version of that date from the repo. The trigram
index narrows the candidates (PostgreSQL: `ILIKE` served by the pg_trgm GIN index; SQLite: an FTS5
trigram MATCH); each candidate's text is then matched line by line here, so both backends answer
exactly alike. A regular expression is narrowed by the literal runs every match must contain.
Every query is limited to the caller's team: another team's devices never appear, not even as a count.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

import regex
from sqlalchemy import String, and_, cast, or_, select, text

from app.extensions import db
from app.models import ChangeSummary, CommitRecord, ConfigText, Device, Network, Vlan
from app.services import compliance, config_blocks
from app.services.config_index import as_text
from app.services.errors import ValidationError
from app.services.gitstore_bridge import open_repo
from app.services.teams import TeamAccess
from app.services.user_patterns import compile_pattern, finditer, read_alike_by_re
from app.services.validation import flag_arg, time_arg
from gitstore import load_json

QUERY_MAX = 500
CONTEXT = 2
MAX_HITS_PER_FILE = 50
DEFAULT_DEVICES = 50
MAX_DEVICES = 200
# Candidates fetched per round trip while filling a page.
CHUNK = 200


@dataclass
class LineHit:
    line: int
    text: str
    # (start, end) character ranges of the match inside the line, for highlighting.
    ranges: list[tuple[int, int]]
    before: list[tuple[int, str]] = field(default_factory=list)
    after: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class FileHits:
    path: str
    commit: str
    hits: list[LineHit]
    total: int


@dataclass
class DeviceHits:
    device: Device
    files: list[FileHits] = field(default_factory=list)


@dataclass
class ConfigSearch:
    query: str
    mode: str  # "text" | "regex" | "absent"
    devices: list[DeviceHits] = field(default_factory=list)
    next_cursor: str | None = None
    at: datetime | None = None


# -- the query ----------------------------------------------------------------------------------


def _required_literals(pattern: str) -> list[str]:
    """Literal runs (>= 3 characters) that every match of `pattern` contains: the trigram prefilter.

    Walks Python's own parse of the pattern; anything it cannot read safely yields no prefilter
    (the search then reads every text in scope, which is correct, only slower). The search itself
    runs on the `regex` package, which reads some syntax that `re` also accepts in another way: a
    POSIX class (`[[:digit:]]`, to `re` a set followed by a literal `]`) and a fuzzy constraint
    (`(?:telnet){e<=1}`, to `re` literal text after the group, and under which even `telnet` is not
    required). Either gets no prefilter.
    """
    if not read_alike_by_re(pattern):
        return []
    try:
        parsed = sre_parse.parse(pattern)
    except Exception:  # noqa: BLE001 - `regex` accepts syntax `re` does not
        return []
    runs: list[str] = []

    def walk(items: Any) -> None:
        current: list[str] = []
        for op, arg in items:
            name = str(op)
            if name == "LITERAL":
                current.append(chr(arg))
                continue
            if len(current) >= 3:
                runs.append("".join(current))
            current = []
            if name == "SUBPATTERN":
                walk(arg[-1])
            elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT") and arg[0] >= 1:
                walk(arg[2])
            elif name == "ATOMIC_GROUP":
                walk(arg)
        if len(current) >= 3:
            runs.append("".join(current))

    walk(parsed)
    return sorted(set(runs), key=len, reverse=True)[:3]


def _pattern(query: str, mode_regex: bool) -> tuple[regex.Pattern[str], list[str]]:
    if mode_regex:
        return compile_pattern(query, "q"), _required_literals(query)
    return regex.compile(regex.escape(query), regex.IGNORECASE), [query] if len(query) >= 3 else []


def _prefilter(literals: list[str]):  # type: ignore[no-untyped-def]
    """A WHERE clause on config_texts that keeps (at least) the rows holding every literal."""
    if not literals:
        return None
    if db.engine.dialect.name == "sqlite":
        match = " AND ".join('"' + lit.replace('"', '""') + '"' for lit in literals)
        return ConfigText.id.in_(text("SELECT rowid FROM config_texts_fts WHERE config_texts_fts MATCH :fts_match")
                                 .bindparams(fts_match=match))
    # A materialized CTE holding only the text condition, so the trigram index answers it alone
    # (joined with the team and project conditions, the planner would rather walk those indexes and
    # match every text of the team).
    hits = (select(ConfigText.id)
            .where(and_(*[ConfigText.content.ilike("%" + _like_escape(lit) + "%", escape="\\") for lit in literals]))
            .cte("trigram_hits").prefix_with("MATERIALIZED"))
    return ConfigText.id.in_(select(hits.c.id))


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass
class Filters:
    project_id: str | None = None
    platform: str | None = None
    config: str | None = None
    tag: str | None = None

    @classmethod
    def parse(cls, args: dict[str, Any]) -> Filters:
        values: dict[str, str | None] = {}
        for name in ("project", "platform", "config", "tag"):
            value = args.get(name)
            if value in (None, ""):
                values[name] = None
                continue
            if not isinstance(value, str) or len(value) > 300 or any(ord(c) < 32 for c in value):
                raise ValidationError("'%(field)s' is not a valid filter.", field=name, code="invalid",
                                      params={"field": name})
            values[name] = value.strip()
        return cls(values["project"], values["platform"], values["config"], values["tag"])


def _scoped(access: TeamAccess, filters: Filters):  # type: ignore[no-untyped-def]
    stmt = (select(ConfigText.id, ConfigText.device_id, ConfigText.path)
            .join(Device, Device.id == ConfigText.device_id)
            .where(ConfigText.team_id == access.team.id, Device.team_id == access.team.id,
                   ConfigText.kind == "config"))
    if filters.project_id:
        stmt = stmt.where(Device.project_id == filters.project_id)
    if filters.config:
        path = filters.config if filters.config.startswith("configs/") else f"configs/{filters.config}"
        stmt = stmt.where(ConfigText.path == path)
    if filters.platform:
        like = "%" + _like_escape(filters.platform) + "%"
        # The platform custom field (intake's preset choice) is matched on the JSON text: a superset.
        stmt = stmt.where(or_(Device.vendor.ilike(like, escape="\\"), Device.model.ilike(like, escape="\\"),
                              cast(Device.custom_fields, String).ilike(like, escape="\\")))
    return stmt


def _device_ok(device: Device, filters: Filters) -> bool:
    if filters.tag and filters.tag.lower() not in compliance.device_tags(device):
        return False
    return True


def _line_at(content: str, start: int) -> tuple[int, int]:
    """(start, end) offsets of the line holding offset `start` (end excludes the newline)."""
    begin = content.rfind("\n", 0, start) + 1
    stop = content.find("\n", start)
    return begin, (len(content) if stop < 0 else stop)


def _context(content: str, begin: int, end: int, number: int) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    before: list[tuple[int, str]] = []
    pos = begin
    for offset in range(1, CONTEXT + 1):
        if pos == 0:
            break
        prev_begin = content.rfind("\n", 0, pos - 1) + 1
        before.insert(0, (number - offset, content[prev_begin: pos - 1]))
        pos = prev_begin
    after: list[tuple[int, str]] = []
    pos = end
    for offset in range(1, CONTEXT + 1):
        if pos >= len(content) - 1:
            break
        next_end = content.find("\n", pos + 1)
        next_end = len(content) if next_end < 0 else next_end
        after.append((number + offset, content[pos + 1: next_end]))
        pos = next_end
    return before, after


def _line_hits(pattern: regex.Pattern[str], content: str) -> tuple[list[LineHit], int]:
    """Matching lines with numbers, match ranges and context; works on offsets, never splits the text."""
    hits: list[LineHit] = []
    total = 0
    number = 1
    counted_to = 0
    current: LineHit | None = None
    line_begin, line_end = -1, -1  # the line of the last match
    for match in finditer(pattern, content):
        if match.start() == len(content):
            continue
        if line_begin <= match.start() <= line_end:
            if current is not None:
                current.ranges.append((match.start() - line_begin, min(match.end(), line_end) - line_begin))
            continue
        line_begin, line_end = _line_at(content, match.start())
        number += content.count("\n", counted_to, line_begin)
        counted_to = line_begin
        total += 1
        if len(hits) >= MAX_HITS_PER_FILE:
            current = None
            continue
        before, after = _context(content, line_begin, line_end, number)
        current = LineHit(line=number, text=content[line_begin:line_end],
                          ranges=[(match.start() - line_begin, min(match.end(), line_end) - line_begin)],
                          before=before, after=after)
        hits.append(current)
    return hits, total


def _cursor(value: Any) -> tuple[str, str] | None:
    if not value:
        return None
    if not isinstance(value, str) or "\x1f" not in value or len(value) > 300:
        raise ValidationError("'cursor' is not valid.", field="cursor", code="invalid_cursor")
    name, _, device_id = value.partition("\x1f")
    return name, device_id


def _encode_cursor(device: Device) -> str:
    return f"{device.name}\x1f{device.id}"


@contextmanager
def _trigram_plan(indexed: bool) -> Iterator[None]:
    """On PostgreSQL, make the planner use the trigram index for a text condition.

    Config text lives out of line (TOAST), so the table looks small and a sequential scan cheap
    to the planner, which does not count the cost of reading and matching every text: it would
    scan them all (a second per thousand 1,500-line configs) instead of asking the index.
    """
    if not indexed or db.engine.dialect.name != "postgresql":
        yield
        return
    # JIT off too: with sequential scans priced out, every plan looks expensive enough to compile,
    # and compiling costs far more than this query.
    db.session.execute(text("SET LOCAL enable_seqscan = off"))
    db.session.execute(text("SET LOCAL jit = off"))
    try:
        yield
    finally:
        db.session.execute(text("RESET enable_seqscan"))
        db.session.execute(text("RESET jit"))


def _candidates(stmt, after: tuple[str, str] | None,  # type: ignore[no-untyped-def]
                indexed: bool = False) -> Iterator[list[tuple[int, str, str]]]:
    """Chunks of (config_text id, device id, path), in device order, after the cursor."""
    ordered = stmt.add_columns(Device.name).order_by(Device.name, Device.id, ConfigText.path)
    while True:
        query = ordered
        if after is not None:
            query = query.where(or_(Device.name > after[0], and_(Device.name == after[0], Device.id > after[1])))
        with _trigram_plan(indexed):
            rows = db.session.execute(query.limit(CHUNK)).all()
        if not rows:
            return
        # Never split one device's files across chunks.
        last_device = rows[-1][1]
        if len(rows) == CHUNK:
            keep = [r for r in rows if r[1] != last_device] or rows
        else:
            keep = rows
        yield [(r[0], r[1], r[2]) for r in keep]
        if len(rows) < CHUNK:
            return
        tail = keep[-1]
        after = (next(r[3] for r in rows if r[1] == tail[1]), tail[1])


def search_configs(access: TeamAccess, query: Any, *, mode_regex: bool = False, absent: bool = False,
                   filters: Filters | None = None, at: datetime | None = None, limit: int = DEFAULT_DEVICES,
                   cursor: Any = None) -> ConfigSearch:
    access.require("version.read")
    filters = filters or Filters()
    q = query.strip() if isinstance(query, str) else ""
    if not q:
        raise ValidationError("'q' is required.", field="q", code="required")
    if len(q) > QUERY_MAX:
        raise ValidationError("'q' must be at most %(limit)s characters.", field="q", code="too_long",
                              params={"limit": QUERY_MAX})
    limit = max(1, min(limit, MAX_DEVICES))
    pattern, literals = _pattern(q, mode_regex)
    result = ConfigSearch(query=q, mode="absent" if absent else "regex" if mode_regex else "text", at=at)
    if at is not None:
        return _search_at(access, pattern, absent, filters, at, limit, _cursor(cursor), result)
    scope = _scoped(access, filters)
    prefilter = _prefilter(literals)
    candidate_ids: set[int] | None = None
    if absent and prefilter is not None:
        with _trigram_plan(True):
            candidate_ids = set(db.session.scalars(scope.with_only_columns(ConfigText.id).where(prefilter)))
    elif not absent and prefilter is not None:
        scope = scope.where(prefilter)
    for chunk in _candidates(scope, _cursor(cursor), indexed=not absent and prefilter is not None):
        ids = [c[0] for c in chunk if candidate_ids is None or c[0] in candidate_ids]
        contents = {row_id: content for row_id, content in db.session.execute(
            select(ConfigText.id, ConfigText.content).where(ConfigText.id.in_(ids)))} if ids else {}
        commits = {row_id: commit for row_id, commit in db.session.execute(
            select(ConfigText.id, ConfigText.commit).where(ConfigText.id.in_([c[0] for c in chunk])))}
        devices = {d.id: d for d in db.session.scalars(select(Device).where(
            Device.id.in_({c[1] for c in chunk})))}
        grouped: dict[str, list[tuple[int, str]]] = {}
        for row_id, device_id, path in chunk:
            grouped.setdefault(device_id, []).append((row_id, path))
        for device_id, files in grouped.items():
            device = devices[device_id]
            if not _device_ok(device, filters):
                continue
            found = DeviceHits(device)
            for row_id, path in files:
                hits, total = _line_hits(pattern, contents[row_id]) if row_id in contents else ([], 0)
                if hits or absent:
                    found.files.append(FileHits(path, commits[row_id], hits, total))
            matched = any(f.total for f in found.files)
            if absent:
                if matched:
                    continue
                found.files = [FileHits(f.path, f.commit, [], 0) for f in found.files]
            elif not matched:
                continue
            result.devices.append(found)
            if len(result.devices) > limit:
                result.devices.pop()
                result.next_cursor = _encode_cursor(result.devices[-1].device)
                return result
    return result


def _search_at(access: TeamAccess, pattern: regex.Pattern[str], absent: bool, filters: Filters, at: datetime,
               limit: int, after: tuple[str, str] | None, result: ConfigSearch) -> ConfigSearch:
    """The same search over each device's version as of `at` (read from the repos)."""
    stmt = select(Device).where(Device.team_id == access.team.id)
    if filters.project_id:
        stmt = stmt.where(Device.project_id == filters.project_id)
    if after is not None:
        stmt = stmt.where(or_(Device.name > after[0], and_(Device.name == after[0], Device.id > after[1])))
    for device in db.session.scalars(stmt.order_by(Device.name, Device.id)):
        if not _device_ok(device, filters) or (filters.platform and filters.platform.lower() not in
                                               f"{device.vendor} {device.model} "
                                               f"{compliance.platform_hint(device)}".lower()):
            continue
        sha = db.session.scalar(select(CommitRecord.sha).where(
            CommitRecord.device_id == device.id, CommitRecord.created_at <= at)
            .order_by(CommitRecord.seq.desc()).limit(1))
        if sha is None:
            continue
        with open_repo(device) as repo:
            files = {p: as_text(b) for p, b in repo.indexable_files(sha, "configs/").items()}
        if filters.config:
            path = filters.config if filters.config.startswith("configs/") else f"configs/{filters.config}"
            files = {p: t for p, t in files.items() if p == path}
        if not files:
            continue
        found = DeviceHits(device)
        for path, content in sorted(files.items()):
            hits, total = _line_hits(pattern, content)
            if hits or absent:
                found.files.append(FileHits(path, sha, [] if absent else hits, total))
        matched = any(f.total for f in found.files)
        if matched == absent:
            continue
        result.devices.append(found)
        if len(result.devices) > limit:
            result.devices.pop()
            result.next_cursor = _encode_cursor(result.devices[-1].device)
            break
    return result


# -- addresses and VLANs -------------------------------------------------------------------------


def parse_address(q: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | ipaddress.IPv4Network | \
        ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_address(q)
    except ValueError:
        pass
    if "/" in q:
        try:
            return ipaddress.ip_network(q, strict=False)
        except ValueError:
            return None
    return None


def address_pattern(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """A regex for the address as a whole token: 10.0.0.1 but not 10.0.0.10 or 110.0.0.1."""
    return r"(?<![\w.:])" + re.escape(str(address)) + r"(?![\w:]|\.\d)"


@dataclass
class AddressResults:
    networks: list[Network]
    devices: list[Device]
    lines: ConfigSearch | None


def search_address(access: TeamAccess, q: str, filters: Filters | None = None,
                   limit: int = DEFAULT_DEVICES) -> AddressResults | None:
    """None when `q` is not an address or prefix."""
    access.require("inventory.read")
    target = parse_address(q.strip())
    if target is None:
        return None
    networks: list[Network] = []
    for network in db.session.scalars(select(Network).where(Network.team_id == access.team.id)
                                      .order_by(Network.cidr, Network.id)):
        try:
            prefix = ipaddress.ip_network(network.cidr, strict=False)
        except ValueError:
            continue
        if prefix.version != target.version:
            continue
        if isinstance(target, ipaddress.IPv4Address | ipaddress.IPv6Address):
            if target in prefix:
                networks.append(network)
        elif prefix.overlaps(target):
            networks.append(network)
    devices = []
    text_query = str(target.network_address) if not isinstance(target, ipaddress.IPv4Address | ipaddress.IPv6Address) \
        else str(target)
    stmt = select(Device).where(Device.team_id == access.team.id,
                                cast(Device.management_ips, String).contains(text_query, autoescape=True))
    for device in db.session.scalars(stmt.order_by(Device.name, Device.id)):
        for ip in device.management_ips or []:
            try:
                value = ipaddress.ip_interface(ip).ip
            except ValueError:
                continue
            if (value == target) if not hasattr(target, "prefixlen") else (value in target):
                devices.append(device)
                break
    lines = None
    if isinstance(target, ipaddress.IPv4Address | ipaddress.IPv6Address):
        lines = search_configs(access, address_pattern(target), mode_regex=True, filters=filters, limit=limit)
        lines.query = str(target)
    return AddressResults(networks, devices, lines)


def parse_vlan(q: str, kind: str | None) -> int | None:
    match = re.fullmatch(r"(?i)\s*(?:vlan\s*)?(\d{1,4})\s*", q)
    if match is None or (kind != "vlan" and not q.strip().lower().startswith("vlan")):
        return None
    vid = int(match.group(1))
    return vid if 1 <= vid <= 4094 else None


@dataclass
class PortHit:
    device: Device
    port: dict[str, Any]
    how: str  # "tagged" | "native"


@dataclass
class VlanResults:
    vid: int
    networks: list[tuple[Network, Vlan]]
    ports: list[PortHit]


def search_vlan(access: TeamAccess, vid: int, filters: Filters | None = None) -> VlanResults:
    access.require("inventory.read")
    filters = filters or Filters()
    networks = [(network, vlan) for network, vlan in db.session.execute(
        select(Network, Vlan).join(Vlan, Vlan.network_id == Network.id)
        .where(Network.team_id == access.team.id, Vlan.vid == vid).order_by(Network.name, Network.id))]
    stmt = (select(ConfigText.content, Device).join(Device, Device.id == ConfigText.device_id)
            .where(ConfigText.team_id == access.team.id, ConfigText.kind == "ports")
            .order_by(Device.name, Device.id))
    if filters.project_id:
        stmt = stmt.where(Device.project_id == filters.project_id)
    literal = str(vid)
    if db.engine.dialect.name != "sqlite":
        stmt = stmt.where(ConfigText.content.contains(literal))
    ports: list[PortHit] = []
    for content, device in db.session.execute(stmt):
        if literal not in content:
            continue
        try:
            items = load_json(content)  # the one strict reader of repo JSON
        except ValueError:
            continue
        for port in items if isinstance(items, list) else []:
            if not isinstance(port, dict):
                continue
            if vid in (port.get("vlans") or []):
                ports.append(PortHit(device, port, "tagged" if port.get("mode") == "trunk" else "member"))
            elif port.get("native_vlan") == vid:
                ports.append(PortHit(device, port, "native"))
    return VlanResults(vid, networks, ports)


# -- changes ------------------------------------------------------------------------------------


def search_changes(access: TeamAccess, q: str, since: datetime | None = None, until: datetime | None = None,
                   filters: Filters | None = None, limit: int = 100) -> list[tuple[ChangeSummary, Device]]:
    """Block summaries whose block or sentence holds `q` ("every change to ACL-SERVERS-IN last month")."""
    access.require("version.read")
    filters = filters or Filters()
    like = "%" + _like_escape(q.strip()) + "%"
    stmt = (select(ChangeSummary, Device).join(Device, Device.id == ChangeSummary.device_id)
            .where(ChangeSummary.team_id == access.team.id, Device.team_id == access.team.id,
                   or_(ChangeSummary.block.ilike(like, escape="\\"), ChangeSummary.summary.ilike(like, escape="\\"))))
    if since is not None:
        stmt = stmt.where(ChangeSummary.created_at >= since)
    if until is not None:
        stmt = stmt.where(ChangeSummary.created_at <= until)
    if filters.project_id:
        stmt = stmt.where(Device.project_id == filters.project_id)
    rows = db.session.execute(stmt.order_by(ChangeSummary.created_at.desc(), ChangeSummary.id.desc())
                              .limit(max(1, min(limit, 500))))
    return [(summary, device) for summary, device in rows]


def platform_names() -> list[str]:
    return sorted(set(config_blocks.PLATFORM_NAMES.values()))



# -- one team search, as the API and the search page run it -------------------------------------

KINDS = ("all", "names", "config", "address", "vlan", "changes")


@dataclass
class TeamSearch:
    q: str
    kind: str
    regex: bool
    absent: bool
    at: datetime | None
    filters: Filters
    names: Any = None  # app.services.search.SearchResults
    address: AddressResults | None = None
    vlan: VlanResults | None = None
    configs: ConfigSearch | None = None
    changes: list[tuple[ChangeSummary, Device]] | None = None


def run(access: TeamAccess, args: Any, limit: int = DEFAULT_DEVICES) -> TeamSearch:
    """Everything a team search asks for, from its query-string arguments (`q`, `kind`, `regex`,
    `absent`, `at`, `since`, `until`, `project`, `platform`, `config`, `tag`, `cursor`)."""
    from app.services import search as names_search

    kind = args.get("kind") or "all"
    if kind not in KINDS:
        raise ValidationError("'kind' must be one of: %(choices)s.", field="kind", code="invalid_choice",
                              params={"choices": ", ".join(KINDS)})
    q = str(args.get("q") or "")
    found = TeamSearch(q=q.strip(), kind=kind, regex=flag_arg(args, "regex"), absent=flag_arg(args, "absent"),
                       at=time_arg(args, "at"), filters=Filters.parse(args))
    plain = not (found.regex or found.absent or found.at)
    if kind in ("all", "names") and plain:
        found.names = names_search.search(access, q, per_type=min(limit, names_search.MAX_PER_TYPE))
    if kind in ("all", "address") and plain:
        found.address = search_address(access, q, found.filters, limit=limit)
    vid = parse_vlan(q, kind)
    if kind in ("all", "vlan") and vid is not None:
        found.vlan = search_vlan(access, vid, found.filters)
    elif kind == "vlan":
        raise ValidationError("'q' must be a VLAN id (1-4094) for kind=vlan.", field="q", code="invalid")
    if kind in ("all", "config"):
        found.configs = search_configs(access, q, mode_regex=found.regex, absent=found.absent, filters=found.filters,
                                       at=found.at, limit=limit, cursor=args.get("cursor"))
    if kind in ("all", "changes") and plain:
        found.changes = search_changes(access, q, time_arg(args, "since"), time_arg(args, "until"), found.filters,
                                       limit=limit)
    return found


def team_projects(access: TeamAccess) -> list[tuple[str, str]]:
    """(id, name) of the team's projects, for the search page's project filter."""
    from app.models import Project

    return [(project_id, name) for project_id, name in db.session.execute(
        select(Project.id, Project.name).where(Project.team_id == access.team.id).order_by(Project.name, Project.id))]
