//! The kernel feature probe.

use shield_bpf::{Stage, Support, probe_kernel};

#[test]
fn the_probe_gives_a_definite_answer_for_every_feature() {
    let features = probe_kernel();
    for (name, support) in features.entries() {
        match support {
            Support::Available => {}
            Support::Refused { stage, errno, message } => {
                assert!(!message.is_empty(), "{name}: refused without a message");
                // A refusal by the kernel carries its errno; only BTF and object failures may not.
                if matches!(stage, Stage::Load | Stage::Attach) {
                    assert!(errno.is_some(), "{name}: refused at {stage:?} without an errno: {message}");
                }
            }
        }
    }
    // The detection programs of this crate need these; the other tests rely on them.
    assert!(features.detection_supported(), "{features}");
    assert!(features.raw_tracepoint.is_available(), "{features}");
    // The text names every feature and its answer.
    let text = features.to_string();
    for (name, support) in features.entries() {
        assert!(text.contains(&format!("{name}: {support}")), "{text}");
    }
    // Probing again gives the same answers: nothing is left attached or half-loaded.
    assert_eq!(probe_kernel(), features);
}

#[test]
fn refused_program_types_report_the_kernel_error() {
    let features = probe_kernel();
    for (name, support) in [("fentry", &features.fentry), ("lsm", &features.lsm)] {
        if let Support::Refused { stage, errno: Some(errno), message } = support {
            let expected = std::io::Error::from_raw_os_error(*errno).to_string();
            assert!(message.contains(&expected), "{name}: {message} does not say {expected}");
            assert_ne!(*stage, Stage::Object, "{name}: the probe object itself must load");
        }
    }
}

#[test]
fn the_programs_load_with_room_to_spare_under_the_verifier_limit() {
    for hooks in [shield_bpf::SyscallHooks::PerSyscall, shield_bpf::SyscallHooks::Raw] {
        programs_load_with_room_to_spare(hooks);
    }
}

fn programs_load_with_room_to_spare(hooks: shield_bpf::SyscallHooks) {
    let probes = crate::support::load_with(hooks);
    let counts = probes.verified_instructions();
    let names: Vec<_> = counts.iter().map(|(name, _)| *name).collect();
    let entry = match hooks {
        shield_bpf::SyscallHooks::PerSyscall => "shield_tp_enter",
        shield_bpf::SyscallHooks::Raw => "shield_sys_enter",
    };
    assert_eq!(names, ["shield_exec", "shield_exit", entry, "shield_sys_exit"]);
    for (name, count) in counts {
        let count = count.unwrap_or_else(|| panic!("{name}: the kernel reports no verified instruction count"));
        // The limit is 1,000,000; a program near it would fail on a stricter kernel.
        assert!(count > 0 && count < 250_000, "{name}: {count} instructions verified");
    }
    let timings = probes.timings();
    assert!(timings.load > std::time::Duration::ZERO && timings.attach > std::time::Duration::ZERO);
}
