//! Creates the template's resources in moto and records what `Ref`/`GetAtt` return for
//! each, so function environments resolve to the local names. Re-running is safe: existing
//! resources are kept (a local secret someone rotated keeps its value).

use anyhow::{bail, Context, Result};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, StreamSpecification, StreamViewType, TimeToLiveSpecification,
};
use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::{json, Value};

use crate::resolve::{Physical, Resolver};

pub struct Clients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub s3: aws_sdk_s3::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
    pub ses: aws_sdk_sesv2::Client,
}

/// Local physical names: `{stack}-{LogicalId}` unless the template names the resource.
fn default_name(stack: &str, logical: &str) -> String {
    format!("{stack}-{logical}")
}

fn resources(template: &Value) -> Vec<(String, Value)> {
    template["Resources"]
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

fn physical(reference: impl Into<String>, attributes: &[(&str, String)]) -> Physical {
    Physical {
        reference: Value::String(reference.into()),
        attributes: attributes.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect(),
    }
}

/// Fills `resolver.resources` with every resource's local identity, creating what moto
/// can hold: DynamoDB tables, S3 buckets, SQS queues, Secrets Manager secrets, SES identities.
pub async fn provision(
    template: &Value,
    resolver: &mut Resolver,
    clients: &Clients,
    dev_secrets: &Value,
) -> Result<()> {
    let (region, account, stack) = (resolver.region.clone(), resolver.account.clone(), resolver.stack.clone());
    let arn = |service: &str, rest: String| format!("arn:aws:{service}:{region}:{account}:{rest}");
    let all = resources(template);

    // Pass 1: names and ARNs that do not depend on creating anything.
    for (logical, resource) in &all {
        let props = &resource["Properties"];
        let kind = resource["Type"].as_str().unwrap_or_default();
        let entry = match kind {
            "AWS::DynamoDB::Table" => {
                let name = resolver
                    .resolve(&props["TableName"])
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_else(|| default_name(&stack, logical));
                physical(&name, &[("Arn", arn("dynamodb", format!("table/{name}")))])
            }
            "AWS::SQS::Queue" => {
                let fifo = props["FifoQueue"].as_bool().unwrap_or(false);
                let mut name = resolver
                    .resolve(&props["QueueName"])
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_else(|| default_name(&stack, logical));
                if fifo && !name.ends_with(".fifo") {
                    name.push_str(".fifo");
                }
                // The URL is replaced by moto's own once the queue exists.
                physical(
                    format!("pending://{name}"),
                    &[("Arn", arn("sqs", name.clone())), ("QueueName", name.clone()), ("QueueUrl", String::new())],
                )
            }
            "AWS::S3::Bucket" => {
                let name = match resolver.resolve(&props["BucketName"]) {
                    Ok(Value::String(s)) => s,
                    _ => default_name(&stack, logical).to_lowercase(),
                };
                physical(
                    &name,
                    &[("Arn", format!("arn:aws:s3:::{name}")), ("DomainName", format!("{name}.s3.amazonaws.com"))],
                )
            }
            "AWS::SecretsManager::Secret" => {
                let name = match resolver.resolve(&props["Name"]) {
                    Ok(Value::String(s)) => s,
                    _ => format!("{stack}/{logical}"),
                };
                physical(arn("secretsmanager", format!("secret:{name}")), &[("Name", name)])
            }
            "AWS::Cognito::UserPool" => {
                let id = format!("{region}_local{}", stack.replace('-', ""));
                physical(
                    &id,
                    &[
                        ("Arn", arn("cognito-idp", format!("userpool/{id}"))),
                        ("ProviderURL", format!("cognito-idp.{region}.amazonaws.com/{id}")),
                    ],
                )
            }
            "AWS::Cognito::UserPoolClient" => physical(format!("localclient{}", stack.replace('-', "")), &[]),
            "AWS::Serverless::HttpApi" => physical("local", &[("ApiEndpoint", "http://127.0.0.1".into())]),
            "AWS::Serverless::Function" => {
                let name = default_name(&stack, logical);
                physical(&name, &[("Arn", arn("lambda", format!("function:{name}")))])
            }
            // Ref is the identity itself (a domain or an address).
            "AWS::SES::EmailIdentity" => match resolver.resolve(&props["EmailIdentity"]) {
                Ok(Value::String(identity)) => physical(identity, &[]),
                _ => physical(default_name(&stack, logical), &[]),
            },
            "AWS::SES::ConfigurationSet" => match resolver.resolve(&props["Name"]) {
                Ok(Value::String(name)) => physical(name, &[]),
                _ => physical(default_name(&stack, logical), &[]),
            },
            "AWS::SNS::Topic" => {
                let name = default_name(&stack, logical);
                physical(arn("sns", name.clone()), &[("TopicName", name)])
            }
            // Served by the runner's stand-in at /_local/cdn (point MediaBaseUrl-like
            // parameters there); the name only keeps templates resolvable.
            "AWS::CloudFront::Distribution" => {
                let id = format!("{}cdn", stack.replace('-', ""));
                physical(&id, &[("DomainName", format!("{id}.cloudfront.local")), ("Id", id.clone())])
            }
            "AWS::Logs::LogGroup" => physical(
                default_name(&stack, logical),
                &[("Arn", arn("logs", format!("log-group:{}", default_name(&stack, logical))))],
            ),
            _ => physical(default_name(&stack, logical), &[("Arn", arn("local", default_name(&stack, logical)))]),
        };
        resolver.resources.insert(logical.clone(), entry);
    }

    // Pass 2: create. Queues first (others refer to their ARNs), then secrets, tables, buckets.
    for (logical, resource) in all.iter().filter(|(_, r)| r["Type"] == "AWS::SQS::Queue") {
        let props = resolver.resolve(&resource["Properties"])?;
        let name = resolver.attribute(logical, "QueueName")?;
        let mut request = clients.sqs.create_queue().queue_name(&name);
        for (attr, key) in [
            (QueueAttributeName::VisibilityTimeout, "VisibilityTimeout"),
            (QueueAttributeName::MessageRetentionPeriod, "MessageRetentionPeriod"),
            (QueueAttributeName::DelaySeconds, "DelaySeconds"),
            (QueueAttributeName::FifoQueue, "FifoQueue"),
            (QueueAttributeName::ContentBasedDeduplication, "ContentBasedDeduplication"),
            (QueueAttributeName::DeduplicationScope, "DeduplicationScope"),
            (QueueAttributeName::FifoThroughputLimit, "FifoThroughputLimit"),
        ] {
            if let Some(v) = props.get(key) {
                request = request.attributes(attr, plain(v));
            }
        }
        if let Some(redrive) = props.get("RedrivePolicy") {
            request = request.attributes(QueueAttributeName::RedrivePolicy, redrive.to_string());
        }
        let url = request.send().await.with_context(|| format!("creating queue {name}"))?.queue_url.unwrap_or_default();
        if let Some(p) = resolver.resources.get_mut(logical) {
            p.reference = Value::String(url.clone());
            p.attributes.insert("QueueUrl".into(), url);
        }
    }

    for (logical, _) in all.iter().filter(|(_, r)| r["Type"] == "AWS::SecretsManager::Secret") {
        let name = resolver.attribute(logical, "Name")?;
        let value = dev_secrets
            .get(logical)
            .map(|v| if v.is_string() { plain(v) } else { v.to_string() })
            .unwrap_or_else(|| "{}".into());
        let arn = match clients.secrets.describe_secret().secret_id(&name).send().await {
            Ok(existing) => existing.arn.unwrap_or_default(),
            Err(_) => clients
                .secrets
                .create_secret()
                .name(&name)
                .secret_string(value)
                .send()
                .await
                .with_context(|| format!("creating secret {name}"))?
                .arn
                .unwrap_or_default(),
        };
        if let Some(p) = resolver.resources.get_mut(logical) {
            p.reference = Value::String(arn.clone());
            p.attributes.insert("Id".into(), arn);
        }
    }

    // moto verifies an identity as it is created, as SES does once its DNS records are published.
    for (logical, _) in all.iter().filter(|(_, r)| r["Type"] == "AWS::SES::EmailIdentity") {
        let identity = resolver.resources[logical].reference.as_str().unwrap_or_default().to_owned();
        let exists = clients.ses.get_email_identity().email_identity(&identity).send().await.is_ok();
        if !exists {
            clients
                .ses
                .create_email_identity()
                .email_identity(&identity)
                .send()
                .await
                .with_context(|| format!("verifying SES identity {identity}"))?;
        }
    }

    for (logical, resource) in all.iter().filter(|(_, r)| r["Type"] == "AWS::DynamoDB::Table") {
        let props = resolver.resolve(&resource["Properties"])?;
        let name = resolver.resources[logical].reference.as_str().unwrap_or_default().to_owned();
        if let Some(stream_arn) = create_table(&clients.dynamodb, &name, &props).await? {
            if let Some(p) = resolver.resources.get_mut(logical) {
                p.attributes.insert("StreamArn".into(), stream_arn);
            }
        }
    }

    for (logical, resource) in all.iter().filter(|(_, r)| r["Type"] == "AWS::S3::Bucket") {
        let props = resolver.resolve(&resource["Properties"])?;
        let name = resolver.resources[logical].reference.as_str().unwrap_or_default().to_owned();
        create_bucket(&clients.s3, &name, &region, &props).await?;
    }
    Ok(())
}

fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn key_schema(list: &Value) -> Result<Vec<KeySchemaElement>> {
    list.as_array()
        .context("KeySchema must be a list")?
        .iter()
        .map(|k| {
            Ok(KeySchemaElement::builder()
                .attribute_name(k["AttributeName"].as_str().context("AttributeName")?)
                .key_type(if k["KeyType"] == "HASH" { KeyType::Hash } else { KeyType::Range })
                .build()?)
        })
        .collect()
}

/// Creates the table unless it exists; returns its stream's ARN when the template gives it one.
async fn create_table(client: &aws_sdk_dynamodb::Client, name: &str, props: &Value) -> Result<Option<String>> {
    let view = props["StreamSpecification"]["StreamViewType"].as_str();
    if let Ok(existing) = client.describe_table().table_name(name).send().await {
        let arn = existing.table.and_then(|t| t.latest_stream_arn);
        if view.is_some() && arn.is_none() {
            bail!("table {name} exists without the stream the template declares; restart moto");
        }
        return Ok(arn.filter(|_| view.is_some()));
    }
    let mut request = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .set_key_schema(Some(key_schema(&props["KeySchema"])?));
    for attr in props["AttributeDefinitions"].as_array().context("AttributeDefinitions")? {
        let t = match attr["AttributeType"].as_str() {
            Some("N") => ScalarAttributeType::N,
            Some("B") => ScalarAttributeType::B,
            _ => ScalarAttributeType::S,
        };
        request = request.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(attr["AttributeName"].as_str().context("AttributeName")?)
                .attribute_type(t)
                .build()?,
        );
    }
    for gsi in props["GlobalSecondaryIndexes"].as_array().cloned().unwrap_or_default() {
        let projection = match gsi["Projection"]["ProjectionType"].as_str() {
            Some("KEYS_ONLY") => ProjectionType::KeysOnly,
            Some("INCLUDE") => ProjectionType::Include,
            _ => ProjectionType::All,
        };
        let mut p = Projection::builder().projection_type(projection);
        for attr in gsi["Projection"]["NonKeyAttributes"].as_array().cloned().unwrap_or_default() {
            p = p.non_key_attributes(plain(&attr));
        }
        request = request.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(gsi["IndexName"].as_str().context("IndexName")?)
                .set_key_schema(Some(key_schema(&gsi["KeySchema"])?))
                .projection(p.build())
                .build()?,
        );
    }
    if let Some(view) = view {
        request = request.stream_specification(
            StreamSpecification::builder().stream_enabled(true).stream_view_type(StreamViewType::from(view)).build()?,
        );
    }
    let created = request.send().await.with_context(|| format!("creating table {name}"))?;
    let stream_arn = created.table_description.and_then(|t| t.latest_stream_arn);
    if view.is_some() && stream_arn.is_none() {
        bail!("moto created table {name} without its stream");
    }
    if let Some(ttl) = props["TimeToLiveSpecification"]["AttributeName"].as_str() {
        client
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(TimeToLiveSpecification::builder().attribute_name(ttl).enabled(true).build()?)
            .send()
            .await
            .with_context(|| format!("enabling TTL on {name}"))?;
    }
    Ok(stream_arn)
}

async fn create_bucket(client: &aws_sdk_s3::Client, name: &str, region: &str, props: &Value) -> Result<()> {
    use aws_sdk_s3::types::{
        BucketLocationConstraint, CorsConfiguration, CorsRule, CreateBucketConfiguration,
        PublicAccessBlockConfiguration,
    };
    if client.head_bucket().bucket(name).send().await.is_err() {
        let mut request = client.create_bucket().bucket(name);
        if region != "us-east-1" {
            request = request.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(region))
                    .build(),
            );
        }
        request.send().await.with_context(|| format!("creating bucket {name}"))?;
    }
    if props.get("PublicAccessBlockConfiguration").is_some() {
        client
            .put_public_access_block()
            .bucket(name)
            .public_access_block_configuration(
                PublicAccessBlockConfiguration::builder()
                    .block_public_acls(true)
                    .block_public_policy(true)
                    .ignore_public_acls(true)
                    .restrict_public_buckets(true)
                    .build(),
            )
            .send()
            .await
            .with_context(|| format!("blocking public access on {name}"))?;
    }
    if let Some(rules) = props["CorsConfiguration"]["CorsRules"].as_array() {
        let mut cors = CorsConfiguration::builder();
        for rule in rules {
            let strings = |key: &str| rule[key].as_array().map(|a| a.iter().map(plain).collect::<Vec<_>>());
            cors = cors.cors_rules(
                CorsRule::builder()
                    .set_allowed_methods(strings("AllowedMethods"))
                    .set_allowed_origins(strings("AllowedOrigins"))
                    .set_allowed_headers(strings("AllowedHeaders"))
                    .set_expose_headers(strings("ExposedHeaders"))
                    .set_max_age_seconds(rule["MaxAge"].as_i64().map(|m| m as i32))
                    .build()?,
            );
        }
        client
            .put_bucket_cors()
            .bucket(name)
            .cors_configuration(cors.build()?)
            .send()
            .await
            .with_context(|| format!("CORS on {name}"))?;
    }
    Ok(())
}

/// Sends S3 ObjectCreated notifications of `bucket` to `queue_arn` (moto delivers them),
/// which is how the runner feeds SAM `S3` event sources.
pub async fn notify_queue(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    queue_arn: &str,
    events: &[String],
    prefix: Option<&str>,
    suffix: Option<&str>,
) -> Result<()> {
    use aws_sdk_s3::types::{
        Event, FilterRule, FilterRuleName, NotificationConfiguration, NotificationConfigurationFilter,
        QueueConfiguration, S3KeyFilter,
    };
    let mut key_filter = S3KeyFilter::builder();
    if let Some(p) = prefix {
        key_filter = key_filter.filter_rules(FilterRule::builder().name(FilterRuleName::Prefix).value(p).build());
    }
    if let Some(s) = suffix {
        key_filter = key_filter.filter_rules(FilterRule::builder().name(FilterRuleName::Suffix).value(s).build());
    }
    let config = QueueConfiguration::builder()
        .queue_arn(queue_arn)
        .set_events(Some(events.iter().map(|e| Event::from(e.as_str())).collect()))
        .filter(NotificationConfigurationFilter::builder().key(key_filter.build()).build())
        .build()?;
    client
        .put_bucket_notification_configuration()
        .bucket(bucket)
        .notification_configuration(NotificationConfiguration::builder().queue_configurations(config).build())
        .send()
        .await
        .with_context(|| format!("S3 notifications on {bucket}"))?;
    Ok(())
}

/// What the runner tells tests and scripts about the stack: logical id -> Ref and attributes.
pub fn describe(resolver: &Resolver) -> Value {
    let mut out = serde_json::Map::new();
    for (logical, p) in &resolver.resources {
        out.insert(logical.clone(), json!({ "ref": p.reference, "attributes": p.attributes }));
    }
    json!({ "stack": resolver.stack, "region": resolver.region, "account": resolver.account, "resources": out })
}
