"""Realistic device configurations for the fleet search, compliance and block-summary tests."""

from __future__ import annotations

IOS = """!
! Last configuration change at 10:02:11 UTC Mon Mar 2 2026 by netops
!
version 15.2
service timestamps debug datetime msec
hostname access-sw-1
!
enable secret 5 <redacted:1a2b3c4d>
!
vlan 120
 name voice
!
interface GigabitEthernet1/0/1
 description uplink core-1
 switchport mode trunk
 switchport trunk allowed vlan 10,120
!
interface GigabitEthernet1/0/18
 description phone-470
 switchport mode access
 switchport access vlan 120
 spanning-tree portfast
!
interface GigabitEthernet1/0/19
 description phone-471
 switchport mode access
 switchport access vlan 120
!
interface Vlan10
 ip address 10.1.2.3 255.255.255.0
!
ip access-list extended ACL-SERVERS-IN
 permit tcp any host 10.9.0.10 eq 443
 deny ip any any log
!
router bgp 65001
 neighbor 10.0.0.2 remote-as 65002
 neighbor 10.0.0.3 remote-as 65003
!
ip http server
ntp server 10.0.0.123
logging host 10.1.2.30
!
end
"""

NXOS = """hostname nx-core-1
feature bgp
vlan 200
  name servers
interface Ethernet1/1
  description to-fw-a
  switchport mode access
  switchport access vlan 200
router bgp 65010
  neighbor 10.20.0.1
    remote-as 65020
ntp server 10.0.0.123
"""

EOS = """hostname eos-leaf-1
vlan 300
   name storage
interface Ethernet1
   description host-a
   switchport access vlan 300
ip access-list ACL-MGMT
   10 permit ip 10.0.0.0/8 any
router bgp 65100
   neighbor 10.30.0.1 remote-as 65200
"""

JUNOS = """system {
    host-name junos-edge-1;
    ntp {
        server 10.0.0.123;
    }
}
interfaces {
    ge-0/0/1 {
        description "uplink isp-a";
        unit 0 {
            family inet {
                address 192.0.2.1/30;
            }
        }
    }
    ge-0/0/2 {
        unit 0 {
            family inet {
                address 198.51.100.1/30;
            }
        }
    }
}
protocols {
    bgp {
        group transit {
            neighbor 192.0.2.2 {
                peer-as 64500;
            }
            neighbor 198.51.100.2 {
                peer-as 64501;
            }
        }
    }
}
"""
