//! Differences between two versions of an agent, field by field.

use serde::Serialize;
use serde_json::Value;

/// One field that differs; `None` means absent on that side.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct FieldChange {
    /// Dotted path: `name`, `parameters.temperature`, `variables.city`.
    pub field: String,
    #[ts(type = "unknown")]
    pub before: Option<Value>,
    #[ts(type = "unknown")]
    pub after: Option<Value>,
}

/// The changes from `before` to `after`: fields of `after` in key order, then the removed ones.
/// Objects are compared member by member; anything else (strings, arrays) as a whole value.
pub fn diff(before: &Value, after: &Value) -> Vec<FieldChange> {
    let mut changes = Vec::new();
    walk("", before, after, &mut changes);
    changes
}

fn walk(path: &str, before: &Value, after: &Value, changes: &mut Vec<FieldChange>) {
    match (before, after) {
        (Value::Object(b), Value::Object(a)) => {
            for (key, a_value) in a {
                let child = join(path, key);
                match b.get(key) {
                    Some(b_value) => walk(&child, b_value, a_value, changes),
                    None => changes.push(FieldChange { field: child, before: None, after: Some(a_value.clone()) }),
                }
            }
            for (key, b_value) in b.iter().filter(|(k, _)| !a.contains_key(*k)) {
                changes.push(FieldChange { field: join(path, key), before: Some(b_value.clone()), after: None });
            }
        }
        (b, a) if b != a => {
            changes.push(FieldChange { field: path.to_owned(), before: Some(b.clone()), after: Some(a.clone()) })
        }
        _ => {}
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn nested_fields_are_compared_one_by_one() {
        let before = json!({"name": "a", "parameters": {"temperature": 0.2, "detail": true}, "variables": {"x": 1}});
        let after = json!({"name": "a", "parameters": {"temperature": 0.5, "detail": true}, "model": "m"});
        let fields: Vec<(String, Option<Value>, Option<Value>)> =
            diff(&before, &after).into_iter().map(|c| (c.field, c.before, c.after)).collect();
        assert_eq!(
            fields,
            vec![
                ("model".into(), None, Some(json!("m"))),
                ("parameters.temperature".into(), Some(json!(0.2)), Some(json!(0.5))),
                ("variables".into(), Some(json!({"x": 1})), None),
            ]
        );
    }

    #[test]
    fn equal_versions_have_no_changes() {
        let spec = json!({"name": "a", "parameters": {"t": 1}});
        assert!(diff(&spec, &spec).is_empty());
    }
}
