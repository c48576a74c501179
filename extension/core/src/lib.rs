//! The pure rules of liveupdate, shared by the PostgreSQL extension and the gateway.
//!
//! Nothing here touches a database or the network: the extension looks facts up and hands them to
//! these functions, and the gateway uses the same validation to refuse bad requests before any
//! database work. Keeping the rules here lets them be tested with plain `cargo test`.

pub mod actions;
pub mod answer;
pub mod archive;
pub mod channel;
pub mod fields;
pub mod guard;
pub mod integrity;
pub mod manifest_size;
pub mod plugin;
pub mod policy;
pub mod request;
pub mod resolve;
pub mod rollout;
pub mod rollups;
pub mod signing;
pub mod stats;
pub mod url;
pub mod version;
pub mod zip_headers;
