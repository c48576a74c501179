//! The HTTP/1.1 server: connection limits, timeouts, routing, graceful shutdown.

use std::convert::Infallible;
use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use liveupdate_api::routes::Service;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::client_address::client_address;
use crate::connection_limit::ConnectionsPerAddress;
use crate::response::{ApiError, Body};
use crate::router::Endpoint;
use crate::state::State;
use crate::{console, files, handlers, management};

/// Routes one request from TCP peer `peer` and records its outcome.
pub async fn handle(state: &State, request: Request<Incoming>, peer: IpAddr) -> Response<Body> {
    let started = Instant::now();
    let endpoint = Endpoint::parse(request.method(), request.uri().path());
    // The address per-address limits count (the forwarded client's behind trusted proxies).
    let client = client_address(state.config.forwarded_by.as_ref(), request.headers(), peer);
    let result = match &endpoint {
        Endpoint::Gateway { service, .. } => match service {
            Service::UpdateCheck => handlers::update_check(state, request, client).await,
            Service::ManifestSize => handlers::manifest_size(state, request, client).await,
            Service::Stats => handlers::record_stats(state, request, client).await,
            Service::ChannelSelf(operation) => {
                handlers::channel_self(state, request, *operation, client).await
            }
            Service::File => {
                let key = endpoint.parameter("key").unwrap_or_default();
                files::serve(state, request.method(), key, request.headers()).await
            }
            Service::Console => console::serve(request.method(), request.uri().path(), request.headers()),
            Service::UpdatesHealth | Service::StatsHealth | Service::Health => Ok(handlers::status_ok()),
            Service::Ready => handlers::ready(state).await,
            Service::Metrics => Ok(handlers::metrics(state)),
            Service::OpenApi => Ok(management::openapi()),
        },
        Endpoint::Management(call) => Ok(management::handle(state, request, call.clone(), client).await),
        Endpoint::MethodNotAllowed { allow, .. }
            if liveupdate_api::routes::is_management_path(request.uri().path()) =>
        {
            Ok(management::method_not_allowed(allow))
        }
        Endpoint::MethodNotAllowed { allow, .. } => Err(ApiError::method_not_allowed(allow)),
        Endpoint::NotFound { management: true } => Ok(management::not_found()),
        Endpoint::NotFound { management: false } => Err(ApiError::not_found()),
        Endpoint::BadPath => Ok(management::bad_path()),
    };
    let response = result.unwrap_or_else(ApiError::into_response);
    let status = response.status().as_u16();
    state.metrics.record_response(endpoint.label(), status, started.elapsed());
    tracing::debug!(
        endpoint = endpoint.label(),
        status,
        micros = started.elapsed().as_micros() as u64,
        "request"
    );
    response
}

/// Serves until `shutdown` completes, then lets in-flight requests finish within the grace period.
pub async fn serve(listener: TcpListener, state: Arc<State>, shutdown: impl Future<Output = ()>) {
    let graceful = GracefulShutdown::new();
    let connections = Arc::new(Semaphore::new(state.config.max_connections));
    let per_address = ConnectionsPerAddress::new(state.config.max_connections_per_address);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Usually out of file descriptors: back off instead of spinning.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Dropping the stream closes the connection at once, before anything is read from it.
        let Some(open_from_peer) = per_address.open(peer.ip()) else {
            tracing::debug!(%peer, "per-address connection limit reached; closing new connection");
            continue;
        };
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            tracing::warn!(%peer, "connection limit reached; closing new connection");
            continue;
        };
        // Small JSON answers: send them without waiting for Nagle's algorithm.
        let _ = stream.set_nodelay(true);
        let connection_state = state.clone();
        let service = service_fn(move |request| {
            let state = connection_state.clone();
            async move { Ok::<_, Infallible>(handle(&state, request, peer.ip()).await) }
        });
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(state.config.header_timeout)
            .serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%peer, %error, "connection ended with an error");
            }
            drop(permit);
            drop(open_from_peer);
        });
    }
    drop(listener);
    tracing::info!("shutting down: waiting for in-flight requests");
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("all connections closed"),
        () = tokio::time::sleep(state.config.shutdown_grace) => tracing::warn!("grace period over; closing remaining connections"),
    }
}
