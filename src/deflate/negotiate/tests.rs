//! Unit tests of `negotiate.rs`.
use super::*;
use crate::handshake::parse_extension_list;
use std::format;
use std::string::ToString;

/// The one element of `s`, parsed as `side`.
fn parse(s: &str, side: Side) -> Result<Params, NegotiationError> {
    let mut list = parse_extension_list(s).expect("extension list syntax");
    let element = list.next().expect("one element");
    assert!(list.next().is_none(), "{s}: more than one element");
    Params::parse(&element, side)
}

fn accept(config: &DeflateConfig, offers: &str) -> Option<(DeflateParams, String)> {
    config.accept_offers(parse_extension_list(offers).expect("syntax"))
}

fn validate(
    config: &DeflateConfig,
    response: &str,
) -> Result<Option<DeflateParams>, NegotiationError> {
    config.validate_response(parse_extension_list(response).expect("syntax"))
}

const ON: DeflateConfig = DeflateConfig::new().enabled(true);

const fn params(server: (u8, bool), client: (u8, bool)) -> DeflateParams {
    DeflateParams {
        server_max_window_bits: server.0,
        server_no_context_takeover: server.1,
        client_max_window_bits: client.0,
        client_no_context_takeover: client.1,
    }
}

#[test]
fn window_values() {
    for side in [Side::Offer, Side::Response] {
        for bits in MIN_BITS..=MAX_BITS {
            for value in [format!("{bits}"), format!("\"{bits}\"")] {
                for name in [SERVER_MAX_WINDOW_BITS, CLIENT_MAX_WINDOW_BITS] {
                    let p = parse(&format!("permessage-deflate; {name}={value}"), side)
                        .unwrap_or_else(|e| panic!("{name}={value}: {e}"));
                    let got = if name == SERVER_MAX_WINDOW_BITS {
                        p.server_max_window_bits
                    } else {
                        p.client_max_window_bits.flatten()
                    };
                    assert_eq!(got, Some(bits), "{name}={value}");
                }
            }
        }
        for value in [
            "7", "16", "0", "1", "08", "015", "010", "99", "255", "256", "+9", "9a", "a", "1.0",
            "\"\"", "\"08\"", "\"10 \"", "\" 10\"", "\"16\"", "\"1\"",
        ] {
            for name in [SERVER_MAX_WINDOW_BITS, CLIENT_MAX_WINDOW_BITS] {
                assert_eq!(
                    parse(&format!("permessage-deflate; {name}={value}"), side),
                    Err(NegotiationError::InvalidValue { param: name }),
                    "{name}={value}"
                );
            }
        }
        // Section 7.1: a quoted value is checked once unescaped.
        assert_eq!(
            parse(r#"permessage-deflate; server_max_window_bits="1\2""#, side)
                .map(|p| p.server_max_window_bits),
            Ok(Some(12))
        );
    }
}

#[test]
fn values_by_parameter_and_side() {
    use NegotiationError::InvalidValue;
    // server_max_window_bits always takes a value.
    for side in [Side::Offer, Side::Response] {
        assert_eq!(
            parse("permessage-deflate; server_max_window_bits", side),
            Err(InvalidValue {
                param: SERVER_MAX_WINDOW_BITS
            })
        );
    }
    // client_max_window_bits goes without one in an offer only.
    assert_eq!(
        parse("permessage-deflate; client_max_window_bits", Side::Offer),
        Ok(Params {
            client_max_window_bits: Some(None),
            ..Params::default()
        })
    );
    assert_eq!(
        parse("permessage-deflate; client_max_window_bits", Side::Response),
        Err(InvalidValue {
            param: CLIENT_MAX_WINDOW_BITS
        })
    );
    // The no_context_takeover parameters take none.
    for name in [SERVER_NO_CONTEXT_TAKEOVER, CLIENT_NO_CONTEXT_TAKEOVER] {
        for side in [Side::Offer, Side::Response] {
            let p = parse(&format!("permessage-deflate; {name}"), side).unwrap();
            assert_eq!(
                (p.server_no_context_takeover, p.client_no_context_takeover),
                (
                    name == SERVER_NO_CONTEXT_TAKEOVER,
                    name == CLIENT_NO_CONTEXT_TAKEOVER
                )
            );
            for value in ["1", "true", "\"\"", "\"x\""] {
                assert_eq!(
                    parse(&format!("permessage-deflate; {name}={value}"), side),
                    Err(InvalidValue { param: name }),
                    "{name}={value}"
                );
            }
        }
    }
    assert_eq!(
        parse("permessage-deflate", Side::Offer),
        Ok(Params::default())
    );
}

#[test]
fn all_four_parameters_in_any_order_and_case() {
    let p = parse(
        "Permessage-Deflate; CLIENT_MAX_WINDOW_BITS=9 ; Server_No_Context_Takeover;\
             server_max_window_bits = \"11\";client_no_context_takeover",
        Side::Response,
    )
    .unwrap();
    assert_eq!(
        p,
        Params {
            server_no_context_takeover: true,
            client_no_context_takeover: true,
            server_max_window_bits: Some(11),
            client_max_window_bits: Some(Some(9)),
        }
    );
}

#[test]
fn duplicate_and_unknown_parameters() {
    for name in [
        SERVER_NO_CONTEXT_TAKEOVER,
        CLIENT_NO_CONTEXT_TAKEOVER,
        SERVER_MAX_WINDOW_BITS,
        CLIENT_MAX_WINDOW_BITS,
    ] {
        let with_value = if name.ends_with("bits") {
            format!("{name}=10")
        } else {
            name.to_string()
        };
        let upper = with_value.to_ascii_uppercase();
        for side in [Side::Offer, Side::Response] {
            for second in [&with_value, &upper] {
                assert_eq!(
                    parse(&format!("permessage-deflate; {with_value}; {second}"), side),
                    Err(NegotiationError::DuplicateParameter { param: name }),
                    "{with_value}; {second}"
                );
            }
        }
    }
    for unknown in [
        "x",
        "mux",
        "client_max_window_bit",
        "max_window_bits=10",
        "server_max_window_bits_=10",
        "client_no_context_takeover_",
    ] {
        for side in [Side::Offer, Side::Response] {
            assert_eq!(
                parse(&format!("permessage-deflate; {unknown}"), side),
                Err(NegotiationError::UnknownParameter),
                "{unknown}"
            );
            // Also after a valid one.
            assert_eq!(
                parse(
                    &format!("permessage-deflate; server_no_context_takeover; {unknown}"),
                    side
                ),
                Err(NegotiationError::UnknownParameter),
                "{unknown}"
            );
        }
    }
}

#[test]
fn offers() {
    assert_eq!(ON.offer(), "permessage-deflate; client_max_window_bits");
    assert_eq!(
        ON.own_max_window_bits(12).offer(),
        "permessage-deflate; client_max_window_bits=12"
    );
    assert_eq!(
        ON.peer_max_window_bits(8).offer(),
        "permessage-deflate; server_max_window_bits=8; client_max_window_bits"
    );
    assert_eq!(
        ON.peer_no_context_takeover(true).offer(),
        "permessage-deflate; server_no_context_takeover; client_max_window_bits"
    );
    assert_eq!(
        ON.own_no_context_takeover(true).offer(),
        "permessage-deflate; client_no_context_takeover; client_max_window_bits"
    );
    // Out-of-range settings are clamped.
    assert_eq!(
        ON.own_max_window_bits(3).peer_max_window_bits(200).offer(),
        "permessage-deflate; client_max_window_bits=8"
    );
    // Every offer we make is one a server of ours accepts.
    assert!(
        accept(
            &ON,
            &ON.own_max_window_bits(9).peer_max_window_bits(9).offer()
        )
        .is_some()
    );
}

#[test]
fn server_response() {
    let default = params((15, false), (15, false));
    assert_eq!(
        accept(&ON, "permessage-deflate"),
        Some((default, "permessage-deflate".to_string()))
    );
    // We cannot limit a client that did not offer client_max_window_bits.
    assert_eq!(
        accept(&ON.peer_max_window_bits(10), "permessage-deflate"),
        Some((default, "permessage-deflate".to_string()))
    );
    assert_eq!(
        accept(
            &ON.peer_max_window_bits(10),
            "permessage-deflate; client_max_window_bits"
        ),
        Some((
            params((15, false), (10, false)),
            "permessage-deflate; client_max_window_bits=10".to_string()
        ))
    );
    // The smaller of the offered value and ours.
    for (offered, ours, agreed) in [(12, 10, 10), (9, 10, 9), (15, 15, 15)] {
        assert_eq!(
            accept(
                &ON.peer_max_window_bits(ours),
                &format!("permessage-deflate; client_max_window_bits={offered}")
            ),
            Some((
                params((15, false), (agreed, false)),
                if agreed < 15 {
                    format!("permessage-deflate; client_max_window_bits={agreed}")
                } else {
                    "permessage-deflate".to_string()
                }
            )),
            "{offered} {ours}"
        );
        assert_eq!(
            accept(
                &ON.own_max_window_bits(ours),
                &format!("permessage-deflate; server_max_window_bits={offered}")
            ),
            Some((
                params((agreed, false), (15, false)),
                // An offered value is always answered (section 7.1.2.1).
                format!("permessage-deflate; server_max_window_bits={agreed}")
            )),
            "{offered} {ours}"
        );
    }
    // Our own window, announced unasked.
    assert_eq!(
        accept(&ON.own_max_window_bits(11), "permessage-deflate"),
        Some((
            params((11, false), (15, false)),
            "permessage-deflate; server_max_window_bits=11".to_string()
        ))
    );
    // Context takeover: offered, or asked for by our config.
    for (offer, own, peer) in [
        (
            "permessage-deflate; server_no_context_takeover",
            false,
            false,
        ),
        ("permessage-deflate", true, false),
        (
            "permessage-deflate; client_no_context_takeover",
            false,
            false,
        ),
        ("permessage-deflate", false, true),
    ] {
        let config = ON
            .own_no_context_takeover(own)
            .peer_no_context_takeover(peer);
        let server = offer.contains("server_") || own;
        let client = offer.contains("client_") || peer;
        let (agreed, response) = accept(&config, offer).unwrap();
        assert_eq!(agreed, params((15, server), (15, client)), "{offer}");
        assert_eq!(
            parse(&response, Side::Response),
            Ok(Params {
                server_no_context_takeover: server,
                client_no_context_takeover: client,
                ..Params::default()
            }),
            "{offer}"
        );
    }
    assert_eq!(
        accept(
            &ON.own_no_context_takeover(true)
                .peer_no_context_takeover(true)
                .own_max_window_bits(9)
                .peer_max_window_bits(8),
            "permessage-deflate; client_max_window_bits"
        ),
        Some((
            params((9, true), (8, true)),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
                 server_max_window_bits=9; client_max_window_bits=8"
                .to_string()
        ))
    );
}

#[test]
fn server_picks_the_first_valid_offer() {
    // Other extensions, then offers declined for each reason, then the one taken.
    let declined = [
        "x-webkit-deflate-frame",
        "permessage-deflate; mux",
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; server_max_window_bits",
        "permessage-deflate; client_max_window_bits=08",
        "permessage-deflate; client_no_context_takeover=1",
    ];
    for n in 0..=declined.len() {
        let mut offers = declined[..n].join(", ");
        offers.push_str(", permessage-deflate; server_max_window_bits=12, permessage-deflate");
        assert_eq!(
            accept(&ON, &offers),
            Some((
                params((12, false), (15, false)),
                "permessage-deflate; server_max_window_bits=12".to_string()
            )),
            "{offers}"
        );
        assert_eq!(accept(&ON, &declined[..n].join(", ")), None, "{n}");
    }
    // The name is case-insensitive, like the handshake's check of extensions.
    assert!(accept(&ON, "PerMessage-Deflate").is_some());
    assert_eq!(accept(&ON, ""), None);
    // A disabled config accepts nothing.
    assert_eq!(accept(&DeflateConfig::new(), "permessage-deflate"), None);
}

/// RFC 7692 section 7.1.3.
#[test]
fn rfc_examples() {
    // The simplest offer and its acceptance.
    let (agreed, response) = accept(&ON, "permessage-deflate").unwrap();
    assert_eq!(response, "permessage-deflate");
    assert_eq!(agreed, params((15, false), (15, false)));
    // An offer without client_max_window_bits must not be answered with it.
    let bare = Params::default();
    assert_eq!(
        bare.check_response(
            &parse(
                "permessage-deflate; client_max_window_bits=10",
                Side::Response
            )
            .unwrap()
        ),
        Err(NegotiationError::NotOffered {
            param: CLIENT_MAX_WINDOW_BITS
        })
    );
    assert_eq!(
        bare.check_response(&parse("permessage-deflate", Side::Response).unwrap()),
        Ok(params((15, false), (15, false)))
    );
    // A small server window asked for, with a fallback offer.
    let client = ON.peer_max_window_bits(10);
    assert_eq!(
        client.offer(),
        "permessage-deflate; server_max_window_bits=10; client_max_window_bits"
    );
    let offers = "permessage-deflate; client_max_window_bits; server_max_window_bits=10, \
                      permessage-deflate; client_max_window_bits";
    let (agreed, response) = accept(&ON, offers).unwrap();
    assert_eq!(response, "permessage-deflate; server_max_window_bits=10");
    assert_eq!(validate(&client, &response), Ok(Some(agreed)));
    // The RFC's answer to the second (fallback) offer.
    let fallback = parse("permessage-deflate; client_max_window_bits", Side::Offer).unwrap();
    assert_eq!(
        fallback.check_response(&parse("permessage-deflate", Side::Response).unwrap()),
        Ok(params((15, false), (15, false)))
    );
    // To it, a client window limit may be answered (section 7.1.2.2).
    assert_eq!(
        fallback.check_response(
            &parse(
                "permessage-deflate; client_max_window_bits=10",
                Side::Response
            )
            .unwrap()
        ),
        Ok(params((15, false), (10, false)))
    );
}

#[test]
fn client_checks_the_response() {
    use NegotiationError::*;
    let client = ON
        .peer_max_window_bits(10)
        .own_max_window_bits(12)
        .peer_no_context_takeover(true);
    let ok = |r: &str| validate(&client, r);
    assert_eq!(
        ok("permessage-deflate; server_no_context_takeover; server_max_window_bits=10"),
        Ok(Some(params((10, true), (12, false))))
    );
    assert_eq!(
        ok("x-other, permessage-deflate; server_no_context_takeover; \
                server_max_window_bits=8; client_max_window_bits=9; client_no_context_takeover"),
        Ok(Some(params((8, true), (9, true))))
    );
    assert_eq!(ok("x-other"), Ok(None));
    assert_eq!(ok(""), Ok(None));
    for (response, err) in [
        (
            "permessage-deflate; server_max_window_bits=10",
            MissingParameter {
                param: SERVER_NO_CONTEXT_TAKEOVER,
            },
        ),
        (
            "permessage-deflate; server_no_context_takeover",
            MissingParameter {
                param: SERVER_MAX_WINDOW_BITS,
            },
        ),
        (
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=11",
            WindowLargerThanOffered {
                param: SERVER_MAX_WINDOW_BITS,
            },
        ),
        (
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=10; \
                 client_max_window_bits=13",
            WindowLargerThanOffered {
                param: CLIENT_MAX_WINDOW_BITS,
            },
        ),
        (
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=10; \
                 client_max_window_bits",
            InvalidValue {
                param: CLIENT_MAX_WINDOW_BITS,
            },
        ),
        (
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=10; x=1",
            UnknownParameter,
        ),
        (
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover; \
                 server_max_window_bits=10",
            DuplicateParameter {
                param: SERVER_NO_CONTEXT_TAKEOVER,
            },
        ),
        (
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=10, \
                 permessage-deflate; server_no_context_takeover; server_max_window_bits=10",
            RepeatedExtension,
        ),
        (
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=10, \
                 x-other, PERMESSAGE-DEFLATE",
            RepeatedExtension,
        ),
    ] {
        assert_eq!(ok(response), Err(err), "{response}");
    }
    // Not offered at all.
    assert_eq!(
        validate(&DeflateConfig::new(), "permessage-deflate"),
        Err(ExtensionNotOffered)
    );
    assert_eq!(validate(&DeflateConfig::new(), "x-other"), Ok(None));
    // Without a value offered, any client window may be asked for; the server may
    // choose no context takeover and a smaller window than ours unasked.
    for bits in MIN_BITS..=MAX_BITS {
        assert_eq!(
            validate(
                &ON,
                &format!(
                    "permessage-deflate; client_max_window_bits={bits}; \
                         server_max_window_bits={bits}; server_no_context_takeover"
                )
            ),
            Ok(Some(params((bits, true), (bits, false))))
        );
    }
    // Our offered client_no_context_takeover holds even if not echoed (7.1.1.2).
    assert_eq!(
        validate(&ON.own_no_context_takeover(true), "permessage-deflate"),
        Ok(Some(params((15, false), (15, true))))
    );
}

#[test]
fn errors_name_their_rule() {
    use NegotiationError::*;
    let name = |param| [param, "7.1.2.1"];
    for (err, words) in [
        (UnknownParameter, ["not defined", "section 7.1)"]),
        (
            DuplicateParameter {
                param: CLIENT_NO_CONTEXT_TAKEOVER,
            },
            [CLIENT_NO_CONTEXT_TAKEOVER, "more than once"],
        ),
        (
            InvalidValue {
                param: SERVER_MAX_WINDOW_BITS,
            },
            name(SERVER_MAX_WINDOW_BITS),
        ),
        (
            InvalidValue {
                param: SERVER_NO_CONTEXT_TAKEOVER,
            },
            [SERVER_NO_CONTEXT_TAKEOVER, "7.1.1.1"],
        ),
        (
            InvalidValue {
                param: CLIENT_NO_CONTEXT_TAKEOVER,
            },
            [CLIENT_NO_CONTEXT_TAKEOVER, "7.1.1.2"],
        ),
        (
            NotOffered {
                param: CLIENT_MAX_WINDOW_BITS,
            },
            [CLIENT_MAX_WINDOW_BITS, "7.1.2.2"],
        ),
        (
            WindowLargerThanOffered {
                param: SERVER_MAX_WINDOW_BITS,
            },
            name(SERVER_MAX_WINDOW_BITS),
        ),
        (
            MissingParameter {
                param: SERVER_MAX_WINDOW_BITS,
            },
            name(SERVER_MAX_WINDOW_BITS),
        ),
        (RepeatedExtension, ["RSV1", "section 5)"]),
        (ExtensionNotOffered, ["not offered", "section 5)"]),
    ] {
        let text = err.to_string();
        assert!(text.contains("RFC 7692"), "{text}");
        for word in words {
            assert!(text.contains(word), "{text}: {word}");
        }
    }
}

#[test]
fn params_by_role() {
    let p = params((9, true), (12, false));
    assert_eq!(p.ours(Role::Server), (9, true));
    assert_eq!(p.ours(Role::Client), (12, false));
    assert_eq!(p.theirs(Role::Client), (9, true));
    assert_eq!(p.theirs(Role::Server), (12, false));
}

/// Every config: window bits 8..=15 each way, the two takeover flags.
fn configs() -> impl Iterator<Item = DeflateConfig> {
    (0..8 * 8 * 4).map(|i: u16| {
        ON.peer_max_window_bits(MIN_BITS + (i % 8) as u8)
            .own_max_window_bits(MIN_BITS + (i / 8 % 8) as u8)
            .peer_no_context_takeover(i & 64 != 0)
            .own_no_context_takeover(i & 128 != 0)
    })
}

/// For every pair of configs (all 65536: stronger than sampling them), both ends
/// agree on the same parameters, each end's limits hold, and nothing is limited
/// further than one of them asked.
#[test]
fn round_trip() {
    assert_eq!(
        configs()
            .map(|c| (
                c.peer_max_window_bits,
                c.own_max_window_bits,
                c.peer_no_context_takeover,
                c.own_no_context_takeover
            ))
            .collect::<std::collections::HashSet<_>>()
            .len(),
        256
    );
    for client in configs() {
        let offer = client.offer();
        for server in configs() {
            let (p, response) = accept(&server, &offer).expect("our offers are accepted");
            assert_eq!(
                validate(&client, &response),
                Ok(Some(p)),
                "{offer} -> {response}"
            );
            assert_eq!(
                p.server_max_window_bits,
                client.peer_max_window_bits.min(server.own_max_window_bits)
            );
            assert_eq!(
                p.client_max_window_bits,
                client.own_max_window_bits.min(server.peer_max_window_bits)
            );
            assert_eq!(
                p.server_no_context_takeover,
                client.peer_no_context_takeover || server.own_no_context_takeover
            );
            assert_eq!(
                p.client_no_context_takeover,
                client.own_no_context_takeover || server.peer_no_context_takeover
            );
        }
    }
}

proptest::proptest! {
    /// Any settings, in range or not, make an offer the grammar and a server accept.
    #[test]
    fn any_settings(peer in 0u8.., own in 0u8.., peer_nct: bool, own_nct: bool) {
        let client = ON
            .peer_max_window_bits(peer)
            .own_max_window_bits(own)
            .peer_no_context_takeover(peer_nct)
            .own_no_context_takeover(own_nct);
        let offer = client.offer();
        let parsed = parse(&offer, Side::Offer);
        proptest::prop_assert!(parsed.is_ok(), "{}", offer);
        let (at_server, response) = accept(&client, &offer).expect("accepted");
        proptest::prop_assert_eq!(validate(&client, &response), Ok(Some(at_server)));
        for bits in [at_server.server_max_window_bits, at_server.client_max_window_bits] {
            proptest::prop_assert!((MIN_BITS..=MAX_BITS).contains(&bits));
        }
    }
}
