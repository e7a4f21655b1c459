"""`infratrace bench --tiny` runs end to end and writes every documented key (no timing asserts)."""

from __future__ import annotations

import json

from app.bench import KEYS, TARGETS
from app.cli import main as cli_main


def test_bench_tiny_writes_all_keys(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert cli_main(["bench", "--tiny", "--json", str(out)]) == 0
    results = json.loads(out.read_text())
    for key in (*KEYS, *TARGETS):
        assert isinstance(results[key], int | float), key
    assert results["mode"] == "tiny" and isinstance(results["targets_met"], bool)
    printed = capsys.readouterr().out
    assert "ingest.ratio_vs_fast_import" in printed and "diff.ratio_vs_git_diff" in printed
