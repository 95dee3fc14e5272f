//! local-runner: runs template.yaml on this machine without Docker. See docs/architecture.md, "The local stack".

mod args;
mod auth;
mod email;
mod gateway;
mod iam;
mod lambda;
mod local_api;
mod logs;
mod model;
mod provision;
mod resolve;
mod sources;
mod streams;
mod template;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::model::EventSource;

async fn wait_for_moto(sqs: &aws_sdk_sqs::Client, endpoint: &str) -> Result<()> {
    for _ in 0..60 {
        if sqs.list_queues().send().await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    bail!("moto did not answer at {endpoint} within 15 s")
}

#[tokio::main]
async fn main() -> Result<()> {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = shared::telemetry::log_filter(&std::env::var("RUNNER_LOG").unwrap_or_else(|_| "info".to_owned()));
    tracing_subscriber::fmt().with_max_level(tracing::Level::TRACE).with_target(false).finish().with(filter).init();
    let args = match args::parse(std::env::args().skip(1), std::env::var("AWS_ENDPOINT_URL").ok()) {
        Ok(args::Command::Run(args)) => args,
        Ok(args::Command::Help) => {
            print!("{}", args::USAGE);
            return Ok(());
        }
        Err(message) => {
            eprint!("local-runner: {message}\n\n{}", args::USAGE);
            std::process::exit(2);
        }
    };
    // CodeUri paths are relative to the template's folder.
    let project_root = args
        .template
        .parent()
        .map(|p| if p.as_os_str().is_empty() { PathBuf::from(".") } else { p.to_path_buf() })
        .unwrap_or_else(|| PathBuf::from("."));
    let template = template::load(&args.template)?;
    let overrides: HashMap<String, String> = args.params.iter().cloned().collect();
    let mut resolver = resolve::Resolver::new(&template, &args.region, &args.account, &args.stack_name, &overrides)?;

    let credentials = aws_sdk_sqs::config::Credentials::new("local", "local", None, None, "local-runner");
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(args.region.clone()))
        .endpoint_url(&args.aws_endpoint)
        .credentials_provider(credentials)
        .load()
        .await;
    let clients = provision::Clients {
        dynamodb: aws_sdk_dynamodb::Client::new(&sdk),
        s3: aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build()),
        sqs: aws_sdk_sqs::Client::new(&sdk),
        secrets: aws_sdk_secretsmanager::Client::new(&sdk),
        ses: aws_sdk_sesv2::Client::new(&sdk),
    };
    wait_for_moto(&clients.sqs, &args.aws_endpoint).await?;
    let dev_secrets: serde_json::Value = match std::fs::read_to_string(&args.dev_secrets) {
        Ok(text) => {
            serde_json::from_str(&text).with_context(|| format!("{} is not JSON", args.dev_secrets.display()))?
        }
        Err(_) => serde_json::json!({}),
    };
    provision::provision(&template, &mut resolver, &clients, &dev_secrets).await?;
    let mut stack = model::Stack::from_template(&template, &resolver, &project_root)?;
    // Cognito publishes its keys at `{issuer}/.well-known/jwks.json`; here the runner is the
    // issuer, so functions that verify tokens themselves fetch the runner's JWKS instead.
    if let Some(authorizer) = &stack.api.authorizer {
        let cognito_jwks = format!("{}/.well-known/jwks.json", authorizer.issuer);
        let local_jwks = format!("http://{}:{}/_local/.well-known/jwks.json", args.host, args.port);
        for function in &mut stack.functions {
            for value in function.env.values_mut().filter(|v| **v == cognito_jwks) {
                value.clone_from(&local_jwks);
            }
        }
    }

    if let Some(path) = &args.iam {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let translated: serde_json::Value =
            serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
        iam::register(&args.aws_endpoint, &iam::principals(&translated, &resolver, &stack.functions)?).await?;
        tracing::info!(functions = stack.functions.len(), "IAM enforced: each function runs with its own role");
    }

    let process_env = lambda::ProcessEnv {
        bin_dir: args.bin_dir.clone(),
        region: args.region.clone(),
        account: args.account.clone(),
        aws_endpoint: args.aws_endpoint.clone(),
        extra: args.fn_env.clone(),
        iam_stack: args.iam.as_ref().map(|_| args.stack_name.clone()),
    };
    let pools: Vec<Arc<lambda::FunctionPool>> = stack
        .functions
        .iter()
        .map(|f| lambda::FunctionPool::new(f.clone(), process_env.clone(), args.max_instances))
        .collect();
    let missing: Vec<String> =
        pools.iter().filter(|p| !p.binary_path().exists()).map(|p| p.binary_path().display().to_string()).collect();
    if !missing.is_empty() {
        bail!("function binaries missing (run `cargo build --workspace --bins`): {}", missing.join(", "));
    }

    let issuer = match &stack.api.authorizer {
        Some(a) => Some(auth::LocalIssuer::new(a.issuer.clone(), a.audience.clone())?),
        None => None,
    };
    let mut routes = Vec::new();
    let streams_api = Arc::new(streams::StreamsApi::new(&args.aws_endpoint, &args.region));
    let mut stream_stats = Vec::new();
    for pool in &pools {
        for event in &pool.spec.events {
            match event {
                EventSource::Http { method, path, auth } => routes.push(gateway::Route {
                    method: method.clone(),
                    path: path.clone(),
                    auth: *auth && issuer.is_some(),
                    function: pool.clone(),
                }),
                _ if args.no_event_sources => {}
                EventSource::Sqs { queue_arn, batch_size, report_failures } => {
                    let queue_url = queue_url(&resolver, queue_arn)
                        .with_context(|| format!("{} listens to unknown queue {queue_arn}", pool.spec.logical_id))?;
                    let source = sources::SqsSource {
                        client: clients.sqs.clone(),
                        queue_url,
                        queue_arn: queue_arn.clone(),
                        region: args.region.clone(),
                        batch_size: *batch_size,
                        report_failures: *report_failures,
                        retry_after: Duration::from_secs(args.retry_after_secs),
                    };
                    tokio::spawn(sources::poll_sqs(source, pool.clone()));
                }
                EventSource::S3 { bucket, events, prefix, suffix } => {
                    // An internal queue stands in for S3's direct invoke of Lambda.
                    let name = format!("{}-local-s3-{}", args.stack_name, pool.spec.logical_id);
                    let queue_url =
                        clients.sqs.create_queue().queue_name(&name).send().await?.queue_url.unwrap_or_default();
                    let queue_arn = format!("arn:aws:sqs:{}:{}:{name}", args.region, args.account);
                    provision::notify_queue(
                        &clients.s3,
                        bucket,
                        &queue_arn,
                        events,
                        prefix.as_deref(),
                        suffix.as_deref(),
                    )
                    .await?;
                    let source = sources::SqsSource {
                        client: clients.sqs.clone(),
                        queue_url,
                        queue_arn,
                        region: args.region.clone(),
                        batch_size: 10,
                        report_failures: false,
                        retry_after: Duration::from_secs(args.retry_after_secs),
                    };
                    tokio::spawn(sources::poll_s3(source, pool.clone()));
                }
                EventSource::Stream(spec) => {
                    for pattern in &spec.filters {
                        streams::check_pattern(pattern)
                            .with_context(|| format!("{}'s stream filter", pool.spec.logical_id))?;
                    }
                    let on_failure = match &spec.on_failure {
                        Some(arn) => {
                            let url = queue_url(&resolver, arn).with_context(|| {
                                format!("{} sends failures to unknown queue {arn}", pool.spec.logical_id)
                            })?;
                            // Lambda sends there with the function's role.
                            let key = match args.iam {
                                Some(_) => iam::access_key_id(&args.stack_name, &pool.spec.logical_id),
                                None => "local".to_owned(),
                            };
                            let credentials = aws_sdk_sqs::config::Credentials::new(
                                key,
                                "local",
                                Some("local".into()),
                                None,
                                "function",
                            );
                            let config =
                                aws_sdk_sqs::config::Builder::from(&sdk).credentials_provider(credentials).build();
                            Some((aws_sdk_sqs::Client::from_conf(config), url))
                        }
                        None => None,
                    };
                    let stats = Arc::new(std::sync::Mutex::new(streams::StreamStats {
                        function: pool.spec.logical_id.clone(),
                        stream_arn: spec.stream_arn.clone(),
                        ..Default::default()
                    }));
                    stream_stats.push(stats.clone());
                    let source = streams::StreamSource {
                        spec: spec.clone(),
                        api: streams_api.clone(),
                        region: args.region.clone(),
                        on_failure,
                        function_arn: format!(
                            "arn:aws:lambda:{}:{}:function:{}",
                            args.region, args.account, pool.spec.name
                        ),
                        stats,
                    };
                    tokio::spawn(streams::poll(Arc::new(source), pool.clone()));
                }
                EventSource::Schedule { every, input } => {
                    let every = args.schedule_period_secs.map(Duration::from_secs).unwrap_or(*every);
                    tokio::spawn(sources::schedule(
                        pool.clone(),
                        every,
                        input.clone(),
                        args.region.clone(),
                        args.account.clone(),
                    ));
                }
            }
        }
    }
    if args.prewarm {
        for pool in &pools {
            pool.start_instance().await?;
        }
    }

    let resources = provision::describe(&resolver);
    if let Some(path) = &args.resources_out {
        std::fs::write(path, serde_json::to_vec_pretty(&resources)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let route_count = routes.len();
    let openapi = std::fs::read_to_string(project_root.join("openapi.yaml")).ok();
    // The bucket behind the first CloudFront distribution's first origin (GetAtt X.RegionalDomainName).
    let cdn_bucket = template["Resources"].as_object().and_then(|resources| {
        resources.values().find(|r| r["Type"] == "AWS::CloudFront::Distribution").and_then(|d| {
            let origin = &d["Properties"]["DistributionConfig"]["Origins"][0]["DomainName"]["Fn::GetAtt"][0];
            origin
                .as_str()
                .and_then(|logical| resolver.resources.get(logical))
                .and_then(|p| p.reference.as_str().map(str::to_owned))
        })
    });
    let cdn = cdn_bucket.map(|bucket| (clients.s3.clone(), bucket));
    let email_feedback = email::FeedbackRoute::from_template(&template, &resolver, &clients.sqs);
    let gw = Arc::new(gateway::Gateway {
        routes,
        overhead_us: Default::default(),
        api: stack.api.clone(),
        issuer,
        pools: pools.clone(),
        resources,
        account: args.account.clone(),
        openapi,
        cdn,
        streams: stream_stats,
        aws_endpoint: args.aws_endpoint.clone(),
        region: args.region.clone(),
        email_feedback,
    });
    let app = axum::Router::new().fallback(gateway::handle).with_state(gw);
    let listener = tokio::net::TcpListener::bind((args.host.as_str(), args.port))
        .await
        .with_context(|| format!("binding {}:{}", args.host, args.port))?;
    let addr = listener.local_addr()?;
    tracing::info!(functions = pools.len(), routes = route_count, stack = %args.stack_name, "local-runner ready on http://{addr}");

    let shutdown = async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
        }
        tracing::info!("shutting down; stopping function instances");
    };
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await?;
    Ok(())
}

/// The URL of the provisioned queue whose ARN is `arn`.
fn queue_url(resolver: &resolve::Resolver, arn: &str) -> Option<String> {
    resolver
        .resources
        .values()
        .find(|p| p.attributes.get("Arn").map(String::as_str) == Some(arn))
        .and_then(|p| p.attributes.get("QueueUrl").cloned())
}
