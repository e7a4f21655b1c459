"""Sample configs for the intake tests: per preset, a config holding each kind of secret it knows.

Every secret value is unique and recognisable (`...Zq<n>`), so a scan of any store for these
values proves redaction reached it; `SECRETS[preset]` lists them.
"""

from __future__ import annotations

SAMPLES: dict[str, str] = {
    "ios": """!
! Last configuration change at 10:10:10 UTC Mon Nov 30 2026 by admin
! NVRAM config last updated at 10:10:12 UTC Mon Nov 30 2026 by admin
version 17.9
hostname core-sw1
enable secret 9 $9$iosEnableZq1
username admin privilege 15 secret 9 $9$iosUserZq2
username ops password 7 0822455D0AiosZq3
snmp-server community iosCommunityZq4 RO
snmp-server host 10.0.0.9 version 2c iosTrapCommZq5
snmp-server user mon grp v3 auth sha iosAuthZq6 priv aes 128 iosPrivZq7
tacacs-server key 7 iosTacacsZq8
radius-server host 10.0.0.7 auth-port 1812 key iosRadiusZq9
tacacs server TAC1
 address ipv4 10.0.0.8
 key 7 iosTacBlockZq10
crypto isakmp key iosIsakmpZq11 address 192.0.2.1
crypto ikev2 keyring KR
 peer P1
  pre-shared-key local iosIkev2Zq12
interface Gi0/1
 ip ospf authentication-key 7 iosOspfZq13
 ip ospf message-digest-key 1 md5 iosMd5Zq14
router bgp 65001
 neighbor 192.0.2.2 password 7 iosBgpZq15
key chain KC
 key 1
  key-string 7 iosKeyStringZq16
line vty 0 4
 password 7 iosVtyZq17
ntp clock-period 17179738
end
""",
    "nxos": """!Command: show running-config
!Time: Mon Nov 30 10:10:10 2026
version 9.3(8)
hostname nx1
username admin password 5 $5$nxUserZq1 role network-admin
snmp-server user mon network-admin auth md5 0xnxAuthZq2 priv 0xnxPrivZq3 localizedkey
snmp-server community nxCommunityZq4 group network-operator
tacacs-server key 7 "nxTacacsZq5"
radius-server host 10.0.0.7 key 7 "nxRadiusZq6"
interface Ethernet1/1
  ip ospf authentication-key 3 nxOspfZq7
  ip ospf message-digest-key 1 md5 3 nxMd5Zq8
router bgp 65001
  neighbor 192.0.2.2
    password 3 nxBgpZq9
key chain KC
  key 1
    key-string 7 nxKeyStringZq10
""",
    "iosxr": """Mon Nov 30 10:10:10.123 UTC
Building configuration...
!! IOS XR Configuration 7.5.2
!! Last configuration change at Mon Nov 30 10:00:00 2026 by admin
hostname xr1
username admin
 group root-lr
 secret 10 $6$xrSecretZq1
!
username ops
 password 7 xrPasswordZq2
!
snmp-server community xrCommunityZq3 RO
tacacs-server host 10.0.0.8 port 49
 key 7 xrTacacsZq4
!
radius-server key 7 xrRadiusZq5
router ospf 1
 area 0
  authentication-key encrypted xrOspfZq6
  message-digest-key 1 md5 encrypted xrMd5Zq7
!
router bgp 65001
 neighbor 192.0.2.2
  password encrypted xrBgpZq8
!
key chain KC
 key 1
  key-string password xrKeyStringZq9
!
crypto ikev2 keyring KR
 peer P1
  pre-shared-key xrPskZq10
""",
    "asa": """: Saved
: Written by enable_15 at 10:10:10.123 UTC Mon Nov 30 2026
ASA Version 9.16(4)
hostname fw1
enable password asaEnableZq1 encrypted
passwd asaPasswdZq2 encrypted
username admin password asaUserZq3 pbkdf2 privilege 15
aaa-server TACACS (inside) host 10.0.0.8
 key asaAaaKeyZq4
snmp-server community asaCommunityZq5
snmp-server host inside 10.0.0.9 community asaHostCommZq6 version 2c
tunnel-group 192.0.2.1 ipsec-attributes
 ikev1 pre-shared-key asaIkev1Zq7
 ikev2 remote-authentication pre-shared-key asaIkev2Zq8
interface GigabitEthernet0/1
 ospf authentication-key asaOspfZq9
router bgp 65001
 address-family ipv4 unicast
  neighbor 192.0.2.2 password 0 asaBgpZq10
Cryptochecksum:0123456789abcdef0123456789abcdef
""",
    "junos": """## Last commit: 2026-11-30 10:10:10 UTC by admin
version 21.4R3;
system {
    root-authentication {
        encrypted-password "$6$junosRootZq1";
    }
    login {
        user ops {
            authentication {
                encrypted-password "$6$junosUserZq2";
            }
        }
    }
    tacplus-server {
        10.0.0.8 secret "$9$junosTacZq3";
    }
}
snmp {
    community junosCommunityZq4 {
        authorization read-only;
    }
}
protocols {
    bgp {
        group EXT {
            authentication-key "$9$junosBgpZq5";
        }
    }
    ospf {
        area 0.0.0.0 {
            interface ge-0/0/0.0 {
                authentication {
                    md5 1 key "$9$junosOspfZq6";
                }
            }
        }
    }
}
security {
    ike {
        policy IKE-POL {
            pre-shared-key ascii-text "$9$junosPskZq7";
        }
    }
}
set snmp community junosSetCommZq8 authorization read-only
""",
    "eos": """! Command: show running-config
! device: leaf1 (DCS-7050SX3-48YC8, EOS-4.28.3M)
! Startup-config last modified at Mon Nov 30 10:10:10 2026 by admin
hostname leaf1
enable secret sha512 $6$eosEnableZq1
username admin privilege 15 role network-admin secret sha512 $6$eosUserZq2
snmp-server community eosCommunityZq3 ro
snmp-server user mon grp v3 auth sha eosAuthZq4 priv aes eosPrivZq5
tacacs-server host 10.0.0.8 key 7 eosTacacsZq6
radius-server key 7 eosRadiusZq7
interface Ethernet1
   ip ospf authentication-key 7 eosOspfZq8
   ip ospf message-digest-key 1 md5 7 eosMd5Zq9
router bgp 65001
   neighbor 192.0.2.2 password 7 eosBgpZq10
""",
    "fortios": """#config-version=FGT60E-7.0.12-FW-build0523-230606:opmode=0:vdom=0:user=admin
#conf_file_ver=123456789012345
#buildno=0523
config system admin
    edit "admin"
        set password ENC fortiAdminZq1
    next
end
config system snmp community
    edit 1
        set name "fortiCommunityZq2"
        config hosts
            edit 1
                set ip 10.0.0.9 255.255.255.255
            next
        end
    next
end
config system snmp user
    edit "mon"
        set auth-pwd ENC fortiAuthZq3
        set priv-pwd ENC fortiPrivZq4
    next
end
config user tacacs+
    edit "TAC"
        set key ENC fortiTacacsZq5
    next
end
config user radius
    edit "RAD"
        set secret ENC fortiRadiusZq6
    next
end
config vpn ipsec phase1-interface
    edit "VPN1"
        set psksecret ENC fortiPskZq7
    next
end
config router bgp
    config neighbor
        edit "192.0.2.2"
            set password ENC fortiBgpZq8
        next
    end
end
""",
    "routeros": """# nov/30/2026 10:10:10 by RouterOS 7.12
# software id = ABCD-1234
/interface wireless security-profiles
add authentication-types=wpa2-psk mode=dynamic-keys name=p1 wpa2-pre-shared-key=rosWpaZq1
/ip ipsec peer
add address=192.0.2.1/32 name=peer1
/ip ipsec identity
add peer=peer1 secret=rosIpsecZq2
/ppp secret
add name=vpnuser password=rosPppZq3
/snmp community
set [ find default=yes ] name=rosCommunityZq4
add addresses=10.0.0.0/24 name=rosCommunity2Zq5
/routing bgp connection
add name=peer1 remote.address=192.0.2.2 tcp-md5-key=x authentication-key=rosBgpZq6
/routing ospf interface-template
add area=backbone auth=md5 auth-key=1 authentication-key=rosOspfZq7
/radius
add address=10.0.0.7 secret=rosRadiusZq8 service=login
""",
    "procurve": """; J9145A Configuration Editor; Created on release #W.15.14.0012
; Last configuration change 2026-11-30 10:10:10
hostname "hp1"
snmp-server community "hpCommunityZq1" unrestricted
password manager user-name admin sha1 "hpManagerZq2"
password operator sha1 "hpOperatorZq3"
tacacs-server host 10.0.0.8 key "hpTacacsZq4"
radius-server host 10.0.0.7 key "hpRadiusZq5"
user admin group administrators password ciphertext hpCxUserZq6
""",
}


def secrets_of(preset: str) -> list[str]:
    """Every `...Zq<n>` value of a sample."""
    import re

    return sorted(set(re.findall(r"[A-Za-z0-9$x]*Zq\d+", SAMPLES[preset])))


SECRETS: dict[str, list[str]] = {key: secrets_of(key) for key in SAMPLES}
