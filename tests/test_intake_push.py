"""A push carrying a secret value the project's patterns match is refused with the file and line."""

from __future__ import annotations

from app.extensions import db
from app.models import Device, ProjectIntakeSettings
from tests.githttp_support import (  # noqa: F401  (fixtures)
    git_home_fixture,
    repo_url,
    run_git,
    server_fixture,
    world_fixture,
)
from tests.test_git_http import clone, commit_all, head_of


def _clone_with_config(git_home, server, world, tmp_path, text: str):
    work = clone(git_home, repo_url(server, "editor", world.tokens["editor"]), tmp_path / "w")
    (work / "configs").mkdir(exist_ok=True)
    (work / "configs" / "running-config").write_text(text)
    return work, commit_all(git_home, work, "config by hand")


def test_push_with_a_secret_is_refused_with_file_and_line(app, world, server, git_home, tmp_path):
    text = "hostname sw1\ninterface Gi0/1\n shutdown\nenable secret 9 $9$pushedZq1\nsnmp-server community PushZq2 RO\n"
    work, pushed = _clone_with_config(git_home, server, world, tmp_path, text)
    before = head_of(app, world.device_id)
    result = run_git(git_home, "push", "origin", "main", cwd=work, check=False)
    assert result.returncode != 0
    assert "configs/running-config:4: holds a secret (enable_secret)" in result.stderr
    assert "configs/running-config:5: holds a secret (snmp_community)" in result.stderr
    assert "Zq1" not in result.stderr and "PushZq2" not in result.stderr  # the value is never echoed
    assert head_of(app, world.device_id) == before

    # With the values replaced by placeholders (as the API stores them), the push goes through.
    (work / "configs" / "running-config").write_text(
        text.replace("$9$pushedZq1", "<redacted:0badc0de>").replace("PushZq2", "<redacted:12345678>"))
    run_git(git_home, "commit", "-q", "-a", "--amend", "-m", "config by hand", cwd=work)
    run_git(git_home, "push", "origin", "main", cwd=work)
    assert head_of(app, world.device_id) != before


def test_push_is_checked_with_the_devices_platform_and_not_at_all_without_redaction(
    app, world, server, git_home, tmp_path
):
    with app.app_context():
        device = db.session.get(Device, world.device_id)
        device.custom_fields = {"platform": "routeros"}
        db.session.commit()
        project_id = device.project_id
    # A RouterOS device: Cisco's syntax is not a secret here, RouterOS's is.
    work, pushed = _clone_with_config(git_home, server, world, tmp_path, "/ppp secret\nadd name=u password=RosZq1\n")
    result = run_git(git_home, "push", "origin", "main", cwd=work, check=False)
    assert result.returncode != 0 and "configs/running-config:2: holds a secret (routeros_secret)" in result.stderr

    with app.app_context():
        db.session.add(ProjectIntakeSettings(project_id=project_id, redaction=False, rules=[]))
        db.session.commit()
    run_git(git_home, "push", "origin", "main", cwd=work)
    assert head_of(app, world.device_id) == pushed
