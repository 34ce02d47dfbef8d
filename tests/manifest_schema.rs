//! The example manifest, the JSON Schema and the validator agree with each other.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use claude_bottle::manifest::keys::{
    AGENT_KEYS, BOTTLE_KEYS, EGRESS_KEYS, ENV_ENTRY_KEYS, RESOURCES_KEYS, RUNTIMES, SSH_KEYS,
    TOP_KEYS, WORKSPACE_KEYS,
};
use claude_bottle::manifest::{self, LoadOptions, Runtime};
use serde_json::Value;

fn read_json(rel: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap()
}

fn schema() -> Value {
    read_json("assets/claude-bottle.schema.json")
}

/// Follows `{"$ref": "#/$defs/x"}`.
fn deref<'a>(root: &'a Value, s: &'a Value) -> &'a Value {
    match s.get("$ref").and_then(Value::as_str) {
        Some(r) => deref(root, root.pointer(r.trim_start_matches('#')).unwrap()),
        None => s,
    }
}

fn type_matches(t: &str, v: &Value) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "number" => v.is_number(),
        "integer" => v.is_i64() || v.is_u64(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        _ => panic!("unknown type {t}"),
    }
}

/// A small checker for the keywords the schema uses; returns every violation.
fn check(root: &Value, schema: &Value, v: &Value, path: &str, out: &mut Vec<String>) {
    let s = deref(root, schema);
    if let Some(t) = s.get("type") {
        let ok = match t {
            Value::String(t) => type_matches(t, v),
            Value::Array(ts) => ts.iter().any(|t| type_matches(t.as_str().unwrap(), v)),
            _ => panic!("bad type keyword"),
        };
        if !ok {
            out.push(format!("{path}: expected type {t}"));
            return;
        }
    }
    if let Some(choices) = s.get("enum").and_then(Value::as_array) {
        if !choices.contains(v) {
            out.push(format!("{path}: not one of {choices:?}"));
        }
    }
    if let Value::Array(items) = v {
        if let Some(item_schema) = s.get("items") {
            for (i, item) in items.iter().enumerate() {
                check(root, item_schema, item, &format!("{path}[{i}]"), out);
            }
        }
    }
    let Value::Object(members) = v else { return };
    for req in s
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if !members.contains_key(req.as_str().unwrap()) {
            out.push(format!("{path}: missing {req}"));
        }
    }
    let props = s.get("properties").and_then(Value::as_object);
    for (k, val) in members {
        let child = format!("{path}.{k}");
        if let Some(names) = s.get("propertyNames") {
            check(
                root,
                names,
                &Value::String(k.clone()),
                &format!("{child} (name)"),
                out,
            );
        }
        match (props.and_then(|p| p.get(k)), s.get("additionalProperties")) {
            (Some(p), _) => check(root, p, val, &child, out),
            (None, Some(Value::Bool(false))) => out.push(format!("{child}: not allowed")),
            (None, Some(extra)) => check(root, extra, val, &child, out),
            (None, None) => {}
        }
    }
}

/// Property names declared at a schema location.
fn props(root: &Value, pointer: &str) -> BTreeSet<String> {
    let s = deref(root, root.pointer(pointer).unwrap());
    s["properties"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

fn set(keys: &[&str]) -> BTreeSet<String> {
    keys.iter().map(|k| (*k).to_string()).collect()
}

#[test]
fn schema_and_validator_accept_the_same_fields() {
    let root = schema();
    assert_eq!(props(&root, ""), set(TOP_KEYS));
    assert_eq!(props(&root, "/$defs/bottle"), set(BOTTLE_KEYS));
    assert_eq!(props(&root, "/$defs/sshHost"), set(SSH_KEYS));
    assert_eq!(props(&root, "/$defs/envEntry"), set(ENV_ENTRY_KEYS));
    assert_eq!(
        props(&root, "/$defs/bottle/properties/egress"),
        set(EGRESS_KEYS)
    );
    assert_eq!(
        props(&root, "/$defs/bottle/properties/resources"),
        set(RESOURCES_KEYS)
    );
    assert_eq!(props(&root, "/$defs/agent"), set(AGENT_KEYS));
    assert_eq!(props(&root, "/$defs/workspace"), set(WORKSPACE_KEYS));
    let runtimes: Vec<&str> = root
        .pointer("/$defs/bottle/properties/runtime/enum")
        .and_then(Value::as_array)
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(runtimes, RUNTIMES);
}

#[test]
fn every_fixed_object_in_the_schema_refuses_unknown_keys() {
    fn walk(s: &Value, at: &str) {
        match s {
            Value::Object(m) => {
                if m.contains_key("properties") {
                    assert_eq!(
                        m.get("additionalProperties"),
                        Some(&Value::Bool(false)),
                        "{at}"
                    );
                }
                for (k, v) in m {
                    walk(v, &format!("{at}/{k}"));
                }
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, at)),
            _ => {}
        }
    }
    walk(&schema(), "");
}

#[test]
fn the_example_matches_the_schema() {
    let root = schema();
    let mut errors = Vec::new();
    check(
        &root,
        &root,
        &read_json("claude-bottle.example.json"),
        "$",
        &mut errors,
    );
    assert_eq!(errors, Vec::<String>::new());
}

#[test]
fn the_checker_does_catch_schema_violations() {
    let root = schema();
    let bad = serde_json::json!({"bottles": {"Dev": {"runtime": "kata", "ssh": [{"Port": "22"}]}}, "agents": {"a": {}}, "x": 1});
    let mut errors = Vec::new();
    check(&root, &root, &bad, "$", &mut errors);
    assert!(errors.len() >= 6, "{errors:#?}");
}

#[test]
fn the_example_loads_and_validates() {
    let home = tempfile::tempdir().unwrap();
    fs::create_dir_all(home.path().join(".ssh")).unwrap();
    fs::write(home.path().join(".ssh/id_ed25519"), "not a real key").unwrap();
    let example = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("claude-bottle.example.json");
    let opts = LoadOptions {
        cwd: home.path().to_path_buf(),
        home: Some(home.path().to_path_buf()),
        explicit: vec![example],
    };
    let m = manifest::load(&opts).unwrap();
    assert_eq!(m.bottles.keys().collect::<Vec<_>>(), ["dev", "gitea-dev"]);
    assert_eq!(m.agents.keys().collect::<Vec<_>>(), ["coder", "ops"]);
    assert_eq!(m.bottles["gitea-dev"].runtime, Runtime::Runsc);
    assert_eq!(
        m.bottles["gitea-dev"].ssh[0].identity_file,
        home.path().join(".ssh/id_ed25519")
    );
    assert_eq!(m.bottles["dev"].resources.memory_bytes, Some(4 << 30));
}
