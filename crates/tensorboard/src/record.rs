//! TFRecord framing: how event files delimit and checksum their records.
//!
//! An event file is a sequence of records, each laid out as
//!
//! | bytes      | content                                             |
//! |------------|-----------------------------------------------------|
//! | 8          | payload length `n`, unsigned little-endian           |
//! | 4          | masked CRC-32C of those 8 length bytes, little-endian |
//! | `n`        | payload (a serialized `Event`)                       |
//! | 4          | masked CRC-32C of the payload, little-endian          |
//!
//! The length has its own checksum so that a reader can trust it before allocating or seeking
//! `n` bytes; a flipped bit in the length would otherwise send it far past the record.

use std::path::Path;

use crate::TbError;

/// Bytes of framing before the payload: length plus its checksum.
const HEADER_LEN: usize = 8 + 4;
/// Bytes of framing after the payload: its checksum.
const FOOTER_LEN: usize = 4;

/// Rotates and offsets a CRC-32C the way TFRecord files store it.
///
/// TensorFlow masks stored checksums because computing the CRC of data that itself embeds CRCs
/// (a record inside a record) is degenerate; rotating and adding a constant breaks that.
pub fn masked_crc32c(data: &[u8]) -> u32 {
    mask_crc(crc32c::crc32c(data))
}

/// Applies the TFRecord mask to an unmasked CRC-32C value.
pub fn mask_crc(crc: u32) -> u32 {
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

/// Frames `payload` as one record and appends it to `out`.
pub fn encode_record(payload: &[u8], out: &mut Vec<u8>) {
    out.reserve(HEADER_LEN + payload.len() + FOOTER_LEN);
    // usize is at most 64 bits on every target Rust supports, so this widening is lossless.
    let len = (payload.len() as u64).to_le_bytes();
    out.extend_from_slice(&len);
    out.extend_from_slice(&masked_crc32c(&len).to_le_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(&masked_crc32c(payload).to_le_bytes());
}

/// Reads every record of an event file, checking both checksums of each.
///
/// Returns the payloads in file order. A record that is cut short or whose length or payload
/// fails its checksum yields [`TbError::Corrupt`] carrying the byte offset where that record
/// starts. Unlike TensorBoard, which treats a truncated last record as "not written yet", this
/// is strict: it is meant for tests and checks of files that should be complete.
pub fn read_records(path: impl AsRef<Path>) -> Result<Vec<Vec<u8>>, TbError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| TbError::io(path, e))?;
    parse_records(&bytes).map_err(|(offset, reason)| TbError::Corrupt {
        path: path.to_path_buf(),
        offset: offset as u64,
        reason,
    })
}

/// What [`cut_incomplete_tail`] did to a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Repair {
    /// Every record was complete; the file is unchanged.
    Intact,
    /// The file ended inside a record, which was cut off; this many bytes remain.
    Cut(u64),
    /// Not even one record was complete; the file was removed.
    Removed,
}

/// Cuts off a record that a writer killed mid-write left incomplete at the end of an event
/// file, so that the file reads cleanly again.
///
/// Only a truncated last record is removed: a checksum mismatch anywhere is real corruption
/// and is reported as [`TbError::Corrupt`], leaving the file as it is. A file without one
/// complete record (killed before its first flush) is removed.
pub fn cut_incomplete_tail(path: impl AsRef<Path>) -> Result<Repair, TbError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| TbError::io(path, e))?;
    match parse_records(&bytes) {
        Ok(_) => Ok(Repair::Intact),
        Err((0, reason)) if reason.starts_with("truncated") => {
            std::fs::remove_file(path).map_err(|e| TbError::io(path, e))?;
            Ok(Repair::Removed)
        }
        Err((offset, reason)) if reason.starts_with("truncated") => {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(|e| TbError::io(path, e))?;
            file.set_len(offset as u64)
                .and_then(|()| file.sync_all())
                .map_err(|e| TbError::io(path, e))?;
            Ok(Repair::Cut(offset as u64))
        }
        Err((offset, reason)) => Err(TbError::Corrupt {
            path: path.to_path_buf(),
            offset: offset as u64,
            reason,
        }),
    }
}

/// Splits `bytes` into record payloads, or says at which offset and why it cannot.
fn parse_records(bytes: &[u8]) -> Result<Vec<Vec<u8>>, (usize, String)> {
    let mut records = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        let start = pos;
        let rest = &bytes[pos..];
        if rest.len() < HEADER_LEN {
            return Err((
                start,
                format!("truncated header: {} of {HEADER_LEN} bytes", rest.len()),
            ));
        }
        let (len_bytes, tail) = rest.split_at(8);
        let stored = read_u32(&tail[..4]);
        let computed = masked_crc32c(len_bytes);
        if stored != computed {
            return Err((
                start,
                format!(
                    "length checksum mismatch (stored {stored:#010x}, computed {computed:#010x})"
                ),
            ));
        }
        let mut len_array = [0u8; 8];
        len_array.copy_from_slice(len_bytes);
        let len = u64::from_le_bytes(len_array);
        let available = rest.len() - HEADER_LEN;
        // Compare in u64 so that a length beyond usize (on 32-bit targets) cannot wrap.
        if len > (available.saturating_sub(FOOTER_LEN)) as u64 || available < FOOTER_LEN {
            return Err((
                start,
                format!(
                    "truncated record: needs {len} payload bytes + {FOOTER_LEN} checksum bytes, \
                     {available} remain"
                ),
            ));
        }
        let len = len as usize;
        let payload = &rest[HEADER_LEN..HEADER_LEN + len];
        let stored = read_u32(&rest[HEADER_LEN + len..HEADER_LEN + len + FOOTER_LEN]);
        let computed = masked_crc32c(payload);
        if stored != computed {
            return Err((
                start,
                format!(
                    "payload checksum mismatch (stored {stored:#010x}, computed {computed:#010x})"
                ),
            ));
        }
        records.push(payload.to_vec());
        pos = start + HEADER_LEN + len + FOOTER_LEN;
    }
    Ok(records)
}

/// Decodes a little-endian u32 from exactly four bytes.
fn read_u32(bytes: &[u8]) -> u32 {
    let mut array = [0u8; 4];
    array.copy_from_slice(bytes);
    u32::from_le_bytes(array)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_accepts_empty_input() {
        assert_eq!(parse_records(&[]), Ok(vec![]));
    }

    #[test]
    fn parse_round_trips_several_records() {
        let mut bytes = Vec::new();
        encode_record(b"", &mut bytes);
        encode_record(b"abc", &mut bytes);
        encode_record(&[7u8; 300], &mut bytes);
        let records = parse_records(&bytes).expect("valid records");
        assert_eq!(records, vec![b"".to_vec(), b"abc".to_vec(), vec![7u8; 300]]);
    }

    #[test]
    fn parse_reports_truncation_at_record_start() {
        let mut bytes = Vec::new();
        encode_record(b"first", &mut bytes);
        let second = bytes.len();
        encode_record(b"second", &mut bytes);
        for cut in second + 1..bytes.len() {
            let (offset, reason) = parse_records(&bytes[..cut]).expect_err("truncated");
            assert_eq!(offset, second, "cut at {cut}: {reason}");
            assert!(reason.contains("truncated"), "{reason}");
        }
    }

    #[test]
    fn parse_rejects_a_length_beyond_the_file() {
        // A huge length with a correct checksum must be reported, not allocated.
        let len = u64::MAX.to_le_bytes();
        let mut bytes = len.to_vec();
        bytes.extend_from_slice(&masked_crc32c(&len).to_le_bytes());
        bytes.extend_from_slice(&[0u8; 8]);
        let (offset, reason) = parse_records(&bytes).expect_err("impossible length");
        assert_eq!(offset, 0);
        assert!(reason.contains("truncated record"), "{reason}");
    }

    #[test]
    fn an_incomplete_last_record_is_cut_and_a_file_without_records_removed() {
        let dir = std::env::temp_dir().join(format!("retort-tb-cut-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("events");
        let mut bytes = Vec::new();
        encode_record(b"first", &mut bytes);
        encode_record(b"second", &mut bytes);
        let whole = bytes.len() as u64;
        // 12 + 5 + 4 bytes for "first", then 12 + 6 + 4 for "second".
        assert_eq!(whole, 21 + 22);
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(cut_incomplete_tail(&path).unwrap(), Repair::Intact);

        // Killed while writing the second record: 10 of its 22 bytes reached the file.
        std::fs::write(&path, &bytes[..31]).unwrap();
        assert_eq!(cut_incomplete_tail(&path).unwrap(), Repair::Cut(21));
        assert_eq!(read_records(&path).unwrap(), vec![b"first".to_vec()]);

        // A flipped payload bit is corruption, not truncation: reported, file untouched.
        let mut flipped = bytes.clone();
        flipped[14] ^= 1;
        std::fs::write(&path, &flipped).unwrap();
        assert!(matches!(
            cut_incomplete_tail(&path),
            Err(TbError::Corrupt { offset: 0, .. })
        ));
        assert_eq!(std::fs::read(&path).unwrap(), flipped);

        std::fs::write(&path, &bytes[..7]).unwrap();
        assert_eq!(cut_incomplete_tail(&path).unwrap(), Repair::Removed);
        assert!(!path.exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
