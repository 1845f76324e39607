// Well-known Linux malware families, identified by strings that public analyses of each
// family document. Conditions combine several strings so that a text merely mentioning a
// family (an advisory, a changelog) does not match.

private rule Is_ELF
{
    condition:
        uint32(0) == 0x464c457f
}

rule Linux_Mirai
{
    meta:
        category = "Worm"
        severity = "high"
        description = "Mirai IoT botnet (busybox probe marker and attack strings of the published Mirai source)"
    strings:
        $probe = "/bin/busybox MIRAI" ascii
        $applet = "MIRAI: applet not found" ascii
        $vse = "TSource Engine Query" ascii
        $wd1 = "/dev/watchdog" ascii
        $wd2 = "/dev/misc/watchdog" ascii
    condition:
        Is_ELF and filesize < 8MB and ($probe or $applet or ($vse and $wd1 and $wd2))
}

rule Linux_Tsunami_Kaiten
{
    meta:
        category = "Backdoor"
        severity = "high"
        description = "Tsunami/Kaiten IRC bot (flood commands of the Kaiten bot's help text)"
    strings:
        $banner = "Kaiten wa goraku" ascii
        $c1 = "TSUNAMI <target> <secs>" ascii
        $c2 = "PAN <target> <port> <secs>" ascii
        $c3 = "UDP <target> <port> <secs>" ascii
        $c4 = "UNKNOWN <target> <secs>" ascii
        $c5 = "SPOOFS <subnet>" ascii
        $c6 = "GETSPOOFS" ascii fullword
    condition:
        filesize < 4MB and ($banner or 3 of ($c*))
}

rule Linux_XorDDoS
{
    meta:
        category = "Trojan"
        severity = "high"
        description = "XorDDoS botnet (its XOR key and DDoS command parameters)"
    strings:
        $key = "BB2FA36AAA9541F0" ascii
        $p1 = "denyip=" ascii
        $p2 = "rmfile=" ascii
        $p3 = "exec_packet" ascii
        $p4 = "build_iphdr" ascii
        $cron = "/etc/cron.hourly/gcc.sh" ascii
    condition:
        Is_ELF and filesize < 8MB and (($key and 2 of ($p*)) or ($cron and 2 of ($p*)))
}

rule Linux_Kinsing
{
    meta:
        category = "Trojan"
        severity = "high"
        description = "Kinsing campaign (the kinsing agent and its kdevtmpfsi miner)"
    strings:
        $miner = "kdevtmpfsi" ascii
        $agent = "kinsing" ascii
        $tmp = "/tmp/kdevtmpfsi" ascii
    condition:
        filesize < 32MB and (($miner and $agent) or $tmp)
}

rule Linux_TeamTNT_Script
{
    meta:
        category = "Trojan"
        severity = "high"
        description = "TeamTNT campaign script (attacker-named infrastructure combined with miner or credential theft)"
    strings:
        $name1 = "teamtnt.red" ascii nocase
        $name2 = "TeamTNT" ascii
        $act1 = "xmrig" ascii nocase
        $act2 = ".aws/credentials" ascii
        $act3 = "docker.sock" ascii
        $act4 = "/dev/tcp/" ascii
    condition:
        filesize < 4MB and ($name1 or ($name2 and any of ($act*)))
}

rule Packed_ELF_UPX
{
    meta:
        category = "HackTool"
        severity = "low"
        description = "ELF executable packed with UPX (packing hides code from inspection; common for malware, rare in distribution packages)"
    strings:
        $upx = "UPX!" ascii
        $info = "This file is packed with the UPX executable packer" ascii
    condition:
        Is_ELF and filesize < 32MB and ($upx in (0..1024)) and (#upx >= 2 or $info)
}
