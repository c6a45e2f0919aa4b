//! Command-line parsing and dispatch. Each command is a thin layer over zk-core.

/// `println!` that ends the process quietly when stdout is closed (`zk-agent users list | head`).
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::print_line(format_args!($($arg)*))
    };
}

mod agents;
mod cad;
mod chat;
mod config_show;
mod doctor;
mod poster;
mod seed;
mod serve;
mod sync;
mod users;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use zk_core::config::{Config, ConfigError};
use zk_core::store::Role;

#[derive(Parser)]
#[command(name = "zk-agent", version, about = "ZK-Agent: the local server and operations tool of ZK-Agent Desktop")]
#[command(after_help = "Configuration comes from flags, then the environment, then .env files, then the config file \
    (see `zk-agent config show`). With nothing set, everything runs offline on SQLite in the data directory.")]
struct Cli {
    #[command(flatten)]
    global: GlobalFlags,
    #[command(subcommand)]
    command: Command,
}

/// Flags every command takes; each stands for the configuration variable in brackets.
#[derive(Args, Default)]
struct GlobalFlags {
    /// Config file to read [ZK_CONFIG]
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Data directory [ZK_DATA_DIR]
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Database, postgres://… or sqlite://… [DATABASE_URL]
    #[arg(long, global = true, value_name = "URL")]
    database_url: Option<String>,
    /// Directory of the local file store [UPLOAD_DIR]
    #[arg(long, global = true, value_name = "DIR")]
    upload_dir: Option<PathBuf>,
    /// Log format [LOG_FORMAT]
    #[arg(long, global = true, value_enum)]
    log_format: Option<LogFormatArg>,
    /// Log filter, e.g. info or zk_core=debug [LOG_LEVEL]
    #[arg(long, global = true, value_name = "FILTER")]
    log_level: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormatArg {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API and the UI on 127.0.0.1:PORT until interrupted
    Serve(serve::ServeArgs),
    /// Apply pending database migrations
    Migrate {
        /// Only report applied and pending migrations
        #[arg(long)]
        status: bool,
    },
    /// Add default system settings that are missing (safe to run again)
    Seed,
    /// Manage user accounts
    #[command(subcommand)]
    Users(users::UsersCommand),
    /// Inspect the configuration
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Check configuration, port, database, cache, file store, disk space, keychain and FastGPT; print a
    /// fix for each problem. Exit 0: nothing failed (warnings allowed); 1: a check failed
    Doctor {
        /// Print one JSON document instead of lines: {status, exit_code, checks: [{check, status, detail, fix}]}
        #[arg(long)]
        json: bool,
    },
    /// Ask a stored agent (--agent) or a model API directly, and stream the answer to stdout
    Chat(chat::ChatArgs),
    /// Manage agents: list, show, import, export, validate files
    #[command(subcommand)]
    Agents(agents::AgentsCommand),
    /// CAD drawings: facts and diagnostics (info), SVG and PNG images (render); no database needed
    #[command(subcommand)]
    Cad(cad::CadCommand),
    /// Posters: templates, styles and sizes; render a template or a poster document to PNG or PDF;
    /// offline, no database needed
    #[command(subcommand)]
    Poster(poster::PosterCommand),
    /// Object-storage sync: status, run now, verify the bucket against the database
    #[command(subcommand)]
    Sync(sync::SyncCommand),
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// The effective configuration, secrets redacted, with where each value came from
    Show {
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum RoleArg {
    Admin,
    Designer,
    Viewer,
}

impl From<RoleArg> for Role {
    fn from(role: RoleArg) -> Self {
        match role {
            RoleArg::Admin => Role::Admin,
            RoleArg::Designer => Role::Designer,
            RoleArg::Viewer => Role::Viewer,
        }
    }
}

impl GlobalFlags {
    fn overrides(&self) -> BTreeMap<String, String> {
        let mut flags = BTreeMap::new();
        let mut set = |name: &str, value: Option<String>| {
            if let Some(value) = value {
                flags.insert(name.to_owned(), value);
            }
        };
        set("ZK_CONFIG", self.config.as_ref().map(|p| p.display().to_string()));
        set("ZK_DATA_DIR", self.data_dir.as_ref().map(|p| p.display().to_string()));
        set("DATABASE_URL", self.database_url.clone());
        set("UPLOAD_DIR", self.upload_dir.as_ref().map(|p| p.display().to_string()));
        set(
            "LOG_FORMAT",
            self.log_format.map(|f| match f {
                LogFormatArg::Text => "text".to_owned(),
                LogFormatArg::Json => "json".to_owned(),
            }),
        );
        set("LOG_LEVEL", self.log_level.clone());
        flags
    }
}

/// Exit codes: 0 success, 1 failure (or problems found by `doctor`, or a drawing `cad` cannot read, or
/// a poster that cannot be rendered),
/// 2 bad configuration or usage.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let mut flags = cli.global.overrides();
    if let Command::Serve(args) = &cli.command {
        args.add_overrides(&mut flags);
    }
    if let Command::Chat(args) = &cli.command {
        args.add_overrides(&mut flags);
    }
    if let Command::Doctor { json } = cli.command {
        return runtime().block_on(doctor::run(flags, json));
    }
    if let Command::Agents(agents::AgentsCommand::Validate { files }) = &cli.command {
        return agents::validate(files);
    }
    // Posters need no configuration, database or network: they run before any of those is read.
    if let Command::Poster(command) = cli.command {
        return poster::run(command);
    }
    let config = match Config::load(flags) {
        Ok(config) => config,
        Err(error) => return config_error(&error),
    };
    if let Command::Cad(command) = cli.command {
        zk_core::logging::init_command("warn");
        return cad::run(&config, command);
    }
    if let Command::Chat(args) = cli.command {
        zk_core::logging::init_command("warn");
        return runtime().block_on(chat::run(config, args));
    }
    if matches!(cli.command, Command::Serve(_)) {
        zk_core::logging::init(config.logging.format, &config.logging.level);
    } else {
        zk_core::logging::init_command("warn");
    }
    let result = runtime().block_on(async move {
        match cli.command {
            Command::Serve(args) => serve::run(config, args.new_database).await,
            Command::Migrate { status } => seed::migrate(config, status).await,
            Command::Seed => seed::seed(config).await,
            Command::Users(command) => users::run(config, command).await,
            Command::Agents(command) => agents::run(config, command).await,
            Command::Sync(command) => sync::run(config, command).await,
            Command::Config(ConfigCommand::Show { json }) => config_show::run(&config, json),
            Command::Doctor { .. } | Command::Chat(_) | Command::Cad(_) | Command::Poster(_) => Ok(()),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(fatal = true, error = %format!("{error:#}"), "zk-agent stopped");
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

pub fn print_line(line: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    if let Err(error) = writeln!(stdout, "{line}")
        && error.kind() == std::io::ErrorKind::BrokenPipe
    {
        std::process::exit(0);
    }
}

fn runtime() -> tokio::runtime::Runtime {
    match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            std::process::exit(1);
        }
    }
}

fn config_error(error: &ConfigError) -> ExitCode {
    eprintln!("error: invalid configuration: {error}");
    ExitCode::from(2)
}
