//! The compact binary encoding of records inside the database file.
//!
//! Integers are little-endian; lengths and counts are LEB128 varints; strings are a length
//! and UTF-8 bytes; optional values are a `0`/`1` byte then the value. Encoders destructure
//! the model types completely, so a field added to the model is a compile error here rather
//! than silently dropped data.
//!
//! Decoding never trusts the input: every read is bounds-checked, every length is checked
//! against the bytes that remain before anything is allocated, and every string is
//! validated as UTF-8. A malformed record is an error, never a panic.

use crate::model::{Affected, Cvss, Range, RangeKind, Status, Vulnerability};

/// Why a record could not be decoded. The caller adds the file path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DecodeError(pub(crate) &'static str);

pub(crate) type DecodeResult<T> = Result<T, DecodeError>;

/// Appends encoded values to a byte buffer.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    pub(crate) buf: Vec<u8>,
}

impl Writer {
    pub(crate) fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    pub(crate) fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    pub(crate) fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    pub(crate) fn varint(&mut self, mut v: u64) {
        loop {
            let low = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                self.buf.push(low);
                return;
            }
            self.buf.push(low | 0x80);
        }
    }

    pub(crate) fn str(&mut self, s: &str) {
        self.varint(s.len() as u64);
        self.buf.extend_from_slice(s.as_bytes());
    }

    fn opt_str(&mut self, s: Option<&str>) {
        match s {
            None => self.u8(0),
            Some(s) => {
                self.u8(1);
                self.str(s);
            }
        }
    }

    fn str_list(&mut self, list: &[String]) {
        self.varint(list.len() as u64);
        for s in list {
            self.str(s);
        }
    }
}

/// Reads encoded values from a byte slice, refusing anything out of bounds.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    /// Bytes not read yet.
    pub(crate) fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    pub(crate) fn bytes(&mut self, n: usize) -> DecodeResult<&'a [u8]> {
        let end = self.pos.checked_add(n).ok_or(DecodeError("length overflows"))?;
        let out = self.buf.get(self.pos..end).ok_or(DecodeError("record runs past its end"))?;
        self.pos = end;
        Ok(out)
    }

    pub(crate) fn u8(&mut self) -> DecodeResult<u8> {
        let b = self.bytes(1)?;
        b.first().copied().ok_or(DecodeError("record runs past its end"))
    }

    pub(crate) fn u32(&mut self) -> DecodeResult<u32> {
        let b: [u8; 4] = self.bytes(4)?.try_into().map_err(|_| DecodeError("short u32"))?;
        Ok(u32::from_le_bytes(b))
    }

    pub(crate) fn u64(&mut self) -> DecodeResult<u64> {
        let b: [u8; 8] = self.bytes(8)?.try_into().map_err(|_| DecodeError("short u64"))?;
        Ok(u64::from_le_bytes(b))
    }

    pub(crate) fn varint(&mut self) -> DecodeResult<u64> {
        let mut value: u64 = 0;
        for shift in (0..64).step_by(7) {
            let byte = self.u8()?;
            let part = u64::from(byte & 0x7f);
            // The tenth byte may only carry the single top bit.
            if shift == 63 && part > 1 {
                return Err(DecodeError("varint overflows 64 bits"));
            }
            value |= part << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(DecodeError("varint overflows 64 bits"))
    }

    /// A count of items that each take at least one byte: never more than the bytes left,
    /// so that allocating `count` slots is bounded by the input's size.
    fn count(&mut self) -> DecodeResult<usize> {
        let n = self.varint()?;
        let n = usize::try_from(n).map_err(|_| DecodeError("count too large"))?;
        if n > self.remaining() {
            return Err(DecodeError("count larger than the record"));
        }
        Ok(n)
    }

    pub(crate) fn str(&mut self) -> DecodeResult<&'a str> {
        let len = self.count()?;
        let bytes = self.bytes(len)?;
        std::str::from_utf8(bytes).map_err(|_| DecodeError("string is not UTF-8"))
    }

    fn string(&mut self) -> DecodeResult<String> {
        self.str().map(str::to_owned)
    }

    fn opt_string(&mut self) -> DecodeResult<Option<String>> {
        match self.u8()? {
            0 => Ok(None),
            1 => self.string().map(Some),
            _ => Err(DecodeError("bad option flag")),
        }
    }

    fn string_list(&mut self) -> DecodeResult<Vec<String>> {
        let n = self.count()?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(self.string()?);
        }
        Ok(out)
    }
}

fn status_code(s: Status) -> u8 {
    match s {
        Status::Fixed => 0,
        Status::Affected => 1,
        Status::WillNotFix => 2,
        Status::NoDsa => 3,
        Status::Postponed => 4,
        Status::EndOfLife => 5,
        Status::NotAffected => 6,
        Status::Unimportant => 7,
    }
}

fn status_from(code: u8) -> DecodeResult<Status> {
    Ok(match code {
        0 => Status::Fixed,
        1 => Status::Affected,
        2 => Status::WillNotFix,
        3 => Status::NoDsa,
        4 => Status::Postponed,
        5 => Status::EndOfLife,
        6 => Status::NotAffected,
        7 => Status::Unimportant,
        _ => return Err(DecodeError("unknown status code")),
    })
}

fn kind_code(k: RangeKind) -> u8 {
    match k {
        RangeKind::Ecosystem => 0,
        RangeKind::Semver => 1,
        RangeKind::Git => 2,
    }
}

fn kind_from(code: u8) -> DecodeResult<RangeKind> {
    Ok(match code {
        0 => RangeKind::Ecosystem,
        1 => RangeKind::Semver,
        2 => RangeKind::Git,
        _ => return Err(DecodeError("unknown range kind")),
    })
}

/// Encodes one affected record without its ecosystem and package, which the index
/// entry of its group holds once for all of them.
pub(crate) fn encode_affected(w: &mut Writer, a: &Affected) {
    let Affected {
        vulnerability,
        ecosystem: _,
        package: _,
        status,
        ranges,
        versions,
        fixed_version,
        distro_urgency,
        advisories,
        note,
    } = a;
    w.str(vulnerability);
    w.u8(status_code(*status));
    w.varint(ranges.len() as u64);
    for r in ranges {
        let Range { kind, introduced, fixed, last_affected } = r;
        w.u8(kind_code(*kind));
        w.opt_str(introduced.as_deref());
        w.opt_str(fixed.as_deref());
        w.opt_str(last_affected.as_deref());
    }
    w.str_list(versions);
    w.opt_str(fixed_version.as_deref());
    w.opt_str(distro_urgency.as_deref());
    w.str_list(advisories);
    w.opt_str(note.as_deref());
}

/// Decodes one affected record of the group `(ecosystem, package)`.
pub(crate) fn decode_affected(r: &mut Reader<'_>, ecosystem: &str, package: &str) -> DecodeResult<Affected> {
    let vulnerability = r.string()?;
    let status = status_from(r.u8()?)?;
    let n = r.count()?;
    let mut ranges = Vec::with_capacity(n);
    for _ in 0..n {
        ranges.push(Range {
            kind: kind_from(r.u8()?)?,
            introduced: r.opt_string()?,
            fixed: r.opt_string()?,
            last_affected: r.opt_string()?,
        });
    }
    Ok(Affected {
        vulnerability,
        ecosystem: ecosystem.to_owned(),
        package: package.to_owned(),
        status,
        ranges,
        versions: r.string_list()?,
        fixed_version: r.opt_string()?,
        distro_urgency: r.opt_string()?,
        advisories: r.string_list()?,
        note: r.opt_string()?,
    })
}

/// Encodes one vulnerability record, its id included.
pub(crate) fn encode_vulnerability(w: &mut Writer, v: &Vulnerability) {
    let Vulnerability { id, aliases, summary, description, published, modified, cvss, severity, references, withdrawn } =
        v;
    w.str(id);
    w.str_list(aliases);
    w.opt_str(summary.as_deref());
    w.opt_str(description.as_deref());
    w.opt_str(published.as_deref());
    w.opt_str(modified.as_deref());
    w.varint(cvss.len() as u64);
    for c in cvss {
        let Cvss { version, vector, base_score, source } = c;
        w.str(version);
        w.str(vector);
        w.u64(base_score.to_bits());
        w.str(source);
    }
    w.opt_str(severity.as_deref());
    w.str_list(references);
    w.u8(u8::from(*withdrawn));
}

/// Decodes one vulnerability record.
pub(crate) fn decode_vulnerability(r: &mut Reader<'_>) -> DecodeResult<Vulnerability> {
    let id = r.string()?;
    let aliases = r.string_list()?;
    let summary = r.opt_string()?;
    let description = r.opt_string()?;
    let published = r.opt_string()?;
    let modified = r.opt_string()?;
    let n = r.count()?;
    let mut cvss = Vec::with_capacity(n);
    for _ in 0..n {
        cvss.push(Cvss {
            version: r.string()?,
            vector: r.string()?,
            base_score: f64::from_bits(r.u64()?),
            source: r.string()?,
        });
    }
    let severity = r.opt_string()?;
    let references = r.string_list()?;
    let withdrawn = match r.u8()? {
        0 => false,
        1 => true,
        _ => return Err(DecodeError("bad withdrawn flag")),
    };
    Ok(Vulnerability { id, aliases, summary, description, published, modified, cvss, severity, references, withdrawn })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_affected() -> Affected {
        Affected {
            vulnerability: "CVE-2024-1".into(),
            ecosystem: "debian:12".into(),
            package: "openssl".into(),
            status: Status::NoDsa,
            ranges: vec![Range {
                kind: RangeKind::Ecosystem,
                introduced: Some("0".into()),
                fixed: Some("3.0.11-1~deb12u2".into()),
                last_affected: None,
            }],
            versions: vec!["1.0".into(), "1.1".into()],
            fixed_version: Some("3.0.11-1~deb12u2".into()),
            distro_urgency: Some("low".into()),
            advisories: vec!["DSA-1-1".into()],
            note: Some("minor issue".into()),
        }
    }

    #[test]
    fn varint_round_trips_edges() {
        for v in [0u64, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX] {
            let mut w = Writer::default();
            w.varint(v);
            let mut r = Reader::new(&w.buf);
            assert_eq!(r.varint(), Ok(v));
            assert_eq!(r.remaining(), 0);
        }
    }

    #[test]
    fn varint_refuses_overlong_input() {
        let bytes = [0xffu8; 11];
        assert!(Reader::new(&bytes).varint().is_err());
    }

    #[test]
    fn affected_round_trips() {
        let a = sample_affected();
        let mut w = Writer::default();
        encode_affected(&mut w, &a);
        let got = decode_affected(&mut Reader::new(&w.buf), "debian:12", "openssl").unwrap();
        assert_eq!(got, a);
    }

    #[test]
    fn every_truncation_of_a_record_is_an_error() {
        let mut w = Writer::default();
        encode_affected(&mut w, &sample_affected());
        for cut in 0..w.buf.len() {
            let slice = w.buf.get(..cut).unwrap();
            assert!(decode_affected(&mut Reader::new(slice), "e", "p").is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn huge_declared_counts_are_refused_before_allocating() {
        // vulnerability "" then status 0 then a range count of u64::MAX.
        let mut w = Writer::default();
        w.str("");
        w.u8(0);
        w.varint(u64::MAX);
        assert_eq!(
            decode_affected(&mut Reader::new(&w.buf), "e", "p"),
            Err(DecodeError("count larger than the record"))
        );
    }

    #[test]
    fn vulnerability_round_trips() {
        let v = Vulnerability {
            id: "GHSA-aaaa-bbbb-cccc".into(),
            aliases: vec!["CVE-2024-2".into()],
            summary: Some("s".into()),
            description: Some("d é".into()),
            published: Some("2024-01-01T00:00:00Z".into()),
            modified: None,
            cvss: vec![Cvss {
                version: "3.1".into(),
                vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".into(),
                base_score: 9.8,
                source: "nvd@nist.gov".into(),
            }],
            severity: None,
            references: vec!["https://example.invalid/a".into()],
            withdrawn: true,
        };
        let mut w = Writer::default();
        encode_vulnerability(&mut w, &v);
        assert_eq!(decode_vulnerability(&mut Reader::new(&w.buf)), Ok(v));
    }
}
