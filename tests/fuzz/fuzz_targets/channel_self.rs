//! `/channel_self`: the input is `<query string>\n<body>`, read for each of the four verbs the way
//! the gateway reads it. Any input is refused with a protocol code or parsed into a request whose
//! JSON form (what the extension receives and validates again) is the same request.
#![no_main]

use libfuzzer_sys::fuzz_target;
use liveupdate_core::channel::{self, ChannelRequest, Operation};
use liveupdate_fuzz::holds_nul;
use liveupdate_gateway::handlers::channel_request;

const OPERATIONS: [Operation; 4] = [Operation::Set, Operation::Get, Operation::List, Operation::Unset];

fuzz_target!(|input: &[u8]| {
    let (query, body) = match input.iter().position(|&byte| byte == b'\n') {
        Some(end) => (&input[..end], &input[end + 1..]),
        None => (input, &[][..]),
    };
    // A request line holds no other bytes than ASCII ones; hyper refuses the rest.
    let Ok(query) = std::str::from_utf8(query) else { return };
    let Ok(query) = channel::query_to_json(query) else { return };
    assert!(query.is_object(), "query_to_json answered {query}");
    for operation in OPERATIONS {
        let Ok(request) = channel_request(operation, query.clone(), body) else { continue };
        assert_eq!(request.operation, operation);
        let json = request.to_json();
        assert!(!holds_nul(&json), "an accepted request holds a NUL: {json}");
        let again = ChannelRequest::from_json(operation, &json);
        assert_eq!(again.as_ref(), Ok(&request), "to_json does not parse back to the same request");
    }
});
