//! `/sw.js`: the hand-written service worker (`public/sw.js`) with this
//! build's file list in front of it.
//!
//! The worker must know the bundle's content-hashed names to cache them at
//! install, and must change whenever they do so that the browser installs
//! the new one. Both come from cargo-leptos's `hash.txt`, read here, not
//! baked into a file at build time.

use std::path::Path;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::server::state::AppState;

/// The worker's own code; what this module adds is only the data.
const WORKER_JS: &str = include_str!("../../public/sw.js");

/// The pages the worker keeps for offline use. `/field` is the field app's
/// shell: it renders no data on the server, so one cached copy serves
/// every household and every worker.
pub const OFFLINE_PAGES: [&str; 1] = ["/field"];

const STATIC_FILES: [&str; 5] = [
    crate::receipts::QR_SCRIPT,
    "/manifest.webmanifest",
    "/favicon.svg",
    "/icon-192.png",
    "/icon-512.png",
];

#[derive(Serialize)]
struct Build {
    /// Changes with every bundle: a new worker, a new cache.
    version: String,
    /// Everything to cache at install, pages first.
    precache: Vec<String>,
}

pub async fn script(State(state): State<AppState>) -> Response {
    let options = &state.leptos_options;
    let build = build(
        Path::new(options.site_root.as_ref()),
        options.site_pkg_dir.as_ref(),
        options.output_name.as_ref(),
        options
            .hash_files
            .then(|| hash_file_beside_exe(options.hash_file.as_ref()))
            .flatten()
            .as_deref(),
    );
    let body = format!(
        "// 到户 service worker. Build data from the server, code from public/sw.js.\nconst DAOHU_BUILD = {};\n{WORKER_JS}",
        serde_json::to_string(&build).expect("serializable")
    );
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            // The browser checks for a new worker on every visit; it must
            // never be handed a stale one by an HTTP cache.
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

fn hash_file_beside_exe(name: &str) -> Option<String> {
    let exe = std::env::current_exe().ok()?;
    std::fs::read_to_string(exe.parent()?.join(name)).ok()
}

/// The file list and version. With `hash.txt` (`js: …`, `wasm: …`,
/// `css: …`) the names carry the hashes and the version is the hashes; a
/// build without it (tests, `cargo leptos watch`) serves plain names and
/// versions by the files' sizes and times so that a rebuild still updates.
fn build(site_root: &Path, pkg_dir: &str, output_name: &str, hashes: Option<&str>) -> Build {
    let hash_of = |kind: &str| {
        hashes?.lines().find_map(|line| {
            let (k, v) = line.split_once(':')?;
            (k.trim() == kind).then(|| v.trim().to_owned())
        })
    };
    let mut precache: Vec<String> = OFFLINE_PAGES.iter().map(|p| p.to_string()).collect();
    let mut version = String::new();
    for kind in ["js", "wasm", "css"] {
        let name = match hash_of(kind) {
            Some(hash) => {
                version.push_str(&hash);
                format!("{output_name}.{hash}.{kind}")
            }
            None => {
                let name = format!("{output_name}.{kind}");
                if let Ok(meta) = std::fs::metadata(site_root.join(pkg_dir).join(&name)) {
                    let modified = meta
                        .modified()
                        .ok()
                        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                        .map(|d| d.as_millis())
                        .unwrap_or_default();
                    version.push_str(&format!("{}-{modified}.", meta.len()));
                }
                name
            }
        };
        precache.push(format!("/{pkg_dir}/{name}"));
    }
    precache.extend(STATIC_FILES.iter().map(|f| f.to_string()));
    // The worker's own code is part of what it caches by.
    let code = crate::visits::hex(&<sha2::Sha256 as sha2::Digest>::digest(WORKER_JS));
    version.push_str(&code[..12]);
    Build { version, precache }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_builds_list_hashed_names_and_version_by_them() {
        let hashes = "js: aaa111\nwasm: bbb222\ncss: ccc333\n";
        let b = build(Path::new("/nonexistent"), "pkg", "daohu", Some(hashes));
        assert_eq!(
            &b.precache[..4],
            [
                "/field",
                "/pkg/daohu.aaa111.js",
                "/pkg/daohu.bbb222.wasm",
                "/pkg/daohu.ccc333.css"
            ]
        );
        assert!(b.version.starts_with("aaa111bbb222ccc333"));
        let other = build(
            Path::new("/nonexistent"),
            "pkg",
            "daohu",
            Some("js: x\nwasm: y\ncss: z"),
        );
        assert_ne!(b.version, other.version);
    }

    #[test]
    fn plain_builds_use_plain_names() {
        let b = build(Path::new("/nonexistent"), "pkg", "daohu", None);
        assert!(b.precache.contains(&"/pkg/daohu.wasm".to_string()));
        assert!(b.precache.contains(&"/manifest.webmanifest".to_string()));
    }
}
