//! The conveniences for building and taking apart messages: `Message::text` / `binary`, the
//! `From` conversions, `into_bytes`, and `Utf8Bytes` (checked from `Bytes` without a copy,
//! compared with and dereferenced to `str`). Where a conversion promises not to copy, the
//! test checks that the bytes stay where they were; UTF-8 errors are checked against
//! `core::str::from_utf8` on hand-picked and generated inputs.
#![cfg(feature = "alloc")]

use rfc6455::bytes::Bytes;
use rfc6455::connection::{Message, Utf8Bytes};

/// The text of a message, or a panic.
fn text(message: &Message) -> &Utf8Bytes {
    match message {
        Message::Text(t) => t,
        Message::Binary(b) => panic!("binary {b:?}, expected text"),
    }
}

/// The bytes of a binary message, or a panic.
fn binary(message: &Message) -> &Bytes {
    match message {
        Message::Binary(b) => b,
        Message::Text(t) => panic!("text {t:?}, expected binary"),
    }
}

#[test]
fn text_from_a_string_keeps_its_buffer() {
    let s = String::from("grüße, κόσμε");
    let (ptr, len) = (s.as_ptr(), s.len());
    for message in [Message::text(s.clone()), Message::from(s.clone())] {
        // `clone` made a new buffer; the message must hold that one, not a copy of it.
        let t = text(&message);
        assert_eq!(t.as_str(), s);
        assert_eq!(t.len(), len);
    }
    let message = Message::text(s);
    assert_eq!(text(&message).as_bytes().as_ptr(), ptr);
    let message: Message = String::from("into").into();
    assert_eq!(text(&message), "into");
}

#[test]
fn text_from_a_str_is_a_copy_and_from_static_is_not() {
    let owned = String::from("borrowed text");
    let message = Message::from(owned.as_str());
    assert_eq!(text(&message), "borrowed text");
    assert_ne!(text(&message).as_bytes().as_ptr(), owned.as_ptr());
    drop(owned); // the message does not borrow it
    assert_eq!(message.as_bytes(), b"borrowed text");

    static LITERAL: &str = "a literal";
    let t = Utf8Bytes::from_static(LITERAL);
    assert_eq!(t.as_bytes().as_ptr(), LITERAL.as_ptr());
    assert_eq!(t, LITERAL);
    let message = Message::text(t);
    assert_eq!(text(&message).as_bytes().as_ptr(), LITERAL.as_ptr());
    assert_eq!(Message::text(LITERAL), Message::from(LITERAL));
}

#[test]
fn binary_from_a_vec_or_bytes_keeps_its_buffer() {
    let v: Vec<u8> = (0..=255).collect();
    let ptr = v.as_ptr();
    let message = Message::binary(v.clone());
    assert_eq!(binary(&message).as_ref(), &v[..]);
    let message = Message::from(v);
    assert_eq!(binary(&message).as_ptr(), ptr);
    assert_eq!(message.len(), 256);

    let shared = Bytes::from(vec![9u8; 1000]);
    let message = Message::from(shared.clone());
    assert_eq!(binary(&message).as_ptr(), shared.as_ptr());
    let message = Message::binary(shared.clone());
    assert_eq!(binary(&message), &shared);
    // Text and binary with the same bytes are different messages.
    assert_ne!(Message::binary(b"hi".to_vec()), Message::text("hi"));
}

#[test]
fn into_bytes_hands_back_the_payload_without_a_copy() {
    let s = String::from("payload text");
    let ptr = s.as_ptr();
    let bytes = Message::text(s).into_bytes();
    assert_eq!((bytes.as_ptr(), &bytes[..]), (ptr, &b"payload text"[..]));

    let v = vec![1u8, 2, 3, 4, 5];
    let ptr = v.as_ptr();
    let bytes = Message::binary(v).into_bytes();
    assert_eq!((bytes.as_ptr(), &bytes[..]), (ptr, &[1u8, 2, 3, 4, 5][..]));

    let t = Utf8Bytes::from("shared");
    let ptr = t.as_bytes().as_ptr();
    let bytes: Bytes = t.into();
    assert_eq!((bytes.as_ptr(), &bytes[..]), (ptr, &b"shared"[..]));

    assert!(Message::text("").is_empty());
    assert!(!Message::binary(vec![0u8]).is_empty());
    assert!(Message::binary(Vec::new()).into_bytes().is_empty());
}

#[test]
fn utf8_bytes_from_valid_bytes_is_the_same_buffer() {
    for s in [
        "",
        "ascii only",
        "é",
        "κόσμε",
        "𝄞 and 😀",
        &"mixed é 😀 ascii ".repeat(20),
    ] {
        let bytes = Bytes::from(s.as_bytes().to_vec());
        let t = Utf8Bytes::try_from(bytes.clone()).unwrap();
        assert_eq!(t.as_str(), s);
        assert_eq!(t.as_bytes().as_ptr(), bytes.as_ptr(), "{s:?}");
        assert_eq!(t.into_bytes(), bytes);
    }
}

/// `Utf8Bytes::try_from` must agree with `core::str::from_utf8`: the same verdict, the
/// error at the same byte, and "incomplete" exactly when the input ends inside a character.
fn agrees_with_std(input: &[u8]) {
    let ours = Utf8Bytes::try_from(Bytes::copy_from_slice(input));
    match (core::str::from_utf8(input), ours) {
        (Ok(s), Ok(t)) => assert_eq!(t, s),
        (Err(want), Err(got)) => {
            assert_eq!(got.offset(), want.valid_up_to() as u64, "{input:x?}");
            assert_eq!(
                got.is_incomplete(),
                want.error_len().is_none(),
                "{input:x?}"
            );
            // The message names the byte.
            let shown = got.to_string();
            assert!(shown.contains(&want.valid_up_to().to_string()), "{shown}");
        }
        (want, got) => panic!("{input:x?}: std says {want:?}, try_from says {got:?}"),
    }
}

#[test]
fn utf8_bytes_from_invalid_bytes_says_where_it_broke() {
    let cases: &[&[u8]] = &[
        b"\xff",
        b"ok\xff",
        b"ok\xc3",              // ends inside a two-byte character
        b"ok\xe2\x82",          // ends inside a three-byte character
        b"\xc3\x28",            // a continuation byte missing
        b"\xed\xa0\x80",        // a surrogate
        b"\xf4\x90\x80\x80",    // above U+10FFFF
        b"\xc0\xaf",            // overlong
        b"caf\xc3\xa9 \x80 ok", // a stray continuation byte after valid text
    ];
    for input in cases {
        assert!(Utf8Bytes::try_from(Bytes::from_static(input)).is_err());
        agrees_with_std(input);
        // The same error after 100 bytes of ASCII, where the vector check runs.
        let long = [&[b'a'; 100][..], input].concat();
        agrees_with_std(&long);
    }
}

#[test]
fn utf8_bytes_agrees_with_std_on_generated_inputs() {
    // xorshift64*: characters of 1 to 4 bytes, with now and then any byte or a stray
    // continuation byte, so that about half the inputs are valid.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        (state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32) as u32
    };
    let alphabet: &[&[u8]] = &[
        b"a",
        b"\x7f",
        "é".as_bytes(),
        "€".as_bytes(),
        "😀".as_bytes(),
    ];
    let (mut valid, mut invalid) = (0, 0);
    for _ in 0..3000 {
        let mut input = Vec::new();
        let len = next() as usize % 150;
        while input.len() < len {
            match next() % 64 {
                0 => input.push(next() as u8),                 // any byte
                1 => input.push(0x80 | (next() as u8 & 0x3f)), // a continuation byte
                _ => input.extend_from_slice(alphabet[next() as usize % alphabet.len()]),
            }
        }
        if core::str::from_utf8(&input).is_ok() {
            valid += 1;
        } else {
            invalid += 1;
        }
        agrees_with_std(&input);
    }
    // Both verdicts were exercised.
    assert!(
        valid > 300 && invalid > 300,
        "{valid} valid, {invalid} invalid"
    );
}

#[test]
fn utf8_bytes_compares_with_str_and_derefs_to_it() {
    let t = Utf8Bytes::from("Hello, wörld");
    assert_eq!(t, "Hello, wörld");
    assert_ne!(t, "Hello, world");
    assert_eq!("Hello, wörld", t);
    assert_ne!("Hello", t);
    assert!(t == *"Hello, wörld");
    assert!(t != *"hello, wörld");
    assert!(*"Hello, wörld" == t);
    assert!(*"" != t);
    // Through `Deref`: `str` methods, and `&Utf8Bytes` where `&str` is wanted.
    assert!(t.starts_with("Hello"));
    assert_eq!(t.chars().count(), 12);
    assert_eq!(t.find('w'), Some(7));
    fn takes_str(s: &str) -> usize {
        s.len()
    }
    assert_eq!(takes_str(&t), "Hello, wörld".len());
    assert_eq!(&*t, "Hello, wörld");
    assert_eq!(Utf8Bytes::default(), "");
    assert!(Utf8Bytes::default().is_empty());
    assert!(!t.is_empty());
}

#[test]
fn utf8_bytes_prints_as_its_text() {
    let t = Utf8Bytes::from("say \"hi\"\n");
    assert_eq!(t.to_string(), "say \"hi\"\n");
    assert_eq!(format!("{t:?}"), format!("{:?}", "say \"hi\"\n"));
    let message = Message::text(t);
    assert_eq!(
        format!("{message:?}"),
        format!("Text({:?})", "say \"hi\"\n")
    );
}

#[test]
fn the_message_conversions_agree_with_the_constructors() {
    let from_string: Message = String::from("same").into();
    let from_str: Message = "same".into();
    let from_utf8: Message = Utf8Bytes::from("same").into();
    assert_eq!(from_string, Message::text("same"));
    assert_eq!(from_str, Message::text("same"));
    assert_eq!(from_utf8, Message::text("same"));
    let from_vec: Message = b"same".to_vec().into();
    let from_bytes: Message = Bytes::from_static(b"same").into();
    assert_eq!(from_vec, Message::binary(b"same".to_vec()));
    assert_eq!(from_bytes, Message::binary(b"same".to_vec()));
    for m in [&from_string, &from_str, &from_utf8, &from_vec, &from_bytes] {
        assert_eq!((m.as_bytes(), m.len()), (&b"same"[..], 4));
    }
}
