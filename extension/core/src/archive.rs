//! What a bundle archive may contain, decided the way the plugin unpacks it (protocol.md §4.1):
//! `index.html` at the root or inside one top-level folder (which is flattened); entries with
//! absolute paths, `..` or backslashes are refused; `__MACOSX` and dotfiles are ignored. Also the
//! bounds that keep a zip bomb from exhausting the server. The zip's own structure is checked in
//! `zip_headers`.

use std::collections::HashSet;

use crate::integrity::is_bundle_path;

/// Files are worth a brotli variant (which the plugin decodes, protocol.md §4.2) from this size...
pub const BROTLI_MIN_SIZE: u64 = 512;

/// ...and the variant is kept when it saves more than 10 bytes, as Capgo's CLI decides.
pub fn brotli_pays(original_size: u64, compressed_size: u64) -> bool {
    original_size >= BROTLI_MIN_SIZE && compressed_size + 10 < original_size
}

/// Limits an uploaded archive must stay within.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// Entries in the archive, directories included.
    pub max_entries: usize,
    /// Sum of the files' uncompressed sizes.
    pub max_total_bytes: u64,
    /// Uncompressed / compressed size of one entry, above `ratio_applies_above` bytes.
    pub max_ratio: u64,
    pub ratio_applies_above: u64,
}

impl Default for Bounds {
    fn default() -> Bounds {
        Bounds {
            max_entries: 20_000,
            max_total_bytes: 2 * 1024 * 1024 * 1024,
            max_ratio: 200,
            ratio_applies_above: 1024 * 1024,
        }
    }
}

/// One entry as the archive declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryHeader {
    pub name: String,
    pub is_dir: bool,
    pub is_symlink: bool,
    pub compressed_size: u64,
    pub size: u64,
}

/// Why an archive is refused. Each has a stable code for the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArchiveError {
    NotAZip(String),
    UnsafePath(String),
    Symlink(String),
    DuplicatePath(String),
    NoIndexHtml,
    TooManyEntries(usize),
    TooLarge(u64),
    SuspiciousRatio(String),
    /// An entry failed to inflate, or inflated to other than its declared size or CRC-32, or
    /// its compressed stream ended before its compressed data did.
    CorruptEntry(String),
    /// An entry's local header says otherwise than its central directory entry
    /// (`zip_headers`): `field` is what differs.
    HeaderMismatch {
        name: String,
        field: &'static str,
    },
}

impl ArchiveError {
    pub fn code(&self) -> &'static str {
        match self {
            ArchiveError::NotAZip(_) => "invalid_archive",
            ArchiveError::UnsafePath(_) => "unsafe_path",
            ArchiveError::Symlink(_) => "symlink_in_archive",
            ArchiveError::DuplicatePath(_) => "duplicate_path",
            ArchiveError::NoIndexHtml => "missing_index_html",
            ArchiveError::TooManyEntries(_)
            | ArchiveError::TooLarge(_)
            | ArchiveError::SuspiciousRatio(_) => "archive_too_large",
            ArchiveError::CorruptEntry(_) => "invalid_archive",
            ArchiveError::HeaderMismatch { .. } => "header_mismatch",
        }
    }

    pub fn message(&self) -> String {
        match self {
            ArchiveError::NotAZip(why) => format!("the body is not a readable zip archive: {why}"),
            ArchiveError::UnsafePath(name) => {
                format!("entry {name:?} has an absolute path, a '..' segment or a backslash")
            }
            ArchiveError::Symlink(name) => format!("entry {name:?} is a symbolic link"),
            ArchiveError::DuplicatePath(path) => format!("two entries unpack to {path:?}"),
            ArchiveError::NoIndexHtml => {
                "no index.html at the root of the archive or of its single top-level folder".to_owned()
            }
            ArchiveError::TooManyEntries(max) => format!("the archive has more than {max} entries"),
            ArchiveError::TooLarge(max) => format!("the archive unpacks to more than {max} bytes"),
            ArchiveError::SuspiciousRatio(name) => format!("entry {name:?} compresses implausibly well"),
            ArchiveError::CorruptEntry(name) => format!(
                "entry {name:?} does not inflate, from exactly its compressed data, to its declared size and CRC-32"
            ),
            ArchiveError::HeaderMismatch { name, field } => {
                format!("entry {name:?}: its local header and the central directory differ in {field}")
            }
        }
    }
}

/// Where each file entry lands once unpacked: `(index in the archive, path in the bundle)`, in
/// archive order. Directories and ignored entries are left out.
pub fn plan(entries: &[EntryHeader], bounds: Bounds) -> Result<Vec<(usize, String)>, ArchiveError> {
    let kept = checked_files(entries, bounds)?;
    let prefix = root_prefix(&kept)?;
    // With a top-level folder, files outside it are not part of the bundle the plugin keeps.
    let flattened = kept
        .into_iter()
        .filter_map(|(index, name)| name.strip_prefix(&prefix).map(|target| (index, target.to_owned())));
    without_duplicates(flattened)
}

/// The files of an encrypted upload's transport archive (`bundle.zip` and `files/<path>`, built
/// by the CLI from a plan like the one above): the same name rules and bounds, but no layout
/// rule, as their contents are ciphertext.
pub fn plan_transport(entries: &[EntryHeader], bounds: Bounds) -> Result<Vec<(usize, String)>, ArchiveError> {
    without_duplicates(checked_files(entries, bounds)?.into_iter())
}

/// The file entries with safe names, within the bounds; directories and ignored entries dropped.
fn checked_files(entries: &[EntryHeader], bounds: Bounds) -> Result<Vec<(usize, String)>, ArchiveError> {
    if entries.len() > bounds.max_entries {
        return Err(ArchiveError::TooManyEntries(bounds.max_entries));
    }
    let mut total: u64 = 0;
    let mut kept = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        let name = entry.name.trim_end_matches('/');
        if entry.name.starts_with('/')
            || entry.name.contains('\\')
            || (!name.is_empty() && !is_bundle_path(name))
        {
            return Err(ArchiveError::UnsafePath(entry.name.clone()));
        }
        if entry.is_symlink {
            return Err(ArchiveError::Symlink(entry.name.clone()));
        }
        if entry.is_dir || name.is_empty() || is_ignored(name) {
            continue;
        }
        total = total.saturating_add(entry.size);
        if total > bounds.max_total_bytes {
            return Err(ArchiveError::TooLarge(bounds.max_total_bytes));
        }
        if entry.size > bounds.ratio_applies_above
            && entry.size / entry.compressed_size.max(1) > bounds.max_ratio
        {
            return Err(ArchiveError::SuspiciousRatio(entry.name.clone()));
        }
        kept.push((index, name.to_owned()));
    }
    Ok(kept)
}

fn without_duplicates(
    files: impl Iterator<Item = (usize, String)>,
) -> Result<Vec<(usize, String)>, ArchiveError> {
    let mut seen = HashSet::new();
    let mut planned = Vec::new();
    for (index, target) in files {
        if !seen.insert(target.clone()) {
            return Err(ArchiveError::DuplicatePath(target));
        }
        planned.push((index, target));
    }
    Ok(planned)
}

/// `__MACOSX` metadata and dotfiles (any segment starting with '.') are not unpacked.
fn is_ignored(name: &str) -> bool {
    name.split('/').any(|segment| segment == "__MACOSX" || segment.starts_with('.'))
}

/// "" when `index.html` is at the root, "<folder>/" when every file sits in one folder that has it.
fn root_prefix(files: &[(usize, String)]) -> Result<String, ArchiveError> {
    if files.iter().any(|(_, name)| name == "index.html") {
        return Ok(String::new());
    }
    let mut folders = files.iter().map(|(_, name)| name.split_once('/').map(|(top, _)| top));
    let Some(Some(top)) = folders.next() else { return Err(ArchiveError::NoIndexHtml) };
    let single_folder = folders.all(|folder| folder == Some(top));
    let prefix = format!("{top}/");
    if single_folder && files.iter().any(|(_, name)| name.strip_prefix(&prefix) == Some("index.html")) {
        Ok(prefix)
    } else {
        Err(ArchiveError::NoIndexHtml)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests: a failed step should fail loudly")]
mod tests {
    use super::*;

    fn file(name: &str) -> EntryHeader {
        EntryHeader { name: name.to_owned(), is_dir: false, is_symlink: false, compressed_size: 10, size: 20 }
    }

    fn targets(entries: &[EntryHeader]) -> Result<Vec<String>, ArchiveError> {
        plan(entries, Bounds::default()).map(|planned| planned.into_iter().map(|(_, path)| path).collect())
    }

    #[test]
    fn root_or_one_folder_is_flattened() {
        assert_eq!(targets(&[file("index.html"), file("js/app.js")]).unwrap(), ["index.html", "js/app.js"]);
        let folder = [
            EntryHeader { is_dir: true, ..file("dist/") },
            file("dist/index.html"),
            file("dist/a/b.css"),
            file("__MACOSX/dist/._index.html"),
            file("dist/.DS_Store"),
        ];
        assert_eq!(targets(&folder).unwrap(), ["index.html", "a/b.css"]);
        assert_eq!(targets(&[file("a/index.html"), file("b/x.js")]), Err(ArchiveError::NoIndexHtml));
        assert_eq!(targets(&[file("app.js")]), Err(ArchiveError::NoIndexHtml));
        assert_eq!(targets(&[]), Err(ArchiveError::NoIndexHtml));
    }

    #[test]
    fn unsafe_entries_are_refused() {
        for name in ["/etc/passwd", "../evil", "a/../../b", "a\\b", "a//b"] {
            let error = targets(&[file("index.html"), file(name)]).unwrap_err();
            assert_eq!(error.code(), "unsafe_path", "{name}");
        }
        let link = EntryHeader { is_symlink: true, ..file("link") };
        assert_eq!(targets(&[file("index.html"), link]).unwrap_err().code(), "symlink_in_archive");
        let twice = targets(&[file("index.html"), file("index.html")]).unwrap_err();
        assert_eq!(twice, ArchiveError::DuplicatePath("index.html".into()));
    }

    #[test]
    fn transport_archives_keep_every_safe_file() {
        let entries = [file("bundle.zip"), file("files/index.html"), file("files/js/app.js.br")];
        let planned = plan_transport(&entries, Bounds::default()).unwrap();
        assert_eq!(planned.len(), 3);
        assert_eq!(plan_transport(&[file("../x")], Bounds::default()).unwrap_err().code(), "unsafe_path");
    }

    #[test]
    fn bombs_are_bounded() {
        let bounds = Bounds { max_entries: 3, max_total_bytes: 100, max_ratio: 10, ratio_applies_above: 50 };
        let many = vec![file("index.html"); 4];
        assert_eq!(plan(&many, bounds), Err(ArchiveError::TooManyEntries(3)));
        let big = [file("index.html"), EntryHeader { size: 90, compressed_size: 90, ..file("big") }];
        assert_eq!(plan(&big, bounds), Err(ArchiveError::TooLarge(100)));
        let dense = [file("index.html"), EntryHeader { size: 60, compressed_size: 2, ..file("dense") }];
        assert_eq!(plan(&dense, bounds).unwrap_err().code(), "archive_too_large");
    }
}
