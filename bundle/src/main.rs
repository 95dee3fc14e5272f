//! The deploy binary of every function but `process-photo`: Lambda passes the function's
//! `Handler` (template.yaml) as `_HANDLER`, and this runs that function's own `run()`. One
//! fat-LTO link instead of 32 keeps the deploy build in minutes (decision 0027).

mod dispatch;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    let handler = std::env::var("_HANDLER").unwrap_or_default();
    dispatch::run(&handler).await
}
