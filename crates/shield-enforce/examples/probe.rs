//! Prints which enforcement backends this machine offers.
//!
//! `cargo run -p shield-enforce --example probe` (as root).

fn main() {
    let backends = shield_enforce::probe();
    println!("fanotify_exec: {}", backends.fanotify_exec);
    println!("ro_mounts: {}", backends.ro_mounts);
    println!("bpf_lsm: {}", backends.bpf_lsm);
}
