use shared::adapters::dynamodb::DynamoTable;
use shared::adapters::sqs::SqsEventPublisher;
use shared::config::{aws_sdk_config, env_parsed};
use shared::domain::booking::DEFAULT_SERVICE_FEE_BPS;
use shared::domain::SystemClock;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let config = aws_sdk_config().await;
    let deps = create_booking::Deps {
        store: DynamoTable::from_env(&config)?,
        events: SqsEventPublisher::booking_events(&config)?,
        clock: SystemClock,
        fee_bps: env_parsed("SERVICE_FEE_BPS", DEFAULT_SERVICE_FEE_BPS)?,
    };
    shared::http::run(&|req| create_booking::handle(req, &deps)).await
}
