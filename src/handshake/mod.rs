//! Opening handshake (RFC 6455 section 4). Filled in by the handshake work.
#![forbid(unsafe_code)]
