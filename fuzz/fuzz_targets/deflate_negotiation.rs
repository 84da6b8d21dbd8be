//! permessage-deflate negotiation (RFC 7692 sections 5 and 7.1) on arbitrary input: the
//! first two bytes pick a server and a client config (window bits 8..=15 each way and the two
//! takeover flags: every config there is), the rest is a `Sec-WebSocket-Extensions` value.
//!
//! As the client's offers, the server accepts the first permessage-deflate offer it would
//! accept alone; its response is one well-formed element whose windows are 8..=15 and whose
//! parameters are the agreed ones, within the chosen offer's and the server config's limits.
//! As the server's response, the client accepts at most one permessage-deflate element, and
//! what it agrees on is what the element says, within the client config's limits. The
//! client's own offer, answered by the server, is agreed on by both.
#![no_main]

use std::iter::once;

use libfuzzer_sys::fuzz_target;
use rfc6455::deflate::{DeflateConfig, DeflateParams, NegotiationError};
use rfc6455::handshake::{ExtensionOffer, parse_extension_list};

const NAME: &str = "permessage-deflate";

/// One of the 256 enabled configs.
fn config(b: u8) -> DeflateConfig {
    DeflateConfig::new()
        .enabled(true)
        .peer_max_window_bits(8 + (b & 7))
        .own_max_window_bits(8 + (b >> 3 & 7))
        .peer_no_context_takeover(b & 64 != 0)
        .own_no_context_takeover(b & 128 != 0)
}

/// A window value as RFC 7692 section 7.1.2 writes it (1*DIGIT without a leading zero,
/// 8..=15), checked here by its own rule: exactly `"8"`..=`"9"` or `"10"`..=`"15"`.
fn bits_value(text: &str) -> Option<u8> {
    (8u8..=15).find(|n| n.to_string() == text)
}

/// The offer's value of `name`, unescaped, if it has the parameter with a value.
fn offered_bits(offer: &ExtensionOffer<'_>, name: &str) -> Option<u8> {
    let value = offer.param(name)?.value?;
    bits_value(&value.unescaped().collect::<String>())
}

/// The server's response element: what the target requires of its syntax, and what it says.
fn read_response(response: &str) -> DeflateParams {
    let mut list = parse_extension_list(response).expect("the response is an extension list");
    let element = list.next().expect("one element");
    assert!(list.next().is_none(), "{response}: one element only");
    assert_eq!(element.name(), NAME);
    let mut agreed = DeflateParams {
        server_no_context_takeover: false,
        client_no_context_takeover: false,
        server_max_window_bits: 15,
        client_max_window_bits: 15,
    };
    let mut seen = Vec::new();
    for param in element.params() {
        assert!(
            !seen.contains(&param.name),
            "{response}: {} twice",
            param.name
        );
        seen.push(param.name);
        let bits = || {
            let value = param.value.expect("a window parameter has a value");
            assert!(!value.is_quoted(), "{response}: quoted");
            bits_value(value.raw()).expect("a window value is 8..=15")
        };
        match param.name {
            "server_no_context_takeover" => {
                assert!(param.value.is_none());
                agreed.server_no_context_takeover = true;
            }
            "client_no_context_takeover" => {
                assert!(param.value.is_none());
                agreed.client_no_context_takeover = true;
            }
            "server_max_window_bits" => agreed.server_max_window_bits = bits(),
            "client_max_window_bits" => agreed.client_max_window_bits = bits(),
            other => panic!("{response}: parameter {other}"),
        }
    }
    agreed
}

fn check_server(server: &DeflateConfig, value: &str) {
    let Some(list) = parse_extension_list(value) else {
        return;
    };
    let got = server.accept_offers(list.clone());
    // The first offer accepted alone is the one chosen.
    let mut offers = list.filter(|o| o.name().eq_ignore_ascii_case(NAME));
    let chosen = offers.find_map(|o| server.accept_offers(once(o)).map(|r| (o, r)));
    let Some((offer, alone)) = chosen else {
        assert_eq!(got, None, "{value}: accepted, but no offer is alone");
        return;
    };
    assert_eq!(
        got.as_ref(),
        Some(&alone),
        "{value}: not the first acceptable offer"
    );
    let (agreed, response) = alone;
    assert_eq!(read_response(&response), agreed, "{value} -> {response}");
    // The offer's limits (RFC 7692 sections 7.1.1.1, 7.1.2.1, 7.1.2.2).
    if offer.param("server_no_context_takeover").is_some() {
        assert!(agreed.server_no_context_takeover, "{value} -> {response}");
    }
    if let Some(bits) = offered_bits(&offer, "server_max_window_bits") {
        assert!(
            agreed.server_max_window_bits <= bits,
            "{value} -> {response}"
        );
        assert!(
            response.contains("server_max_window_bits="),
            "{value} -> {response}"
        );
    }
    match offer.param("client_max_window_bits") {
        None => {
            assert!(
                !response.contains("client_max_window_bits"),
                "{value} -> {response}"
            );
            assert_eq!(agreed.client_max_window_bits, 15);
        }
        Some(_) => {
            if let Some(bits) = offered_bits(&offer, "client_max_window_bits") {
                assert!(
                    agreed.client_max_window_bits <= bits,
                    "{value} -> {response}"
                );
            }
            assert!(agreed.client_max_window_bits <= server.peer_max_window_bits);
        }
    }
    // The server config's own limits.
    assert!(agreed.server_max_window_bits <= server.own_max_window_bits);
    assert!(agreed.server_no_context_takeover || !server.own_no_context_takeover);
    assert!(agreed.client_no_context_takeover || !server.peer_no_context_takeover);
}

fn check_client(client: &DeflateConfig, value: &str) {
    let Some(list) = parse_extension_list(value) else {
        return;
    };
    let got = client.validate_response(list.clone());
    let elements: Vec<_> = list
        .filter(|o| o.name().eq_ignore_ascii_case(NAME))
        .collect();
    match (elements.len(), got) {
        (0, got) => assert_eq!(got, Ok(None), "{value}"),
        (1, Ok(Some(agreed))) => {
            let element = elements[0];
            let has = |name| element.param(name).is_some();
            let value_of = |name| offered_bits(&element, name);
            assert_eq!(
                agreed.server_no_context_takeover,
                has("server_no_context_takeover")
            );
            assert_eq!(
                agreed.client_no_context_takeover,
                has("client_no_context_takeover") || client.own_no_context_takeover
            );
            assert_eq!(
                agreed.server_max_window_bits,
                value_of("server_max_window_bits").unwrap_or(15)
            );
            assert_eq!(
                agreed.client_max_window_bits,
                value_of("client_max_window_bits").unwrap_or(client.own_max_window_bits)
            );
            // What the client asked for holds.
            assert!(agreed.server_max_window_bits <= client.peer_max_window_bits);
            assert!(agreed.client_max_window_bits <= client.own_max_window_bits);
            assert!(agreed.server_no_context_takeover || !client.peer_no_context_takeover);
            assert!((8..=15).contains(&agreed.server_max_window_bits));
            assert!((8..=15).contains(&agreed.client_max_window_bits));
        }
        (1, Err(e)) => assert!(!e.to_string().is_empty()),
        (n, got) if n > 1 => assert_eq!(got, Err(NegotiationError::RepeatedExtension)),
        (_, got) => panic!("{value}: {got:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let [s, c, rest @ ..] = data else {
        return;
    };
    let (server, client) = (config(*s), config(*c));
    let value = String::from_utf8_lossy(rest);
    check_server(&server, &value);
    check_client(&client, &value);
    // The client's own offer is accepted and both ends agree on it.
    let offer = client.offer();
    let (agreed, response) = server
        .accept_offers(parse_extension_list(&offer).unwrap())
        .expect("our offers are accepted");
    let at_client = client.validate_response(parse_extension_list(&response).unwrap());
    assert_eq!(at_client, Ok(Some(agreed)), "{offer} -> {response}");
});
