//! A real server on a loopback port over a scratch database of each backend, and a small
//! HTTP client for it.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use store::scratch::ScratchDb;
use store::{Backend, Store};

pub const ADMIN_PASSWORD: &str = "test-admin-password";

pub struct TestServer {
    pub base: String,
    pub store: Arc<dyn Store>,
    pub state: server::AppState,
    /// The scratch database, for tests that act on it behind the server's back.
    pub db_url: String,
    pub backend: Backend,
    client: reqwest::Client,
    task: tokio::task::JoinHandle<()>,
    background: Vec<tokio::task::JoinHandle<()>>,
    /// Tells the background tasks to stop when the server is dropped.
    _stop: tokio::sync::watch::Sender<bool>,
}

impl TestServer {
    /// A server whose settings `adjust` changes; with workers in its settings, its
    /// background workers and scheduler run too.
    pub async fn start_with(db: &ScratchDb, adjust: impl FnOnce(&mut server::ServerConfig)) -> TestServer {
        let store: Arc<dyn Store> = Arc::new(store::open(&db.url).await.expect("open the store"));
        server::bootstrap(store.as_ref(), Some(ADMIN_PASSWORD)).await.expect("bootstrap");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let mut config = server::ServerConfig::new(addr, db.url.clone());
        config.lockout_threshold = 3;
        config.workers = 0;
        adjust(&mut config);
        let state = server::AppState::new(store.clone(), config);
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let background = if state.config.workers > 0 { server::start_background(&state, stopped) } else { Vec::new() };
        let app = server::routes::router(state.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await.unwrap();
        });
        TestServer {
            base: format!("http://{addr}"),
            store,
            state,
            client: reqwest::Client::new(),
            task,
            background,
            _stop: stop,
            db_url: db.url.clone(),
            backend: db.backend,
        }
    }

    /// A request; returns the status and the body as JSON (Null when empty or not JSON).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("the server answers");
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn login(&self, user: &str, password: &str) -> String {
        let (status, body) = self
            .call(Method::POST, "/api/v1/auth/login", None, Some(json!({"username": user, "password": password})))
            .await;
        assert_eq!(status, StatusCode::OK, "login of {user}: {body}");
        body["token"].as_str().unwrap().to_string()
    }

    pub async fn admin(&self) -> String {
        self.login("admin", ADMIN_PASSWORD).await
    }

    /// Creates a user with a custom policy made of `statements`, and signs it in.
    pub async fn user_with(&self, admin: &str, name: &str, statements: Value) -> String {
        let password = format!("{name}-password-123");
        let (s, user) = self.post("/api/v1/users", admin, json!({"name": name, "password": password})).await;
        assert_eq!(s, StatusCode::CREATED, "{user}");
        let policy = json!({"name": format!("{name}-policy"), "document": {"Version": "1.1", "Statement": statements}});
        let (s, policy) = self.post("/api/v1/iam/policies", admin, policy).await;
        assert_eq!(s, StatusCode::CREATED, "{policy}");
        let attach = json!({"principal_type": "user", "principal_id": user["id"]});
        let (s, body) =
            self.post(&format!("/api/v1/iam/policies/{}/attach", policy["id"].as_str().unwrap()), admin, attach).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        self.login(name, &password).await
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
        for t in &self.background {
            t.abort();
        }
    }
}

/// Runs `body` against a fresh server on SQLite, then on PostgreSQL.
pub async fn each_backend<F, Fut>(body: F)
where
    F: Fn(TestServer) -> Fut,
    Fut: Future<Output = ()>,
{
    each_backend_with(|_| {}, body).await;
}

/// [`each_backend`] with settings changed by `adjust`.
pub async fn each_backend_with<A, F, Fut>(adjust: A, body: F)
where
    A: Fn(&mut server::ServerConfig),
    F: Fn(TestServer) -> Fut,
    Fut: Future<Output = ()>,
{
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let db = ScratchDb::new(backend).await.unwrap_or_else(|e| panic!("{backend:?}: {e}"));
        let server = TestServer::start_with(&db, &adjust).await;
        body(server).await;
        db.drop_now().await.unwrap();
    }
}
