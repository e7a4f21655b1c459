"""Page server time of the version browser, through the whole Flask stack (test client, logged
in): the version and compare pages of the 10,000-version device the history step built, and of
the 50,000-line config the diff step built (1% and 10% of its lines changed), plus the config's
file view on its last page. Each figure is the median request time in ms.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.bench import Bench

KEYS = (
    "pages.version_10k_ms", "pages.compare_10k_ms", "pages.version_50k_lines_ms",
    "pages.config_50k_last_page_ms", "pages.compare_50k_1pct_ms", "pages.compare_50k_10pct_ms",
    "pages.compare_50k_10pct_hunks",
)


def measure_pages(bench: Bench) -> None:
    from sqlalchemy import select

    from app.bench import _config, _mutate, _text
    from app.bench.timing import median_ms
    from app.extensions import db
    from app.models import CommitRecord, Device
    from app.services import versions

    history = db.session.scalar(select(Device).where(Device.name == "history"))
    big = db.session.scalar(select(Device).where(Device.name == "diff"))
    assert history is not None and big is not None
    oldest = db.session.scalar(select(CommitRecord.sha).where(CommitRecord.device_id == history.id)
                               .order_by(CommitRecord.seq).limit(1))
    one_pct_from = versions.diff_device(big, None, big.head_commit).from_commit
    one_pct_to = big.head_commit
    # A third version with 10% of the 50,000 lines changed (against the 1% one).
    lines = _config(bench.size["diff_lines"], bench.rng)
    ten = _mutate(lines, len(lines) // 10, bench.rng, 10)
    current = versions.read_file(bench.user, big.id, "HEAD", "configs/big").decode().splitlines()
    ten = [ten[i] if i % 10 == 0 else current[i] for i in range(len(current))]
    result, _ = versions.write_version(bench.user, big.id, {"message": "ten", "configs": {"big": _text(ten).decode()}})
    ten_pct_to = result["commit"]

    client = bench.app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = bench.user.get_id()
        session["_fresh"] = True
    repeat = bench.size["repeat"]
    from app.services.compare import CONFIG_PAGE_LINES

    total_lines = len(current)
    last_page = -(-total_lines // CONFIG_PAGE_LINES)

    def page(url: str) -> Any:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        return response

    urls = {
        "pages.version_10k_ms": f"/devices/{history.id}/versions/HEAD",
        "pages.compare_10k_ms": f"/devices/{history.id}/compare?from={oldest}&to=HEAD",
        "pages.version_50k_lines_ms": f"/devices/{big.id}/versions/{one_pct_to}",
        "pages.config_50k_last_page_ms": f"/devices/{big.id}/versions/{one_pct_to}/configs/big?page={last_page}",
        "pages.compare_50k_1pct_ms": f"/devices/{big.id}/compare?from={one_pct_from}&to={one_pct_to}",
        "pages.compare_50k_10pct_ms": f"/devices/{big.id}/compare?from={one_pct_to}&to={ten_pct_to}",
    }
    for key, url in urls.items():
        bench.results[key] = round(median_ms(lambda url=url: page(url), repeat), 2)
    body = page(urls["pages.compare_50k_10pct_ms"]).get_data(as_text=True)
    if total_lines >= 50_000:
        assert "data-more" in body  # the 10% diff is paged, not replaced by a download
    tail = page(urls["pages.config_50k_last_page_ms"]).get_data(as_text=True)
    assert f'id="L{total_lines}"' in tail
    from app.services import compare

    paged = compare.diff_device(big, one_pct_to, ten_pct_to, compare.diff_request({}, paged=True))
    bench.results["pages.compare_50k_10pct_hunks"] = paged.total_hunks
