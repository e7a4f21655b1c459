"""The compare page and what it pulls in place: two versions (or two devices) side by side or
unified, word-level marks, folded unchanged lines, paged hunks; a config shown page by page.

Thin: the diff and its options are the service layer's (`app.services.compare`); this module
turns lines into escaped HTML quickly (a page may hold thousands of them).
"""

from __future__ import annotations

import re
from itertools import zip_longest
from typing import Any

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext
from markupsafe import Markup, escape

from app.models import Device, User
from app.services import compare, versions
from app.services.errors import NotFound, ServiceError
from app.web.errors import shown
from gitstore import Diff, DiffLine, Hunk
from gitstore.diff import ports_diff, render_contents

_ESCAPED = re.compile(r"\\x[0-9a-f]{2}")
VIEWS = ("unified", "split")


def line_html(line: DiffLine) -> Markup:
    """A line's text, escaped, with its changed words marked, odd bytes and a CR made visible."""
    text = line.content
    cr = text.endswith("\r")
    if cr:
        text = text[:-1]
    if line.spans is not None:
        lo, hi = line.spans
        hi = min(hi, len(text))
        body = f"{_text(line, text[:lo])}<mark>{_text(line, text[lo:hi])}</mark>{_text(line, text[hi:])}"
    else:
        body = _text(line, text)
    if cr:
        body += '<span class="eol" title="carriage return (CR)">␍</span>'
    return Markup(body)


def _text(line: DiffLine, text: str) -> str:
    escaped = str(escape(text))
    if line.raw is not None:
        escaped = _ESCAPED.sub(lambda m: f'<span class="byte" title="byte not in UTF-8">{m.group(0)}</span>',
                               escaped)
    return escaped


_NONL = '<span class="nonl">\\ No newline at end of file</span>'


def _cell_text(line: DiffLine) -> str:
    return str(line_html(line)) + (_NONL if line.no_newline else "")


def file_table(file: Any, view: str, fold_url: str, with_folds: bool = True) -> Markup:
    """A file's shown hunks as table rows, built in Python: a page holds up to 2,000 lines and a
    template loop over them cost more than the diff itself. `fold_url` ends with `&` and gets
    `start=..&end=..&delta=..` appended for each folded stretch."""
    cols = 4 if view == "split" else 3
    out: list[str] = []
    add = out.append

    def fold(stretch: dict[str, int] | None) -> None:
        if stretch is None:
            return
        start, end = stretch["start"], stretch["end"]
        count = end - start + 1
        add(f'<tr class="fold"><td colspan="{cols}"><a href="{href}start={start}&amp;end={end}'
            f'&amp;delta={stretch["delta"]}" data-fold>⋯ Show {count} unchanged line{"s" if count != 1 else ""}'
            f' ({start}–{end})</a></td></tr>')

    href = escape(fold_url)
    stretches = folds(file) if with_folds else [None] * (len(file.hunks) + 1)
    for index, hunk in enumerate(file.hunks):
        add("<tbody>")
        fold(stretches[index])
        add(f'<tr class="hunk"><td colspan="{cols}">{escape(hunk.header)}</td></tr>')
        if view == "split":
            for left, right in side_by_side(hunk):
                if left is None:
                    left_cells = '<td class="num"></td><td class="code empty"></td>'
                else:
                    css = "code del" if left.origin == "-" else "code"
                    left_cells = f'<td class="num">{left.old_lineno}</td><td class="{css}">{_cell_text(left)}</td>'
                if right is None:
                    right_cells = '<td class="num"></td><td class="code empty"></td>'
                else:
                    css = "code add" if right.origin == "+" else "code"
                    right_cells = (f'<td class="num">{right.new_lineno}</td>'
                                   f'<td class="{css}">{_cell_text(right)}</td>')
                add(f"<tr>{left_cells}{right_cells}</tr>")
        else:
            for line in hunk.lines:
                css = "add" if line.origin == "+" else "del" if line.origin == "-" else "ctx"
                add(f'<tr class="{css}"><td class="num">{line.old_lineno or ""}</td>'
                    f'<td class="num">{line.new_lineno or ""}</td><td class="code"><span class="origin">'
                    f'{line.origin}</span>{line_html(line)}</td></tr>')
                if line.no_newline:
                    add('<tr class="nonl"><td class="num"></td><td class="num"></td>'
                        '<td class="code">\\ No newline at end of file</td></tr>')
        add("</tbody>")
    if stretches[-1] is not None:
        add("<tbody>")
        fold(stretches[-1])
        add("</tbody>")
    return Markup("".join(out))


def side_by_side(hunk: Hunk) -> list[tuple[DiffLine | None, DiffLine | None]]:
    """Pairs deletions with the additions that replace them; context lines sit on both sides."""
    rows: list[tuple[DiffLine | None, DiffLine | None]] = []
    dels: list[DiffLine] = []
    adds: list[DiffLine] = []

    def flush() -> None:
        rows.extend(zip_longest(dels, adds))
        dels.clear()
        adds.clear()

    for line in hunk.lines:
        if line.origin == "-":
            dels.append(line)
        elif line.origin == "+":
            adds.append(line)
        else:
            flush()
            rows.append((line, line))
    flush()
    return rows


def folds(file: Any) -> list[dict[str, int] | None]:
    """For each shown hunk, the unchanged stretch of the new side above it (None when nothing is
    folded there or it belongs to another page), and one more entry for the stretch after the
    last hunk: {start, end, delta} with delta = old line number - new line number there."""
    result: list[dict[str, int] | None] = []
    previous_end, delta = 0, 0
    for index, hunk in enumerate(file.hunks):
        start = hunk.new_start if hunk.new_lines else hunk.new_start + 1
        old_start = hunk.old_start if hunk.old_lines else hunk.old_start + 1
        on_page = index > 0 or file.first_hunk == 0
        if on_page and start - 1 > previous_end and "(continued)" not in hunk.header:
            result.append({"start": previous_end + 1, "end": start - 1, "delta": old_start - start})
        else:
            result.append(None)
        previous_end = hunk.new_start + hunk.new_lines - 1 if hunk.new_lines else hunk.new_start
        old_end = hunk.old_start + hunk.old_lines - 1 if hunk.old_lines else hunk.old_start
        delta = old_end - previous_end
    total = file.new_line_count or 0
    shows_last = bool(file.hunks) and file.first_hunk + len(file.hunks) >= file.hunk_count
    result.append({"start": previous_end + 1, "end": total, "delta": delta}
                  if shows_last and total > previous_end else None)
    return result


def _view() -> str:
    view = request.args.get("view")
    return view if view in VIEWS else "unified"


def _diff_args(args: dict[str, Any]) -> dict[str, Any]:
    """The query arguments that shape a diff, to carry over into links."""
    keep = ("from", "to", "other", "context", "ignore_ws", "ignore_eol", "view")
    return {k: args[k] for k in keep if args.get(k)}


def compare_page(user: User, device: Device) -> Any:
    args = request.args
    other_id = args.get("other") or None
    try:
        wanted = compare.diff_request(args, paged=True)
        if other_id:
            other = compare.other_device(user, device, other_id)
            result, left, right = _two_devices(user, device, other, args.get("from") or None,
                                               args.get("to") or None, wanted)
            between = None
        else:
            other = None
            result = compare.diff_device(device, args.get("from") or None, args.get("to") or None, wanted)
            left = compare.version_summary(device, result.from_commit)
            right = compare.version_summary(device, result.to_commit)
            between = compare.versions_between(device, left, right)
    except ServiceError as exc:
        status = 404 if exc.status == 404 else 422
        return render_template("error.html", status=status, title=gettext("Cannot compare"), message=shown(exc)), status
    choices = compare.picker_choices(user, device)
    peers = compare.team_peers(device)
    context = {
        "device": device, "other": other, "diff": result, "view": _view(), "left": left, "right": right,
        "between": between, "choices": choices, "peers": peers, "side_by_side": side_by_side,
        "line_html": line_html, "folds": folds, "file_table": file_table, "args": _diff_args(dict(args)),
        "fold_device": other or device,
    }
    if args.get("fragment") == "1":
        return render_template("devices/_diff_files.html", **context)
    return render_template("devices/compare.html", **context)


def _two_devices(user: User, device: Device, other: Device, from_rev: str | None, to_rev: str | None,
                 wanted: compare.DiffRequest) -> tuple[Diff, dict[str, Any], dict[str, Any]]:
    """This device's configs and port map (at `from`) against another device's (at `to`)."""
    _, left_snap, _, left_author = versions.read_version(user, device.id, from_rev or "HEAD")
    _, right_snap, _, right_author = versions.read_version(user, other.id, to_rev or "HEAD")
    rendered = render_contents(
        {f"configs/{k}": v for k, v in left_snap.configs.items()},
        {f"configs/{k}": v for k, v in right_snap.configs.items()},
        wanted.context, versions.MAX_DIFF_FILE_BYTES, compare.PAGE_LINES, wanted.options, wanted.page_from)
    result = Diff(left_snap.commit, right_snap.commit, rendered.files,
                  ports_diff(left_snap.ports, right_snap.ports), {"added": [], "removed": []},
                  rendered.too_large, rendered.next_hunk, wanted.page_from or 0, rendered.total_hunks)

    def summary(snap: Any, author: dict[str, Any]) -> dict[str, Any]:
        return {"commit": snap.commit, "message": snap.message, "created_at": snap.created_at, "seq": None,
                "author": author}

    return result, summary(left_snap, left_author), summary(right_snap, right_author)


def fold_page(user: User, device: Device) -> Any:
    """Unchanged lines a diff folded away: rows for the page's script, or a page of their own."""
    args = request.args
    try:
        start, end, delta = (int(args.get(k, "")) for k in ("start", "end", "delta"))
    except ValueError:
        abort(422)
    rev, path = args.get("rev") or "", args.get("path") or ""
    try:
        lines = compare.fold_lines(user, device.id, rev, path, start, end)
    except NotFound:
        abort(404)
    except ServiceError:
        abort(422)
    view = _view()
    if args.get("fragment") == "1":
        return render_template("devices/_fold_rows.html", lines=lines, delta=delta, view=view)
    return render_template("devices/fold.html", device=device, lines=lines, delta=delta, view=view, rev=rev,
                           path=path, back=url_for("devices.compare", device_id=device.id,
                                                   **{k: v for k, v in args.items()
                                                      if k in ("from", "to", "view")}))


def _highlighted_lines(name: str, text: str) -> list[str]:
    """Pygments' HTML for each line (its formatter closes and reopens spans at every newline)."""
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import TextLexer, get_lexer_for_filename
    from pygments.util import ClassNotFound

    try:
        lexer = get_lexer_for_filename(name, stripnl=False)
    except ClassNotFound:
        lexer = TextLexer(stripnl=False)
    return highlight(text, lexer, HtmlFormatter(nowrap=True)).split("\n")


def config_lines(name: str, data: bytes, page: int, query: str | None,
                 highlight_limit: int) -> dict[str, Any]:
    """One page of a config as (number, html) rows: highlighted when the file is small enough
    to stay fast, plain and escaped otherwise; odd bytes escaped like the diffs."""
    view = compare.config_page(data, page, query)
    if len(data) <= highlight_limit:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is not None:
            html = _highlighted_lines(name, text)
            view["rows"] = [(n, html[n - 1] if n - 1 < len(html) else "") for n, _ in view["lines"]]
            view["html"] = _config_rows(view["rows"])
            return view
    view["rows"] = [(n, str(escape(line))) for n, line in view["lines"]]
    view["html"] = _config_rows(view["rows"])
    return view


def _config_rows(rows: list[tuple[int, str]]) -> Markup:
    """<tr id="L<n>"> rows with a self-link on the number, built in Python (2,000 per page)."""
    return Markup("".join(
        f'<tr id="L{n}"><td class="num"><a href="#L{n}">{n}</a></td><td class="code">{html}</td></tr>\n'
        for n, html in rows))


def config_file_page(user: User, device: Device, rev: str, name: str, highlight_limit: int) -> Any:
    """A config on its own, page by page: line anchors (#L123), go to line, search."""
    args = request.args
    line = args.get("line", "")
    if line:
        if not line.isdigit() or len(line) > 9:
            abort(422)
        page = compare.page_of_line(int(line))
        return redirect(url_for("devices.config_file", device_id=device.id, rev=rev, name=name, page=page,
                                q=args.get("q") or None) + f"#L{int(line)}")
    page_arg = args.get("page", "1")
    if not page_arg.isdigit() or len(page_arg) > 9:
        abort(422)
    query = (args.get("q") or "").strip()[:200] or None
    try:
        # The commit id and this one file only: reading the whole version would read every config.
        commit = versions.resolve(user, device.id, rev)
        data = versions.read_file(user, device.id, commit, f"configs/{name}")
    except ServiceError:
        abort(404)
    if b"\0" in data[:8000]:
        view = None
    else:
        view = config_lines(name, data, int(page_arg), query, highlight_limit)
    return render_template("devices/config_file.html", device=device, commit=commit, name=name, view=view,
                           size=len(data), rev=rev)
