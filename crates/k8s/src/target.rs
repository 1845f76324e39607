//! What one kubeconfig context resolves to: where the API server is, how to trust it and how
//! to authenticate to it.

use std::fmt;

use reqwest::Url;

/// One context of a kubeconfig, resolved and checked ([`crate::Kubeconfig::target`]).
#[derive(Clone, PartialEq, Eq)]
pub struct Target {
    /// The context's name.
    pub context: String,
    /// The name of the context's cluster entry.
    pub cluster: String,
    /// The name of the context's user entry (`None`: anonymous).
    pub user: Option<String>,
    /// The API server's base URL, without a trailing `/` (it may carry a path prefix, as
    /// behind a proxy such as Rancher's). Always `https`.
    pub server: String,
    /// PEM certificates of the authorities that sign the API server's certificate
    /// (`certificate-authority-data`). When given, they are the only trusted roots.
    pub ca_pem: Option<Vec<u8>>,
    /// `insecure-skip-tls-verify: true`: the server's certificate is not checked.
    pub insecure_skip_tls_verify: bool,
    /// The context's default namespace, when it names one.
    pub namespace: Option<String>,
    /// How requests authenticate.
    pub auth: Auth,
}

/// The credential of a kubeconfig user.
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    /// No credential (anonymous requests).
    None,
    /// `token`: sent as `Authorization: Bearer …`.
    Bearer { token: String },
    /// `client-certificate-data` and `client-key-data`, PEM: a TLS client certificate.
    ClientCertificate { certificate_pem: Vec<u8>, key_pem: Vec<u8> },
    /// `username` and `password`: HTTP basic authentication.
    Basic { username: String, password: String },
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            Auth::Bearer { .. } => f.debug_struct("Bearer").field("token", &"<redacted>").finish(),
            Auth::ClientCertificate { certificate_pem, .. } => f
                .debug_struct("ClientCertificate")
                .field("certificate_pem", &format_args!("<{} bytes>", certificate_pem.len()))
                .field("key_pem", &"<redacted>")
                .finish(),
            Auth::Basic { username, .. } => {
                f.debug_struct("Basic").field("username", username).field("password", &"<redacted>").finish()
            }
        }
    }
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Target")
            .field("context", &self.context)
            .field("cluster", &self.cluster)
            .field("user", &self.user)
            .field("server", &self.server)
            .field("ca_pem", &self.ca_pem.as_ref().map(|pem| format!("<{} bytes>", pem.len())))
            .field("insecure_skip_tls_verify", &self.insecure_skip_tls_verify)
            .field("namespace", &self.namespace)
            .field("auth", &self.auth)
            .finish()
    }
}

/// Checks an API server URL and returns it without a trailing `/`. The error completes
/// "server …".
pub(crate) fn check_server_url(text: &str) -> Result<String, String> {
    let url = Url::parse(text.trim()).map_err(|e| format!("is not a URL ({e})"))?;
    match url.scheme() {
        "https" => {}
        // Not even on loopback: the credential and the shield's enrolment token would cross
        // in clear, and a plain-http URL lets a kubeconfig aim the server at its own
        // unauthenticated local services.
        "http" => return Err("must use https: `http://` is refused".into()),
        other => return Err(format!("has the scheme `{other}`; it must be https")),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("has no host".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry a user name or password (put the credential in the user entry)".into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("must not have a query or a fragment".into());
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls() {
        assert_eq!(check_server_url("https://10.0.0.1:6443/").unwrap(), "https://10.0.0.1:6443");
        assert_eq!(
            check_server_url("https://rancher.example/k8s/clusters/c-1").unwrap(),
            "https://rancher.example/k8s/clusters/c-1"
        );
        for plain in ["http://127.0.0.1:8080", "http://localhost:8080", "http://[::1]:8080", "http://10.0.0.1:8080"] {
            assert!(check_server_url(plain).unwrap_err().contains("must use https"), "{plain}");
        }
        assert!(check_server_url("ftp://x").unwrap_err().contains("scheme `ftp`"));
        assert!(check_server_url("https://u:p@x").unwrap_err().contains("user name"));
        assert!(check_server_url("https://x/?a=b").unwrap_err().contains("query"));
        assert!(check_server_url("10.0.0.1:6443").is_err());
        assert!(check_server_url("").unwrap_err().contains("not a URL"));
    }
}
