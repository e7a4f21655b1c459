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
    # Both ingest paths are measured against the same fast-import baseline, and the key is
    # the import path's figure.
    assert "ingest.single_ratio_vs_fast_import" in printed and "ingest.import_ratio_vs_fast_import" in printed
    assert results["ingest.ratio_vs_fast_import"] == results["ingest.import_ratio_vs_fast_import"]


def test_bench_only_runs_the_named_parts_and_refuses_unknown_ones(tmp_path, capsys):
    out = tmp_path / "only.json"
    assert cli_main(["bench", "--tiny", "--only", "diff", "--json", str(out)]) == 0
    results = json.loads(out.read_text())
    assert "diff.ratio_vs_git_diff" in results
    assert not any(key.split(".")[0] in ("ingest", "history", "clone", "search", "pages") for key in results)
    assert cli_main(["bench", "--tiny", "--only", "diff,bogus"]) == 2
    assert "unknown bench part(s): bogus" in capsys.readouterr().err
