// Crypto-currency miners: the XMRig family (the miner most often dropped into containers),
// stratum pool URLs and miner pool configuration files.

rule Miner_XMRig_Strings
{
    meta:
        category = "Miner"
        severity = "high"
        description = "XMRig-family crypto miner (program strings of the XMRig miner)"
    strings:
        $name1 = "XMRig" fullword
        $name2 = "xmrig.com" nocase
        $opt1 = "--donate-level" ascii
        $opt2 = "donate-over-proxy" ascii
        $opt3 = "\"randomx\"" ascii
        $opt4 = "cryptonight" ascii nocase
        $opt5 = "--cpu-max-threads-hint" ascii
        $opt6 = "nicehash" ascii
    condition:
        filesize < 32MB and any of ($name*) and 2 of ($opt*)
}

rule Miner_Stratum_URL
{
    meta:
        category = "Miner"
        severity = "high"
        description = "Mining pool address (stratum protocol URL with host and port)"
    strings:
        $url = /stratum\+(tcp|ssl|tls):\/\/[A-Za-z0-9][A-Za-z0-9.\-]{2,253}:[0-9]{2,5}/
    condition:
        filesize < 32MB and $url
}

rule Miner_Pool_Config
{
    meta:
        category = "Miner"
        severity = "high"
        description = "Crypto miner configuration (JSON with a pool list, wallet user and hashing algorithm)"
    strings:
        $pools = /"pools"\s*:\s*\[/
        $url = /"url"\s*:\s*"/
        $user = /"user"\s*:\s*"/
        $algo1 = /"algo"\s*:\s*"/
        $algo2 = /"(coin|rig-id|nicehash|keepalive)"\s*:/
    condition:
        filesize < 1MB and $pools and $url and $user and ($algo1 or $algo2)
}
