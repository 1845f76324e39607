//! Backend probing.

use shield_enforce::{Status, probe};

#[test]
fn probe_reports_fanotify_and_mounts_available_and_lsm_as_the_kernel_answers() {
    let backends = probe();
    assert_eq!(backends.fanotify_exec, Status::Available);
    assert_eq!(backends.ro_mounts, Status::Available);
    let kernel = shield_bpf::probe_kernel();
    match kernel.lsm {
        shield_bpf::Support::Refused { message, .. } => match &backends.bpf_lsm {
            Status::Unavailable { reason } => assert!(reason.contains(&message), "{reason}"),
            other => panic!("LSM programs are refused here but the probe says {other}"),
        },
        shield_bpf::Support::Available => {
            let active = kernel.active_lsms.as_deref().is_none_or(|l| l.split(',').any(|x| x.trim() == "bpf"));
            assert_eq!(backends.bpf_lsm.is_available(), active, "{}", backends.bpf_lsm);
        }
    }
}
