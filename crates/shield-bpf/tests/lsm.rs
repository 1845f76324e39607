//! The BPF LSM backend: where the kernel refuses LSM programs (these machines: `EPERM` at
//! load), loading fails at the kernel's program load, names it, and leaves nothing behind;
//! where it accepts them, an exec outside the allow-list is refused. The programs' code is
//! put through the verifier as BTF tracepoints, which this kernel does load.

use std::fs;
use std::io::ErrorKind;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use aya::programs::BtfTracePoint;
use aya::{Btf, EbpfLoader};
use shield_bpf::lsm::{DEFAULT_LSM_RING_BUFFER_BYTES, DenialKind, LSM_MAPS, LSM_PROGRAMS, LsmHook, LsmStage};
use shield_bpf::{LsmEnforcer, Support, probe_kernel};

/// The tests below count the kernel's maps and programs by name: one at a time.
static KERNEL_OBJECTS: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    KERNEL_OBJECTS.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Our programs and maps loaded in the kernel right now (by any process), by name. The
/// kernel keeps 15 bytes of a name.
fn ours_in_kernel() -> (usize, usize) {
    let truncated = |name: &str| name.chars().take(15).collect::<String>();
    let programs: Vec<String> = LSM_PROGRAMS.iter().map(|(name, _)| truncated(name)).collect();
    let maps: Vec<String> = LSM_MAPS.iter().map(|name| truncated(name)).collect();
    let program_count = aya::programs::loaded_programs()
        .filter_map(Result::ok)
        .filter(|info| info.name_as_str().is_some_and(|name| programs.iter().any(|p| p == name)))
        .count();
    let map_count = aya::maps::loaded_maps()
        .filter_map(Result::ok)
        .filter(|info| info.name_as_str().is_some_and(|name| maps.iter().any(|m| m == name)))
        .count();
    (program_count, map_count)
}

/// Waits until our programs and maps are back to `baseline`: the kernel frees a map after
/// its last descriptor is closed, from a work queue.
fn assert_back_to(baseline: (usize, usize)) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = ours_in_kernel();
        if now == baseline {
            return;
        }
        assert!(Instant::now() < deadline, "programs and maps left in the kernel: {now:?}, before: {baseline:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn loading_fails_over_at_the_kernels_program_load_or_enforces() {
    let _serial = serial();
    let features = probe_kernel();
    match (LsmEnforcer::load(DEFAULT_LSM_RING_BUFFER_BYTES), &features.lsm) {
        (Err(refusal), Support::Refused { errno, .. }) => {
            // The object was parsed, relocated against this kernel's BTF and its maps created:
            // the first program reached BPF_PROG_LOAD, and the kernel refused it.
            assert_eq!(refusal.stage, LsmStage::Load, "{refusal}");
            assert_eq!(refusal.program, Some(LSM_PROGRAMS[0].0), "{refusal}");
            assert_eq!(refusal.errno, *errno, "the probe and the loader disagree: {refusal} / {features}");
            let errno = refusal.errno.expect("the kernel's errno");
            if std::io::Error::from_raw_os_error(errno).kind() == ErrorKind::PermissionDenied {
                assert!(refusal.is_permission_refusal());
                let text = refusal.to_string();
                assert!(text.contains("at load") && text.contains("EPERM") && text.contains("lsm="), "{text}");
            }
            // The kernel refused before verifying anything: no log to report.
            assert_eq!(refusal.verifier_log, None, "{refusal}");
        }
        (Ok(mut lsm), Support::Available) => an_exec_outside_the_allow_list_is_refused(&mut lsm),
        (result, support) => panic!("the loader ({result:?}) and the probe ({support}) disagree"),
    }
}

/// A cgroup v2 directory of our own, removed on drop.
struct TestCgroup(PathBuf);

impl Drop for TestCgroup {
    fn drop(&mut self) {
        let _ = fs::remove_dir(&self.0);
    }
}

fn file_id(path: &str) -> (u64, u64) {
    let meta = fs::metadata(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    (meta.dev(), meta.ino())
}

/// Only on a kernel that runs BPF LSM programs: a shell moves itself into a protected cgroup
/// whose allow-list holds only the shell, then execs `true`, which is refused and reported.
fn an_exec_outside_the_allow_list_is_refused(lsm: &mut LsmEnforcer) {
    let root = shield_bpf::cgroup2_mount().expect("a cgroup v2 mount");
    let cgroup = TestCgroup(root.join(format!("cguard-lsm-test-{}", std::process::id())));
    fs::create_dir(&cgroup.0).expect("create a cgroup");
    let cgroup_id = shield_bpf::cgroup_id(&cgroup.0).expect("cgroup id");
    let (sh, true_bin) = (file_id("/bin/sh"), file_id("/bin/true"));
    lsm.protect(cgroup_id, 1, Some(&[sh]), &[]).expect("protect");

    let procs = cgroup.0.join("cgroup.procs");
    let child = Command::new("/bin/sh")
        .arg("-c")
        .arg(format!("echo $$ > {} && exec /bin/true", procs.display()))
        .spawn()
        .expect("spawn sh");
    let pid = child.id();
    let output = child.wait_with_output().expect("wait");
    assert!(!output.status.success(), "exec of /bin/true was allowed");

    let deadline = Instant::now() + Duration::from_secs(10);
    let denial = loop {
        let denials = lsm.poll_denials(Duration::from_millis(100)).expect("poll");
        if let Some(denial) = denials.into_iter().find(|d| d.tgid == pid) {
            break denial;
        }
        assert!(Instant::now() < deadline, "no denial reported for pid {pid}");
    };
    assert_eq!((denial.kind, denial.hook), (DenialKind::Exec, LsmHook::BprmCheckSecurity));
    assert_eq!((denial.cgroup_id, denial.slot, denial.ino), (cgroup_id, 1, true_bin.1));
    assert_eq!(denial.dev.st_dev(), true_bin.0);
    assert!(lsm.counters().expect("counters").denied >= 1);
    lsm.release(cgroup_id).expect("release");
    assert!(lsm.protected_cgroups().is_empty());
}

#[test]
fn a_failed_or_dropped_enforcer_leaves_no_program_or_map_behind() {
    let _serial = serial();
    let baseline = ours_in_kernel();
    for _ in 0..3 {
        match LsmEnforcer::load(DEFAULT_LSM_RING_BUFFER_BYTES) {
            // Refused at program load: the maps were created before (EbpfLoader::load), so
            // they must have been closed with the half-loaded object.
            Err(refusal) => assert_eq!(refusal.stage, LsmStage::Load, "{refusal}"),
            Ok(lsm) => {
                let (programs, maps) = ours_in_kernel();
                assert_eq!(
                    (programs, maps),
                    (baseline.0 + LSM_PROGRAMS.len(), baseline.1 + LSM_MAPS.len()),
                    "loaded and attached"
                );
                drop(lsm);
            }
        }
        assert_back_to(baseline);
    }
}

/// Wraps `lsm.bpf.c` in BTF tracepoint programs that call the LSM programs' bodies
/// (`exec_verdict`, `open_verdict`, `check_write`, `rename_verdict`) with pointers of the
/// same types, taken from the current task, and with an unknown previous verdict. All reads
/// of kernel memory in those bodies go through CO-RE probe reads, so the verifier walks the
/// same instructions, helpers and map accesses as it would for the LSM programs.
const VERIFY_HARNESS: &str = r#"
#include "lsm.bpf.c"

static __always_inline int unknown_verdict(void)
{
	return (bpf_get_prandom_u32() & 1) ? -EPERM : 0;
}

static __always_inline struct file *current_exe(void)
{
	struct task_struct *task = bpf_get_current_task_btf();

	return BPF_CORE_READ(task, mm, exe_file);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(verify_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	return exec_verdict(bprm, unknown_verdict());
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(verify_open, struct task_struct *p)
{
	return open_verdict(current_exe(), unknown_verdict());
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(verify_path, struct task_struct *p)
{
	struct file *file = current_exe();
	struct path path = BPF_CORE_READ(file, f_path);
	int ret = check_write(path_inode(&path), LSM_HOOK_PATH_CHMOD, unknown_verdict());

	return check_write(dentry_inode(path.dentry), LSM_HOOK_PATH_UNLINK, ret);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(verify_rename, struct task_struct *p)
{
	struct dentry *dentry = BPF_CORE_READ(current_exe(), f_path.dentry);

	return rename_verdict(dentry, dentry, unknown_verdict());
}
"#;

fn tool(variable: &str, name: &str) -> PathBuf {
    std::env::var_os(variable).map(PathBuf::from).unwrap_or_else(|| PathBuf::from(name))
}

#[test]
fn the_lsm_programs_code_passes_the_verifier_as_btf_tracepoints() {
    let _serial = serial();
    let dir = tempfile::tempdir().expect("temp dir");
    let source = dir.path().join("harness.bpf.c");
    let object = dir.path().join("harness.bpf.o");
    fs::write(&source, VERIFY_HARNESS).expect("write harness");
    // The same flags as build.rs; vmlinux.h is in the build's OUT_DIR.
    let output = Command::new(tool("CLANG", "clang"))
        .args(["-target", "bpf", "-O2", "-g", "-D__TARGET_ARCH_x86", "-Wall", "-Werror", "-I"])
        .arg(env!("OUT_DIR"))
        .arg("-I")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("bpf"))
        .arg("-c")
        .arg(&source)
        .arg("-o")
        .arg(&object)
        .output()
        .expect("clang runs");
    assert!(output.status.success(), "compiling the harness: {}", String::from_utf8_lossy(&output.stderr));

    let btf = Btf::from_sys_fs().expect("kernel BTF");
    let bytes = fs::read(&object).expect("harness object");
    let mut ebpf = EbpfLoader::new().btf(Some(&btf)).load(&bytes).expect("the harness object parses and relocates");
    for name in ["verify_exec", "verify_open", "verify_path", "verify_rename"] {
        let program: &mut BtfTracePoint =
            ebpf.program_mut(name).expect(name).try_into().expect("a BTF tracepoint program");
        // Loaded only: never attached, so it never runs.
        program.load("sched_process_exec", &btf).unwrap_or_else(|e| panic!("{name}: the verifier refused it: {e}"));
        let count = program.info().expect("program info").verified_instruction_count();
        let count = count.unwrap_or_else(|| panic!("{name}: no verified instruction count"));
        // Straight-line code with an unrolled 8-level cgroup walk: small, far below the limit.
        assert!(count > 50 && count < 20_000, "{name}: {count} instructions verified");
    }
}
