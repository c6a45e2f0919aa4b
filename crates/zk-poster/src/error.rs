use thiserror::Error;

/// Why a poster could not be composed or rendered. Messages name the thing, the problem and the fix.
#[derive(Debug, Error)]
pub enum PosterError {
    #[error("poster document format version {found} is not supported (this build reads version {supported})")]
    UnsupportedFormat { found: u32, supported: u32 },
    #[error("unknown poster size `{0}`: see `zk-agent poster sizes list`")]
    UnknownSize(String),
    #[error("the document names template `{wanted}` but `{given}` was given")]
    TemplateMismatch { wanted: String, given: String },
    #[error("image slot `{slot}` names image {sha256}, but no image with that hash was passed in")]
    MissingImage { slot: String, sha256: String },
    #[error("image refused: {0}")]
    Image(String),
    #[error("QR slot `{slot}` cannot hold its text: {reason}")]
    Qr { slot: String, reason: String },
    #[error("the PNG canvas of {width}×{height} px is too large to allocate")]
    Canvas { width: u32, height: u32 },
    #[error("PNG encoding failed: {0}")]
    PngEncode(String),
    #[error("PDF writing failed: {0}")]
    Pdf(String),
    #[error("invalid poster data: {0}")]
    Data(String),
}
