//! Every request's route, from the one route table (`liveupdate_api::routes`), and the label logs
//! and metrics know it by.

use hyper::Method;
use liveupdate_api::routes::{self, Routed, Served, Service};
use liveupdate_core::channel::Operation;

use crate::management::Call;

/// A routed request. Device endpoints need no authentication: the plugin sends none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// One of the gateway's own routes, with its path parameters (a file's key).
    Gateway { service: Service, parameters: Vec<(&'static str, String)> },
    /// A management operation under `/v1`.
    Management(Call),
    /// A known path with a method it does not serve; `Allow` lists the path's methods.
    MethodNotAllowed { allow: String, label: &'static str },
    /// No route; `management` when the path is under `/v1/` (answered as the management API
    /// answers its errors).
    NotFound { management: bool },
    /// A management path segment with broken percent-encoding.
    BadPath,
}

impl Endpoint {
    pub fn parse(method: &Method, path: &str) -> Endpoint {
        match routes::find(method.as_str(), path) {
            Routed::Found(found) => match found.route {
                Served::Gateway(route) => {
                    Endpoint::Gateway { service: route.service, parameters: found.parameters }
                }
                Served::Operation(route) => {
                    Endpoint::Management(Call { operation: route.function, path_fields: found.parameters })
                }
            },
            Routed::MethodNotAllowed { allow, route } => {
                // Labels as earlier releases had them: a 405 under `/v1` or `/console` is theirs.
                let label = match route {
                    _ if routes::is_management_path(path) => "management",
                    Served::Gateway(route) if route.service == Service::Console => "console",
                    _ => "method_not_allowed",
                };
                Endpoint::MethodNotAllowed { allow, label }
            }
            Routed::NotFound => Endpoint::NotFound { management: routes::is_management_path(path) },
            Routed::BadPath => Endpoint::BadPath,
        }
    }

    /// The path parameter `name` of one of the gateway's own routes.
    pub fn parameter(&self, name: &str) -> Option<&str> {
        let Endpoint::Gateway { parameters, .. } = self else { return None };
        parameters.iter().find(|(known, _)| *known == name).map(|(_, value)| value.as_str())
    }

    /// A short stable label for logs and metrics (dashboards know them: never rename one).
    pub fn label(&self) -> &'static str {
        match self {
            Endpoint::Gateway { service, .. } => match service {
                Service::UpdateCheck => "update_check",
                Service::ManifestSize => "manifest_size",
                Service::UpdatesHealth => "updates_health",
                Service::Stats => "stats",
                Service::StatsHealth => "stats_health",
                Service::ChannelSelf(Operation::Set) => "channel_set",
                Service::ChannelSelf(Operation::Get) => "channel_get",
                Service::ChannelSelf(Operation::List) => "channel_list",
                Service::ChannelSelf(Operation::Unset) => "channel_unset",
                Service::OpenApi => "management",
                Service::File => "file",
                Service::Health => "health",
                Service::Ready => "ready",
                Service::Metrics => "metrics",
                Service::Console => "console",
            },
            Endpoint::Management(_) | Endpoint::BadPath | Endpoint::NotFound { management: true } => {
                "management"
            }
            Endpoint::MethodNotAllowed { label, .. } => label,
            Endpoint::NotFound { management: false } => "not_found",
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests: a failed step should fail loudly")]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::management::OPENAPI;

    fn gateway(service: Service) -> Endpoint {
        Endpoint::Gateway { service, parameters: Vec::new() }
    }

    fn not_allowed(allow: &str, label: &'static str) -> Endpoint {
        Endpoint::MethodNotAllowed { allow: allow.to_owned(), label }
    }

    #[test]
    fn routes() {
        assert_eq!(Endpoint::parse(&Method::POST, "/updates"), gateway(Service::UpdateCheck));
        assert_eq!(Endpoint::parse(&Method::POST, "/updates/"), gateway(Service::UpdateCheck));
        assert_eq!(Endpoint::parse(&Method::GET, "/updates"), gateway(Service::UpdatesHealth));
        assert_eq!(
            Endpoint::parse(&Method::DELETE, "/updates"),
            not_allowed("GET, POST", "method_not_allowed")
        );
        assert_eq!(Endpoint::parse(&Method::GET, "/"), Endpoint::NotFound { management: false });
        assert_eq!(Endpoint::parse(&Method::GET, "/updatesx"), Endpoint::NotFound { management: false });
        assert_eq!(Endpoint::parse(&Method::POST, "/ready"), not_allowed("GET", "method_not_allowed"));
        assert_eq!(Endpoint::parse(&Method::GET, "/console"), gateway(Service::Console));
        let deep_link = Endpoint::parse(&Method::GET, "/console/apps/a.b");
        assert_eq!((deep_link.label(), deep_link.parameter("path")), ("console", Some("apps/a.b")));
        assert_eq!(Endpoint::parse(&Method::POST, "/console/apps"), not_allowed("GET, HEAD", "console"));
        assert_eq!(Endpoint::parse(&Method::GET, "/consoles"), Endpoint::NotFound { management: false });
        let file = Endpoint::parse(&Method::HEAD, "/files/zips/a.zip");
        assert_eq!((file.label(), file.parameter("key")), ("file", Some("zips/a.zip")));
        assert_eq!(
            Endpoint::parse(&Method::PUT, "/files/zips/a.zip"),
            not_allowed("GET, HEAD", "method_not_allowed")
        );
    }

    /// Everything under `/v1/` keeps the `management` label, whatever the outcome.
    #[test]
    fn management_paths_keep_their_label() {
        for (method, path) in [
            (Method::GET, "/v1/apps"),
            (Method::GET, "/v1/openapi.json"),
            (Method::POST, "/v1/openapi.json"),
            (Method::PUT, "/v1/apps"),
            (Method::GET, "/v1/nothing"),
            (Method::GET, "/v1/apps/%zz"),
        ] {
            assert_eq!(Endpoint::parse(&method, path).label(), "management", "{method} {path}");
        }
        assert_eq!(Endpoint::parse(&Method::GET, "/v1/nothing"), Endpoint::NotFound { management: true });
        assert_eq!(Endpoint::parse(&Method::GET, "/v1/apps/%zz"), Endpoint::BadPath);
        assert_eq!(Endpoint::parse(&Method::GET, "/health").label(), "health");
        assert_eq!(Endpoint::parse(&Method::GET, "/nothing").label(), "not_found");
    }

    /// A sample value for a path parameter: a real object key for files, a segment otherwise.
    fn sample(name: &str) -> String {
        match name {
            "key" => format!("files/{}", "0".repeat(64)),
            "path" => "apps/com.example.app".to_owned(),
            other => format!("sample-{other}"),
        }
    }

    /// Every path and method of the served OpenAPI document is routed, to the route the document
    /// names (its operationId); with the route table's own test, the document and the router
    /// agree exactly.
    #[test]
    fn every_documented_operation_is_routed_to_itself() {
        let document: Value = serde_json::from_str(OPENAPI).unwrap();
        let mut operations = 0;
        for (template, item) in document["paths"].as_object().unwrap() {
            let path: String = template
                .split('/')
                .map(|segment| match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    Some(name) => sample(name),
                    None => segment.to_owned(),
                })
                .collect::<Vec<_>>()
                .join("/");
            for (method, operation) in item.as_object().unwrap() {
                let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                let Routed::Found(found) = routes::find(method.as_str(), &path) else {
                    panic!("{method} {path} ({template}) is documented but not routed")
                };
                assert_eq!(found.route.id(), operation["operationId"], "{method} {path}");
                assert_eq!(
                    (found.route.method().as_str(), found.route.path()),
                    (method.as_str(), template.as_str())
                );
                assert!(
                    !matches!(
                        Endpoint::parse(&method, &path),
                        Endpoint::MethodNotAllowed { .. } | Endpoint::NotFound { .. }
                    ),
                    "{method} {path}"
                );
                operations += 1;
            }
        }
        assert_eq!(operations, routes::all().count(), "every route of the table is documented once");
    }
}
