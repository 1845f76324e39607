//! What every request handler shares. Nothing here is state another replica would need:
//! all of that lives in the store.

use std::net::SocketAddr;
use std::sync::Arc;

/// `cguard server`'s settings.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// The first administrator's password, from `CGUARD_ADMIN_PASSWORD`; random if unset.
    pub admin_password: Option<String>,
    /// Name of this deployment's region (SPEC 1.4).
    pub region: String,
    /// Audit records are kept this many days.
    pub audit_retention_days: u32,
    /// Failed logins in a row before an account is locked, and for how long.
    pub lockout_threshold: u32,
    pub lockout_minutes: u32,
    /// Lifetime of a login's bearer token.
    pub session_hours: u32,
    /// A node whose last heartbeat is older than this is `offline`.
    pub heartbeat_timeout_seconds: u32,
    /// The first quota purchase is at least this many.
    pub min_first_purchase: u32,
    /// Days a frozen quota is kept before it is deleted.
    pub frozen_grace_days: u32,
    /// The URL shields use to reach this server (for install commands).
    pub public_url: String,
    /// The key that seals secrets at rest (kubeconfigs); `None`: a key of this process only.
    pub secret_key: Option<crate::secrets::SecretKey>,
    /// The shield's container image, for the DaemonSet applied to Kubernetes clusters.
    pub shield_image: String,
    /// The vulnerability database file (`--vuln-db`), opened again whenever it is replaced.
    pub vuln_db: std::path::PathBuf,
    /// Background workers in this process (scans, registry syncs); 0 runs none.
    pub workers: usize,
    /// How long a worker's claim on a job lasts without renewal: after a worker dies, its
    /// job is taken again this long after its last renewal.
    pub job_lease: std::time::Duration,
    /// Time of day (UTC) of the daily full detection.
    pub daily_detection_at: (u8, u8),
    /// Image security settings (largest image scanned, pulls per registry).
    pub image_security: domain::ImageSecurityConfig,
    /// Failed logins a client address may make in a minute before it is refused (429).
    pub login_failures_per_minute: u32,
    /// Audit records of requests refused for want of a valid credential, per route and
    /// minute (and per server process); the others are counted in the next record.
    pub audit_anonymous_per_minute: u32,
}

impl ServerConfig {
    pub fn new(listen: SocketAddr, database_url: String) -> ServerConfig {
        ServerConfig {
            listen,
            public_url: format!("http://{listen}"),
            database_url,
            admin_password: None,
            region: "default".into(),
            audit_retention_days: 7,
            lockout_threshold: 5,
            lockout_minutes: 15,
            session_hours: 12,
            heartbeat_timeout_seconds: 60,
            min_first_purchase: 10,
            frozen_grace_days: 34,
            secret_key: None,
            shield_image: format!("cguard/cguard:{}", env!("CARGO_PKG_VERSION")),
            vuln_db: vulndb_default(),
            workers: 2,
            job_lease: std::time::Duration::from_secs(60),
            daily_detection_at: (3, 0),
            image_security: domain::ImageSecurityConfig::default(),
            audit_anonymous_per_minute: 20,
            login_failures_per_minute: 20,
        }
    }
}

#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Arc<dyn store::Store>,
    pub config: Arc<ServerConfig>,
    /// Identifies this process in job leases.
    pub instance: Arc<str>,
    /// Seals and opens secrets at rest.
    pub secrets: Arc<crate::secrets::SecretKey>,
    /// Image security: registries, catalogue, scans, reports.
    pub images: Arc<domain::ImageSecurity>,
    /// Failed logins per client address.
    pub(crate) login_throttle: Arc<crate::throttle::LoginThrottle>,
    /// Bounds the audit records of unauthenticated requests.
    pub(crate) audit_limiter: Arc<crate::audit::AnonymousLimiter>,
    /// Keys the audit chain; derived from the secret key, never stored in the database.
    pub audit_key: Arc<store::AuditKey>,
}

impl AppState {
    pub fn new(store: Arc<dyn store::Store>, config: ServerConfig) -> AppState {
        let secrets = Arc::new(config.secret_key.clone().unwrap_or_else(crate::secrets::SecretKey::ephemeral));
        let images = Arc::new(domain::ImageSecurity::new(
            store.clone(),
            secrets.clone(),
            Arc::new(domain::vulns::VulnDb::new(config.vuln_db.clone())),
            config.image_security.clone(),
        ));
        let audit_limiter = Arc::new(crate::audit::AnonymousLimiter::new(config.audit_anonymous_per_minute));
        let login_throttle = Arc::new(crate::throttle::LoginThrottle::new(config.login_failures_per_minute));
        let audit_key = Arc::new(secrets.audit_key());
        AppState {
            store,
            config: Arc::new(config),
            instance: uuid::Uuid::new_v4().to_string().into(),
            secrets,
            images,
            login_throttle,
            audit_limiter,
            audit_key,
        }
    }
}

/// Where the vulnerability database is when nothing says otherwise: the file `cguard db`
/// writes by default.
fn vulndb_default() -> std::path::PathBuf {
    std::path::PathBuf::from("/var/lib/cguard/vuln.db")
}
