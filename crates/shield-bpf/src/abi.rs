//! The binary interface shared with the C programs: constants and layouts of `bpf/shield.h`.
//!
//! The constants, struct sizes and field offsets come from `layout.rs`, which build.rs writes
//! by compiling and running `bpf/layout.c` against `shield.h`: the decoder reads every field
//! where the C compiler put it, and a change to the header cannot leave this side behind.

// Items of layout.rs that only the C side needs are kept for completeness.
#![allow(dead_code)]

include!(concat!(env!("OUT_DIR"), "/layout.rs"));

/// Bytes of a task's command name.
pub const COMM_LEN: usize = SHIELD_COMM_LEN;
/// Bytes of a path kept in an event and matched against the path rules (LPM trie key limit).
pub const PATH_LEN: usize = SHIELD_PATH_LEN;
/// Bytes of a name rule, NUL padding included: names are at most `NAME_LEN - 1` bytes.
pub const NAME_LEN: usize = SHIELD_NAME_LEN;
/// Bytes of the executed program's argument area kept in an exec event.
pub const ARGS_LEN: usize = SHIELD_ARGS_LEN;
/// Bytes of the executed file's dentry name kept in an exec event.
pub const EXE_NAME_LEN: usize = SHIELD_EXE_NAME_LEN;
/// Bytes of the string argument of a syscall event.
pub const STR_LEN: usize = SHIELD_STR_LEN;

/// Map names in the object (C variable names).
pub(crate) mod maps {
    pub const EVENTS: &str = "events";
    pub const COUNTERS: &str = "counters";
    pub const SETTINGS: &str = "settings";
    pub const SYSCALL_RULES: &str = "syscall_rules";
    pub const PATH_RULES: &str = "path_rules";
    pub const NAME_RULES: &str = "name_rules";
    pub const WATCHED_CGROUPS: &str = "watched_cgroups";
    pub const READ_CGROUPS: &str = "read_cgroups";
    pub const READ_RULES: &str = "read_rules";
}

/// Little-endian field reads that check bounds: decoding never indexes out of range.
pub(crate) struct Fields<'a> {
    bytes: &'a [u8],
}

impl<'a> Fields<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes }
    }

    pub(crate) fn bytes(&self, offset: usize, len: usize) -> Option<&'a [u8]> {
        self.bytes.get(offset..offset.checked_add(len)?)
    }

    fn array<const N: usize>(&self, offset: usize) -> Option<[u8; N]> {
        self.bytes(offset, N)?.try_into().ok()
    }

    pub(crate) fn u32(&self, offset: usize) -> Option<u32> {
        self.array(offset).map(u32::from_le_bytes)
    }

    pub(crate) fn i32(&self, offset: usize) -> Option<i32> {
        self.array(offset).map(i32::from_le_bytes)
    }

    pub(crate) fn u64(&self, offset: usize) -> Option<u64> {
        self.array(offset).map(u64::from_le_bytes)
    }

    pub(crate) fn i64(&self, offset: usize) -> Option<i64> {
        self.array(offset).map(i64::from_le_bytes)
    }

    /// `len` bytes at `offset`, clamped to `max` (a length field the kernel wrote).
    pub(crate) fn counted(&self, offset: usize, len: u32, max: usize) -> Option<&'a [u8]> {
        let len = usize::try_from(len).unwrap_or(usize::MAX).min(max);
        self.bytes(offset, len)
    }

    /// A NUL-terminated string in a fixed field of `max` bytes (without the NUL).
    pub(crate) fn c_string(&self, offset: usize, max: usize) -> Option<&'a [u8]> {
        let field = self.bytes(offset, max)?;
        let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
        Some(&field[..end])
    }
}

/// The `struct shield_config` value of the `settings` map.
pub(crate) fn encode_config(flags: u32, open_write_mask: u32, args_max: u32, ignore_tgid: u32) -> [u8; size::CONFIG] {
    let mut out = [0u8; size::CONFIG];
    for (at, value) in [
        (offset::CONFIG_FLAGS, flags),
        (offset::CONFIG_OPEN_WRITE_MASK, open_write_mask),
        (offset::CONFIG_ARGS_MAX, args_max),
        (offset::CONFIG_IGNORE_TGID, ignore_tgid),
    ] {
        out[at..at + 4].copy_from_slice(&value.to_le_bytes());
    }
    out
}

/// The `struct path_rule` value of the path and name rule maps.
pub(crate) fn encode_path_rule(kind: u32, rule_id: u32) -> [u8; size::PATH_RULE] {
    let mut out = [0u8; size::PATH_RULE];
    out[offset::PATH_RULE_KIND..offset::PATH_RULE_KIND + 4].copy_from_slice(&kind.to_le_bytes());
    out[offset::PATH_RULE_ID..offset::PATH_RULE_ID + 4].copy_from_slice(&rule_id.to_le_bytes());
    out
}

/// The fields of a `struct syscall_rule` (all one byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SyscallRule {
    pub kind: u8,
    pub op: u8,
    pub path_arg: u8,
    pub path2_arg: u8,
    pub flags_arg: u8,
    pub flags_kind: u8,
    pub dirfd_arg: u8,
    pub dirfd2_arg: u8,
}

impl SyscallRule {
    pub(crate) fn encode(&self) -> [u8; size::SYSCALL_RULE] {
        let mut out = [0u8; size::SYSCALL_RULE];
        for (at, value) in [
            (offset::RULE_KIND, self.kind),
            (offset::RULE_OP, self.op),
            (offset::RULE_PATH_ARG, self.path_arg),
            (offset::RULE_PATH2_ARG, self.path2_arg),
            (offset::RULE_FLAGS_ARG, self.flags_arg),
            (offset::RULE_FLAGS_KIND, self.flags_kind),
            (offset::RULE_DIRFD_ARG, self.dirfd_arg),
            (offset::RULE_DIRFD2_ARG, self.dirfd2_arg),
        ] {
            out[at] = value;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_layout_is_the_one_the_decoder_expects() {
        // Each struct ends where its last array ends, with no padding the decoder would miss.
        assert_eq!(offset::COMM + COMM_LEN, size::HEADER);
        assert_eq!(offset::EXEC_ARGS + ARGS_LEN, size::EXEC);
        assert_eq!(offset::SYSCALL_STR + STR_LEN, size::SYSCALL);
        assert_eq!(offset::FILE_PATH2 + PATH_LEN, size::FILE);
        assert_eq!(offset::RESULT_RET + 8, size::RESULT);
        assert_eq!(size::PATH_KEY, 4 + PATH_LEN);
        // Every event starts with the header.
        for event in [size::EXEC, size::EXIT, size::SYSCALL, size::FILE, size::RESULT] {
            assert!(event > size::HEADER);
        }
    }

    #[test]
    fn fields_refuse_reads_past_the_end() {
        let fields = Fields::new(&[1, 0, 0, 0, 2]);
        assert_eq!(fields.u32(0), Some(1));
        assert_eq!(fields.u32(1), Some(0x0200_0000));
        assert_eq!(fields.u32(2), None);
        assert_eq!(fields.u64(0), None);
        assert_eq!(fields.bytes(usize::MAX, 2), None);
        assert_eq!(fields.counted(0, u32::MAX, 3), Some(&[1u8, 0, 0][..]));
        assert_eq!(fields.c_string(0, 5), Some(&[1u8][..]));
        assert_eq!(fields.c_string(0, 6), None);
    }

    #[test]
    fn config_encoding_is_little_endian_at_the_field_offsets() {
        let bytes = encode_config(0x0102_0304, 2, 3, 4);
        assert_eq!(&bytes[offset::CONFIG_FLAGS..offset::CONFIG_FLAGS + 4], &[4, 3, 2, 1]);
        assert_eq!(bytes[offset::CONFIG_OPEN_WRITE_MASK], 2);
        assert_eq!(bytes[offset::CONFIG_ARGS_MAX], 3);
        assert_eq!(bytes[offset::CONFIG_IGNORE_TGID], 4);
    }
}
