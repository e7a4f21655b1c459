"""Redaction of a batch's versions scanned against the previous version (`scan_next`) finds exactly
what a scan of the whole text finds, whatever changed in between (secrets added, removed, moved
into or out of their sections, lines added or removed)."""

from __future__ import annotations

import random

from app.services.config_presets import PRESETS
from gitstore.secrets import SecretScanner
from tests.intake_support import SAMPLES


def _placeholder(value: bytes) -> bytes:
    return b"<" + value[::-1] + b">"


def test_scan_next_redacts_exactly_like_a_full_scan() -> None:
    scanner = SecretScanner([pattern for preset in PRESETS.values() for pattern in preset.secrets])
    rng = random.Random(23)
    pool = [line.encode() for sample in SAMPLES.values() for line in sample.splitlines()]
    filler = [b"interface Gi1/0/%d" % i for i in range(40)] + [b" description uplink", b"!", b""]
    lines = [rng.choice(pool + filler) for _ in range(300)]
    state = None
    incremental_used = 0
    for step in range(250):
        for _ in range(rng.choice([1, 1, 2, 3, 90])):  # mostly a few lines in place, at times a lot
            at = rng.randrange(len(lines))
            lines[at] = rng.choice(pool + filler)
        if step % 17 == 0:
            lines.insert(rng.randrange(len(lines)), rng.choice(pool))
        data = b"\n".join(lines) + (b"\n" if step % 5 else b"")
        had_state = state is not None and len(state.lines) == len(data.split(b"\n"))
        starts, state = scanner.scan_next(data, state)
        assert starts == scanner._candidate_lines(data)
        assert scanner.redact(data, _placeholder, starts) == scanner.redact(data, _placeholder)
        incremental_used += had_state
    assert incremental_used > 120  # the incremental path is really exercised


def test_a_state_from_another_scanner_is_not_used() -> None:
    one = SecretScanner(list(PRESETS["ios"].secrets))
    other = SecretScanner(list(PRESETS["junos"].secrets))
    data = SAMPLES["junos"].encode()
    _, state = one.scan_next(data, None)
    starts, _ = other.scan_next(data, state)
    assert starts == other._candidate_lines(data)
