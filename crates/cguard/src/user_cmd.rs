//! `cguard user unlock|reset-password`: the operator's way back into an account, on the
//! server's host, with the database and the secret key at hand.

use std::io::Read;
use std::path::PathBuf;

use anyhow::Context;

#[derive(clap::Subcommand)]
pub enum UserCommand {
    /// Clear a locked account's lockout.
    Unlock(UserArgs),
    /// Set a new password (read from standard input), clear a lockout, and revoke the
    /// user's sessions and API tokens.
    ResetPassword(UserArgs),
}

#[derive(clap::Args)]
pub struct UserArgs {
    /// The user's name.
    name: String,
    #[command(flatten)]
    db: crate::server_cmd::DatabaseArgs,
    /// The server's secret key file (the audit chain is keyed from it). Default:
    /// DATA_DIR/secret.key.
    #[arg(long, env = "CGUARD_SECRET_KEY_FILE", value_name = "FILE")]
    secret_key_file: Option<PathBuf>,
}

pub fn run(cmd: UserCommand) -> anyhow::Result<()> {
    let (args, reset) = match cmd {
        UserCommand::Unlock(a) => (a, false),
        UserCommand::ResetPassword(a) => (a, true),
    };
    let password = if reset {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).context("reading the new password from standard input")?;
        Some(text.trim_end_matches(['\r', '\n']).to_owned())
    } else {
        None
    };
    let key_file = args.secret_key_file.unwrap_or_else(|| args.db.data_dir.join("secret.key"));
    let key = server::secrets::SecretKey::load(&key_file)?.audit_key();
    let url = crate::server_cmd::database_url(&args.db.data_dir, args.db.database)?;
    crate::server_cmd::runtime()?.block_on(async {
        let store = store::open(&url).await?;
        match password {
            None => {
                server::operator::unlock_user(&store, &key, &args.name).await.map_err(|e| anyhow::anyhow!("{e}"))?;
                println!("user {} unlocked", args.name);
            }
            Some(p) => {
                let revoked = server::operator::reset_password(&store, &key, &args.name, &p)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                println!("password of {} set; {revoked} sessions and API tokens revoked", args.name);
            }
        }
        anyhow::Ok(())
    })
}
