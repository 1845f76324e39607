//! Pushing test images with the distribution API: monolithic blob uploads (POST, then
//! PUT with the digest) and manifest PUTs.

use std::path::Path;

use reqwest::blocking::Client;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, LOCATION};

use super::images::{Blob, TestImage};

pub struct Pusher {
    http: Client,
    base: String,
    /// `Authorization` header value, when the registry wants one.
    auth: Option<String>,
}

impl Pusher {
    pub fn new(base: &str, ca_cert: Option<&Path>, auth: Option<String>) -> Pusher {
        let mut builder = Client::builder().no_proxy();
        if let Some(ca) = ca_cert {
            let pem = std::fs::read(ca).unwrap();
            builder = builder.add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap());
        }
        Pusher { http: builder.build().unwrap(), base: base.to_owned(), auth }
    }

    fn with_auth(&self, request: reqwest::blocking::RequestBuilder) -> reqwest::blocking::RequestBuilder {
        match &self.auth {
            Some(value) => request.header(AUTHORIZATION, value),
            None => request,
        }
    }

    pub fn blob(&self, repo: &str, blob: &Blob) {
        let start = self.with_auth(self.http.post(format!("{}/v2/{repo}/blobs/uploads/", self.base))).send().unwrap();
        assert_eq!(start.status().as_u16(), 202, "starting an upload to {repo}: {}", start.text().unwrap_or_default());
        let location = start.headers().get(LOCATION).unwrap().to_str().unwrap().to_owned();
        let location = if location.starts_with("http") { location } else { format!("{}{location}", self.base) };
        let separator = if location.contains('?') { '&' } else { '?' };
        let url = format!("{location}{separator}digest={}", blob.digest.replace(':', "%3A"));
        let done = self
            .with_auth(self.http.put(url))
            .header(CONTENT_TYPE, "application/octet-stream")
            .body(blob.bytes.clone())
            .send()
            .unwrap();
        assert_eq!(done.status().as_u16(), 201, "uploading {}: {}", blob.digest, done.text().unwrap_or_default());
    }

    pub fn manifest(&self, repo: &str, reference: &str, manifest: &Blob) {
        let response = self
            .with_auth(self.http.put(format!("{}/v2/{repo}/manifests/{reference}", self.base)))
            .header(CONTENT_TYPE, &manifest.media_type)
            .body(manifest.bytes.clone())
            .send()
            .unwrap();
        assert_eq!(
            response.status().as_u16(),
            201,
            "putting manifest {repo}:{reference}: {}",
            response.text().unwrap_or_default()
        );
    }

    /// Pushes the layers, the config and the manifest of `image` (under `tag` when given,
    /// else under its digest only).
    pub fn image(&self, repo: &str, tag: Option<&str>, image: &TestImage) {
        for layer in &image.layers {
            self.blob(repo, &layer.blob);
        }
        self.blob(repo, &image.config);
        self.manifest(repo, tag.unwrap_or(&image.manifest.digest), &image.manifest);
    }
}
