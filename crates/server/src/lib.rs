//! `cguard server`: the control plane. A REST API under `/api/v1` (OpenAPI 3.1 at
//! `/api/v1/openapi.json`), local identities with IAM-style policies, a hash-chained audit
//! log, protection objects (clusters, nodes, quotas, security policies) and the shields'
//! side: enrolment, heartbeats, policy fetch and idempotent event ingest.
//!
//! Every route is declared once in [`routes::ROUTES`] with the guard that protects it
//! (one of the 18 actions, the node credential, or public) and the audit event it writes;
//! one middleware enforces the guard and writes the audit record, so no handler can
//! forget either.

mod audit;
mod auth;
mod bootstrap;
mod error;
mod handlers;
pub mod openapi;
pub mod operator;
pub mod routes;
pub mod secrets;
mod state;
pub mod throttle;
mod timefmt;

pub use bootstrap::bootstrap;
pub use error::ApiError;
pub use handlers::housekeeping::once as housekeeping_round;
pub use state::{AppState, ServerConfig};

use std::net::SocketAddr;
use std::sync::Arc;

/// Opens the store, prepares it on first start and serves until Ctrl-C or SIGTERM.
pub async fn serve(config: ServerConfig) -> Result<(), ServeError> {
    start(config, shutdown_signal()).await
}

/// Serves until `shutdown` completes: the API, and the background workers and scheduler
/// (which finish the job in hand before the call returns).
pub async fn start(
    config: ServerConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let store = store::open(&config.database_url).await?;
    let store: Arc<dyn store::Store> = Arc::new(store);
    if let Some(password) = bootstrap(store.as_ref(), config.admin_password.as_deref()).await? {
        // Printed once, on the console of the first start; never logged.
        eprintln!(
            "cguard: created the administrator account. User name: admin  Password: {password}\n\
             cguard: keep this password; it is not shown again."
        );
    }
    let state = AppState::new(store, config.clone());
    if config.secret_key.is_none() {
        tracing::warn!("no secret key file: secrets stored now cannot be read after a restart");
    } else {
        state.secrets.check(state.store.as_ref()).await.map_err(|e| ServeError::Secrets(e.to_string()))?;
    }
    let app = routes::router(state.clone());
    let listener =
        tokio::net::TcpListener::bind(config.listen).await.map_err(|e| ServeError::Bind(config.listen, e))?;
    tracing::info!(listen = %config.listen, backend = state.store.backend().name(), "cguard server ready");
    eprintln!("cguard server listening on http://{}", listener.local_addr().map_err(ServeError::Io)?);
    tokio::spawn(handlers::housekeeping::run(state.clone()));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let background = start_background(&state, stopped);
    let served = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async move {
            shutdown.await;
            let _ = stop.send(true);
        })
        .await
        .map_err(ServeError::Io);
    for task in background {
        let _ = task.await;
    }
    served
}

/// Starts this process's share of background work: the job workers (scans, registry
/// syncs, matching again) and the scheduler. They stop when `shutdown` turns true.
pub fn start_background(
    state: &AppState,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let mut tasks = Vec::new();
    if state.config.workers > 0 {
        let config = domain::jobs::worker::WorkerConfig {
            workers: state.config.workers,
            lease: state.config.job_lease,
            name: format!("server-{}", state.instance),
            ..Default::default()
        };
        tasks.extend(domain::jobs::worker::start(state.images.clone(), config, shutdown.clone()));
    }
    let schedule =
        domain::jobs::scheduler::ScheduleConfig { daily_at: state.config.daily_detection_at, ..Default::default() };
    tasks.push(tokio::spawn(domain::jobs::scheduler::run(state.images.clone(), schedule, shutdown)));
    tasks
}

/// `cguard worker`: the job workers and the scheduler without the API, on a shared
/// database, until `shutdown` completes.
pub async fn run_worker(
    config: ServerConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let store = store::open(&config.database_url).await?;
    let store: Arc<dyn store::Store> = Arc::new(store);
    let state = AppState::new(store, config.clone());
    if config.secret_key.is_some() {
        state.secrets.check(state.store.as_ref()).await.map_err(|e| ServeError::Secrets(e.to_string()))?;
    }
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let tasks = start_background(&state, stopped);
    eprintln!("cguard worker: {} workers on the {} database", config.workers, state.store.backend().name());
    shutdown.await;
    let _ = stop.send(true);
    for task in tasks {
        let _ = task.await;
    }
    Ok(())
}

/// Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    wait_for_signal().await;
}

async fn wait_for_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error("cannot listen on {0}: {1}")]
    Bind(SocketAddr, std::io::Error),
    #[error(transparent)]
    Io(std::io::Error),
    #[error("first start: {0}")]
    Bootstrap(#[from] ApiError),
    #[error("{0}")]
    Secrets(String),
}
