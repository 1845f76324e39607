//! Detections in images: malicious files (YARA-X rules and ClamAV-format hash signatures),
//! baseline checks (accounts, passwords, image configuration), and hard-coded secrets.
//!
//! Each detector is an [`image::LayerVisitor`] that sees file contents as the layers
//! stream past, plus a `finish` step that reads the final tree and the image config.
//!
//! Architecture invariant: no network I/O; a detector never fails a scan because of one
//! unreadable file, it records the problem and goes on.

pub mod baseline;
pub mod malware;
pub mod secrets;
