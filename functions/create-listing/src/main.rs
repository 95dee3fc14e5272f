use shared::adapters::dynamodb::DynamoTable;
use shared::adapters::sqs::SqsEventPublisher;
use shared::config::{aws_sdk_config, env_required};
use shared::domain::SystemClock;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let config = aws_sdk_config().await;
    let deps = create_listing::Deps {
        store: DynamoTable::new(aws_sdk_dynamodb::Client::new(&config), env_required("TABLE_NAME")?),
        events: SqsEventPublisher::new(aws_sdk_sqs::Client::new(&config), env_required("EVENTS_QUEUE_URL")?),
        clock: SystemClock,
    };
    shared::http::run(&|req| create_listing::handle(req, &deps)).await
}
