//! A report packed for keeping and for crossing a process boundary: JSON, zstd, base64.
//! Unpacking is bounded, so a hostile or corrupt packed report cannot take the reader's
//! memory.

use std::io::Read;

use base64::Engine as _;

use crate::Report;

/// Largest unpacked report read back.
pub const MAX_UNPACKED_BYTES: u64 = 512 << 20;

pub fn pack(report: &Report) -> Result<String, String> {
    let json = serde_json::to_vec(report).map_err(|e| format!("encoding the report: {e}"))?;
    let packed = zstd::bulk::compress(&json, 3).map_err(|e| format!("compressing the report: {e}"))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(packed))
}

pub fn unpack(text: &str) -> Result<Report, String> {
    unpack_at_most(text, MAX_UNPACKED_BYTES)
}

/// [`unpack`] with another bound.
pub fn unpack_at_most(text: &str, max: u64) -> Result<Report, String> {
    let packed =
        base64::engine::general_purpose::STANDARD.decode(text).map_err(|e| format!("the report is not base64: {e}"))?;
    let mut json = Vec::new();
    zstd::stream::Decoder::new(packed.as_slice())
        .map_err(|e| format!("the report: {e}"))?
        .take(max + 1)
        .read_to_end(&mut json)
        .map_err(|e| format!("the report is not zstd: {e}"))?;
    if json.len() as u64 > max {
        return Err(format!("the report unpacks to more than {max} bytes"));
    }
    serde_json::from_slice(&json).map_err(|e| format!("the report is not valid: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_round_trips_and_garbage_is_an_error() {
        let mut report = Report { schema_version: 1, ..Default::default() };
        report.image.reference = "docker:x".into();
        assert_eq!(unpack(&pack(&report).unwrap()).unwrap(), report);
        assert!(unpack("not base64!").is_err());
        assert!(unpack("aGVsbG8=").is_err());
        let bomb = zstd::bulk::compress(&vec![b' '; 4 << 20], 3).unwrap();
        let bomb = base64::engine::general_purpose::STANDARD.encode(bomb);
        assert!(bomb.len() < 4096);
        assert!(unpack_at_most(&bomb, 1 << 20).unwrap_err().contains("more than"));
    }
}
