//! The Lambda Runtime API an instance talks to: `/next` hands out an invocation, `/response`
//! and `/error` finish it, `/init/error` ends an instance that failed to start.

use super::*;

pub(super) struct IdleGuard<'a>(&'a FunctionPool);

impl<'a> IdleGuard<'a> {
    pub(super) fn new(pool: &'a FunctionPool) -> Self {
        pool.idle.fetch_add(1, Ordering::SeqCst);
        Self(pool)
    }
}

impl Drop for IdleGuard<'_> {
    fn drop(&mut self) {
        self.0.idle.fetch_sub(1, Ordering::SeqCst);
        self.0.replace_lost_capacity();
    }
}

pub(super) type InstanceState = State<(Arc<FunctionPool>, Arc<Instance>)>;

pub(super) async fn next(State((pool, instance)): InstanceState) -> Response {
    {
        let mut first = lock(&instance.first_next);
        if first.is_none() {
            let init = instance.spawned.elapsed();
            *first = Some(init);
            lock(&pool.stats).init_ms.push(init.as_secs_f64() * 1000.0);
            tracing::debug!(function = %pool.spec.logical_id, instance = instance.id, init_ms = init.as_secs_f64() * 1000.0, "instance ready");
        }
    }
    // Counted idle while waiting here; the guard also uncounts it when the process dies and
    // its connection, and with it this handler, is dropped.
    let idle = IdleGuard::new(&pool);
    let mut ended = instance.ended.subscribe();
    // `recv` is cancel-safe: an invocation is either taken here or left for another instance.
    let received = tokio::select! {
        biased;
        _ = ended.wait_for(|e| *e) => None,
        received = pool.rx.recv() => received.ok(),
    };
    drop(idle);
    let invocation = match received {
        // Taken just as the process ended: hand it back for a live instance.
        Some(invocation) if *instance.ended.borrow() => {
            let _ = pool.tx.send(invocation).await;
            None
        }
        other => other,
    };
    let Some(invocation) = invocation else {
        pool.replace_lost_capacity();
        return StatusCode::GONE.into_response();
    };
    let deadline_ms = chrono::Utc::now().timestamp_millis() as u128
        + invocation.deadline.saturating_duration_since(Instant::now()).as_millis();
    let trace_id = format!(
        "Root=1-{:08x}-{};Parent={};Sampled=1",
        chrono::Utc::now().timestamp(),
        &uuid::Uuid::new_v4().simple().to_string()[..24],
        &uuid::Uuid::new_v4().simple().to_string()[..16]
    );
    *lock(&instance.current) = Some((invocation.id.clone(), invocation.reply, Instant::now()));
    lock(&pool.inflight).insert(invocation.id.clone(), instance.clone());
    let arn = format!("arn:aws:lambda:{}:{}:function:{}", pool.env.region, pool.env.account, pool.spec.name);
    (
        [
            ("lambda-runtime-aws-request-id", invocation.id),
            ("lambda-runtime-deadline-ms", deadline_ms.to_string()),
            ("lambda-runtime-invoked-function-arn", arn),
            ("lambda-runtime-trace-id", trace_id),
            ("content-type", "application/json".to_owned()),
        ],
        invocation.payload,
    )
        .into_response()
}

pub(super) fn finish(instance: &Instance, id: &str, outcome: Outcome) -> StatusCode {
    let mut current = lock(&instance.current);
    match current.take() {
        Some((current_id, reply, handed_out)) if current_id == id => {
            let _ = reply.send((outcome, Some(handed_out.elapsed())));
            StatusCode::ACCEPTED
        }
        other => {
            *current = other;
            StatusCode::BAD_REQUEST
        }
    }
}

pub(super) async fn respond(State((_, instance)): InstanceState, Path(id): Path<String>, body: Bytes) -> StatusCode {
    finish(&instance, &id, Outcome::Response(body))
}

pub(super) async fn error(
    State((pool, instance)): InstanceState,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let value = serde_json::from_slice(&body)
        .unwrap_or_else(|_| serde_json::json!({ "errorMessage": String::from_utf8_lossy(&body) }));
    let kind = headers.get("lambda-runtime-function-error-type").and_then(|v| v.to_str().ok()).unwrap_or("unhandled");
    tracing::warn!(function = %pool.spec.logical_id, invocation = %id, error_type = kind, "function returned an error");
    finish(&instance, &id, Outcome::FunctionError(value))
}

pub(super) async fn init_error(State((pool, instance)): InstanceState, body: Bytes) -> StatusCode {
    tracing::error!(function = %pool.spec.logical_id, instance = instance.id, error = %String::from_utf8_lossy(&body), "function failed to initialise");
    if let Some(kill) = lock(&instance.kill).take() {
        let _ = kill.send(());
    }
    StatusCode::ACCEPTED
}
