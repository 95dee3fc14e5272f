use shared::adapters::dynamodb::DynamoTable;
use shared::adapters::sqs::SqsEventPublisher;
use shared::config::aws_sdk_config;
use shared::domain::SystemClock;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::telemetry::init();
    let config = aws_sdk_config().await;
    let deps = expire_holds::Deps {
        store: DynamoTable::from_env(&config)?,
        events: SqsEventPublisher::booking_events(&config)?,
        clock: SystemClock,
        allow_clock_override: std::env::var("STAGE").is_ok_and(|s| s != "prod"),
    };
    shared::scheduled::run(&|event| expire_holds::handle(event, &deps)).await
}
