//! The model-API test double as a process, for browser tests and benchmarks: serves FastGPT's and the
//! OpenAI-compatible protocol on 127.0.0.1 (port from the first argument, else any free one), prints
//! its base URL on the first line of stdout, and serves until it is killed.

#[tokio::main]
async fn main() {
    let address = match std::env::args().nth(1) {
        Some(port) => format!("127.0.0.1:{port}"),
        None => "127.0.0.1:0".to_owned(),
    };
    let double = zk_tests::model_double::ModelDouble::start_on(&address).await;
    println!("{}", double.base);
    std::future::pending::<()>().await;
}
