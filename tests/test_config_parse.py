"""config_blocks.parse builds the same tree as hier_config's own driver, line for line.

The parse skips the driver's per-line substitutions on the lines none of them can change (see
config_blocks._GuardedLineSubs); these tests hold its tree against the stock `get_hconfig` on realistic
configs of every platform and on the lines the substitutions exist for: banners (kept raw), comments,
`version`, `end`, irregular spacing, `no ip address`, BGP section exits, and a line a substitution turns
into something the fast path cannot hand on (it then parses with the stock driver).
"""

from __future__ import annotations

import random

import pytest
from hier_config import HConfig, Platform, get_hconfig
from hier_config.exceptions import DuplicateChildError

from app.bench.search import device_config
from app.services import config_blocks
from tests.fleet_config_support import EOS, IOS, JUNOS, NXOS

EDGES = """Building configuration...

Current configuration : 4123 bytes
! Last configuration change at 10:02:11 UTC Mon Mar 2 2026 by netops
! NVRAM config last updated at 10:02:12 UTC Mon Mar 2 2026
version 17.3
ntp clock-period 36028797
hostname   edge-1\t
!
banner motd ^C
! not a comment: banner text
version is kept in a banner
end
  indented banner line
^C
banner login # Authorised use only #
!
interface GigabitEthernet0/1
 description   two   spaces
 no ip address
 no ip address dhcp
 logging event link-status
  ipv6 unreachables disable
 shutdown
   !
interface Loopback0
 ip address 10.0.0.1 255.255.255.255
!
router bgp 65001
 address-family ipv4
  neighbor 10.0.0.2 activate
 exit-address-family
 template peer-policy P1
 exit-peer-policy
!
crypto key generate rsa general-keys modulus 2048
ip access-list extended ACL-IN
 remark why this list exists
 permit ip any any
vlan 10,20-22
 name users
#
end
"""

# `^ no ip address` leaves "banner motd x": the stock loader reads it as a plain line, not as a banner.
FALLBACK = "hostname r1\ninterface Gi0/1\n no ip addressbanner motd x\n shutdown\n!\nend\n"

CONFIGS = {
    "ios": IOS, "nxos": NXOS, "eos": EOS, "junos": JUNOS, "edges": EDGES, "fallback": FALLBACK,
    "bench": device_config(1, 1500, random.Random(3), True),
}


def _lines(tree: HConfig | None) -> list[tuple[int, str, frozenset[str], frozenset[str], bool]] | None:
    if tree is None:
        return None
    return [(line.depth, line.text, line.tags, line.comments, line.new_in_config) for line in tree.dump().lines]


def _stock(platform: Platform, text: str) -> HConfig | None:
    try:
        return get_hconfig(platform, text)
    except (DuplicateChildError, ValueError, IndexError):
        return None


@pytest.mark.parametrize("platform", [p for p in Platform if p is not Platform.GENERIC], ids=lambda p: p.name)
@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_parse_builds_the_stock_tree(platform, name):
    text = CONFIGS[name]
    assert _lines(config_blocks.parse(platform, text)) == _lines(_stock(platform, text))


def test_the_edge_config_exercises_the_substitutions():
    tree = config_blocks.parse(Platform.CISCO_IOS, EDGES)
    texts = [child.text for child in tree.all_children()]
    # Stripped as hier_config strips them...
    assert not any(t.startswith(("version", "Building", "!", "#", "ntp clock-period", "crypto key")) for t in texts)
    assert "end" not in texts
    assert "hostname edge-1" in texts and "description two spaces" in texts
    assert "dhcp" in texts  # `^ no ip address` removes a prefix only, as in hier_config
    # ...while the banner keeps its `!`, `version` and `end` lines.
    [banner] = [t for t in texts if t.startswith("banner motd")]
    assert "! not a comment: banner text\nversion is kept in a banner\nend" in banner


def test_the_tree_keeps_the_platform_driver():
    from hier_config import get_hconfig_view
    from hier_config.platforms.cisco_ios.driver import HConfigDriverCiscoIOS

    tree = config_blocks.parse(Platform.CISCO_IOS, IOS)
    assert isinstance(tree.driver, HConfigDriverCiscoIOS)
    assert get_hconfig_view(tree) is not None
    # The diff rules are the driver's own: an unchanged config has no change, a changed one its block.
    assert list(tree.unified_diff(config_blocks.parse(Platform.CISCO_IOS, IOS))) == []
    assert config_blocks.summarize(Platform.CISCO_IOS, IOS, IOS.replace("phone-471", "phone-472")) == [
        config_blocks.BlockChange("interface GigabitEthernet1/0/19",
                                  "interface GigabitEthernet1/0/19: description phone-471 → phone-472")]


def test_the_parse_pauses_the_cycle_collector_only_while_it_runs(monkeypatch):
    import gc

    seen: list[bool] = []
    original = config_blocks.get_hconfig

    def spy(*args, **kwargs):
        seen.append(gc.isenabled())
        return original(*args, **kwargs)

    monkeypatch.setattr(config_blocks, "get_hconfig", spy)
    assert config_blocks.parse(Platform.CISCO_IOS, "interface Gi1/0/1\n description x\n") is not None
    assert seen == [False] and gc.isenabled()
    gc.disable()  # a caller that paused it itself keeps it paused
    try:
        config_blocks.parse(Platform.CISCO_IOS, "hostname a\n")
        assert not gc.isenabled()
    finally:
        gc.enable()
