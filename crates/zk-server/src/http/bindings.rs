//! The UI's TypeScript types are generated from these Rust types (ts-rs), so the two cannot drift.
//! This test fails when `ui/src/lib/api/generated/` is stale; `ZK_UPDATE_BINDINGS=1 cargo test -p
//! zk-server bindings` rewrites it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ts_rs::TS;

use super::error::ApiErrorBody;
use super::routes::admin::{AuditView, ErrorView, SetConfig};
use super::routes::auth::{DesktopSignIn, Login, Me, PasswordChange, Refresh, Setup, SetupStatus};

fn export_all(dir: &Path) {
    // Ids and sizes are i64 in Rust and fit a JavaScript number.
    let config = ts_rs::Config::new().with_out_dir(dir).with_large_int("number");
    macro_rules! export {
        ($($type:ty),* $(,)?) => { $( <$type>::export_all(&config).expect(concat!("export ", stringify!($type))); )* };
    }
    export!(
        ApiErrorBody,
        AuditView,
        ErrorView,
        SetConfig,
        DesktopSignIn,
        Login,
        Me,
        PasswordChange,
        Refresh,
        Setup,
        SetupStatus,
        zk_core::accounts::SignedIn,
        zk_core::accounts::UserView,
        zk_core::accounts::NewAccount,
        zk_core::accounts::UserPatch,
        zk_core::tasks::TaskView,
        zk_core::tasks::EnqueueRequest,
        zk_core::files::FileView,
        zk_core::admin::ConfigView,
        zk_core::health::Health,
        zk_core::upstream::UpstreamHealth,
        zk_core::health::FastgptHealth,
        zk_core::agents::AgentView,
        zk_core::agents::AgentInput,
        zk_core::agents::AgentVersionView,
        zk_core::agents::AgentDiffView,
        zk_core::agents::AgentHealth,
        zk_core::agents::ImportReport,
        zk_core::agents::SpecProblem,
        zk_core::agents::FileProblem,
        zk_core::agents::watch::AgentFolderStatus,
        zk_core::chat::ConversationPage,
        zk_core::chat::ConversationDetail,
        zk_core::chat::ConversationPatch,
        zk_core::chat::NewConversationInput,
        zk_core::chat::SendInput,
        zk_core::chat::EditInput,
        zk_core::chat::SearchHit,
        zk_core::chat::StreamEvent,
        zk_core::chat::export::ExportFormat,
        zk_core::chat::import::ImportSummary,
        zk_core::keystore::KeyStoreStatus,
        zk_core::cad::SceneHeader,
        zk_core::cad::SceneText,
        zk_core::cad::library::CadDrawingPage,
        zk_core::cad::library::CadDrawingDetail,
        zk_core::cad::library::CadDrawingView,
        zk_core::cad::properties::CadEntityView,
        zk_core::cad::analysis::AnalyseInput,
        zk_core::cad::analysis::CadAnalysisView,
        zk_core::cad::watch::CadFolderStatus,
    );
}

fn files(dir: &Path) -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(next) = stack.pop() {
        for entry in std::fs::read_dir(&next).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "ts") {
                let name = path.strip_prefix(dir).unwrap_or(&path).display().to_string();
                found.insert(name, std::fs::read_to_string(&path).unwrap_or_default());
            }
        }
    }
    found
}

#[test]
fn typescript_bindings_are_current() {
    let committed = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/lib/api/generated");
    if std::env::var("ZK_UPDATE_BINDINGS").as_deref() == Ok("1") {
        let _ = std::fs::remove_dir_all(&committed);
        export_all(&committed);
    }
    let fresh = tempfile::tempdir().expect("temp dir");
    export_all(fresh.path());
    let (expected, actual) = (files(fresh.path()), files(&committed));
    assert!(!expected.is_empty(), "types were exported");
    assert_eq!(
        expected.keys().collect::<Vec<_>>(),
        actual.keys().collect::<Vec<_>>(),
        "ui/src/lib/api/generated is stale: run ZK_UPDATE_BINDINGS=1 cargo test -p zk-server bindings"
    );
    for (name, text) in &expected {
        assert_eq!(
            Some(text),
            actual.get(name),
            "{name} is stale: run ZK_UPDATE_BINDINGS=1 cargo test -p zk-server bindings"
        );
    }
}
