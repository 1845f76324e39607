//! The image catalogue: registries, images and versions, scans per digest, and the
//! catalogue list with its filters.

use store::*;

use crate::support::each_backend;

fn registry(id: &str, name: &str) -> RegistryRow {
    RegistryRow {
        id: id.into(),
        name: name.into(),
        kind: "private".into(),
        watched: Vec::new(),
        url: "https://reg.example:5000".into(),
        username: "alice".into(),
        password_sealed: "v1:sealed".into(),
        insecure: false,
        ca_pem: String::new(),
        sync_interval_hours: 24,
        sync_state: "never".into(),
        last_sync_at: None,
        last_sync_error: String::new(),
        created_at: 1,
        updated_at: 1,
    }
}

fn image(id: &str, registry_id: &str, repository: &str) -> ImageRow {
    ImageRow {
        id: id.into(),
        kind: "private".into(),
        registry_id: registry_id.into(),
        registry_host: "reg.example:5000".into(),
        repository: repository.into(),
        organisation: repository.rsplit_once('/').map(|(o, _)| o.to_owned()).unwrap_or_default(),
        created_at: 1,
        updated_at: 1,
    }
}

fn version(id: &str, image_id: &str, tag: &str, digest: &str) -> VersionRow {
    VersionRow {
        id: id.into(),
        image_id: image_id.into(),
        tag: tag.into(),
        digest: digest.into(),
        size: 100,
        pushed_at: Some(5),
        seen_at: 10,
    }
}

#[tokio::test]
async fn catalogue_versions_share_one_scan_per_digest() {
    each_backend(|s, _| async move {
        let images = s.images();
        images.create_registry(&registry("r1", "harbor")).await.unwrap();
        assert!(matches!(images.create_registry(&registry("r2", "harbor")).await, Err(StoreError::Conflict(_))));
        let mut changed = registry("r1", "harbor-eu");
        changed.watched = vec!["library/nginx:1.27".into()];
        changed.insecure = true;
        images.update_registry(&changed).await.unwrap();
        let stored = images.registry("r1").await.unwrap().unwrap();
        assert_eq!(
            (stored.name.as_str(), stored.insecure, stored.watched.clone()),
            ("harbor-eu", true, changed.watched)
        );
        assert!(matches!(images.update_registry(&registry("nope", "x")).await, Err(StoreError::NotFound(_))));
        let app = images.upsert_image(&image("i1", "r1", "team/app")).await.unwrap();
        // The same repository again is the same image, whatever id the caller proposed.
        assert_eq!(images.upsert_image(&image("other", "r1", "team/app")).await.unwrap().id, app.id);
        let db = images.upsert_image(&image("i2", "r1", "team/db")).await.unwrap();
        assert!(images.upsert_version(&version("v1", &app.id, "1.0", "sha256:aa")).await.unwrap());
        assert!(images.upsert_version(&version("v2", &app.id, "latest", "sha256:aa")).await.unwrap());
        assert!(images.upsert_version(&version("v3", &db.id, "15", "sha256:bb")).await.unwrap());
        // The same digest under the same tag is no change; a new digest is.
        assert!(!images.upsert_version(&version("v1x", &app.id, "1.0", "sha256:aa")).await.unwrap());

        let all = CatalogFilter::default();
        let (rows, total) = images.list_catalog(&all, &PageReq::default()).await.unwrap();
        assert_eq!(total, 3);
        assert!(rows.iter().all(|r| r.scan.is_none()));
        let found = CatalogFilter { text: Some("TEAM/A".into()), ..Default::default() };
        assert_eq!(images.list_catalog(&found, &PageReq::default()).await.unwrap().1, 2);
        let literal = CatalogFilter { text: Some("team_app".into()), ..Default::default() };
        assert_eq!(images.list_catalog(&literal, &PageReq::default()).await.unwrap().1, 0, "'_' is not a wildcard");

        // One scan of sha256:aa serves both tags.
        images.set_scan_state("sha256:aa", "scanning", "").await.unwrap();
        let found_counts = FoundCounts { malware: 1, secrets: 2, baseline_failed: 3, packages: 40, size: 100 };
        let counts = MatchCounts { fix_asap: 5, can_delay: 6, no_need_now: 7 };
        let finding = |id: &str, urgency: &str| FindingRow {
            vuln_id: id.into(),
            vulnerability: format!("CVE-{id}"),
            cves: vec![format!("CVE-{id}")],
            package: "openssl".into(),
            package_type: "deb".into(),
            purl: "pkg:deb/debian/openssl@3.0.1".into(),
            installed_version: "3.0.1".into(),
            fixed_version: String::new(),
            urgency: urgency.into(),
            layer: "sha256:l1".into(),
        };
        // The same finding twice (a package seen at two paths) is kept once.
        let first = [finding("DSA-1", "fix-asap"), finding("DSA-2", "can-delay"), finding("DSA-1", "fix-asap")];
        images
            .store_result(
                "sha256:aa",
                &NewResult {
                    report: "report-text",
                    found: &found_counts,
                    counts: &counts,
                    findings: &first,
                    detections: &Detections::default(),
                    db: "db-1",
                },
            )
            .await
            .unwrap();
        let kept = images.findings("sha256:aa").await.unwrap();
        assert_eq!(kept.iter().map(|f| f.finding.vuln_id.as_str()).collect::<Vec<_>>(), ["DSA-1", "DSA-2"]);
        assert!(kept.iter().all(|f| f.gone_at.is_none()));
        assert_eq!(kept[0].finding, first[0]);
        let dsa1_first_seen = kept[0].first_seen;
        let done = CatalogFilter { status: Some("completed".into()), ..Default::default() };
        let (rows, total) = images.list_catalog(&done, &PageReq::default()).await.unwrap();
        assert_eq!(total, 2);
        assert!(rows.iter().all(|r| r.scan.as_ref().is_some_and(|s| s.fix_asap == 5 && s.matched_db == "db-1")));
        let never = CatalogFilter { status: Some("not-scanned".into()), ..Default::default() };
        let (rows, _) = images.list_catalog(&never, &PageReq::default()).await.unwrap();
        assert_eq!(rows.iter().map(|r| r.version.tag.as_str()).collect::<Vec<_>>(), ["15"]);
        assert_eq!(images.result("sha256:aa").await.unwrap().as_deref(), Some("report-text"));
        let digests = ["sha256:aa".to_string(), "sha256:bb".to_string(), "sha256:cc".to_string()];
        let scans = images.scans(&digests).await.unwrap();
        assert_eq!(scans.iter().map(|s| s.digest.as_str()).collect::<Vec<_>>(), ["sha256:aa"]);
        assert!(images.scans(&[]).await.unwrap().is_empty());

        // A new database: the digest is to be matched again, then it is not.
        assert_eq!(images.digests_to_rematch("db-2", 10).await.unwrap(), ["sha256:aa"]);
        // It drops DSA-2 and finds DSA-3: DSA-2 keeps its history, marked gone.
        let second = [finding("DSA-1", "can-delay"), finding("DSA-3", "no-need-now")];
        images.set_match("sha256:aa", &MatchCounts::default(), &second, "db-2").await.unwrap();
        let kept = images.findings("sha256:aa").await.unwrap();
        let state: Vec<(&str, &str, bool)> = kept
            .iter()
            .map(|f| (f.finding.vuln_id.as_str(), f.finding.urgency.as_str(), f.gone_at.is_some()))
            .collect();
        assert_eq!(
            state,
            [("DSA-1", "can-delay", false), ("DSA-2", "can-delay", true), ("DSA-3", "no-need-now", false)]
        );
        assert_eq!(kept[0].first_seen, dsa1_first_seen, "first seen is kept");
        assert!(kept[1].gone_at.is_some_and(|t| t >= kept[1].last_seen));
        assert!(images.findings("sha256:none").await.unwrap().is_empty());
        assert!(images.digests_to_rematch("db-2", 10).await.unwrap().is_empty());
        assert_eq!(images.scan("sha256:aa").await.unwrap().unwrap().fix_asap, 0);

        // What a sync no longer sees goes away; removing the registry removes its images.
        assert_eq!(images.prune_versions(&app.id, &["1.0".to_string()]).await.unwrap(), 1);
        assert_eq!(images.prune_images("r1", &["team/app".to_string()]).await.unwrap(), 1);
        assert_eq!(images.list_catalog(&all, &PageReq::default()).await.unwrap().1, 1);
        assert_eq!(images.versions_of_digest("sha256:aa").await.unwrap().len(), 1);
        assert!(images.delete_registry("r1").await.unwrap());
        assert_eq!(images.list_catalog(&all, &PageReq::default()).await.unwrap().1, 0);
        // The result stays for any other image that names the digest.
        assert!(images.result("sha256:aa").await.unwrap().is_some());
    })
    .await;
}

fn finding(id: &str, package: &str, urgency: &str) -> FindingRow {
    FindingRow {
        vuln_id: id.into(),
        vulnerability: format!("CVE-{id}"),
        cves: vec![format!("CVE-2024-{id}")],
        package: package.into(),
        package_type: "deb".into(),
        purl: format!("pkg:deb/debian/{package}@1"),
        installed_version: "1".into(),
        fixed_version: "2".into(),
        urgency: urgency.into(),
        layer: String::new(),
    }
}

#[tokio::test]
async fn vulnerability_views_add_up_the_current_findings_of_each_version() {
    each_backend(|s, _| async move {
        let images = s.images();
        images.create_registry(&registry("r1", "harbor")).await.unwrap();
        let app = images.upsert_image(&image("i1", "r1", "team/app")).await.unwrap();
        let db = images.upsert_image(&image("i2", "r1", "team/db")).await.unwrap();
        let local =
            images.upsert_image(&ImageRow { kind: "local".into(), ..image("i3", "", "team/app") }).await.unwrap();
        // Two tags of one digest, another digest, and a local image of the first digest.
        images.upsert_version(&version("v1", &app.id, "1.0", "sha256:aa")).await.unwrap();
        images.upsert_version(&version("v2", &app.id, "latest", "sha256:aa")).await.unwrap();
        images.upsert_version(&version("v3", &db.id, "15", "sha256:bb")).await.unwrap();
        images.upsert_version(&version("v4", &local.id, "1.0", "sha256:aa")).await.unwrap();
        let none = MatchCounts::default();
        let found = FoundCounts::default();
        let aa = [finding("DSA-1", "openssl", "fix-asap"), finding("DSA-2", "zlib", "can-delay")];
        images
            .store_result(
                "sha256:aa",
                &NewResult {
                    report: "r",
                    found: &found,
                    counts: &none,
                    findings: &aa,
                    detections: &Detections::default(),
                    db: "db",
                },
            )
            .await
            .unwrap();
        let bb = [
            finding("DSA-1", "libssl3", "can-delay"),
            finding("DSA-3", "bash", "no-need-now"),
            finding("DSA-4", "curl", "fix-asap"),
        ];
        images
            .store_result(
                "sha256:bb",
                &NewResult {
                    report: "r",
                    found: &found,
                    counts: &none,
                    findings: &bb,
                    detections: &Detections::default(),
                    db: "db",
                },
            )
            .await
            .unwrap();

        let views = s.vuln_views();
        let (counts, top) = views.vuln_summary("private", 5, 0).await.unwrap();
        assert_eq!(counts, MatchCounts { fix_asap: 3, can_delay: 3, no_need_now: 1 }, "each version counts");
        let top: Vec<(&str, i64)> = top.iter().map(|t| (t.tag.as_str(), t.counts.total())).collect();
        assert_eq!(top, [("15", 3), ("1.0", 2), ("latest", 2)]);
        let (counts, top) = views.vuln_summary("local", 5, 0).await.unwrap();
        assert_eq!((counts.total(), top.len()), (2, 1));
        assert_eq!(views.vuln_summary("official", 5, 0).await.unwrap().0, MatchCounts::default());

        let private = VulnFilter { kind: "private".into(), ..Default::default() };
        let (rows, total) = views.vuln_list(&private, &PageReq::default(), 0).await.unwrap();
        assert_eq!(total, 4);
        let first = &rows[0];
        assert_eq!(
            (first.vuln_id.as_str(), first.urgency.as_str(), first.affected_versions, first.packages.clone()),
            ("DSA-1", "fix-asap", 3, vec!["libssl3".to_string(), "openssl".to_string()]),
            "the most affected first, at its most urgent"
        );
        let urgent = VulnFilter { urgency: Some("fix-asap".into()), ..private.clone() };
        let ids = |rows: Vec<VulnRow>| rows.into_iter().map(|r| r.vuln_id).collect::<Vec<_>>();
        assert_eq!(ids(views.vuln_list(&urgent, &PageReq::default(), 0).await.unwrap().0), ["DSA-1", "DSA-4"]);
        let curl = VulnFilter { text: Some("CURL".into()), ..private.clone() };
        assert_eq!(ids(views.vuln_list(&curl, &PageReq::default(), 0).await.unwrap().0), ["DSA-4"]);
        let cve = VulnFilter { text: Some("cve-2024-dsa-3".into()), ..private.clone() };
        assert_eq!(ids(views.vuln_list(&cve, &PageReq::default(), 0).await.unwrap().0), ["DSA-3"]);
        let by_id = PageReq { limit: 2, offset: 1, sort: Some("id".into()), descending: false };
        let (rows, total) = views.vuln_list(&private, &by_id, 0).await.unwrap();
        assert_eq!((ids(rows), total), (vec!["DSA-2".to_string(), "DSA-3".to_string()], 4));

        // A new match of sha256:bb drops DSA-4: it stops counting everywhere.
        images.set_match("sha256:bb", &none, &bb[..2], "db-2").await.unwrap();
        let (counts, _) = views.vuln_summary("private", 5, 0).await.unwrap();
        assert_eq!(counts, MatchCounts { fix_asap: 2, can_delay: 3, no_need_now: 1 });
        assert_eq!(ids(views.vuln_list(&urgent, &PageReq::default(), 0).await.unwrap().0), ["DSA-1"]);
        let (rows, total) = views.vuln_list(&private, &PageReq::default(), 0).await.unwrap();
        assert_eq!(total, 3, "DSA-4 is history only: not listed");
        assert!(rows.iter().all(|r| r.vuln_id != "DSA-4"));
        // sha256:aa drops DSA-1: two versions had it, one has it now.
        images.set_match("sha256:aa", &none, &aa[1..], "db-2").await.unwrap();
        let (rows, _) = views.vuln_list(&private, &PageReq::default(), 0).await.unwrap();
        let dsa1 = rows.iter().find(|r| r.vuln_id == "DSA-1").unwrap();
        assert_eq!((dsa1.affected_versions, dsa1.ever_versions, dsa1.urgency.as_str()), (1, 3, "can-delay"));
    })
    .await;
}

fn decision(vuln_id: &str, scope: &str, subject: &str) -> IgnoreRow {
    IgnoreRow {
        id: format!("{vuln_id}-{scope}-{subject}"),
        vuln_id: vuln_id.into(),
        scope: scope.into(),
        subject: subject.into(),
        kind: "accepted-risk".into(),
        justification: String::new(),
        reason: "tested".into(),
        author: "alice".into(),
        created_at: 1,
        expires_at: None,
        until_fixed: false,
    }
}

#[tokio::test]
async fn ignored_findings_stop_counting_and_stay_listed_until_the_decision_lapses() {
    each_backend(|s, _| async move {
        let images = s.images();
        images.create_registry(&registry("r1", "harbor")).await.unwrap();
        let app = images.upsert_image(&image("i1", "r1", "team/app")).await.unwrap();
        images.upsert_version(&version("v1", &app.id, "1.0", "sha256:aa")).await.unwrap();
        images.upsert_version(&version("v2", &app.id, "2.0", "sha256:bb")).await.unwrap();
        let (none, found) = (MatchCounts::default(), FoundCounts::default());
        let mut fixed = finding("DSA-2", "zlib", "can-delay");
        fixed.fixed_version = String::new();
        let aa = [finding("DSA-1", "openssl", "fix-asap"), fixed.clone()];
        images
            .store_result(
                "sha256:aa",
                &NewResult {
                    report: "r",
                    found: &found,
                    counts: &none,
                    findings: &aa,
                    detections: &Detections::default(),
                    db: "db",
                },
            )
            .await
            .unwrap();
        images
            .store_result(
                "sha256:bb",
                &NewResult {
                    report: "r",
                    found: &found,
                    counts: &none,
                    findings: &[finding("DSA-1", "openssl", "fix-asap")],
                    detections: &Detections::default(),
                    db: "db",
                },
            )
            .await
            .unwrap();
        let (views, ignores) = (s.vuln_views(), s.ignores());
        let total = |now: i64| async move { views.vuln_summary("private", 5, now).await.unwrap().0.total() };
        let private = VulnFilter { kind: "private".into(), ..Default::default() };
        let dsa1 = |now: i64| {
            let private = private.clone();
            async move {
                let (rows, _) = views.vuln_list(&private, &PageReq::default(), now).await.unwrap();
                let r = rows.into_iter().find(|r| r.vuln_id == "DSA-1").unwrap();
                (r.affected_versions, r.ignored_versions)
            }
        };
        assert_eq!((total(10).await, dsa1(10).await), (3, (2, 0)));

        // One version, then the whole repository; the decision is replaced, not doubled.
        ignores.put_ignore(&decision("DSA-1", "version", "v1")).await.unwrap();
        assert_eq!((total(10).await, dsa1(10).await), (2, (1, 1)));
        let counts = views.version_counts(&["v1".into(), "v2".into()], 10).await.unwrap();
        assert_eq!(counts.iter().map(|(v, t)| (v.as_str(), t.total())).collect::<Vec<_>>(), [("v1", 1), ("v2", 1)]);
        ignores.put_ignore(&decision("DSA-1", "repository", &app.id)).await.unwrap();
        assert_eq!((total(10).await, dsa1(10).await), (1, (0, 2)));
        let mut again = decision("DSA-1", "repository", &app.id);
        again.reason = "still".into();
        assert_eq!(ignores.put_ignore(&again).await.unwrap().reason, "still");
        assert_eq!(ignores.list_ignores(Some("DSA-1"), 100).await.unwrap().len(), 2);
        assert_eq!(ignores.ignores_for(&app.id, "v2").await.unwrap().len(), 1, "the repository's decision only");
        assert!(ignores.remove_ignore("DSA-1", "repository", &app.id).await.unwrap().is_some());
        assert!(ignores.remove_ignore("DSA-1", "repository", &app.id).await.unwrap().is_none());
        assert_eq!((total(10).await, dsa1(10).await), (2, (1, 1)));

        // For every image, until a time: it counts again once the time has come.
        let mut until = decision("DSA-2", "all", "");
        until.expires_at = Some(100);
        ignores.put_ignore(&until).await.unwrap();
        assert_eq!(total(99).await, 1);
        assert_eq!(total(100).await, 2, "the decision lapsed");
        // Until a fix is available: a finding with a fixed version counts.
        let mut until_fixed = decision("DSA-1", "all", "");
        until_fixed.until_fixed = true;
        ignores.put_ignore(&until_fixed).await.unwrap();
        assert_eq!(dsa1(200).await, (1, 1), "only v1's own decision: v2's DSA-1 has a fixed version");
        images
            .set_match(
                "sha256:bb",
                &none,
                &[FindingRow { fixed_version: String::new(), ..finding("DSA-1", "openssl", "fix-asap") }],
                "db-2",
            )
            .await
            .unwrap();
        assert_eq!(dsa1(200).await, (0, 2), "v1's own decision and the until-fixed one on v2");
    })
    .await;
}

#[tokio::test]
async fn malicious_files_and_failed_checks_are_listed_per_version_of_a_kind() {
    each_backend(|s, _| async move {
        let images = s.images();
        images.create_registry(&registry("r1", "harbor")).await.unwrap();
        let app = images.upsert_image(&image("i1", "r1", "team/app")).await.unwrap();
        images.upsert_version(&version("v1", &app.id, "1.0", "sha256:aa")).await.unwrap();
        images.upsert_version(&version("v2", &app.id, "2.0", "sha256:aa")).await.unwrap();
        let miner = MalwareRow {
            path: "/usr/bin/xmrig".into(),
            rule: "miner:xmrig".into(),
            file_name: "xmrig".into(),
            category: "Miner".into(),
            description: "a coin miner".into(),
            severity: "high".into(),
            sha256: "ab".into(),
            size: 10,
        };
        let check = |id: &str, level: &str, result: &str| BaselineRow {
            check_id: id.into(),
            title: format!("check {id}"),
            level: level.into(),
            method: "files".into(),
            result: result.into(),
            problem: "found".into(),
            advice: "fix it".into(),
        };
        let found = Detections {
            malware: vec![miner.clone(), miner.clone()],
            baseline: vec![check("A", "High", "failed"), check("B", "Low", "passed"), check("C", "Low", "failed")],
        };
        let none = MatchCounts::default();
        images
            .store_result(
                "sha256:aa",
                &NewResult {
                    report: "r",
                    found: &FoundCounts::default(),
                    counts: &none,
                    findings: &[],
                    detections: &found,
                    db: "db",
                },
            )
            .await
            .unwrap();
        let d = s.detections();
        let (rows, total) = d.malware_list("private", Some("XMR"), &PageReq::default()).await.unwrap();
        assert_eq!(total, 2, "one file, two versions; the duplicate is kept once");
        assert_eq!((rows[0].0.clone(), rows[0].1.tag.as_str()), (miner, "1.0"));
        assert_eq!(d.malware_list("private", Some("nginx"), &PageReq::default()).await.unwrap().1, 0);
        assert_eq!(d.malware_list("local", None, &PageReq::default()).await.unwrap().1, 0);
        let (checks, total) = d.baseline_list("private", None, &PageReq::default()).await.unwrap();
        assert_eq!(total, 2, "failed checks only");
        assert_eq!(
            checks.iter().map(|c| (c.check_id.as_str(), c.failed_versions)).collect::<Vec<_>>(),
            [("A", 2), ("C", 2)]
        );
        assert_eq!(d.baseline_list("private", Some("High"), &PageReq::default()).await.unwrap().1, 1);
        let (places, total) = d.baseline_check("private", "C", &PageReq::default()).await.unwrap();
        assert_eq!((total, places[0].0.problem.as_str()), (2, "found"));
        // A new result replaces what the old one found.
        d.set_detections("sha256:aa", &Detections::default()).await.unwrap();
        assert_eq!(d.malware_list("private", None, &PageReq::default()).await.unwrap().1, 0);
        assert_eq!(d.baseline_list("private", None, &PageReq::default()).await.unwrap().1, 0);
    })
    .await;
}

#[tokio::test]
async fn views_stay_exact_while_matches_and_reads_race_across_replicas() {
    each_backend(|s, url| async move {
        // Replicas on PostgreSQL each have their own pool; SQLite has one server process.
        let s = std::sync::Arc::new(s);
        let replica = |s: std::sync::Arc<SqlStore>, url: String| async move {
            if url.starts_with("sqlite") { s } else { std::sync::Arc::new(store::open(&url).await.unwrap()) }
        };
        let images = s.images();
        images.create_registry(&registry("r1", "harbor")).await.unwrap();
        let app = images.upsert_image(&image("i1", "r1", "team/app")).await.unwrap();
        for n in 0..8 {
            images
                .upsert_version(&version(&format!("v{n}"), &app.id, &format!("{n}.0"), &format!("sha256:{n}")))
                .await
                .unwrap();
        }
        let findings = |round: usize| -> Vec<FindingRow> {
            (0..(round % 5 + 1)).map(|i| finding(&format!("DSA-{i}"), "openssl", "fix-asap")).collect()
        };
        // Two writers matching digests again and two readers, each with its own pool.
        let mut tasks = Vec::new();
        for w in 0..2 {
            let store = replica(s.clone(), url.clone()).await;
            tasks.push(tokio::spawn(async move {
                for round in 0..20 {
                    let digest = format!("sha256:{}", (round * 2 + w) % 8);
                    let none = MatchCounts::default();
                    store.images().set_match(&digest, &none, &findings(round), "db").await.unwrap();
                }
            }));
        }
        for _ in 0..2 {
            let store = replica(s.clone(), url.clone()).await;
            tasks.push(tokio::spawn(async move {
                for t in 0..40 {
                    store.vuln_views().vuln_summary("private", 5, t).await.unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        // Once every write is in, the views count exactly what is stored.
        let mut want = 0;
        for n in 0..8 {
            want +=
                images.findings(&format!("sha256:{n}")).await.unwrap().iter().filter(|f| f.gone_at.is_none()).count();
        }
        let (counts, _) = s.vuln_views().vuln_summary("private", 5, 100).await.unwrap();
        assert_eq!(counts.total(), want as i64);
    })
    .await;
}
