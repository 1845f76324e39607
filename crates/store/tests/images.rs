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
        images.store_result("sha256:aa", "report-text", &found_counts, &counts, "db-1").await.unwrap();
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
        images.set_match("sha256:aa", &MatchCounts::default(), "db-2").await.unwrap();
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
