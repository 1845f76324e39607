//! `/proc/PID/mountinfo` parsing (proc(5)): the mounts a process sees, with their ids.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;

use crate::error::EnforceError;

/// One mount as a process sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// Mount id: the same number `statx(STATX_MNT_ID)` reports for files on it.
    pub id: u64,
    pub parent_id: u64,
    /// Mount point, relative to the process's root directory.
    pub mount_point: PathBuf,
    /// Per-mount options (`rw`, `noexec`, ...).
    pub options: Vec<String>,
    pub fs_type: String,
}

impl Mount {
    /// Whether files on this mount cannot be executed at all (`noexec`).
    pub fn noexec(&self) -> bool {
        self.options.iter().any(|o| o == "noexec")
    }
}

/// Parses the text of a mountinfo file. Malformed lines are errors, never panics.
pub fn parse(text: &str) -> Result<Vec<Mount>, EnforceError> {
    text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()).map(|(i, l)| parse_line(i + 1, l)).collect()
}

fn parse_line(line: usize, text: &str) -> Result<Mount, EnforceError> {
    let err = |reason| EnforceError::MountInfo { line, reason };
    let mut fields = text.split(' ');
    let id = fields.next().and_then(|f| f.parse().ok()).ok_or(err("bad mount id"))?;
    let parent_id = fields.next().and_then(|f| f.parse().ok()).ok_or(err("bad parent id"))?;
    let _dev = fields.next().ok_or(err("missing device"))?;
    let _root = fields.next().ok_or(err("missing root"))?;
    let mount_point = fields.next().ok_or(err("missing mount point"))?;
    let options = fields.next().ok_or(err("missing options"))?;
    // Optional fields end with a lone "-".
    loop {
        match fields.next() {
            Some("-") => break,
            Some(_) => continue,
            None => return Err(err("missing separator")),
        }
    }
    let fs_type = fields.next().ok_or(err("missing filesystem type"))?;
    if !mount_point.starts_with('/') {
        return Err(err("mount point is not absolute"));
    }
    Ok(Mount {
        id,
        parent_id,
        mount_point: PathBuf::from(OsString::from_vec(unescape(mount_point))),
        options: options.split(',').map(str::to_owned).collect(),
        fs_type: String::from_utf8_lossy(&unescape(fs_type)).into_owned(),
    })
}

/// Undoes the kernel's octal escapes (`\040` for a space, `\011`, `\012`, `\134`).
fn unescape(field: &str) -> Vec<u8> {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && bytes.len() - i >= 4 {
            let digits = &bytes[i + 1..i + 4];
            if digits.iter().all(|d| (b'0'..=b'7').contains(d)) {
                let value = digits.iter().fold(0u32, |acc, d| acc * 8 + u32::from(d - b'0'));
                if let Ok(byte) = u8::try_from(value) {
                    out.push(byte);
                    i += 4;
                    continue;
                }
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
1046 869 0:98 / / rw,relatime master:511 - overlay overlay rw,lowerdir=/a:/b,upperdir=/u,workdir=/w
1047 1046 0:101 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw
1053 1046 254:1 /srv/with\\040space /data\\040dir ro,relatime - ext4 /dev/vda1 rw
";

    #[test]
    fn parses_ids_mount_points_options_and_escapes() {
        let mounts = parse(SAMPLE).unwrap();
        assert_eq!(mounts.len(), 3);
        assert_eq!(mounts[0].id, 1046);
        assert_eq!(mounts[0].parent_id, 869);
        assert_eq!(mounts[0].mount_point, PathBuf::from("/"));
        assert_eq!(mounts[0].fs_type, "overlay");
        assert!(!mounts[0].noexec());
        assert!(mounts[1].noexec());
        assert_eq!(mounts[2].mount_point, PathBuf::from("/data dir"));
        assert_eq!(mounts[2].options, vec!["ro", "relatime"]);
    }

    #[test]
    fn malformed_lines_are_errors() {
        assert!(parse("x 1 0:1 / / rw - ext4 a rw").is_err());
        assert!(parse("1 1 0:1 / / rw shared:1").is_err());
        assert!(parse("1 1 0:1 / relative rw - ext4 a rw").is_err());
        assert!(parse("1 1").is_err());
    }

    proptest::proptest! {
        #[test]
        fn never_panics(text in "\\PC*") {
            let _ = parse(&text);
        }

        #[test]
        fn never_panics_on_escapes(text in "[0-9 /\\\\a-]{0,80}") {
            let _ = parse(&text);
        }
    }
}
