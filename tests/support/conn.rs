//! Connections for the tests: every test that needs a [`Connection`] gets it from here, so a
//! change to the constructors touches this file alone (tests whose subject is a constructor
//! call it themselves). And the moves every test makes with one: taking its output, passing
//! it to the peer, collecting events.
#![allow(dead_code)]

use rfc6455::Role;
use rfc6455::connection::{Config, Connection, Event};
use rfc6455::handshake::{BuildError, ClientRequest, Limits};

/// An open connection in `role`, for a handshake done elsewhere. `seed` is where a client
/// draws its masking keys from; a server ignores it.
pub fn open(role: Role, config: Config, seed: [u8; 32]) -> Connection {
    match role {
        Role::Server => Connection::upgraded_server(config),
        Role::Client => Connection::upgraded_client(config, seed),
    }
}

/// An open server connection.
pub fn open_server(config: Config) -> Connection {
    open(Role::Server, config, [0; 32])
}

/// An open client connection masking with keys drawn from `seed`.
pub fn open_client(config: Config, seed: [u8; 32]) -> Connection {
    open(Role::Client, config, seed)
}

/// An open client (seed `[9; 32]`) and an open server, both with the default config.
pub fn pair() -> (Connection, Connection) {
    (
        open_client(Config::default(), [9; 32]),
        open_server(Config::default()),
    )
}

/// A server connection waiting for the client's upgrade request within `limits`.
pub fn server_handshake(limits: Limits, config: Config) -> Connection {
    Connection::server(config.handshake_limits(limits))
}

/// A client connection that has queued `request`; its nonce and masking keys come from
/// `seed`.
pub fn client_handshake(
    request: &ClientRequest<'_>,
    seed: [u8; 32],
    config: Config,
) -> Result<Connection, BuildError> {
    Connection::client(config, seed, request)
}

/// All the output `conn` has queued, copied out and left queued.
pub fn output(conn: &Connection) -> Vec<u8> {
    conn.pending_output_slices().flatten().copied().collect()
}

/// All the output `conn` has queued, taken (the connection counts it as written).
pub fn take_output(conn: &mut Connection) -> Vec<u8> {
    let bytes = output(conn);
    conn.advance_output(bytes.len());
    bytes
}

/// Move all pending output of `from` into `to`.
pub fn pump(from: &mut Connection, to: &mut Connection) {
    let bytes = take_output(from);
    to.receive(&bytes);
}

/// Every event `conn` has ready, polled until none is left; panics on a protocol error.
pub fn events(conn: &mut Connection) -> Vec<Event> {
    let mut out = Vec::new();
    while let Some(event) = conn.poll_event().expect("no protocol error") {
        out.push(event);
    }
    out
}
