//! Helpers shared by the end-to-end tests: run the real binary, read its JSON.

#![allow(dead_code)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `portcullis ARGS` and returns its output; panics with stderr if it could not start.
pub fn portcullis(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(args)
        .output()
        .expect("run portcullis")
}

/// Runs `portcullis ARGS`, asserting the exit code.
pub fn portcullis_ok(args: &[&str], code: i32) -> String {
    let out = portcullis(args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "portcullis {args:?}\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// `incidents --json` of a database as parsed objects.
pub fn incidents(db: &Path) -> Vec<serde_json::Value> {
    let out = portcullis(&["incidents", "--json", "--db", db.to_str().unwrap()]);
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect()
}

/// (rule, group as sorted "k=v" pairs) of incident objects, the shape ground truth uses.
pub fn rule_and_group(list: &[serde_json::Value]) -> BTreeSet<(String, String)> {
    list.iter()
        .map(|i| {
            let group: Vec<String> = i["group"]
                .as_object()
                .expect("group object")
                .iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().expect("string value")))
                .collect();
            (i["rule"].as_str().unwrap().to_string(), group.join(" "))
        })
        .collect()
}

/// The incidents a generator's truth.json names.
pub fn truth(dir: &Path) -> BTreeSet<(String, String)> {
    let text = std::fs::read_to_string(dir.join("truth.json")).expect("truth.json");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    rule_and_group(v["incidents"].as_array().expect("incidents array"))
}
