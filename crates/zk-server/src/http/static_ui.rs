//! The built UI (`ui/dist`): files as they are, and `index.html` for every other path so that the
//! single-page app's own routes load (with status 200, not 404).

use std::path::Path;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tower_http::services::{ServeDir, ServeFile};

pub fn service(dir: &Path) -> ServeDir<ServeFile> {
    ServeDir::new(dir).append_index_html_on_directories(true).fallback(ServeFile::new(dir.join("index.html")))
}

pub async fn no_ui() -> Response {
    (
        StatusCode::NOT_FOUND,
        "The ZK-Agent API is running under /api. No UI build was found: build it in ui/ (npm run build) or set UI_DIR.\n",
    )
        .into_response()
}
