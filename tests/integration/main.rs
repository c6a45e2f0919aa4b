//! The black-box tests of the whole, as one test binary: zk-core and zk-server are linked once for
//! all of them instead of once per file. Each module was a test binary of its own; a test is named
//! by its module (`cargo test -p zk-tests --test integration api::`).
//!
//! The modules share this process and run on parallel threads, so no test changes what the process
//! holds for all: no `std::env::set_var` (the workspace forbids unsafe code), no global tracing
//! subscriber or panic hook, no fixed port, no file another test writes too. A test that needs
//! another environment starts a process with it: `zk-agent` (cli, cad, poster, faults), or this binary
//! again, filtered to one test (`keystore::no_keychain_falls_back_to_the_file_or_the_environment`).

mod api;
mod cad;
mod cad_library;
mod chat;
mod cli;
mod deploy;
mod faults;
mod files;
mod keystore;
mod metrics;
mod model_api;
mod poster;
mod sign_in;
mod sync;
