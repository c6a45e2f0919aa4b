//! `zk-agent chat`: asks a stored agent (`--agent`), or a model API given on the command line, and
//! streams the answer to stdout — to try an agent or diagnose a deployment without the UI.
//! Exit codes: 0 answered, 1 refused or failed, 2 bad usage or configuration, 3 cut off or stalled
//! (the partial answer is printed).

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, ValueEnum};
use futures_util::StreamExt;
use zk_core::agents::request::{ChatEvent, Interactive, ModelApiError};
use zk_core::agents::{AnswerStream, Exchange, ProviderKind, ResolvedAgent};
use zk_core::config::Config;
use zk_core::secret::Secret;

#[derive(Args)]
pub struct ChatArgs {
    /// A stored agent (its endpoint, key, prompt and parameters); see `zk-agent agents list`
    #[arg(long, value_name = "NAME", conflicts_with_all = ["provider", "base_url", "model"])]
    agent: Option<String>,
    /// The model API to talk to (without --agent)
    #[arg(long, value_enum, default_value = "fastgpt")]
    provider: ProviderArg,
    /// Its base URL; for FastGPT the default is FASTGPT_API_URL
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
    /// The model (OpenAI-compatible servers need one; FastGPT ignores it)
    #[arg(long)]
    model: Option<String>,
    /// Ask FastGPT for its detail events (node progress, tools, quotes, variables)
    #[arg(long)]
    detail: bool,
    /// Continue a FastGPT chat: FastGPT keeps its history and reads only this message
    #[arg(long, value_name = "ID")]
    chat_id: Option<String>,
    /// Print one JSON event per line instead of the answer text
    #[arg(long)]
    json: bool,
    /// Seconds without a byte before the stream counts as stalled
    #[arg(long, default_value_t = 60)]
    idle_timeout: u64,
    /// The message
    message: String,
}

impl ChatArgs {
    /// `--base-url` of a FastGPT chat stands for FASTGPT_API_URL in this run, so a key given as
    /// FASTGPT_API_KEY alone goes with it (and the configuration check that pairs the two passes).
    pub fn add_overrides(&self, flags: &mut std::collections::BTreeMap<String, String>) {
        if let (None, ProviderArg::Fastgpt, Some(url)) = (&self.agent, self.provider, &self.base_url) {
            flags.insert("FASTGPT_API_URL".into(), url.clone());
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum ProviderArg {
    Fastgpt,
    Openai,
}

pub async fn run(config: Config, args: ChatArgs) -> ExitCode {
    let agent = match &args.agent {
        Some(name) => match stored_agent(config, name).await {
            Ok(agent) => agent,
            Err(error) => {
                eprintln!("error: {error:#}");
                return ExitCode::from(2);
            }
        },
        None => match unstored_agent(&config, &args) {
            Ok(agent) => agent,
            Err(code) => return code,
        },
    };
    // What the agent is sent of this exchange is the core's rule (`Exchange`, `AgentSpec::model_request`).
    let exchange = Exchange {
        chat_id: args.chat_id.clone(),
        detail: args.detail.then_some(true),
        ..Exchange::question(args.message.clone())
    };
    let read_idle = Duration::from_secs(args.idle_timeout.max(1));
    match agent.ask(exchange, Some(read_idle)).await {
        Ok(stream) => stream_answer(stream, args.json).await,
        Err(error) => fail(&error, args.json),
    }
}

/// The stored agent with its key resolved.
async fn stored_agent(config: Config, name: &str) -> anyhow::Result<ResolvedAgent> {
    let core = zk_core::Core::open(config).await?;
    let found = core.agents.get_by_name(name).await;
    let resolved = match found {
        Ok(agent) => core.agents.resolve(agent.id).await,
        Err(error) => Err(error),
    };
    core.close().await;
    Ok(resolved?)
}

/// The model API given on the command line; the key from the configuration or the environment.
fn unstored_agent(config: &Config, args: &ChatArgs) -> Result<ResolvedAgent, ExitCode> {
    let (provider, key_variable) = match args.provider {
        ProviderArg::Fastgpt => (ProviderKind::Fastgpt, "FASTGPT_API_KEY"),
        ProviderArg::Openai => (ProviderKind::Openai, "OPENAI_API_KEY"),
    };
    let base_url = match (&args.base_url, provider, &config.agents.fastgpt) {
        (Some(url), _, _) => url.clone(),
        (None, ProviderKind::Fastgpt, Some(fastgpt)) => fastgpt.base_url.clone(),
        _ => {
            eprintln!("error: no base URL; give --agent NAME, or --base-url (or set FASTGPT_API_URL for FastGPT)");
            return Err(ExitCode::from(2));
        }
    };
    let key = match provider {
        ProviderKind::Fastgpt => config.agents.fastgpt.as_ref().and_then(|f| f.api_key.clone()),
        ProviderKind::Openai => None,
    }
    .or_else(|| std::env::var(key_variable).ok().filter(|k| !k.is_empty()).map(Secret::new));
    ResolvedAgent::unstored(provider, &base_url, args.model.clone(), key).map_err(|error| fail(&error, args.json))
}

/// Prints the answer as it arrives (or one JSON event per line).
async fn stream_answer(mut stream: AnswerStream, json: bool) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    let mut printed_text = false;
    while let Some(item) = stream.next().await {
        let event = match item {
            Ok(event) => event,
            Err(error) => {
                if printed_text {
                    let _ = writeln!(stdout);
                }
                return fail(&error, json);
            }
        };
        let written = if json {
            serde_json::to_string(&event).map_or(Ok(()), |line| writeln!(stdout, "{line}"))
        } else {
            match &event {
                ChatEvent::Answer { text } | ChatEvent::FastAnswer { text } => {
                    printed_text = true;
                    write!(stdout, "{text}").and_then(|()| stdout.flush())
                }
                ChatEvent::Interactive(form) => {
                    describe_interactive(form);
                    Ok(())
                }
                _ => Ok(()),
            }
        };
        if written.is_err() {
            // stdout closed (a pipe into `head`): stop quietly.
            return ExitCode::SUCCESS;
        }
    }
    if printed_text {
        let _ = writeln!(stdout);
    }
    ExitCode::SUCCESS
}

/// The workflow waits for an answer: say how to give it.
fn describe_interactive(form: &Interactive) {
    match form {
        Interactive::UserSelect { description, options } => {
            eprintln!("\n[the workflow asks] {description}");
            for option in options {
                eprintln!("  - {}", option.value);
            }
            eprintln!("answer with: zk-agent chat --chat-id <the same id> --detail \"<one of the options>\"");
        }
        Interactive::UserInput { description, fields } => {
            eprintln!("\n[the workflow asks] {description}");
            for field in fields {
                eprintln!("  {} ({}){}", field.key, field.label, if field.required { ", required" } else { "" });
            }
            eprintln!("answer with: zk-agent chat --chat-id <the same id> --detail '{{\"key\": value, …}}'");
        }
        Interactive::Other { .. } => eprintln!("\n[the workflow waits for an interaction this command cannot show]"),
    }
}

fn fail(error: &ModelApiError, json: bool) -> ExitCode {
    if json {
        println!("{}", serde_json::json!({ "type": "error", "message": error.to_string() }));
    }
    eprintln!("error: {error}");
    match error {
        ModelApiError::Interrupted(_) | ModelApiError::Stalled(_) => ExitCode::from(3),
        _ => ExitCode::FAILURE,
    }
}
