//! Every route the gateway serves, parsed once from method and path.

use hyper::Method;
use liveupdate_core::channel::Operation;

/// A parsed route. Device endpoints need no authentication: the plugin sends none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `POST /updates`: the plugin's update check.
    UpdateCheck,
    /// `POST /updates/manifest_size`: download size of missing manifest files.
    ManifestSize,
    /// `GET /updates`: liveness for load balancers, as the reference backend answers it.
    UpdatesHealth,
    /// `POST /stats`: a batch of device events (or one event).
    Stats,
    /// `GET /stats`: answered like `GET /updates`.
    StatsHealth,
    /// `/channel_self`: POST set, PUT get, GET list, DELETE unset.
    ChannelSelf(Operation),
    /// `/v1/...`: the management API, routed further by `management::route`.
    Management,
    /// `GET`/`HEAD /files/<key>`: a stored bundle object.
    File,
    /// `GET /health`: the process is up.
    Health,
    /// `GET /ready`: the database answers.
    Ready,
    /// `GET /metrics`: Prometheus text format.
    Metrics,
    /// `GET`/`HEAD /console` and below: the web console (`console`).
    Console,
    /// A known path with a method it does not serve.
    MethodNotAllowed {
        allow: &'static str,
    },
    NotFound,
}

impl Endpoint {
    pub fn parse(method: &Method, path: &str) -> Endpoint {
        // Tolerate a trailing slash, as reverse proxies sometimes add one.
        let path = match path.strip_suffix('/') {
            Some(stripped) if !stripped.is_empty() => stripped,
            _ => path,
        };
        match (path, method) {
            ("/updates", &Method::POST) => Endpoint::UpdateCheck,
            ("/updates", &Method::GET) => Endpoint::UpdatesHealth,
            ("/updates", _) => Endpoint::MethodNotAllowed { allow: "GET, POST" },
            ("/updates/manifest_size", &Method::POST) => Endpoint::ManifestSize,
            ("/updates/manifest_size", _) => Endpoint::MethodNotAllowed { allow: "POST" },
            ("/stats", &Method::POST) => Endpoint::Stats,
            ("/stats", &Method::GET) => Endpoint::StatsHealth,
            ("/stats", _) => Endpoint::MethodNotAllowed { allow: "GET, POST" },
            ("/channel_self", &Method::POST) => Endpoint::ChannelSelf(Operation::Set),
            ("/channel_self", &Method::PUT) => Endpoint::ChannelSelf(Operation::Get),
            ("/channel_self", &Method::GET) => Endpoint::ChannelSelf(Operation::List),
            ("/channel_self", &Method::DELETE) => Endpoint::ChannelSelf(Operation::Unset),
            ("/channel_self", _) => Endpoint::MethodNotAllowed { allow: "GET, POST, PUT, DELETE" },
            (management, _) if management.starts_with("/v1/") => Endpoint::Management,
            (console, _) if crate::console::is_console_path(console) => Endpoint::Console,
            (file, &Method::GET | &Method::HEAD) if file.starts_with("/files/") => Endpoint::File,
            (file, _) if file.starts_with("/files/") => Endpoint::MethodNotAllowed { allow: "GET, HEAD" },
            ("/health", &Method::GET) => Endpoint::Health,
            ("/ready", &Method::GET) => Endpoint::Ready,
            ("/metrics", &Method::GET) => Endpoint::Metrics,
            ("/health" | "/ready" | "/metrics", _) => Endpoint::MethodNotAllowed { allow: "GET" },
            _ => Endpoint::NotFound,
        }
    }

    /// A short stable label for logs and metrics.
    pub fn label(self) -> &'static str {
        match self {
            Endpoint::UpdateCheck => "update_check",
            Endpoint::ManifestSize => "manifest_size",
            Endpoint::UpdatesHealth => "updates_health",
            Endpoint::Stats => "stats",
            Endpoint::StatsHealth => "stats_health",
            Endpoint::ChannelSelf(Operation::Set) => "channel_set",
            Endpoint::ChannelSelf(Operation::Get) => "channel_get",
            Endpoint::ChannelSelf(Operation::List) => "channel_list",
            Endpoint::ChannelSelf(Operation::Unset) => "channel_unset",
            Endpoint::Management => "management",
            Endpoint::File => "file",
            Endpoint::Health => "health",
            Endpoint::Ready => "ready",
            Endpoint::Metrics => "metrics",
            Endpoint::Console => "console",
            Endpoint::MethodNotAllowed { .. } => "method_not_allowed",
            Endpoint::NotFound => "not_found",
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests: a failed step should fail loudly")]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(Endpoint::parse(&Method::POST, "/updates"), Endpoint::UpdateCheck);
        assert_eq!(Endpoint::parse(&Method::POST, "/updates/"), Endpoint::UpdateCheck);
        assert_eq!(Endpoint::parse(&Method::GET, "/updates"), Endpoint::UpdatesHealth);
        assert_eq!(
            Endpoint::parse(&Method::DELETE, "/updates"),
            Endpoint::MethodNotAllowed { allow: "GET, POST" }
        );
        assert_eq!(Endpoint::parse(&Method::GET, "/"), Endpoint::NotFound);
        assert_eq!(Endpoint::parse(&Method::GET, "/updatesx"), Endpoint::NotFound);
        assert_eq!(Endpoint::parse(&Method::POST, "/ready"), Endpoint::MethodNotAllowed { allow: "GET" });
        assert_eq!(Endpoint::parse(&Method::GET, "/console"), Endpoint::Console);
        assert_eq!(Endpoint::parse(&Method::GET, "/console/apps/a.b"), Endpoint::Console);
        assert_eq!(Endpoint::parse(&Method::GET, "/consoles"), Endpoint::NotFound);
    }
}
