//! The route table: every API route with the role it needs.

pub(super) mod admin;
pub(super) mod auth;
mod files;
mod health;
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
        // Files
        .route(Method::GET, "/files", Role(Viewer), files::list)
        .route(Method::POST, "/files", Role(Designer), files::upload)
        .route(Method::GET, "/files/{id}", Role(Viewer), files::metadata)
        .route(Method::GET, "/files/{id}/content", Role(Viewer), files::download)
        .route(Method::DELETE, "/files/{id}", Role(Designer), files::delete)
        // Tasks
        .route(Method::GET, "/tasks", Role(Viewer), tasks::list)
        .route(Method::POST, "/tasks", Role(Designer), tasks::enqueue)
        .route(Method::GET, "/tasks/kinds", Role(Viewer), tasks::kinds)
        .route(Method::GET, "/tasks/events", Role(Viewer), tasks::events)
        .route(Method::GET, "/tasks/{id}", Role(Viewer), tasks::get)
        .route(Method::POST, "/tasks/{id}/cancel", Role(Designer), tasks::cancel)
}
