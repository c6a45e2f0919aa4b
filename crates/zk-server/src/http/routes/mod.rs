//! The route table: every API route with the role it needs.

pub(super) mod admin;
mod agents;
pub(super) mod auth;
mod cad;
mod chat;
mod files;
mod health;
pub(super) mod metrics;
mod storage;
mod tasks;
mod users;

use axum::http::Method;
use zk_core::store::Role::{Admin, Designer, Viewer};

use super::Access::{Public, Role};
use super::Api;

pub(super) fn register(api: Api) -> Api {
    api.route(Method::GET, "/health", Public, health::health)
        .route(Method::GET, "/fastgpt/health", Public, health::fastgpt)
        // Signing in
        .route(Method::POST, "/auth/login", Public, auth::login)
        .route(Method::POST, "/auth/refresh", Public, auth::refresh)
        .route(Method::POST, "/auth/desktop", Public, auth::desktop)
        .route(Method::POST, "/auth/logout", Role(Viewer), auth::logout)
        .route(Method::GET, "/auth/me", Role(Viewer), auth::me)
        .route(Method::POST, "/auth/password", Role(Viewer), auth::change_password)
        .route(Method::GET, "/setup", Public, auth::setup_status)
        .route(Method::POST, "/setup", Public, auth::complete_setup)
        // Users
        .route(Method::GET, "/users", Role(Admin), users::list)
        .route(Method::POST, "/users", Role(Admin), users::create)
        .route(Method::PATCH, "/users/{id}", Role(Admin), users::update)
        // Administration
        .route(Method::GET, "/admin/config", Role(Admin), admin::config)
        .route(Method::PUT, "/admin/config/{key}", Role(Admin), admin::set_config)
        .route(Method::GET, "/admin/audit", Role(Admin), admin::audit)
        .route(Method::GET, "/admin/errors", Role(Admin), admin::errors)
        // Object storage: its sync state, "sync now"
        .route(Method::GET, "/storage/status", Role(Admin), storage::status)
        .route(Method::POST, "/storage/sync", Role(Admin), storage::sync)
        // Agents: everyone signed in sees them; admins manage them
        .route(Method::GET, "/agents", Role(Viewer), agents::list)
        .route(Method::POST, "/agents", Role(Admin), agents::create)
        .route(Method::POST, "/agents/import", Role(Admin), agents::import)
        .route(Method::GET, "/agents/export", Role(Admin), agents::export)
        .route(Method::GET, "/agents/folder", Role(Admin), agents::folder)
        .route(Method::GET, "/keystore", Role(Admin), agents::keystore)
        .route(Method::POST, "/keystore/unlock", Role(Admin), agents::unlock_keystore)
        .route(Method::GET, "/agents/{id}", Role(Viewer), agents::get)
        .route(Method::PUT, "/agents/{id}", Role(Admin), agents::update)
        .route(Method::DELETE, "/agents/{id}", Role(Admin), agents::delete)
        .route(Method::POST, "/agents/{id}/duplicate", Role(Admin), agents::duplicate)
        .route(Method::PUT, "/agents/{id}/key", Role(Admin), agents::set_key)
        .route(Method::DELETE, "/agents/{id}/key", Role(Admin), agents::clear_key)
        .route(Method::GET, "/agents/{id}/versions", Role(Admin), agents::versions)
        .route(Method::GET, "/agents/{id}/versions/{version}", Role(Admin), agents::version)
        .route(Method::GET, "/agents/{id}/diff", Role(Admin), agents::diff)
        .route(Method::POST, "/agents/{id}/restore", Role(Admin), agents::restore)
        .route(Method::POST, "/agents/{id}/test", Role(Admin), agents::test_connection)
        .route(Method::POST, "/agents/{id}/import-history", Role(Designer), agents::import_history)
        // Conversations: each user's own; designers and admins chat, viewers read
        .route(Method::GET, "/conversations", Role(Viewer), chat::list)
        .route(Method::POST, "/conversations", Role(Designer), chat::create)
        .route(Method::GET, "/conversations/search", Role(Viewer), chat::search)
        .route(Method::GET, "/conversations/{id}", Role(Viewer), chat::get)
        .route(Method::PATCH, "/conversations/{id}", Role(Designer), chat::update)
        .route(Method::DELETE, "/conversations/{id}", Role(Designer), chat::delete)
        .route(Method::GET, "/conversations/{id}/export", Role(Viewer), chat::export)
        .route(Method::GET, "/conversations/{id}/events", Role(Viewer), chat::events)
        .route(Method::POST, "/conversations/{id}/messages", Role(Designer), chat::send)
        .route(Method::POST, "/conversations/{id}/stop", Role(Designer), chat::stop)
        .route(Method::POST, "/conversations/{id}/messages/{message}/regenerate", Role(Designer), chat::regenerate)
        .route(Method::POST, "/conversations/{id}/messages/{message}/edit", Role(Designer), chat::edit)
        // Files
        .route(Method::GET, "/files", Role(Viewer), files::list)
        .route(Method::POST, "/files", Role(Designer), files::upload)
        .route(Method::GET, "/files/{id}", Role(Viewer), files::metadata)
        .route(Method::GET, "/files/{id}/content", Role(Viewer), files::download)
        .route(Method::DELETE, "/files/{id}", Role(Designer), files::delete)
        // CAD library: everyone signed in views drawings; designers upload, delete their own and analyse
        .route(Method::GET, "/cad/drawings", Role(Viewer), cad::list)
        .route(Method::POST, "/cad/drawings", Role(Designer), cad::upload)
        .route(Method::GET, "/cad/folder", Role(Viewer), cad::folder)
        .route(Method::GET, "/cad/drawings/{id}", Role(Viewer), cad::get)
        .route(Method::DELETE, "/cad/drawings/{id}", Role(Designer), cad::delete)
        .route(Method::GET, "/cad/drawings/{id}/thumbnail", Role(Viewer), cad::thumbnail)
        .route(Method::GET, "/cad/drawings/{id}/scene", Role(Viewer), cad::scene)
        .route(Method::GET, "/cad/drawings/{id}/entities/{owner}", Role(Viewer), cad::entity)
        .route(Method::GET, "/cad/drawings/{id}/render", Role(Viewer), cad::render)
        .route(Method::GET, "/cad/drawings/{id}/source", Role(Viewer), cad::source)
        .route(Method::POST, "/cad/drawings/{id}/analyses", Role(Designer), cad::analyse)
        .route(Method::GET, "/cad/drawings/{id}/analyses", Role(Viewer), cad::analyses)
        // Tasks
        .route(Method::GET, "/tasks", Role(Viewer), tasks::list)
        .route(Method::POST, "/tasks", Role(Designer), tasks::enqueue)
        .route(Method::GET, "/tasks/kinds", Role(Viewer), tasks::kinds)
        .route(Method::GET, "/tasks/events", Role(Viewer), tasks::events)
        .route(Method::GET, "/tasks/{id}", Role(Viewer), tasks::get)
        .route(Method::POST, "/tasks/{id}/cancel", Role(Designer), tasks::cancel)
}
