use shared::adapters::dynamodb::DynamoTable;
use shared::adapters::sqs::SqsEventPublisher;
use shared::config::aws_sdk_config;
use shared::domain::SystemClock;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let config = aws_sdk_config().await;
    let deps = decline_booking::Deps {
        store: DynamoTable::from_env(&config)?,
        events: SqsEventPublisher::booking_events(&config)?,
        clock: SystemClock,
    };
    shared::http::run(&|req| decline_booking::handle(req, &deps)).await
}
