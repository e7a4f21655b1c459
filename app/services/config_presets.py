"""Vendor presets: the volatile lines and the secret patterns of each common platform.

Data only (no I/O). `config_rules` picks presets per device (its platform) or per project and
turns them into `ignore` rules and a secret scanner. Noise patterns are regular expressions
matched against one line; secret patterns have a `(?P<secret>...)` group, the part replaced by a
placeholder (the keyword and the encryption type stay visible: `enable secret 9 <redacted:...>`).
"""

from __future__ import annotations

from dataclasses import dataclass

from gitstore.secrets import SecretPattern

# A value: up to the next blank, or inside double quotes without them.
V = r"\"?(?P<secret>[^\"\s]+)\"?"
# An optional Cisco encryption type (0, 5, 7, 8, 9, ...) before the value.
T = r"(?: \d{1,2})?"


@dataclass(frozen=True)
class Preset:
    key: str
    name: str
    noise: tuple[str, ...]
    secrets: tuple[SecretPattern, ...]
    # Words that identify the platform in a device's vendor/model text or its `platform` field.
    aliases: tuple[str, ...] = ()


# Literal words the scanner looks for first; a pattern's keywords are those its regex spells out,
# and every alternative of a pattern holds one of them (a test checks each has some).
KEYWORDS = ("secret", "pass", "community", "key", "snmp-server", "pwd", "$9$", "name=", "set name")


def _s(kind: str, regex: str, within: str | None = None, section: str = "indent") -> SecretPattern:
    spelled = regex.replace("(?P<secret>", "(").replace("\\$", "$")
    keywords = tuple(k for k in KEYWORDS if k in spelled)
    return SecretPattern(kind=kind, regex=regex, keywords=keywords, within=within, section=section)


_SNMP_COMMUNITY = _s("snmp_community", r"^snmp-server community " + V)
_SNMP_HOST_COMMUNITY = _s(
    "snmp_community",
    r"^snmp-server host \S+(?: (?:informs|traps))?(?: version (?:1|2c))?(?: vrf \S+)? "
    r"(?!version |\d+\.\d+\.\d+\.\d+)(?P<secret>[^\s\"]+)",
)
_SNMP_V3_AUTH = _s("snmp_user_key", r"^snmp-server user \S+ .*?\bauth (?:md5|sha\S*) (?:0x)?(?P<secret>\S+)")
_SNMP_V3_PRIV = _s("snmp_user_key", r"^snmp-server user \S+ .*?\bpriv(?: (?:des|3des|aes(?:-128)?(?: \d+)?))? "
                                    r"(?!localizedkey)(?P<secret>\S+)")
_AAA_KEY = _s("tacacs_radius_key", r"^(?:tacacs|radius)-server (?:.*? )?key" + T + " " + V)
_AAA_BLOCK_KEY = _s("tacacs_radius_key", r"^\s+key" + T + " " + V,
                    within=r"^(?:tacacs server|radius server|tacacs-server host|radius-server host|aaa-server) ")
_AAA_PRIVATE = _s("tacacs_radius_key", r"^\s+server-private \S+ (?:.*? )?key" + T + " " + V)
_BGP_NEIGHBOR = _s("bgp_password", r"^\s+neighbor \S+ password" + T + " " + V)
_OSPF_KEY = _s("ospf_key", r"^\s+ip ospf authentication-key" + T + " " + V)
_OSPF_MD5 = _s("ospf_key", r"^\s+ip ospf message-digest-key \d+ md5" + T + " " + V)
_KEY_STRING = _s("key_chain", r"^\s+key-string" + T + " " + V)
_ISIS = _s("isis_password", r"^\s+(?:isis password|area-password|domain-password)" + T + " " + V)

_IOS_SECRETS = (
    _s("enable_secret", r"^enable (?:secret|password)(?: level \d+)?" + T + " (?!sha512 )" + V),
    _s("user_password", r"^username \S+ (?:.*? )?(?:secret|password)" + T + " " + V),
    _s("line_password", r"^\s+password" + T + " " + V, within=r"^line "),
    _SNMP_COMMUNITY, _SNMP_HOST_COMMUNITY, _SNMP_V3_AUTH, _SNMP_V3_PRIV,
    _AAA_KEY, _AAA_BLOCK_KEY, _AAA_PRIVATE,
    _s("ike_psk", r"^crypto isakmp key" + T + " " + V),
    _s("ike_psk", r"^\s+pre-shared-key(?: address \S+(?: \S+)?)?(?: (?:local|remote))?(?: key)?" + T
       + r" (?!ascii-text |hexadecimal )" + V),
    _BGP_NEIGHBOR, _OSPF_KEY, _OSPF_MD5, _KEY_STRING, _ISIS,
)

_CISCO_NOISE = (
    r"^! Last configuration change at ",
    r"^! NVRAM config last updated at ",
    r"^! No configuration change since last restart",
    r"^ntp clock-period ",
    r"^Current configuration : \d+ bytes",
)

PRESETS: dict[str, Preset] = {
    p.key: p
    for p in (
        Preset(
            "ios", "Cisco IOS / IOS-XE", _CISCO_NOISE, _IOS_SECRETS,
            aliases=("ios", "iosxe", "ios-xe", "cisco ios", "catalyst", "isr", "c9"),
        ),
        Preset(
            "nxos", "Cisco NX-OS",
            (r"^!Time: ", r"^!Running configuration last done at: ", r"^! Last configuration change at "),
            (
                _s("user_password", r"^username \S+ password" + T + " " + V),
                _SNMP_COMMUNITY, _SNMP_V3_AUTH, _SNMP_V3_PRIV, _AAA_KEY,
                _s("bgp_password", r"^\s+password" + T + " " + V, within=r"^router bgp "),
                _OSPF_KEY, _OSPF_MD5, _KEY_STRING,
            ),
            aliases=("nxos", "nx-os", "nexus", "n9k", "n7k", "n5k", "n3k"),
        ),
        Preset(
            "iosxr", "Cisco IOS-XR",
            (r"^!! Last configuration change at ", r"^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?:Jan|Feb|Mar|Apr|May|Jun|"
             r"Jul|Aug|Sep|Oct|Nov|Dec) +\d+ \d\d:\d\d:\d\d(?:\.\d+)? \S+$", r"^Building configuration\.\.\."),
            (
                _s("user_password", r"^\s+(?:secret|password)(?: \d{1,2}| encrypted| clear)? " + V,
                   within=r"^username "),
                _SNMP_COMMUNITY,
                _s("tacacs_radius_key", r"^(?:tacacs|radius)-server key" + T + " " + V),
                _s("tacacs_radius_key", r"^\s+key" + T + " " + V, within=r"^(?:tacacs|radius)-server host "),
                _s("bgp_password", r"^\s+password(?: encrypted| clear)?" + T + " " + V, within=r"^router bgp "),
                _s("ospf_key", r"^\s+authentication-key(?: encrypted| clear)? " + V, within=r"^router ospf"),
                _s("ospf_key", r"^\s+message-digest-key \d+ md5(?: encrypted| clear)? " + V, within=r"^router ospf"),
                _s("key_chain", r"^\s+key-string(?: password| clear| encrypted)?" + T + " " + V),
                _s("ike_psk", r"^\s+pre-shared-key(?: (?:local|remote))?(?: password| clear| encrypted)? "
                   r"(?!ascii-text |hexadecimal )" + V),
            ),
            aliases=("iosxr", "ios-xr", "ios xr", "asr9", "ncs", "crs", "xrv"),
        ),
        Preset(
            "asa", "Cisco ASA",
            (r"^: Written by .* at ", r"^Cryptochecksum:", r"^: Saved$", r"^! Last configuration change at "),
            (
                _s("enable_secret", r"^enable password (?!\d{1,2} )" + V),
                _s("user_password", r"^username \S+ password (?!\d{1,2} )" + V),
                _s("user_password", r"^passwd " + V),
                _s("ike_psk", r"^\s+ikev1 pre-shared-key " + V),
                _s("ike_psk", r"^\s+ikev2 (?:local|remote)-authentication pre-shared-key" + T + " " + V),
                _s("ike_psk", r"^crypto isakmp key" + T + " " + V),
                _SNMP_COMMUNITY,
                _s("snmp_community", r"^snmp-server host \S+ \S+ (?:.*? )?community " + V),
                _s("tacacs_radius_key", r"^\s+key " + V, within=r"^aaa-server "),
                _s("ospf_key", r"^\s+ospf (?:authentication-key|message-digest-key \d+ md5) " + V),
                _BGP_NEIGHBOR,
            ),
            aliases=("asa", "firepower", "adaptive security"),
        ),
        Preset(
            "junos", "Juniper Junos",
            (r"^## Last commit: ", r"^## Last changed: "),
            (
                _s("user_password", r"\bencrypted-password \"?(?P<secret>[^\";\s]+)\"?"),
                _s("junos_secret", r"\"(?P<secret>\$9\$[^\"]+)\""),
                _s("junos_secret", r"(?<![\w$\"])(?P<secret>\$9\$[^\s;\"]+)"),
                _s("junos_secret", r"\b(?:secret|authentication-key|ascii-text|hexadecimal|simple-password|"
                                   r"hello-authentication-key) \"?(?P<secret>[^\";\s]+)\"?;"),
                _s("snmp_community", r"^\s*community (?P<secret>[^\s{;\"]+) \{"),
                _s("snmp_community", r"^set snmp community (?P<secret>\S+)"),
            ),
            aliases=("junos", "juniper", "srx", "mx", "ex", "qfx"),
        ),
        Preset(
            "eos", "Arista EOS",
            (r"^! Startup-config last modified at ", r"^! Time: ", r"^! Last configuration change at "),
            (
                _s("enable_secret", r"^enable (?:secret|password)(?: \S+)? " + V),
                _s("user_password", r"^username \S+ (?:.*? )?(?:secret|password)(?: sha512| \d{1,2})? " + V),
                _SNMP_COMMUNITY, _SNMP_V3_AUTH, _SNMP_V3_PRIV, _AAA_KEY,
                _BGP_NEIGHBOR, _OSPF_KEY, _OSPF_MD5, _KEY_STRING,
            ),
            aliases=("eos", "arista"),
        ),
        Preset(
            "fortios", "Fortinet FortiOS",
            (r"^#conf_file_ver=",),
            (
                _s("fortios_secret", r"^\s*set (?:password|passwd|psksecret|secret|key|auth-pwd|priv-pwd|authpasswd|"
                                     r"md5-key|auth-password|sso-password|ldap-password|passphrase|"
                                     r"private-key-password|pre-shared-key)(?: ENC)? " + V),
                _s("snmp_community", r"^\s*set name " + V, within=r"^config system snmp community", section="config"),
            ),
            aliases=("fortios", "fortinet", "fortigate"),
        ),
        Preset(
            "routeros", "MikroTik RouterOS",
            (r"^# .*\d\d:\d\d:\d\d by RouterOS ", r"^# software id = "),
            (
                _s("routeros_secret", r"\b(?:password|secret|passphrase|wpa-pre-shared-key|wpa2-pre-shared-key|"
                                      r"authentication-key|auth-password|encryption-password|pre-shared-key|"
                                      r"private-key-passphrase)=(?P<secret>\"[^\"]*\"|[^\s\"]+)"),
                _s("snmp_community", r"\bname=(?P<secret>\"[^\"]*\"|[^\s\"]+)", within=r"^/snmp community",
                   section="slash"),
            ),
            aliases=("routeros", "mikrotik", "ros"),
        ),
        Preset(
            "procurve", "HP / Aruba ProCurve",
            (r"^; Last (?:configuration change|modified|updated)", r"^!Last configuration change "),
            (
                _s("snmp_community", r"^snmp-server community " + V),
                _s("user_password", r"^password (?:manager|operator)(?: user-name \S+)? (?:sha1|plaintext) " + V),
                _s("user_password", r"^user \S+ (?:.*? )?password ciphertext " + V),
                _AAA_KEY,
            ),
            aliases=("procurve", "aruba", "hp", "hpe", "aoscx", "arubaos"),
        ),
    )
}
