//! What differs between SQLite and PostgreSQL.

/// The database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded, one file in the data directory, WAL journal. One server process.
    Sqlite,
    /// Shared by any number of server replicas.
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Option<Backend> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }

    /// The schema migrations, in order: (version, SQL). The SQL is portable and the same
    /// for both backends so far; a step that must differ gets a file per backend under
    /// `migrations/<backend>/` and an arm here.
    pub(crate) fn migrations(self) -> &'static [(i64, &'static str)] {
        &[
            (1, include_str!("../migrations/0001_core.sql")),
            (2, include_str!("../migrations/0002_session_csrf.sql")),
            (3, include_str!("../migrations/0003_on_demand_hours.sql")),
            (4, include_str!("../migrations/0004_list_indexes.sql")),
            (5, include_str!("../migrations/0005_cluster_kubeconfig.sql")),
            (6, include_str!("../migrations/0006_images.sql")),
            (7, include_str!("../migrations/0007_node_reenrol.sql")),
            (8, include_str!("../migrations/0008_enrolment_caps.sql")),
            (9, include_str!("../migrations/0009_image_findings.sql")),
            (10, include_str!("../migrations/0010_vuln_ignores.sql")),
            (11, include_str!("../migrations/0011_vuln_view_stats.sql")),
            (12, include_str!("../migrations/0012_image_detections.sql")),
        ]
    }
}
