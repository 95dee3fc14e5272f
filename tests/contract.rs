//! The port contract (`shared::testing::contract`) against the DynamoDB adapter on moto: the
//! same checks the in-memory fakes pass in `shared`'s unit tests, so the two cannot drift.

use integration_tests::{aws_config, env};
use shared::adapters::dynamodb::DynamoTable;

#[tokio::test]
async fn the_dynamodb_adapter_keeps_the_contract() {
    let config = aws_config(&env().aws_endpoint).await;
    let table = DynamoTable::new(aws_sdk_dynamodb::Client::new(&config), env().reference("Table"));
    if let Err(broken) = shared::testing::contract::all(&table).await {
        panic!("the DynamoDB adapter breaks the contract: {broken}");
    }
}
