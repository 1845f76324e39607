//! Secrets at rest: the domain seals registry passwords through the server's key without
//! knowing it.

/// Seals and opens small secrets for a purpose (the purpose is bound to the ciphertext, so
/// a value sealed for one record cannot be moved to another).
pub trait Sealer: Send + Sync + std::fmt::Debug {
    fn seal(&self, purpose: &str, plain: &[u8]) -> String;
    fn open(&self, purpose: &str, sealed: &str) -> Result<Vec<u8>, String>;
}

/// The purpose a registry's password is sealed for.
pub fn registry_password_purpose(registry_id: &str) -> String {
    format!("registry-password:{registry_id}")
}
