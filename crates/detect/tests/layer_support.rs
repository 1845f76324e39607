//! Layers the tests write themselves.

/// A layer tar of (path, content) regular files, mode 0644; a path ending in `.wh.NAME`
/// is a whiteout.
pub fn layer(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, content) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        builder.append_data(&mut header, path.trim_start_matches('/'), *content).unwrap();
    }
    builder.into_inner().unwrap()
}
