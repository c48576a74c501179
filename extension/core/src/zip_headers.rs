//! A zip names each entry twice: in the central directory at the end, which the server's unzipper
//! (and iOS's) reads, and in the local header before the entry's data, which streaming unzippers
//! (Android's `ZipInputStream`) read instead. An archive whose two descriptions differ unpacks to
//! different files depending on who reads it, so the server checks every local header against its
//! central entry, and refuses entries named twice (one reader keeps the first, another the last).
//!
//! Only the fields that change what an entry unpacks to are compared: the name, the compression
//! method, the flags for encryption, data descriptors and (for non-ASCII names) UTF-8 names, the
//! CRC-32 and both sizes (in the data descriptor after the data, when there is one). And the
//! entries must follow each other with nothing between them, from the start of the zip to the
//! central directory: a streaming unzipper would read unlisted bytes there as entries of their own.

use std::collections::HashSet;
use std::io::{Read, Seek, SeekFrom};

use crate::archive::ArchiveError;

const CENTRAL_SIGNATURE: u32 = 0x0201_4b50;
const LOCAL_SIGNATURE: u32 = 0x0403_4b50;
const DESCRIPTOR_SIGNATURE: u32 = 0x0807_4b50;
const CENTRAL_FIXED_LEN: usize = 46;
const LOCAL_FIXED_LEN: usize = 30;
/// A 32-bit size or offset of this value is in the ZIP64 extra field instead.
const ZIP64_MARK: u32 = 0xFFFF_FFFF;
const ZIP64_EXTRA_ID: u16 = 0x0001;

const FLAG_ENCRYPTED: u16 = 0x0001;
const FLAG_DATA_DESCRIPTOR: u16 = 0x0008;
const FLAG_STRONG_ENCRYPTION: u16 = 0x0040;
const FLAG_UTF8: u16 = 0x0800;

/// One entry as the central directory describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CentralEntry {
    /// The name's bytes, as stored.
    pub name: Vec<u8>,
    pub flags: u16,
    pub method: u16,
    pub crc32: u32,
    pub compressed_size: u64,
    pub size: u64,
    /// Where its local header starts, from the start of the file.
    pub header_offset: u64,
}

impl CentralEntry {
    fn display_name(&self) -> String {
        String::from_utf8_lossy(&self.name).into_owned()
    }
}

/// The central directory's entries (starting at `directory_start`; entry offsets count from
/// `archive_offset`, the length of anything prepended to the zip), each checked against its local
/// header; no name twice.
pub fn checked_entries<R: Read + Seek>(
    reader: &mut R,
    directory_start: u64,
    archive_offset: u64,
) -> Result<Vec<CentralEntry>, ArchiveError> {
    let entries = central_entries(reader, directory_start, archive_offset)?;
    let mut seen = HashSet::with_capacity(entries.len());
    for entry in &entries {
        if !seen.insert(entry.name.as_slice()) {
            return Err(ArchiveError::DuplicatePath(entry.display_name()));
        }
    }
    let mut extents = Vec::with_capacity(entries.len());
    for entry in &entries {
        extents.push((entry.header_offset, check_local_header(reader, entry)?, entry));
    }
    extents.sort_by_key(|(start, _, _)| *start);
    let mut expected_start = archive_offset;
    for (start, end, entry) in extents {
        if start != expected_start {
            return Err(ArchiveError::NotAZip(format!(
                "entry {:?} does not start where the one before it ends",
                entry.display_name()
            )));
        }
        expected_start = end;
    }
    if expected_start != directory_start {
        return Err(ArchiveError::NotAZip("unlisted bytes before the central directory".into()));
    }
    Ok(entries)
}

fn truncated(what: &str) -> ArchiveError {
    ArchiveError::NotAZip(format!("truncated {what}"))
}

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

fn read_exact<R: Read>(reader: &mut R, length: usize, what: &str) -> Result<Vec<u8>, ArchiveError> {
    let mut bytes = vec![0; length];
    reader.read_exact(&mut bytes).map_err(|_| truncated(what))?;
    Ok(bytes)
}

/// Every central directory header from `directory_start` on, until something else begins.
fn central_entries<R: Read + Seek>(
    reader: &mut R,
    directory_start: u64,
    archive_offset: u64,
) -> Result<Vec<CentralEntry>, ArchiveError> {
    reader.seek(SeekFrom::Start(directory_start)).map_err(|_| truncated("central directory"))?;
    let mut entries = Vec::new();
    loop {
        let mut fixed = [0u8; CENTRAL_FIXED_LEN];
        if reader.read_exact(&mut fixed[..4]).is_err() || u32_at(&fixed, 0) != CENTRAL_SIGNATURE {
            return Ok(entries);
        }
        reader.read_exact(&mut fixed[4..]).map_err(|_| truncated("central directory"))?;
        let name = read_exact(reader, usize::from(u16_at(&fixed, 28)), "central directory")?;
        let extra = read_exact(reader, usize::from(u16_at(&fixed, 30)), "central directory")?;
        reader
            .seek(SeekFrom::Current(i64::from(u16_at(&fixed, 32))))
            .map_err(|_| truncated("central directory"))?;
        // In the ZIP64 field, only the values marked in the fixed part, in this order.
        let mut zip64 = Zip64Values::new(&extra);
        let size = zip64.resolve(u32_at(&fixed, 24))?;
        let compressed_size = zip64.resolve(u32_at(&fixed, 20))?;
        let relative_offset = zip64.resolve(u32_at(&fixed, 42))?;
        let header_offset = relative_offset
            .checked_add(archive_offset)
            .ok_or_else(|| ArchiveError::NotAZip("a local header offset overflows".into()))?;
        entries.push(CentralEntry {
            name,
            flags: u16_at(&fixed, 8),
            method: u16_at(&fixed, 10),
            crc32: u32_at(&fixed, 16),
            compressed_size,
            size,
            header_offset,
        });
    }
}

/// The 64-bit values of a ZIP64 extra field, taken in order for each 32-bit field marked
/// `ZIP64_MARK`.
struct Zip64Values {
    values: Vec<u64>,
    next: usize,
}

impl Zip64Values {
    fn new(extra: &[u8]) -> Zip64Values {
        let mut values = Vec::new();
        let mut rest = extra;
        while rest.len() >= 4 {
            let (id, length) = (u16_at(rest, 0), usize::from(u16_at(rest, 2)));
            let body = &rest[4..rest.len().min(4 + length)];
            if id == ZIP64_EXTRA_ID {
                values = body
                    .chunks_exact(8)
                    .map(|v| u64::from_le_bytes([v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]]))
                    .collect();
            }
            rest = &rest[rest.len().min(4 + length)..];
        }
        Zip64Values { values, next: 0 }
    }

    fn present(&self) -> bool {
        !self.values.is_empty()
    }

    fn resolve(&mut self, value: u32) -> Result<u64, ArchiveError> {
        if value != ZIP64_MARK {
            return Ok(u64::from(value));
        }
        let resolved = self.values.get(self.next).copied();
        self.next += 1;
        resolved.ok_or_else(|| ArchiveError::NotAZip("a ZIP64 value is missing".into()))
    }
}

/// The local header of `entry` (and its data descriptor) says what its central entry says.
/// Answers where the entry ends: after its data and data descriptor.
fn check_local_header<R: Read + Seek>(reader: &mut R, entry: &CentralEntry) -> Result<u64, ArchiveError> {
    let missing = || ArchiveError::NotAZip(format!("entry {:?} has no local header", entry.display_name()));
    let mut fixed = [0u8; LOCAL_FIXED_LEN];
    reader.seek(SeekFrom::Start(entry.header_offset)).map_err(|_| missing())?;
    reader.read_exact(&mut fixed).map_err(|_| missing())?;
    if u32_at(&fixed, 0) != LOCAL_SIGNATURE {
        return Err(missing());
    }
    let name = read_exact(reader, usize::from(u16_at(&fixed, 26)), "local header")?;
    let extra = read_exact(reader, usize::from(u16_at(&fixed, 28)), "local header")?;
    let differs = |field: &'static str| ArchiveError::HeaderMismatch { name: entry.display_name(), field };
    if name != entry.name {
        return Err(differs("name"));
    }
    if u16_at(&fixed, 8) != entry.method {
        return Err(differs("compression method"));
    }
    let mut meaningful = FLAG_ENCRYPTED | FLAG_DATA_DESCRIPTOR | FLAG_STRONG_ENCRYPTION;
    if !entry.name.is_ascii() {
        meaningful |= FLAG_UTF8;
    }
    let flags = u16_at(&fixed, 6);
    if flags & meaningful != entry.flags & meaningful {
        return Err(differs("flags"));
    }
    // A local ZIP64 field holds both sizes, uncompressed first, when either is marked.
    let mut zip64 = Zip64Values::new(&extra);
    let (crc32, size, compressed_size) = (u32_at(&fixed, 14), u32_at(&fixed, 22), u32_at(&fixed, 18));
    let (size, compressed_size) = if size == ZIP64_MARK || compressed_size == ZIP64_MARK {
        (zip64.resolve(ZIP64_MARK)?, zip64.resolve(ZIP64_MARK)?)
    } else {
        (u64::from(size), u64::from(compressed_size))
    };
    // With a data descriptor the local header may leave them zero, to be given after the data.
    let deferred = flags & FLAG_DATA_DESCRIPTOR != 0;
    let agrees = |local: u64, central: u64| local == central || (deferred && local == 0);
    if !agrees(u64::from(crc32), u64::from(entry.crc32)) {
        return Err(differs("CRC-32"));
    }
    if !agrees(size, entry.size) || !agrees(compressed_size, entry.compressed_size) {
        return Err(differs("size"));
    }
    let header_length = (LOCAL_FIXED_LEN + name.len() + extra.len()) as u64;
    let data_end = entry
        .header_offset
        .checked_add(header_length)
        .and_then(|start| start.checked_add(entry.compressed_size))
        .ok_or_else(|| ArchiveError::NotAZip("an entry ends past any file".into()))?;
    if !deferred {
        return Ok(data_end);
    }
    Ok(data_end + check_descriptor(reader, data_end, entry, zip64.present())?)
}

/// The data descriptor at `at` (optional signature, CRC-32, both sizes, 64-bit with ZIP64) says
/// what the central entry says. Answers its length.
fn check_descriptor<R: Read + Seek>(
    reader: &mut R,
    at: u64,
    entry: &CentralEntry,
    zip64: bool,
) -> Result<u64, ArchiveError> {
    let sizes_length = if zip64 { 16 } else { 8 };
    let mut bytes = [0u8; 4 + 4 + 16];
    reader.seek(SeekFrom::Start(at)).map_err(|_| truncated("data descriptor"))?;
    reader.read_exact(&mut bytes[..8 + sizes_length]).map_err(|_| truncated("data descriptor"))?;
    let signed = u32_at(&bytes, 0) == DESCRIPTOR_SIGNATURE;
    let body = if signed { &bytes[4..] } else { &bytes[..] };
    let (compressed_size, size) = if zip64 {
        let u64_at = |at: usize| u64::from(u32_at(body, at)) | (u64::from(u32_at(body, at + 4)) << 32);
        (u64_at(4), u64_at(12))
    } else {
        (u64::from(u32_at(body, 4)), u64::from(u32_at(body, 8)))
    };
    if u32_at(body, 0) != entry.crc32 || compressed_size != entry.compressed_size || size != entry.size {
        return Err(ArchiveError::HeaderMismatch { name: entry.display_name(), field: "data descriptor" });
    }
    Ok(if signed { 4 } else { 0 } + 4 + sizes_length as u64)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests: a failed step should fail loudly")]
mod tests {
    use std::io::Cursor;

    use super::*;

    /// An entry of a hand-made zip: what its central entry says, and how its local header differs.
    #[derive(Clone)]
    struct Entry {
        central_name: &'static str,
        local_name: &'static str,
        data: &'static [u8],
        flags: u16,
        local_flags: u16,
        local_method: u16,
        local_size: Option<u32>,
        /// A data descriptor after the data (with the local sizes zero): its CRC-32 and sizes.
        descriptor: Option<(u32, u32)>,
        /// Bytes the central directory does not list, before the local header.
        unlisted_before: Vec<u8>,
    }

    fn entry(name: &'static str, data: &'static [u8]) -> Entry {
        Entry {
            central_name: name,
            local_name: name,
            data,
            flags: 0,
            local_flags: 0,
            local_method: 0,
            local_size: None,
            descriptor: None,
            unlisted_before: Vec::new(),
        }
    }

    /// `entry` with a data descriptor, as streaming zip writers make them.
    fn streamed(name: &'static str, data: &'static [u8]) -> Entry {
        let size = data.len() as u32;
        Entry {
            flags: 8,
            local_flags: 8,
            local_size: Some(0),
            descriptor: Some((crc(size), size)),
            ..entry(name, data)
        }
    }

    /// A stand-in CRC-32: these checks compare headers, they do not inflate.
    fn crc(size: u32) -> u32 {
        size.wrapping_mul(2_654_435_761)
    }

    /// A stored (uncompressed) zip written by hand, byte by byte, as the format describes.
    fn zip(entries: &[Entry]) -> (Vec<u8>, u64) {
        let mut out = Vec::new();
        let mut central = Vec::new();
        for e in entries {
            out.extend_from_slice(&e.unlisted_before);
            let offset = out.len() as u32;
            let size = e.data.len() as u32;
            let crc = crc(size);
            out.extend_from_slice(&LOCAL_SIGNATURE.to_le_bytes());
            out.extend_from_slice(&20u16.to_le_bytes());
            out.extend_from_slice(&e.local_flags.to_le_bytes());
            out.extend_from_slice(&e.local_method.to_le_bytes());
            out.extend_from_slice(&[0; 4]); // time, date
            let local_crc = if e.descriptor.is_some() { 0 } else { crc };
            out.extend_from_slice(&local_crc.to_le_bytes());
            out.extend_from_slice(&e.local_size.unwrap_or(size).to_le_bytes());
            out.extend_from_slice(&e.local_size.unwrap_or(size).to_le_bytes());
            out.extend_from_slice(&(e.local_name.len() as u16).to_le_bytes());
            out.extend_from_slice(&0u16.to_le_bytes());
            out.extend_from_slice(e.local_name.as_bytes());
            out.extend_from_slice(e.data);
            if let Some((descriptor_crc, descriptor_size)) = e.descriptor {
                out.extend_from_slice(&DESCRIPTOR_SIGNATURE.to_le_bytes());
                out.extend_from_slice(&descriptor_crc.to_le_bytes());
                out.extend_from_slice(&descriptor_size.to_le_bytes());
                out.extend_from_slice(&descriptor_size.to_le_bytes());
            }

            central.extend_from_slice(&CENTRAL_SIGNATURE.to_le_bytes());
            central.extend_from_slice(&[20, 3, 20, 0]); // made by (unix), needed
            central.extend_from_slice(&e.flags.to_le_bytes());
            central.extend_from_slice(&0u16.to_le_bytes()); // stored
            central.extend_from_slice(&[0; 4]);
            central.extend_from_slice(&crc.to_le_bytes());
            central.extend_from_slice(&size.to_le_bytes());
            central.extend_from_slice(&size.to_le_bytes());
            central.extend_from_slice(&(e.central_name.len() as u16).to_le_bytes());
            central.extend_from_slice(&[0; 12]); // extra, comment, disk, attributes
            central.extend_from_slice(&offset.to_le_bytes());
            central.extend_from_slice(e.central_name.as_bytes());
        }
        let directory_start = out.len() as u64;
        out.extend_from_slice(&central);
        out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        out.extend_from_slice(&(central.len() as u32).to_le_bytes());
        out.extend_from_slice(&(directory_start as u32).to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        (out, directory_start)
    }

    fn check(entries: &[Entry]) -> Result<Vec<CentralEntry>, ArchiveError> {
        let (bytes, directory_start) = zip(entries);
        checked_entries(&mut Cursor::new(bytes), directory_start, 0)
    }

    #[test]
    fn agreeing_headers_pass() {
        let listed = check(&[entry("index.html", b"<html>"), entry("js/app.js", b"x")]).unwrap();
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[1].name, b"js/app.js");
        assert_eq!((listed[1].size, listed[1].header_offset), (1, 30 + 10 + 6));
        // With a data descriptor, the local header leaves CRC-32 and sizes zero.
        assert!(check(&[streamed("index.html", b"x"), streamed("a.js", b"abc")]).is_ok());
    }

    #[test]
    fn a_data_descriptor_must_agree_too() {
        let wrong = Entry { descriptor: Some((crc(3), 2)), ..streamed("a.js", b"abc") };
        let error = check(&[entry("index.html", b"x"), wrong]).unwrap_err();
        assert_eq!(error, ArchiveError::HeaderMismatch { name: "a.js".into(), field: "data descriptor" });
    }

    #[test]
    fn unlisted_bytes_between_entries_are_refused() {
        // A whole entry hidden from the central directory, which a streaming unzipper would unpack.
        let (mut hidden, _) = zip(&[entry("../x.js", b"evil")]);
        hidden.truncate(30 + 7 + 4); // its local header and data
        let smuggled = Entry { unlisted_before: hidden, ..entry("a.js", b"abc") };
        let error = check(&[entry("index.html", b"x"), smuggled]).unwrap_err();
        assert_eq!(error.code(), "invalid_archive");
        assert!(error.message().contains("a.js"), "{}", error.message());
    }

    #[test]
    fn a_local_name_other_than_the_central_one_is_refused() {
        let hidden = Entry { local_name: "../x.js", ..entry("aaaa.js", b"evil") };
        let error = check(&[entry("index.html", b"x"), hidden]).unwrap_err();
        assert_eq!(error, ArchiveError::HeaderMismatch { name: "aaaa.js".into(), field: "name" });
        assert_eq!(error.code(), "header_mismatch");
    }

    #[test]
    fn other_disagreements_are_refused() {
        let cases = [
            (Entry { local_method: 8, ..entry("a.js", b"abc") }, "compression method"),
            (Entry { local_flags: 1, ..entry("a.js", b"abc") }, "flags"),
            (Entry { local_size: Some(2), ..entry("a.js", b"abc") }, "size"),
            // Zero sizes only with a data descriptor.
            (Entry { local_size: Some(0), ..entry("a.js", b"abc") }, "size"),
        ];
        for (case, field) in cases {
            assert_eq!(
                check(&[case]).unwrap_err(),
                ArchiveError::HeaderMismatch { name: "a.js".into(), field },
                "{field}"
            );
        }
    }

    #[test]
    fn a_name_twice_is_refused() {
        let error = check(&[entry("index.html", b"one"), entry("index.html", b"two")]).unwrap_err();
        assert_eq!(error, ArchiveError::DuplicatePath("index.html".into()));
        assert_eq!(error.code(), "duplicate_path");
    }

    #[test]
    fn a_header_offset_to_nowhere_is_not_a_zip() {
        let (mut bytes, directory_start) = zip(&[entry("index.html", b"<html>")]);
        bytes[0] = b'X'; // the local header's signature
        let error = checked_entries(&mut Cursor::new(bytes), directory_start, 0).unwrap_err();
        assert_eq!(error.code(), "invalid_archive");
    }
}
