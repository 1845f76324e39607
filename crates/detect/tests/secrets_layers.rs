//! The secret scanner over several layers and over the image config: secrets deleted by
//! a later layer are still reported (and marked removed), unmodified package conffiles
//! are not, binaries, OS trees, vendored code and oversized files are not read, and ENV,
//! labels and build steps are scanned with their index and layer.

use std::collections::BTreeMap;

use detect::secrets::{self, Options, Origin, Scanner, SecretFinding};
use image::config::{History, RunConfig};
use image::{Expected, FileTree, ImageConfig, Limits, apply_layer};

use crate::layer_support::layer;

fn scan_layers(layers: &[Vec<u8>], options: Options) -> Vec<SecretFinding> {
    let mut tree = FileTree::new();
    let mut scanner = Scanner::new(options);
    for (i, tar) in layers.iter().enumerate() {
        let index = u32::try_from(i).unwrap();
        apply_layer(&mut tree, index, &mut tar.as_slice(), &Expected::default(), &Limits::default(), &mut scanner)
            .unwrap();
    }
    scanner.finish(&tree)
}

const KEY: &[u8] = b"-----BEGIN OPENSSH PRIVATE KEY-----\n\
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n\
QyNTUxOQAAACDq7Ge1mPwa4VJd9pTr3XkLQz8sYb2nHc5fRt0uWm6KvAAAAJgL9x2cC/cd\n\
-----END OPENSSH PRIVATE KEY-----\n";

#[test]
fn a_secret_deleted_by_a_later_layer_is_still_reported() {
    let base = layer(&[("/root/.ssh/id_ed25519", KEY), ("/app/.env", b"API_TOKEN=Zt8-qW3-live-0042\n")]);
    let cleanup = layer(&[("/root/.ssh/.wh.id_ed25519", b""), ("/app/.env", b"API_TOKEN=${API_TOKEN}\n")]);
    let found = scan_layers(&[base, cleanup], Options::default());
    let summary: Vec<(&str, &str, Option<u32>, bool)> =
        found.iter().map(|f| (f.rule_id.as_str(), f.path.as_str(), f.layer, f.removed)).collect();
    assert_eq!(
        summary,
        [("hardcoded-secret", "/app/.env", Some(0), true), ("private-key", "/root/.ssh/id_ed25519", Some(0), true)]
    );
}

#[test]
fn unmodified_package_conffiles_are_not_reported_but_edited_ones_are() {
    let shipped: &[u8] = b"[client]\nsecret = pass:demo-ca-2019\n";
    // `printf '[client]\nsecret = pass:demo-ca-2019\n' | md5sum`
    let md5 = "642f9bfc2527be055e110216630f9bf5";
    let status = format!("Package: demo\nStatus: install ok installed\nConffiles:\n /etc/demo/demo.cnf {md5}\n");
    let pristine = layer(&[("/etc/demo/demo.cnf", shipped), ("/var/lib/dpkg/status", status.as_bytes())]);
    assert_eq!(scan_layers(std::slice::from_ref(&pristine), Options::default()), []);

    let edited = layer(&[("/etc/demo/demo.cnf", b"[client]\nsecret = Qx7-prod-ca-pass\n")]);
    let found = scan_layers(&[pristine, edited], Options::default());
    let summary: Vec<(&str, u32, Option<u32>)> = found.iter().map(|f| (f.path.as_str(), f.line, f.layer)).collect();
    // The base copy is the shipped file (dropped); the edited copy of layer 1 is reported.
    assert_eq!(summary, [("/etc/demo/demo.cnf", 2, Some(1))]);
}

#[test]
fn binaries_os_trees_vendored_code_and_large_files_are_not_read() {
    let mut binary = b"\x7fELF\x00\x00".to_vec();
    binary.extend_from_slice(b" ghp_Q9sLk2Vd8RtY4uP0aZx7Nc3Wm5Eb1Hf6Jg2K ");
    let mut large = b"password = Big-File-Pw-991\n".to_vec();
    large.resize(4096, b'#');
    let tar = layer(&[
        ("/app/bin/tool", &binary),
        ("/usr/share/doc/demo/examples/key.pem", KEY),
        ("/app/node_modules/lib/test/fixture.pem", KEY),
        ("/usr/lib/python3/dist-packages/x/conf.py", b"password = 'Lib-Pw-99z'\n"),
        ("/srv/big.conf", &large),
        ("/srv/small.conf", b"password = Small-Pw-7731\n"),
    ]);
    let found = scan_layers(&[tar], Options { max_file_bytes: 1024 });
    let paths: Vec<&str> = found.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, ["/srv/small.conf"]);
}

#[test]
fn generic_rules_apply_to_configuration_not_to_source_code() {
    let tar = layer(&[
        ("/app/main.py", b"password = 'Src-Pw-1234'\nurl = 'https://svc:Src-Url-Pw9@api.internal.invalid'\n"),
        ("/app/app.ini", b"password = Ini-Pw-5678\n"),
    ]);
    let found = scan_layers(&[tar], Options::default());
    let summary: Vec<(&str, &str)> = found.iter().map(|f| (f.rule_id.as_str(), f.path.as_str())).collect();
    // Source code still gets the exact formats (a URL with credentials), not `password =`.
    assert_eq!(summary, [("hardcoded-password", "/app/app.ini"), ("url-credentials", "/app/main.py")]);
}

#[test]
fn the_image_config_is_scanned() {
    let mut labels = BTreeMap::new();
    labels.insert("maintainer".to_owned(), "team@internal.invalid".to_owned());
    labels.insert("registry.token".to_owned(), "glpat-R4nd0mT0k3nV4lue9921".to_owned());
    let config = ImageConfig {
        config: Some(RunConfig {
            env: Some(vec![
                "PATH=/usr/local/bin:/usr/bin".into(),
                "MYSQL_ROOT_PASSWORD=Ro0t-Db-Pw-2025".into(),
                "DB_PASSWORD_FILE=/run/secrets/db".into(),
                "HOME=/root".into(),
            ]),
            labels: Some(labels),
            ..Default::default()
        }),
        history: vec![
            History { created_by: Some("/bin/sh -c #(nop) ADD file:abc in / ".into()), ..Default::default() },
            History {
                created_by: Some("/bin/sh -c #(nop)  ENV MYSQL_ROOT_PASSWORD=Ro0t-Db-Pw-2025".into()),
                empty_layer: Some(true),
                ..Default::default()
            },
            History {
                created_by: Some("|1 NPM_TOKEN=npm_Hq7Ld2Kx9Pz4Vw1Bn8Cm3Rt6Yu5Ej0SaFgTk /bin/sh -c npm ci".into()),
                ..Default::default()
            },
            History { created_by: Some("/bin/sh -c echo 'root:Tr0ub4dor-99' | chpasswd".into()), ..Default::default() },
        ],
        ..Default::default()
    };
    let found = secrets::scan_config(&config);
    let summary: Vec<(&str, Origin, &str, u32, Option<u32>)> =
        found.iter().map(|f| (f.rule_id.as_str(), f.origin, f.path.as_str(), f.line, f.layer)).collect();
    assert_eq!(
        summary,
        [
            ("hardcoded-password", Origin::ConfigEnv, secrets::CONFIG_ENV_PATH, 2, None),
            ("gitlab-token", Origin::ConfigLabel, secrets::CONFIG_LABELS_PATH, 2, None),
            ("hardcoded-password", Origin::History, secrets::CONFIG_HISTORY_PATH, 2, None),
            ("npm-token", Origin::History, secrets::CONFIG_HISTORY_PATH, 3, Some(1)),
            ("cli-password", Origin::History, secrets::CONFIG_HISTORY_PATH, 4, Some(2)),
        ]
    );
    for f in &found {
        for secret in [
            "Ro0t-Db-Pw-2025",
            "glpat-R4nd0mT0k3nV4lue9921",
            "npm_Hq7Ld2Kx9Pz4Vw1Bn8Cm3Rt6Yu5Ej0SaFgTk",
            "Tr0ub4dor-99",
        ] {
            assert!(!f.masked.contains(secret), "{f:?}");
        }
    }
}

#[test]
fn hostile_content_does_not_break_the_scanner() {
    // Invalid UTF-8, huge lines, unterminated quotes and PEM armour without a body.
    let mut junk = vec![0xffu8, 0xfe, b'\n'];
    junk.extend(std::iter::repeat_n(b'a', 200_000));
    junk.extend_from_slice(b"\npassword = \"unterminated\n-----BEGIN RSA PRIVATE KEY-----\n");
    junk.extend_from_slice("clé = ünïcödé-Pässwörd\napi_token = Jk8-after-junk-77\n".as_bytes());
    let tar = layer(&[("/etc/junk.conf", &junk)]);
    let found = scan_layers(&[tar], Options::default());
    // Nothing in the junk matches, and the scan goes on to the real assignment after it.
    let summary: Vec<(&str, u32, &str)> =
        found.iter().map(|f| (f.rule_id.as_str(), f.line, f.masked.as_str())).collect();
    assert_eq!(summary, [("hardcoded-secret", 6, "api_token=Jk****")]);
}
