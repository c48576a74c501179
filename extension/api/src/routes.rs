//! Every route the gateway serves, as one table: its own routes ([`GATEWAY_ROUTES`]: the device
//! protocol, stored files, service probes, this document and the console) followed by the
//! management operations ([`OPERATIONS`]). The gateway routes with [`find`]; the OpenAPI document
//! lists [`all`]. A path that is routed answers 405 with its methods for any other method, and
//! anything else is 404.
//!
//! Paths are OpenAPI templates. Management paths (under [`MANAGEMENT_PREFIX`]) are
//! percent-decoded segment by segment before matching (`+` stays itself: semver build metadata);
//! a `{field}` is one non-empty segment. Other paths are matched as sent. A route with
//! [`GatewayRoute::rest_of_path`] takes the rest of the path in its last `{parameter}`, slashes
//! included, as sent. One trailing slash is tolerated, as reverse proxies sometimes add one.

use liveupdate_core::channel::Operation as ChannelOperation;
use liveupdate_core::url::percent_decode;

use crate::{Method, OPERATIONS, Route};

/// The prefix of every management path.
pub const MANAGEMENT_PREFIX: &str = "/v1/";

/// What serves a route of the gateway's own (the management operations are [`Route`]s).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// The plugin's update check.
    UpdateCheck,
    /// Liveness, as the reference backend answers `GET /updates`.
    UpdatesHealth,
    /// Download size of missing manifest files.
    ManifestSize,
    /// A batch of device events (or one event).
    Stats,
    /// Answered like `GET /updates`.
    StatsHealth,
    /// Channel self-service, one verb per method.
    ChannelSelf(ChannelOperation),
    /// A stored bundle object.
    File,
    /// The process is up.
    Health,
    /// The database answers.
    Ready,
    /// Prometheus metrics.
    Metrics,
    /// The OpenAPI document.
    OpenApi,
    /// The web console's page and assets.
    Console,
}

/// A documentation group of the gateway's own routes (an OpenAPI tag).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// What the Capacitor plugin calls.
    Device,
    /// Stored bundle objects.
    Files,
    /// Probes and metrics for operators.
    Service,
    /// The OpenAPI document.
    Meta,
    /// The web console.
    Console,
}

impl Group {
    pub const fn name(self) -> &'static str {
        match self {
            Group::Device => "device",
            Group::Files => "files",
            Group::Service => "service",
            Group::Meta => "meta",
            Group::Console => "console",
        }
    }
}

/// One route the gateway serves itself, without an API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GatewayRoute {
    /// The OpenAPI operationId.
    pub id: &'static str,
    pub method: Method,
    pub path: &'static str,
    pub service: Service,
    /// The last `{parameter}` is the rest of the path: one or more segments, slashes included.
    pub rest_of_path: bool,
    pub group: Group,
    pub summary: &'static str,
}

const fn route(
    id: &'static str,
    method: Method,
    path: &'static str,
    service: Service,
    group: Group,
    summary: &'static str,
) -> GatewayRoute {
    GatewayRoute { id, method, path, service, rest_of_path: false, group, summary }
}

const fn rest_of_path(route: GatewayRoute) -> GatewayRoute {
    GatewayRoute { rest_of_path: true, ..route }
}

/// The gateway's own routes, in the order the OpenAPI document lists them.
pub const GATEWAY_ROUTES: &[GatewayRoute] = &[
    route(
        "updateCheck",
        Method::Post,
        "/updates",
        Service::UpdateCheck,
        Group::Device,
        "Check for an update",
    ),
    route(
        "updatesHealth",
        Method::Get,
        "/updates",
        Service::UpdatesHealth,
        Group::Device,
        "Liveness, as the reference backend answers it",
    ),
    route(
        "manifestSize",
        Method::Post,
        "/updates/manifest_size",
        Service::ManifestSize,
        Group::Device,
        "Download size of the manifest files a device is missing",
    ),
    route("recordStats", Method::Post, "/stats", Service::Stats, Group::Device, "Record device events"),
    route(
        "statsHealth",
        Method::Get,
        "/stats",
        Service::StatsHealth,
        Group::Device,
        "Liveness, as the reference backend answers it",
    ),
    route(
        "channelSelfSet",
        Method::Post,
        "/channel_self",
        Service::ChannelSelf(ChannelOperation::Set),
        Group::Device,
        "A device chooses its channel (setChannel)",
    ),
    route(
        "channelSelfGet",
        Method::Put,
        "/channel_self",
        Service::ChannelSelf(ChannelOperation::Get),
        Group::Device,
        "The channel a device is on (getChannel)",
    ),
    route(
        "channelSelfList",
        Method::Get,
        "/channel_self",
        Service::ChannelSelf(ChannelOperation::List),
        Group::Device,
        "The channels a device may choose (listChannels)",
    ),
    route(
        "channelSelfUnset",
        Method::Delete,
        "/channel_self",
        Service::ChannelSelf(ChannelOperation::Unset),
        Group::Device,
        "Remove a device's channel (legacy unsetChannel)",
    ),
    rest_of_path(route(
        "getFile",
        Method::Get,
        "/files/{key}",
        Service::File,
        Group::Files,
        "A stored bundle object",
    )),
    rest_of_path(route(
        "headFile",
        Method::Head,
        "/files/{key}",
        Service::File,
        Group::Files,
        "A stored bundle object's headers",
    )),
    route("health", Method::Get, "/health", Service::Health, Group::Service, "The process is up"),
    route("ready", Method::Get, "/ready", Service::Ready, Group::Service, "The database answers"),
    route("metrics", Method::Get, "/metrics", Service::Metrics, Group::Service, "Metrics for Prometheus"),
    route(
        "getOpenApi",
        Method::Get,
        "/v1/openapi.json",
        Service::OpenApi,
        Group::Meta,
        "Get this OpenAPI document",
    ),
    route("console", Method::Get, "/console", Service::Console, Group::Console, "The web console"),
    route(
        "headConsole",
        Method::Head,
        "/console",
        Service::Console,
        Group::Console,
        "The web console's headers",
    ),
    rest_of_path(route(
        "consolePath",
        Method::Get,
        "/console/{path}",
        Service::Console,
        Group::Console,
        "A console asset, or the console's page for any other path",
    )),
    rest_of_path(route(
        "headConsolePath",
        Method::Head,
        "/console/{path}",
        Service::Console,
        Group::Console,
        "A console asset's or page's headers",
    )),
];

/// One route of the table: the gateway's own, or a management operation.
#[derive(Debug, Clone, Copy)]
pub enum Served {
    Gateway(&'static GatewayRoute),
    Operation(&'static Route),
}

impl Served {
    pub fn id(self) -> &'static str {
        match self {
            Served::Gateway(route) => route.id,
            Served::Operation(route) => route.id,
        }
    }

    pub fn method(self) -> Method {
        match self {
            Served::Gateway(route) => route.method,
            Served::Operation(route) => route.method,
        }
    }

    pub fn path(self) -> &'static str {
        match self {
            Served::Gateway(route) => route.path,
            Served::Operation(route) => route.path,
        }
    }

    fn rest_of_path(self) -> bool {
        matches!(self, Served::Gateway(route) if route.rest_of_path)
    }
}

/// Every route the gateway serves, in the order the OpenAPI document lists them.
pub fn all() -> impl Iterator<Item = Served> {
    GATEWAY_ROUTES.iter().map(Served::Gateway).chain(OPERATIONS.iter().map(Served::Operation))
}

/// A request's route and its path parameters (decoded under [`MANAGEMENT_PREFIX`]), by name.
#[derive(Debug, Clone)]
pub struct Found {
    pub route: Served,
    pub parameters: Vec<(&'static str, String)>,
}

/// Where a request goes.
#[derive(Debug, Clone)]
pub enum Routed {
    Found(Found),
    /// The path is routed, for other methods: `allow` lists them (for the `Allow` header);
    /// `route` is one of the path's routes.
    MethodNotAllowed {
        allow: String,
        route: Served,
    },
    NotFound,
    /// A management path segment with broken percent-encoding.
    BadPath,
}

/// `path` without one trailing slash (unless it is `/`).
fn without_trailing_slash(path: &str) -> &str {
    match path.strip_suffix('/') {
        Some(stripped) if !stripped.is_empty() => stripped,
        _ => path,
    }
}

/// Whether `path` is the management API's: decoded before matching, answered as it answers.
pub fn is_management_path(path: &str) -> bool {
    without_trailing_slash(path).starts_with(MANAGEMENT_PREFIX)
}

/// Routes `method` (as HTTP spells it) on `path` (without the query string).
pub fn find(method: &str, path: &str) -> Routed {
    let trimmed = without_trailing_slash(path);
    let segments: Vec<String> = if is_management_path(path) {
        let mut decoded = Vec::new();
        for raw in trimmed.trim_start_matches('/').split('/') {
            match percent_decode(raw, false) {
                Some(segment) if !segment.is_empty() => decoded.push(segment),
                Some(_) => return Routed::NotFound,
                None => return Routed::BadPath,
            }
        }
        decoded
    } else {
        trimmed.strip_prefix('/').unwrap_or(trimmed).split('/').map(str::to_owned).collect()
    };
    let mut others: Vec<Served> = Vec::new();
    for route in all() {
        let Some(parameters) = parameters(route, &segments, path) else { continue };
        if route.method().as_str() == method {
            return Routed::Found(Found { route, parameters });
        }
        others.push(route);
    }
    let Some(first) = others.first().copied() else { return Routed::NotFound };
    let mut methods: Vec<Method> = others.iter().map(|route| route.method()).collect();
    methods.sort_unstable();
    methods.dedup();
    let allow = methods.iter().map(|method| method.as_str()).collect::<Vec<_>>().join(", ");
    Routed::MethodNotAllowed { allow, route: first }
}

/// The route's path parameters, when `segments` (the path's, after its leading slash) are its
/// path. A rest-of-path parameter is taken from `sent`, the path as sent.
fn parameters(route: Served, segments: &[String], sent: &str) -> Option<Vec<(&'static str, String)>> {
    let template: Vec<&'static str> = route.path()[1..].split('/').collect();
    let mut parameters = Vec::new();
    for (index, expected) in template.iter().enumerate() {
        let name = expected.strip_prefix('{').and_then(|name| name.strip_suffix('}'));
        match name {
            Some(name) if route.rest_of_path() && index == template.len() - 1 => {
                let literal_prefix = &route.path()[..route.path().len() - expected.len()];
                let rest = sent.strip_prefix(literal_prefix).filter(|rest| !rest.is_empty())?;
                if segments.len() <= index {
                    return None;
                }
                parameters.push((name, rest.to_owned()));
                return Some(parameters);
            }
            Some(name) => parameters.push((name, segments.get(index)?.clone())),
            None if segments.get(index).is_some_and(|actual| actual == expected) => {}
            None => return None,
        }
    }
    (segments.len() == template.len()).then_some(parameters)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests: a failed step should fail loudly")]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn found(method: &str, path: &str) -> (&'static str, Vec<(&'static str, String)>) {
        match find(method, path) {
            Routed::Found(found) => (found.route.id(), found.parameters),
            other => panic!("{method} {path}: {other:?}"),
        }
    }

    fn not_allowed(method: &str, path: &str) -> String {
        match find(method, path) {
            Routed::MethodNotAllowed { allow, .. } => allow,
            other => panic!("{method} {path}: {other:?}"),
        }
    }

    #[test]
    fn each_method_and_path_is_one_route() {
        let mut seen = HashSet::new();
        let mut ids = HashSet::new();
        for route in all() {
            assert!(
                seen.insert((route.method(), route.path())),
                "{} {} twice",
                route.method().as_str(),
                route.path()
            );
            assert!(ids.insert(route.id()), "operationId {} twice", route.id());
        }
    }

    #[test]
    fn device_and_service_paths_are_matched_as_sent() {
        assert_eq!(found("POST", "/updates").0, "updateCheck");
        assert_eq!(found("POST", "/updates/").0, "updateCheck");
        assert_eq!(found("GET", "/updates").0, "updatesHealth");
        assert_eq!(found("PUT", "/channel_self").0, "channelSelfGet");
        assert!(matches!(find("POST", "/upd%61tes"), Routed::NotFound), "no decoding outside /v1/");
        assert!(matches!(find("POST", "/updates//manifest_size"), Routed::NotFound));
        assert!(matches!(find("GET", "/"), Routed::NotFound));
        assert!(matches!(find("GET", ""), Routed::NotFound));
        assert!(matches!(find("GET", "/updatesx"), Routed::NotFound));
        assert_eq!(not_allowed("DELETE", "/updates"), "GET, POST");
        assert_eq!(not_allowed("PATCH", "/channel_self"), "GET, POST, PUT, DELETE");
        assert_eq!(not_allowed("HEAD", "/health"), "GET");
    }

    #[test]
    fn files_and_console_take_the_rest_of_the_path_as_sent() {
        let hash = "a".repeat(64);
        assert_eq!(
            found("GET", &format!("/files/files/{hash}.br")),
            ("getFile", vec![("key", format!("files/{hash}.br"))])
        );
        assert_eq!(
            found("HEAD", "/files/zips/x%2Ey.zip"),
            ("headFile", vec![("key", "zips/x%2Ey.zip".to_owned())])
        );
        assert_eq!(found("GET", "/files/x/").1, vec![("key", "x/".to_owned())], "the key as sent");
        assert!(matches!(find("GET", "/files/"), Routed::NotFound));
        assert_eq!(not_allowed("POST", "/files/a/b"), "GET, HEAD");
        assert_eq!(found("GET", "/console").0, "console");
        assert_eq!(found("GET", "/console/").0, "console");
        assert_eq!(
            found("HEAD", "/console/apps/a.b"),
            ("headConsolePath", vec![("path", "apps/a.b".to_owned())])
        );
        assert_eq!(not_allowed("POST", "/console/apps"), "GET, HEAD");
        assert!(matches!(find("GET", "/consoles"), Routed::NotFound));
    }

    #[test]
    fn management_paths_are_decoded() {
        assert_eq!(found("GET", "/v1/apps").0, "listApps");
        assert_eq!(found("GET", "/v1/apps/").0, "listApps");
        assert_eq!(
            found("PATCH", "/v1/apps/com.example.app/channels/beta%20two"),
            (
                "updateChannel",
                vec![("app_id", "com.example.app".to_owned()), ("channel", "beta two".to_owned())]
            )
        );
        assert_eq!(
            found("DELETE", "/v1/apps/a.b/bundles/1.0.0+build").1[1],
            ("version", "1.0.0+build".to_owned())
        );
        assert_eq!(found("GET", "/v1/openapi.json").0, "getOpenApi");
        assert_eq!(not_allowed("POST", "/v1/keys/12"), "DELETE");
        assert_eq!(not_allowed("PUT", "/v1/apps"), "GET, POST");
        assert_eq!(not_allowed("PUT", "/v1/apps/a.b"), "GET, PATCH, DELETE");
        assert_eq!(not_allowed("POST", "/v1/openapi.json"), "GET");
        assert!(matches!(find("GET", "/v1/apps//channels"), Routed::NotFound));
        assert!(matches!(find("GET", "/v1/apps/a.b/secrets"), Routed::NotFound));
        assert!(matches!(find("GET", "/v1/apps/%zz"), Routed::BadPath));
    }

    /// Only the gateway's own routes take the rest of a path: management fields are one segment.
    #[test]
    fn rest_of_path_parameters_end_their_path() {
        for route in GATEWAY_ROUTES.iter().filter(|route| route.rest_of_path) {
            assert!(
                route.path.ends_with('}') && !route.path.starts_with(MANAGEMENT_PREFIX),
                "{}",
                route.path
            );
        }
    }
}
