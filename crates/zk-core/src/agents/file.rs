//! Agent files: one or many agents as TOML or JSON, for import, export and the watched folder.
//!
//! A file holds one agent (its fields at the top level) or many (`[[agent]]` tables in TOML; an array,
//! or `{"agents": [...]}`, in JSON). Problems carry the file, line and column so a power user editing
//! the file finds them at once. API keys are never written to a file.

use serde::{Deserialize, Serialize};

use super::spec::AgentSpec;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum FileFormat {
    Toml,
    Json,
}

impl FileFormat {
    /// The format a file name's extension says, if it is one of ours.
    pub fn from_file_name(name: &str) -> Option<Self> {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".toml") {
            Some(Self::Toml)
        } else if lower.ends_with(".json") {
            Some(Self::Json)
        } else {
            None
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Toml => "toml",
            Self::Json => "json",
        }
    }

    pub fn media_type(self) -> &'static str {
        match self {
            Self::Toml => "application/toml",
            Self::Json => "application/json",
        }
    }
}

/// Something wrong in an agent file, where it is and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct FileProblem {
    pub file: String,
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub message: String,
}

impl std::fmt::Display for FileProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.line, self.column) {
            (Some(line), Some(column)) => write!(f, "{}:{line}:{column}: {}", self.file, self.message),
            (Some(line), None) => write!(f, "{}:{line}: {}", self.file, self.message),
            _ => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlMany {
    agent: Vec<AgentSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonMany {
    agents: Vec<AgentSpec>,
}

#[derive(Serialize)]
struct TomlExport<'a> {
    agent: &'a [AgentSpec],
}

/// Reads every agent of a file, checked: either all of them, or every problem found.
pub fn parse_agents(text: &str, format: FileFormat, file: &str) -> Result<Vec<AgentSpec>, Vec<FileProblem>> {
    let specs = match format {
        FileFormat::Toml => parse_toml(text, file),
        FileFormat::Json => parse_json(text, file),
    }
    .map_err(|problem| vec![problem])?;
    if specs.is_empty() {
        return Err(vec![FileProblem {
            file: file.into(),
            line: None,
            column: None,
            message: "the file has no agent".into(),
        }]);
    }
    let mut problems = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let specs: Vec<AgentSpec> = specs.into_iter().map(AgentSpec::normalized).collect();
    for spec in &specs {
        for problem in spec.problems() {
            let (line, column) = locate_field(text, format, &spec.name, &problem.field);
            problems.push(FileProblem {
                file: file.into(),
                line,
                column,
                message: format!("{}: {}", problem.field, problem.message),
            });
        }
        if !spec.name.is_empty() && !seen.insert(spec.name.to_lowercase()) {
            let (line, column) = locate_field(text, format, &spec.name, "name");
            problems.push(FileProblem {
                file: file.into(),
                line,
                column,
                message: format!("the name {:?} appears twice in this file", spec.name),
            });
        }
    }
    if problems.is_empty() { Ok(specs) } else { Err(problems) }
}

fn parse_toml(text: &str, file: &str) -> Result<Vec<AgentSpec>, FileProblem> {
    let located = |error: toml::de::Error| {
        let (line, column) = match error.span() {
            Some(span) => line_column(text, span.start),
            None => (None, None),
        };
        FileProblem { file: file.into(), line, column, message: error.message().trim().to_owned() }
    };
    // Syntax first, so a broken file is reported as such and not as a missing field.
    let table: toml::Table = text.parse().map_err(located)?;
    if table.contains_key("agent") {
        Ok(toml::from_str::<TomlMany>(text).map_err(located)?.agent)
    } else {
        Ok(vec![toml::from_str::<AgentSpec>(text).map_err(located)?])
    }
}

fn parse_json(text: &str, file: &str) -> Result<Vec<AgentSpec>, FileProblem> {
    let located = |error: serde_json::Error| FileProblem {
        file: file.into(),
        line: u32::try_from(error.line()).ok().filter(|l| *l > 0),
        column: u32::try_from(error.column()).ok().filter(|c| *c > 0),
        message: error.to_string().split(" at line ").next().unwrap_or_default().to_owned(),
    };
    let value: serde_json::Value = serde_json::from_str(text).map_err(located)?;
    match &value {
        serde_json::Value::Array(_) => serde_json::from_str::<Vec<AgentSpec>>(text).map_err(located),
        serde_json::Value::Object(map) if map.contains_key("agents") => {
            Ok(serde_json::from_str::<JsonMany>(text).map_err(located)?.agents)
        }
        serde_json::Value::Object(_) => Ok(vec![serde_json::from_str::<AgentSpec>(text).map_err(located)?]),
        _ => Err(FileProblem {
            file: file.into(),
            line: Some(1),
            column: Some(1),
            message: "expected an agent (an object) or a list of agents".into(),
        }),
    }
}

/// Writes agents as a file the importer and the watched folder read back.
pub fn export_agents(specs: &[AgentSpec], format: FileFormat) -> Result<String, String> {
    match format {
        FileFormat::Toml => {
            let body = match specs {
                [one] => toml::to_string_pretty(one),
                many => toml::to_string_pretty(&TomlExport { agent: many }),
            }
            .map_err(|e| format!("cannot write TOML: {e}"))?;
            Ok(format!(
                "# ZK-Agent agents. API keys are not exported: set each agent's key in the app,\n\
                 # or name an environment variable that holds it in api_key_env.\n\n{body}"
            ))
        }
        FileFormat::Json => {
            let body = match specs {
                [one] => serde_json::to_string_pretty(one),
                many => serde_json::to_string_pretty(&serde_json::json!({ "agents": many })),
            }
            .map_err(|e| format!("cannot write JSON: {e}"))?;
            Ok(body + "\n")
        }
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (Option<u32>, Option<u32>) {
    let Some(before) = text.get(..offset.min(text.len())) else { return (None, None) };
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (u32::try_from(line).ok(), u32::try_from(column).ok())
}

/// Where a (valid-syntax) file sets a field of the agent named `agent`: the first line with the
/// field's key after the line naming the agent. Good enough to send an editor to the right place.
fn locate_field(text: &str, format: FileFormat, agent: &str, field: &str) -> (Option<u32>, Option<u32>) {
    let key = field.rsplit('.').next().unwrap_or(field);
    let is_key_line = |line: &str, key: &str| {
        let line = line.trim_start();
        match format {
            FileFormat::Toml => {
                line.strip_prefix(key).is_some_and(|rest| rest.trim_start().starts_with('='))
                    || (key != "name" && line.starts_with('[') && line.trim_end().ends_with(&format!(".{key}]")))
            }
            FileFormat::Json => line.starts_with(&format!("\"{key}\"")),
        }
    };
    let names_agent = |line: &str| is_key_line(line, "name") && line.contains(&quoted(agent));
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.iter().position(|l| names_agent(l)).unwrap_or(0);
    if key == "name" {
        return (u32::try_from(start + 1).ok(), Some(1));
    }
    // The agent's fields may come before its name in the same table; look back to the table start.
    let table_start = lines[..start]
        .iter()
        .rposition(|l| {
            let l = l.trim_start();
            l.starts_with("[[") || l.starts_with('{')
        })
        .unwrap_or(0);
    match lines.iter().enumerate().skip(table_start).find(|(_, l)| is_key_line(l, key)) {
        Some((index, line)) => {
            let column = line.len() - line.trim_start().len() + 1;
            (u32::try_from(index + 1).ok(), u32::try_from(column).ok())
        }
        None => (u32::try_from(start + 1).ok(), None),
    }
}

fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::spec::{AgentParameters, ProviderKind};

    const TWO: &str = r#"
[[agent]]
name = "Poster helper"
provider = "fastgpt"
base_url = "https://fastgpt.example.com"

[[agent]]
name = "Local"
provider = "openai"
base_url = "http://127.0.0.1:8080"
model = "qwen2.5"
[agent.parameters]
temperature = 0.3
"#;

    #[test]
    fn reads_many_agents_from_toml() {
        let specs = parse_agents(TWO, FileFormat::Toml, "team.toml").expect("valid file");
        assert_eq!(specs.len(), 2);
        assert_eq!(specs[1].parameters.temperature, Some(0.3));
        assert_eq!(specs[1].parameters.context_budget, AgentParameters::default().context_budget);
    }

    #[test]
    fn a_syntax_error_names_file_line_and_column() {
        let text = "name = \"x\"\nprovider = \"fastgpt\"\nbase_url = \"https://a\nmodel = 1\n";
        let problems = parse_agents(text, FileFormat::Toml, "bad.toml").unwrap_err();
        assert_eq!(problems[0].file, "bad.toml");
        assert_eq!(problems[0].line, Some(3), "{problems:?}");
    }

    #[test]
    fn an_unknown_field_is_reported_where_it_is() {
        let text = "name = \"x\"\nprovider = \"fastgpt\"\nbase_url = \"https://a\"\ntemprature = 1\n";
        let problems = parse_agents(text, FileFormat::Toml, "typo.toml").unwrap_err();
        assert_eq!(problems[0].line, Some(4), "{problems:?}");
        assert!(problems[0].message.contains("temprature"), "{problems:?}");
    }

    #[test]
    fn a_semantic_problem_points_at_its_field() {
        let text = TWO.replace("temperature = 0.3", "temperature = 7");
        let problems = parse_agents(&text, FileFormat::Toml, "team.toml").unwrap_err();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].line, Some(13), "{problems:?}");
        assert!(problems[0].message.starts_with("parameters.temperature"));
    }

    #[test]
    fn json_errors_carry_line_and_column() {
        let text = "{\n  \"name\": \"x\",\n  \"provider\": \"nope\",\n  \"base_url\": \"https://a\"\n}";
        let problems = parse_agents(text, FileFormat::Json, "a.json").unwrap_err();
        assert_eq!(problems[0].line, Some(3), "{problems:?}");
    }

    #[test]
    fn duplicate_names_in_one_file_are_refused() {
        let text = TWO.replace("\"Local\"", "\"poster HELPER\"");
        let problems = parse_agents(&text, FileFormat::Toml, "team.toml").unwrap_err();
        assert!(problems[0].message.contains("twice"), "{problems:?}");
    }

    #[test]
    fn exports_read_back_the_same_in_both_formats() {
        let specs = parse_agents(TWO, FileFormat::Toml, "team.toml").expect("valid");
        for format in [FileFormat::Toml, FileFormat::Json] {
            let text = export_agents(&specs, format).expect("exportable");
            assert_eq!(parse_agents(&text, format, "x").expect("round trip"), specs, "{format:?}");
            let one = export_agents(&specs[..1], format).expect("exportable");
            assert_eq!(parse_agents(&one, format, "x").expect("round trip"), specs[..1], "{format:?}");
        }
        assert_eq!(specs[0].provider, ProviderKind::Fastgpt);
    }
}
