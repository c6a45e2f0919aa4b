//! Shared helpers of the black-box tests: fresh databases on both backends, a running server.

pub mod cad_bombs;
pub mod db;
pub mod server;

pub mod model_double;
pub mod private_pg;
pub mod process;
pub mod s3;
