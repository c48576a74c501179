//! The stats `action` allow-list (protocol.md §5.2): what the plugin sends, plus what servers
//! generate or older plugins sent, so that old queues drain.

/// Actions the current plugin sends (protocol.md §5.2).
const PLUGIN_ACTIONS: &[&str] = &[
    "set",
    "set_fail",
    "set_next",
    "reset",
    "delete",
    "update_fail",
    "download_fail",
    "download_10",
    "download_20",
    "download_30",
    "download_40",
    "download_50",
    "download_60",
    "download_70",
    "download_80",
    "download_90",
    "download_complete",
    "download_zip_start",
    "download_zip_complete",
    "download_manifest_start",
    "download_manifest_complete",
    "download_manifest_file_fail",
    "download_manifest_checksum_fail",
    "download_manifest_brotli_fail",
    "manifest_path_fail",
    "finish_download_fail",
    "low_mem_fail",
    "insufficient_disk_space",
    "checksum_fail",
    "checksum_required",
    "decrypt_fail",
    "unzip_fail",
    "windows_path_fail",
    "canonical_path_fail",
    "directory_path_fail",
    "blocked_by_server_url",
    "rate_limit_reached",
    "app_moved_to_foreground",
    "app_moved_to_background",
    "app_launch_start",
    "app_launch_ready",
    "app_launch_timeout",
    "app_crash",
    "app_crash_native",
    "app_anr",
    "app_killed_low_memory",
    "app_killed_excessive_resource_usage",
    "app_initialization_failure",
    "app_memory_warning",
    "webview_javascript_error",
    "webview_unhandled_rejection",
    "webview_resource_error",
    "webview_security_policy_violation",
    "webview_unclean_restart",
    "webview_render_process_gone",
    "webview_content_process_terminated",
    "webview_dom_content_loaded",
    "webview_page_loaded",
    "os_version_changed",
    "native_app_version_changed",
];

/// Actions servers generate or older plugins sent; accepted so that old queues drain.
const SERVER_ACTIONS: &[&str] = &[
    "ping",
    "get",
    "download_0",
    "uninstall",
    "needPlanUpgrade",
    "missingBundle",
    "noNew",
    "disablePlatformIos",
    "disablePlatformAndroid",
    "disablePlatformElectron",
    "disableAutoUpdateToMajor",
    "disableAutoUpdateToMinor",
    "disableAutoUpdateToPatch",
    "disableAutoUpdateMetadata",
    "disableAutoUpdateUnderNative",
    "disableAutoUpdate",
    "cannotUpdateViaPrivateChannel",
    "channelMisconfigured",
    "disableDevBuild",
    "disableProdBuild",
    "disableEmulator",
    "disableDevice",
    "cannotGetBundle",
    "NoChannelOrOverride",
    "setChannel",
    "getChannel",
    "rateLimited",
    "keyMismatch",
    "InvalidIp",
    "backend_refusal",
    "customIdBlocked",
];

/// The server-side event recorded when an app that refuses custom ids receives one.
pub const CUSTOM_ID_BLOCKED: &str = "customIdBlocked";

pub fn is_known_action(action: &str) -> bool {
    PLUGIN_ACTIONS.contains(&action) || SERVER_ACTIONS.contains(&action)
}

/// Every allowed action: the plugin's, then the others.
pub fn known_actions() -> impl Iterator<Item = &'static str> {
    PLUGIN_ACTIONS.iter().chain(SERVER_ACTIONS).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_action_list_has_every_protocol_entry() {
        assert_eq!(PLUGIN_ACTIONS.len() + SERVER_ACTIONS.len(), 91);
        assert!(is_known_action("webview_page_loaded") && is_known_action("customIdBlocked"));
        assert!(!is_known_action("made_up"));
    }
}
