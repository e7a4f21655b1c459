from __future__ import annotations

import pytest

from gitstore import (
    InvalidChange,
    validate_config_name,
    validate_device_json,
    validate_photos,
    validate_ports,
)


@pytest.mark.parametrize(
    "name",
    ["", "..", "a/../b", ".", "/abs", "-x", "a/-x", ".git", ".GIT/x", "x/.Git", ".git.", "git~1",
     ".gitmodules", ".GitAttributes", ".g\u200cit", "a\x00b", "a\nb", "a\tb", "a\\b", "a//b",
     "a/", "x" * 101, "/".join(["y" * 50] * 6), 7, None],
)
def test_bad_config_names(name: object) -> None:
    with pytest.raises(InvalidChange) as err:
        validate_config_name(name)
    assert err.value.field.startswith("configs.")


@pytest.mark.parametrize(
    "name", ["running-config", "junos/re0/juniper.conf", "café.cfg", "a.git", "x" * 100, ".hidden"]
)
def test_good_config_names(name: str) -> None:
    assert validate_config_name(name) == name


def _field(call, *args) -> str:
    with pytest.raises(InvalidChange) as err:
        call(*args)
    return err.value.field


def test_bad_ports() -> None:
    assert _field(validate_ports, [{"name": "Gi1"}, {"name": "Gi1"}]) == "ports[1].name"
    assert _field(validate_ports, [{"name": "Gi1", "vlans": [0]}]) == "ports[0].vlans[0]"
    assert _field(validate_ports, [{"name": "Gi1", "vlans": [10, 4095]}]) == "ports[0].vlans[1]"
    assert _field(validate_ports, [{"name": "Gi1", "vlans": [True]}]) == "ports[0].vlans[0]"
    assert _field(validate_ports, [{"name": "Gi1", "colour": "red"}]) == "ports[0].colour"
    assert _field(validate_ports, [{"name": "Gi1"}, {"name": "Gi2", "enabled": "yes"}]) == (
        "ports[1].enabled"
    )
    assert _field(validate_ports, [{"name": "Gi1", "mode": "hybrid"}]) == "ports[0].mode"
    assert _field(validate_ports, [{"name": "Gi1", "native_vlan": 5000}]) == "ports[0].native_vlan"
    assert _field(validate_ports, [{"name": "Gi1", "mtu": "1500"}]) == "ports[0].mtu"
    assert _field(validate_ports, [{"name": "Gi1", "peer": {"device": "x"}}]) == "ports[0].peer"
    assert _field(validate_ports, [{"name": "Gi1", "peer": {"device": "x", "port": 1}}]) == (
        "ports[0].peer.port"
    )
    assert _field(validate_ports, [{"name": ""}]) == "ports[0].name"
    assert _field(validate_ports, [{"name": "x" * 65}]) == "ports[0].name"
    assert _field(validate_ports, [{"description": "no name"}]) == "ports[0].name"
    assert _field(validate_ports, ["Gi1"]) == "ports[0]"
    assert _field(validate_ports, {"name": "Gi1"}) == "ports"


def test_good_ports_are_normalized_and_sorted() -> None:
    ports = validate_ports([
        {"name": "Gi1/0/10", "vlans": [20, 10, 20], "mode": "trunk", "native_vlan": 1},
        {"name": "Gi1/0/2", "enabled": False, "mode": None, "speed": "1G", "mtu": 9216,
         "lag": None, "peer": {"device": "srv1", "port": "eth0"}, "type": "1000base-t",
         "mac": "00:11:22:33:44:55", "description": ""},
        {"name": "Gi1/0/1", "speed": 1000, "native_vlan": None, "lag": "Po1", "peer": None},
    ])
    assert [p["name"] for p in ports] == ["Gi1/0/1", "Gi1/0/2", "Gi1/0/10"]
    assert ports[2]["vlans"] == [10, 20]


def test_photos() -> None:
    good = {"sha256": "ab" * 32, "filename": "rack.webp", "content_type": "image/webp",
            "size": 0, "caption": "front", "width": 10, "height": 20}
    assert validate_photos([good]) == [good]
    assert _field(validate_photos, [{**good, "sha256": "AB" * 32}]) == "photos[0].sha256"
    assert _field(validate_photos, [{**good, "content_type": "image/gif"}]) == (
        "photos[0].content_type"
    )
    assert _field(validate_photos, [{**good, "size": -1}]) == "photos[0].size"
    assert _field(validate_photos, [{**good, "url": "http://x"}]) == "photos[0].url"
    assert _field(validate_photos, [good, good]) == "photos[1].sha256"


def test_device_json() -> None:
    assert validate_device_json({"name": "sw1", "ips": ["10.0.0.1"]}) == {
        "name": "sw1", "ips": ["10.0.0.1"]
    }
    for bad in ([], "x", {1: "a"}, {"x": float("nan")}, {"x": object()}):
        with pytest.raises(InvalidChange):
            validate_device_json(bad)
