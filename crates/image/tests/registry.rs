//! The `registry:` source against a real distribution registry (Debian's
//! `docker-registry`), started by each test on a free loopback port: anonymous, basic
//! (htpasswd over TLS) and bearer-token pulls, Docker and OCI manifests, multi-platform
//! indexes, digests, corrupted storage and outages.

#[path = "registry/images.rs"]
mod images;
#[path = "registry/push.rs"]
mod push;
#[path = "registry/token.rs"]
mod token;

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::Arc;

use base64::Engine;
use image::source::{OpenOptions, SourceKind};
use image::{Error, FileEntry, FileKind, FileTree, Image, LayerRef, LayerVisitor, Limits, NoContent};

use images::{Compression, Flavor, Member, TestImage};
use push::Pusher;
use testkit::pki;
use testkit::registry as server;
use testkit::registry::{Auth, Registry, Tls};

const OS_RELEASE: &[u8] = b"ID=cguard-test\nVERSION_ID=1\n";
const TOOL_V1: &[u8] = b"#!/bin/sh\necho v1\n";
const TOOL_V2: &[u8] = b"#!/bin/sh\necho v2, a longer one\n";

/// Two layers: a base, and an update that replaces a file, deletes one and adds one.
fn app_layers(compression: [Compression; 2], media_types: [&str; 2]) -> Vec<images::Layer> {
    let base = images::layer(
        &[
            Member::Dir("etc"),
            Member::File("etc/os-release", OS_RELEASE, 0o644),
            Member::Dir("usr/bin"),
            Member::File("usr/bin/tool", TOOL_V1, 0o755),
            Member::File("tmp/remove-me", b"x", 0o644),
            Member::Symlink("bin", "usr/bin"),
        ],
        compression[0],
        media_types[0],
    );
    let update = images::layer(
        &[
            Member::File("usr/bin/tool", TOOL_V2, 0o755),
            Member::Whiteout("tmp/remove-me"),
            Member::File("etc/app.conf", b"key=value\n", 0o600),
        ],
        compression[1],
        media_types[1],
    );
    vec![base, update]
}

fn gzip_docker_image() -> TestImage {
    let t = images::DOCKER_LAYER_GZIP;
    images::image(app_layers([Compression::Gzip; 2], [t, t]), "amd64", Flavor::Docker)
}

/// Checks the merged tree of [`app_layers`].
fn check_app_tree(tree: &FileTree) {
    let os_release = tree.get("/etc/os-release").expect("/etc/os-release from the base layer");
    assert_eq!((os_release.kind, os_release.size, os_release.layer), (FileKind::Regular, OS_RELEASE.len() as u64, 0));
    let tool = tree.get("/usr/bin/tool").expect("/usr/bin/tool");
    assert_eq!((tool.layer, tool.size, tool.mode), (1, TOOL_V2.len() as u64, 0o755), "the update replaces the tool");
    assert!(tool.is_executable());
    assert!(tree.get("/tmp/remove-me").is_none(), "the whiteout deletes /tmp/remove-me");
    let conf = tree.get("/etc/app.conf").expect("/etc/app.conf from the update");
    assert_eq!((conf.mode, conf.layer), (0o600, 1));
    let bin = tree.get("/bin").expect("/bin symlink");
    assert_eq!((bin.kind, bin.link.as_deref()), (FileKind::Symlink, Some("usr/bin")));
    let (resolved, _) = tree.lookup("/bin/tool").expect("/bin/tool resolves through the symlink");
    assert_eq!(resolved, "/usr/bin/tool");
}

/// Collects the contents of the files it is told to want.
struct Collect {
    wanted: Vec<&'static str>,
    got: BTreeMap<String, Vec<u8>>,
}

impl LayerVisitor for Collect {
    fn wants(&mut self, path: &str, _: &FileEntry) -> bool {
        self.wanted.contains(&path)
    }
    fn visit(&mut self, path: &str, _: &FileEntry, content: &mut dyn Read) -> std::io::Result<()> {
        let mut bytes = Vec::new();
        content.read_to_end(&mut bytes)?;
        self.got.insert(path.to_owned(), bytes);
        Ok(())
    }
}

fn read_tree(image: &Image) -> FileTree {
    image.read(&Limits::default(), &mut NoContent).unwrap_or_else(|e| panic!("reading {}: {e}", image.reference)).tree
}

fn open(reference: &str, options: &OpenOptions) -> Image {
    Image::open(reference, options).unwrap_or_else(|e| panic!("opening {reference}: {e}"))
}

fn open_err(reference: &str, options: &OpenOptions) -> Error {
    match Image::open(reference, options) {
        Ok(image) => panic!("opening {reference} should fail, got {image:?}"),
        Err(e) => e,
    }
}

/// Options that read no Docker CLI config from the machine running the tests.
fn isolated_options(dir: &tempfile::TempDir) -> OpenOptions {
    OpenOptions { docker_config_dir: Some(dir.path().to_owned()), ..OpenOptions::default() }
}

fn expected_layers(image: &TestImage) -> Vec<LayerRef> {
    image
        .layers
        .iter()
        .map(|l| LayerRef {
            digest: Some(l.blob.digest.clone()),
            diff_id: Some(l.diff_id.clone()),
            size: Some(l.blob.bytes.len() as u64),
            media_type: Some(l.blob.media_type.clone()),
        })
        .collect()
}

#[test]
fn anonymous_pull_of_docker_schema2_image_with_gzip_layers() {
    let registry = Registry::start(Auth::None, None);
    let host = &registry.host;
    let test_image = gzip_docker_image();
    Pusher::new(&format!("http://{host}"), None, None).image("team/app", Some("1.0"), &test_image);
    let no_config = tempfile::tempdir().unwrap();
    let options = isolated_options(&no_config);

    let image = open(&format!("registry:{host}/team/app:1.0"), &options);
    assert_eq!(image.source, SourceKind::Registry);
    assert_eq!(image.id.as_deref(), Some(test_image.config.digest.as_str()));
    assert_eq!(image.manifest_digest.as_deref(), Some(test_image.manifest.digest.as_str()));
    assert_eq!(image.repo_tags, [format!("{host}/team/app:1.0")]);
    assert_eq!(image.repo_digests, [format!("{host}/team/app@{}", test_image.manifest.digest)]);
    assert_eq!(image.layers, expected_layers(&test_image));
    assert_eq!(image.config.platform(), "linux/amd64");
    assert_eq!(image.config.config.as_ref().and_then(|c| c.user.as_deref()), Some("app"));

    let mut visitor = Collect { wanted: vec!["/etc/os-release", "/usr/bin/tool"], got: BTreeMap::new() };
    let outcome = image.read(&Limits::default(), &mut visitor).unwrap();
    check_app_tree(&outcome.tree);
    assert_eq!(visitor.got.get("/etc/os-release").map(Vec::as_slice), Some(OS_RELEASE));
    // Both copies of the tool stream past; the later one is the visible one.
    assert_eq!(visitor.got.get("/usr/bin/tool").map(Vec::as_slice), Some(TOOL_V2));
    let stored: Vec<u64> = outcome.layers.iter().map(|s| s.stored_bytes).collect();
    let sizes: Vec<u64> = test_image.layers.iter().map(|l| l.blob.bytes.len() as u64).collect();
    assert_eq!(stored, sizes);

    // A bare reference, without the `registry:` prefix, is the same image.
    let bare = open(&format!("{host}/team/app:1.0"), &options);
    assert_eq!(bare.id, image.id);
    check_app_tree(&read_tree(&bare));
}

#[test]
fn oci_manifest_with_zstd_and_uncompressed_layers() {
    let registry = Registry::start(Auth::None, None);
    let host = &registry.host;
    let layers = app_layers([Compression::Zstd, Compression::None], [images::OCI_LAYER_ZSTD, images::OCI_LAYER]);
    let test_image = images::image(layers, "amd64", Flavor::Oci);
    Pusher::new(&format!("http://{host}"), None, None).image("oci/app", Some("v2"), &test_image);
    let no_config = tempfile::tempdir().unwrap();

    let image = open(&format!("{host}/oci/app:v2"), &isolated_options(&no_config));
    assert_eq!(image.layers, expected_layers(&test_image));
    assert_eq!(image.id.as_deref(), Some(test_image.config.digest.as_str()));
    assert_eq!(image.manifest_digest.as_deref(), Some(test_image.manifest.digest.as_str()));
    let outcome = image.read(&Limits::default(), &mut NoContent).unwrap();
    check_app_tree(&outcome.tree);
    let layer1 = &outcome.layers[1];
    assert_eq!(layer1.stored_bytes, layer1.tar_bytes, "the second layer is stored uncompressed");
    assert!(outcome.layers[0].stored_bytes < outcome.layers[0].tar_bytes, "the first layer is zstd");
}

fn arch_image(arch: &str, flavor: Flavor) -> TestImage {
    let (compression, media_type) = match flavor {
        Flavor::Docker => (Compression::Gzip, images::DOCKER_LAYER_GZIP),
        Flavor::Oci => (Compression::Gzip, images::OCI_LAYER_GZIP),
    };
    let arch_file = format!("built for {arch}\n");
    let layer = images::layer(
        &[Member::File("etc/arch", arch_file.as_bytes(), 0o644), Member::File("etc/os-release", OS_RELEASE, 0o644)],
        compression,
        media_type,
    );
    images::image(vec![layer], arch, flavor)
}

#[test]
fn index_and_manifest_list_select_the_platform() {
    let registry = Registry::start(Auth::None, None);
    let host = &registry.host;
    let pusher = Pusher::new(&format!("http://{host}"), None, None);
    let no_config = tempfile::tempdir().unwrap();
    for (flavor, repo) in [(Flavor::Oci, "multi/oci"), (Flavor::Docker, "multi/docker")] {
        let amd64 = arch_image("amd64", flavor);
        let arm64 = arch_image("arm64", flavor);
        pusher.image(repo, None, &amd64);
        pusher.image(repo, None, &arm64);
        let index = images::index(&[&amd64, &arm64], flavor);
        pusher.manifest(repo, "multi", &index);
        let reference = format!("{host}/{repo}:multi");

        let cases = [(None, &amd64), (Some("linux/arm64"), &arm64), (Some("linux/arm64/v8"), &arm64)];
        for (platform, expected) in cases {
            let options = OpenOptions { platform: platform.map(str::to_owned), ..isolated_options(&no_config) };
            let image = open(&reference, &options);
            assert_eq!(image.config.architecture.as_deref(), Some(expected.architecture.as_str()), "{platform:?}");
            assert_eq!(image.manifest_digest.as_deref(), Some(expected.manifest.digest.as_str()));
            assert_eq!(image.id.as_deref(), Some(expected.config.digest.as_str()));
            assert_eq!(image.repo_digests, [format!("{host}/{repo}@{}", index.digest)], "the index digest names it");
            let mut visitor = Collect { wanted: vec!["/etc/arch"], got: BTreeMap::new() };
            let outcome = image.read(&Limits::default(), &mut visitor).unwrap();
            assert!(outcome.tree.get("/etc/os-release").is_some());
            let arch_file = format!("built for {}\n", expected.architecture);
            assert_eq!(visitor.got.get("/etc/arch").map(Vec::as_slice), Some(arch_file.as_bytes()));
        }

        let options = OpenOptions { platform: Some("linux/s390x".into()), ..isolated_options(&no_config) };
        let err = open_err(&reference, &options);
        let text = err.to_string();
        assert!(matches!(err, Error::NotFound(_)), "{err:?}");
        assert!(text.contains("linux/s390x") && text.contains("linux/amd64, linux/arm64/v8"), "{text}");
    }
}

#[test]
fn pull_by_digest_and_unknown_manifests() {
    let registry = Registry::start(Auth::None, None);
    let host = &registry.host;
    let port = host.rsplit_once(':').unwrap().1;
    let test_image = gzip_docker_image();
    Pusher::new(&format!("http://{host}"), None, None).image("team/app", Some("1.0"), &test_image);
    let no_config = tempfile::tempdir().unwrap();
    let options = isolated_options(&no_config);
    let digest = &test_image.manifest.digest;

    // `localhost` is loopback too, so plain HTTP is found without configuration.
    let image = open(&format!("localhost:{port}/team/app@{digest}"), &options);
    assert!(image.repo_tags.is_empty(), "a digest reference names no tag: {:?}", image.repo_tags);
    assert_eq!(image.repo_digests, [format!("localhost:{port}/team/app@{digest}")]);
    assert_eq!(image.manifest_digest.as_deref(), Some(digest.as_str()));
    check_app_tree(&read_tree(&image));

    let pinned = open(&format!("registry:{host}/team/app:1.0@{digest}"), &options);
    assert_eq!(pinned.manifest_digest.as_deref(), Some(digest.as_str()));

    let absent = format!("sha256:{}", "0".repeat(64));
    let err = open_err(&format!("{host}/team/app@{absent}"), &options);
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    let err = open_err(&format!("{host}/team/app:2.0"), &options);
    let text = err.to_string();
    assert!(matches!(err, Error::NotFound(_)) && text.contains("MANIFEST_UNKNOWN"), "{text}");
    assert!(text.contains("manifest 2.0"), "{text}");
    let err = open_err(&format!("{host}/team/nothing:1.0"), &options);
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
}

/// Registry answers with HTTPS and htpasswd logins; the pusher logs in as alice.
struct BasicSetup {
    registry: Registry,
    tls: pki::ServerTls,
    _dir: tempfile::TempDir,
}

const ALICE_PASSWORD: &str = "s3cret-pass";

fn basic_setup() -> BasicSetup {
    let dir = tempfile::tempdir().unwrap();
    let tls = pki::server_tls(dir.path());
    let out = std::process::Command::new("htpasswd")
        .args(["-Bbn", "alice", ALICE_PASSWORD])
        .output()
        .unwrap_or_else(|e| panic!("cannot run htpasswd ({e}); install the Debian package `apache2-utils`"));
    assert!(out.status.success(), "htpasswd failed: {}", String::from_utf8_lossy(&out.stderr));
    let htpasswd = dir.path().join("htpasswd");
    std::fs::write(&htpasswd, out.stdout).unwrap();
    let registry = Registry::start(Auth::Htpasswd { file: &htpasswd }, Some(Tls { cert: &tls.cert, key: &tls.key }));
    BasicSetup { registry, tls, _dir: dir }
}

#[test]
fn htpasswd_basic_auth_over_tls() {
    let setup = basic_setup();
    let host = &setup.registry.host;
    let login = base64::engine::general_purpose::STANDARD.encode(format!("alice:{ALICE_PASSWORD}"));
    let test_image = gzip_docker_image();
    Pusher::new(&format!("https://{host}"), Some(&setup.tls.ca_cert), Some(format!("Basic {login}"))).image(
        "private/app",
        Some("1.0"),
        &test_image,
    );
    let reference = format!("{host}/private/app:1.0");
    let no_config = tempfile::tempdir().unwrap();
    let with_ca = OpenOptions { ca_file: Some(setup.tls.ca_cert.clone()), ..isolated_options(&no_config) };

    // Credentials from the options.
    let options =
        OpenOptions { username: Some("alice".into()), password: Some(ALICE_PASSWORD.into()), ..with_ca.clone() };
    let image = open(&reference, &options);
    assert_eq!(image.id.as_deref(), Some(test_image.config.digest.as_str()));
    check_app_tree(&read_tree(&image));

    // Credentials from a Docker CLI config.json.
    let config_dir = tempfile::tempdir().unwrap();
    let config = serde_json::json!({"auths": {host.as_str(): {"auth": login}}});
    std::fs::write(config_dir.path().join("config.json"), config.to_string()).unwrap();
    let options = OpenOptions { docker_config_dir: Some(config_dir.path().to_owned()), ..with_ca.clone() };
    let image = open(&reference, &options);
    check_app_tree(&read_tree(&image));

    // The `https://host` key with separate username and password works as well.
    let config =
        serde_json::json!({"auths": {format!("https://{host}"): {"username": "alice", "password": ALICE_PASSWORD}}});
    std::fs::write(config_dir.path().join("config.json"), config.to_string()).unwrap();
    assert_eq!(open(&reference, &options).id, image.id);

    // Wrong password: a 401 that names the user tried, never the password.
    let options =
        OpenOptions { username: Some("alice".into()), password: Some("wrong-pass".into()), ..with_ca.clone() };
    let err = open_err(&reference, &options);
    let text = err.to_string();
    assert!(matches!(err, Error::Registry { .. }), "{err:?}");
    assert!(text.contains("401") && text.contains("UNAUTHORIZED"), "{text}");
    assert!(text.contains("user \"alice\" from the open options"), "{text}");
    assert!(!text.contains("wrong-pass") && !format!("{err:?}").contains("wrong-pass"), "{text}");

    // No credentials at all.
    let text = open_err(&reference, &with_ca).to_string();
    assert!(text.contains("401") && text.contains("credentials tried: none"), "{text}");

    // Without the CA the registry's certificate is not trusted, and that is what the
    // error says.
    let options = OpenOptions {
        username: Some("alice".into()),
        password: Some(ALICE_PASSWORD.into()),
        ..isolated_options(&no_config)
    };
    let text = open_err(&reference, &options).to_string();
    assert!(text.contains("certificate") && text.contains("CA file"), "{text}");
}

#[test]
fn bearer_token_auth_through_a_token_server() {
    let dir = tempfile::tempdir().unwrap();
    let issuer = Arc::new(token::Issuer::new(pki::signing_key(dir.path())));
    let token_server = token::TokenServer::start(issuer.clone(), "bob", "tok-pass");
    let registry = Registry::start(
        Auth::Token {
            realm: &token_server.realm,
            service: token::SERVICE,
            issuer: token::ISSUER,
            root_cert: issuer.root_cert(),
        },
        None,
    );
    let host = &registry.host;
    let push_token = issuer.mint("pusher", "team/app", &["pull", "push"]);
    let test_image = gzip_docker_image();
    Pusher::new(&format!("http://{host}"), None, Some(format!("Bearer {push_token}"))).image(
        "team/app",
        Some("1.0"),
        &test_image,
    );
    let reference = format!("{host}/team/app:1.0");
    let no_config = tempfile::tempdir().unwrap();

    let options =
        OpenOptions { username: Some("bob".into()), password: Some("tok-pass".into()), ..isolated_options(&no_config) };
    let image = open(&reference, &options);
    assert_eq!(image.id.as_deref(), Some(test_image.config.digest.as_str()));
    check_app_tree(&read_tree(&image));
    let requests = token_server.requests();
    let expected = token::TokenRequest {
        user: Some("bob".into()),
        service: Some(token::SERVICE.into()),
        scope: Some("repository:team/app:pull".into()),
        granted: true,
    };
    assert!(requests.contains(&expected), "the client asks for a pull token as bob: {requests:?}");
    assert!(requests.iter().all(|r| r.user.as_deref() == Some("bob")), "{requests:?}");

    // The token server refuses a wrong password; the error says who was refused.
    let options =
        OpenOptions { username: Some("bob".into()), password: Some("bad-pass".into()), ..isolated_options(&no_config) };
    let err = open_err(&reference, &options);
    let text = err.to_string();
    let token_host = token_server.realm.trim_start_matches("http://").trim_end_matches("/token");
    assert!(text.contains(&format!("token server {token_host} refused")) && text.contains("401"), "{text}");
    assert!(text.contains("user \"bob\""), "{text}");
    assert!(!text.contains("bad-pass") && !format!("{err:?}").contains("bad-pass"), "{text}");

    // Anonymous clients get no token either.
    let text = open_err(&reference, &isolated_options(&no_config)).to_string();
    assert!(text.contains("refused") && text.contains("credentials tried: none"), "{text}");
}

/// Flips one byte of a file.
fn corrupt(path: &std::path::Path, offset: usize) {
    let mut bytes = std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    bytes[offset] ^= 0x20;
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn corrupted_blobs_in_registry_storage_are_digest_mismatches() {
    let registry = Registry::start(Auth::None, None);
    let host = &registry.host;
    let pusher = Pusher::new(&format!("http://{host}"), None, None);
    let no_config = tempfile::tempdir().unwrap();
    let options = isolated_options(&no_config);
    let uncompressed = |text: &'static [u8], arch: &str| {
        let layer = images::layer(&[Member::File("data.txt", text, 0o644)], Compression::None, images::OCI_LAYER);
        images::image(vec![layer], arch, Flavor::Oci)
    };

    // A layer blob: still a valid tar after the change, so only the digests notice.
    let layer_victim = uncompressed(b"hello layer\n", "amd64");
    pusher.image("corrupt/layer", Some("1"), &layer_victim);
    corrupt(&registry.blob_file(&layer_victim.layers[0].blob.digest), 512);
    let image = open(&format!("{host}/corrupt/layer:1"), &options);
    match image.read(&Limits::default(), &mut NoContent) {
        Err(Error::DigestMismatch { what, expected, .. }) => {
            assert!(what.contains("layer 0"), "{what}");
            assert!(expected == layer_victim.layers[0].diff_id || expected == layer_victim.layers[0].blob.digest);
        }
        other => panic!("a corrupted layer must be a digest mismatch, got {other:?}"),
    }

    // The config blob.
    let config_victim = uncompressed(b"hello config\n", "amd64");
    pusher.image("corrupt/config", Some("1"), &config_victim);
    corrupt(&registry.blob_file(&config_victim.config.digest), 1);
    match Image::open(&format!("{host}/corrupt/config:1"), &options) {
        Err(Error::DigestMismatch { what, expected, .. }) => {
            assert!(what.contains("config"), "{what}");
            assert_eq!(expected, config_victim.config.digest);
        }
        other => panic!("a corrupted config must be a digest mismatch, got {other:?}"),
    }

    // The manifest: a space of its indentation becomes a tab, so that it stays JSON.
    let manifest_victim = uncompressed(b"hello manifest\n", "arm64");
    pusher.image("corrupt/manifest", Some("1"), &manifest_victim);
    let indent = manifest_victim.manifest.bytes.windows(2).position(|w| w == b"  ").unwrap();
    let manifest_file = registry.blob_file(&manifest_victim.manifest.digest);
    let mut bytes = std::fs::read(&manifest_file).unwrap();
    bytes[indent] = b'\t';
    std::fs::write(&manifest_file, bytes).unwrap();
    for reference in
        [format!("{host}/corrupt/manifest:1"), format!("{host}/corrupt/manifest@{}", manifest_victim.manifest.digest)]
    {
        match Image::open(&reference, &options) {
            Err(Error::DigestMismatch { what, expected, .. }) => {
                assert!(what.contains("manifest"), "{what}");
                assert_eq!(expected, manifest_victim.manifest.digest);
            }
            other => panic!("{reference}: a corrupted manifest must be a digest mismatch, got {other:?}"),
        }
    }
}

#[test]
fn unreachable_registry_is_a_clear_error() {
    let port = server::free_port();
    let no_config = tempfile::tempdir().unwrap();
    let err = open_err(&format!("127.0.0.1:{port}/team/app:1.0"), &isolated_options(&no_config));
    let text = err.to_string();
    assert!(text.starts_with(&format!("registry 127.0.0.1:{port} is not reachable: ")), "{text}");
    assert!(text.to_lowercase().contains("connection refused"), "{text}");

    // A registry that goes away between opening and reading.
    let mut registry = Registry::start(Auth::None, None);
    let host = registry.host.clone();
    let test_image = gzip_docker_image();
    Pusher::new(&format!("http://{host}"), None, None).image("team/app", Some("1.0"), &test_image);
    let image = open(&format!("{host}/team/app:1.0"), &isolated_options(&no_config));
    registry.stop();
    let err = image.read(&Limits::default(), &mut NoContent).unwrap_err();
    assert!(err.to_string().contains(&format!("registry {host} is not reachable")), "{err}");
}
