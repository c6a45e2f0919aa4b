//! `zk-agent users …`: accounts from the command line (the first admin of a server, recovery).

use std::io::BufRead;

use anyhow::{Context, bail};
use clap::Subcommand;
use rand::Rng;
use zk_core::Core;
use zk_core::accounts::{NewAccount, UserPatch};
use zk_core::config::Config;
use zk_core::request::RequestMeta;

use super::RoleArg;

#[derive(Subcommand)]
pub enum UsersCommand {
    /// Create a user (the password comes from stdin or is generated, never from the command line)
    Create {
        #[arg(long)]
        username: String,
        #[arg(long, value_enum)]
        role: RoleArg,
        #[arg(long)]
        display_name: Option<String>,
        /// Read the password from the first line of standard input
        #[arg(long, conflicts_with = "generate_password")]
        password_stdin: bool,
        /// Generate a strong password and print it once
        #[arg(long)]
        generate_password: bool,
    },
    /// List users
    List {
        #[arg(long)]
        json: bool,
    },
    /// Change a user's role
    SetRole {
        username: String,
        #[arg(value_enum)]
        role: RoleArg,
    },
    /// Disable a user (ends their sessions), or enable them again with --enable
    Disable {
        username: String,
        #[arg(long)]
        enable: bool,
    },
}

pub async fn run(config: Config, command: UsersCommand) -> anyhow::Result<()> {
    let core = Core::open(config).await?;
    let meta = RequestMeta { client: Some("zk-agent cli".into()), ..RequestMeta::default() };
    let result = match command {
        UsersCommand::Create { username, role, display_name, password_stdin, generate_password } => {
            let password = if generate_password {
                generated_password()
            } else if password_stdin {
                let mut line = String::new();
                std::io::stdin().lock().read_line(&mut line).context("cannot read the password from stdin")?;
                line.trim_end_matches(['\r', '\n']).to_owned()
            } else {
                bail!("give --password-stdin (and the password on stdin) or --generate-password");
            };
            let account = NewAccount { username, display_name, password: password.clone(), role: role.into() };
            let user = core.accounts.create_user(None, account, &meta).await?;
            out!("created user {} (id {}, role {})", user.username, user.id, user.role);
            if generate_password {
                out!("password: {password}");
                out!("(shown once; sign in and change it under Settings)");
            }
            Ok(())
        }
        UsersCommand::List { json } => {
            let users = core.accounts.list_users().await?;
            if json {
                out!("{}", serde_json::to_string_pretty(&users)?);
            } else {
                out!("{:>5}  {:<24} {:<9} {:<8} display name", "id", "username", "role", "state");
                for user in users {
                    let state = if user.disabled { "disabled" } else { "active" };
                    out!(
                        "{:>5}  {:<24} {:<9} {:<8} {}",
                        user.id,
                        user.username,
                        user.role.as_str(),
                        state,
                        user.display_name
                    );
                }
            }
            Ok(())
        }
        UsersCommand::SetRole { username, role } => {
            let user = core.accounts.user_by_username(&username).await?;
            let patch = UserPatch { role: Some(role.into()), ..UserPatch::default() };
            let view = core.accounts.update_user(None, user.id, patch, &meta).await?;
            out!("{} is now {}", view.username, view.role.as_str());
            Ok(())
        }
        UsersCommand::Disable { username, enable } => {
            let user = core.accounts.user_by_username(&username).await?;
            let patch = UserPatch { disabled: Some(!enable), ..UserPatch::default() };
            let view = core.accounts.update_user(None, user.id, patch, &meta).await?;
            out!("{} is now {}", view.username, if view.disabled { "disabled" } else { "enabled" });
            Ok(())
        }
    };
    core.close().await;
    result
}

/// 20 characters from an alphabet without look-alikes: about 115 bits.
fn generated_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..20).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}
