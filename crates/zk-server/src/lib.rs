//! The HTTP adapter over zk-core: routes, browser-safety guards, SSE, and the static UI.
//!
//! Architecture invariant: handlers are thin. They parse the request, call one zk-core service and
//! map its error; no business rule lives here.

pub mod http;

pub use http::{RouteSpec, ServeOptions, ServerSettings, UiSource, router, serve};
