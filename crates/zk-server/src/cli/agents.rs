//! `zk-agent agents …`: agents from the command line — list, show, import and export files, and
//! validate files without touching the database.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Subcommand, ValueEnum};
use zk_core::Core;
use zk_core::agents::{AgentView, FileFormat, KeyState, file};
use zk_core::config::Config;
use zk_core::request::RequestMeta;

#[derive(Subcommand)]
pub enum AgentsCommand {
    /// List the agents
    List {
        #[arg(long)]
        json: bool,
    },
    /// Show one agent's configuration (as an agent file) and where its key comes from
    Show {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Create or update agents from TOML or JSON files (each file all or nothing)
    Import {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Write agents as a TOML or JSON file (API keys are never exported)
    Export {
        /// Only these agents (repeatable); all when absent
        #[arg(long = "name", value_name = "NAME")]
        names: Vec<String>,
        #[arg(long, value_enum, default_value = "toml")]
        format: FormatArg,
        /// Write here instead of stdout
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Check agent files without changing anything; prints file:line:column: problem for each
    Validate {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum FormatArg {
    Toml,
    Json,
}

impl From<FormatArg> for FileFormat {
    fn from(format: FormatArg) -> Self {
        match format {
            FormatArg::Toml => FileFormat::Toml,
            FormatArg::Json => FileFormat::Json,
        }
    }
}

/// `validate` needs no database; it runs before the core opens.
pub fn validate(files: &[PathBuf]) -> ExitCode {
    let mut failed = false;
    for path in files {
        match read_agent_file(path) {
            Err(error) => {
                eprintln!("{}: {error:#}", path.display());
                failed = true;
            }
            Ok((text, format, label)) => match file::parse_agents(&text, format, &label) {
                Ok(specs) => println!("{label}: ok ({} agent{})", specs.len(), if specs.len() == 1 { "" } else { "s" }),
                Err(problems) => {
                    for problem in problems {
                        eprintln!("{problem}");
                    }
                    failed = true;
                }
            },
        }
    }
    if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}

pub async fn run(config: Config, command: AgentsCommand) -> anyhow::Result<()> {
    let core = Core::open(config).await?;
    let result = run_with(&core, command).await;
    core.close().await;
    result
}

async fn run_with(core: &Core, command: AgentsCommand) -> anyhow::Result<()> {
    match command {
        AgentsCommand::List { json } => {
            let agents = core.agents.list().await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&agents)?);
            } else if agents.is_empty() {
                println!("no agents yet: import a file with `zk-agent agents import FILE` or add one in the app");
            } else {
                println!("{:<24} {:<7} {:<8} {:<8} {:>7}  key", "name", "kind", "provider", "enabled", "version");
                for agent in &agents {
                    println!(
                        "{:<24} {:<7} {:<8} {:<8} {:>7}  {}",
                        agent.spec.name,
                        agent.spec.kind.as_str(),
                        agent.spec.provider.as_str(),
                        if agent.spec.enabled { "yes" } else { "no" },
                        agent.version,
                        key_state(agent)
                    );
                }
            }
        }
        AgentsCommand::Show { name, json } => {
            let agent = core.agents.get_by_name(&name).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&agent)?);
            } else {
                println!("# version {}, key: {}", agent.version, key_state(&agent));
                if let Some(source) = &agent.source_file {
                    println!("# from the agents folder: {source}");
                }
                print!(
                    "{}",
                    file::export_agents(std::slice::from_ref(&agent.spec), FileFormat::Toml)
                        .map_err(anyhow::Error::msg)?
                );
            }
        }
        AgentsCommand::Import { files } => {
            let meta = RequestMeta { client: Some("zk-agent cli".into()), ..RequestMeta::default() };
            for path in files {
                let (text, format, label) = read_agent_file(&path)?;
                let report = core.agents.import(None, &text, format, &label, &meta).await?;
                println!(
                    "{label}: {} created, {} updated, {} unchanged",
                    report.created.len(),
                    report.updated.len(),
                    report.unchanged.len()
                );
            }
        }
        AgentsCommand::Export { names, format, output } => {
            let mut ids = Vec::new();
            for name in &names {
                ids.push(core.agents.get_by_name(name).await?.id);
            }
            let text = core.agents.export(&ids, format.into()).await?;
            match output {
                Some(path) => {
                    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?
                }
                None => print!("{text}"),
            }
        }
        AgentsCommand::Validate { .. } => {}
    }
    Ok(())
}

fn read_agent_file(path: &std::path::Path) -> anyhow::Result<(String, FileFormat, String)> {
    let label = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
    let format = FileFormat::from_file_name(&label)
        .with_context(|| format!("{label} is neither .toml nor .json; agent files are one or the other"))?;
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok((text, format, label))
}

fn key_state(agent: &AgentView) -> String {
    match &agent.key {
        KeyState::Stored => "stored".into(),
        KeyState::Environment { var } => format!("from ${var}"),
        KeyState::MissingEnvironment { var } => format!("${var} is not set"),
        KeyState::Missing => "none".into(),
        KeyState::Unavailable { reason } => format!("unavailable ({reason})"),
    }
}
