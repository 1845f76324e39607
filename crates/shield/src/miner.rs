//! Miner behaviour: a program started with a mining pool address or with the options of
//! the common miners, or under a miner's name. Checked on every exec, from the arguments
//! the kernel reported (no file is read).

/// Pool URL schemes of the stratum protocol.
const POOL_SCHEMES: &[&str] =
    &["stratum+tcp://", "stratum+ssl://", "stratum+tls://", "stratum2+tcp://", "stratum1+tcp://"];

/// Options that only miners take (XMRig, cpuminer, ccminer, xmr-stak, T-Rex, lolMiner...).
const MINER_OPTIONS: &[&str] = &[
    "--donate-level",
    "--cpu-max-threads-hint",
    "--randomx-mode",
    "--randomx-1gb-pages",
    "--nicehash",
    "--rig-id",
    "--coin=monero",
    "--algo=rx/0",
    "--algo=cryptonight",
    "--cuda-bfactor",
    "--max-cpu-usage",
];

/// Program names of common miners.
const MINER_NAMES: &[&str] =
    &["xmrig", "xmr-stak", "minerd", "cpuminer", "ccminer", "ethminer", "t-rex", "nbminer", "lolminer", "cgminer"];

/// Why a program looks like a miner, if it does.
pub fn miner_reason(filename: &str, argv: &[String]) -> Option<String> {
    for arg in argv {
        let lower = arg.to_ascii_lowercase();
        if let Some(scheme) = POOL_SCHEMES.iter().find(|s| lower.contains(*s)) {
            return Some(format!("argument with a mining pool address ({scheme}…)"));
        }
    }
    for arg in argv.iter().skip(1) {
        let lower = arg.to_ascii_lowercase();
        let option = lower.split_once('=').map(|(o, _)| o).unwrap_or(&lower);
        if let Some(known) = MINER_OPTIONS.iter().find(|o| **o == lower || **o == option) {
            return Some(format!("miner option {known}"));
        }
    }
    let base = |p: &str| p.rsplit('/').next().unwrap_or(p).to_ascii_lowercase();
    let names = std::iter::once(base(filename)).chain(argv.first().map(|a| base(a)));
    for name in names {
        if MINER_NAMES.contains(&name.as_str()) {
            return Some(format!("program named {name}"));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn miners_are_recognised() {
        assert!(miner_reason("/tmp/x", &args(&["x", "-o", "stratum+tcp://pool.example.com:3333"])).is_some());
        assert!(miner_reason("/tmp/x", &args(&["x", "--url=STRATUM+SSL://pool:443"])).is_some());
        assert!(miner_reason("/tmp/kworker", &args(&["kworker", "--donate-level", "1"])).is_some());
        assert!(miner_reason("/tmp/kworker", &args(&["kworker", "--donate-level=1"])).is_some());
        assert!(miner_reason("/opt/xmrig", &args(&["./xmrig"])).is_some());
        assert!(miner_reason("/opt/run", &args(&["xmrig"])).is_some());
    }

    #[test]
    fn ordinary_programs_are_not_miners() {
        assert_eq!(miner_reason("/usr/bin/sleep", &args(&["sleep", "300"])), None);
        assert_eq!(miner_reason("/usr/bin/curl", &args(&["curl", "https://example.com/stratum"])), None);
        assert_eq!(miner_reason("/usr/bin/grep", &args(&["grep", "--donate"])), None);
        assert_eq!(miner_reason("/usr/bin/x", &[]), None);
    }
}
